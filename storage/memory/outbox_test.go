package memory_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

var outboxNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// claimAll claims every available event at now under one lease per
// MaxClaimLimit events, returning the events and the last lease.
func claimAll(t *testing.T, s *memory.Store, now time.Time) ([]itsm.Event, storage.LeaseID) {
	t.Helper()
	var all []itsm.Event
	var lease storage.LeaseID
	for {
		b, err := s.Claim(context.Background(), storage.ClaimRequest{Consumer: "t", Limit: storage.MaxClaimLimit, Now: now, Lease: time.Minute})
		require.NoError(t, err)
		if len(b.Events) == 0 {
			return all, lease
		}
		all = append(all, b.Events...)
		lease = b.Lease
	}
}

func eventIDs(evs []itsm.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// withIDs returns n test events with the IDs of ids, in that order.
func withIDs(t *testing.T, ids []uuid.UUID) []itsm.Event {
	evs := testEvents(t, itsmtest.NewIDs(99), itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}, len(ids))
	for i := range evs {
		evs[i].ID = ids[i]
	}
	return evs
}

// Events whose IDs do not grow (another generator, a replay) are stored,
// refused as duplicates, claimed in append order and acknowledged like
// those whose IDs grow.
func TestOutboxIDsInAnyOrder(t *testing.T) {
	ctx := context.Background()
	id, gen := ascendingIDs(21, 8)
	order := [][]uuid.UUID{
		{id[4], id[5]},        // in order
		{id[1], id[7], id[0]}, // behind, ahead, behind
		{id[6]},               // behind the greatest
		{id[3], id[2]},        // descending
	}
	s := memory.New()
	var want []uuid.UUID
	for _, ids := range order {
		require.NoError(t, s.Append(ctx, withIDs(t, ids)...))
		want = append(want, ids...)
	}
	for _, i := range id {
		err := s.Append(ctx, withIDs(t, []uuid.UUID{i})...)
		require.ErrorIs(t, err, itsm.ErrAlreadyExists, "event %s", i)
	}
	newer, _ := gen.NewUUID()
	require.ErrorIs(t, s.Append(ctx, withIDs(t, []uuid.UUID{newer, id[2]})...), itsm.ErrAlreadyExists,
		"a new greatest ID does not hide a duplicate after it")
	got, lease := claimAll(t, s, outboxNow)
	require.Equal(t, want, eventIDs(got), "the refused appends added nothing")

	// Acknowledge some of each kind, one of them twice and one unknown.
	unknown, _ := gen.NewUUID()
	require.NoError(t, s.Ack(ctx, lease, id[0], id[5], id[7], id[5], unknown, id[2]))
	left, lease2 := claimAll(t, s, outboxNow.Add(time.Hour))
	require.Equal(t, []uuid.UUID{id[4], id[1], id[6], id[3]}, eventIDs(left))
	// Acknowledged IDs may come again, in or out of order.
	require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{id[5], id[0]})...))
	require.ErrorIs(t, s.Append(ctx, withIDs(t, []uuid.UUID{id[0]})...), itsm.ErrAlreadyExists)
	require.ErrorIs(t, s.Ack(ctx, lease2, id[4], id[5]), itsm.ErrConflict, "id[5] came again unclaimed")
	require.NoError(t, s.Ack(ctx, lease2, id[4], id[1], id[6], id[3]))
	again, _ := claimAll(t, s, outboxNow.Add(2*time.Hour))
	require.Equal(t, []uuid.UUID{id[5], id[0]}, eventIDs(again))
}

// Appends undone with a transaction or a savepoint leave no trace: their
// IDs may be appended again, and what stays is claimed in order.
func TestOutboxUndoneAppends(t *testing.T) {
	ctx := context.Background()
	id, _ := ascendingIDs(22, 6)
	s := memory.New()
	require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{id[2]})...))
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, st storage.Store) error {
		ob := st.(storage.Outbox)
		require.NoError(t, ob.Append(ctx, withIDs(t, []uuid.UUID{id[3], id[0]})...))
		inner := st.(storage.Transactor).InTx(ctx, func(ctx context.Context, st storage.Store) error {
			require.NoError(t, st.(storage.Outbox).Append(ctx, withIDs(t, []uuid.UUID{id[5], id[1]})...))
			return boom
		})
		require.ErrorIs(t, inner, boom)
		require.NoError(t, ob.Append(ctx, withIDs(t, []uuid.UUID{id[4]})...))
		return boom
	})
	require.ErrorIs(t, err, boom)
	for _, i := range []uuid.UUID{id[0], id[1], id[3], id[4], id[5]} {
		require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{i})...), "event %s was undone", i)
	}
	require.ErrorIs(t, s.Append(ctx, withIDs(t, []uuid.UUID{id[2]})...), itsm.ErrAlreadyExists)
	got, lease := claimAll(t, s, outboxNow)
	require.Equal(t, []uuid.UUID{id[2], id[0], id[1], id[3], id[4], id[5]}, eventIDs(got))
	require.NoError(t, s.Ack(ctx, lease, eventIDs(got)...))
	none, _ := claimAll(t, s, outboxNow.Add(time.Hour))
	require.Empty(t, none)
}

// A claim and an acknowledgement undone with their transaction leave the
// events as they were.
func TestOutboxUndoneClaimAndAck(t *testing.T) {
	ctx := context.Background()
	id, _ := ascendingIDs(23, 4)
	s := memory.New()
	require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{id[1], id[3], id[0], id[2]})...))
	b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "a", Limit: 2, Now: outboxNow, Lease: time.Minute})
	require.NoError(t, err)
	boom := errors.New("boom")
	err = s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
		require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
		b2, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "b", Now: outboxNow, Lease: time.Minute})
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{id[0], id[2]}, b2.IDs())
		return boom
	})
	require.ErrorIs(t, err, boom)
	b3, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "c", Now: outboxNow, Lease: time.Minute})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{id[0], id[2]}, b3.IDs(), "the undone claim holds nothing")
	require.ErrorIs(t, s.Append(ctx, withIDs(t, []uuid.UUID{id[1]})...), itsm.ErrAlreadyExists, "the undone Ack left id[1]")
	require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...), "the first lease still holds its events")
	left, _ := claimAll(t, s, outboxNow.Add(time.Hour))
	require.Equal(t, []uuid.UUID{id[0], id[2]}, eventIDs(left))
}

// After compaction every surviving event keeps its place, its lease and
// its index entry, whatever the order of its ID.
func TestOutboxCompaction(t *testing.T) {
	ctx := context.Background()
	const n = 600
	ids, gen := nearlyAscending(24, n, 10)
	s := memory.New()
	for i := 0; i < n; i += 50 {
		require.NoError(t, s.Append(ctx, withIDs(t, ids[i:i+50])...))
	}
	first, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "a", Limit: 100, Now: outboxNow, Lease: time.Hour})
	require.NoError(t, err)
	rest, lease := claimAll(t, s, outboxNow)
	require.Equal(t, ids, append(first.IDs(), eventIDs(rest)...))
	// Acknowledge all but every seventh of the rest: compaction runs.
	var ack, kept []uuid.UUID
	for i, e := range rest {
		if i%7 == 0 {
			kept = append(kept, e.ID)
		} else {
			ack = append(ack, e.ID)
		}
	}
	require.NoError(t, s.Ack(ctx, lease, ack...))
	for _, id := range append(slices.Clone(kept), first.IDs()[:3]...) {
		require.ErrorIs(t, s.Append(ctx, withIDs(t, []uuid.UUID{id})...), itsm.ErrAlreadyExists)
	}
	none, _ := claimAll(t, s, outboxNow.Add(time.Minute-time.Microsecond))
	require.Empty(t, eventIDs(none), "leases survive compaction")
	require.ErrorIs(t, s.Ack(ctx, lease, first.IDs()[0]), itsm.ErrConflict)
	require.NoError(t, s.Ack(ctx, first.Lease, first.IDs()...))
	require.NoError(t, s.Ack(ctx, lease, ack[:10]...), "acknowledged events stay acknowledged")
	newer, _ := gen.NewUUID()
	require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{newer, ack[0]})...))
	got, _ := claimAll(t, s, outboxNow.Add(2*time.Hour))
	assert.Equal(t, append(kept, newer, ack[0]), eventIDs(got))
}

// Only the lease a claim returned acknowledges its events; a lease written
// another way is not that lease.
func TestOutboxForeignLeases(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	gen := itsmtest.NewIDs(25)
	a, _ := gen.NewUUID()
	b, _ := gen.NewUUID()
	require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{a})...))
	for _, l := range []storage.LeaseID{"lease-0", "lease-1", "x"} {
		require.ErrorIs(t, s.Ack(ctx, l, a), itsm.ErrConflict, "lease %q on an unclaimed event", l)
	}
	for range 7 {
		require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{b})...))
		batch, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "t", Now: outboxNow, Lease: time.Minute, Limit: 1})
		require.NoError(t, err)
		lease := batch.Lease
		for _, l := range []storage.LeaseID{"lease-0", "x", "lease-", "lease-+1", "LEASE-1", "lease-18446744073709551616",
			"0" + lease, lease + "0", " " + lease, "lease-0" + lease[len("lease-"):]} {
			require.ErrorIs(t, s.Ack(ctx, l, batch.IDs()...), itsm.ErrConflict, "lease %q for %q", l, lease)
		}
		require.NoError(t, s.Ack(ctx, lease, batch.IDs()...))
		a, b = b, a
	}
}

// Leases hold and expire at the first and last instants the contract
// accepts (itsm.InstantInRange), under the shortest and the longest lease;
// instants beyond, however far from today, are refused naming "now", as
// every store refuses them, and claim nothing.
func TestOutboxLeasesAtExtremeInstants(t *testing.T) {
	ctx := context.Background()
	for _, now := range []time.Time{
		time.Unix(1<<62, 0).UTC(), time.Unix(-(1 << 62), 0).UTC(), time.Unix(-62135596800-1, 999_999_000).UTC(),
		time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(1<<63-1, 0).UTC(), time.Unix(-1<<63, 0).UTC(),
		time.Date(itsm.MinInstantYear, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond),
		time.Date(itsm.MaxInstantYear+1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		s := memory.New()
		id, _ := itsmtest.NewIDs(26).NewUUID()
		require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{id})...))
		_, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "a", Now: now, Lease: time.Second})
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve, "now %v", now)
		require.True(t, ve.Has("now"), "%v", err)
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "a", Now: outboxNow, Lease: time.Second})
		require.NoError(t, err)
		require.Len(t, b.Events, 1, "the refused claim claimed nothing")
	}
	first := time.Date(itsm.MinInstantYear, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(itsm.MaxInstantYear, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
	for _, now := range []time.Time{first, last, last.Add(-time.Second)} {
		for _, lease := range []time.Duration{time.Second, math.MaxInt64 - 1} {
			s := memory.New()
			id, _ := itsmtest.NewIDs(26).NewUUID()
			require.NoError(t, s.Append(ctx, withIDs(t, []uuid.UUID{id})...))
			b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "a", Now: now, Lease: lease})
			require.NoError(t, err)
			require.Len(t, b.Events, 1)
			for _, at := range []time.Time{now, b.Until.Add(-time.Microsecond)} {
				if !itsm.InstantInRange(at) {
					continue // the end of a long lease lies past the years a claim may name
				}
				held, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "b", Now: at, Lease: time.Second})
				require.NoError(t, err)
				require.Empty(t, held.Events, "lease from %v for %v held at %v", now, lease, at)
			}
			if !itsm.InstantInRange(b.Until) {
				continue
			}
			again, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "b", Now: b.Until, Lease: time.Second})
			require.NoError(t, err)
			require.Len(t, again.Events, 1, "lease from %v expired at %v", now, b.Until)
		}
	}
}

// The outbox holds its events in blocks: appends undone across a block's
// end, and compaction of many blocks, keep every event in its place.
func TestOutboxAcrossBlocks(t *testing.T) {
	ctx := context.Background()
	const n = 2500
	ids, _ := nearlyAscending(27, n, 9)
	s := memory.New()
	require.NoError(t, s.Append(ctx, withIDs(t, ids[:1000])...))
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, st storage.Store) error {
		ob := st.(storage.Outbox)
		for i := 1000; i < 2000; i += 100 {
			require.NoError(t, ob.Append(ctx, withIDs(t, ids[i:i+100])...))
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	for i := 1000; i < n; i += 250 {
		require.NoError(t, s.Append(ctx, withIDs(t, ids[i:i+250])...))
	}
	var got []uuid.UUID
	leases := map[uuid.UUID]storage.LeaseID{}
	for {
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "t", Limit: storage.MaxClaimLimit, Now: outboxNow, Lease: time.Minute})
		require.NoError(t, err)
		if len(b.Events) == 0 {
			break
		}
		for _, id := range b.IDs() {
			leases[id] = b.Lease
		}
		got = append(got, b.IDs()...)
	}
	require.Equal(t, ids, got)
	ack := map[storage.LeaseID][]uuid.UUID{}
	var kept []uuid.UUID
	for i, id := range ids {
		if i%5 == 3 {
			kept = append(kept, id)
		} else {
			ack[leases[id]] = append(ack[leases[id]], id)
		}
	}
	for lease, ids := range ack {
		require.NoError(t, s.Ack(ctx, lease, ids...))
	}
	for _, id := range []uuid.UUID{kept[0], kept[len(kept)/2], kept[len(kept)-1]} {
		require.ErrorIs(t, s.Append(ctx, withIDs(t, []uuid.UUID{id})...), itsm.ErrAlreadyExists)
	}
	again, lease := claimAll(t, s, outboxNow.Add(time.Minute))
	require.Equal(t, kept, eventIDs(again), "compaction kept the order")
	require.NoError(t, s.Ack(ctx, lease, kept...))
	none, _ := claimAll(t, s, outboxNow.Add(time.Hour))
	require.Empty(t, eventIDs(none))
	require.NoError(t, s.Append(ctx, withIDs(t, ids[:3])...), "delivered events may come again")
}

// nearlyAscending returns n UUIDv7 IDs drawn from a generator seeded with
// seed, ascending but for one pair in every `every` swapped, and the
// generator, whose next IDs are greater than all of them.
func nearlyAscending(seed uint64, n, every int) ([]uuid.UUID, *itsmtest.IDs) {
	ids, gen := ascendingIDs(seed, n)
	for i := 0; i+1 < n; i += every {
		ids[i], ids[i+1] = ids[i+1], ids[i]
	}
	return ids, gen
}

// ascendingIDs returns n UUIDv7 IDs drawn in order from a generator seeded
// with seed, and the generator, whose next IDs are greater.
func ascendingIDs(seed uint64, n int) ([]uuid.UUID, *itsmtest.IDs) {
	gen := itsmtest.NewIDs(seed)
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i], _ = gen.NewUUID()
	}
	return ids, gen
}
