package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// The outbox's table of names starts afresh when the outbox empties, and
// is rebuilt from the events left when compaction finds it full: it never
// keeps the names of delivered events for good, and the events left still
// read back as they were appended.
func TestOutboxNamesTable(t *testing.T) {
	ctx := context.Background()
	s := New()
	gen := itsmtest.NewIDs(11)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	claim := func(limit int) storage.Batch {
		t.Helper()
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: limit, Now: now, Lease: time.Hour})
		require.NoError(t, err)
		return b
	}
	// actor returns an event of an actor of its own, every name new.
	actor := func(i int) itsm.Event {
		e := drainEvent(t, gen, now)
		e.Actor = itsm.Actor{ID: fmt.Sprint("user-", i), Name: fmt.Sprint("User ", i), Groups: []string{fmt.Sprint("g", i)}}
		e.Payload = []byte(fmt.Sprintf(`{"n":%d}`, i))
		return e
	}

	// Delivering everything empties the outbox: the table starts afresh.
	for i := range 100 {
		require.NoError(t, s.Append(ctx, actor(i)))
	}
	require.Greater(t, len(s.box.names.list), 300)
	b := claim(storage.MaxClaimLimit)
	require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
	require.Zero(t, s.box.queue.len())
	require.Empty(t, s.box.names.list, "the table of an empty outbox")
	require.Nil(t, s.box.names.idx)

	// Fill the table; once full, new names are written out.
	var all []itsm.Event
	for i := 0; !s.box.names.full(); i++ {
		e := actor(i)
		require.NoError(t, s.Append(ctx, e))
		all = append(all, e)
	}
	for i := range 10 {
		e := actor(100_000 + i)
		require.NoError(t, s.Append(ctx, e))
		all = append(all, e)
	}
	// Deliver all but the last 10 in one transaction: the compaction after
	// it rebuilds the table from the events left.
	err := s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
		for acked := 0; acked < len(all)-10; {
			b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: min(storage.MaxClaimLimit, len(all)-10-acked), Now: now, Lease: time.Hour})
			require.NoError(t, err)
			require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
			acked += len(b.Events)
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 10, s.box.queue.len(), "compacted")
	require.False(t, s.box.names.full())
	require.LessOrEqual(t, len(s.box.names.list), 10*3+3, "the rebuilt table holds the names of the events left")
	left := claim(storage.MaxClaimLimit)
	require.Equal(t, all[len(all)-10:], left.Events)
}
