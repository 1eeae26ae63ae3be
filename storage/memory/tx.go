package memory

import (
	"context"
	"fmt"
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
	undo []undoStep
	// root is the transaction's outermost level.
	root scope
	// first backs undo while it is short: a command's transaction (an
	// incident write and an append) then allocates nothing for its log.
	first [4]undoStep
}

// scope is one level of a transaction: its root or a savepoint opened in
// it. A context carries the level its calls run at. A level with a
// savepoint open below it refuses calls (storage.ErrTxBusy): their changes
// would be undone with a savepoint they do not belong to. Fields are
// guarded by t.mu.
type scope struct {
	t *tx
	// child is the savepoint open below this level, if any.
	child *scope
	// ended is set when the savepoint has been kept or undone.
	ended bool
	// mark is how long t.undo was when the savepoint opened.
	mark int
	// ctx is the context the level's function gets.
	ctx scopeCtx
}

// scopeCtx is the context a level of a transaction hands to its function:
// the caller's context, carrying the level under txKey{s}. It is what
// context.WithValue would make, kept inside the scope so that opening a
// transaction or a savepoint allocates one object, not two.
type scopeCtx struct {
	context.Context
	sc *scope
}

// Value returns the level for its store's txKey, and otherwise what the
// caller's context holds.
func (c *scopeCtx) Value(key any) any {
	if k, ok := key.(txKey); ok && k.s == c.sc.t.s {
		return c.sc
	}
	return c.Context.Value(key)
}

// open makes sc the level calls made with the context it returns run at,
// ctx being the context it was opened with.
func (sc *scope) open(ctx context.Context) context.Context {
	sc.ctx = scopeCtx{Context: ctx, sc: sc}
	return &sc.ctx
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

// endBelow marks sc and every savepoint open below it as ended. Callers
// hold t.mu.
func endBelow(sc *scope) {
	for ; sc != nil; sc = sc.child {
		sc.ended = true
	}
}

// undoStep is how to reverse one change. The two changes every incident
// command makes, saving the incident and appending its events, are
// recorded as data rather than as closures, which would cost an
// allocation each.
type undoStep struct {
	// fn reverses any other change.
	fn func()
	// tn, prev and next undo an incident write: next goes and prev (nil
	// for a creation) comes back.
	tn         *tenant
	prev, next *stored
	// appended undoes an outbox append of that many events.
	appended int
}

// onUndo records how to reverse a change just made; outside a transaction
// (t is nil) there is nothing to record.
func (t *tx) onUndo(f func()) {
	if t != nil {
		t.undo = append(t.undo, undoStep{fn: f})
	}
}

// onUndoIncident records that next replaced prev (nil for a creation) in
// tn.
func (t *tx) onUndoIncident(tn *tenant, prev, next *stored) {
	if t != nil {
		t.undo = append(t.undo, undoStep{tn: tn, prev: prev, next: next})
	}
}

// onUndoAppend records that n events were appended to the outbox.
func (t *tx) onUndoAppend(n int) {
	if t != nil {
		t.undo = append(t.undo, undoStep{appended: n})
	}
}

// rollbackTo reverses the changes recorded after mark, newest first.
// Callers hold t.mu.
func (t *tx) rollbackTo(mark int) {
	for i := len(t.undo) - 1; i >= mark; i-- {
		u := &t.undo[i]
		switch {
		case u.fn != nil:
			u.fn()
		case u.tn != nil && u.prev == nil:
			u.tn.remove(u.next)
		case u.tn != nil:
			u.tn.replace(u.next, u.prev)
		default:
			t.s.box.unappend(u.appended)
		}
		t.undo[i] = undoStep{}
	}
	t.undo = t.undo[:mark]
}

// run runs one call inside the transaction.
func (t *tx) run(ctx context.Context, fn func(t *tx) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter(ctx); err != nil {
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
	return inTx(s, ctx, fn, callStore)
}

// callStore and callIncidents hand a transaction to the two kinds of
// function run in one: InTx's and incident.Atomic's. Passing them as plain
// functions, not closures over fn, keeps a transaction free of allocations
// of its own beyond the transaction itself.
func callStore(fn func(context.Context, storage.Store) error, ctx context.Context, t *tx) error {
	return fn(ctx, (*txStore)(t))
}

func callIncidents(fn func(context.Context, incident.Tx) error, ctx context.Context, t *tx) error {
	return fn(ctx, (*txIncidentRepo)(t))
}

// inTx is InTx for any kind of function that call knows how to run.
func inTx[F any](s *Store, ctx context.Context, fn F, call func(F, context.Context, *tx) error) error {
	if t := s.txOf(ctx); t != nil {
		return savepoint(t, ctx, fn, call)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	t := &tx{s: s}
	t.root.t = t
	t.undo = t.first[:0]
	committed := false
	defer func() {
		// Runs on return and on panic alike: a transaction that did not
		// commit leaves no trace.
		t.mu.Lock()
		if !committed {
			t.rollbackTo(0)
		}
		t.done = true
		// A context the function kept must not keep what the log points
		// to alive.
		t.undo = nil
		clear(t.first[:])
		t.mu.Unlock()
		// Acks inside the transaction did not compact the outbox, whose
		// positions the log held: with the log gone, it may.
		s.box.compact()
		s.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	err := call(fn, t.root.open(ctx), t)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	t.mu.Lock()
	busy := t.root.child != nil
	endBelow(&t.root)
	t.mu.Unlock()
	if busy {
		// fn returned while a goroutine of its own still runs a nested
		// transaction, whose changes may be half done: keep none.
		return fmt.Errorf("memory: commit: fn returned while a nested transaction was still running: %w", storage.ErrTxBusy)
	}
	committed = true
	return nil
}

// savepoint runs fn inside t, below the level ctx carries; on failure only
// fn's own changes are undone. While fn runs, the level it was opened at
// refuses calls (see scope).
func savepoint[F any](t *tx, ctx context.Context, fn F, call func(F, context.Context, *tx) error) error {
	parent := t.at(ctx)
	sp := &scope{t: t}
	err := t.run(ctx, func(t *tx) error {
		sp.mark = len(t.undo)
		parent.child = sp
		return nil
	})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		// fn panicked: undo its changes; the panic goes on.
		if !closed {
			_ = t.closeSavepoint(parent, sp, false)
		}
	}()
	err = call(fn, sp.open(ctx), t)
	if err == nil {
		err = ctx.Err()
	}
	closed = true
	if cerr := t.closeSavepoint(parent, sp, err == nil); err == nil {
		err = cerr
	}
	return err
}

// closeSavepoint ends the savepoint sp opened below parent: its changes
// are kept when keep is set, undone otherwise. A savepoint that an
// enclosing level's end already discarded is not touched.
func (t *tx) closeSavepoint(parent, sp *scope, keep bool) error {
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
	if keep && !busy {
		return nil
	}
	if len(t.undo) >= sp.mark {
		t.rollbackTo(sp.mark)
	}
	if keep {
		return fmt.Errorf("memory: fn returned while a nested transaction of its own was still running: %w", storage.ErrTxBusy)
	}
	return nil
}

// txStore is the Store a transaction hands to its function.
type txStore tx

// Incidents returns the incident repository bound to the transaction.
func (x *txStore) Incidents() incident.Repository { return (*txIncidentRepo)(x) }

// InTx opens a savepoint in the transaction; see storage.Transactor.
func (x *txStore) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	if fn == nil {
		return errNilFn
	}
	return savepoint((*tx)(x), ctx, fn, callStore)
}

// Append adds events to the outbox inside the transaction: they become
// claimable when it commits and vanish if it rolls back.
func (x *txStore) Append(ctx context.Context, events ...itsm.Event) error {
	return x.s.append(ctx, (*tx)(x), events)
}

// Next draws the next value of a sequence. Sequences are outside
// transactions: the value stays used if the transaction rolls back. Like
// every call through the transaction's Store, it returns storage.ErrTxDone
// once the transaction has ended and storage.ErrTxBusy while a nested
// transaction runs below the level ctx carries.
func (x *txStore) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return x.s.next(ctx, (*tx)(x), tenant, name)
}
