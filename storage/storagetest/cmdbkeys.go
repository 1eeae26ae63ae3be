package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// runCMDBNativeKeys checks that a native key (source, native ID) is
// carried by at most one CI of a tenant: a store refuses a create that
// would repeat one (itsm.ErrAlreadyExists) and an update that would give a
// CI one another carries (itsm.ErrConflict), and frees a key when its CI
// drops it, is deleted, or its write rolls back.
func runCMDBNativeKeys(t *testing.T, open Opener) {
	t.Run("one CI per native key", func(t *testing.T) { testCMDBNativeKeys(t, open) })
	t.Run("native keys freed", func(t *testing.T) { testCMDBNativeKeysFreed(t, open) })
	t.Run("native keys rolled back", func(t *testing.T) { testCMDBNativeKeysRollback(t, open) })
	t.Run("native keys, concurrent writers", func(t *testing.T) { testCMDBNativeKeysConcurrent(t, open) })
	t.Run("concurrent reconciles of one new item", func(t *testing.T) { testCMDBConcurrentReconciles(t, open) })
}

// withKey makes r carry native as its scan source's native ID.
func withKey(native string) func(*cmdb.Record) {
	return func(r *cmdb.Record) {
		st := r.Sources["scan"]
		st.NativeID = native
		r.Sources["scan"] = st
	}
}

// withSource adds a source reporting r under native.
func withSource(source cmdb.SourceName, native string) func(*cmdb.Record) {
	return func(r *cmdb.Record) {
		r.Sources[source] = cmdb.SourceState{NativeID: native, LastSeen: r.Updated}
	}
}

// keyed changes r (as read) to carry native as its scan key.
func keyed(r cmdb.Record, native string) cmdb.Record {
	r = r.Clone()
	withKey(native)(&r)
	return r
}

func testCMDBNativeKeys(t *testing.T, open Opener) {
	ctx := context.Background()
	e := newCMDBEnv(t, open)
	first := e.create(tenantA, cmdb.ClassServer, withKey("srv-1"))

	t.Run("create repeating a key", func(t *testing.T) {
		r := e.record(tenantA, cmdb.ClassServer)
		withKey("srv-1")(&r)
		err := e.repo.CreateCI(ctx, r)
		require.ErrorIs(t, err, itsm.ErrAlreadyExists)
		_, err = e.repo.GetCI(ctx, tenantA, r.ID)
		require.ErrorIs(t, err, itsm.ErrNotFound, "a refused create writes nothing")

		// The same key among other sources' keys is refused all the same.
		r = e.record(tenantA, cmdb.ClassServer)
		withKey("srv-1")(&r)
		withSource("cloud", "i-0abc")(&r)
		require.ErrorIs(t, e.repo.CreateCI(ctx, r), itsm.ErrAlreadyExists)
		// Nothing of it was kept: its other key is still free.
		e.create(tenantA, cmdb.ClassServer, withSource("cloud", "i-0abc"))
	})
	t.Run("the same native ID elsewhere", func(t *testing.T) {
		// Another source, another tenant: other keys.
		e.create(tenantA, cmdb.ClassServer, withKey("srv-other"), withSource("agent", "srv-1"))
		e.create(tenantB, cmdb.ClassServer, withKey("srv-1"))
	})
	t.Run("update gaining a key", func(t *testing.T) {
		other := e.create(tenantA, cmdb.ClassServer)
		err := e.repo.UpdateCI(ctx, keyed(other, "srv-1"))
		require.ErrorIs(t, err, itsm.ErrConflict)
		assert.Equal(t, other, e.get(tenantA, other.ID), "a refused update writes nothing")

		// Gaining it through a new source is refused too.
		gain := other.Clone()
		withSource("cloud", "i-0abc")(&gain)
		require.ErrorIs(t, e.repo.UpdateCI(ctx, gain), itsm.ErrConflict)
		assert.Equal(t, other, e.get(tenantA, other.ID))
	})
	t.Run("update keeping its keys", func(t *testing.T) {
		next := touch(first, "kept")
		require.NoError(t, e.repo.UpdateCI(ctx, next))
		next.Version = 2
		assert.Equal(t, next, e.get(tenantA, first.ID))
		first = next
	})
}

func testCMDBNativeKeysFreed(t *testing.T, open Opener) {
	ctx := context.Background()
	e := newCMDBEnv(t, open)
	t.Run("by a key that moves", func(t *testing.T) {
		a := e.create(tenantA, cmdb.ClassServer, withKey("move-1"))
		require.NoError(t, e.repo.UpdateCI(ctx, keyed(a, "move-2")))
		b := e.create(tenantA, cmdb.ClassServer, withKey("move-1"))
		// And back: move-2 is a's, move-1 is b's now.
		require.ErrorIs(t, e.repo.UpdateCI(ctx, keyed(b, "move-2")), itsm.ErrConflict)
	})
	t.Run("by a source dropped", func(t *testing.T) {
		a := e.create(tenantA, cmdb.ClassServer, withSource("cloud", "drop-1"))
		next := a.Clone()
		delete(next.Sources, "cloud")
		require.NoError(t, e.repo.UpdateCI(ctx, next))
		e.create(tenantA, cmdb.ClassServer, withSource("cloud", "drop-1"))
	})
	t.Run("by deletion, cascades included", func(t *testing.T) {
		host := e.create(tenantA, cmdb.ClassServer, withKey("del-host"))
		app := e.create(tenantA, cmdb.ClassApplication, withKey("del-app"))
		e.relate(cmdb.RelRunsOn, app, host) // the app goes with the host
		deleted, err := e.repo.DeleteCI(ctx, tenantA, host.ID, 1)
		require.NoError(t, err)
		require.Len(t, deleted, 2)
		e.create(tenantA, cmdb.ClassServer, withKey("del-host"))
		e.create(tenantA, cmdb.ClassApplication, withKey("del-app"))
	})
	t.Run("by a key given up and taken in one transaction", func(t *testing.T) {
		tr, ok := e.store.(storage.Transactor)
		if !ok {
			t.Skip("the store has no transactions")
		}
		a := e.create(tenantA, cmdb.ClassServer, withKey("swap-1"))
		b := e.create(tenantA, cmdb.ClassServer, withKey("swap-2"))
		err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			repo := tx.(storage.CMDB).CMDB(e.reg)
			require.NoError(t, repo.UpdateCI(ctx, keyed(a, "swap-tmp")))
			require.NoError(t, repo.UpdateCI(ctx, keyed(b, "swap-1")))
			back := keyed(a, "swap-2")
			back.Version = 2
			return repo.UpdateCI(ctx, back)
		})
		require.NoError(t, err)
		assert.Equal(t, "swap-2", e.get(tenantA, a.ID).Sources["scan"].NativeID)
		assert.Equal(t, "swap-1", e.get(tenantA, b.ID).Sources["scan"].NativeID)
	})
}

func testCMDBNativeKeysRollback(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	tr, ok := e.store.(storage.Transactor)
	if !ok {
		t.Skip("the store has no transactions")
	}
	ctx := context.Background()
	moved := e.create(tenantA, cmdb.ClassServer, withKey("rb-moved"))
	gone := e.create(tenantA, cmdb.ClassServer, withKey("rb-deleted"))
	boom := errors.New("roll back")
	err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		repo := tx.(storage.CMDB).CMDB(e.reg)
		fresh := e.record(tenantA, cmdb.ClassServer)
		withKey("rb-created")(&fresh)
		require.NoError(t, repo.CreateCI(ctx, fresh))
		require.NoError(t, repo.UpdateCI(ctx, keyed(moved, "rb-elsewhere")))
		_, err := repo.DeleteCI(ctx, tenantA, gone.ID, 1)
		require.NoError(t, err)
		// Inside the transaction, keys given up are free and keys taken
		// are not.
		taker := e.record(tenantA, cmdb.ClassServer)
		withKey("rb-deleted")(&taker)
		require.NoError(t, repo.CreateCI(ctx, taker))
		clash := e.record(tenantA, cmdb.ClassServer)
		withKey("rb-created")(&clash)
		require.ErrorIs(t, repo.CreateCI(ctx, clash), itsm.ErrAlreadyExists)
		return boom
	})
	require.ErrorIs(t, err, boom)
	// After the rollback the keys are where they were before it.
	e.create(tenantA, cmdb.ClassServer, withKey("rb-created"))
	e.create(tenantA, cmdb.ClassServer, withKey("rb-elsewhere"))
	for _, native := range []string{"rb-moved", "rb-deleted"} {
		r := e.record(tenantA, cmdb.ClassServer)
		withKey(native)(&r)
		require.ErrorIs(t, e.repo.CreateCI(ctx, r), itsm.ErrAlreadyExists, native)
	}
}

// Writers racing to put one key on different CIs: exactly one wins.
func testCMDBNativeKeysConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	race := func(t *testing.T, write func(i int) error, loser error) int {
		t.Helper()
		errs := make([]error, writers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() { <-start; errs[i] = write(i) })
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "writers %d and %d both won", winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, loser, "writer %d", i)
		}
		require.NotEqual(t, -1, winner, "exactly one writer wins")
		return winner
	}
	t.Run("creates", func(t *testing.T) {
		e := newCMDBEnv(t, open)
		recs := make([]cmdb.Record, writers)
		for i := range recs {
			recs[i] = e.record(tenantA, cmdb.ClassServer)
			withKey("race-1")(&recs[i])
		}
		w := race(t, func(i int) error { return e.repo.CreateCI(ctx, recs[i]) }, itsm.ErrAlreadyExists)
		assert.Equal(t, []cmdb.ID{recs[w].ID}, carriers(t, e, "race-1"))
	})
	t.Run("updates", func(t *testing.T) {
		e := newCMDBEnv(t, open)
		recs := make([]cmdb.Record, writers)
		for i := range recs {
			recs[i] = keyed(e.create(tenantA, cmdb.ClassServer), "race-2")
		}
		w := race(t, func(i int) error { return e.repo.UpdateCI(ctx, recs[i]) }, itsm.ErrConflict)
		assert.Equal(t, []cmdb.ID{recs[w].ID}, carriers(t, e, "race-2"))
	})
}

// carriers lists the CIs of tenantA whose scan key is native.
func carriers(t *testing.T, e *cmdbEnv, native string) []cmdb.ID {
	t.Helper()
	var out []cmdb.ID
	for _, r := range collectCIs(t, e.repo, tenantA, cmdb.Filter{Source: "scan"}, 0) {
		if r.Sources["scan"].NativeID == native {
			out = append(out, r.ID)
		}
	}
	return out
}

// Discovery runs of one source reporting the same new server at once, each
// through Reconcile: the store refuses all but the first CI carrying the
// key, the others re-plan and find it, and every run succeeds. Then a
// complete batch finds one CI to keep and nothing to retire. Both through
// the repository with cmdb.Atomic (one transaction per attempt, where the
// store has them) and through the plain repository.
func testCMDBConcurrentReconciles(t *testing.T, open Opener) {
	ctx := context.Background()
	const tenants, runs = 8, 4
	for _, atomic := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic=%t", atomic), func(t *testing.T) {
			e := newCMDBEnv(t, open)
			repo := e.repo
			if atomic {
				var err error
				repo, err = storage.CMDBRepository(e.store, e.reg)
				require.NoError(t, err)
			}
			rc, err := cmdb.NewReconciler(e.reg, cmdb.DefaultRules())
			require.NoError(t, err)
			gen := itsm.UUIDv7Generator()
			for n := range tenants {
				tenant := itsm.TenantID(fmt.Sprintf("race-%d", n))
				b := cmdb.Batch{Tenant: tenant, Source: "scan", At: base, Items: []cmdb.Item{{
					NativeID: "srv-1", Class: cmdb.ClassServer, Name: "web01",
					Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue("web01")},
				}}}
				errs := make([]error, runs)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range runs {
					wg.Go(func() { <-start; _, errs[i] = rc.Reconcile(ctx, repo, gen, b) })
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					require.NoError(t, err, "run %d of tenant %s", i, tenant)
				}
				all := collectCIs(t, repo, tenant, cmdb.Filter{}, 0)
				require.Len(t, all, 1, "tenant %s: one CI for one native key", tenant)

				b.At, b.Complete = base.Add(time.Hour), true
				plan, err := rc.Reconcile(ctx, repo, gen, b)
				require.NoError(t, err)
				assert.Empty(t, plan.Creates, "tenant %s", tenant)
				assert.Empty(t, plan.Retirements, "tenant %s", tenant)
				assert.Nil(t, plan.Guard, "tenant %s: the guard has nothing to stop", tenant)
				assert.Equal(t, []cmdb.ID{all[0].ID}, ciIDs(collectCIs(t, repo, tenant, cmdb.Filter{Statuses: []cmdb.Status{cmdb.StatusInUse}}, 0)))
			}
		})
	}
}

func ciIDs(recs []cmdb.Record) []cmdb.ID {
	out := make([]cmdb.ID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}
