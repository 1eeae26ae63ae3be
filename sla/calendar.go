package sla

import (
	"errors"
	"reflect"
	"time"
)

// Calendar is working time laid over the time line.
type Calendar interface {
	// Add returns the instant after d of working time from t (d >= 0). For
	// d > 0 it is the earliest instant at which exactly d of working time
	// has elapsed since t, so Between(t, Add(t, d)) == d: a span that ends
	// exactly at a closing time returns that closing instant, not the next
	// opening. The timer engine relies on this to place thresholds and
	// breaches; it never adds zero, and what adding zero at a non-working
	// instant returns is the implementation's to document.
	Add(t time.Time, d time.Duration) (time.Time, error)
	// Between returns the working time inside [a, b); 0 when b <= a.
	Between(a, b time.Time) time.Duration
	// IsWorking reports whether t lies inside working time.
	IsWorking(t time.Time) bool
	// NextTransition returns the first instant after t at which IsWorking
	// changes, and false when there is none (e.g. 24×7).
	NextTransition(t time.Time) (time.Time, bool)
}

// ErrNoWorkingTime reports that a calendar has no working time left where an
// answer was asked for: Add could not place the requested amount of working
// time before the end of the calendar's horizon, or a report covered a period
// without agreed service time. It is not an ErrInvalid: the input was well
// formed, the calendar simply has no more working time.
var ErrNoWorkingTime = errors.New("sla: no working time within the calendar's horizon")

// Horizon bounds of weekly calendars. A weekly calendar has working time only
// on local dates from January 1 of HorizonStartYear (inclusive) to January 1
// of HorizonEndYear (exclusive), i.e. 1970-01-01 through 2199-12-31, so
// that every answer is exact integer arithmetic on precomputed tables and no
// search can run forever. A 24×7 calendar has no horizon.
const (
	// HorizonStartYear is the first local year in which a weekly calendar works.
	HorizonStartYear = 1970
	// HorizonEndYear is the first local year in which it no longer works.
	HorizonEndYear = 2200
)

// Usable reports whether c can answer calendar questions: not a nil
// interface, not a nil pointer or other nil value behind the interface (what
// a host holds after ignoring NewSchedule's error), and not a zero Schedule
// that NewSchedule never built. The engine, Availability and the incident
// package's auto-close check every Calendar a caller hands them with it, so
// a bad one is refused with an error naming the field instead of panicking
// at the first observation.
func Usable(c Calendar) bool {
	switch v := c.(type) {
	case nil:
		return false
	case *Schedule:
		return v != nil && v.eng != nil
	}
	rv := reflect.ValueOf(c)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}
