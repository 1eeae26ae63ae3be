// Package memory is itsmkit's embedded default storage adapter: every
// repository and every capability of package storage, kept in the process's
// memory. It is complete, safe for concurrent use and never shares mutable
// data with its callers (incidents are copied or decoded on the way out and
// copied or encoded on the way in; CMDB records are copied with their Clone
// method), but it is not durable: everything is lost when the process
// ends. The one exception is incident.Service, which the store lends its
// records to under a rule the two packages keep between them (an
// unexported interface of package incident: the service treats a lent
// record as read-only and saves a new one), so a command neither copies
// nor decodes the record it works on. Hosts calling the store see copies.
// It suits tests, demos, examples and single-process tools; it passes the
// conformance suite in storage/storagetest.
//
// # What it offers
//
// A *Store implements storage.Store (incidents), storage.CMDB (CI records
// and relationships), storage.Transactor, storage.Outbox,
// storage.OutboxConsumer and storage.Sequences. The Store a transaction
// hands to its function implements storage.Store, storage.CMDB,
// storage.Transactor (savepoints), storage.Outbox and storage.Sequences.
//
// # Concurrency and transactions
//
// Reads share a lock and decode or copy outside it; writes encode or copy
// records before taking it exclusively for the few map operations they
// need (outbox events are encoded under it, their envelopes referring to
// the outbox's table of names). A transaction holds the exclusive lock
// for as long as its function runs, so transactions are serialisable: none
// sees another's writes before they commit, and no update inside one ever
// meets a conflict. Rolling back replays an undo log, so a failed
// transaction (error, panic or cancelled context) leaves no trace: no
// records, no outbox events. Sequences sit outside transactions behind
// their own lock: values drawn in a transaction that rolls back stay used.
//
// Because the lock is held while the function runs, the function must not
// wait for another goroutine that uses the same Store with a context other
// than the transaction's: it would wait for the transaction to end. Calls
// made with the transaction's context, through the Store or the
// transaction's Store, run inside it.
//
// # Costs
//
// Each tenant keeps its incidents in a map by ID, a map by number and a
// slice of IDs in ascending order (new UUIDv7 IDs append at its end),
// each beside an incident.Summary of the fields filters read (its text
// shared with a record kept decoded, interned beside an encoded one, so
// that repeated callers, groups or categories cost nothing more). An incident
// being worked on is kept decoded, so that the commands on it neither
// decode nor encode it (about 3.5 KB of heap, with pointers, for one with
// two SLA timers and three history entries); once closed or canceled it is kept
// as its binary encoding (incident.Data.AppendBinary) in a string: about
// 1.4 KB of heap for a closed incident with two SLA timers, with nothing in
// it for the garbage collector to scan. Get and GetByNumber are a map lookup and a
// deep copy, or a decode whose strings share the stored one; Update and
// Create copy, or encode once; List filters on the summaries, walking only
// the IDs after its cursor until the page is full, and copies or decodes
// the page. The outbox is a queue in
// append order of events kept encoded (a backlog costs the collector
// nothing to scan): 32 bytes of entry, an envelope of some 32 bytes whose
// strings are one-byte references to a bounded table of names, and the
// payload; events whose IDs grow are found by binary search of the queue
// itself. Claim walks it from the oldest event and decodes what it hands
// out; once a burst has been delivered, the queue and its index shrink
// again.
//
// # Errors
//
// The kernel's sentinels as storage documents them: itsm.ErrNotFound,
// itsm.ErrAlreadyExists, itsm.ErrConflict, *itsm.ValidationError
// (itsm.ErrInvalid), storage.ErrTxDone (a transaction that has ended),
// storage.ErrTxBusy (a call at a level above a nested transaction that is
// still running), and ctx.Err().
package memory
