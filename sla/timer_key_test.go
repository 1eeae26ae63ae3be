package sla

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// TestEventKeyMatchesKey checks eventKey, which writes an event's key in
// one pass, against its definition: the timer's Key, then the kind and its
// suffix.
func TestEventKeyMatchesKey(t *testing.T) {
	timers := []Timer{
		{Record: tmRecord, Agreement: "desk", Metric: "response", Cycle: 1, Seq: 1},
		{Record: itsm.Ref{Kind: "change_request", ID: uuid.Max}, Agreement: "a/b", Metric: "", Cycle: -7, Seq: -1 << 63},
		{Record: itsm.Ref{ID: uuid.Nil}, Agreement: strings.Repeat("x", 200), Metric: "é\x00\"", Cycle: 1 << 62, Seq: 1<<63 - 1},
	}
	kinds := []EventKind{EventAttached, EventPaused, EventResumed, EventCompleted, EventCanceled,
		EventRetargeted, EventThreshold, EventBreached, "other", ""}
	for i := range timers {
		tm := &timers[i]
		for _, k := range kinds {
			want := tm.Key() + "/" + string(k)
			switch k {
			case EventThreshold:
				want += "/87.5"
			case EventBreached:
			default:
				want += "/" + strconv.Itoa(tm.Seq)
			}
			require.Equal(t, want, tm.eventKey(k, "87.5"), "timer %d, kind %q", i, k)
		}
	}
}
