package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A panic inside one of the store's own transactions rolls it back and
// gives its connection back to the pool before the panic goes on.
func TestOwnTransactionRollsBackOnPanic(t *testing.T) {
	url := os.Getenv("ITSMKIT_POSTGRES_URL")
	if url == "" {
		if os.Getenv("ITSMKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ITSMKIT_POSTGRES_URL is not set and ITSMKIT_REQUIRE_POSTGRES=1")
		}
		t.Skip("ITSMKIT_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	s := newStore(pool, 0)
	require.PanicsWithValue(t, "boom", func() {
		_ = s.ownTx(ctx, func(q querier) error {
			if _, err := q.Exec(ctx, "SELECT 1"); err != nil {
				return err
			}
			panic("boom")
		})
	})
	if assert.Zero(t, pool.Stat().AcquiredConns(), "the connection went back to the pool") {
		pool.Close() // it would wait for ever on a connection never given back
	}
}
