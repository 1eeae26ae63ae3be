package memory

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// A relay that acknowledges inside the transaction that handles the events
// (a use DESIGN.md names) drains the outbox like one that acknowledges
// outside: the delivered events' entries and encodings are freed.
func TestDrainedOutboxFreesMemoryWhereverAcked(t *testing.T) {
	for _, tc := range []struct {
		name string
		inTx bool
	}{{"ack outside a transaction", false}, {"ack inside a transaction", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := New()
			gen := itsmtest.NewIDs(5)
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			for range 20 {
				evs := make([]itsm.Event, 500)
				for i := range evs {
					evs[i] = drainEvent(t, gen, now)
				}
				require.NoError(t, s.Append(ctx, evs...))
			}
			for {
				b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: storage.MaxClaimLimit, Now: now, Lease: time.Hour})
				require.NoError(t, err)
				if len(b.Events) == 0 {
					break
				}
				if tc.inTx {
					require.NoError(t, s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
						return s.Ack(ctx, b.Lease, b.IDs()...)
					}))
				} else {
					require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
				}
			}
			text := 0
			for _, c := range s.box.text {
				text += len(c)
			}
			t.Logf("after draining 10000 events: %d queue entries, %d dead, %d bytes of encodings", s.box.queue.len(), s.box.dead, text)
			require.Less(t, s.box.queue.len(), 64, "delivered events still in the queue")
			require.Less(t, text, 64<<10, "encodings of delivered events still held")
		})
	}
}

// TestCompactionLowersTop delivers an event whose ID is far ahead of the
// rest (a random UUID among UUIDv7 ones): once compaction has dropped it,
// later events appended in order are ordered again (found by searching
// the queue), not indexed in the map.
func TestCompactionLowersTop(t *testing.T) {
	ctx := context.Background()
	s := New()
	gen := itsmtest.NewIDs(9)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	event := func(id uuid.UUID) itsm.Event {
		e := drainEvent(t, gen, now)
		if id != uuid.Nil {
			e.ID = id
		}
		return e
	}
	far := uuid.UUID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4f, 0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	evs := []itsm.Event{event(far)}
	for range 100 {
		evs = append(evs, event(uuid.Nil))
	}
	require.NoError(t, s.Append(ctx, evs...))
	require.Equal(t, 100, len(s.box.others), "events behind the far ID are indexed in the map")
	b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: storage.MaxClaimLimit, Now: now, Lease: time.Hour})
	require.NoError(t, err)
	require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
	require.Zero(t, s.box.queue.len(), "the drained outbox compacted")

	later := event(uuid.Nil)
	require.NoError(t, s.Append(ctx, later))
	require.Empty(t, s.box.others, "an event in order after compaction went to the map")
	require.False(t, s.box.queue.at(0).unordered)
	require.False(t, s.box.spined, "the compacted outbox still searches through a spine")
	// Its ID is still refused twice.
	require.ErrorIs(t, s.Append(ctx, later), itsm.ErrAlreadyExists)
}

// drainEvent returns a small valid event with an ID from gen.
func drainEvent(t *testing.T, gen *itsmtest.IDs, at time.Time) itsm.Event {
	t.Helper()
	e, err := itsm.NewEvent(gen, itsm.EventInput{Type: "incident.updated", Tenant: "acme",
		Subject: itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}, At: at, Actor: itsm.Actor{ID: "ana"}})
	require.NoError(t, err)
	return e
}
