package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustSchedule(t *testing.T, spec CalendarSpec) *Schedule {
	t.Helper()
	s, err := NewSchedule(spec)
	require.NoError(t, err)
	return s
}

// TestDSTDayLengths measures one local day [midnight, next midnight) on
// calendars whose only span that day is the one given, in zones around their
// changes of offset.
func TestDSTDayLengths(t *testing.T) {
	h := func(h, m int) TimeOfDay { return At(h, m) }
	tests := []struct {
		name string
		zone string
		date Date
		span Span
		want time.Duration
	}{
		// America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00.
		{"new york 24h spring forward", "America/New_York", Date{2026, 3, 8}, Hours(Midnight, EndOfDay), 23 * time.Hour},
		{"new york 24h fall back", "America/New_York", Date{2026, 11, 1}, Hours(Midnight, EndOfDay), 25 * time.Hour},
		{"new york 24h ordinary", "America/New_York", Date{2026, 3, 9}, Hours(Midnight, EndOfDay), 24 * time.Hour},
		{"new york 9-17 spring forward", "America/New_York", Date{2026, 3, 8}, Hours(h(9, 0), h(17, 0)), 8 * time.Hour},
		{"new york 9-17 fall back", "America/New_York", Date{2026, 11, 1}, Hours(h(9, 0), h(17, 0)), 8 * time.Hour},
		{"new york span across the gap", "America/New_York", Date{2026, 3, 8}, Hours(h(1, 0), h(4, 0)), 2 * time.Hour},
		{"new york start in the gap moves forward", "America/New_York", Date{2026, 3, 8}, Hours(h(2, 30), h(5, 0)), 2 * time.Hour},
		{"new york span inside the gap is empty", "America/New_York", Date{2026, 3, 8}, Hours(h(2, 15), h(2, 45)), 0},
		{"new york span across the repeat", "America/New_York", Date{2026, 11, 1}, Hours(h(1, 0), h(4, 0)), 4 * time.Hour},
		{"new york ambiguous start takes the first", "America/New_York", Date{2026, 11, 1}, Hours(h(1, 30), h(5, 0)), 4*time.Hour + 30*time.Minute},
		{"new york ambiguous end takes the first", "America/New_York", Date{2026, 11, 1}, Hours(Midnight, h(1, 30)), 90 * time.Minute},
		// Europe/London: 2026-03-29 01:00 -> 02:00, 2026-10-25 02:00 -> 01:00.
		{"london 24h spring forward", "Europe/London", Date{2026, 3, 29}, Hours(Midnight, EndOfDay), 23 * time.Hour},
		{"london 24h fall back", "Europe/London", Date{2026, 10, 25}, Hours(Midnight, EndOfDay), 25 * time.Hour},
		{"london 9-17 stays 8h", "Europe/London", Date{2026, 3, 29}, Hours(h(9, 0), h(17, 0)), 8 * time.Hour},
		{"london end in the gap moves forward", "Europe/London", Date{2026, 3, 29}, Hours(h(0, 30), h(1, 30)), 30 * time.Minute},
		// Australia/Lord_Howe: half-hour shifts, 2026-04-05 02:00 -> 01:30,
		// 2026-10-04 02:00 -> 02:30.
		{"lord howe 24h fall back", "Australia/Lord_Howe", Date{2026, 4, 5}, Hours(Midnight, EndOfDay), 24*time.Hour + 30*time.Minute},
		{"lord howe 24h spring forward", "Australia/Lord_Howe", Date{2026, 10, 4}, Hours(Midnight, EndOfDay), 23*time.Hour + 30*time.Minute},
		{"lord howe 9-17 stays 8h", "Australia/Lord_Howe", Date{2026, 10, 4}, Hours(h(9, 0), h(17, 0)), 8 * time.Hour},
		{"lord howe span across the gap", "Australia/Lord_Howe", Date{2026, 10, 4}, Hours(h(1, 0), h(3, 0)), 90 * time.Minute},
		{"lord howe span across the repeat", "Australia/Lord_Howe", Date{2026, 4, 5}, Hours(h(1, 0), h(3, 0)), 150 * time.Minute},
		{"lord howe start in the gap", "Australia/Lord_Howe", Date{2026, 10, 4}, Hours(h(2, 15), h(3, 0)), 30 * time.Minute},
		// Asia/Kolkata: +05:30 all year, no change.
		{"kolkata 24h", "Asia/Kolkata", Date{2026, 3, 8}, Hours(Midnight, EndOfDay), 24 * time.Hour},
		{"kolkata 9-17", "Asia/Kolkata", Date{2026, 11, 1}, Hours(h(9, 0), h(17, 0)), 8 * time.Hour},
		// Africa/Cairo: 2026-04-24 (Friday) 00:00 -> 01:00; 2026-10-29
		// (Thursday) 24:00 -> 23:00, so Thursday 23:00-24:00 is shown twice.
		{"cairo 24h spring forward at midnight", "Africa/Cairo", Date{2026, 4, 24}, Hours(Midnight, EndOfDay), 23 * time.Hour},
		{"cairo 24h fall back at midnight", "Africa/Cairo", Date{2026, 10, 29}, Hours(Midnight, EndOfDay), 25 * time.Hour},
		{"cairo start at a missing midnight", "Africa/Cairo", Date{2026, 4, 24}, Hours(Midnight, h(2, 0)), time.Hour},
		{"cairo span ending at 24:00 keeps the repeat", "Africa/Cairo", Date{2026, 10, 29}, Hours(h(22, 0), EndOfDay), 3 * time.Hour},
		{"cairo 9-17 stays 8h", "Africa/Cairo", Date{2026, 4, 24}, Hours(h(9, 0), h(17, 0)), 8 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustZone(t, tc.zone)
			var week Week
			week[tc.date.Weekday()] = []Span{tc.span}
			if tc.want == 0 {
				// A calendar needs some working time; add it elsewhere.
				week[(tc.date.Weekday()+3)%7] = []Span{Hours(At(9, 0), At(10, 0))}
			}
			s := mustSchedule(t, CalendarSpec{Zone: tc.zone, Week: week})
			from := time.Date(tc.date.Year, tc.date.Month, tc.date.Day, 0, 0, 0, 0, loc)
			to := time.Date(tc.date.Year, tc.date.Month, tc.date.Day+1, 0, 0, 0, 0, loc)
			assert.Equal(t, tc.want, s.Between(from.Add(-6*time.Hour), to.Add(6*time.Hour)))
			if tc.want > 0 {
				open, err := s.Add(from.Add(-6*time.Hour), 0)
				require.NoError(t, err)
				end, err := s.Add(open, tc.want)
				require.NoError(t, err)
				assert.Equal(t, tc.want, end.Sub(open), "the span is one stretch of real time")
				assert.True(t, s.IsWorking(open))
				assert.False(t, s.IsWorking(end))
				next, ok := s.NextTransition(open)
				require.True(t, ok)
				assert.Equal(t, end, next)
			}
		})
	}
}

func TestDSTAlways(t *testing.T) {
	tests := []struct {
		name string
		zone string
		date Date
		want time.Duration
	}{
		{"new york spring forward", "America/New_York", Date{2026, 3, 8}, 23 * time.Hour},
		{"new york fall back", "America/New_York", Date{2026, 11, 1}, 25 * time.Hour},
		{"london fall back", "Europe/London", Date{2026, 10, 25}, 25 * time.Hour},
		{"lord howe spring forward", "Australia/Lord_Howe", Date{2026, 10, 4}, 23*time.Hour + 30*time.Minute},
		{"kolkata", "Asia/Kolkata", Date{2026, 10, 4}, 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustZone(t, tc.zone)
			from := time.Date(tc.date.Year, tc.date.Month, tc.date.Day, 0, 0, 0, 0, loc)
			to := time.Date(tc.date.Year, tc.date.Month, tc.date.Day+1, 0, 0, 0, 0, loc)
			weekly := mustSchedule(t, CalendarSpec{Zone: tc.zone, Week: EveryDay(Hours(Midnight, EndOfDay))})
			for _, cal := range []Calendar{Always(loc), weekly} {
				assert.Equal(t, tc.want, cal.Between(from, to))
				got, err := cal.Add(from, tc.want)
				require.NoError(t, err)
				assert.True(t, got.Equal(to), "Add(midnight, day length) = %s, want next midnight %s", got, to)
			}
			_, ok := Always(loc).NextTransition(from)
			assert.False(t, ok, "24×7 never changes")
		})
	}
}

// TestDSTBusinessHoursAdd adds business time across changes of offset on a
// Monday-Friday 09:00-17:00 calendar: the answer is always on wall-clock
// hours, never shifted by the change.
func TestDSTBusinessHoursAdd(t *testing.T) {
	tests := []struct {
		name string
		zone string
		from time.Time // wall time in zone, built below
		d    time.Duration
		want time.Time
	}{
		{"new york friday before spring forward", "America/New_York", wall(2026, 3, 6, 16, 0), 2 * time.Hour, wall(2026, 3, 9, 10, 0)},
		{"new york friday before fall back", "America/New_York", wall(2026, 10, 30, 16, 0), 2 * time.Hour, wall(2026, 11, 2, 10, 0)},
		{"london a week across spring forward", "Europe/London", wall(2026, 3, 27, 9, 0), 40 * time.Hour, wall(2026, 4, 2, 17, 0)},
		{"lord howe across the half hour", "Australia/Lord_Howe", wall(2026, 10, 2, 13, 0), 8 * time.Hour, wall(2026, 10, 5, 13, 0)},
		{"kolkata overnight wait", "Asia/Kolkata", wall(2026, 3, 9, 16, 30), time.Hour, wall(2026, 3, 10, 9, 30)},
		{"cairo friday after the missing midnight", "Africa/Cairo", wall(2026, 4, 23, 16, 0), 2 * time.Hour, wall(2026, 4, 24, 10, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustZone(t, tc.zone)
			s := mustSchedule(t, CalendarSpec{Zone: tc.zone, Week: Weekdays(Hours(At(9, 0), At(17, 0)))})
			from := inZone(tc.from, loc)
			got, err := s.Add(from, tc.d)
			require.NoError(t, err)
			assert.Equal(t, inZone(tc.want, loc).UTC(), got)
			assert.Equal(t, tc.d, s.Between(from, got))
		})
	}
}

// wall records a wall-clock time; inZone places it in a zone.
func wall(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func inZone(w time.Time, loc *time.Location) time.Time {
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
}
