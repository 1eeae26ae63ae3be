package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

func TestMigrationsAreNumberedWithoutGaps(t *testing.T) {
	ms := postgres.Migrations()
	require.NotEmpty(t, ms)
	for i, m := range ms {
		assert.Equal(t, i+1, m.Version, "migration %s", m.Name)
		assert.NotEmpty(t, m.Name)
		assert.Regexp(t, `(?m)^(CREATE|ALTER|UPDATE|WITH) `, m.SQL, "migration %d has statements", m.Version)
	}
	ms[0].SQL = "changed"
	assert.NotEqual(t, "changed", postgres.Migrations()[0].SQL, "Migrations hands out copies")
}

func TestMigrateIsIdempotentAndSafeInParallel(t *testing.T) {
	pool, _ := schemaPool(t)
	ctx := context.Background()
	const processes = 4
	applied := make([][]int, processes)
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for i := range processes {
		wg.Go(func() { applied[i], errs[i] = postgres.Migrate(ctx, pool) })
	}
	wg.Wait()
	var all []int
	for i := range processes {
		require.NoError(t, errs[i])
		all = append(all, applied[i]...)
	}
	want := make([]int, 0, len(postgres.Migrations()))
	for _, m := range postgres.Migrations() {
		want = append(want, m.Version)
	}
	assert.ElementsMatch(t, want, all, "each migration applied exactly once between them")
	again, err := postgres.Migrate(ctx, pool)
	require.NoError(t, err)
	assert.Empty(t, again, "an up-to-date schema gets nothing")
}

func TestOpenChecksTheSchema(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// prepare readies the schema; it returns what Open must say.
		prepare func(t *testing.T, exec func(sql string))
		opts    postgres.Options
		want    error
	}{
		{"never migrated", func(*testing.T, func(string)) {}, postgres.Options{}, postgres.ErrSchemaVersion},
		{"migrated on open", func(*testing.T, func(string)) {}, postgres.Options{Migrate: true}, nil},
		{"migrated before", func(t *testing.T, exec func(string)) { exec("") }, postgres.Options{}, nil},
		{"from a newer release", func(t *testing.T, exec func(string)) {
			exec("INSERT INTO itsmkit_schema_migrations (version, name) VALUES (9999, 'future')")
		}, postgres.Options{Migrate: true}, postgres.ErrSchemaVersion},
		{"behind", func(t *testing.T, exec func(string)) {
			exec("DELETE FROM itsmkit_schema_migrations WHERE version = (SELECT max(version) FROM itsmkit_schema_migrations)")
		}, postgres.Options{}, postgres.ErrSchemaVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool, _ := schemaPool(t)
			tc.prepare(t, func(sql string) {
				_, err := postgres.Migrate(ctx, pool)
				require.NoError(t, err)
				if sql != "" {
					_, err = pool.Exec(ctx, sql)
					require.NoError(t, err)
				}
			})
			s, err := postgres.Open(ctx, pool, tc.opts)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				assert.Nil(t, s)
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, s.Incidents())
		})
	}
}

func TestOpenRefusesBadArguments(t *testing.T) {
	_, err := postgres.Open(context.Background(), nil, postgres.Options{})
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("pool"))
	pool, _ := schemaPool(t)
	_, err = postgres.Open(context.Background(), pool, postgres.Options{Retries: 101})
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("retries"))
}

// Open without Migrate looks for the schema's bookkeeping in the schema
// Migrate would create it in, the first of the search_path, not in
// whichever schema of the path happens to have a table of that name: a
// store opened there would write to the later schema's tables for some
// statements and to the first's for others once it was migrated.
func TestOpenLooksOnlyInTheFirstSchemaOfTheSearchPath(t *testing.T) {
	poolA, schemaA := schemaPool(t)
	_, err := postgres.Migrate(context.Background(), poolA)
	require.NoError(t, err)
	_, schemaB := schemaPool(t)
	cfg, err := pgxpool.ParseConfig(serverURL(t))
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schemaB + "," + schemaA
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	defer pool.Close()
	_, err = postgres.Open(context.Background(), pool, postgres.Options{})
	require.ErrorIs(t, err, postgres.ErrSchemaVersion, "%s has had no migration", schemaB)
}
