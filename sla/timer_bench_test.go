package sla

import (
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// BenchmarkTimerObserve measures feeding one observation (a command on an
// incident) into a record's set of live timers: three agreements with three
// targets each, so nine timers, on the 24×7 calendar and on the test
// weekday calendar (a slow day-by-day reference, so that figure is an upper
// bound for real calendars).
func BenchmarkTimerObserve(b *testing.B) {
	for _, cal := range []string{Always24x7, "office"} {
		var as []Agreement
		for _, id := range []string{"customer", "network-team", "carrier"} {
			as = append(as, Agreement{ID: id, Version: 1, Kind: itsm.AgreementOLA, Calendar: cal,
				Targets: []Target{tmResponse(), tmResolution(), {
					Metric: "update", Stop: tmDone, Reset: FieldChanged("fields.updates"), Reopen: ReopenNewCycle,
					Goals: []Goal{{Name: "all", Within: 2 * time.Hour}},
				}}})
		}
		e, err := NewEngine(as, CalendarMap{"office": testWeekdayCal{}})
		if err != nil {
			b.Fatal(err)
		}
		start := Observation{At: tmDay(3, 9, 0), Priority: 2, State: itsm.CategoryActive, Fields: map[string]string{"updates": "0"}}
		st, _, err := e.Observe(State{Record: tmRecord}, start)
		if err != nil {
			b.Fatal(err)
		}
		for _, step := range []struct {
			name string
			obs  Observation
		}{
			{"change=field", tmWith(start, func(o *Observation) {
				o.At = tmDay(3, 10, 0)
				o.Fields = map[string]string{"updates": "0", "note": "x"}
			})},
			{"change=pause", tmWith(start, func(o *Observation) { o.At = tmDay(3, 10, 0); o.State = itsm.CategoryWaiting })},
			{"change=priority", tmWith(start, func(o *Observation) { o.At = tmDay(3, 10, 0); o.Priority = 1 })},
		} {
			b.Run("cal="+cal+"/"+step.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := e.Observe(st, step.obs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
