package memory

import (
	"context"
	"sync"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// tx is a running transaction. It holds s.mu exclusively from begin to end;
// its own mu serialises the calls made inside it (fn may use goroutines).
type tx struct {
	s    *Store
	mu   sync.Mutex
	done bool
	// undo holds, in order, how to reverse each change made so far.
	undo []func()
}

// onUndo records how to reverse a change just made; outside a transaction
// (t is nil) there is nothing to record.
func (t *tx) onUndo(f func()) {
	if t != nil {
		t.undo = append(t.undo, f)
	}
}

// rollbackTo reverses the changes recorded after mark, newest first.
// Callers hold t.mu.
func (t *tx) rollbackTo(mark int) {
	for i := len(t.undo) - 1; i >= mark; i-- {
		t.undo[i]()
		t.undo[i] = nil
	}
	t.undo = t.undo[:mark]
}

// run runs one call inside the transaction.
func (t *tx) run(ctx context.Context, fn func(t *tx) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return storage.ErrTxDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(t)
}

var errNilFn = itsm.NewValidationError("fn", "must not be nil")

// InTx runs fn in a transaction; see storage.Transactor. With the context
// of one of this store's transactions, it opens a savepoint in that
// transaction instead. While fn runs, the store serves no other caller.
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
	s.mu.Lock()
	t := &tx{s: s}
	committed := false
	defer func() {
		// Runs on return and on panic alike: a transaction that did not
		// commit leaves no trace.
		t.mu.Lock()
		if !committed {
			t.rollbackTo(0)
		}
		t.done = true
		t.undo = nil
		t.mu.Unlock()
		s.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	err := fn(context.WithValue(ctx, txKey{s}, t), (*txStore)(t))
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	committed = true
	return nil
}

// savepoint runs fn inside t; on failure only fn's own changes are undone.
func (t *tx) savepoint(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	if fn == nil {
		return errNilFn
	}
	t.mu.Lock()
	done, mark := t.done, len(t.undo)
	t.mu.Unlock()
	if done {
		return storage.ErrTxDone
	}
	if err := ctx.Err(); err != nil {
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
		if !t.done && len(t.undo) >= mark {
			t.rollbackTo(mark)
		}
		t.mu.Unlock()
	}()
	err := fn(ctx, (*txStore)(t))
	if err == nil {
		err = ctx.Err()
	}
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
// transactions: the value stays used if the transaction rolls back.
func (x *txStore) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return x.s.Next(ctx, tenant, name)
}
