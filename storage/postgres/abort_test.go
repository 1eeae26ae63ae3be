package postgres_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

func anEvent(v int64) itsm.Event {
	return itsm.Event{
		ID: uuid.Must(uuid.NewV7()), Type: "incident.updated", Tenant: tenant,
		Subject: itsm.Ref{Kind: itsm.KindIncident, ID: uuid.Must(uuid.NewV7())},
		Version: v, At: monday9, Actor: itsm.Actor{ID: "ana", Name: "Ana"},
		Payload: json.RawMessage(`{"n":1}`),
	}
}

// A multi-event append racing another transaction's uncommitted append of
// one of its IDs waits for that transaction and then reports
// ErrAlreadyExists having appended none, as the contract says; the
// caller's transaction goes on and commits what else it wrote.
func TestAppendLosingARaceLeavesTheTransactionUsable(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	e1, e2, e3, e4 := anEvent(1), anEvent(2), anEvent(3), anEvent(4)
	appended, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var otherErr error
	wg.Go(func() {
		otherErr = s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			if err := tx.(storage.Outbox).Append(ctx, e1, e2); err != nil {
				return err
			}
			close(appended)
			<-release
			return nil
		})
	})
	<-appended
	var appendErr error
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		time.AfterFunc(200*time.Millisecond, func() { close(release) })
		appendErr = tx.(storage.Outbox).Append(ctx, e3, e1) // waits for the other transaction
		return tx.(storage.Outbox).Append(ctx, e4)
	})
	wg.Wait()
	require.NoError(t, otherErr)
	require.ErrorIs(t, appendErr, itsm.ErrAlreadyExists)
	require.NoError(t, err, "the transaction stays usable after ErrAlreadyExists")
	b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "check", Now: monday9, Lease: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []uuid.UUID{e1.ID, e2.ID, e4.ID}, b.IDs(), "e3 was not appended")
}

// Outside a transaction, too, a multi-event append that loses a race
// appends none of its events.
func TestAppendLosingARaceOutsideATransactionAppendsNone(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	e1, e2, e3 := anEvent(1), anEvent(2), anEvent(3)
	appended, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			if err := tx.(storage.Outbox).Append(ctx, e1); err != nil {
				return err
			}
			close(appended)
			<-release
			return nil
		})
	})
	<-appended
	time.AfterFunc(200*time.Millisecond, func() { close(release) })
	err := s.Append(ctx, e2, e3, e1)
	wg.Wait()
	require.ErrorIs(t, err, itsm.ErrAlreadyExists)
	b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "check", Now: monday9, Lease: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []uuid.UUID{e1.ID}, b.IDs())
}

// When a statement fails on the server inside a caller's transaction (here
// a lock timeout), PostgreSQL refuses everything else until the
// transaction ends. The store reports those refusals, and the commit that
// becomes a rollback, as itsm.ErrConflict, which services retry.
func TestStatementsAfterAFailedOneAreConflicts(t *testing.T) {
	store, pool := openStore(t, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["lock_timeout"] = "100ms"
	})
	d := newDesk(t, store, pool, 1)
	inc := d.open(t)
	ctx := context.Background()
	holder := admin(t)
	_, err := holder.Exec(ctx, "SET search_path = "+pool.Config().ConnConfig.RuntimeParams["search_path"])
	require.NoError(t, err)
	lock, err := holder.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback(ctx) }()
	_, err = lock.Exec(ctx, "SELECT 1 FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE", string(tenant), [16]byte(inc.ID().UUID()))
	require.NoError(t, err)

	var updateErr, laterErr error
	err = store.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		got, err := tx.Incidents().Get(ctx, tenant, inc.ID())
		if err != nil {
			return err
		}
		got.Title = "changed"
		updateErr = tx.Incidents().Update(ctx, got)
		_, laterErr = tx.Incidents().Get(ctx, tenant, inc.ID())
		return nil // carry on regardless: the commit must not pretend
	})
	require.ErrorIs(t, updateErr, context.DeadlineExceeded, "the lock timeout")
	require.ErrorIs(t, laterErr, itsm.ErrConflict, "a statement after the failed one")
	require.ErrorIs(t, err, itsm.ErrConflict, "the commit of an aborted transaction")
}

// The columns lists filter on keep microseconds; the document would keep
// nanoseconds, and Filter.Matches would then disagree with the listing.
// So an instant a filter reads that is not whole to the microsecond is
// refused, naming the field, and nothing is written.
func TestSubMicrosecondInstantsThatListsFilterOnAreRefused(t *testing.T) {
	store, pool := openStore(t)
	d := newDesk(t, store, pool, 1)
	inc := d.open(t)
	ctx := context.Background()
	got, err := store.Incidents().Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	got.Status = "resolved"
	got.ResolvedAt = monday9.Add(1500 * time.Nanosecond)
	err = store.Incidents().Update(ctx, got)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("resolved_at"), "%v", err)
	got.ResolvedAt = monday9.Add(2 * time.Microsecond).In(time.FixedZone("X", 3600))
	require.NoError(t, store.Incidents().Update(ctx, got), "a whole microsecond, in any zone")
}
