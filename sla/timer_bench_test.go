package sla

import (
	"maps"
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// tmBenchCase is one observation fed to a record's nine live timers.
type tmBenchCase struct {
	name string
	e    *Engine
	st   State
	obs  Observation
}

// tmBenchCases returns the cases of BenchmarkTimerObserve: three
// agreements with three targets each, so nine timers, on the 24×7 calendar
// and on the test weekday calendar (a slow day-by-day reference, so that
// figure is an upper bound for real calendars), and three kinds of change.
func tmBenchCases(b *testing.B) []tmBenchCase {
	var out []tmBenchCase
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
			out = append(out, tmBenchCase{"cal=" + cal + "/" + step.name, e, st, step.obs})
		}
	}
	return out
}

// BenchmarkTimerObserve measures feeding one observation (a command on an
// incident) into a record's set of live timers.
func BenchmarkTimerObserve(b *testing.B) {
	for _, c := range tmBenchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.e.Observe(c.st, c.obs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTimerObserveInPlace measures the cases of BenchmarkTimerObserve
// through ObserveInPlace. Each round first restores the working state from
// the pristine one without allocating: its timers are copied into a slice
// kept across rounds (their marks, segments and changes, all empty here,
// stay shared with the pristine state's, so appends allocate anew and
// nothing is written into the pristine state), and its Previous map is
// refilled. That copy, some 4 KB, is counted in the figure.
func BenchmarkTimerObserveInPlace(b *testing.B) {
	for _, c := range tmBenchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			work := c.st
			work.Timers = make([]Timer, 0, len(c.st.Timers)+4)
			work.Previous = make(map[string]string, len(c.st.Previous))
			b.ReportAllocs()
			for b.Loop() {
				work.AsOf, work.Observed = c.st.AsOf, c.st.Observed
				work.Timers = append(work.Timers[:0], c.st.Timers...)
				clear(work.Previous)
				maps.Copy(work.Previous, c.st.Previous)
				if _, err := c.e.ObserveInPlace(&work, c.obs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
