package sla_test

import (
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/sla"
)

// Business hours arithmetic: a service desk open Monday to Friday,
// 09:00-12:00 and 13:00-17:00 in New York, closed on Independence Day
// (observed on the nearest weekday). An 8-hour resolution target for a
// ticket raised on Thursday afternoon lands on the Monday after the long
// weekend; a ticket raised at night starts counting at the next opening.
func Example_businessHours() {
	desk, err := sla.NewSchedule(sla.CalendarSpec{
		Name: "service desk",
		Zone: "America/New_York",
		Week: sla.Weekdays(
			sla.Hours(sla.At(9, 0), sla.At(12, 0)),
			sla.Hours(sla.At(13, 0), sla.At(17, 0)),
		),
		Holidays: []sla.Holiday{{
			Name:     "Independence Day",
			Yearly:   &sla.YearlyRule{Month: time.July, Day: 4},
			Observed: sla.ObserveNearestWeekday,
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ny := desk.Location()
	show := func(t time.Time) string { return t.In(ny).Format("Mon Jan 2 15:04") }

	raised := time.Date(2026, time.July, 2, 15, 0, 0, 0, ny) // Thursday
	due, _ := desk.Add(raised, 8*time.Hour)
	fmt.Println("raised:", show(raised))
	fmt.Println("due:   ", show(due))
	fmt.Println("business time until due:", desk.Between(raised, due))

	night := time.Date(2026, time.July, 6, 22, 30, 0, 0, ny)
	starts, _ := desk.Add(night, 0)
	fmt.Println("raised at night, counts from:", show(starts))

	closes, _ := desk.NextTransition(starts)
	fmt.Println("next change:", show(closes))
	// Output:
	// raised: Thu Jul 2 15:00
	// due:    Mon Jul 6 16:00
	// business time until due: 8h0m0s
	// raised at night, counts from: Tue Jul 7 09:00
	// next change: Tue Jul 7 12:00
}
