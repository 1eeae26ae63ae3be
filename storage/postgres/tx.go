package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// tx is a running transaction on one pooled connection. Its mutex
// serialises the calls made inside it (fn may use goroutines; a connection
// runs one statement at a time).
type tx struct {
	s    *Store
	mu   sync.Mutex
	pg   pgx.Tx
	done bool
	// savepoints counts the savepoints opened so far, to name the next.
	savepoints int
	// root is the transaction's outermost level.
	root scope
}

// scope is one level of a transaction: its root or a savepoint opened in
// it. A context carries the level its calls run at. A level with a
// savepoint open below it refuses calls (storage.ErrTxBusy): they would
// land inside a savepoint they do not belong to. Fields are guarded by
// t.mu.
type scope struct {
	t *tx
	// child is the savepoint open below this level, if any.
	child *scope
	// ended is set when the savepoint has been released or rolled back.
	ended bool
}

// txKey is the context key under which a store's running transaction
// travels, as the *scope calls run at; keyed by store so that transactions
// of two stores nest.
type txKey struct{ s *Store }

// txOf returns s's running transaction carried by ctx, or nil.
func (s *Store) txOf(ctx context.Context) *tx {
	if sc, _ := ctx.Value(txKey{s}).(*scope); sc != nil {
		return sc.t
	}
	return nil
}

// at returns the level of t that calls made with ctx run at: the one ctx
// carries, else the root.
func (t *tx) at(ctx context.Context) *scope {
	if sc, _ := ctx.Value(txKey{t.s}).(*scope); sc != nil && sc.t == t {
		return sc
	}
	return &t.root
}

// enter checks that a call made with ctx may use t now. Callers hold t.mu.
func (t *tx) enter(ctx context.Context) error {
	sc := t.at(ctx)
	switch {
	case t.done || sc.ended:
		return storage.ErrTxDone
	case sc.child != nil:
		return storage.ErrTxBusy
	}
	return ctx.Err()
}

// endBelow marks sc and every savepoint open below it as ended, so that
// none of them touches the connection again. Callers hold t.mu.
func endBelow(sc *scope) {
	for ; sc != nil; sc = sc.child {
		sc.ended = true
	}
}

// run runs one call inside the transaction. Statements inside a caller's
// transaction are never retried.
func (t *tx) run(ctx context.Context, op string, fn func(q querier) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter(ctx); err != nil {
		return err
	}
	return mapError(ctx, op, fn(t.pg))
}

// check says whether a call made with ctx could use t now, as run does,
// without running anything in it.
func (t *tx) check(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.enter(ctx)
}

var errNilFn = itsm.NewValidationError("fn", "must not be nil")

// InTx runs fn in a transaction; see storage.Transactor. With the context
// of one of this store's transactions, it opens a savepoint in that
// transaction instead.
//
// The transaction runs at READ COMMITTED, asked for explicitly so that a
// server or role defaulting to another level changes nothing:
// versioned updates detect lost updates (itsm.ErrConflict), and a
// serialization failure or deadlock reported by the server is
// itsm.ErrConflict too, so the caller re-reads and retries as after any
// conflict. fn is never run twice by InTx itself.
//
// A transaction holds one pooled connection until it ends. Sequences.Next
// called inside it draws on a second connection (sequences are outside
// transactions), so a pool must have room for that when transactions draw
// numbers; when the store's calls (transactions, the store's own
// transactions and statements) or the host already hold every connection,
// Next refuses (ErrNoSpareConnection) rather than wait for one.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	if fn == nil {
		return errNilFn
	}
	if t := s.txOf(ctx); t != nil {
		return t.savepoint(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The slot is held until the transaction has given its connection
	// back (this defer runs after the rollback below).
	if err := s.take(ctx); err != nil {
		return err
	}
	defer s.release()
	var pg pgx.Tx
	for attempt := 0; ; attempt++ {
		var err error
		pg, err = s.pool.BeginTx(ctx, readCommitted())
		if err == nil {
			break
		}
		// A pooled connection found dead before BEGIN was sent (its
		// backend was terminated) is safe to replace.
		if attempt < s.retries && ctx.Err() == nil && retryable(err) {
			continue
		}
		return mapError(ctx, "begin", err)
	}
	t := &tx{s: s, pg: pg}
	t.root.t = t
	committed := false
	defer func() {
		// Runs on return and on panic alike: a transaction that did not
		// commit is rolled back, even when ctx has ended.
		t.mu.Lock()
		if !committed && !t.done {
			_ = t.pg.Rollback(context.WithoutCancel(ctx))
		}
		t.done = true
		t.mu.Unlock()
	}()
	err := fn(context.WithValue(ctx, txKey{s}, &t.root), (*txStore)(t))
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return storage.ErrTxDone
	}
	if t.root.child != nil {
		// fn returned while a goroutine of its own still runs a nested
		// transaction, whose writes may be half done: commit none.
		endBelow(&t.root)
		return fmt.Errorf("postgres: commit: fn returned while a nested transaction was still running: %w", storage.ErrTxBusy)
	}
	if err := t.pg.Commit(ctx); err != nil {
		t.done = true
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			return fmt.Errorf("postgres: commit: %w", ErrTxAborted)
		}
		return mapError(ctx, "commit", err)
	}
	committed = true
	t.done = true
	return nil
}

// savepoint runs fn inside t under a savepoint, opened at the level ctx
// carries; on failure only fn's own writes are undone. While fn runs, the
// level it was opened at refuses calls (see scope).
func (t *tx) savepoint(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	if fn == nil {
		return errNilFn
	}
	parent := t.at(ctx)
	sp := &scope{t: t}
	var name string
	err := t.run(ctx, "savepoint", func(q querier) error {
		t.savepoints++
		name = "itsmkit_sp" + strconv.Itoa(t.savepoints)
		if _, err := q.Exec(ctx, "SAVEPOINT "+name); err != nil {
			return err
		}
		parent.child = sp
		return nil
	})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		// fn panicked: undo its writes; the panic goes on.
		if !closed {
			_ = t.closeSavepoint(ctx, parent, sp, name, false)
		}
	}()
	err = fn(context.WithValue(ctx, txKey{t.s}, sp), (*txStore)(t))
	if err == nil {
		err = ctx.Err()
	}
	closed = true
	if cerr := t.closeSavepoint(ctx, parent, sp, name, err == nil); err == nil {
		err = cerr
	}
	return err
}

// closeSavepoint ends the savepoint sp opened below parent: released when
// keep is set and that succeeds, rolled back to otherwise (which also
// clears an error state the inner writes may have left, so the enclosing
// level goes on). A savepoint that an enclosing level's end already
// discarded is not touched.
func (t *tx) closeSavepoint(ctx context.Context, parent, sp *scope, name string, keep bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done || sp.ended {
		if keep {
			return storage.ErrTxDone
		}
		return nil
	}
	busy := sp.child != nil
	endBelow(sp)
	parent.child = nil
	var err error
	if keep && busy {
		err = fmt.Errorf("postgres: fn returned while a nested transaction of its own was still running: %w", storage.ErrTxBusy)
	} else if keep {
		_, err = t.pg.Exec(ctx, "RELEASE SAVEPOINT "+name)
		if err == nil {
			return nil
		}
		err = mapError(ctx, "release savepoint", err)
	}
	bg := context.WithoutCancel(ctx)
	_, _ = t.pg.Exec(bg, "ROLLBACK TO SAVEPOINT "+name)
	_, _ = t.pg.Exec(bg, "RELEASE SAVEPOINT "+name)
	return err
}

// txStore is the Store a transaction hands to its function.
type txStore tx

// Incidents returns the incident repository bound to the transaction.
func (x *txStore) Incidents() incident.Repository { return (*txIncidentRepo)(x) }

// InTx opens a savepoint in the transaction; see storage.Transactor.
func (x *txStore) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	return (*tx)(x).savepoint(ctx, fn)
}

// Append adds events to the outbox inside the transaction: they become
// claimable when it commits and vanish if it rolls back.
func (x *txStore) Append(ctx context.Context, events ...itsm.Event) error {
	return x.s.append(ctx, (*tx)(x), events)
}

// Next draws the next value of a sequence. Sequences are outside
// transactions: the value is drawn on another connection and stays used if
// the transaction rolls back. Like every call through the transaction's
// Store, it returns storage.ErrTxDone once the transaction has ended and
// storage.ErrTxBusy while a nested transaction runs below the level ctx
// carries.
func (x *txStore) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return x.s.next(ctx, (*tx)(x), tenant, name)
}
