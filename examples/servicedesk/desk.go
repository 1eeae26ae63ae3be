package main

import (
	"time"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// deskCalendar is the desk's working time: Monday to Friday 08:00–18:00 in
// London, closed on England's bank holidays.
func deskCalendar() (*sla.Schedule, error) {
	yearly := func(name string, r sla.YearlyRule, obs sla.Observance) sla.Holiday {
		return sla.Holiday{Name: name, Yearly: &r, Observed: obs}
	}
	return sla.NewSchedule(sla.CalendarSpec{
		Name: "London service desk",
		Zone: "Europe/London",
		Week: sla.Weekdays(sla.Hours(sla.At(8, 0), sla.At(18, 0))),
		Holidays: []sla.Holiday{
			yearly("New Year's Day", sla.YearlyRule{Month: time.January, Day: 1}, sla.ObserveNextWeekday),
			yearly("Good Friday", sla.YearlyRule{Easter: true, Offset: -2}, sla.ObserveActual),
			yearly("Easter Monday", sla.YearlyRule{Easter: true, Offset: 1}, sla.ObserveActual),
			yearly("Early May bank holiday", sla.YearlyRule{Month: time.May, Weekday: time.Monday, Nth: 1}, sla.ObserveActual),
			yearly("Spring bank holiday", sla.YearlyRule{Month: time.May, Weekday: time.Monday, Nth: -1}, sla.ObserveActual),
			yearly("Summer bank holiday", sla.YearlyRule{Month: time.August, Weekday: time.Monday, Nth: -1}, sla.ObserveActual),
			yearly("Christmas Day", sla.YearlyRule{Month: time.December, Day: 25}, sla.ObserveNextWeekday),
			yearly("Boxing Day", sla.YearlyRule{Month: time.December, Day: 26}, sla.ObserveNextWeekday),
		},
	})
}

// deskAgreement is the desk's SLA: a response and a resolution target per
// priority, in business time on the desk calendar. Response runs until the
// incident records its first response (fields.responded: work starts, or
// the caller is written to), or is resolved; a hold alone, such as one
// cascaded from a parent, is no response. Resolution pauses while the
// incident waits and resumes its cycle when an incident is reopened.
func deskAgreement() sla.Agreement {
	byPriority := func(within ...time.Duration) []sla.Goal {
		goals := make([]sla.Goal, len(within))
		for i, w := range within {
			p := itsm.Priority(i + 1)
			goals[i] = sla.Goal{Name: "P" + p.String(), When: sla.PriorityIn(p), Within: w}
		}
		return goals
	}
	return sla.Agreement{
		ID: "standard", Version: 1, Kind: itsm.AgreementSLA, Name: "Standard support", Calendar: "desk",
		Targets: []sla.Target{
			{
				Metric: "response",
				Stop: sla.AnyOf(
					sla.FieldIs("fields.responded", "true"),
					sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
				),
				Cancel: sla.StateIn(itsm.CategoryCanceled),
				Goals:  byPriority(15*time.Minute, 30*time.Minute, 2*time.Hour, 4*time.Hour, 8*time.Hour),
			},
			{
				Metric: "resolution",
				Pause:  sla.StateIn(itsm.CategoryWaiting),
				Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
				Cancel: sla.StateIn(itsm.CategoryCanceled),
				Reopen: sla.ReopenResume,
				Goals:  byPriority(4*time.Hour, 8*time.Hour, 24*time.Hour, 40*time.Hour, 80*time.Hour),
			},
		},
	}
}
