package itsm

import "time"

// Clock tells the current instant. The library never reads the system clock on
// its own: hosts pass a Clock (SystemClock in production, a controllable clock
// from itsmtest in tests) and every instant the library records comes from it.
type Clock func() time.Time

// Now returns the clock's instant normalised by Normalize. A nil Clock is a
// programming error and returns the zero time, which validation rejects.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Time{}
	}
	return Normalize(c())
}

// SystemClock returns a Clock that reads the operating system's clock. It is
// the one place where itsmkit touches time.Now, and only when a host asks for it.
func SystemClock() Clock { return time.Now }

// Normalize returns t in UTC, truncated to the microsecond and without a
// monotonic reading, so that an instant stored in memory and one read back
// from PostgreSQL (which keeps microseconds) compare equal with ==.
func Normalize(t time.Time) time.Time {
	// UTC drops the monotonic reading and the location. Most instants are
	// already whole microseconds, and Truncate's division is slow: skip it
	// when there is nothing to cut (Truncate would return u unchanged).
	u := t.UTC()
	if u.Nanosecond()%1000 == 0 {
		return u
	}
	return u.Truncate(time.Microsecond)
}

// IsNormalized reports whether t is already in the form Normalize returns.
func IsNormalized(t time.Time) bool {
	return t == Normalize(t)
}

// The years an instant the library keeps may lie in, UTC: from the start
// of MinInstantYear to the end of MaxInstantYear. They are the window the
// SLA engine has always accepted (package sla reads them from here). The
// bound keeps every instant within what JSON (years 0 to 9999) and
// PostgreSQL's timestamptz can hold, and leaves room above it for any
// time.Duration added to it, so that a store refuses such an instant with a
// *ValidationError, the same in every store, instead of failing in its
// driver.
const (
	MinInstantYear = 1900
	MaxInstantYear = 8999
)

// The Unix seconds of the first instant of MinInstantYear and of the year
// after MaxInstantYear, UTC (a test checks them): comparing an instant's
// seconds with constants costs no calendar arithmetic.
const (
	minInstantUnix = -2208988800  // 1900-01-01T00:00:00Z
	endInstantUnix = 221845392000 // 9000-01-01T00:00:00Z
)

// InstantInRange reports whether t lies in the years MinInstantYear to
// MaxInstantYear, read in UTC. The zero time (year 1) does not.
func InstantInRange(t time.Time) bool {
	sec := t.Unix()
	return sec >= minInstantUnix && sec < endInstantUnix
}

// InstantRangeReason is the reason a *ValidationError gives for an instant
// outside the years InstantInRange accepts.
const InstantRangeReason = "must lie in the years 1900 to 8999 (UTC)"
