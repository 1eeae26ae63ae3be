package bench

import (
	"testing"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/us"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/sla"
)

const zone = "America/New_York"

// usFederal is the United States federal holiday set with the OPM weekend
// rule (Saturday observed Friday, Sunday observed Monday), the same set as
// rickar's us.Holidays.
func usFederal() []sla.Holiday {
	y := func(name string, r sla.YearlyRule, obs sla.Observance) sla.Holiday {
		return sla.Holiday{Name: name, Yearly: &r, Observed: obs}
	}
	near := sla.ObserveNearestWeekday
	return []sla.Holiday{
		y("New Year's Day", sla.YearlyRule{Month: time.January, Day: 1}, near),
		y("Martin Luther King Jr. Day", sla.YearlyRule{Month: time.January, Weekday: time.Monday, Nth: 3}, ""),
		y("Presidents' Day", sla.YearlyRule{Month: time.February, Weekday: time.Monday, Nth: 3}, ""),
		y("Memorial Day", sla.YearlyRule{Month: time.May, Weekday: time.Monday, Nth: -1}, ""),
		y("Juneteenth", sla.YearlyRule{Month: time.June, Day: 19, FirstYear: 2021}, near),
		y("Independence Day", sla.YearlyRule{Month: time.July, Day: 4}, near),
		y("Labor Day", sla.YearlyRule{Month: time.September, Weekday: time.Monday, Nth: 1}, ""),
		y("Columbus Day", sla.YearlyRule{Month: time.October, Weekday: time.Monday, Nth: 2}, ""),
		y("Veterans Day", sla.YearlyRule{Month: time.November, Day: 11}, near),
		y("Thanksgiving Day", sla.YearlyRule{Month: time.November, Weekday: time.Thursday, Nth: 4}, ""),
		y("Christmas Day", sla.YearlyRule{Month: time.December, Day: 25}, near),
	}
}

// itsmkitCalendar is Monday-Friday 09:00-17:00 in New York with US federal
// holidays.
func itsmkitCalendar(tb testing.TB) *sla.Schedule {
	tb.Helper()
	s, err := sla.NewSchedule(sla.CalendarSpec{
		Zone:     zone,
		Week:     sla.Weekdays(sla.Hours(sla.At(9, 0), sla.At(17, 0))),
		Holidays: usFederal(),
	})
	require.NoError(tb, err)
	return s
}

// rickarCalendar is the same calendar in rickar/cal (its default work week
// and hours), with its holiday cache on, its fastest mode.
func rickarCalendar() *cal.BusinessCalendar {
	c := cal.NewBusinessCalendar()
	c.AddHoliday(us.Holidays...)
	c.Cacheable = true
	return c
}

func newYork(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(zone)
	require.NoError(tb, err)
	return loc
}
