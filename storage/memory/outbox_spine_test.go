package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// TestOutboxSpine follows the index of an outbox through the life of an
// out-of-order event: without one, the queue is searched itself and has no
// spine; the first one builds the spine, which appends in order then
// extend, an undone transaction leaves in place, and the compaction that
// drops the last unordered event removes.
func TestOutboxSpine(t *testing.T) {
	ctx := context.Background()
	s := New()
	gen := itsmtest.NewIDs(5)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ids []uuid.UUID
	add := func(evs ...itsm.Event) {
		t.Helper()
		require.NoError(t, s.Append(ctx, evs...))
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
	}
	for range 3 {
		add(drainEvent(t, gen, now))
	}
	early := drainEvent(t, gen, now) // drawn now, appended later: behind the rest
	for range 2 {
		add(drainEvent(t, gen, now))
	}
	require.False(t, s.box.spined, "an outbox in order needs no spine")
	for _, id := range ids {
		require.ErrorIs(t, s.Append(ctx, withID(t, gen, now, id)), itsm.ErrAlreadyExists)
	}

	add(early)
	require.True(t, s.box.spined)
	require.Equal(t, 5, s.box.spine.len())
	add(drainEvent(t, gen, now))
	require.Equal(t, 6, s.box.spine.len(), "an event in order joins the spine")
	for at, id := range ids {
		got, ok := s.box.find(id)
		require.True(t, ok, "event %d", at)
		require.Equal(t, at, got)
		require.ErrorIs(t, s.Append(ctx, withID(t, gen, now, id)), itsm.ErrAlreadyExists)
	}

	// An undone transaction takes its events out of the spine, not the
	// spine itself.
	undo := errors.New("undo")
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		require.NoError(t, tx.(storage.Outbox).Append(ctx, drainEvent(t, gen, now)))
		return undo
	})
	require.ErrorIs(t, err, undo)
	require.True(t, s.box.spined)
	require.Equal(t, 6, s.box.spine.len())

	// Delivering everything compacts the outbox: with no unordered event
	// left, the spine goes.
	for range 64 {
		add(drainEvent(t, gen, now))
	}
	b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: storage.MaxClaimLimit, Now: now, Lease: time.Hour})
	require.NoError(t, err)
	require.Len(t, b.Events, len(ids))
	require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
	require.Zero(t, s.box.queue.len())
	require.False(t, s.box.spined)
	require.Zero(t, s.box.spine.len())
}

func withID(t *testing.T, gen *itsmtest.IDs, at time.Time, id uuid.UUID) itsm.Event {
	e := drainEvent(t, gen, at)
	e.ID = id
	return e
}
