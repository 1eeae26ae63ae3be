package incident

import (
	"github.com/itsmkit/itsmkit/internal/jsonw"
	"github.com/itsmkit/itsmkit/itsm"
)

// The payloads of incident events are encoded by hand: they are written on
// every command, and reflection-based encoding was a large share of a
// command's cost. The output is the same JSON encoding/json produces for
// these types (HTML escaping included), so payloads decode into Entry and
// Comment with json.Unmarshal.

// The writers below put the quotes of each string into the constant text
// around it (`,"to":"` before, `","reason":"` after), leaving a string
// open until the next constant: one append a string rather than three.

// appendActorRef appends a's JSON object.
func appendActorRef(b []byte, a *itsm.ActorRef) []byte {
	b = append(b, `{"id":"`...)
	b = jsonw.AppendEscaped(b, a.ID)
	if a.Name != "" {
		b = append(b, `","name":"`...)
		b = jsonw.AppendEscaped(b, a.Name)
	}
	if a.Kind != "" {
		b = append(b, `","kind":"`...)
		b = jsonw.AppendEscaped(b, string(a.Kind))
	}
	return append(b, `"}`...)
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
	b = jsonw.AppendInt(b, h.Seq)
	b = append(b, `,"at":`...)
	b = jsonw.AppendTime(b, h.At)
	b = append(b, `,"by":`...)
	b = appendActorRef(b, &h.By)
	b = append(b, `,"command":"`...)
	b = jsonw.AppendEscaped(b, h.Command)
	b = append(b, `","from":"`...)
	b = jsonw.AppendEscaped(b, string(h.From))
	b = append(b, `","to":"`...)
	b = jsonw.AppendEscaped(b, string(h.To))
	if h.Reason != "" {
		b = append(b, `","reason":"`...)
		b = jsonw.AppendEscaped(b, h.Reason)
	}
	// Changes is omitzero, as Entry's tag says: nil is left out, an empty
	// list written as one.
	switch {
	case h.Changes == nil:
		return append(b, `"}`...)
	case len(h.Changes) == 0:
		return append(b, `","changes":[]}`...)
	}
	b = append(b, `","changes":[{"field":"`...)
	for i := range h.Changes {
		c := &h.Changes[i]
		if i > 0 {
			b = append(b, `"},{"field":"`...)
		}
		b = jsonw.AppendEscaped(b, c.Field)
		b = append(b, `","from":"`...)
		b = jsonw.AppendEscaped(b, c.From)
		b = append(b, `","to":"`...)
		b = jsonw.AppendEscaped(b, c.To)
	}
	return append(b, `"}]}`...)
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
	b = appendActorRef(b, &c.By)
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
