package incident

import (
	"strconv"

	"github.com/itsmkit/itsmkit/internal/jsonw"
	"github.com/itsmkit/itsmkit/itsm"
)

// The payloads of incident events are encoded by hand: they are written on
// every command, and reflection-based encoding was a large share of a
// command's cost. The output is the same JSON encoding/json produces for
// these types (HTML escaping included), so payloads decode into Entry and
// Comment with json.Unmarshal.

func appendActorRef(b []byte, a itsm.ActorRef) []byte {
	b = append(b, `{"id":`...)
	b = jsonw.AppendString(b, a.ID)
	if a.Name != "" {
		b = append(b, `,"name":`...)
		b = jsonw.AppendString(b, a.Name)
	}
	if a.Kind != "" {
		b = append(b, `,"kind":`...)
		b = jsonw.AppendString(b, string(a.Kind))
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
	b = jsonw.AppendTime(b, h.At)
	b = append(b, `,"by":`...)
	b = appendActorRef(b, h.By)
	b = append(b, `,"command":`...)
	b = jsonw.AppendString(b, h.Command)
	b = append(b, `,"from":`...)
	b = jsonw.AppendString(b, string(h.From))
	b = append(b, `,"to":`...)
	b = jsonw.AppendString(b, string(h.To))
	if h.Reason != "" {
		b = append(b, `,"reason":`...)
		b = jsonw.AppendString(b, h.Reason)
	}
	if len(h.Changes) > 0 {
		b = append(b, `,"changes":[`...)
		for i, c := range h.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = jsonw.AppendString(b, c.Field)
			b = append(b, `,"from":`...)
			b = jsonw.AppendString(b, c.From)
			b = append(b, `,"to":`...)
			b = jsonw.AppendString(b, c.To)
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
	b = jsonw.AppendTime(b, c.At)
	b = append(b, `,"by":`...)
	b = appendActorRef(b, c.By)
	b = append(b, `,"text":`...)
	b = jsonw.AppendString(b, c.Text)
	if c.WorkNote {
		b = append(b, `,"work_note":true`...)
	}
	if c.FromCaller {
		b = append(b, `,"from_caller":true`...)
	}
	return append(b, '}')
}
