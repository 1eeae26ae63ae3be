package sla

import (
	"fmt"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// StretchKind says how a stretch of a timer's life was treated.
type StretchKind string

// The stretch kinds.
const (
	// StretchCounted: running in working time; counts towards the goal.
	StretchCounted StretchKind = "counted"
	// StretchExcluded: running outside working time; counts for nothing.
	StretchExcluded StretchKind = "excluded"
	// StretchPaused: paused; its working time is business pause.
	StretchPaused StretchKind = "paused"
	// StretchStopped: completed, before a reopen resumed the cycle.
	StretchStopped StretchKind = "stopped"
)

// Stretch is one stretch [From, To) of an Explanation.
type Stretch struct {
	Kind StretchKind `json:"kind"`
	From time.Time   `json:"from"`
	To   time.Time   `json:"to"`
	// Working is the working time inside the interval on the calendar that
	// applied to it: all of a counted interval, none of an excluded one, the
	// business pause of a paused one.
	Working time.Duration `json:"working"`
}

// Explanation lists, for one timer, every interval counted, excluded and
// paused, so that anyone can check its figures by hand.
type Explanation struct {
	// Timer is the timer explained.
	Timer Timer `json:"timer"`
	// Stretches covers [Timer.StartedAt, Timer.AsOf) (or EndedAt) without
	// gaps, in order.
	Stretches []Stretch `json:"stretches"`
}

// Explain splits a timer's life into intervals counted, excluded (running
// outside working time), paused and stopped, each on the calendar of the goal
// in force then (the current goal's throughout after a retroactive
// retarget). Errors: a *itsm.ValidationError naming "version" when the
// engine does not hold the timer's definition.
func (e *Engine) Explain(t Timer) (Explanation, error) {
	ca := e.all[versionKey{t.Agreement, t.Version}]
	var ct *compTarget
	if ca != nil {
		ct = ca.target(t.Metric)
	}
	if ct == nil || ct.goal(t.Goal) == nil {
		return Explanation{}, itsm.NewValidationError("version",
			fmt.Sprintf("agreement %q version %d with metric %q and goal %q is not loaded", t.Agreement, t.Version, t.Metric, t.Goal))
	}
	cur := ct.goal(t.Goal).cal
	// The calendar timeline: which goal's calendar applied from when.
	type span struct {
		from time.Time
		cal  Calendar
	}
	calOf := func(name string) Calendar {
		if g := ct.goal(name); g != nil {
			return g.cal
		}
		return cur
	}
	var line []span
	if len(t.Changes) > 0 {
		line = append(line, span{cal: calOf(t.Changes[0].From)})
	} else {
		line = append(line, span{cal: cur})
	}
	for _, c := range t.Changes {
		if c.How == RetargetRetroactive {
			line = []span{{cal: calOf(c.To)}}
			continue
		}
		line = append(line, span{from: c.At, cal: calOf(c.To)})
	}
	segs := append([]Segment(nil), t.Segments...)
	if t.Stage.Live() && t.Since.Before(t.AsOf) {
		kind := SegmentRunning
		if t.Stage == StagePaused {
			kind = SegmentPaused
		}
		segs = append(segs, Segment{Kind: kind, From: t.Since, To: t.AsOf})
	}
	x := Explanation{Timer: t}
	for _, s := range segs {
		// Split the segment where the calendar changes.
		for k := range line {
			from, to := s.From, s.To
			if k > 0 && line[k].from.After(from) {
				from = line[k].from
			}
			if k+1 < len(line) && line[k+1].from.Before(to) {
				to = line[k+1].from
			}
			if to.After(from) {
				x.add(s.Kind, line[k].cal, from, to)
			}
		}
	}
	return x, nil
}

func (x *Explanation) push(iv Stretch) {
	if n := len(x.Stretches); n > 0 && x.Stretches[n-1].Kind == iv.Kind && x.Stretches[n-1].To.Equal(iv.From) {
		x.Stretches[n-1].To = iv.To
		x.Stretches[n-1].Working += iv.Working
		return
	}
	x.Stretches = append(x.Stretches, iv)
}

func (x *Explanation) add(kind SegmentKind, cal Calendar, from, to time.Time) {
	switch kind {
	case SegmentPaused:
		x.push(Stretch{Kind: StretchPaused, From: from, To: to, Working: cal.Between(from, to)})
		return
	case SegmentStopped:
		x.push(Stretch{Kind: StretchStopped, From: from, To: to})
		return
	}
	for at := from; at.Before(to); {
		working := cal.IsWorking(at)
		end := to
		if next, ok := cal.NextTransition(at); ok && next.Before(to) {
			end = next
		}
		if working {
			x.push(Stretch{Kind: StretchCounted, From: at, To: end, Working: cal.Between(at, end)})
		} else {
			x.push(Stretch{Kind: StretchExcluded, From: at, To: end})
		}
		at = end
	}
}

// Total returns the sum of the Working time of the intervals of kind k.
func (x Explanation) Total(k StretchKind) time.Duration {
	var sum time.Duration
	for _, iv := range x.Stretches {
		if iv.Kind == k {
			sum += iv.Working
		}
	}
	return sum
}

// String renders the explanation one interval a line, in UTC:
//
//	counted   2025-03-03 09:00 → 2025-03-03 12:00  3h0m0s
func (x Explanation) String() string {
	var b strings.Builder
	const layout = "2006-01-02 15:04"
	for _, iv := range x.Stretches {
		fmt.Fprintf(&b, "%-9s %s → %s  %s\n", iv.Kind, iv.From.UTC().Format(layout), iv.To.UTC().Format(layout), iv.Working)
	}
	return b.String()
}
