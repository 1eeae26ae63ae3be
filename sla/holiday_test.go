package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// usFederal is the United States federal holiday set (5 U.S.C. 6103), with
// the OPM rule for weekends: Saturday is observed Friday, Sunday Monday.
func usFederal() []Holiday {
	y := func(name string, r YearlyRule) Holiday {
		return Holiday{Name: name, Yearly: &r, Observed: ObserveNearestWeekday}
	}
	return []Holiday{
		y("New Year's Day", YearlyRule{Month: time.January, Day: 1}),
		y("Birthday of Martin Luther King, Jr.", YearlyRule{Month: time.January, Weekday: time.Monday, Nth: 3}),
		y("Washington's Birthday", YearlyRule{Month: time.February, Weekday: time.Monday, Nth: 3}),
		y("Memorial Day", YearlyRule{Month: time.May, Weekday: time.Monday, Nth: -1}),
		y("Juneteenth", YearlyRule{Month: time.June, Day: 19, FirstYear: 2021}),
		y("Independence Day", YearlyRule{Month: time.July, Day: 4}),
		y("Labor Day", YearlyRule{Month: time.September, Weekday: time.Monday, Nth: 1}),
		y("Columbus Day", YearlyRule{Month: time.October, Weekday: time.Monday, Nth: 2}),
		y("Veterans Day", YearlyRule{Month: time.November, Day: 11}),
		y("Thanksgiving Day", YearlyRule{Month: time.November, Weekday: time.Thursday, Nth: 4}),
		y("Christmas Day", YearlyRule{Month: time.December, Day: 25}),
	}
}

func TestHolidayObservedIn(t *testing.T) {
	fed := usFederal()
	tests := []struct {
		name    string
		holiday Holiday
		year    int
		want    []Date
	}{
		{"mlk 2026", fed[1], 2026, []Date{{2026, 1, 19}}},
		{"memorial day 2026 last monday", fed[3], 2026, []Date{{2026, 5, 25}}},
		{"juneteenth before it existed", fed[4], 2020, nil},
		{"juneteenth 2027 saturday to friday", fed[4], 2027, []Date{{2027, 6, 18}}},
		{"independence day 2026 saturday to friday", fed[5], 2026, []Date{{2026, 7, 3}}},
		{"independence day 2027 sunday to monday", fed[5], 2027, []Date{{2027, 7, 5}}},
		{"thanksgiving 2026", fed[9], 2026, []Date{{2026, 11, 26}}},
		{"christmas 2027 saturday to friday", fed[10], 2027, []Date{{2027, 12, 24}}},
		// 2028-01-01 is a Saturday: observed on 2027-12-31, so 2027 holds
		// two New Year's days and 2028 none.
		{"new year moved into the year before", fed[0], 2027, []Date{{2027, 1, 1}, {2027, 12, 31}}},
		{"new year moved out of its year", fed[0], 2028, nil},
		{"next weekday rule", Holiday{Yearly: &YearlyRule{Month: time.December, Day: 26}, Observed: ObserveNextWeekday}, 2026, []Date{{2026, 12, 28}}},
		{"good friday 2026", Holiday{Yearly: &YearlyRule{Easter: true, Offset: -2}}, 2026, []Date{{2026, 4, 3}}},
		{"easter monday 2025", Holiday{Yearly: &YearlyRule{Easter: true, Offset: 1}}, 2025, []Date{{2025, 4, 21}}},
		{"easter 2024", Holiday{Yearly: &YearlyRule{Easter: true}}, 2024, []Date{{2024, 3, 31}}},
		{"easter 2038 (latest)", Holiday{Yearly: &YearlyRule{Easter: true}}, 2038, []Date{{2038, 4, 25}}},
		{"february 29 in a common year", Holiday{Yearly: &YearlyRule{Month: time.February, Day: 29}}, 2026, nil},
		{"february 29 in a leap year", Holiday{Yearly: &YearlyRule{Month: time.February, Day: 29}}, 2028, []Date{{2028, 2, 29}}},
		{"fifth monday missing", Holiday{Yearly: &YearlyRule{Month: time.February, Weekday: time.Monday, Nth: 5}}, 2026, nil},
		{"day after thanksgiving", Holiday{Yearly: &YearlyRule{Month: time.November, Weekday: time.Thursday, Nth: 4, Offset: 1}}, 2026, []Date{{2026, 11, 27}}},
		{"one-off", Holiday{Date: Date{2026, 8, 31}}, 2026, []Date{{2026, 8, 31}}},
		{"one-off other year", Holiday{Date: Date{2026, 8, 31}}, 2027, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.holiday.ObservedIn(tc.year))
		})
	}
}

func TestCivilDays(t *testing.T) {
	for _, tc := range []struct {
		name string
		date Date
	}{
		{"epoch", Date{1970, 1, 1}}, {"before epoch", Date{1969, 12, 29}}, {"leap day", Date{2000, 2, 29}},
		{"far", Date{2199, 12, 31}}, {"old", Date{1601, 3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := time.Date(tc.date.Year, tc.date.Month, tc.date.Day, 0, 0, 0, 0, time.UTC)
			days := tc.date.days()
			assert.Equal(t, tm.Unix()/secondsPerDay, days)
			assert.Equal(t, tc.date, civilFromDays(days))
			assert.Equal(t, tm.Weekday(), tc.date.Weekday())
			assert.True(t, tc.date.Valid())
		})
	}
	assert.False(t, Date{2026, 2, 29}.Valid())
	assert.Equal(t, Date{2026, 3, 8}, DateOf(time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC), time.UTC))
}
