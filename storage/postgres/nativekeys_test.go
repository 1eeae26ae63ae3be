package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

// sqlKeysOutOfStep counts the differences between cmdb_native_keys and the
// keys the stored records carry, both ways.
const sqlKeysOutOfStep = `WITH carried AS (
	SELECT c.tenant_id, s.key AS source, s.value->>'native_id' AS native_id, c.id AS ci_id
	FROM cmdb_cis c, jsonb_each(c.doc->'sources') s)
SELECT (SELECT count(*) FROM (SELECT * FROM carried EXCEPT SELECT tenant_id, source, native_id, ci_id FROM cmdb_native_keys) a)
     + (SELECT count(*) FROM (SELECT tenant_id, source, native_id, ci_id FROM cmdb_native_keys EXCEPT SELECT * FROM carried) b)`

func keysOutOfStep(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sqlKeysOutOfStep).Scan(&n))
	return n
}

// Two discovery runs (four, twenty times over) of one source reporting the
// same new server at once, each through Reconcile in transactions at READ
// COMMITTED on a pool large enough for all of them to run side by side:
// before native keys had a table of their own, most tenants ended with two
// or more CIs carrying scan/srv-1. Now every run succeeds (the losers
// re-plan and find the winner's CI) and one CI carries the key.
func TestConcurrentReconcilesLeaveOneCIPerNativeKey(t *testing.T) {
	ctx := context.Background()
	reg := cmdb.NewRegistry()
	rc, err := cmdb.NewReconciler(reg, cmdb.DefaultRules())
	require.NoError(t, err)
	s, pool := openStore(t, func(c *pgxpool.Config) { c.MaxConns = 16 })
	repo, err := storage.CMDBRepository(s, reg)
	require.NoError(t, err)
	_, atomic := repo.(cmdb.Atomic)
	require.True(t, atomic, "each attempt runs in one transaction")
	gen := itsm.UUIDv7Generator()
	const rounds, workers = 20, 4
	for round := range rounds {
		tenant := itsm.TenantID(fmt.Sprintf("t%d", round))
		b := cmdb.Batch{Tenant: tenant, Source: "scan", At: cmdbAt, Items: []cmdb.Item{{
			NativeID: "srv-1", Class: cmdb.ClassServer, Name: "web01",
			Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue("web01")},
		}}}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() { <-start; _, errs[w] = rc.Reconcile(ctx, repo, gen, b) })
		}
		close(start)
		wg.Wait()
		for w, err := range errs {
			require.NoError(t, err, "round %d, run %d", round, w)
		}
		page, err := repo.ListCIs(ctx, tenant, cmdb.Filter{}, cmdb.Page{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1, "round %d", round)

		// A later complete batch keeps that CI and retires nothing.
		b.At, b.Complete = cmdbAt.Add(time.Hour), true
		p, err := rc.Reconcile(ctx, repo, gen, b)
		require.NoError(t, err)
		assert.Empty(t, p.Creates)
		assert.Empty(t, p.Retirements)
		assert.Nil(t, p.Guard)
	}
	assert.Zero(t, keysOutOfStep(t, pool))
}

// The key rows follow the records through creates, updates that keep,
// move, gain and drop keys, deletions with cascades, and rolled back
// transactions.
func TestNativeKeyRowsFollowTheRecords(t *testing.T) {
	ctx := context.Background()
	s, pool := openStore(t)
	reg := cmdb.NewRegistry()
	f := &cmdbFixture{t: t, repo: s.CMDB(reg), ids: itsmtest.NewIDs(7), tenant: tenant}
	host := f.create(cmdb.ClassServer)
	app := f.create(cmdb.ClassApplication)
	f.relate(cmdb.RelRunsOn, app, host)
	other := f.create(cmdb.ClassServer)
	assert.Zero(t, keysOutOfStep(t, pool))

	// Kept (the one-statement path), then moved, gained and dropped.
	u := other.Clone()
	u.Name = "renamed"
	require.NoError(t, f.repo.UpdateCI(ctx, u))
	u.Version = 2
	st := u.Sources["scan"]
	st.NativeID = "moved"
	u.Sources["scan"] = st
	u.Sources["cloud"] = cmdb.SourceState{NativeID: "i-1", LastSeen: cmdbAt}
	require.NoError(t, f.repo.UpdateCI(ctx, u))
	u.Version = 3
	assert.Zero(t, keysOutOfStep(t, pool))
	delete(u.Sources, "scan")
	require.NoError(t, f.repo.UpdateCI(ctx, u))
	assert.Zero(t, keysOutOfStep(t, pool))

	// Rolled back: neither the create's nor the deletion's key change stays.
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		repo := tx.(storage.CMDB).CMDB(reg)
		if _, err := repo.DeleteCI(ctx, tenant, host.ID, 1); err != nil {
			return err
		}
		if err := repo.CreateCI(ctx, f.record(cmdb.ClassServer)); err != nil {
			return err
		}
		return errRollBack
	})
	require.ErrorIs(t, err, errRollBack)
	assert.Zero(t, keysOutOfStep(t, pool))

	deleted, err := f.repo.DeleteCI(ctx, tenant, host.ID, 1)
	require.NoError(t, err)
	require.Len(t, deleted, 2, "the app goes with its host")
	assert.Zero(t, keysOutOfStep(t, pool))
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM cmdb_native_keys`).Scan(&left))
	assert.Equal(t, 1, left, "only the cloud key of the renamed server")
}

var errRollBack = fmt.Errorf("roll back")

// A database migrated before native keys had a table may hold CIs that
// share a key. Migration 3 gives each key to the CI reconciliation keeps it
// on (an original before a duplicate, then the older CI); the others keep
// their copy and can still be updated, and no new CI can take the key.
func TestMigrationGivesSharedKeysToOneCI(t *testing.T) {
	ctx := context.Background()
	pool, _ := schemaPool(t)
	s, err := postgres.Open(ctx, pool, postgres.Options{Migrate: true})
	require.NoError(t, err)
	reg := cmdb.NewRegistry()
	f := &cmdbFixture{t: t, repo: s.CMDB(reg), ids: itsmtest.NewIDs(8), tenant: tenant}
	mk := func(created time.Time, mods ...func(*cmdb.Record)) cmdb.Record {
		r := f.record(cmdb.ClassServer)
		r.Created, r.Updated = created, created
		for _, m := range mods {
			m(&r)
		}
		require.NoError(t, f.repo.CreateCI(ctx, r))
		r.Version = 1
		return r
	}
	newer := mk(cmdbAt.Add(time.Hour))
	older := mk(cmdbAt)
	oldest := mk(cmdbAt.Add(-time.Hour), func(r *cmdb.Record) { r.DuplicateOf = newer.ID })

	// Back to migration 2, then let all three carry newer's key.
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	undoIncidentFilters(t, pool)
	exec(`DROP TABLE cmdb_native_keys`)
	exec(`DELETE FROM itsmkit_schema_migrations WHERE version = 3`)
	shared := newer.Sources["scan"].NativeID
	for _, r := range []cmdb.Record{older, oldest} {
		exec(`UPDATE cmdb_cis SET doc = jsonb_set(doc, '{sources,scan,native_id}', to_jsonb($3::text))
			WHERE tenant_id = $1 AND id = $2`, string(tenant), r.ID.UUID(), shared)
	}
	_, err = postgres.Open(ctx, pool, postgres.Options{})
	require.ErrorIs(t, err, postgres.ErrSchemaVersion)
	s, err = postgres.Open(ctx, pool, postgres.Options{Migrate: true})
	require.NoError(t, err)
	f.repo = s.CMDB(reg)

	var owner [16]byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT ci_id FROM cmdb_native_keys WHERE tenant_id = $1 AND source = 'scan' AND native_id = $2`,
		string(tenant), shared).Scan(&owner))
	assert.Equal(t, older.ID, cmdb.IDFromUUID(owner), "the older of the originals")

	// The others still update, keeping the key they had, by either path.
	for _, r := range []cmdb.Record{newer, oldest} {
		got, err := f.repo.GetCI(ctx, tenant, r.ID)
		require.NoError(t, err)
		got.Name = "kept"
		require.NoError(t, f.repo.UpdateCI(ctx, got))
		got.Version++
		got.Sources["cloud"] = cmdb.SourceState{NativeID: "i-" + r.ID.String(), LastSeen: cmdbAt}
		require.NoError(t, f.repo.UpdateCI(ctx, got), "gaining a free key while keeping a shared one")
	}
	// Nobody new takes it.
	r := f.record(cmdb.ClassServer)
	st := r.Sources["scan"]
	st.NativeID = shared
	r.Sources["scan"] = st
	require.ErrorIs(t, f.repo.CreateCI(ctx, r), itsm.ErrAlreadyExists)
}

// Inside a caller's transaction a create that finds one of its keys taken
// stores nothing, not even the keys that were free, and leaves the
// transaction usable.
func TestCreateWithATakenKeyInATransactionKeepsItUsable(t *testing.T) {
	ctx := context.Background()
	s, pool := openStore(t)
	reg := cmdb.NewRegistry()
	f := &cmdbFixture{t: t, repo: s.CMDB(reg), ids: itsmtest.NewIDs(9), tenant: tenant}
	taken := f.create(cmdb.ClassServer)
	clash := f.record(cmdb.ClassServer)
	clash.Sources["scan"] = taken.Sources["scan"]
	clash.Sources["cloud"] = cmdb.SourceState{NativeID: "i-free", LastSeen: cmdbAt}
	clash.Sources["agent"] = cmdb.SourceState{NativeID: "a-free", LastSeen: cmdbAt}
	later := f.record(cmdb.ClassServer)
	later.Sources["cloud"] = clash.Sources["cloud"]
	err := s.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		repo := tx.(storage.CMDB).CMDB(reg)
		err := repo.CreateCI(ctx, clash)
		require.ErrorIs(t, err, itsm.ErrAlreadyExists)
		assert.Contains(t, err.Error(), "source scan")
		_, err = repo.GetCI(ctx, tenant, clash.ID)
		require.ErrorIs(t, err, itsm.ErrNotFound)
		// The free keys it held for a moment are free again.
		return repo.CreateCI(ctx, later)
	})
	require.NoError(t, err)
	got, err := f.repo.GetCI(ctx, tenant, later.ID)
	require.NoError(t, err)
	assert.Equal(t, "i-free", got.Sources["cloud"].NativeID)
	assert.Zero(t, keysOutOfStep(t, pool))
}
