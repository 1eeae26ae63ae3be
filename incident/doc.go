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
// (resolve, holds awaiting a change, problem or vendor, and every resume, by
// hand or by the caller's reply) are idempotent, never
// move a child backwards, and never undo a later decision about a child
// (one reopened after its parent was resolved stays open). Children waiting
// for a change, problem or vendor follow their parent's reason when it
// changes; one waiting for its caller keeps its own. A parent's resume
// resumes only the children its hold cascade put on hold and that still
// wait on that hold: one held on its own, or held again since, keeps
// waiting, and so does every child once the parent is held again. A child
// resumed by the cascade records no first response.
//
// # SLA conditions
//
// With Config.SLA set, every command that changes an incident observes it
// with the SLA engine (sla.Observation). Conditions read the incident as
// follows, and NewService refuses (a *itsm.ValidationError naming "sla",
// the agreement, the condition and the names below) an engine whose
// conditions read a field the service never supplies, compare the service
// with anything but itsm.Ref text, or compare a built-in field below with
// a value it never takes (a status the lifecycle lacks, "vendor" for
// awaiting_vendor, a reopen count that is no integer) or order one that is
// text: such a condition would be valid and silently never hold.
//
//	condition field     what it reads
//	priority            the priority (its number)
//	service             the affected service as itsm.Ref text, "service:<uuid>" in
//	                    lower case, never the bare UUID: write sla.ServiceIs(ref)
//	category            the classification's category
//	state               the category of the status: new, active, waiting, ...
//	fields.status       the status itself: new, in_progress, on_hold, ...
//	fields.subcategory  the subcategory
//	fields.channel      the channel: portal, email, phone, ...
//	fields.group        the assignment group
//	fields.assignee     the assignee
//	fields.hold_reason  the hold reason while on hold: awaiting_caller, ...
//	fields.major        the major-incident status: proposed, accepted, ...
//	fields.reopens      the reopen count, an integer (compare with lt, ge, ...)
//	fields.responded    "true" once the incident has recorded its first
//	                    response (FirstResponseAt), absent before
//	fields.custom.<k>   the desk's custom field k: a custom field vip is
//	                    sla.FieldIs("fields.custom.vip", "yes"), not "fields.vip"
//
// Text fields that are empty are absent (sla.OpMissing holds). The first
// response is recorded when the incident moves into an active state
// (assign, resume, reopen), when someone other than the caller writes a
// comment the caller sees, or when a hold asks the caller its question (a
// hold with a comment); a hold without a comment (a cascaded one among
// them), a work note, a comment of the caller's that resumes nothing and a
// resolution record none. A response target that should stop at the first response stops on
// fields.responded; stopping on the waiting category instead counts a hold
// cascaded from a parent, which the child's caller never saw, as the
// child's response. Resolution still ends the wait for a response, so such
// a target usually stops on either:
//
//	Stop: sla.AnyOf(sla.FieldIs("fields.responded", "true"),
//		sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed)),
//
// # Events
//
// Every command that changes an incident returns events (Result.Events,
// and Result.Cascade[i].Events for each child a cascade reached), written
// to the outbox in the same transaction where the store has one: first
// one event per history entry the command added, then one per comment,
// then the SLA engine's. The event types are the Event* constants
// (EventTypes lists them), and their payloads are JSON that decodes with
// encoding/json into the Go type named here:
//
//	command                 event types                        payload
//	Open                    incident.opened                    Entry
//	Update                  incident.updated                   Entry
//	OverridePriority        incident.priority_overridden       Entry
//	Assign                  incident.assigned (from new, into
//	                        work), else incident.reassigned    Entry
//	Hold                    incident.held (also when only the
//	                        reason changes), then
//	                        incident.commented with a comment  Entry, Comment
//	Resume                  incident.resumed                   Entry
//	Comment                 incident.commented, after          Entry, Comment
//	                        incident.resumed when the caller's
//	                        reply resumes a hold awaiting it
//	Resolve                 incident.resolved                  Entry
//	Reopen                  incident.reopened                  Entry
//	Close                   incident.closed                    Entry
//	Cancel                  incident.canceled                  Entry
//	Escalate                incident.escalated (the entry's
//	                        command says functional or
//	                        hierarchical)                      Entry
//	ProposeMajor            incident.major_proposed            Entry
//	AcceptMajor             incident.major_accepted            Entry
//	RejectMajor             incident.major_rejected            Entry
//	DemoteMajor             incident.major_demoted             Entry
//	ReviewMajor             incident.major_reviewed            Entry
//	LinkParent              incident.parent_linked             Entry
//	UnlinkParent            incident.parent_unlinked           Entry
//	LinkProblem             incident.problem_linked, or
//	                        incident.problem_unlinked for the
//	                        zero Ref                           Entry
//	LinkChange              incident.change_linked, or
//	                        incident.change_unlinked for the
//	                        zero Ref                           Entry
//	Resolve, Hold, Resume,  for each child reached, in
//	Comment, Cascade        Result.Cascade: incident.resolved,
//	                        incident.held or incident.resumed  Entry
//	AdvanceSLA              SLA events only                    sla.Event
//	any of the above        then the SLA events of the
//	                        observation: sla.attached,
//	                        sla.paused, sla.resumed,
//	                        sla.completed, sla.canceled,
//	                        sla.retargeted, sla.threshold,
//	                        sla.breached                       sla.Event
//
// A command that changes nothing (a retried hold with the same reason)
// emits nothing. Every event's Subject is the incident, its Version the
// incident's version after the command; an SLA event's actor is the
// system actor whose ID is "sla".
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
// (itsm.ErrInvalidTransition); a missing role, or an Authorizer's refusal,
// is itsm.ErrForbidden; an incident the tenant does not hold is
// itsm.ErrNotFound; concurrent writers that kept winning for
// Config.MaxAttempts tries give itsm.ErrConflict; a store's own failure
// comes back wrapped with what failed. A refused command leaves the
// incident exactly as it was.
package incident
