package postgres

import (
	"context"
	"fmt"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// sqlNext draws the next value of a tenant's sequence: the row is created
// at 1 the first time and incremented under its row lock afterwards, so
// concurrent callers queue on the row and never share a value.
const sqlNext = `INSERT INTO sequences AS s (tenant_id, name, value) VALUES ($1, $2, 1)
ON CONFLICT (tenant_id, name) DO UPDATE SET value = s.value + 1
RETURNING value`

// ErrNoSpareConnection reports Sequences.Next called inside a transaction
// when every connection of the pool is held by the store's transactions:
// a sequence is drawn on a connection of its own, and none could come free
// until a transaction ends, so waiting might never end. It wraps
// itsm.ErrConflict: a service retrying in a new transaction gives its
// connection back first. A pool that is always this small for its load
// needs a larger MaxConns.
var ErrNoSpareConnection = fmt.Errorf("postgres: every connection of the pool is held by a transaction; a sequence needs one more: %w", itsm.ErrConflict)

// Next returns the next value of the tenant's sequence; see
// storage.Sequences. It always runs as a statement of its own on a pooled
// connection, committed at once, even when ctx carries one of the store's
// transactions: a value drawn in a transaction that rolls back stays used,
// as with PostgreSQL's nextval. Values are gap-free unless a transaction
// that drew one rolls back or a call fails after the server committed.
//
// Inside a transaction it returns an error wrapping ErrNoSpareConnection,
// drawing nothing, when the store's open transactions already hold as many
// connections as the pool may have; connections the host itself keeps
// borrowed from the pool are not counted.
//
// With the context of one of the store's transactions it answers as a call
// of that transaction would before drawing: storage.ErrTxDone once the
// transaction has ended, storage.ErrTxBusy while a nested transaction runs
// below the context's level.
func (s *Store) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return s.next(ctx, nil, tenant, name)
}

// next draws a value for a call made through t's Store (t is nil for the
// Store itself, which then looks for a transaction in ctx).
func (s *Store) next(ctx context.Context, t *tx, tenant itsm.TenantID, name string) (int64, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", storage.ValidateSequenceName(name))
	if err := errs.Err(); err != nil {
		return 0, err
	}
	if t == nil {
		t = s.txOf(ctx)
	}
	if t != nil {
		// The value is drawn on another connection, so the transaction's
		// lock is not held for the draw: a call there waits for nothing
		// the transaction does. A draw that passed this check just as the
		// transaction ended counts as made before its end.
		if err := t.check(ctx); err != nil {
			return 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if t != nil {
		if size, open := s.pool.Stat().MaxConns(), s.openTxs.Load(); open >= int64(size) {
			return 0, fmt.Errorf("postgres: sequence %s of tenant %s: %d transactions hold the pool's every connection (MaxConns %d): %w",
				name, tenant, open, size, ErrNoSpareConnection)
		}
	}
	var v int64
	for attempt := 0; ; attempt++ {
		err := s.pool.QueryRow(ctx, sqlNext, string(tenant), name).Scan(&v)
		if err == nil {
			return v, nil
		}
		if attempt < s.retries && ctx.Err() == nil && retryable(err) {
			continue
		}
		return 0, fmt.Errorf("postgres: sequence %s of tenant %s: %w", name, tenant, mapError(ctx, "next", err))
	}
}
