package incident_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/itsmkit/itsmkit/incident"
)

// lifecycle runs open → assign → hold → resume → resolve → close through
// the service and returns the incident's ID.
func lifecycle(b testing.TB, d *desk) incident.ID {
	ctx := context.Background()
	res, err := d.svc.Open(ctx, tenant, agent, mailDown())
	if err != nil {
		b.Fatal(err)
	}
	id := res.Incident.ID()
	step := func(_ incident.Result, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	step(d.svc.Assign(ctx, tenant, id, agent, "", "ana", ""))
	step(d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingVendor, ""))
	step(d.svc.Resume(ctx, tenant, id, agent, ""))
	step(d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay"))
	step(d.svc.Close(ctx, tenant, id, agent, ""))
	return id
}

// BenchmarkIncidentLifecycle measures one incident's whole life through the
// service on the memory store, with two SLA targets attached (response and
// resolution) and every event committed to the outbox.
func BenchmarkIncidentLifecycle(b *testing.B) {
	d := newDesk(b, false)
	b.ReportAllocs()
	for b.Loop() {
		lifecycle(b, d)
	}
}

// BenchmarkIncidentLifecycleDrained is BenchmarkIncidentLifecycle with a
// relay delivering the outbox every 100 lifecycles, as a desk runs (the
// plain benchmark keeps every event it emits in memory); the relay's Claim
// and Ack are part of the time.
func BenchmarkIncidentLifecycleDrained(b *testing.B) {
	d := newDesk(b, false)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		lifecycle(b, d)
		if n++; n%100 == 0 {
			drainOutbox(b, d)
		}
	}
}

// BenchmarkIncidentLifecycleWithoutSLA is BenchmarkIncidentLifecycle on a
// service without an SLA engine: no timers, no sla.* events. Against the
// plain benchmark it shows what the two targets cost.
func BenchmarkIncidentLifecycleWithoutSLA(b *testing.B) {
	d := newDesk(b, false, func(c *incident.Config) { c.SLA = nil })
	b.ReportAllocs()
	for b.Loop() {
		lifecycle(b, d)
	}
}

// BenchmarkIncidentLifecycleParallel runs lifecycles from all procs at once
// on one store.
func BenchmarkIncidentLifecycleParallel(b *testing.B) {
	d := newDesk(b, false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			lifecycle(b, d)
		}
	})
}

// BenchmarkHeapPerClosedIncident stores b.N closed incidents (at least
// 100,000), each having gone through open → assign → hold → resume →
// resolve → close with two SLA targets, drains the outbox, and reports the
// heap each one costs as "B/incident".
func BenchmarkHeapPerClosedIncident(b *testing.B) {
	n := max(b.N, 100_000)
	d := newDesk(b, false)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		lifecycle(b, d)
	}
	drainOutbox(b, d)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/incident")
	b.ReportMetric(0, "ns/op")
	runtime.KeepAlive(d)
}
