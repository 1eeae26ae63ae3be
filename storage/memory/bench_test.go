package memory_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// closed returns a closed incident with the six history entries of open →
// assign → hold → resume → resolve → close.
func closed(ids *itsmtest.IDs, n int64) incident.Data {
	u, _ := ids.NewUUID()
	var id incident.ID
	_ = id.UnmarshalText([]byte(u.String()))
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	by := itsm.ActorRef{ID: "agent-7", Name: "Ada Agent"}
	steps := []struct {
		cmd      string
		from, to incident.Status
	}{
		{"open", incident.StatusNew, incident.StatusNew},
		{"assign", incident.StatusNew, incident.StatusInProgress},
		{"hold", incident.StatusInProgress, incident.StatusOnHold},
		{"resume", incident.StatusOnHold, incident.StatusInProgress},
		{"resolve", incident.StatusInProgress, incident.StatusResolved},
		{"close", incident.StatusResolved, incident.StatusClosed},
	}
	history := make([]incident.Entry, len(steps))
	for i, s := range steps {
		history[i] = incident.Entry{Seq: i + 1, At: at.Add(time.Duration(i) * time.Minute), By: by, Command: s.cmd, From: s.from, To: s.to}
	}
	return incident.Data{
		ID: id, Tenant: "acme", Number: incident.FormatNumber("INC", n),
		Title: "VPN drops every ten minutes", Caller: "caller-42",
		Impact: 2, Urgency: 2, Priority: 3, Group: "network", Assignee: "bob",
		Status: incident.StatusClosed, OpenedAt: at, UpdatedAt: history[5].At,
		FirstResponseAt: history[1].At, ResolvedAt: history[4].At, ClosedAt: history[5].At,
		Resolution: incident.Resolution{Code: incident.ResolvedWorkaround, Notes: "Restarted the concentrator."},
		Major:      incident.Major{Status: incident.MajorNone},
		History:    history,
	}
}

// inProgress returns an incident being worked on: the first two entries of
// closed's history, which the store keeps decoded.
func inProgress(ids *itsmtest.IDs, n int64) incident.Data {
	d := closed(ids, n)
	d.History = d.History[:2:2]
	d.Status = incident.StatusInProgress
	d.UpdatedAt = d.History[1].At
	d.Resolution, d.ResolvedAt, d.ClosedAt = incident.Resolution{}, time.Time{}, time.Time{}
	return d
}

func filled(b *testing.B, n int) (*memory.Store, []incident.Data) {
	return filledWith(b, n, closed)
}

// filledWith is filled with the incidents build makes.
func filledWith(b *testing.B, n int, build func(*itsmtest.IDs, int64) incident.Data) (*memory.Store, []incident.Data) {
	b.Helper()
	s := memory.New()
	ids := itsmtest.NewIDs(1)
	all := make([]incident.Data, n)
	for i := range all {
		all[i] = build(ids, int64(i+1))
		if err := s.Incidents().Create(context.Background(), all[i]); err != nil {
			b.Fatal(err)
		}
		all[i].Version = 1
	}
	return s, all
}

func BenchmarkCreate(b *testing.B) {
	repo := memory.New().Incidents()
	ids := itsmtest.NewIDs(1)
	ctx := context.Background()
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		n++
		if err := repo.Create(ctx, closed(ids, n)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	s, all := filled(b, 10_000)
	benchGet(b, s, all)
}

// benchGet reads the incidents of all in turn.
func benchGet(b *testing.B, s *memory.Store, all []incident.Data) {
	repo := s.Incidents()
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := repo.Get(ctx, "acme", all[i%len(all)].ID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkUpdate(b *testing.B) {
	s, all := filled(b, 1)
	benchUpdate(b, s, all[0])
}

// benchUpdate saves d, stored at its version, again and again.
func benchUpdate(b *testing.B, s *memory.Store, d incident.Data) {
	repo := s.Incidents()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := repo.Update(ctx, d); err != nil {
			b.Fatal(err)
		}
		d.Version++
	}
}

// BenchmarkGetOpen reads incidents being worked on, which the store keeps
// decoded: a Get is a deep copy rather than a decode.
func BenchmarkGetOpen(b *testing.B) {
	s, all := filledWith(b, 1000, inProgress)
	benchGet(b, s, all)
}

// BenchmarkUpdateOpen updates an incident being worked on: a deep copy
// rather than an encoding.
func BenchmarkUpdateOpen(b *testing.B) {
	s, all := filledWith(b, 1, inProgress)
	benchUpdate(b, s, all[0])
}

func BenchmarkListPage100(b *testing.B) {
	s, all := filled(b, 10_000)
	repo := s.Incidents()
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		after := all[(i*100)%(len(all)-100)].ID
		page, err := repo.List(ctx, "acme", incident.Filter{Group: "network"}, incident.Page{After: after, Limit: 100})
		if err != nil || len(page.Items) != 100 {
			b.Fatal(err, len(page.Items))
		}
		i++
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s, all := filled(b, 10_000)
	repo := s.Incidents()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := 0
		for pb.Next() {
			if _, err := repo.Get(ctx, "acme", all[i%len(all)].ID); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkHeapPerClosedIncident reports the live heap per stored closed
// incident at 100,000 incidents (the target is 3 KB), as the metric
// B/incident. The figure includes the incident's own data.
func BenchmarkHeapPerClosedIncident(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		ids := itsmtest.NewIDs(1)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := memory.New()
		for i := range n {
			if err := s.Incidents().Create(context.Background(), closed(ids, int64(i+1))); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/incident")
		runtime.KeepAlive(s)
	}
}

// BenchmarkAtomically updates an incident being worked on and appends
// three events in one incident.Atomic transaction, as a command does on a
// store that is not the service's own.
func BenchmarkAtomically(b *testing.B) {
	s := memory.New()
	ctx := context.Background()
	ids := itsmtest.NewIDs(1)
	d := inProgress(ids, 1)
	if err := s.Incidents().Create(ctx, d); err != nil {
		b.Fatal(err)
	}
	d.Version = 1
	atomic := s.Incidents().(incident.Atomic)
	events := make([]itsm.Event, 3)
	b.ReportAllocs()
	for b.Loop() {
		for i := range events {
			id, _ := ids.NewUUID()
			events[i] = itsm.Event{
				ID: id, Type: "incident.assigned", Tenant: "acme", Subject: d.ID.Ref(), Version: d.Version + 1,
				At: d.UpdatedAt, Actor: itsm.Actor{ID: "ana"}, Payload: []byte(`{"seq":2}`),
			}
		}
		err := atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
			if err := tx.Update(ctx, d); err != nil {
				return err
			}
			return tx.Append(ctx, events...)
		})
		if err != nil {
			b.Fatal(err)
		}
		d.Version++
	}
}

// BenchmarkInTx runs an empty transaction.
func BenchmarkInTx(b *testing.B) {
	s := memory.New()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.InTx(ctx, func(context.Context, storage.Store) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutboxAppend appends events two at a time, as a command does,
// to an outbox never drained; each op is one append.
func BenchmarkOutboxAppend(b *testing.B) {
	s := memory.New()
	ctx := context.Background()
	ids := itsmtest.NewIDs(1)
	events := benchEvents(ids, 2)
	b.ReportAllocs()
	for b.Loop() {
		for i := range events {
			events[i].ID, _ = ids.NewUUID()
		}
		if err := s.Append(ctx, events...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutboxRelay appends 100 events two at a time, then claims and
// acknowledges them, as a relay keeping up with a desk does; each op is
// one event's way through.
func BenchmarkOutboxRelay(b *testing.B) {
	s := memory.New()
	ctx := context.Background()
	ids := itsmtest.NewIDs(1)
	events := benchEvents(ids, 2)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range events {
			events[i].ID, _ = ids.NewUUID()
		}
		if err := s.Append(ctx, events...); err != nil {
			b.Fatal(err)
		}
		if n += len(events); n < 100 {
			continue
		}
		n = 0
		batch, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "relay", Now: now, Lease: time.Minute})
		if err != nil || len(batch.Events) != 100 {
			b.Fatal(err, len(batch.Events))
		}
		if err := s.Ack(ctx, batch.Lease, batch.IDs()...); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEvents(ids *itsmtest.IDs, n int) []itsm.Event {
	subject, _ := ids.NewUUID()
	events := make([]itsm.Event, n)
	for i := range events {
		events[i] = itsm.Event{
			Type: "incident.assigned", Tenant: "acme", Subject: itsm.Ref{Kind: itsm.KindIncident, ID: subject}, Version: 2,
			At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Actor: itsm.Actor{ID: "ana", Name: "Ana Agent", Roles: []string{"agent"}},
			Payload: []byte(`{"assignee":"bob","group":"network","first_response_at":"2026-03-02T09:01:00Z"}`),
		}
	}
	return events
}
