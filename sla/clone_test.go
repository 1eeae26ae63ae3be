package sla_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/itsmkit/itsmkit/sla"
)

func TestStateCloneSharesNothing(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	orig := sla.State{
		Previous: map[string]string{"priority": "2"},
		Timers: []sla.Timer{{
			Metric:   "resolution",
			Marks:    []sla.Mark{{Threshold: "50", At: at}},
			Segments: []sla.Segment{{Kind: "running", From: at, To: at.Add(time.Hour)}},
			Changes:  []sla.Change{{At: at, From: "p2", To: "p1"}},
		}},
	}
	c := orig.Clone()
	assert.Equal(t, orig, c)
	c.Previous["priority"] = "1"
	c.Timers[0].Metric = "response"
	c.Timers[0].Marks[0].Threshold = "75"
	c.Timers[0].Segments[0].To = at
	c.Timers[0].Changes[0].To = "p3"
	assert.Equal(t, "2", orig.Previous["priority"])
	assert.Equal(t, "resolution", orig.Timers[0].Metric)
	assert.Equal(t, "50", orig.Timers[0].Marks[0].Threshold)
	assert.Equal(t, at.Add(time.Hour), orig.Timers[0].Segments[0].To)
	assert.Equal(t, "p1", orig.Timers[0].Changes[0].To)
	assert.Equal(t, sla.State{}, sla.State{}.Clone())
}
