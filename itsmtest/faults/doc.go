// Package faults wraps a storage.Store to inject failures, so that tests can
// check what a service does when storage fails mid-command: the stored
// record must be fully before or fully after the command, never between,
// and the error must say what failed.
//
// Wrap returns the wrapped store and the Injector that plans its faults.
// The wrapped store offers exactly the capabilities of the inner one
// (storage.Transactor, storage.Outbox, storage.OutboxConsumer,
// storage.Sequences, storage.CMDB), and the Store a transaction hands to its function is
// wrapped too, sharing the same Injector. Without planned faults every call
// is forwarded unchanged; the wrapped store passes the conformance suite.
//
// A fault targets the Nth call of a method (or of any method) counted from
// when it is planned, for one or more consecutive calls:
//
//   - Fail returns an error without calling the inner store;
//   - Conflict returns itsm.ErrConflict without calling it;
//   - Timeout returns context.DeadlineExceeded without calling it;
//   - TimeoutAfterWrite calls it and then reports context.DeadlineExceeded
//     although the call took effect, as a database does when the
//     connection drops after the commit.
//
// Injected errors are *Error values that read like "faults: injected failure
// on Incidents.Update call 3", unwrap to ErrInjected and to the error they
// stand for (itsm.ErrConflict, context.DeadlineExceeded, or the error given
// to Fail), and never depend on timing: which call fails is decided by
// counting calls under a lock. An Injector is safe for concurrent use; with
// concurrent callers, exactly the planned number of calls fail, though which
// goroutine makes them depends on the scheduler.
package faults
