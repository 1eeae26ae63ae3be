// Package storage is the storage contract of itsmkit: what every adapter
// (storage/memory, storage/postgres, a host's own) promises, the Store bundle
// through which an adapter hands out its repositories, and the optional
// capabilities an adapter may offer on top. The conformance suite in
// storage/storagetest is the executable form of this page; an adapter that
// passes it keeps the contract.
//
// # Repositories
//
// Each practice declares the repository it needs next to its aggregate
// (incident.Repository today). Repositories deal in plain data and take a
// context first. A Store hands them out: Store.Incidents returns the incident
// repository.
//
// # Tenants
//
// Every record belongs to exactly one tenant, and every read and write is
// scoped by one. A record of another tenant is itsm.ErrNotFound for reads and
// updates and is absent from lists: indistinguishable from a record that does
// not exist. Uniqueness (IDs, human numbers) holds within a tenant; another
// tenant may use the same number, and even the same ID.
//
// # Errors
//
// Adapters return the kernel's sentinels, wrapped or not, so callers test
// with errors.Is: itsm.ErrNotFound (absent, or another tenant's),
// itsm.ErrAlreadyExists (an ID or number taken within the tenant),
// itsm.ErrConflict (a stale version: nothing was written), and
// *itsm.ValidationError, which unwraps to itsm.ErrInvalid, for bad input,
// naming the field ("tenant", "id", "version", "page.limit",
// "events[2].type"). Adapters map native errors by code (SQLSTATE), never by
// message. ErrTxDone reports the use of a transaction that has ended, and
// ErrTxBusy a call at a level above a nested transaction still running. Bad
// input never panics and never half-writes.
//
// A store stores what it is given exactly or refuses it (a nil list or map
// comes back nil, an empty one empty): an adapter whose
// database cannot hold some text exactly (PostgreSQL rejects NUL bytes and
// invalid UTF-8; the memory store keeps both) returns a
// *itsm.ValidationError naming the field ("custom.site",
// "comments[0].text") and writes nothing, never a changed value. The
// incident service never produces such text.
//
// # Versions and optimistic concurrency
//
// A record is created with Version 0 and stored as version 1. An update
// carries the version it was read at; it succeeds only if the stored version
// is still that one, and stores version+1. Otherwise it returns
// itsm.ErrConflict and writes nothing: the caller re-reads, decides again and
// retries. Of any number of concurrent updates made from the same read,
// exactly one wins.
//
// # No aliasing
//
// Data passed in and handed out is never shared with the store. Mutating a
// value after passing it to the store, or mutating a value the store returned,
// never changes what is stored. Adapters copy aggregates with their Clone
// method, never field by field, so fields added later are copied too.
//
// # Lists
//
// Lists are filtered (the practice's Filter type, whose Matches method is the
// reference meaning), ordered by ID ascending (creation order, since IDs are
// UUIDv7) and cursor-paginated: a page starts strictly after the cursor ID
// and holds at most the page limit. Next is the last ID of the page when more
// matches follow, and the zero ID on the last page. A record that exists and
// matches throughout a listing appears exactly once across its pages,
// whatever is written meanwhile.
//
// # Contexts
//
// Every method takes a context first. A context that is already cancelled
// or past its deadline makes the method return ctx.Err() (possibly wrapped)
// having written nothing; adapters check it before writing and before
// committing.
//
// # Capabilities
//
// Optional capabilities are separate interfaces that a Store may also
// implement; callers find them by type assertion (or with Require, which
// says what is missing):
//
//   - Transactor: run a function in one transaction across aggregates; all
//     of it is committed or none of it. A transaction nested in another is a
//     savepoint: its failure undoes only its own writes, and nothing of it is
//     committed until the outermost transaction commits. While a nested
//     transaction runs, the levels above it refuse calls (ErrTxBusy), so
//     goroutines sharing a transaction cannot mix their savepoints up.
//     Calls made with the context the transaction hands to its function,
//     even through the Store itself rather than the transaction's Store,
//     run inside the transaction.
//   - Outbox: append domain events (itsm.Event) so that they commit or
//     vanish with the aggregate written in the same transaction.
//   - OutboxConsumer: claim a batch of events under a lease, acknowledge
//     them; an event is never held by two leases at once, and events whose
//     lease expired without an acknowledgement can be claimed again.
//     Delivery is at least once: consumers drop duplicates by event ID.
//     The caller passes the current instant; nothing here reads a clock.
//   - CMDB: the CMDB repository (cmdb.Repository: CI records and their
//     relationships, with referential integrity and each relationship
//     type's delete behaviour), bound to a cmdb.Registry. CMDBRepository
//     adds cmdb.Atomic when the store has transactions. A native key (a
//     source and its native ID for a CI) is carried by one CI of a tenant
//     at most: a create that would repeat one is itsm.ErrAlreadyExists, an
//     update that would give a CI a key another carries itsm.ErrConflict,
//     checked in the same atomic step as the write so that of concurrent
//     writers of one key exactly one succeeds; a key is free again once
//     its CI drops it or is deleted, or its write rolls back.
//   - Sequences: per-tenant, per-name counters for human numbers
//     (INC0001234): 1 first, never a duplicate, gaps allowed. A value drawn
//     inside a transaction that rolls back stays used, as with PostgreSQL's
//     nextval: sequences are outside transactions.
//
// # Growing without breaking
//
// Never add a method to a released interface: an adapter written outside
// this module would stop compiling. Store is frozen with the incident
// repository; the repositories of later practices (problems, changes, CIs)
// arrive as new one-method interfaces (for instance a Problems interface
// with a Problems method) that adapters implement alongside Store and
// services find by type assertion, exactly like the capabilities. New
// behaviour of an existing capability arrives as a new interface or as new
// fields of a request struct such as ClaimRequest, whose zero value keeps
// the old meaning.
//
// # Concurrency
//
// Stores, repositories and capabilities are safe for concurrent use by many
// goroutines. Library code starts no goroutines and sets no timers.
package storage
