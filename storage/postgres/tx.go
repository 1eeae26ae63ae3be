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
}

// txKey is the context key under which a store's running transaction
// travels; keyed by store so that transactions of two stores nest.
type txKey struct{ s *Store }

// txOf returns s's running transaction carried by ctx, or nil.
func (s *Store) txOf(ctx context.Context) *tx {
	t, _ := ctx.Value(txKey{s}).(*tx)
	return t
}

// run runs one call inside the transaction. Statements inside a caller's
// transaction are never retried.
func (t *tx) run(ctx context.Context, op string, fn func(q querier) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return storage.ErrTxDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapError(ctx, op, fn(t.pg))
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
// numbers.
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
	err := fn(context.WithValue(ctx, txKey{s}, t), (*txStore)(t))
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

// savepoint runs fn inside t under a savepoint; on failure only fn's own
// writes are undone.
func (t *tx) savepoint(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	if fn == nil {
		return errNilFn
	}
	var name string
	err := t.run(ctx, "savepoint", func(q querier) error {
		t.savepoints++
		name = "itsmkit_sp" + strconv.Itoa(t.savepoints)
		_, err := q.Exec(ctx, "SAVEPOINT "+name)
		return err
	})
	if err != nil {
		return err
	}
	if t.s.txOf(ctx) != t {
		ctx = context.WithValue(ctx, txKey{t.s}, t)
	}
	kept := false
	defer func() {
		if kept {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if !t.done {
			// Rolling back to a savepoint also clears an error state the
			// inner writes may have left: the outer transaction goes on.
			bg := context.WithoutCancel(ctx)
			_, _ = t.pg.Exec(bg, "ROLLBACK TO SAVEPOINT "+name)
			_, _ = t.pg.Exec(bg, "RELEASE SAVEPOINT "+name)
		}
	}()
	err = fn(ctx, (*txStore)(t))
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	err = t.run(ctx, "release savepoint", func(q querier) error {
		_, err := q.Exec(ctx, "RELEASE SAVEPOINT "+name)
		return err
	})
	if err != nil {
		return err
	}
	kept = true
	return nil
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
// the transaction rolls back.
func (x *txStore) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return x.s.Next(ctx, tenant, name)
}
