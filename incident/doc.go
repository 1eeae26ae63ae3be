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
// (resolve, holds awaiting a change, problem or vendor, and the resume that
// ends such a hold, by hand or by the caller's reply) are idempotent, never
// move a child backwards, and never undo a later decision about a child
// (one reopened after its parent was resolved stays open). Children waiting
// for a change, problem or vendor follow their parent's reason when it
// changes; one waiting for its caller keeps its own. A parent's resume
// resumes only the children its hold cascade put on hold and that still
// wait on that hold: one held on its own, or held again since, keeps
// waiting.
//
// # Errors
//
// Bad input is a *itsm.ValidationError naming the field; an action the
// lifecycle or a guard refuses is a *itsm.TransitionError
// (itsm.ErrInvalidTransition); a missing role is itsm.ErrForbidden. A
// refused command leaves the incident exactly as it was.
package incident
