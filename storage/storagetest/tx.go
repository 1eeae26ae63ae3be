package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

var errRefused = errors.New("storagetest: the callback refused")

func runTransactor(t *testing.T, open Opener) {
	t.Run("commit", func(t *testing.T) { testTxCommit(t, open) })
	t.Run("rollback", func(t *testing.T) { testTxRollback(t, open) })
	t.Run("savepoints", func(t *testing.T) { testTxSavepoints(t, open) })
	t.Run("ended", func(t *testing.T) { testTxEnded(t, open) })
	t.Run("busy while a nested transaction runs", func(t *testing.T) { testTxBusy(t, open) })
	t.Run("returning while a nested transaction runs", func(t *testing.T) { testTxReturnWhileNested(t, open) })
	t.Run("cancelled context", func(t *testing.T) { testTxCancelled(t, open) })
	t.Run("nil function", func(t *testing.T) {
		e := newEnv(t, open)
		tr := capability[storage.Transactor](t, e.store)
		validationField(t, tr.InTx(context.Background(), nil), "fn")
	})
	t.Run("concurrent transactions", func(t *testing.T) { testTxConcurrent(t, open) })
	t.Run("sequences stay used", func(t *testing.T) { testTxSequences(t, open) })
}

// present requires the incidents to be stored as given.
func (e *env) present(ds ...incident.Data) {
	e.t.Helper()
	for _, d := range ds {
		got, err := e.repo.Get(context.Background(), d.Tenant, d.ID)
		require.NoError(e.t, err)
		assert.Equal(e.t, d, got)
	}
}

// absent requires the incidents not to be stored.
func (e *env) absent(ds ...incident.Data) {
	e.t.Helper()
	for _, d := range ds {
		_, err := e.repo.Get(context.Background(), d.Tenant, d.ID)
		require.ErrorIs(e.t, err, itsm.ErrNotFound, "incident %s should not be stored", d.Number)
	}
}

func testTxCommit(t *testing.T, open Opener) {
	e := newEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	old := e.create(tenantA)
	a, b := e.data(tenantA), e.data(tenantB)
	next := assign(old, "network", "bob")

	err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
		repo := tx.Incidents()
		require.NoError(t, repo.Create(ctx, a))
		require.NoError(t, repo.Create(ctx, b))
		require.NoError(t, repo.Update(ctx, next))
		// The transaction reads its own writes.
		got, err := repo.Get(ctx, tenantA, a.ID)
		require.NoError(t, err)
		assert.Equal(t, a.Number, got.Number)
		got, err = repo.GetByNumber(ctx, tenantA, old.Number)
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.Version)
		page, err := repo.List(ctx, tenantA, incident.Filter{Group: "network"}, incident.Page{})
		require.NoError(t, err)
		assert.Equal(t, []incident.ID{old.ID}, ids(page.Items))
		return nil
	})
	require.NoError(t, err)
	a.Version, b.Version, next.Version = 1, 1, 2
	e.present(a, b, next)
}

func testTxRollback(t *testing.T, open Opener) {
	tests := []struct {
		name string
		// end finishes the callback after its writes.
		end func(ctx context.Context, tx storage.Store, e *env) error
		// panics says end panics with errRefused.
		panics bool
		want   error
	}{
		{"callback error", func(context.Context, storage.Store, *env) error { return errRefused }, false, errRefused},
		{"wrapped callback error", func(context.Context, storage.Store, *env) error {
			return fmt.Errorf("deciding: %w", errRefused)
		}, false, errRefused},
		{"store error passed on", func(ctx context.Context, tx storage.Store, e *env) error {
			d := e.data(tenantA)
			d.Version = 5
			return tx.Incidents().Create(ctx, d)
		}, false, itsm.ErrInvalid},
		{"not found passed on", func(ctx context.Context, tx storage.Store, e *env) error {
			d := e.data(tenantA)
			d.Version = 1
			return tx.Incidents().Update(ctx, d)
		}, false, itsm.ErrNotFound},
		{"panic", func(context.Context, storage.Store, *env) error { panic(errRefused) }, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, open)
			tr := capability[storage.Transactor](t, e.store)
			_, hasOutbox := e.store.(storage.Outbox)
			old := e.create(tenantA)
			a := e.data(tenantA)
			run := func() error {
				return tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
					require.NoError(t, tx.Incidents().Create(ctx, a))
					require.NoError(t, tx.Incidents().Update(ctx, assign(old, "network", "bob")))
					// A write through the store itself with the
					// transaction's context is part of the transaction.
					require.NoError(t, e.repo.Update(ctx, retitle(withVersion(a, 1), "second write")))
					if hasOutbox {
						ob := capability[storage.Outbox](t, tx)
						require.NoError(t, ob.Append(ctx, e.event(a, 1)))
					}
					return tc.end(ctx, tx, e)
				})
			}
			if tc.panics {
				require.PanicsWithValue(t, errRefused, func() { _ = run() })
			} else {
				require.ErrorIs(t, run(), tc.want)
			}
			e.absent(a)
			e.present(old)
			e.noEvents()
			// The store is usable afterwards.
			e.create(tenantA)
		})
	}
}

func testTxSavepoints(t *testing.T, open Opener) {
	nest := []struct {
		name string
		// inner opens a nested transaction from inside an outer one.
		inner func(ctx context.Context, outer storage.Store, e *env, fn func(context.Context, storage.Store) error) error
	}{
		{"through the transaction's store", func(ctx context.Context, outer storage.Store, e *env, fn func(context.Context, storage.Store) error) error {
			return capability[storage.Transactor](e.t, outer).InTx(ctx, fn)
		}},
		{"through the store with the transaction's context", func(ctx context.Context, _ storage.Store, e *env, fn func(context.Context, storage.Store) error) error {
			return capability[storage.Transactor](e.t, e.store).InTx(ctx, fn)
		}},
	}
	for _, n := range nest {
		t.Run(n.name+"/inner failure undoes only the inner writes", func(t *testing.T) {
			e := newEnv(t, open)
			tr := capability[storage.Transactor](t, e.store)
			a, b, c := e.data(tenantA), e.data(tenantA), e.data(tenantA)
			err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
				require.NoError(t, tx.Incidents().Create(ctx, a))
				err := n.inner(ctx, tx, e, func(ctx context.Context, tx storage.Store) error {
					require.NoError(t, tx.Incidents().Create(ctx, b))
					require.NoError(t, tx.Incidents().Update(ctx, retitle(withVersion(a, 1), "inner")))
					return errRefused
				})
				require.ErrorIs(t, err, errRefused, "the inner error reaches the outer callback")
				got, err := tx.Incidents().Get(ctx, tenantA, a.ID)
				require.NoError(t, err)
				assert.Equal(t, int64(1), got.Version, "the inner update was undone")
				_, err = tx.Incidents().Get(ctx, tenantA, b.ID)
				require.ErrorIs(t, err, itsm.ErrNotFound, "the inner create was undone")
				return tx.Incidents().Create(ctx, c)
			})
			require.NoError(t, err)
			e.present(withVersion(a, 1), withVersion(c, 1))
			e.absent(b)
		})
		t.Run(n.name+"/inner success waits for the outer commit", func(t *testing.T) {
			e := newEnv(t, open)
			tr := capability[storage.Transactor](t, e.store)
			a, b := e.data(tenantA), e.data(tenantA)
			err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
				require.NoError(t, tx.Incidents().Create(ctx, a))
				require.NoError(t, n.inner(ctx, tx, e, func(ctx context.Context, tx storage.Store) error {
					return tx.Incidents().Create(ctx, b)
				}))
				return errRefused
			})
			require.ErrorIs(t, err, errRefused)
			e.absent(a, b)
		})
	}
}

func withVersion(d incident.Data, v int64) incident.Data {
	d = d.Clone()
	d.Version = v
	return d
}

// After InTx returns, every call made through the transaction's Store, or
// through the Store with the transaction's context, gives ErrTxDone and
// does nothing: reads, writes, a nested InTx, and the capabilities too,
// even those that work outside transactions (a sequence) or would write
// nothing (an empty append).
func testTxEnded(t *testing.T, open Opener) {
	e := newEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	stored := e.create(tenantA)
	bg := context.Background()
	for i, outcome := range []error{nil, errRefused} {
		var kept storage.Store
		var keptCtx context.Context
		err := tr.InTx(bg, func(ctx context.Context, tx storage.Store) error {
			kept, keptCtx = tx, ctx
			return outcome
		})
		require.ErrorIs(t, err, outcome)
		require.NotNil(t, kept)
		_, err = kept.Incidents().Get(bg, tenantA, stored.ID)
		require.ErrorIs(t, err, storage.ErrTxDone, "the transaction's store after the end")
		late := e.data(tenantA)
		require.ErrorIs(t, kept.Incidents().Create(bg, late), storage.ErrTxDone)
		_, err = e.repo.Get(keptCtx, tenantA, stored.ID)
		require.ErrorIs(t, err, storage.ErrTxDone, "the store with the transaction's context after the end")
		require.ErrorIs(t, e.repo.Create(keptCtx, late), storage.ErrTxDone)

		nested := func(ctx context.Context, tx storage.Store) error {
			return tx.Incidents().Create(ctx, late)
		}
		require.ErrorIs(t, capability[storage.Transactor](t, kept).InTx(bg, nested), storage.ErrTxDone,
			"a nested transaction on the transaction's store after the end")
		require.ErrorIs(t, tr.InTx(keptCtx, nested), storage.ErrTxDone,
			"a nested transaction with the transaction's context after the end")
		e.absent(late)

		if _, ok := e.store.(storage.Sequences); ok {
			_, err = capability[storage.Sequences](t, kept).Next(bg, tenantA, "ended")
			require.ErrorIs(t, err, storage.ErrTxDone, "a sequence on the transaction's store after the end")
			_, err = capability[storage.Sequences](t, e.store).Next(keptCtx, tenantA, "ended")
			require.ErrorIs(t, err, storage.ErrTxDone, "a sequence with the transaction's context after the end")
			v, err := capability[storage.Sequences](t, e.store).Next(bg, tenantA, "ended")
			require.NoError(t, err)
			assert.Equal(t, int64(i+1), v, "the refused calls drew nothing")
		}
		if _, ok := e.store.(storage.Outbox); ok {
			ev := e.event(stored, 1)
			for _, ob := range []struct {
				name string
				ob   storage.Outbox
				ctx  context.Context
			}{
				{"the transaction's store", capability[storage.Outbox](t, kept), bg},
				{"the store with the transaction's context", capability[storage.Outbox](t, e.store), keptCtx},
			} {
				require.ErrorIs(t, ob.ob.Append(ob.ctx), storage.ErrTxDone, "an empty append on %s after the end", ob.name)
				require.ErrorIs(t, ob.ob.Append(ob.ctx, ev), storage.ErrTxDone, "an append on %s after the end", ob.name)
			}
			e.noEvents()
		}
		if c, ok := e.store.(storage.OutboxConsumer); ok {
			_, err = c.Claim(keptCtx, claim("relay", base, 0))
			require.ErrorIs(t, err, storage.ErrTxDone, "a claim with the transaction's context after the end")
			require.ErrorIs(t, c.Ack(keptCtx, "lease-1", e.uuid()), storage.ErrTxDone,
				"an ack with the transaction's context after the end")
		}
	}
}

// InTx, or a nested InTx, whose function returns while a nested
// transaction of its own still runs (in a goroutine it did not wait for)
// keeps none of the function's writes, nor the nested one's, and returns
// ErrTxBusy; the nested transaction, when it ends, finds its enclosing
// level gone (ErrTxDone).
func testTxReturnWhileNested(t *testing.T, open Opener) {
	// straggle opens, from a goroutine, a nested transaction in tx with
	// ctx that writes a, then waits for release before writing b. It
	// returns once a is written; wait then returns what the nested InTx
	// and the write of b returned.
	straggle := func(t *testing.T, ctx context.Context, tx storage.Store, a, b incident.Data, release <-chan struct{}) (wait func() (inTx, late error)) {
		nest := capability[storage.Transactor](t, tx)
		opened := make(chan struct{})
		var wg sync.WaitGroup
		var inTxErr, lateErr error
		wg.Go(func() {
			inTxErr = nest.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
				err := tx.Incidents().Create(ctx, a)
				close(opened)
				if err != nil {
					return err
				}
				<-release
				lateErr = tx.Incidents().Create(ctx, b)
				return lateErr
			})
		})
		<-opened
		return func() (error, error) {
			wg.Wait()
			return inTxErr, lateErr
		}
	}
	t.Run("outermost", func(t *testing.T) {
		e := newEnv(t, open)
		tr := capability[storage.Transactor](t, e.store)
		a, b, c := e.data(tenantA), e.data(tenantA), e.data(tenantA)
		release := make(chan struct{})
		var wait func() (error, error)
		err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
			if err := tx.Incidents().Create(ctx, c); err != nil {
				return err
			}
			wait = straggle(t, ctx, tx, a, b, release)
			return nil
		})
		require.ErrorIs(t, err, storage.ErrTxBusy)
		close(release)
		inTx, late := wait()
		require.ErrorIs(t, late, storage.ErrTxDone, "a write of the nested transaction after the end")
		require.ErrorIs(t, inTx, storage.ErrTxDone, "the nested transaction cannot keep its writes")
		e.absent(a, b, c)
	})
	t.Run("nested", func(t *testing.T) {
		e := newEnv(t, open)
		tr := capability[storage.Transactor](t, e.store)
		a, b, c, d := e.data(tenantA), e.data(tenantA), e.data(tenantA), e.data(tenantA)
		release := make(chan struct{})
		var wait func() (error, error)
		err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
			err := capability[storage.Transactor](t, tx).InTx(ctx, func(ctx context.Context, tx storage.Store) error {
				if err := tx.Incidents().Create(ctx, c); err != nil {
					return err
				}
				wait = straggle(t, ctx, tx, a, b, release)
				return nil
			})
			if !errors.Is(err, storage.ErrTxBusy) {
				return fmt.Errorf("the middle transaction returned %v, want ErrTxBusy", err)
			}
			close(release)
			inTx, late := wait()
			if !errors.Is(late, storage.ErrTxDone) || !errors.Is(inTx, storage.ErrTxDone) {
				return fmt.Errorf("the straggling transaction returned %v and its late write %v, want ErrTxDone", inTx, late)
			}
			// The enclosing level goes on.
			return tx.Incidents().Create(ctx, d)
		})
		require.NoError(t, err)
		e.present(withVersion(d, 1))
		e.absent(a, b, c)
	})
}

// While a nested transaction runs, only calls made with its context may use
// the transaction: a second nested transaction opened beside it, or a call
// with the enclosing context (from another goroutine, say), is refused
// with ErrTxBusy and writes nothing, instead of landing inside, and being
// undone with, a savepoint it does not belong to. Once the nested one has
// ended the enclosing context works again, and the nested context gives
// ErrTxDone.
func testTxBusy(t *testing.T, open Opener) {
	e := newEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	a, b, c, d := e.data(tenantA), e.data(tenantA), e.data(tenantA), e.data(tenantA)
	var nestedCtx context.Context
	err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
		opened, checked := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		var innerErr error
		wg.Go(func() {
			innerErr = capability[storage.Transactor](t, tx).InTx(ctx, func(ctx context.Context, tx storage.Store) error {
				nestedCtx = ctx
				if err := tx.Incidents().Create(ctx, a); err != nil {
					return err
				}
				close(opened)
				<-checked
				return errRefused
			})
		})
		<-opened
		siblingErr := capability[storage.Transactor](t, tx).InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			return tx.Incidents().Create(ctx, b)
		})
		outerErr := tx.Incidents().Create(ctx, c)
		var seqErr, appendErr error
		if seq, ok := tx.(storage.Sequences); ok {
			_, seqErr = seq.Next(ctx, tenantA, "incident")
		}
		if ob, ok := tx.(storage.Outbox); ok {
			appendErr = ob.Append(ctx)
		}
		close(checked)
		wg.Wait()
		require.ErrorIs(t, siblingErr, storage.ErrTxBusy, "a nested transaction beside a running one")
		require.ErrorIs(t, outerErr, storage.ErrTxBusy, "the enclosing context while a nested transaction runs")
		if _, ok := tx.(storage.Sequences); ok {
			require.ErrorIs(t, seqErr, storage.ErrTxBusy, "a sequence with the enclosing context while a nested transaction runs")
		}
		if _, ok := tx.(storage.Outbox); ok {
			require.ErrorIs(t, appendErr, storage.ErrTxBusy, "an empty append with the enclosing context while a nested transaction runs")
		}
		require.ErrorIs(t, innerErr, errRefused)
		_, err := e.repo.Get(nestedCtx, tenantA, a.ID)
		require.ErrorIs(t, err, storage.ErrTxDone, "the nested context after its end")
		return tx.Incidents().Create(ctx, d)
	})
	require.NoError(t, err)
	e.present(withVersion(d, 1))
	e.absent(a, b, c)
}

func testTxCancelled(t *testing.T, open Opener) {
	t.Run("before", func(t *testing.T) {
		e := newEnv(t, open)
		tr := capability[storage.Transactor](t, e.store)
		called := false
		err := tr.InTx(cancelled(), func(context.Context, storage.Store) error {
			called = true
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, called, "the callback does not run")
	})
	t.Run("during", func(t *testing.T) {
		e := newEnv(t, open)
		tr := capability[storage.Transactor](t, e.store)
		a := e.data(tenantA)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			require.NoError(t, tx.Incidents().Create(ctx, a))
			cancel()
			return nil
		})
		require.ErrorIs(t, err, context.Canceled, "a transaction whose context ends does not commit")
		e.absent(a)
	})
}

func testTxConcurrent(t *testing.T, open Opener) {
	e := newEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	counter := e.create(tenantA)
	created := make([]incident.Data, writers)
	var wg sync.WaitGroup
	for i := range writers {
		created[i] = e.data(tenantB)
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				if !assert.Less(t, attempt, 1000, "writer %d never committed", i) {
					return
				}
				err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
					d, err := tx.Incidents().Get(ctx, tenantA, counter.ID)
					if err != nil {
						return err
					}
					d = retitle(d, fmt.Sprintf("bumped by %d", i))
					d.Reassignments++
					if err := tx.Incidents().Update(ctx, d); err != nil {
						return err
					}
					return tx.Incidents().Create(ctx, created[i])
				})
				if errors.Is(err, itsm.ErrConflict) {
					continue // re-read and decide again, as a service does
				}
				assert.NoError(t, err)
				return
			}
		})
	}
	wg.Wait()
	got, err := e.repo.Get(context.Background(), tenantA, counter.ID)
	require.NoError(t, err)
	assert.Equal(t, writers, got.Reassignments, "no update is lost")
	assert.Equal(t, int64(writers+1), got.Version)
	assert.Len(t, got.History, writers+1)
	for i := range created {
		created[i].Version = 1
	}
	e.present(created...)
}

func testTxSequences(t *testing.T, open Opener) {
	e := newEnv(t, open)
	tr := capability[storage.Transactor](t, e.store)
	seq := capability[storage.Sequences](t, e.store)
	var inside int64
	err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
		s := capability[storage.Sequences](t, tx)
		v, err := s.Next(ctx, tenantA, "incident")
		require.NoError(t, err)
		inside = v
		return errRefused
	})
	require.ErrorIs(t, err, errRefused)
	after, err := seq.Next(context.Background(), tenantA, "incident")
	require.NoError(t, err)
	assert.Greater(t, after, inside, "a value drawn in a rolled-back transaction is not handed out again")
}
