package incident_test

import (
	"context"
	"testing"

	"github.com/itsmkit/itsmkit/incident"
)

// closedRecord runs BenchmarkIncidentLifecycle's lifecycle once and returns
// the closed incident as the memory store encodes it: six history entries
// and two stopped SLA timers.
func closedRecord(tb testing.TB) incident.Data {
	tb.Helper()
	d := newDesk(tb, false)
	ctx := context.Background()
	id := lifecycle(tb, d)
	got, err := d.svc.Get(ctx, tenant, id)
	if err != nil {
		tb.Fatal(err)
	}
	return got.Data()
}

// BenchmarkDataAppendBinary measures the encoding the memory store writes
// when an incident closes, into a reused buffer as the store does, and the
// SLA state's part of it alone.
func BenchmarkDataAppendBinary(b *testing.B) {
	d := closedRecord(b)
	if len(d.SLA.Timers) != 2 {
		b.Fatalf("%d SLA timers, want 2", len(d.SLA.Timers))
	}
	buf := make([]byte, 0, 4096)
	b.Run("data", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := d.AppendBinary(buf[:0])
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
		}
	})
	b.Run("sla", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := d.SLA.AppendBinary(buf[:0])
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
		}
	})
}
