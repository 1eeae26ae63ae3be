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
// when no connection of the pool is free for it: a sequence is drawn on a
// connection of its own, and while the transaction waits for one it keeps
// its own, so a connection held by a call that waits on the transaction
// (a row it has locked) would never come free. The count covers every
// connection the store's calls hold or are about to take (transactions,
// the store's own transactions and statements) and, when Next looks, those
// the host borrowed from the pool itself. It wraps itsm.ErrConflict: a
// service retrying in a new transaction gives its connection back first.
// A pool that is always this small for its load needs a larger MaxConns.
var ErrNoSpareConnection = fmt.Errorf("postgres: every connection of the pool is held by a transaction; a sequence needs one more: %w", itsm.ErrConflict)

// Next returns the next value of the tenant's sequence; see
// storage.Sequences. It always runs as a statement of its own on a pooled
// connection, committed at once, even when ctx carries one of the store's
// transactions: a value drawn in a transaction that rolls back stays used,
// as with PostgreSQL's nextval. Values are gap-free unless a transaction
// that drew one rolls back or a call fails after the server committed.
//
// Inside a transaction it returns an error wrapping ErrNoSpareConnection,
// drawing nothing, when no connection is free for it: the store's calls
// hold or are taking as many connections as the pool may have, or the
// pool has handed every connection out. A connection the host borrows
// from the pool directly after Next has looked can still make it wait.
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
		release, err := s.spare(tenant, name)
		if err != nil {
			return 0, err
		}
		defer release()
	} else {
		if err := s.take(ctx); err != nil {
			return 0, err
		}
		defer s.release()
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

// spare takes a slot for a draw made inside a transaction without waiting
// for one, and returns what gives it back. The transaction already holds a
// connection, so waiting could be waiting on itself: a call of the store
// holding the pool's last connection may be waiting for a lock the
// transaction holds. With the slot taken, the store's other calls hold
// fewer connections than the pool may have; if the pool has nonetheless
// handed out all of them, the host holds the rest, and Next refuses too.
func (s *Store) spare(tenant itsm.TenantID, name string) (func(), error) {
	size := cap(s.slots)
	if !s.tryTake() {
		return nil, fmt.Errorf("postgres: sequence %s of tenant %s: the store's calls hold or are taking the pool's every connection (MaxConns %d): %w",
			name, tenant, size, ErrNoSpareConnection)
	}
	if held := int(s.pool.Stat().AcquiredConns()); held >= size {
		s.release()
		return nil, fmt.Errorf("postgres: sequence %s of tenant %s: the pool has handed out its every connection (%d, MaxConns %d): %w",
			name, tenant, held, size, ErrNoSpareConnection)
	}
	return s.release, nil
}
