package storage

import "context"

// Transactor runs a function in one transaction across aggregates.
//
// InTx calls fn with a context and a Store bound to the transaction; every
// write made through them is committed together when fn returns nil, and
// none is when fn returns an error or panics (the panic continues after the
// rollback). InTx returns fn's error unchanged, or the commit's error.
//
// Nesting: calling InTx on the transaction's Store, or on the Store itself
// with the context fn received, opens a savepoint inside the running
// transaction. If the inner fn fails, only its writes are undone and its
// error is returned to the outer fn, which decides; if it succeeds, its
// writes commit with the outermost transaction, not before.
//
// Calls made with fn's context run inside the transaction even when they go
// through the Store itself rather than the transaction's Store, so services
// handed the Store compose into a caller's transaction. After InTx returns,
// the transaction's Store and context give ErrTxDone.
//
// Goroutines: fn may hand its context to goroutines; their calls run one at
// a time. While a nested transaction runs, only calls made with its context
// (or contexts derived from it) may use the transaction. A second nested
// transaction opened beside it, or a call made with an enclosing level's
// context, returns ErrTxBusy and writes nothing: it would otherwise land
// inside a savepoint it does not belong to and be undone with it. The
// refusal is immediate rather than a wait, because the caller may be the
// very function holding the nested transaction open. Likewise InTx (and a
// nested InTx) returning while a nested transaction of fn's is still
// running keeps none of fn's writes and returns ErrTxBusy. After a nested
// InTx returns, its context gives ErrTxDone.
//
// Sequence values drawn inside the transaction stay used if it rolls back.
// Outbox appends commit or vanish with it.
//
// Errors: a *itsm.ValidationError naming "fn" when fn is nil; ctx.Err() when
// ctx ends before the commit (nothing is committed); itsm.ErrConflict from
// adapters that detect conflicts at commit, or whose server rolled the
// transaction back after a failed statement; ErrTxBusy (see above);
// whatever fn returns.
type Transactor interface {
	// InTx runs fn in a transaction; see the type's documentation.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
}
