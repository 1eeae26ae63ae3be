package sla

import (
	"errors"
	"time"
)

// testWeekdayCal is working time Monday to Friday 09:00–17:00 UTC, written
// the slow obvious way (one day at a time) for the timer tests; the real
// calendars live elsewhere in the package.
type testWeekdayCal struct{}

func (testWeekdayCal) window(tmDay time.Time) (time.Time, time.Time, bool) {
	y, m, d := tmDay.UTC().Date()
	switch tmDay.UTC().Weekday() {
	case time.Saturday, time.Sunday:
		return time.Time{}, time.Time{}, false
	}
	return time.Date(y, m, d, 9, 0, 0, 0, time.UTC), time.Date(y, m, d, 17, 0, 0, 0, time.UTC), true
}

func testMidnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (c testWeekdayCal) IsWorking(t time.Time) bool {
	ws, we, ok := c.window(t)
	return ok && !t.Before(ws) && t.Before(we)
}

func (c testWeekdayCal) Between(a, b time.Time) time.Duration {
	var sum time.Duration
	for tmDay := testMidnight(a); tmDay.Before(b); tmDay = tmDay.AddDate(0, 0, 1) {
		ws, we, ok := c.window(tmDay)
		if !ok {
			continue
		}
		from, to := testLater(ws, a), testEarlier(we, b)
		if to.After(from) {
			sum += to.Sub(from)
		}
	}
	return sum
}

func (c testWeekdayCal) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, errors.New("negative duration")
	}
	for tmDay := testMidnight(t); tmDay.Year() < 3000; tmDay = tmDay.AddDate(0, 0, 1) {
		ws, we, ok := c.window(tmDay)
		if !ok || !we.After(t) {
			continue
		}
		from := testLater(ws, t)
		if avail := we.Sub(from); d <= avail {
			return from.Add(d), nil
		} else {
			d -= avail
		}
	}
	return time.Time{}, errors.New("out of range")
}

func (c testWeekdayCal) NextTransition(t time.Time) (time.Time, bool) {
	for tmDay := testMidnight(t); ; tmDay = tmDay.AddDate(0, 0, 1) {
		ws, we, ok := c.window(tmDay)
		if !ok {
			continue
		}
		if ws.After(t) {
			return ws, true
		}
		if we.After(t) {
			return we, true
		}
	}
}

// testNeverCal has no working time at all: Add always fails.
type testNeverCal struct{}

func (testNeverCal) Add(time.Time, time.Duration) (time.Time, error) {
	return time.Time{}, errors.New("no working time")
}
func (testNeverCal) Between(time.Time, time.Time) time.Duration { return 0 }
func (testNeverCal) IsWorking(time.Time) bool                   { return false }
func (testNeverCal) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }

func testLater(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func testEarlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
