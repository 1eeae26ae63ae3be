// Package postgres is itsmkit's PostgreSQL storage adapter, on
// github.com/jackc/pgx/v5 (pgxpool). It offers every repository and every
// capability of package storage, durably, and passes the conformance suite
// in storage/storagetest against a real server.
//
//	pool, err := pgxpool.New(ctx, "postgres://desk@db.example/desk")
//	...
//	store, err := postgres.Open(ctx, pool, postgres.Options{Migrate: true})
//	cfg, err := storage.IncidentConfig(store)
//
// # Schema and migrations
//
// The schema is a list of versioned migrations embedded in the package
// (Migrations lists them). Migrate applies the missing ones, each in its
// own transaction, recording them in itsmkit_schema_migrations; it is
// idempotent, and processes migrating the same schema at once take turns
// on an advisory lock. The tables live in the first schema of the
// connections' search_path, so one database can hold several independent
// stores. Open checks that the schema is at the version the package expects
// (or migrates first, with Options.Migrate).
//
// Every table carries tenant_id. Incidents are keyed by (tenant_id, id),
// numbers are unique per tenant, and every statement on incidents and
// sequences filters on the tenant. The whole incident.Data is kept as a
// JSONB document; what lists filter on is copied into indexed columns on
// every write (status, priority, group, assignee, caller, category, the
// affected service as "kind:uuid", parent, major status, opened_at,
// updated_at, resolved_at, sla_breached, sla_next_at, sla_stages;
// migration 4 added caller, category and service, filled from the
// documents of the incidents already stored). The indexes on the equality
// filters (status, priority, group, assignee, caller, category, service,
// parent, major status, breached) end with the ID, so that such a filtered
// page is one index range; the range filters opened_at, updated_at,
// resolved_at and sla_next_at are indexed by (tenant, instant), and their
// matches are sorted by ID for the page; sla_stages is not indexed. Lists
// implement every incident.Filter field in SQL, ordered by ID and
// paginated with id > cursor. Values travel as statement parameters, never
// as SQL text. A bound of a filter outside the years any stored instant
// can have (0 to 9999, the years JSON holds) is decided without the
// server, which refuses instants beyond its own range: it selects all or
// nothing, as Filter.Matches says.
//
// The outbox is keyed by event ID, unique across the outbox as the
// contract says, and ordered by an identity column; the consumer side
// (Claim, Ack) works across tenants, as storage.OutboxConsumer does.
//
// # The CMDB
//
// Store.CMDB (and a transaction's) returns a cmdb.Repository bound to a
// registry; storage.CMDBRepository adds cmdb.Atomic on top of InTx. A CI
// record is a JSONB document plus indexed copies of what cmdb.Filter
// selects on (class, status, the reporting sources, duplicate_of);
// relationships are plain columns indexed by each end. Integrity is
// decided by the registry's own functions (CheckRelationship,
// DeleteClosure), run in one transaction (a savepoint of the caller's)
// after locking what they depend on: the two ends of a new relationship,
// every CI a deletion cascades to, a record gaining a duplicate-of pointer
// and its target, and, for hosting and containment relationships, a
// per-tenant advisory lock, since a cycle can be closed by two edges with
// no end in common. So concurrent writers can never together break
// cardinality, make a cycle, a dangling relationship or a duplicate chain;
// one of them waits, then is refused with a *itsm.ValidationError as it
// would have been alone, or, after a deadlock, gets itsm.ErrConflict.
// Foreign keys (carrying the tenant) back this up. Each native key a CI
// carries is a row of cmdb_native_keys (migration 3), primary key (tenant,
// source, native ID), written in the same transaction as the CI: of
// concurrent writers of one key the first wins and the others, having
// waited for it, are refused (itsm.ErrAlreadyExists on create,
// itsm.ErrConflict on update), even at READ COMMITTED.
//
// # Concurrency and errors
//
// Updates are optimistic: UPDATE … WHERE tenant_id AND id AND version, and
// when no row changes a second look tells itsm.ErrNotFound from
// itsm.ErrConflict. Errors are mapped by SQLSTATE (pgconn.PgError.Code),
// never by message: 23505 is itsm.ErrAlreadyExists; 40001 and 40P01
// (serialization failure, deadlock, as PostgreSQL-compatible engines
// running SERIALIZABLE report) are retried a bounded number of times for
// statements the store runs on its own and are itsm.ErrConflict inside a
// caller's transaction; 57014 and 55P03 (statement or lock timeout) wrap
// context.DeadlineExceeded; 25P02, a statement refused after an earlier
// one of the transaction failed, and the commit of such a transaction are
// ErrTxAborted, which wraps itsm.ErrConflict; 22008 and 22003 (an instant
// or number out of its column's range, which validation should have
// refused first) wrap itsm.ErrInvalid. A context that ends first is
// ctx.Err(), wrapped. Creating an incident with a taken ID or number and
// appending an event already in the outbox (even one another transaction
// is appending) are told apart without raising an error, so the caller's
// transaction stays usable.
//
// # Text PostgreSQL cannot hold
//
// PostgreSQL text and JSONB reject NUL bytes, and encoding/json would
// replace invalid UTF-8, so such strings could not round-trip. The store
// refuses a record holding one with a *itsm.ValidationError naming the
// field (for example "custom.site"), writing nothing. The storage contract
// allows this (an adapter may refuse what it cannot store exactly, never
// change it), and the incident service never produces such text. A lookup
// by such text (GetByNumber, a filter of List or ListCIs) finds nothing, as
// no record here can hold it: itsm.ErrNotFound or an empty page, as in a
// store that keeps every text, and a caller's transaction stays usable.
//
// Empty collections stay empty and absent ones absent: the JSON of the
// records and actors omits a nil list or map (omitzero) and writes an
// empty one as [] or {}, so what comes back is what was stored.
//
// Instants are stored to the microsecond, as itsm.Normalize leaves them;
// an incident whose opened, updated, resolved or next-due instant is finer
// is refused ("opened_at", "updated_at", "resolved_at", "sla.timers"),
// since lists filter on those. Every instant of an incident comes back in
// UTC, whatever zone it was written in (JSON would drop the seconds of a
// zone's offset, Africa/Monrovia's -0:44:30 before 1972). Migration 5 gave
// documents stored before it the opened, updated and resolved instants of
// their columns, where they differed (finer than a microsecond, or shifted
// by such an offset).
//
// # Transactions
//
// InTx runs its function in a READ COMMITTED transaction (asked for
// explicitly, whatever the server's default) on one pooled connection; the
// transaction travels in the context, so calls made with the function's
// context through the Store itself join it. Nested InTx calls are
// savepoints; while one runs, the levels above it refuse calls
// (storage.ErrTxBusy). Sequences are outside transactions: Next runs on
// its own connection and commits at once (an upsert that increments a
// per-tenant counter under its row lock), so a value drawn in a
// transaction that rolls back stays used and a pool must have a spare
// connection for it. The store counts every connection its calls hold or
// are about to take (InTx's transactions, its own transactions and
// statements) before taking one, so Next inside a transaction can refuse
// at once (ErrNoSpareConnection) when none is free, rather than wait for a
// connection held by a call that waits on the transaction itself; it also
// refuses when the host has borrowed the rest of the pool. The store
// starts no goroutines and reads no clock:
// Claim leases with the caller's instant.
//
// # Consumers
//
// Claim takes the oldest available events with FOR UPDATE SKIP LOCKED and
// leases them in one statement, so consumers claiming at once never wait
// for each other and never receive the same event; Ack locks the events it
// names, checks that the lease still holds them, and deletes them. Both run
// inside the transaction their context carries, if any.
package postgres
