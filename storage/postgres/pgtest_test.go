package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/storage/postgres"
)

// The environment the tests read.
const (
	envURL     = "ITSMKIT_POSTGRES_URL"
	envRequire = "ITSMKIT_REQUIRE_POSTGRES"
)

// serverURL returns the test server's URL, skipping t when there is none,
// or failing it when ITSMKIT_REQUIRE_POSTGRES=1.
func serverURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s is not set and %s=1: these tests need a PostgreSQL server (scripts/test starts one)", envURL, envRequire)
		}
		t.Skipf("%s is not set: no PostgreSQL server to test against (scripts/test starts one; %s=1 makes this a failure)", envURL, envRequire)
	}
	return url
}

// schemas numbers the schemas this process makes; the process ID keeps
// packages tested in parallel processes apart.
var schemas atomic.Int64

// schemaPool makes a fresh schema on the test server, dropped when t ends,
// and returns a pool whose connections use it (search_path). Tweak, when
// given, adjusts the pool's configuration first.
func schemaPool(t testing.TB, tweak ...func(*pgxpool.Config)) (*pgxpool.Pool, string) {
	t.Helper()
	url := serverURL(t)
	ctx := context.Background()
	schema := fmt.Sprintf("t_%d_%d", os.Getpid(), schemas.Add(1))
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))

	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "itsmkit-test-" + schema
	cfg.MaxConns = 8
	for _, f := range tweak {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		pool.Close()
		admin, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return pool, schema
}

// openStore returns a migrated store on a fresh schema.
func openStore(t testing.TB, tweak ...func(*pgxpool.Config)) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	pool, _ := schemaPool(t, tweak...)
	s, err := postgres.Open(context.Background(), pool, postgres.Options{Migrate: true})
	require.NoError(t, err)
	return s, pool
}
