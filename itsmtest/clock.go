package itsmtest

import (
	"sync"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Clock is a controllable clock for tests. It starts at a given instant and
// moves only when told: by Advance or Set, or by a fixed step after every
// reading when made with NewSteppingClock. It reads instants normalised to
// UTC microseconds, as the library keeps them, but keeps its own time
// exactly, so that steps and advances that are not whole microseconds add
// up. Safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  time.Time // exact, UTC; readings are normalised
	step time.Duration
}

// minStep is the smallest step a stepping clock takes: instants are kept
// to the microsecond, so a shorter step would read the same instant twice.
const minStep = time.Microsecond

// NewClock returns a clock fixed at start (normalised to UTC microseconds).
func NewClock(start time.Time) *Clock {
	return &Clock{now: itsm.Normalize(start)}
}

// NewSteppingClock returns a clock that reads start first and moves forward
// by step after each reading, so successive commands get distinct, ordered
// instants. A positive step under a microsecond is taken as one.
func NewSteppingClock(start time.Time, step time.Duration) *Clock {
	return &Clock{now: itsm.Normalize(start), step: stepOf(step)}
}

// stepOf returns the step a clock takes for step.
func stepOf(step time.Duration) time.Duration {
	if step > 0 && step < minStep {
		return minStep
	}
	return step
}

// Now returns the current instant, then moves the clock on by its step.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return itsm.Normalize(t)
}

// Peek returns the current instant without stepping.
func (c *Clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return itsm.Normalize(c.now)
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new instant.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return itsm.Normalize(c.now)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = itsm.Normalize(t)
}

// SetStep changes the step taken after each reading; 0 fixes the clock, and
// a positive step under a microsecond is taken as one.
func (c *Clock) SetStep(step time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = stepOf(step)
}

// Func returns the clock as an itsm.Clock to hand to services.
func (c *Clock) Func() itsm.Clock { return c.Now }
