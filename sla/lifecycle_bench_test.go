package sla

import (
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// lcAgreement is the service desk's agreement of incident's benchmarks
// (deskAgreement there): a response and a resolution target, the latter
// paused while waiting, on 24×7 time.
func lcAgreement() Agreement {
	return Agreement{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA, Name: "Service desk",
		Targets: []Target{
			{
				Metric: "response",
				Stop:   StateIn(itsm.CategoryActive, itsm.CategoryWaiting, itsm.CategoryResolved, itsm.CategoryClosed),
				Cancel: StateIn(itsm.CategoryCanceled),
				Goals:  []Goal{{Name: "all", Within: time.Hour}},
			},
			{
				Metric: "resolution",
				Pause:  StateIn(itsm.CategoryWaiting),
				Stop:   StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
				Cancel: StateIn(itsm.CategoryCanceled),
				Goals: []Goal{
					{Name: "p1", When: PriorityIn(1), Within: 4 * time.Hour},
					{Name: "other", When: PriorityIn(2, 3, 4, 5), Within: 8 * time.Hour},
				},
			},
		},
	}
}

// lcObservations returns the six observations of an incident's life
// (open, assign, hold, resume, resolve, close) a minute apart.
func lcObservations() []Observation {
	at := tmDay(3, 9, 0)
	var out []Observation
	for i, c := range []itsm.Category{itsm.CategoryNew, itsm.CategoryActive, itsm.CategoryWaiting,
		itsm.CategoryActive, itsm.CategoryResolved, itsm.CategoryClosed} {
		out = append(out, Observation{At: at.Add(time.Duration(i) * time.Minute), Opened: at, Priority: 2, State: c})
	}
	return out
}

// BenchmarkObserveLifecycle replays an incident's six observations through
// ObserveInPlace on a fresh state, encoding every event with AppendJSON, as
// incident.Service does over a lifecycle: the SLA engine's share of
// BenchmarkIncidentLifecycle.
func BenchmarkObserveLifecycle(b *testing.B) { benchObserveLifecycle(b, false) }

// BenchmarkObserveLifecycleDetached is BenchmarkObserveLifecycle with the
// state detached (State.Detach) before every observation but the first, as
// incident.Service detaches the record a store lends it before each
// command: every timer's lists are clipped then, so an append to one
// reallocates it whatever room the previous command left.
func BenchmarkObserveLifecycleDetached(b *testing.B) { benchObserveLifecycle(b, true) }

func benchObserveLifecycle(b *testing.B, detach bool) {
	e, err := NewEngine([]Agreement{lcAgreement()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	obs := lcObservations()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		st := State{Record: tmRecord}
		buf = buf[:0]
		for i, o := range obs {
			if detach && i > 0 {
				st.Detach()
			}
			evs, err := e.ObserveInPlace(&st, o)
			if err != nil {
				b.Fatal(err)
			}
			for _, ev := range evs {
				if buf, err = ev.AppendJSON(buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// TestObserveLifecycleEvents pins what BenchmarkObserveLifecycle measures:
// the events of the six observations, in order.
func TestObserveLifecycleEvents(t *testing.T) {
	e, err := NewEngine([]Agreement{lcAgreement()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := State{Record: tmRecord}
	var got []string
	for _, o := range lcObservations() {
		evs, err := e.ObserveInPlace(&st, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			got = append(got, ev.Key)
		}
	}
	want := []string{
		"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/response/1/attached/1",
		"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/resolution/1/attached/1",
		"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/response/1/completed/2",
		"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/resolution/1/paused/2",
		"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/resolution/1/resumed/3",
		"incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/resolution/1/completed/4",
	}
	if len(got) != len(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %q, want %q", got, want)
		}
	}
}
