package sla_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// An event appends its JSON to a buffer the host reuses; json.Marshal
// writes the same bytes.
func ExampleEvent_AppendJSON() {
	ev := sla.Event{
		Key: "incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/resolution/1/threshold/75", Kind: sla.EventThreshold,
		At:        time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC),
		Record:    itsm.Ref{Kind: "incident", ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")},
		Agreement: "desk", Metric: "resolution", Cycle: 1, Goal: "all", Threshold: decimal.NewFromInt(75),
	}
	buf, err := ev.AppendJSON(make([]byte, 0, 512))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(buf))
	viaMarshal, _ := json.Marshal(ev)
	fmt.Println(string(viaMarshal) == string(buf))
	// Output:
	// {"key":"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/resolution/1/threshold/75","kind":"threshold","at":"2025-03-03T12:00:00Z","record":{"kind":"incident","id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},"agreement":"desk","metric":"resolution","cycle":1,"goal":"all","threshold":"75"}
	// true
}

// exampleState returns the state of a record whose response and resolution
// timers both completed.
func exampleState() sla.State {
	engine, err := sla.NewEngine([]sla.Agreement{{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{
			{Metric: "response", Stop: sla.StateIn(itsm.CategoryActive, itsm.CategoryResolved), Goals: []sla.Goal{{Name: "all", Within: time.Hour}}},
			{Metric: "resolution", Pause: sla.StateIn(itsm.CategoryWaiting), Stop: sla.StateIn(itsm.CategoryResolved),
				Goals: []sla.Goal{{Name: "all", Within: 8 * time.Hour}}},
		},
	}}, nil)
	if err != nil {
		panic(err)
	}
	st := sla.State{Record: itsm.Ref{Kind: "incident", ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}}
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, o := range []sla.Observation{
		{At: at, Priority: 2, State: itsm.CategoryNew},
		{At: at.Add(10 * time.Minute), Priority: 2, State: itsm.CategoryActive},
		{At: at.Add(time.Hour), Priority: 2, State: itsm.CategoryWaiting},
		{At: at.Add(3 * time.Hour), Priority: 2, State: itsm.CategoryActive},
		{At: at.Add(5 * time.Hour), Priority: 2, State: itsm.CategoryResolved},
	} {
		if _, err := engine.ObserveInPlace(&st, o); err != nil {
			panic(err)
		}
	}
	return st
}

// A state is stored in a compact binary form and read back equal.
func ExampleState_MarshalBinary() {
	st := exampleState()
	b, err := st.MarshalBinary()
	if err != nil {
		panic(err)
	}
	js, _ := json.Marshal(st)
	fmt.Printf("%d bytes (JSON: %d)\n", len(b), len(js))

	var back sla.State
	if err := back.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	timer, _ := back.Find("desk", "resolution")
	fmt.Println(timer.Stage, timer.BusinessElapsed, timer.BusinessPaused, len(timer.Segments))

	err = back.UnmarshalBinary(b[:len(b)/2])
	fmt.Println(err != nil)
	// Output:
	// 233 bytes (JSON: 1532)
	// completed 3h0m0s 2h0m0s 3
	// true
}

// AppendBinary appends to a buffer, for instance after a header of the
// host's own.
func ExampleState_AppendBinary() {
	st := exampleState()
	buf := []byte("SLA1")
	buf, err := st.AppendBinary(buf)
	if err != nil {
		panic(err)
	}
	var back sla.State
	if err := back.UnmarshalBinary(buf[4:]); err != nil {
		panic(err)
	}
	fmt.Println(string(buf[:4]), len(back.Timers))
	// Output:
	// SLA1 2
}
