// Package incident is the incident management practice (ITIL 4; ISO/IEC
// 20000-1 clause 8.6.1): restoring normal service as quickly as possible.
//
// # The aggregate
//
// An Incident carries its number (INC0001234), tenant, description, caller,
// classification, affected service and CIs, impact, urgency and the
// priority derived from them (overridable only with a reason and a role),
// assignment, reassignment, reopen and escalation counts, hold reason,
// resolution, the instants that matter to SLAs (opened, first response,
// resolved, closed), links to a parent, a problem and a change, the desk's
// custom fields, comments and work notes, and an append-only history. Its
// status changes only through its lifecycle; Data and Restore convert it to
// and from plain data for storage, and Restore re-validates what storage
// returns.
//
// # Lifecycles
//
// DefaultLifecycle is the baseline of DOMAIN.md §3:
//
//	stateDiagram-v2
//	    [*] --> new
//	    new --> in_progress : assign
//	    new --> on_hold : hold
//	    in_progress --> on_hold : hold
//	    on_hold --> in_progress : resume
//	    new --> resolved : resolve
//	    in_progress --> resolved : resolve
//	    on_hold --> resolved : resolve
//	    resolved --> in_progress : reopen
//	    resolved --> closed : close
//	    new --> canceled : cancel
//	    in_progress --> canceled : cancel
//	    on_hold --> canceled : cancel
//	    closed --> [*]
//	    canceled --> [*]
//
// ReopenFromClosedLifecycle adds closed --> in_progress for desks that reopen
// closed incidents within a window (Policy.ReopenClosedWithin). A desk may
// supply its own lifecycle; CheckLifecycle says what it lacks. The
// major-incident track (MajorLifecycle) is a second, independent machine:
// none → proposed → accepted | rejected; accepted → demoted.
//
// # Guards
//
// Every rule is enforced here, not in a UI: holds need a reason, and
// awaiting the caller needs a comment (the caller's reply resumes the
// incident); resolving needs a code and notes; reopening needs a reason and
// respects the reopen window; canceling needs a reason, and a duplicate names
// its original; overriding the priority needs a reason and the override
// role; accepting, rejecting and demoting a major incident need the major
// incident role, and rejecting and demoting a reason; an accepted major
// incident closes only after its post-incident review; a parent link that
// would make an incident its own ancestor is refused. Cascades from a parent
// (resolve, and holds awaiting a change, problem or vendor) are idempotent,
// never move a child backwards, and never undo a later decision about a
// child (one reopened after its parent was resolved stays open). Children
// waiting for a change, problem or vendor follow their parent's reason when
// it changes; one waiting for its caller keeps its own.
//
// # Listing
//
// Repository.List (and Service.List) returns a page of a tenant's
// incidents matching a Filter, in creation order (by ID), with a cursor
// for the next page. A Filter selects by status, priority, group,
// assignee, caller, category, affected service, parent, major-incident
// status, SLA state, and instants: opened in [OpenedFrom, OpenedBefore),
// changed at or after UpdatedSince, resolved strictly before
// ResolvedBefore, SLA due at or before SLANextBefore. Every store answers
// as Filter.Matches does; storage/storagetest checks it.
//
// # Incremental export
//
// A host that copies incidents elsewhere can list only what changed since
// its last look: Filter{UpdatedSince: last}, where last is the latest
// UpdatedAt it has seen, keeping for each incident the highest Version it
// has. The bound is inclusive, so incidents changed at that very instant
// come again; de-duplicating by (ID, Version) drops them. What it rests
// on, and where it stops:
//
//   - UpdatedAt never goes backwards for a record through the Service:
//     every command takes its instant from the clock clamped to the
//     record's last change (history and UpdatedAt), so a command that
//     changes a record stored with UpdatedAt u leaves it at u or later.
//   - Instants are read before the write commits, and commands on
//     different incidents commit in any order (and hosts' clocks may
//     disagree a little), so an incident can become visible with an
//     UpdatedAt earlier than one an export has already seen. Poll from
//     last minus a margin larger than the longest command (from its clock
//     reading to its commit) plus the clock skew between hosts; the
//     duplicates that brings are dropped by (ID, Version).
//   - Some writes change a record without moving UpdatedAt, so
//     UpdatedSince never sees them: Service.AdvanceSLA (SLA thresholds and
//     breaches recorded by the scheduler, whose sla.* events are in the
//     outbox), and LinkParent writing each ancestor back unchanged (only
//     its version moves). A host's own Repository.Update may set any
//     UpdatedAt. An export that must see every version follows the outbox
//     instead.
//
// # Errors
//
// Bad input is a *itsm.ValidationError naming the field; an action the
// lifecycle or a guard refuses is a *itsm.TransitionError
// (itsm.ErrInvalidTransition); a missing role is itsm.ErrForbidden. A
// refused command leaves the incident exactly as it was.
package incident
