package sla

import "time"

// Calendar is working time laid over the time line.
type Calendar interface {
	// Add returns the instant after exactly d of working time from t (d >= 0).
	Add(t time.Time, d time.Duration) (time.Time, error)
	// Between returns the working time inside [a, b); 0 when b <= a.
	Between(a, b time.Time) time.Duration
	// IsWorking reports whether t lies inside working time.
	IsWorking(t time.Time) bool
	// NextTransition returns the first instant after t at which IsWorking
	// changes, and false when there is none (e.g. 24×7).
	NextTransition(t time.Time) (time.Time, bool)
}
