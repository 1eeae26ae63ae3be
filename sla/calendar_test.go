package sla

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

const ny = "America/New_York"

func nineToFive() Week { return Weekdays(Hours(At(9, 0), At(17, 0))) }

func TestNewScheduleValidation(t *testing.T) {
	tests := []struct {
		name  string
		spec  CalendarSpec
		field string
	}{
		{"missing zone", CalendarSpec{Week: nineToFive()}, "zone"},
		{"unknown zone", CalendarSpec{Zone: "Mars/Olympus", Week: nineToFive()}, "zone"},
		{"unknown kind", CalendarSpec{Kind: "monthly", Zone: ny}, "kind"},
		{"no working time", CalendarSpec{Zone: ny}, "week"},
		{"overlapping spans", CalendarSpec{Zone: ny, Week: Week{time.Monday: {Hours(At(9, 0), At(12, 0)), Hours(At(11, 0), At(13, 0))}}}, "week.monday[1]"},
		{"overnight overlaps next day", CalendarSpec{Zone: ny, Week: Week{time.Monday: {Hours(At(22, 0), At(6, 0))}, time.Tuesday: {Hours(At(5, 0), At(9, 0))}}}, "week.tuesday[0]"},
		{"saturday night overlaps sunday", CalendarSpec{Zone: ny, Week: Week{time.Saturday: {Hours(At(22, 0), At(2, 0))}, time.Sunday: {Hours(At(1, 0), At(3, 0))}}}, "week.saturday[0]"},
		{"start equals end", CalendarSpec{Zone: ny, Week: Week{time.Monday: {Hours(At(9, 0), At(9, 0))}}}, "week.monday[0].end"},
		{"start out of range", CalendarSpec{Zone: ny, Week: Week{time.Monday: {Hours(At(24, 0), At(9, 0))}}}, "week.monday[0].start"},
		{"end out of range", CalendarSpec{Zone: ny, Week: Week{time.Monday: {Hours(At(9, 0), At(25, 0))}}}, "week.monday[0].end"},
		{"holiday without date", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Name: "x"}}}, "holidays[0]"},
		{"holiday bad nth", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: 5, Weekday: time.Monday, Nth: 6}}}}, "holidays[0].yearly.nth"},
		{"holiday bad day", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: 4, Day: 31}}}}, "holidays[0].yearly.day"},
		{"fixed-date holiday with a weekday", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: 5, Day: 25, Weekday: time.Monday}}}}, "holidays[0].yearly.weekday"},
		{"Easter with a weekday", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Easter: true, Weekday: time.Friday, Offset: -2}}}}, "holidays[0].yearly.easter"},
		{"holiday bad observance", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 1, 1}, Observed: "sometimes"}}}, "holidays[0].observed"},
		{"holiday invalid date", CalendarSpec{Zone: ny, Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 2, 30}}}}, "holidays[0].date"},
		{"duplicate exception", CalendarSpec{Zone: ny, Week: nineToFive(), Exceptions: []Exception{{Date: Date{2026, 1, 2}}, {Date: Date{2026, 1, 2}}}}, "exceptions[1].date"},
		{"exception overlapping hours", CalendarSpec{Zone: ny, Week: nineToFive(), Exceptions: []Exception{{Date: Date{2026, 1, 3}, Hours: []Span{Hours(At(9, 0), At(12, 0)), Hours(At(10, 0), At(11, 0))}}}}, "exceptions[0].hours[1]"},
		{"always with week", CalendarSpec{Kind: CalendarAlways, Week: nineToFive()}, "week"},
		{"union without parts", CalendarSpec{Kind: CalendarUnion}, "parts"},
		{"union with zone", CalendarSpec{Kind: CalendarUnion, Zone: ny, Parts: []CalendarSpec{{Zone: ny, Week: nineToFive()}}}, "zone"},
		{"bad part", CalendarSpec{Kind: CalendarUnion, Parts: []CalendarSpec{{Zone: ny, Week: nineToFive()}, {Zone: "nowhere"}}}, "parts[1].zone"},
		{"disjoint intersection", CalendarSpec{Kind: CalendarIntersection, Parts: []CalendarSpec{
			{Zone: ny, Week: Weekdays(Hours(At(9, 0), At(12, 0)))},
			{Zone: ny, Week: Weekdays(Hours(At(13, 0), At(17, 0)))},
		}}, "parts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSchedule(tc.spec)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, itsm.ErrInvalid)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "want field %q in %v", tc.field, ve.All())
		})
	}
}

func TestScheduleJSONRoundTrip(t *testing.T) {
	spec := CalendarSpec{
		Kind: CalendarWeekly,
		Name: "service desk",
		Zone: "Europe/London",
		Week: Week{
			time.Monday: {Hours(At(8, 30), At(12, 0)), Hours(At(13, 0), At(17, 30))},
			time.Friday: {Hours(At(22, 0), At(6, 0))},
		},
		Holidays: []Holiday{
			{Name: "christmas", Yearly: &YearlyRule{Month: time.December, Day: 25}, Observed: ObserveNextWeekday},
			{Name: "good friday", Yearly: &YearlyRule{Easter: true, Offset: -2}},
			{Name: "eve", Date: Date{2026, 12, 24}, Closed: []Span{Hours(At(13, 0), EndOfDay)}},
		},
		Exceptions: []Exception{{Name: "stocktake", Date: Date{2026, 6, 6}, Hours: []Span{Hours(At(10, 0), At(14, 0))}}},
	}
	s := mustSchedule(t, spec)
	data, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"monday":[{"start":"08:30","end":"12:00"}`)
	assert.Contains(t, string(data), `"date":"2026-12-24"`)

	var back Schedule
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, s.Spec(), back.Spec())
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	assert.Equal(t, s.Between(from, to), back.Between(from, to))

	union := CalendarSpec{Kind: CalendarUnion, Parts: []CalendarSpec{spec, {Kind: CalendarAlways, Zone: "Asia/Kolkata"}}}
	u := mustSchedule(t, union)
	data, err = json.Marshal(u)
	require.NoError(t, err)
	parsed, err := ParseSchedule(data)
	require.NoError(t, err)
	assert.Equal(t, u.Spec(), parsed.Spec())

	t.Run("bad json", func(t *testing.T) {
		_, err := ParseSchedule([]byte(`{"kind":"weekly","zone":"UTC","week":{"funday":[]}}`))
		assert.ErrorIs(t, err, itsm.ErrInvalid)
		_, err = ParseSchedule([]byte(`{"week":{"monday":[{"start":"9am","end":"17:00"}]}}`))
		assert.ErrorIs(t, err, itsm.ErrInvalid)
		var sched Schedule
		assert.ErrorIs(t, json.Unmarshal([]byte(`{"zone":"UTC"}`), &sched), itsm.ErrInvalid)
	})

	t.Run("one weekday named twice", func(t *testing.T) {
		// Names match in any case; which of two spellings won used to
		// depend on map order, so one stored spec gave 8 h or 1 h.
		js := []byte(`{"zone":"UTC","week":{"monday":[{"start":"09:00","end":"17:00"}],"Monday":[{"start":"10:00","end":"11:00"}]}}`)
		for range 20 {
			_, err := ParseSchedule(js)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, `invalid week: "Monday" and "monday" name the same weekday`, ve.Error())
		}
		s, err := ParseSchedule([]byte(`{"zone":"UTC","week":{"MONDAY":[{"start":"09:00","end":"17:00"}]}}`))
		require.NoError(t, err, "one spelling in any case is fine")
		assert.Equal(t, []Span{Hours(At(9, 0), At(17, 0))}, s.Spec().Week[time.Monday])
	})
}

func TestParseTimeOfDay(t *testing.T) {
	tests := []struct {
		in   string
		want TimeOfDay
		ok   bool
	}{
		{"00:00", Midnight, true}, {"09:30", At(9, 30), true}, {"24:00", EndOfDay, true},
		{"24:01", 0, false}, {"9:30", 0, false}, {"12:60", 0, false}, {"noon", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTimeOfDay(tc.in)
			if !tc.ok {
				assert.ErrorIs(t, err, itsm.ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, got.String())
		})
	}
}

// TestAddZero pins the documented choice: adding zero at a non-working
// instant returns the next opening; at a working instant, the instant.
func TestAddZero(t *testing.T) {
	loc := mustZone(t, ny)
	s := mustSchedule(t, CalendarSpec{Zone: ny, Week: nineToFive()})
	tests := []struct {
		name     string
		from     time.Time
		want     time.Time
		workedAt bool
	}{
		{"at night", time.Date(2026, 3, 3, 23, 0, 0, 0, loc), time.Date(2026, 3, 4, 9, 0, 0, 0, loc), false},
		{"at the close", time.Date(2026, 3, 3, 17, 0, 0, 0, loc), time.Date(2026, 3, 4, 9, 0, 0, 0, loc), false},
		{"on saturday", time.Date(2026, 3, 7, 12, 0, 0, 0, loc), time.Date(2026, 3, 9, 9, 0, 0, 0, loc), false},
		{"at the opening", time.Date(2026, 3, 4, 9, 0, 0, 0, loc), time.Date(2026, 3, 4, 9, 0, 0, 0, loc), true},
		{"while working", time.Date(2026, 3, 4, 11, 17, 3, 5, loc), time.Date(2026, 3, 4, 11, 17, 3, 5, loc), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.workedAt, s.IsWorking(tc.from))
			got, err := s.Add(tc.from, 0)
			require.NoError(t, err)
			assert.Equal(t, tc.want.UTC(), got)
			assert.Zero(t, s.Between(tc.from, got))
		})
	}
}

func TestAddErrors(t *testing.T) {
	loc := mustZone(t, ny)
	s := mustSchedule(t, CalendarSpec{Zone: ny, Week: nineToFive()})
	from := time.Date(2026, 3, 4, 10, 0, 0, 0, loc)
	for name, cal := range map[string]Calendar{"weekly": s, "always": Always(loc)} {
		t.Run(name+" negative", func(t *testing.T) {
			_, err := cal.Add(from, -time.Second)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "d", ve.Field)
		})
	}
	t.Run("beyond the horizon", func(t *testing.T) {
		_, err := s.Add(time.Date(2199, 12, 31, 16, 0, 0, 0, loc), 2*time.Hour)
		assert.ErrorIs(t, err, ErrNoWorkingTime)
		_, err = s.Add(time.Date(2300, 1, 1, 0, 0, 0, 0, loc), 0)
		assert.ErrorIs(t, err, ErrNoWorkingTime)
		_, err = s.Add(from, 200*365*24*time.Hour)
		assert.ErrorIs(t, err, ErrNoWorkingTime)
	})
	t.Run("exceptions only, after the last one", func(t *testing.T) {
		e := mustSchedule(t, CalendarSpec{Zone: ny, Exceptions: []Exception{{Date: Date{2026, 5, 2}, Hours: []Span{Hours(At(10, 0), At(12, 0))}}}})
		got, err := e.Add(from, 90*time.Minute)
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 5, 2, 11, 30, 0, 0, loc).UTC(), got)
		_, err = e.Add(from, 3*time.Hour)
		assert.True(t, errors.Is(err, ErrNoWorkingTime))
		_, ok := e.NextTransition(time.Date(2026, 5, 3, 0, 0, 0, 0, loc))
		assert.False(t, ok)
	})
	t.Run("before the horizon starts counting at its start", func(t *testing.T) {
		got, err := s.Add(time.Date(1960, 1, 1, 0, 0, 0, 0, loc), time.Hour)
		require.NoError(t, err)
		assert.Equal(t, time.Date(1970, 1, 1, 10, 0, 0, 0, loc).UTC(), got)
		assert.Equal(t, 8*time.Hour, s.Between(time.Time{}, time.Date(1970, 1, 2, 0, 0, 0, 0, loc)))
	})
}

func TestOvernightLunchAndHolidays(t *testing.T) {
	loc := mustZone(t, ny)
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, loc) }
	tests := []struct {
		name     string
		spec     CalendarSpec
		from, to time.Time
		want     time.Duration
	}{
		{"lunch break", CalendarSpec{Week: Weekdays(Hours(At(9, 0), At(12, 0)), Hours(At(13, 0), At(17, 0)))}, at(3, 2, 0, 0), at(3, 3, 0, 0), 7 * time.Hour},
		{"lunch break partial", CalendarSpec{Week: Weekdays(Hours(At(9, 0), At(12, 0)), Hours(At(13, 0), At(17, 0)))}, at(3, 2, 11, 30), at(3, 2, 13, 30), time.Hour},
		{"overnight shift belongs to its start day", CalendarSpec{Week: Week{time.Monday: {Hours(At(22, 0), At(6, 0))}}}, at(3, 3, 0, 0), at(3, 4, 0, 0), 6 * time.Hour},
		{"overnight shift whole", CalendarSpec{Week: Week{time.Monday: {Hours(At(22, 0), At(6, 0))}}}, at(3, 2, 0, 0), at(3, 4, 0, 0), 8 * time.Hour},
		{"overnight shift to 24:00", CalendarSpec{Week: Week{time.Monday: {Hours(At(18, 0), EndOfDay)}}}, at(3, 2, 0, 0), at(3, 4, 0, 0), 6 * time.Hour},
		{"holiday closes its overnight shift", CalendarSpec{Week: Week{time.Monday: {Hours(At(22, 0), At(6, 0))}}, Holidays: []Holiday{{Date: Date{2026, 3, 2}}}}, at(3, 2, 0, 0), at(3, 4, 0, 0), 0},
		{"holiday the next day keeps it", CalendarSpec{Week: Week{time.Monday: {Hours(At(22, 0), At(6, 0))}}, Holidays: []Holiday{{Date: Date{2026, 3, 3}}}}, at(3, 2, 0, 0), at(3, 4, 0, 0), 8 * time.Hour},
		{"partial holiday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 12, 24}, Closed: []Span{Hours(At(13, 0), EndOfDay)}}}}, at(12, 24, 0, 0), at(12, 25, 0, 0), 4 * time.Hour},
		// 2026-07-04 is a Saturday: observed Friday 07-03 (nearest) or Monday 07-06 (next).
		{"saturday holiday observed friday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: time.July, Day: 4}, Observed: ObserveNearestWeekday}}}, at(6, 29, 0, 0), at(7, 11, 0, 0), 9 * 8 * time.Hour},
		{"saturday holiday observed friday is that friday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: time.July, Day: 4}, Observed: ObserveNearestWeekday}}}, at(7, 3, 0, 0), at(7, 4, 0, 0), 0},
		{"saturday holiday observed monday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: time.July, Day: 4}, Observed: ObserveNextWeekday}}}, at(7, 6, 0, 0), at(7, 7, 0, 0), 0},
		{"saturday holiday not observed", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Yearly: &YearlyRule{Month: time.July, Day: 4}}}}, at(6, 29, 0, 0), at(7, 11, 0, 0), 10 * 8 * time.Hour},
		// 2026-03-08 is a Sunday: observed Monday 03-09.
		{"sunday holiday observed monday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 3, 8}, Observed: ObserveNearestWeekday}}}, at(3, 9, 0, 0), at(3, 10, 0, 0), 0},
		{"exception adds saturday hours", CalendarSpec{Week: nineToFive(), Exceptions: []Exception{{Date: Date{2026, 3, 7}, Hours: []Span{Hours(At(10, 0), At(14, 0))}}}}, at(3, 7, 0, 0), at(3, 8, 0, 0), 4 * time.Hour},
		{"exception closes a day", CalendarSpec{Week: nineToFive(), Exceptions: []Exception{{Date: Date{2026, 3, 4}}}}, at(3, 2, 0, 0), at(3, 9, 0, 0), 32 * time.Hour},
		{"exception beats holiday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 3, 4}}}, Exceptions: []Exception{{Date: Date{2026, 3, 4}, Hours: []Span{Hours(At(9, 0), At(11, 0))}}}}, at(3, 4, 0, 0), at(3, 5, 0, 0), 2 * time.Hour},
		{"exception beats partial holiday", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 3, 4}, Closed: []Span{Hours(At(12, 0), At(13, 0))}}}, Exceptions: []Exception{{Date: Date{2026, 3, 4}, Hours: []Span{Hours(At(8, 0), At(20, 0))}}}}, at(3, 4, 0, 0), at(3, 5, 0, 0), 12 * time.Hour},
		{"excepted holiday's overnight closure cuts nothing the next day", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 3, 3}, Closed: []Span{Hours(At(20, 0), At(10, 0))}}}, Exceptions: []Exception{{Date: Date{2026, 3, 3}, Hours: []Span{Hours(At(9, 0), At(17, 0))}}}}, at(3, 4, 0, 0), at(3, 5, 0, 0), 8 * time.Hour},
		{"partial holiday's overnight closure cuts the next day", CalendarSpec{Week: nineToFive(), Holidays: []Holiday{{Date: Date{2026, 3, 3}, Closed: []Span{Hours(At(20, 0), At(10, 0))}}}}, at(3, 4, 0, 0), at(3, 5, 0, 0), 7 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Zone = ny
			if tc.spec.Week.empty() {
				tc.spec.Week = nineToFive()
			}
			s := mustSchedule(t, tc.spec)
			got := s.Between(tc.from, tc.to)
			assert.Equal(t, tc.want, got)
			ref := newRef(tc.spec)
			assert.Equal(t, ref.Between(tc.from, tc.to), got, "reference")
		})
	}
}

func TestNextTransition(t *testing.T) {
	loc := mustZone(t, ny)
	s := mustSchedule(t, CalendarSpec{Zone: ny, Week: Weekdays(Hours(At(9, 0), At(12, 0)), Hours(At(13, 0), At(17, 0))),
		Holidays: []Holiday{{Date: Date{2026, 3, 9}}}})
	tests := []struct {
		name string
		from time.Time
		want time.Time
	}{
		{"morning to lunch", time.Date(2026, 3, 6, 10, 0, 0, 0, loc), time.Date(2026, 3, 6, 12, 0, 0, 0, loc)},
		{"lunch to afternoon", time.Date(2026, 3, 6, 12, 0, 0, 0, loc), time.Date(2026, 3, 6, 13, 0, 0, 0, loc)},
		{"friday evening skips weekend and holiday", time.Date(2026, 3, 6, 17, 0, 0, 0, loc), time.Date(2026, 3, 10, 9, 0, 0, 0, loc)},
		{"before the horizon", time.Date(1969, 12, 31, 0, 0, 0, 0, loc), time.Date(1970, 1, 1, 9, 0, 0, 0, loc)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.NextTransition(tc.from)
			require.True(t, ok)
			assert.Equal(t, tc.want.UTC(), got)
		})
	}
	t.Run("last transition is the last close", func(t *testing.T) {
		got, ok := s.NextTransition(time.Date(2199, 12, 31, 14, 0, 0, 0, loc))
		require.True(t, ok)
		assert.Equal(t, time.Date(2199, 12, 31, 17, 0, 0, 0, loc).UTC(), got)
		_, ok = s.NextTransition(got)
		assert.False(t, ok)
	})
}

func TestUnionAndIntersection(t *testing.T) {
	loc := mustZone(t, ny)
	customer := mustSchedule(t, CalendarSpec{Zone: ny, Week: Weekdays(Hours(At(8, 0), At(18, 0))), Holidays: []Holiday{{Date: Date{2026, 3, 4}}}})
	team := mustSchedule(t, CalendarSpec{Zone: ny, Week: Weekdays(Hours(At(9, 0), At(17, 0))), Exceptions: []Exception{{Date: Date{2026, 3, 7}, Hours: []Span{Hours(At(9, 0), At(13, 0))}}}})
	london := mustSchedule(t, CalendarSpec{Zone: "Europe/London", Week: Weekdays(Hours(At(9, 0), At(17, 0)))})
	week := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, loc) }
	tests := []struct {
		name    string
		build   func() (*Schedule, error)
		want    time.Duration
		compile bool
	}{
		{"intersection same zone", func() (*Schedule, error) { return Intersection(customer, team) }, 4 * 8 * time.Hour, true},
		{"union same zone", func() (*Schedule, error) { return Union(customer, team) }, 4*10*time.Hour + 8*time.Hour + 4*time.Hour, true},
		// London 09:00-17:00 is New York 04:00-12:00 in the first week of
		// March 2026.
		{"intersection across zones", func() (*Schedule, error) { return Intersection(london, team) }, 5 * 3 * time.Hour, false},
		{"union across zones", func() (*Schedule, error) { return Union(london, team) }, 5*13*time.Hour + 4*time.Hour, false},
		{"intersection with 24×7", func() (*Schedule, error) { return Intersection(team, Always(loc)) }, 5*8*time.Hour + 4*time.Hour, true},
		{"union with 24×7", func() (*Schedule, error) { return Union(team, Always(loc)) }, 7*24*time.Hour - time.Hour, false}, // 2026-03-08 has 23 h
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.build()
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Between(week(2), week(9)))
			assert.Equal(t, tc.compile, s.wk != nil, "compiled into one table")
			ref := newRef(s.Spec())
			if s.Spec().Parts[1].Kind != CalendarAlways {
				assert.Equal(t, ref.Between(week(2), week(9)), s.Between(week(2), week(9)), "reference")
			}
			end, err := s.Add(week(2), tc.want)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Between(week(2), end))
		})
	}
	t.Run("nil part", func(t *testing.T) {
		_, err := Union(team, nil)
		assert.ErrorIs(t, err, itsm.ErrInvalid)
	})
	t.Run("parts that share no working time", func(t *testing.T) {
		mornings := func(zone string) *Schedule {
			return mustSchedule(t, CalendarSpec{Zone: zone, Week: Weekdays(Hours(At(9, 0), At(12, 0)))})
		}
		monday := mustSchedule(t, CalendarSpec{Zone: ny, Week: Week{time.Monday: {Hours(At(9, 0), At(12, 0))}}})
		tuesday := mustSchedule(t, CalendarSpec{Zone: ny, Week: Week{time.Tuesday: {Hours(At(9, 0), At(12, 0))}}})
		for name, parts := range map[string][]*Schedule{
			"one zone": {monday, tuesday},
			// 09:00-12:00 in Tokyo is 00:00-03:00 UTC, all year round.
			"across zones": {mornings("UTC"), mornings("Asia/Tokyo")},
		} {
			_, err := Intersection(parts...)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve, name)
			assert.True(t, ve.Has("parts"), "%s: %v", name, err)
		}
	})
	t.Run("parts that meet only while their DST rules disagree", func(t *testing.T) {
		// London 09:00-10:00 is New York 04:00-05:00, except in the weeks
		// when New York has moved its clocks and London has not yet (8 to
		// 29 March 2026), when it is 05:00-06:00: the calendar works then,
		// and only then.
		ldn := mustSchedule(t, CalendarSpec{Zone: "Europe/London", Week: Weekdays(Hours(At(9, 0), At(10, 0)))})
		nyc := mustSchedule(t, CalendarSpec{Zone: ny, Week: Weekdays(Hours(At(5, 0), At(6, 0)))})
		s, err := Intersection(ldn, nyc)
		require.NoError(t, err)
		assert.Equal(t, time.Duration(0), s.Between(week(2), week(9)))
		assert.Equal(t, 5*time.Hour, s.Between(week(9), week(16)))
	})
}

func TestScheduleAccessors(t *testing.T) {
	s := mustSchedule(t, CalendarSpec{Name: "desk", Zone: ny, Week: nineToFive()})
	assert.Equal(t, ny, s.Location().String())
	assert.Equal(t, `weekly "desk" America/New_York`, s.String())
	spec := s.Spec()
	spec.Week[time.Monday][0].Start = At(1, 0)
	assert.Equal(t, At(9, 0), s.Spec().Week[time.Monday][0].Start, "Spec returns a copy")
	assert.Equal(t, time.UTC, Always(nil).Location())
	assert.Equal(t, 8*time.Hour, Hours(At(22, 0), At(6, 0)).Length())
	assert.True(t, Hours(At(22, 0), At(6, 0)).Overnight())
	assert.False(t, Hours(At(22, 0), EndOfDay).Overnight())
}
