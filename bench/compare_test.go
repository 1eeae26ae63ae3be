package bench

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/sla"
)

// nearChange reports whether t lies within two days of a change of offset.
func nearChange(t time.Time) bool {
	_, o1 := t.Add(-48 * time.Hour).Zone()
	_, o2 := t.Add(48 * time.Hour).Zone()
	_, o := t.Zone()
	return o1 != o || o2 != o
}

// TestAgreesWithRickar checks that itsmkit and rickar/cal give the same
// answers on 10,000 random instants (1990-2060) away from DST changes, for
// Between over up to 30 days and Add of up to 400 hours.
func TestAgreesWithRickar(t *testing.T) {
	loc := newYork(t)
	ours, theirs := itsmkitCalendar(t), rickarCalendar()
	rng := rand.New(rand.NewPCG(1, 2))
	from := time.Date(1990, 1, 1, 0, 0, 0, 0, loc)
	span := time.Date(2060, 1, 1, 0, 0, 0, 0, loc).Sub(from)
	checked := 0
	for checked < 10000 {
		a := from.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second).In(loc)
		b := a.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Second)
		d := time.Duration(rng.Int64N(int64(400*time.Hour))).Truncate(time.Second) + time.Second
		if nearChange(a) || nearChange(b) {
			continue
		}
		got, err := ours.Add(a, d)
		require.NoError(t, err)
		want := theirs.AddWorkHours(a, d)
		if nearChange(got) || nearChange(want) {
			continue
		}
		checked++
		require.Equal(t, theirs.WorkHoursInRange(a, b), ours.Between(a, b), "Between(%s, %s)", a, b)
		require.True(t, want.Equal(got), "Add(%s, %s): rickar %s, itsmkit %s", a, d, want, got)
		require.Equal(t, theirs.IsWorkTime(a), ours.IsWorking(a), "IsWorking(%s)", a)
	}
}

// TestDisagreementsNearDST pins where rickar/cal and itsmkit differ near
// changes of offset, and which answer is right. rickar places a working
// day's bounds at local midnight plus a duration (time.Date(y, m, d, 0, 0,
// 0, 0, loc).Add(start)), so on a change day every bound after the change
// moves by the change; itsmkit resolves each bound on its own date.
func TestDisagreementsNearDST(t *testing.T) {
	loc := newYork(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	night := func() *cal.BusinessCalendar {
		c := cal.NewBusinessCalendar()
		for d := time.Sunday; d <= time.Saturday; d++ {
			c.SetWorkday(d, true)
		}
		c.SetWorkHours(1*time.Hour, 5*time.Hour)
		return c
	}
	ours, err := sla.NewSchedule(sla.CalendarSpec{Zone: zone, Week: sla.EveryDay(sla.Hours(sla.At(1, 0), sla.At(5, 0)))})
	require.NoError(t, err)
	nineToFive := itsmkitCalendar(t)
	tests := []struct {
		name   string
		rickar time.Duration
		ours   time.Duration
		right  time.Duration
	}{
		// A 01:00-05:00 shift on the spring-forward day: 01:00 EST to 05:00
		// EDT is 3 h of real time. rickar ends it at midnight + 5 h, which is
		// 06:00 EDT, and counts 4 h.
		{"01:00-05:00 on 2026-03-08", night().WorkHoursInRange(at(2026, 3, 8, 0, 0), at(2026, 3, 9, 0, 0)),
			ours.Between(at(2026, 3, 8, 0, 0), at(2026, 3, 9, 0, 0)), 3 * time.Hour},
		// On the fall-back day, 01:00 EDT to 05:00 EST is 5 h (the hour from
		// 01:00 to 02:00 is lived twice). rickar ends at midnight + 5 h, which
		// is 04:00 EST, and counts 4 h.
		{"01:00-05:00 on 2026-11-01", night().WorkHoursInRange(at(2026, 11, 1, 0, 0), at(2026, 11, 2, 0, 0)),
			ours.Between(at(2026, 11, 1, 0, 0), at(2026, 11, 2, 0, 0)), 5 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.right, tc.ours, "itsmkit")
			assert.NotEqual(t, tc.right, tc.rickar, "rickar (if this fails, rickar changed: update docs/BENCHMARKS.md)")
		})
	}
	t.Run("rickar adds from the wrong instant", func(t *testing.T) {
		// Adding 1 h from 04:30 EDT on the spring-forward day: the shift
		// closes at 05:00 EDT, so 30 min remain and the answer is 01:30 EST
		// the next night. rickar believes the shift runs to 06:00 EDT.
		from := at(2026, 3, 8, 4, 30)
		got, err := ours.Add(from, time.Hour)
		require.NoError(t, err)
		assert.Equal(t, at(2026, 3, 9, 1, 30).UTC(), got)
		assert.Equal(t, at(2026, 3, 8, 5, 30), night().AddWorkHours(from, time.Hour))
	})
	t.Run("rickar shifts a 09:00-17:00 day when midnight is skipped", func(t *testing.T) {
		// Cairo skips 00:00-01:00 on Friday 2026-04-24. rickar's midnight is
		// then 01:00 and its day runs 10:00-18:00; the right day is
		// 09:00-17:00, which itsmkit keeps.
		cairo, err := time.LoadLocation("Africa/Cairo")
		require.NoError(t, err)
		c := cal.NewBusinessCalendar()
		noon := time.Date(2026, 4, 24, 12, 0, 0, 0, cairo)
		assert.Equal(t, time.Date(2026, 4, 24, 10, 0, 0, 0, cairo), c.WorkdayStart(noon))
		assert.Equal(t, time.Date(2026, 4, 24, 18, 0, 0, 0, cairo), c.WorkdayEnd(noon))
		s, err := sla.NewSchedule(sla.CalendarSpec{Zone: "Africa/Cairo", Week: sla.Weekdays(sla.Hours(sla.At(9, 0), sla.At(17, 0)))})
		require.NoError(t, err)
		open, err := s.Add(noon.Add(-12*time.Hour), 0)
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 4, 24, 9, 0, 0, 0, cairo).UTC(), open)
	})
	t.Run("monday to friday 09:00-17:00 agrees across changes", func(t *testing.T) {
		// New York changes on Sundays at 02:00, outside these hours: both
		// agree on the weeks around every change of 2026.
		theirs := rickarCalendar()
		for _, day := range []time.Time{at(2026, 3, 8, 0, 0), at(2026, 11, 1, 0, 0)} {
			for h := -72; h <= 72; h += 5 {
				a := day.Add(time.Duration(h) * time.Hour)
				assert.Equal(t, theirs.WorkHoursInRange(a, a.Add(100*time.Hour)), nineToFive.Between(a, a.Add(100*time.Hour)), "Between from %s", a)
				got, err := nineToFive.Add(a, 13*time.Hour)
				require.NoError(t, err)
				assert.True(t, theirs.AddWorkHours(a, 13*time.Hour).Equal(got), "Add from %s", a)
			}
		}
	})
}
