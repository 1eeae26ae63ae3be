package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// DefaultRetries is how many times a statement the store runs on its own
// (outside a caller's transaction) is retried after a serialization
// failure or deadlock, when Options.Retries is 0.
const DefaultRetries = 3

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Migrate applies pending migrations (see Migrate) before the store is
	// opened. Without it, Open refuses a schema that is not at the latest
	// version this package knows.
	Migrate bool
	// Retries bounds how many times a statement the store runs on its own
	// is run again after SQLSTATE 40001 (serialization failure) or 40P01
	// (deadlock), which PostgreSQL-compatible engines running SERIALIZABLE
	// report under contention: 0 means DefaultRetries, a negative value
	// means never. After the last attempt the error is itsm.ErrConflict.
	// Statements inside a caller's transaction are never retried: their
	// failure is itsm.ErrConflict at once, and the caller decides.
	Retries int
}

// Validate returns a *itsm.ValidationError naming "retries" when Retries is
// out of range (above 100).
func (o Options) Validate() error {
	if o.Retries > 100 {
		return itsm.NewValidationError("retries", fmt.Sprintf("is %d; at most 100", o.Retries))
	}
	return nil
}

// Store is the PostgreSQL store. It is safe for concurrent use; it owns no
// connection of its own but borrows them from the pool it was opened with,
// which the caller keeps and closes.
type Store struct {
	pool    *pgxpool.Pool
	retries int
	// slots has room for as many connections as pool may open; every call
	// of the store that takes a connection from pool (a statement of its
	// own, a transaction of its own, InTx) puts a token in first and takes
	// it out after giving the connection back. So the tokens count every
	// connection the store holds or is about to take, at the moment it
	// decides to take one, and Next inside a transaction can ask for a
	// connection without waiting (see spare) rather than find out too late
	// that a call counted nowhere took the last one.
	slots chan struct{}
}

// take waits for a slot (see Store.slots) before the caller takes a
// connection from the pool, or returns ctx.Err(). Callers that hold none
// of the pool's connections may wait: a slot comes free when some other
// call gives its connection back.
func (s *Store) take(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryTake takes a slot only if one is free now.
func (s *Store) tryTake() bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// release gives back a slot taken by take or tryTake, after the caller has
// given its connection back to the pool.
func (s *Store) release() { <-s.slots }

// The capabilities a Store and its transactions offer.
var (
	_ storage.Store          = (*Store)(nil)
	_ storage.Transactor     = (*Store)(nil)
	_ storage.Outbox         = (*Store)(nil)
	_ storage.OutboxConsumer = (*Store)(nil)
	_ storage.Sequences      = (*Store)(nil)
	_ storage.Store          = (*txStore)(nil)
	_ storage.Transactor     = (*txStore)(nil)
	_ storage.Outbox         = (*txStore)(nil)
	_ storage.Sequences      = (*txStore)(nil)
)

// Open returns a store on pool, whose connections must reach a database
// (and search_path) where Migrate has created, or will with opts.Migrate
// create, this package's tables.
//
// Errors: *itsm.ValidationError naming "pool" or a field of opts; an error
// wrapping ErrSchemaVersion when the schema is behind (and opts.Migrate is
// not set) or ahead of this package; connection errors; ctx.Err().
func Open(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, itsm.NewValidationError("pool", "must not be nil")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Migrate {
		if _, err := Migrate(ctx, pool); err != nil {
			return nil, err
		}
	} else if err := checkSchema(ctx, pool); err != nil {
		return nil, err
	}
	retries := opts.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	return newStore(pool, retries), nil
}

// newStore returns a store on pool that retries statements of its own
// retries times.
func newStore(pool *pgxpool.Pool, retries int) *Store {
	// MaxConns is fixed when a pool is made, so the slots match it for the
	// store's life.
	return &Store{pool: pool, retries: retries, slots: make(chan struct{}, pool.Stat().MaxConns())}
}

// Incidents returns the incident repository. Calls made with the context of
// one of the store's transactions run inside it.
func (s *Store) Incidents() incident.Repository { return (*incidentRepo)(s) }

// readCommitted is how every transaction the store begins runs, whatever
// the server's or role's default_transaction_isolation: the CMDB locks rows
// and then reads what they guard, which sees other writers' commits only at
// READ COMMITTED (a REPEATABLE READ snapshot predates the lock).
func readCommitted() pgx.TxOptions { return pgx.TxOptions{IsoLevel: pgx.ReadCommitted} }

// querier is what statements need: a pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// do runs fn with somewhere to send statements: inside t, or inside the
// transaction ctx carries, or on the pool, retrying serialization failures
// there. fn returns errors as the driver gave them, or the kernel's
// sentinels; do maps the driver's (see mapError).
func (s *Store) do(ctx context.Context, t *tx, op string, fn func(q querier) error) error {
	if t == nil {
		t = s.txOf(ctx)
	}
	if t != nil {
		return t.run(ctx, op, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.take(ctx); err != nil {
		return err
	}
	defer s.release()
	for attempt := 0; ; attempt++ {
		err := fn(s.pool)
		if err == nil {
			return nil
		}
		if attempt < s.retries && ctx.Err() == nil && retryable(err) {
			continue
		}
		return mapError(ctx, op, err)
	}
}

// SQLSTATE codes the store tells apart. PostgreSQL reports them in
// pgconn.PgError.Code; the store never reads error messages.
const (
	codeUniqueViolation          = "23505"
	codeForeignKeyViolation      = "23503"
	codeSerializationFailure     = "40001"
	codeDeadlockDetected         = "40P01"
	codeCharacterNotInRepertoire = "22021"
	codeDatetimeFieldOverflow    = "22008"
	codeNumericValueOutOfRange   = "22003"
	codeUntranslatableCharacter  = "22P05"
	codeQueryCanceled            = "57014"
	codeLockNotAvailable         = "55P03"
	codeInFailedSQLTransaction   = "25P02"
)

// ErrTxAborted reports a statement, or a commit, of a caller's transaction
// in which an earlier statement failed on the server: PostgreSQL refuses
// everything else until the transaction ends, and its commit rolls back.
// It wraps itsm.ErrConflict, so services re-read and retry in a new
// transaction as after any conflict.
var ErrTxAborted = fmt.Errorf("postgres: an earlier statement of the transaction failed, so the server rolled it back: %w", itsm.ErrConflict)

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// retryable reports whether a statement run outside any transaction of the
// caller may simply be run again: the server rolled it back because of
// contention, or the driver never sent it (a connection found dead).
func retryable(err error) bool {
	switch pgCode(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	case "":
		return pgconn.SafeToRetry(err)
	}
	return false
}

// mapError turns a driver error into the storage contract's vocabulary:
// ctx.Err() when the context ended (the driver's error is kept in the
// message), itsm.ErrAlreadyExists for a unique violation, itsm.ErrConflict
// for serialization failures, deadlocks and foreign-key violations, a
// *itsm.ValidationError for text PostgreSQL cannot hold, itsm.ErrInvalid
// for an instant or number out of the range of its column,
// context.DeadlineExceeded for a statement or lock timeout on the server,
// ErrTxAborted for a statement refused because an earlier one of its
// transaction failed. Errors that are not the driver's (the
// kernel's sentinels, validation errors) pass unchanged.
func mapError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var ve *itsm.ValidationError
	if errors.As(err, &ve) || errors.Is(err, itsm.ErrNotFound) || errors.Is(err, itsm.ErrConflict) ||
		errors.Is(err, itsm.ErrAlreadyExists) || errors.Is(err, storage.ErrTxDone) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		return fmt.Errorf("postgres: %s: %w (%v)", op, cerr, err)
	}
	switch pgCode(err) {
	case codeUniqueViolation:
		return fmt.Errorf("postgres: %s: %w (%v)", op, itsm.ErrAlreadyExists, err)
	case codeSerializationFailure, codeDeadlockDetected:
		return fmt.Errorf("postgres: %s: %w (%v)", op, itsm.ErrConflict, err)
	case codeForeignKeyViolation:
		// The CMDB's foreign keys back up checks made under row locks; a
		// violation means another writer changed what a write relied on.
		return fmt.Errorf("postgres: %s: a record it refers to changed meanwhile: %w (%v)", op, itsm.ErrConflict, err)
	case codeCharacterNotInRepertoire, codeUntranslatableCharacter:
		return itsm.NewValidationError("text", "holds a NUL byte or invalid UTF-8, which PostgreSQL cannot store")
	case codeDatetimeFieldOverflow, codeNumericValueOutOfRange:
		// Validation bounds the instants and numbers the store writes
		// (itsm.InstantInRange, CheckIncidentWrite); this is the backstop
		// for one it missed: bad input, not a failure of the server.
		return fmt.Errorf("postgres: %s: a value is outside what PostgreSQL holds: %w (%v)", op, itsm.ErrInvalid, err)
	case codeInFailedSQLTransaction:
		return fmt.Errorf("postgres: %s: %w", op, ErrTxAborted)
	case codeQueryCanceled, codeLockNotAvailable:
		return fmt.Errorf("postgres: %s: the server gave up waiting: %w (%v)", op, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// queryDocs runs a listing query whose rows are (version, document) and
// decodes each row with decode, in order.
func queryDocs[T any](ctx context.Context, q querier, sql string, args []any, decode func(doc []byte, version int64) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	var version int64
	var doc []byte
	for rows.Next() {
		if err := rows.Scan(&version, &doc); err != nil {
			return nil, err
		}
		item, err := decode(doc, version)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, rows.Err()
}
