package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
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
