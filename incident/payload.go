package incident

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// The payloads of incident events are encoded by hand: they are written on
// every command, and reflection-based encoding was a large share of a
// command's cost. The output is the same JSON encoding/json produces for
// these types (minus its HTML escaping), so payloads decode into Entry and
// Comment with json.Unmarshal.

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendActorRef(b []byte, a itsm.ActorRef) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, a.ID)
	if a.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, a.Name)
	}
	if a.Kind != "" {
		b = append(b, `,"kind":`...)
		b = appendJSONString(b, string(a.Kind))
	}
	return append(b, '}')
}

// entryPayload encodes a history entry as an event payload.
func entryPayload(h *Entry) []byte {
	return appendEntryPayload(make([]byte, 0, entryPayloadSize(h)), h)
}

// entryPayloadSize is about what entryPayload writes for h.
func entryPayloadSize(h *Entry) int { return 192 + len(h.Reason) + 64*len(h.Changes) }

// appendEntryPayload appends entryPayload's encoding to b.
func appendEntryPayload(b []byte, h *Entry) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(h.Seq), 10)
	b = append(b, `,"at":`...)
	b = appendJSONTime(b, h.At)
	b = append(b, `,"by":`...)
	b = appendActorRef(b, h.By)
	b = append(b, `,"command":`...)
	b = appendJSONString(b, h.Command)
	b = append(b, `,"from":`...)
	b = appendJSONString(b, string(h.From))
	b = append(b, `,"to":`...)
	b = appendJSONString(b, string(h.To))
	if h.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, h.Reason)
	}
	if len(h.Changes) > 0 {
		b = append(b, `,"changes":[`...)
		for i, c := range h.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = appendJSONString(b, c.Field)
			b = append(b, `,"from":`...)
			b = appendJSONString(b, c.From)
			b = append(b, `,"to":`...)
			b = appendJSONString(b, c.To)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// commentPayload encodes a comment as an event payload.
func commentPayload(c *Comment) []byte {
	return appendCommentPayload(make([]byte, 0, commentPayloadSize(c)), c)
}

// commentPayloadSize is about what commentPayload writes for c.
func commentPayloadSize(c *Comment) int { return 96 + len(c.Text) }

// appendCommentPayload appends commentPayload's encoding to b.
func appendCommentPayload(b []byte, c *Comment) []byte {
	b = append(b, `{"at":`...)
	b = appendJSONTime(b, c.At)
	b = append(b, `,"by":`...)
	b = appendActorRef(b, c.By)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, c.Text)
	if c.WorkNote {
		b = append(b, `,"work_note":true`...)
	}
	if c.FromCaller {
		b = append(b, `,"from_caller":true`...)
	}
	return append(b, '}')
}
