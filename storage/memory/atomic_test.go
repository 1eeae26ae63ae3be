package memory_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

func testEvents(t *testing.T, ids *itsmtest.IDs, subj itsm.Ref, n int) []itsm.Event {
	out := make([]itsm.Event, n)
	for i := range out {
		e, err := itsm.NewEvent(ids, itsm.EventInput{Type: "incident.updated", Tenant: "acme", Subject: subj,
			At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Actor: itsm.Actor{ID: "ana"}, Payload: map[string]int{"i": i}})
		require.NoError(t, err)
		out[i] = e
	}
	return out
}

func pending(t *testing.T, s *memory.Store) int {
	b, err := s.Claim(context.Background(), storage.ClaimRequest{Consumer: "x", Limit: storage.MaxClaimLimit, Now: time.Now(), Lease: time.Nanosecond})
	require.NoError(t, err)
	return len(b.Events)
}

func TestNativeAtomic(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	ids := itsmtest.NewIDs(11)
	repo := s.Incidents()
	atomic, ok := repo.(incident.Atomic)
	require.True(t, ok)
	a := closed(ids, 1)
	require.NoError(t, repo.Create(ctx, a))
	a.Version = 1
	boom := errors.New("boom")

	// interleaved: update, append, create, nested savepoint (update+append) that fails, append, then fail.
	err := atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
		u := a
		u.Assignee = "x1"
		require.NoError(t, tx.Update(ctx, u))
		require.NoError(t, tx.Append(ctx, testEvents(t, ids, a.ID.Ref(), 3)...))
		b := closed(ids, 2)
		b.Parent = a.ID
		require.NoError(t, tx.Create(ctx, b))
		inner := tx.(incident.Atomic).Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
			u2 := u
			u2.Version = 2
			u2.Assignee = "x2"
			require.NoError(t, tx.Update(ctx, u2))
			require.NoError(t, tx.Append(ctx, testEvents(t, ids, a.ID.Ref(), 2)...))
			return boom
		})
		require.ErrorIs(t, inner, boom)
		got, err := tx.Get(ctx, "acme", a.ID)
		require.NoError(t, err)
		assert.Equal(t, "x1", got.Assignee)
		assert.EqualValues(t, 2, got.Version)
		require.NoError(t, tx.Append(ctx, testEvents(t, ids, a.ID.Ref(), 1)...))
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := repo.Get(ctx, "acme", a.ID)
	require.NoError(t, err)
	assert.Equal(t, "bob", got.Assignee)
	assert.EqualValues(t, 1, got.Version)
	page, err := repo.List(ctx, "acme", incident.Filter{Parent: a.ID}, incident.Page{})
	require.NoError(t, err)
	assert.Empty(t, page.Items)
	assert.Equal(t, 0, pending(t, s))

	// Atomically inside a host InTx: a failing Atomically is a savepoint.
	err = s.InTx(ctx, func(ctx context.Context, st storage.Store) error {
		require.NoError(t, st.(storage.Outbox).Append(ctx, testEvents(t, ids, a.ID.Ref(), 2)...))
		e := atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
			require.NoError(t, tx.Append(ctx, testEvents(t, ids, a.ID.Ref(), 4)...))
			return boom
		})
		require.ErrorIs(t, e, boom)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, pending(t, s))
}

func TestRollbackAfterCompaction(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	ids := itsmtest.NewIDs(12)
	subj := itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}
	for range 3 {
		require.NoError(t, s.Append(ctx, testEvents(t, ids, subj, 1000)...))
	}
	for i := 0; i < 2; i++ {
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "x", Limit: storage.MaxClaimLimit, Now: time.Now(), Lease: time.Hour})
		require.NoError(t, err)
		require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
	}
	boom := errors.New("boom")
	keep := testEvents(t, ids, subj, 5)
	err := s.InTx(ctx, func(ctx context.Context, st storage.Store) error {
		ob := st.(storage.Outbox)
		require.NoError(t, ob.Append(ctx, keep[:2]...))
		e := st.(storage.Transactor).InTx(ctx, func(ctx context.Context, st storage.Store) error {
			require.NoError(t, st.(storage.Outbox).Append(ctx, testEvents(t, ids, subj, 7)...))
			return boom
		})
		require.ErrorIs(t, e, boom)
		require.NoError(t, ob.Append(ctx, keep[2:]...))
		return nil
	})
	require.NoError(t, err)
	var all []itsm.Event
	for {
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "x", Limit: storage.MaxClaimLimit, Now: time.Now().Add(2 * time.Hour), Lease: time.Hour})
		require.NoError(t, err)
		if len(b.Events) == 0 {
			break
		}
		all = append(all, b.Events...)
	}
	require.Equal(t, 1005, len(all))
	for i, e := range all[1000:] {
		assert.Equal(t, keep[i].ID, e.ID)
	}
}

func TestOneUndeliveredEventDoesNotKeepItsAppend(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	ids := itsmtest.NewIDs(13)
	subj := itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}
	big := make([]byte, 10<<10)
	for i := range big {
		big[i] = 'a'
	}
	evs := testEvents(t, ids, subj, 1000)
	for i := range evs {
		evs[i].Payload = []byte(`{"x":"` + string(big) + `"}`)
	}
	var before, after runtime.MemStats
	require.NoError(t, s.Append(ctx, evs...))
	evs = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "x", Limit: storage.MaxClaimLimit, Now: time.Now(), Lease: time.Hour})
	require.NoError(t, err)
	ack := b.IDs()[1:] // the first event stays undelivered (poison message, crashed consumer...)
	b = storage.Batch{Lease: b.Lease}
	require.NoError(t, s.Ack(ctx, b.Lease, ack...))
	runtime.GC()
	runtime.ReadMemStats(&after)
	freed := int64(before.HeapAlloc) - int64(after.HeapAlloc)
	t.Logf("acknowledging 999 of 1000 10 KB events freed %d bytes (heap %d -> %d)", freed, before.HeapAlloc, after.HeapAlloc)
	assert.Greater(t, freed, int64(8<<20))
	runtime.KeepAlive(s)
}
