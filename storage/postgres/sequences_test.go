package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

// A transaction that draws a number needs a second connection. When every
// connection of the pool is held by the store's transactions, none can
// come free for it: Next says so at once, naming the pool's size, instead
// of waiting for ever (here, without the guard, until the test's context
// ends).
func TestNextInATransactionWithNoSpareConnectionFailsAtOnce(t *testing.T) {
	s, _ := openStore(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var nextErr error
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		_, nextErr = tx.(storage.Sequences).Next(ctx, tenant, "incident")
		return nextErr
	})
	require.ErrorIs(t, err, postgres.ErrNoSpareConnection)
	require.ErrorIs(t, err, itsm.ErrConflict, "services retry it, in a new transaction")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "it did not wait")
	assert.Contains(t, err.Error(), "MaxConns 1")

	// Through the store with the transaction's context, likewise.
	err = s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
		_, err := s.Next(ctx, tenant, "incident")
		return err
	})
	require.ErrorIs(t, err, postgres.ErrNoSpareConnection)

	// Outside a transaction the one connection serves it.
	v, err := s.Next(ctx, tenant, "incident")
	require.NoError(t, err)
	assert.Equal(t, int64(1), v, "the refused calls drew nothing")
}

// With a connection to spare, a transaction draws numbers as usual.
func TestNextInATransactionWithASpareConnection(t *testing.T) {
	s, _ := openStore(t, func(c *pgxpool.Config) { c.MaxConns = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		v, err := tx.(storage.Sequences).Next(ctx, tenant, "incident")
		assert.Equal(t, int64(1), v)
		return err
	})
	require.NoError(t, err)
}

// waitForLockWaiter returns once a backend of the schema's pool is waiting
// for a lock, watching from a connection of its own (the pool has none to
// spare).
func waitForLockWaiter(t *testing.T, ctx context.Context, schema string) {
	t.Helper()
	watch, err := pgx.Connect(ctx, serverURL(t))
	require.NoError(t, err)
	defer watch.Close(context.Background())
	for {
		var n int
		require.NoError(t, watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, "itsmkit-test-"+schema).Scan(&n))
		if n > 0 {
			return
		}
		require.NoError(t, ctx.Err(), "no call of the store came to wait for the lock")
		time.Sleep(5 * time.Millisecond)
	}
}

// A transaction that holds a CI's row lock draws a number while one of the
// store's own transactions (DeleteCI's) waits for that lock on the pool's
// other connection. That connection comes free only after the transaction
// ends, which PostgreSQL cannot see: Next must refuse at once instead of
// waiting in the pool. Counting only InTx's transactions, as Next once did,
// let it wait until the context ended.
func TestNextRefusesWhenAStoreCallWaitingOnTheTransactionHoldsTheLastConnection(t *testing.T) {
	pool, schema := schemaPool(t, func(c *pgxpool.Config) { c.MaxConns = 2 })
	s, err := postgres.Open(context.Background(), pool, postgres.Options{Migrate: true})
	require.NoError(t, err)
	reg := cmdb.NewRegistry()
	f := &cmdbFixture{t: t, repo: s.CMDB(reg), ids: itsmtest.NewIDs(99), tenant: tenant}
	ci := f.create(cmdb.ClassServer)

	outer, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deleted := make(chan error, 1)
	err = s.InTx(outer, func(ctx context.Context, tx storage.Store) error {
		u := ci
		u.Name = "renamed"
		// The update holds the CI's row lock until the transaction ends.
		if err := tx.(storage.CMDB).CMDB(reg).UpdateCI(ctx, u); err != nil {
			return err
		}
		go func() {
			// Outside the transaction: the store's own transaction.
			_, err := s.CMDB(reg).DeleteCI(outer, tenant, ci.ID, 1)
			deleted <- err
		}()
		waitForLockWaiter(t, outer, schema)
		_, err := tx.(storage.Sequences).Next(ctx, tenant, "incident")
		return err
	})
	require.ErrorIs(t, err, postgres.ErrNoSpareConnection)
	require.ErrorIs(t, err, itsm.ErrConflict, "services retry it, in a new transaction")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "it did not wait")
	assert.Contains(t, err.Error(), "MaxConns 2")
	// The transaction rolled back, so its update never happened and the
	// deletion, at the version it read, goes through.
	require.NoError(t, <-deleted)

	v, err := s.Next(outer, tenant, "incident")
	require.NoError(t, err)
	assert.Equal(t, int64(1), v, "the refused call drew nothing")
}

// A connection the host borrows from the pool itself counts too.
func TestNextRefusesWhenTheHostHoldsTheLastConnection(t *testing.T) {
	s, pool := openStore(t, func(c *pgxpool.Config) { c.MaxConns = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		conn, err := pool.Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()
		_, err = tx.(storage.Sequences).Next(ctx, tenant, "incident")
		return err
	})
	require.ErrorIs(t, err, postgres.ErrNoSpareConnection)
	assert.Contains(t, err.Error(), "MaxConns 2")

	// Once it is given back, the transaction has its spare connection.
	err = s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		v, err := tx.(storage.Sequences).Next(ctx, tenant, "incident")
		assert.Equal(t, int64(1), v)
		return err
	})
	require.NoError(t, err)
}

// Many transactions drawing numbers at once on a small pool: each either
// draws or is refused at once (how many of each depends on the timing);
// none waits for ever, and no value repeats.
func TestNextInManyTransactionsNeverWaitsOnItself(t *testing.T) {
	s, _ := openStore(t, func(c *pgxpool.Config) { c.MaxConns = 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const workers, draws = 8, 20
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range draws {
				err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
					v, err := tx.(storage.Sequences).Next(ctx, tenant, "incident")
					if err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					assert.False(t, seen[v], "value %d drawn twice", v)
					seen[v] = true
					return nil
				})
				if err != nil {
					assert.ErrorIs(t, err, postgres.ErrNoSpareConnection)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, ctx.Err(), "some draw waited until the deadline")
	// Once the pool is quiet again, a transaction draws the next value.
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		v, err := tx.(storage.Sequences).Next(ctx, tenant, "incident")
		assert.False(t, seen[v], "value %d drawn twice", v)
		return err
	})
	require.NoError(t, err)
}
