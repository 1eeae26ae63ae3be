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
// outside working time), paused and stopped, each on the calendar that was
// in force then: the calendars are read by name from the timer and its
// Changes (the current goal's throughout after a retroactive retarget) and
// resolved through the engine's calendars, so a timer keeps its explanation
// after a migration and after its agreement version leaves the engine.
// Errors: a *itsm.ValidationError naming "calendar" or
// "changes[i].from_calendar"/"changes[i].to_calendar" when the engine cannot
// resolve a calendar.
func (e *Engine) Explain(t Timer) (Explanation, error) {
	t = t.Clone()
	line, err := e.timeline(&t)
	if err != nil {
		return Explanation{}, err
	}
	x := Explanation{Timer: t}
	walkTimer(&t, line, func(kind SegmentKind, cal Calendar, from, to time.Time) bool {
		x.add(kind, cal, from, to)
		return true
	})
	return x, nil
}

// calSpan says that cal applies from from on (from the start for the first).
type calSpan struct {
	from time.Time
	cal  Calendar
}

// timeline returns which calendar applied to t from when, in order.
func (e *Engine) timeline(t *Timer) ([]calSpan, error) {
	// Changes recorded before calendars were named in them fall back to the
	// calendar of the goal in the timer's definition.
	name := func(cal, goal string) string {
		if cal != "" {
			return cal
		}
		if _, ct, _, ok := e.definition(t); ok {
			if g := ct.goal(goal); g != nil {
				return g.calName
			}
		}
		return t.Calendar
	}
	resolve := func(field, n string) (Calendar, error) {
		c, ok := e.calendar(n)
		if !ok {
			return nil, itsm.NewValidationError(field, fmt.Sprintf("%q is not a calendar the engine knows", n))
		}
		return c, nil
	}
	first, field := t.Calendar, "calendar"
	if len(t.Changes) > 0 {
		first, field = name(t.Changes[0].FromCalendar, t.Changes[0].From), "changes[0].from_calendar"
	}
	cal, err := resolve(field, first)
	if err != nil {
		return nil, err
	}
	line := make([]calSpan, 1, 1+len(t.Changes))
	line[0] = calSpan{cal: cal}
	for i, c := range t.Changes {
		cal, err := resolve(fmt.Sprintf("changes[%d].to_calendar", i), name(c.ToCalendar, c.To))
		if err != nil {
			return nil, err
		}
		if c.How == RetargetRetroactive {
			line = append(line[:0], calSpan{cal: cal})
			continue
		}
		line = append(line, calSpan{from: c.At, cal: cal})
	}
	return line, nil
}

// walkTimer calls fn for every closed segment of t and its current stretch,
// in order, split where line changes calendar, until fn returns false.
func walkTimer(t *Timer, line []calSpan, fn func(kind SegmentKind, cal Calendar, from, to time.Time) bool) {
	visit := func(s Segment) bool {
		for k := range line {
			from, to := s.From, s.To
			if k > 0 && line[k].from.After(from) {
				from = line[k].from
			}
			if k+1 < len(line) && line[k+1].from.Before(to) {
				to = line[k+1].from
			}
			if to.After(from) && !fn(s.Kind, line[k].cal, from, to) {
				return false
			}
		}
		return true
	}
	for _, s := range t.Segments {
		if !visit(s) {
			return
		}
	}
	if t.Stage.Live() && t.Since.Before(t.AsOf) {
		kind := SegmentRunning
		if t.Stage == StagePaused {
			kind = SegmentPaused
		}
		visit(Segment{Kind: kind, From: t.Since, To: t.AsOf})
	}
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
		// A transition that does not move forward (a faulty calendar) ends
		// the stretch at to rather than looping.
		if next, ok := cal.NextTransition(at); ok && next.After(at) && next.Before(to) {
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
