package incident

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// requireSamePayload requires the hand-written payloads of h and c to be
// byte for byte what json.Marshal writes for them by reflection.
func requireSamePayload(t *testing.T, h *Entry, c *Comment) {
	t.Helper()
	want, err := json.Marshal(h)
	require.NoError(t, err)
	require.Equal(t, string(want), string(entryPayload(h)))
	require.Equal(t, "x"+string(want), string(appendEntryPayload([]byte("x"), h)))
	want, err = json.Marshal(c)
	require.NoError(t, err)
	require.Equal(t, string(want), string(commentPayload(c)))
}

// The payloads agree with encoding/json byte for byte, each optional field
// present or not, whatever the strings hold.
func TestPayloadsMatchEncodingJSON(t *testing.T) {
	at := time.Date(2026, 3, 8, 7, 30, 0, 123000, time.UTC)
	texts := []string{"", "a", "plain", "in_progress", "awaiting_vendor", `quote " and \ backslash`,
		"new\nline\ttab\r", "ctrl \x01\x1f", "émoji 🚒", "bad \xff byte", "<html>&</html>", "\u2028"}
	for _, text := range texts {
		for _, changes := range [][]FieldChange{nil, {}, {{Field: text, From: "", To: text}},
			{{Field: "assignee", From: text, To: "ana"}, {Field: "group", From: "", To: text}}} {
			h := Entry{Seq: 12, At: at, By: itsm.ActorRef{ID: text, Name: text, Kind: itsm.ActorKind(text)},
				Command: text, From: Status(text), To: StatusOnHold, Reason: text, Changes: changes}
			c := Comment{At: at, By: itsm.ActorRef{ID: "bob", Name: text}, Text: text, WorkNote: text == "", FromCaller: text != ""}
			requireSamePayload(t, &h, &c)
		}
	}
	requireSamePayload(t, &Entry{}, &Comment{})
}

func FuzzEntryPayload(f *testing.F) {
	f.Add(int64(1795424400), int64(0), "ana", "Ana", "human", "open", "new", "in_progress", "", "assignee", "", "ana", 1, true)
	f.Add(int64(-62135596800), int64(999999999), "", "", "", "\u2028", "<", ">", "a&b", "\xff", "\"", "\\", 3, false)
	f.Fuzz(func(t *testing.T, sec, nsec int64, id, name, kind, command, from, to, reason, field, was, is string, n int, note bool) {
		at := time.Unix(sec, nsec).UTC()
		if y := at.Year(); y < 0 || y > 9999 {
			t.Skip("json.Marshal refuses the instant")
		}
		h := Entry{Seq: n, At: at, By: itsm.ActorRef{ID: id, Name: name, Kind: itsm.ActorKind(kind)},
			Command: command, From: Status(from), To: Status(to), Reason: reason}
		for range n % 4 {
			h.Changes = append(h.Changes, FieldChange{Field: field, From: was, To: is})
		}
		if n%4 == 0 && note {
			h.Changes = []FieldChange{} // empty, not nil: written as []
		}
		c := Comment{At: at, By: h.By, Text: reason, WorkNote: note, FromCaller: !note}
		requireSamePayload(t, &h, &c)
	})
}
