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
// Sequence values drawn inside the transaction stay used if it rolls back.
// Outbox appends commit or vanish with it.
//
// Errors: a *itsm.ValidationError naming "fn" when fn is nil; ctx.Err() when
// ctx ends before the commit (nothing is committed); itsm.ErrConflict from
// adapters that detect conflicts at commit; whatever fn returns.
type Transactor interface {
	// InTx runs fn in a transaction; see the type's documentation.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
}
