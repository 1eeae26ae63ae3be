package sla

import (
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

func negativeDuration(d time.Duration) error {
	return itsm.NewValidationError("d", fmt.Sprintf("must not be negative (got %s)", d))
}

func noWorkingTimeAfter(t time.Time) error {
	return fmt.Errorf("%w: none after %s", ErrNoWorkingTime, t.UTC().Format(time.RFC3339Nano))
}

// always is working time around the clock.
type always struct{}

func (always) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, negativeDuration(d)
	}
	return t.Add(d).UTC(), nil
}

func (always) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}

func (always) IsWorking(time.Time) bool { return true }

func (always) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }

// combined is the union or intersection of calendars that cannot be compiled
// into one weekly table (different zones, or calendars of other packages). It
// walks the parts' transitions, so its cost grows with the number of
// transitions inside the span asked about.
type combined struct {
	parts []Calendar
	all   bool // intersection when true, union when false
}

func (c *combined) state(states []bool) bool {
	for _, s := range states {
		if s != c.all {
			return !c.all
		}
	}
	return c.all
}

// walker steps through the union of the parts' transitions.
type walker struct {
	c      *combined
	cur    time.Time
	states []bool
	next   []time.Time
	has    []bool
}

func (c *combined) walk(from time.Time) *walker {
	w := &walker{c: c, cur: from, states: make([]bool, len(c.parts)), next: make([]time.Time, len(c.parts)), has: make([]bool, len(c.parts))}
	for i, p := range c.parts {
		w.states[i] = p.IsWorking(from)
		w.next[i], w.has[i] = p.NextTransition(from)
	}
	return w
}

// step returns the end of the stretch that starts at w.cur and during which
// no part changes, and false when no part ever changes again.
func (w *walker) step() (time.Time, bool) {
	var end time.Time
	found := false
	for i := range w.next {
		if w.has[i] && (!found || w.next[i].Before(end)) {
			end, found = w.next[i], true
		}
	}
	return end, found
}

// advance moves to the end of the current stretch.
func (w *walker) advance(end time.Time) {
	w.cur = end
	for i, p := range w.c.parts {
		if w.has[i] && !w.next[i].After(end) {
			w.states[i] = p.IsWorking(end)
			w.next[i], w.has[i] = p.NextTransition(end)
		}
	}
}

func (c *combined) IsWorking(t time.Time) bool {
	for _, p := range c.parts {
		if p.IsWorking(t) != c.all {
			return !c.all
		}
	}
	return c.all
}

func (c *combined) NextTransition(t time.Time) (time.Time, bool) {
	w := c.walk(t)
	s := c.state(w.states)
	for {
		end, ok := w.step()
		if !ok {
			return time.Time{}, false
		}
		w.advance(end)
		if c.state(w.states) != s {
			return end, true
		}
	}
}

func (c *combined) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	w := c.walk(a)
	for w.cur.Before(b) {
		end, ok := w.step()
		if !ok || end.After(b) {
			end = b
		}
		if c.state(w.states) {
			sum += end.Sub(w.cur)
		}
		if !ok {
			break
		}
		w.advance(end)
	}
	return sum
}

func (c *combined) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, negativeDuration(d)
	}
	w := c.walk(t)
	for {
		end, ok := w.step()
		if c.state(w.states) {
			if !ok || end.Sub(w.cur) >= d {
				return w.cur.Add(d).UTC(), nil
			}
			d -= end.Sub(w.cur)
		} else if !ok {
			return time.Time{}, noWorkingTimeAfter(t)
		}
		w.advance(end)
	}
}
