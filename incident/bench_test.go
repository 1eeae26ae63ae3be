package incident_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/itsmkit/itsmkit/incident"
)

// lifecycle runs open → assign → hold → resume → resolve → close through
// the service.
func lifecycle(b *testing.B, d *desk) {
	ctx := context.Background()
	res, err := d.svc.Open(ctx, tenant, agent, mailDown())
	if err != nil {
		b.Fatal(err)
	}
	id := res.Incident.ID()
	steps := []func() (incident.Result, error){
		func() (incident.Result, error) { return d.svc.Assign(ctx, tenant, id, agent, "", "ana", "") },
		func() (incident.Result, error) {
			return d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingVendor, "")
		},
		func() (incident.Result, error) { return d.svc.Resume(ctx, tenant, id, agent, "") },
		func() (incident.Result, error) {
			return d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay")
		},
		func() (incident.Result, error) { return d.svc.Close(ctx, tenant, id, agent, "") },
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			b.Fatal(err)
		}
	}
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

// TestHeapPerClosedIncident reports the heap a stored closed incident costs
// at 100,000 incidents (run with -run HeapPerClosed -v; skipped in -short).
func TestHeapPerClosedIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 incidents")
	}
	d := newDesk(t, false)
	b := &testing.B{}
	_ = b
	const n = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		res, err := d.svc.Open(ctx, tenant, agent, mailDown())
		if err != nil {
			t.Fatal(err)
		}
		id := res.Incident.ID()
		for _, step := range []func() error{
			func() error { _, err := d.svc.Assign(ctx, tenant, id, agent, "", "ana", ""); return err },
			func() error { _, err := d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingVendor, ""); return err },
			func() error { _, err := d.svc.Resume(ctx, tenant, id, agent, ""); return err },
			func() error {
				_, err := d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay")
				return err
			},
			func() error { _, err := d.svc.Close(ctx, tenant, id, agent, ""); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
	}
	drainOutbox(t, d)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("heap per stored closed incident: %.0f bytes (%d incidents)", per, n)
	if per > 3*1024 {
		t.Errorf("heap per stored closed incident is %.0f bytes, over the 3 KB budget", per)
	}
	runtime.KeepAlive(d)
}
