package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// event returns a valid event about d at version v.
func (e *env) event(d incident.Data, v int64) itsm.Event {
	return itsm.Event{
		ID:      e.uuid(),
		Type:    "incident.updated",
		Tenant:  d.Tenant,
		Subject: d.ID.Ref(),
		Version: v,
		At:      d.UpdatedAt,
		Actor:   itsm.Actor{ID: agent.ID, Name: agent.Name, Roles: []string{"agent"}},
		Payload: json.RawMessage(fmt.Sprintf(`{"number":%q}`, d.Number)),
	}
}

func (e *env) events(n int) []itsm.Event {
	out := make([]itsm.Event, n)
	for i := range out {
		out[i] = e.event(e.data(tenantA), int64(i+1))
		require.NoError(e.t, out[i].Validate())
	}
	return out
}

// noEvents requires the outbox, when the store has a consumer, to hold no
// claimable event.
func (e *env) noEvents() {
	e.t.Helper()
	c, ok := e.store.(storage.OutboxConsumer)
	if !ok {
		return
	}
	b, err := c.Claim(context.Background(), claim("check", base.Add(1000*time.Hour), 0))
	require.NoError(e.t, err)
	assert.Empty(e.t, b.Events, "the outbox holds no event")
}

const lease = time.Minute

func claim(consumer string, now time.Time, limit int) storage.ClaimRequest {
	return storage.ClaimRequest{Consumer: consumer, Now: now, Lease: lease, Limit: limit}
}

func eventIDs(es []itsm.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(es))
	for i, ev := range es {
		out[i] = ev.ID
	}
	return out
}

func runOutbox(t *testing.T, open Opener) {
	t.Run("append and claim in order", func(t *testing.T) { testOutboxOrder(t, open) })
	t.Run("leases", func(t *testing.T) { testOutboxLeases(t, open) })
	t.Run("a lease of a fraction of a microsecond", func(t *testing.T) { testOutboxSubMicroLease(t, open) })
	t.Run("ack", func(t *testing.T) { testOutboxAck(t, open) })
	t.Run("refusals", func(t *testing.T) { testOutboxRefusals(t, open) })
	t.Run("the last instants kept", func(t *testing.T) { testOutboxLastInstants(t, open) })
	t.Run("no aliasing", func(t *testing.T) { testOutboxAliasing(t, open) })
	t.Run("nil and empty actor lists", func(t *testing.T) { testOutboxActorLists(t, open) })
	t.Run("transactions", func(t *testing.T) { testOutboxTx(t, open) })
	t.Run("incident.Atomic from IncidentConfig", func(t *testing.T) { testIncidentAtomic(t, open) })
	t.Run("claim and ack inside a transaction", func(t *testing.T) { testOutboxConsumerInTx(t, open) })
	t.Run("cancelled context", func(t *testing.T) { testOutboxCancelled(t, open) })
	t.Run("concurrent producers and consumers", func(t *testing.T) { testOutboxConcurrent(t, open) })
}

// outboxEnv returns the env and both halves of the outbox, skipping when
// the store lacks either.
func outboxEnv(t *testing.T, open Opener) (*env, storage.Outbox, storage.OutboxConsumer) {
	e := newEnv(t, open)
	return e, capability[storage.Outbox](t, e.store), capability[storage.OutboxConsumer](t, e.store)
}

func testOutboxOrder(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(5)
	require.NoError(t, ob.Append(ctx, evs[:2]...))
	require.NoError(t, ob.Append(ctx))
	require.NoError(t, ob.Append(ctx, evs[2:]...))

	now := base.Add(time.Hour)
	b, err := c.Claim(ctx, claim("relay", now, 3))
	require.NoError(t, err)
	assert.NotEmpty(t, b.Lease)
	assert.Equal(t, now.Add(lease), b.Until)
	assert.Equal(t, evs[:3], b.Events, "oldest first, whole events")
	b2, err := c.Claim(ctx, claim("relay", now, 0))
	require.NoError(t, err)
	assert.Equal(t, evs[3:], b2.Events)
	assert.NotEqual(t, b.Lease, b2.Lease, "every claim has its own lease")
	assert.Equal(t, eventIDs(b2.Events), b2.IDs())
}

func testOutboxLeases(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(5)
	require.NoError(t, ob.Append(ctx, evs...))
	now := base.Add(time.Hour)

	first, err := c.Claim(ctx, claim("a", now, 3))
	require.NoError(t, err)
	second, err := c.Claim(ctx, claim("b", now.Add(time.Second), 10))
	require.NoError(t, err)
	assert.Equal(t, evs[3:], second.Events, "held events are not handed out again")
	none, err := c.Claim(ctx, claim("c", now.Add(lease-time.Microsecond), 10))
	require.NoError(t, err)
	assert.Empty(t, none.Events, "every event is held")
	assert.Empty(t, none.Lease)

	// At now+lease the first lease has expired; the second has not.
	again, err := c.Claim(ctx, claim("c", now.Add(lease), 10))
	require.NoError(t, err)
	assert.Equal(t, evs[:3], again.Events, "events of an expired lease are claimable again")
	require.ErrorIs(t, c.Ack(ctx, first.Lease, first.IDs()...), itsm.ErrConflict,
		"the replaced lease no longer holds its events")
	require.NoError(t, c.Ack(ctx, again.Lease, again.IDs()...), "the conflict acknowledged nothing")
	// An expired lease that nobody replaced still holds its events.
	require.NoError(t, c.Ack(ctx, second.Lease, second.IDs()...))
	e.noEvents()
}

// Stores keep instants to the microsecond. A lease whose length is not a
// whole number of microseconds ends at the next whole microsecond, as
// Batch.Until says, never earlier than it says: the event is not
// claimable again before that instant, and is at it.
func testOutboxSubMicroLease(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(1)
	require.NoError(t, ob.Append(ctx, evs...))
	now := base.Add(time.Hour)
	b, err := c.Claim(ctx, storage.ClaimRequest{Consumer: "a", Now: now, Lease: 1500 * time.Nanosecond})
	require.NoError(t, err)
	require.Len(t, b.Events, 1)
	assert.Equal(t, now.Add(2*time.Microsecond), b.Until, "rounded up to the microsecond")
	held, err := c.Claim(ctx, claim("b", now.Add(time.Microsecond), 0))
	require.NoError(t, err)
	assert.Empty(t, held.Events, "the first lease still holds the event")
	again, err := c.Claim(ctx, claim("b", b.Until, 0))
	require.NoError(t, err)
	assert.Equal(t, evs, again.Events, "claimable at Until")
}

func testOutboxAck(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(4)
	require.NoError(t, ob.Append(ctx, evs...))
	now := base.Add(time.Hour)
	b, err := c.Claim(ctx, claim("relay", now, 3))
	require.NoError(t, err)
	require.Len(t, b.Events, 3)

	require.NoError(t, c.Ack(ctx, b.Lease, evs[0].ID, evs[2].ID))
	require.NoError(t, c.Ack(ctx, b.Lease, evs[0].ID), "a repeated Ack is harmless")
	require.ErrorIs(t, c.Ack(ctx, b.Lease, evs[1].ID, evs[3].ID), itsm.ErrConflict,
		"evs[3] was never claimed under this lease")

	later, err := c.Claim(ctx, claim("relay", now.Add(2*lease), 10))
	require.NoError(t, err)
	assert.Equal(t, []itsm.Event{evs[1], evs[3]}, later.Events,
		"acknowledged events are gone; the refused Ack acknowledged nothing")
	require.NoError(t, c.Ack(ctx, later.Lease, later.IDs()...))
	e.noEvents()
}

func testOutboxRefusals(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(3)
	bad := evs[1]
	bad.Type = "nodot"
	validationField(t, ob.Append(ctx, evs[0], bad, evs[2]), "events[1].type")
	// Instants outside the years every store keeps (itsm.InstantInRange)
	// are refused alike, whatever the store could hold.
	for _, at := range []time.Time{farFuture, time.Date(itsm.MinInstantYear-1, 12, 31, 0, 0, 0, 0, time.UTC)} {
		bad = evs[1]
		bad.At = at
		validationField(t, ob.Append(ctx, bad), "events[0].at")
		validationField(t, ob.Append(ctx, evs[0], bad), "events[1].at")
	}
	e.noEvents()

	require.NoError(t, ob.Append(ctx, evs[0]))
	require.ErrorIs(t, ob.Append(ctx, evs[1], evs[0]), itsm.ErrAlreadyExists, "an ID still in the outbox")
	require.ErrorIs(t, ob.Append(ctx, evs[2], evs[2]), itsm.ErrAlreadyExists, "an ID twice in one call")
	b, err := c.Claim(ctx, claim("relay", base, 0))
	require.NoError(t, err)
	assert.Equal(t, evs[:1], b.Events, "refused appends appended nothing")

	now := base
	requests := []struct {
		name  string
		req   storage.ClaimRequest
		field string
	}{
		{"no consumer", storage.ClaimRequest{Now: now, Lease: lease}, "consumer"},
		{"long consumer", storage.ClaimRequest{Consumer: string(make([]byte, storage.MaxConsumerLen+1)), Now: now, Lease: lease}, "consumer"},
		{"negative limit", storage.ClaimRequest{Consumer: "r", Now: now, Lease: lease, Limit: -1}, "limit"},
		{"limit too high", storage.ClaimRequest{Consumer: "r", Now: now, Lease: lease, Limit: storage.MaxClaimLimit + 1}, "limit"},
		{"no now", storage.ClaimRequest{Consumer: "r", Lease: lease}, "now"},
		{"far-future now", storage.ClaimRequest{Consumer: "r", Now: farFuture, Lease: lease}, "now"},
		{"now before the years kept", storage.ClaimRequest{Consumer: "r", Now: time.Date(itsm.MinInstantYear-1, 1, 1, 0, 0, 0, 0, time.UTC), Lease: lease}, "now"},
		{"no lease", storage.ClaimRequest{Consumer: "r", Now: now}, "lease"},
		{"negative lease", storage.ClaimRequest{Consumer: "r", Now: now, Lease: -lease}, "lease"},
	}
	for _, tc := range requests {
		t.Run("claim with "+tc.name, func(t *testing.T) {
			_, err := c.Claim(ctx, tc.req)
			validationField(t, err, tc.field)
		})
	}
	t.Run("ack without lease", func(t *testing.T) {
		validationField(t, c.Ack(ctx, "", evs[0].ID), "lease")
	})
	t.Run("ack without events", func(t *testing.T) {
		validationField(t, c.Ack(ctx, b.Lease), "ids")
	})
}

// farFuture is an instant Go holds but no store need: past the years
// itsm.InstantInRange accepts, and PostgreSQL's timestamptz too.
var farFuture = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)

// The latest instants the years kept allow are stored and claimed like any
// other, under the longest lease a time.Duration can say: bounding Now is
// enough for the lease's end to stay within what every store holds.
func testOutboxLastInstants(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	last := time.Date(itsm.MaxInstantYear, 12, 31, 23, 59, 59, 999999000, time.UTC)
	first := time.Date(itsm.MinInstantYear, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := e.events(2)
	evs[0].At, evs[1].At = last, first
	require.NoError(t, ob.Append(ctx, evs...))
	req := storage.ClaimRequest{Consumer: "relay", Now: last, Lease: math.MaxInt64}
	b, err := c.Claim(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, evs, b.Events)
	assert.Equal(t, req.Until(), b.Until)
	none, err := c.Claim(ctx, claim("relay", last, 0))
	require.NoError(t, err)
	assert.Empty(t, none.Events, "the lease holds the events until its end")
	require.NoError(t, c.Ack(ctx, b.Lease, b.IDs()...))
	e.noEvents()
}

func testOutboxAliasing(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(1)
	want := evs[0]
	given := want
	given.Payload = append(json.RawMessage(nil), want.Payload...)
	given.Actor = want.Actor.Clone()
	require.NoError(t, ob.Append(ctx, given))
	given.Payload[2] = 'X'
	given.Actor.Roles[0] = "mutated"

	b, err := c.Claim(ctx, claim("relay", base, 0))
	require.NoError(t, err)
	require.Equal(t, []itsm.Event{want}, b.Events, "mutating what Append was given changes nothing")
	b.Events[0].Payload[2] = 'Y'
	b.Events[0].Actor.Roles[0] = "mutated"
	b, err = c.Claim(ctx, claim("relay", base.Add(lease), 0))
	require.NoError(t, err)
	assert.Equal(t, []itsm.Event{want}, b.Events, "mutating what Claim returned changes nothing")
}

// An event's actor comes back with its nil lists nil and its empty ones
// empty: a store stores what it is given exactly.
func testOutboxActorLists(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(4)
	evs[0].Actor.Roles, evs[0].Actor.Groups = nil, nil
	evs[1].Actor.Roles, evs[1].Actor.Groups = []string{}, []string{}
	evs[2].Actor.Roles, evs[2].Actor.Groups = nil, []string{}
	evs[3].Actor.Roles, evs[3].Actor.Groups = []string{}, []string{"desk"}
	require.NoError(t, ob.Append(ctx, evs[:2]...))
	for _, ev := range evs[2:] {
		require.NoError(t, ob.Append(ctx, ev))
	}
	b, err := c.Claim(ctx, claim("relay", base, 0))
	require.NoError(t, err)
	assert.Equal(t, evs, b.Events)
}

func testOutboxTx(t *testing.T, open Opener) {
	e, _, c := outboxEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	ctx := context.Background()
	committed := e.data(tenantA)
	ev := e.event(committed, 1)
	err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := tx.Incidents().Create(ctx, committed); err != nil {
			return err
		}
		return capability[storage.Outbox](t, tx).Append(ctx, ev)
	})
	require.NoError(t, err)
	b, err := c.Claim(ctx, claim("relay", base, 0))
	require.NoError(t, err)
	assert.Equal(t, []itsm.Event{ev}, b.Events, "the event committed with its incident")
	require.NoError(t, c.Ack(ctx, b.Lease, b.IDs()...))
	// Rollback is covered by the Transactor tests, which append too.
}

// testIncidentAtomic checks the incident.Atomic that storage.IncidentConfig
// hands the incident service (the store's own, or the bridge over its
// Transactor and Outbox): an incident write and its events commit together
// or not at all, a nested Atomically is a savepoint, and the events become
// claimable only once the outer call commits.
func testIncidentAtomic(t *testing.T, open Opener) {
	e, _, c := outboxEnv(t, open)
	capability[storage.Transactor](t, e.store)
	cfg, err := storage.IncidentConfig(e.store)
	require.NoError(t, err)
	atomic, ok := cfg.Repository.(incident.Atomic)
	require.True(t, ok, "IncidentConfig on a store with transactions and an outbox gives an incident.Atomic")
	ctx := context.Background()
	boom := errors.New("boom")

	kept, lost, inner := e.data(tenantA), e.data(tenantA), e.data(tenantA)
	err = atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.Create(ctx, kept); err != nil {
			return err
		}
		if err := tx.Append(ctx, e.event(kept, 1)); err != nil {
			return err
		}
		nested, ok := tx.(incident.Atomic)
		if !ok {
			return nil // savepoints through Atomic are optional
		}
		err := nested.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
			if err := tx.Create(ctx, inner); err != nil {
				return err
			}
			if err := tx.Append(ctx, e.event(inner, 1)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			return fmt.Errorf("the nested call returned %v, not its own error", err)
		}
		return nil
	})
	require.NoError(t, err)
	_, err = e.repo.Get(ctx, tenantA, inner.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "a failed nested call keeps nothing")

	err = atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.Create(ctx, lost); err != nil {
			return err
		}
		if err := tx.Append(ctx, e.event(lost, 1)); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = e.repo.Get(ctx, tenantA, lost.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "a failed call writes nothing")

	got, err := e.repo.Get(ctx, tenantA, kept.ID)
	require.NoError(t, err)
	assert.Equal(t, kept.Number, got.Number)
	b, err := c.Claim(ctx, claim("relay", base, 0))
	require.NoError(t, err)
	require.Len(t, b.Events, 1, "only the committed write's event")
	assert.Equal(t, kept.ID.Ref(), b.Events[0].Subject)
	require.NoError(t, c.Ack(ctx, b.Lease, b.IDs()...))
}

// Claim and Ack called with a transaction's context run inside it, like
// every call made with that context: both commit or vanish with it. (A
// consumer acknowledging in the transaction that handles the events gets
// them handled exactly once within the store.)
func testOutboxConsumerInTx(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	// A store that ran Ack outside the transaction Claim ran in would wait
	// on its own row locks: bound the test instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs := e.events(3)
	require.NoError(t, ob.Append(ctx, evs...))
	now := base.Add(time.Hour)

	t.Run("a rollback undoes the claim and the ack", func(t *testing.T) {
		boom := fmt.Errorf("handler failed")
		err := tr.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
			b, err := c.Claim(ctx, claim("relay", now, 2))
			if err != nil {
				return err
			}
			if len(b.Events) != 2 {
				return fmt.Errorf("claimed %d events, want 2", len(b.Events))
			}
			if err := c.Ack(ctx, b.Lease, b.IDs()...); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		b, err := c.Claim(ctx, claim("check", now, 0))
		require.NoError(t, err)
		assert.Equal(t, evs, b.Events, "the rolled back claim leased nothing and acknowledged nothing")
		require.NoError(t, c.Ack(ctx, b.Lease, evs[2].ID))
	})
	t.Run("a commit keeps both", func(t *testing.T) {
		err := tr.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
			b, err := c.Claim(ctx, claim("relay", now.Add(2*lease), 0))
			if err != nil {
				return err
			}
			if len(b.Events) != 2 {
				return fmt.Errorf("claimed %d events, want 2", len(b.Events))
			}
			if err := c.Ack(ctx, b.Lease, b.IDs()[0]); err != nil {
				return err
			}
			return c.Ack(ctx, "lease-of-nobody", b.IDs()[1])
		})
		require.ErrorIs(t, err, itsm.ErrConflict, "Ack inside the transaction checks the lease as outside")
		err = tr.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
			b, err := c.Claim(ctx, claim("relay", now.Add(2*lease), 0))
			if err != nil {
				return err
			}
			return c.Ack(ctx, b.Lease, b.IDs()...)
		})
		require.NoError(t, err)
		e.noEvents()
	})
}

func testOutboxCancelled(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	evs := e.events(2)
	require.ErrorIs(t, ob.Append(cancelled(), evs[0]), context.Canceled)
	e.noEvents()
	require.NoError(t, ob.Append(ctx, evs...))
	_, err := c.Claim(cancelled(), claim("relay", base, 0))
	require.ErrorIs(t, err, context.Canceled)
	b, err := c.Claim(ctx, claim("relay", base, 0))
	require.NoError(t, err)
	require.Equal(t, evs, b.Events, "the cancelled claim leased nothing")
	require.ErrorIs(t, c.Ack(cancelled(), b.Lease, b.IDs()...), context.Canceled)
	require.NoError(t, c.Ack(ctx, b.Lease, b.IDs()...), "the cancelled Ack acknowledged nothing")
	e.noEvents()
}

func testOutboxConcurrent(t *testing.T, open Opener) {
	e, ob, c := outboxEnv(t, open)
	ctx := context.Background()
	const producers, perProducer, consumers = writers, 15, 8
	var wg sync.WaitGroup
	appended := make([][]itsm.Event, producers)
	for p := range producers {
		appended[p] = e.events(perProducer)
		wg.Go(func() {
			for _, ev := range appended[p] {
				assert.NoError(t, ob.Append(ctx, ev))
			}
		})
	}
	wg.Wait()

	// Every consumer claims with the same instant and a long lease, so no
	// lease expires: each event must reach exactly one consumer.
	now := base.Add(time.Hour)
	got := make([][]uuid.UUID, consumers)
	for k := range consumers {
		wg.Go(func() {
			for {
				b, err := c.Claim(ctx, storage.ClaimRequest{Consumer: fmt.Sprintf("relay-%d", k), Now: now, Lease: time.Hour, Limit: 7})
				if !assert.NoError(t, err) || len(b.Events) == 0 {
					return
				}
				got[k] = append(got[k], b.IDs()...)
				if !assert.NoError(t, c.Ack(ctx, b.Lease, b.IDs()...)) {
					return
				}
			}
		})
	}
	wg.Wait()

	owner := map[uuid.UUID]int{}
	for k, list := range got {
		for _, id := range list {
			prev, dup := owner[id]
			require.False(t, dup, "event %s went to consumers %d and %d", id, prev, k)
			owner[id] = k
		}
	}
	for _, list := range appended {
		for _, ev := range list {
			_, ok := owner[ev.ID]
			require.True(t, ok, "event %s was never delivered", ev.ID)
		}
	}
	assert.Len(t, owner, producers*perProducer)
	e.noEvents()
}
