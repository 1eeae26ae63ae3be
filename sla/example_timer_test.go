package sla_test

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// A resolution timer paused while awaiting the caller: the time spent
// waiting is accrued as pause, the breach instant moves by it, and the
// explanation shows which stretches counted.
func Example_resolutionTimerPausedAwaitingCaller() {
	desk := sla.Agreement{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA, Name: "Service desk",
		Targets: []sla.Target{{
			Metric: "resolution",
			Pause:  sla.StateIn(itsm.CategoryWaiting),
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals: []sla.Goal{
				{Name: "p1", When: sla.PriorityIn(1), Within: 4 * time.Hour},
				{Name: "p2", When: sla.PriorityIn(2), Within: 8 * time.Hour},
			},
		}},
	}
	engine, err := sla.NewEngine([]sla.Agreement{desk}, nil) // 24×7: no calendars needed
	if err != nil {
		panic(err)
	}
	at := func(h, m int) time.Time { return time.Date(2025, 3, 3, h, m, 0, 0, time.UTC) }
	st := sla.State{Record: itsm.Ref{Kind: "incident", ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}}
	observe := func(o sla.Observation) {
		var evs []sla.Event
		if st, evs, err = engine.Observe(st, o); err != nil {
			panic(err)
		}
		for _, ev := range evs {
			if ev.Kind == sla.EventThreshold {
				fmt.Printf("%s %s %s%%\n", ev.At.Format("15:04"), ev.Kind, ev.Threshold)
				continue
			}
			fmt.Printf("%s %s\n", ev.At.Format("15:04"), ev.Kind)
		}
	}

	observe(sla.Observation{At: at(9, 0), Priority: 2, State: itsm.CategoryActive})
	observe(sla.Observation{At: at(12, 0), Priority: 2, State: itsm.CategoryWaiting}) // awaiting the caller

	timer, _ := st.Find("desk", "resolution")
	due, _ := engine.DueIfResumed(timer, at(14, 0))
	fmt.Println("while paused, breach if resumed at 14:00:", due.Format("15:04"))

	observe(sla.Observation{At: at(15, 0), Priority: 2, State: itsm.CategoryActive}) // the caller replied
	timer, _ = st.Find("desk", "resolution")
	fmt.Println("due:", timer.DueAt.Format("15:04"))

	observe(sla.Observation{At: at(18, 30), Priority: 2, State: itsm.CategoryResolved})
	timer, _ = st.Find("desk", "resolution")
	fmt.Printf("%s, breached %v: elapsed %s (%s%%), paused %s\n",
		timer.Stage, timer.Breached, timer.BusinessElapsed, timer.Percent(), timer.BusinessPaused)
	x, _ := engine.Explain(timer)
	fmt.Print(x)

	// Output:
	// 09:00 attached
	// 12:00 paused
	// while paused, breach if resumed at 14:00: 19:00
	// 15:00 resumed
	// due: 20:00
	// 16:00 threshold 50%
	// 18:00 threshold 75%
	// 18:30 completed
	// completed, breached false: elapsed 6h30m0s (81.25%), paused 3h0m0s
	// counted   2025-03-03 09:00 → 2025-03-03 12:00  3h0m0s
	// paused    2025-03-03 12:00 → 2025-03-03 15:00  3h0m0s
	// counted   2025-03-03 15:00 → 2025-03-03 18:30  3h30m0s
}

// A host that loads a record's state into memory of its own (decoded from
// storage, or cloned) can advance it in place, sparing the copy Observe
// makes. A rejected observation leaves the state as it was.
func ExampleEngine_ObserveInPlace() {
	engine, err := sla.NewEngine([]sla.Agreement{{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{{
			Metric: "resolution",
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals:  []sla.Goal{{Name: "all", Within: 4 * time.Hour}},
		}},
	}}, nil)
	if err != nil {
		panic(err)
	}
	at := func(h, m int) time.Time { return time.Date(2025, 3, 3, h, m, 0, 0, time.UTC) }
	st := sla.State{Record: itsm.Ref{Kind: "incident", ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}}
	for _, o := range []sla.Observation{
		{At: at(9, 0), Priority: 2, State: itsm.CategoryActive},
		{At: at(8, 0), Priority: 2, State: itsm.CategoryActive}, // before the last: rejected
		{At: at(12, 30), Priority: 2, State: itsm.CategoryResolved},
	} {
		evs, err := engine.ObserveInPlace(&st, o)
		if err != nil {
			fmt.Println("rejected; state still as of", st.AsOf.Format("15:04"))
			continue
		}
		for _, ev := range evs {
			fmt.Println(ev.At.Format("15:04"), ev.Kind, ev.Threshold)
		}
	}
	timer, _ := st.Find("desk", "resolution")
	fmt.Println(timer.Stage, timer.BusinessElapsed)

	// Output:
	// 09:00 attached 0
	// rejected; state still as of 09:00
	// 11:00 threshold 50
	// 12:00 threshold 75
	// 12:30 completed 0
	// completed 3h30m0s
}

// A host's scheduler advances a state it owns at State.NextEventAt.
func ExampleEngine_AdvanceInPlace() {
	engine, err := sla.NewEngine([]sla.Agreement{{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{{Metric: "response", Goals: []sla.Goal{{Name: "all", Within: time.Hour}}}},
	}}, nil)
	if err != nil {
		panic(err)
	}
	st := sla.State{Record: itsm.Ref{Kind: "incident", ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}}
	opened := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	if _, err := engine.ObserveInPlace(&st, sla.Observation{At: opened, Priority: 3, State: itsm.CategoryNew}); err != nil {
		panic(err)
	}
	for {
		next, ok := st.NextEventAt(st.AsOf)
		if !ok {
			break
		}
		evs, err := engine.AdvanceInPlace(&st, next)
		if err != nil {
			panic(err)
		}
		for _, ev := range evs {
			fmt.Println(ev.At.Format("15:04"), ev.Kind, ev.Threshold)
		}
	}
	// Output:
	// 09:30 threshold 50
	// 09:45 threshold 75
	// 10:00 threshold 100
	// 10:00 breached 0
}

// ExampleEngine_ReadsField shows a host building only the fields the
// engine's conditions read.
func ExampleEngine_ReadsField() {
	e, err := sla.NewEngine([]sla.Agreement{{
		ID: "vip", Version: 1, Kind: itsm.AgreementSLA,
		Scope: sla.FieldIs("fields.segment", "vip"),
		Targets: []sla.Target{{
			Metric: "response", Stop: sla.StateIn(itsm.CategoryResolved),
			Goals: []sla.Goal{{Name: "all", Within: time.Hour}},
		}},
	}}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.ReadsField("segment"), e.ReadsField("assignee"))
	// Output: true false
}
