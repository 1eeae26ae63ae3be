package memory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// A model of the outbox contract: events in append order, each live or
// acknowledged, with the lease (by its string) that holds it until until.
type modelEvent struct {
	id    uuid.UUID
	lease storage.LeaseID
	until time.Time
	gone  bool
}

type outboxModel struct {
	evs    []modelEvent
	pos    map[uuid.UUID]int // live events' positions, rebuilt by reindex
	leases uint64            // never rolled back, like the store's
}

func (m *outboxModel) snapshot() []modelEvent { return slices.Clone(m.evs) }

func (m *outboxModel) reindex() {
	m.pos = make(map[uuid.UUID]int, len(m.evs))
	for i := range m.evs {
		if !m.evs[i].gone {
			m.pos[m.evs[i].id] = i
		}
	}
}

func (m *outboxModel) live(id uuid.UUID) int {
	if m.pos == nil {
		m.reindex()
	}
	if i, ok := m.pos[id]; ok && i < len(m.evs) && m.evs[i].id == id && !m.evs[i].gone {
		return i
	}
	return -1
}

func (m *outboxModel) appendIDs(ids []uuid.UUID) error {
	for i, id := range ids {
		if slices.Contains(ids[:i], id) || m.live(id) >= 0 {
			return itsm.ErrAlreadyExists
		}
	}
	for _, id := range ids {
		m.evs = append(m.evs, modelEvent{id: id})
		if m.pos != nil {
			m.pos[id] = len(m.evs) - 1
		}
	}
	return nil
}

func (m *outboxModel) claim(req storage.ClaimRequest) storage.Batch {
	now := itsm.Normalize(req.Now)
	var took []int
	for i := range m.evs {
		if len(took) == req.EffectiveLimit() {
			break
		}
		e := &m.evs[i]
		if e.gone || e.lease != "" && e.until.After(now) {
			continue
		}
		took = append(took, i)
	}
	if len(took) == 0 {
		return storage.Batch{}
	}
	m.leases++
	b := storage.Batch{Lease: leaseID(m.leases), Until: req.Until()}
	for _, i := range took {
		m.evs[i].lease, m.evs[i].until = b.Lease, b.Until
		b.Events = append(b.Events, itsm.Event{ID: m.evs[i].id})
	}
	return b
}

func (m *outboxModel) ack(lease storage.LeaseID, ids []uuid.UUID) error {
	before := m.snapshot()
	for _, id := range ids {
		i := m.live(id)
		if i < 0 {
			continue
		}
		if m.evs[i].lease != lease {
			m.evs = before
			m.reindex()
			return itsm.ErrConflict
		}
		m.evs[i].gone = true
	}
	return nil
}

// checkOutboxAgainstModel checks the store's outbox against the model: the
// live events, in order, with their leases, every index entry, and that top
// bounds every live ID (the duplicate check trusts it).
func checkOutboxAgainstModel(t *testing.T, s *Store, m *outboxModel, step string) {
	t.Helper()
	b := &s.box
	var got, want []string
	for i := range b.queue.len() {
		e := b.queue.at(i)
		if !e.gone {
			got = append(got, fmt.Sprintf("%s lease-%d", e.id, b.hold(i).lease))
			// Plain comparisons first: testify per entry made the large
			// runs slow.
			if at, ok := b.find(e.id); !ok || at != i {
				require.Failf(t, "index", "%s: live event %s at %d found at %d (%v)", step, e.id, i, at, ok)
			}
			if ev, err := b.names.decodeEvent(e.id, string(b.encoding(e))); err != nil || ev.ID != e.id {
				require.Failf(t, "encoding", "%s: encoding of %s does not decode: %v", step, e.id, err)
			}
			if compareIDs(e.id, b.top) > 0 {
				require.Failf(t, "top", "%s: live %s above top %s", step, e.id, b.top)
			}
		}
	}
	for _, e := range m.evs {
		if !e.gone {
			n := uint64(0)
			if e.lease != "" {
				n = leaseNumber(e.lease)
			}
			want = append(want, fmt.Sprintf("%s lease-%d", e.id, n))
		}
	}
	require.Equal(t, want, got, "%s: live events", step)
	// The ordered events ascend, and the spine lists exactly them when
	// there is one; without one, there is no unordered event.
	ordered := []int{}
	for i := range b.queue.len() {
		if !b.queue.at(i).unordered {
			ordered = append(ordered, i)
		} else if !b.spined {
			require.Failf(t, "spine", "%s: unordered event at %d without a spine", step, i)
		}
	}
	for k := 1; k < len(ordered); k++ {
		if compareIDs(b.queue.at(ordered[k-1]).id, b.queue.at(ordered[k]).id) >= 0 {
			require.Failf(t, "ordered", "%s: ordered events do not ascend at %d", step, ordered[k])
		}
	}
	if b.spined {
		spine := make([]int, b.spine.len())
		for k := range spine {
			spine[k] = *b.spine.at(k)
		}
		require.Equal(t, len(ordered), len(spine), "%s: spine length", step)
		require.Equal(t, ordered, spine, "%s: spine", step)
	}
	for id, at := range b.others {
		require.Less(t, at, b.queue.len(), "%s: others[%s]", step, id)
		e := b.queue.at(at)
		require.Equal(t, id, e.id, "%s: others[%s] points at %s", step, id, e.id)
		require.False(t, e.gone, "%s: others holds acknowledged %s", step, id)
	}
	dead := 0
	for i := range b.queue.len() {
		if b.queue.at(i).gone {
			dead++
		}
	}
	require.Equal(t, dead, b.dead, "%s: dead count", step)
	require.LessOrEqual(t, b.holds.len(), b.queue.len(), "%s: holds beyond the queue", step)
}

// TestOutboxAgainstModel drives the outbox with random appends (IDs
// in order, behind the greatest, random, acknowledged ones again,
// duplicates), claims, acks (IDs in any order, foreign leases, unknown
// IDs), inside and outside transactions and savepoints that commit or
// roll back, and compares every answer and the whole state with a model.
func TestOutboxAgainstModel(t *testing.T) {
	for seed := range modelSeeds(12, 3) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runOutboxModel(t, seed, 900)
		})
	}
}

func runOutboxModel(t *testing.T, seed uint64, steps int) { runOutboxModelN(t, seed, steps, 25) }

// TestOutboxAgainstModelLarge is the same with appends of up to 400
// events, so the queue and sorted cross block boundaries.
func TestOutboxAgainstModelLarge(t *testing.T) {
	for seed := range modelSeeds(3, 1) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runOutboxModelN(t, seed+1000, 500, 400) })
	}
}

func runOutboxModelN(t *testing.T, seed uint64, steps, maxAppend int) {
	ctx := context.Background()
	// The whole state is checked every few steps: every 7th with small
	// appends, every 25th with large ones, whose queue grows to thousands.
	checkEvery := 7
	if maxAppend >= 100 {
		checkEvery = 25
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	gen := itsmtest.NewIDs(seed + 100)
	s := New()
	m := &outboxModel{}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var known []uuid.UUID // every ID appended at some point
	knownSet := map[uuid.UUID]bool{}
	var spare []uuid.UUID // ascending IDs drawn but not used yet (used later: behind the greatest)
	var leases []storage.LeaseID
	subj := itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}
	mk := func(ids []uuid.UUID) []itsm.Event {
		out := make([]itsm.Event, len(ids))
		for i, id := range ids {
			e, err := itsm.NewEvent(gen, itsm.EventInput{Type: "incident.updated", Tenant: "acme", Subject: subj,
				At: now, Actor: itsm.Actor{ID: "ana"}, Payload: map[string]int{"i": i}})
			require.NoError(t, err)
			e.ID = id
			out[i] = e
		}
		return out
	}
	pickID := func() uuid.UUID {
		switch r := rng.IntN(20); {
		case r < 12:
			id, _ := gen.NewUUID()
			if rng.IntN(4) == 0 {
				spare = append(spare, id)
				id, _ = gen.NewUUID()
			}
			return id
		case r < 14 && len(spare) > 0:
			k := rng.IntN(len(spare))
			id := spare[k]
			spare = slices.Delete(spare, k, k+1)
			return id
		case r < 15:
			return uuid.New() // random: often far above every UUIDv7
		case len(known) > 0:
			return known[rng.IntN(len(known))]
		default:
			id, _ := gen.NewUUID()
			return id
		}
	}
	boom := errors.New("boom")
	var step int
	// op runs one random operation with ctx (a transaction's, or not).
	var op func(ctx context.Context, depth int) error
	op = func(ctx context.Context, depth int) error {
		step++
		where := fmt.Sprintf("step %d depth %d", step, depth)
		switch r := rng.IntN(10); {
		case r < 4: // append
			n := 1 + rng.IntN(maxAppend)
			if rng.IntN(5) == 0 {
				n = 1 + rng.IntN(3)
			}
			ids := make([]uuid.UUID, n)
			fresh := maxAppend > 100 && rng.IntN(4) != 0
			for i := range ids {
				ids[i] = pickID()
				for fresh && knownSet[ids[i]] {
					ids[i], _ = gen.NewUUID()
				}
			}
			want := m.appendIDs(ids)
			err := s.Append(ctx, mk(ids)...)
			if want == nil {
				require.NoError(t, err, where)
				known = append(known, ids...)
				for _, id := range ids {
					knownSet[id] = true
				}
			} else {
				require.ErrorIs(t, err, want, where)
			}
		case r < 6: // claim
			req := storage.ClaimRequest{Consumer: "c", Limit: 1 + rng.IntN(min(storage.MaxClaimLimit, 5*maxAppend)), Now: now, Lease: time.Duration(1+rng.IntN(5)) * time.Second}
			want := m.claim(req)
			got, err := s.Claim(ctx, req)
			require.NoError(t, err, where)
			require.Equal(t, want.Lease, got.Lease, where)
			require.Equal(t, want.IDs(), got.IDs(), where)
			if got.Lease != "" {
				leases = append(leases, got.Lease)
			}
		case r < 9: // ack
			var lease storage.LeaseID
			switch {
			case len(leases) > 0 && rng.IntN(8) != 0:
				lease = leases[len(leases)-1-rng.IntN(min(3, len(leases)))]
			default:
				lease = []storage.LeaseID{"lease-0", "lease-01", "x", "lease-999999"}[rng.IntN(4)]
			}
			var ids []uuid.UUID
			for _, e := range m.evs {
				if e.lease == lease && !e.gone && rng.IntN(3) != 0 {
					ids = append(ids, e.id)
				}
			}
			// Mostly shuffled; otherwise in the order claimed, as a relay
			// acknowledges (Ack's fast path).
			if rng.IntN(3) != 0 {
				rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			}
			if rng.IntN(6) == 0 && len(known) > 0 {
				ids = append(ids, known[rng.IntN(len(known))]) // maybe held by another lease
			}
			if rng.IntN(6) == 0 && len(ids) > 0 {
				ids = append(ids, ids[0]) // named twice
			}
			if len(ids) == 0 {
				ids = append(ids, uuid.New())
			}
			want := m.ack(lease, ids)
			err := s.Ack(ctx, lease, ids...)
			if want == nil {
				require.NoError(t, err, where)
			} else {
				require.ErrorIs(t, err, want, where)
			}
		default: // a transaction or savepoint
			if depth >= 3 {
				now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
				return nil
			}
			before := m.snapshot()
			fail := rng.IntN(2) == 0
			err := s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
				for range 1 + rng.IntN(6) {
					if err := op(ctx, depth+1); err != nil {
						return err
					}
				}
				if fail {
					return boom
				}
				return nil
			})
			if fail {
				require.ErrorIs(t, err, boom, where)
				m.evs = before
				m.reindex()
			} else {
				require.NoError(t, err, where)
			}
		}
		if depth == 0 && (step%checkEvery == 0 || steps < 400) {
			s.mu.Lock() // nothing else runs; the race detector wants the lock
			checkOutboxAgainstModel(t, s, m, where)
			s.mu.Unlock()
		}
		return nil
	}
	shrank, maxLen, prevLen, unordered := 0, 0, 0, 0
	defer func() {
		t.Logf("queue shrank %d times, max %d, others %d, live %d", shrank, maxLen, unordered, len(m.evs))
	}()
	for range steps {
		require.NoError(t, op(ctx, 0))
		if l := s.box.queue.len(); l < prevLen {
			shrank++
		} else {
			maxLen = max(maxLen, l)
		}
		prevLen = s.box.queue.len()
		unordered = max(unordered, len(s.box.others))
		if rng.IntN(5) == 0 {
			now = now.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		}
	}
}

// modelSeeds is how many seeds a model test runs: n, or short with -short,
// or what ITSMKIT_OUTBOX_MODEL_SEEDS says.
func modelSeeds(n, short uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv("ITSMKIT_OUTBOX_MODEL_SEEDS"), 10, 64); err == nil {
		return v
	}
	if testing.Short() {
		return short
	}
	return n
}
