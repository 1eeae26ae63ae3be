package incident

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// The hand-written payloads decode to exactly what they encode, whatever
// the text holds.
func TestPayloadsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 8, 7, 30, 0, 123000, time.UTC)
	texts := []string{"", "plain", `quote " and \ backslash`, "new\nline\ttab\r", "ctrl \x01\x1f", "émoji 🚒", "bad \xff byte", "<html>&</html>", "\u2028"}
	for _, text := range texts {
		h := Entry{Seq: 3, At: at, By: itsm.ActorRef{ID: text, Name: "Ana", Kind: itsm.ActorHuman}, Command: "hold",
			From: StatusNew, To: StatusOnHold, Reason: text, Changes: []FieldChange{{Field: "hold_reason", From: text, To: "x"}}}
		raw := entryPayload(&h)
		require.True(t, json.Valid(raw), string(raw))
		var back Entry
		require.NoError(t, json.Unmarshal(raw, &back))
		want := h
		if text == "bad \xff byte" {
			want.By.ID, want.Reason, want.Changes[0].From = "bad \ufffd byte", "bad \ufffd byte", "bad \ufffd byte"
		}
		assert.Equal(t, want, back)

		c := Comment{At: at, By: itsm.ActorRef{ID: "bob"}, Text: text, WorkNote: true, FromCaller: text == ""}
		raw = commentPayload(&c)
		require.True(t, json.Valid(raw), string(raw))
		var cb Comment
		require.NoError(t, json.Unmarshal(raw, &cb))
		if text == "bad \xff byte" {
			c.Text = "bad \ufffd byte"
		}
		assert.Equal(t, c, cb)
	}
	minimal := Entry{Seq: 1, At: at, By: itsm.ActorRef{ID: "a"}, Command: "open", From: StatusNew, To: StatusNew}
	var back Entry
	require.NoError(t, json.Unmarshal(entryPayload(&minimal), &back))
	assert.Equal(t, minimal, back)
}
