package itsmtest

import (
	"sync"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Clock is a controllable clock for tests. It starts at a given instant and
// moves only when told: by Advance or Set, or by a fixed step after every
// reading when made with NewSteppingClock. Safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewClock returns a clock fixed at start (normalised to UTC microseconds).
func NewClock(start time.Time) *Clock {
	return &Clock{now: itsm.Normalize(start)}
}

// NewSteppingClock returns a clock that reads start first and moves forward
// by step after each reading, so successive commands get distinct, ordered
// instants.
func NewSteppingClock(start time.Time, step time.Duration) *Clock {
	return &Clock{now: itsm.Normalize(start), step: step}
}

// Now returns the current instant, then moves the clock on by its step.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = itsm.Normalize(c.now.Add(c.step))
	return t
}

// Peek returns the current instant without stepping.
func (c *Clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new instant.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = itsm.Normalize(c.now.Add(d))
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = itsm.Normalize(t)
}

// SetStep changes the step taken after each reading; 0 fixes the clock.
func (c *Clock) SetStep(step time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = step
}

// Func returns the clock as an itsm.Clock to hand to services.
func (c *Clock) Func() itsm.Clock { return c.Now }
