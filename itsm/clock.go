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
