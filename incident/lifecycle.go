package incident

import (
	"github.com/itsmkit/itsmkit/itsm"
)

// Status is an incident's state in its lifecycle.
type Status string

// The states of the default lifecycle. A desk's own lifecycle may add or
// rename states; the service relies only on their categories.
const (
	StatusNew        Status = "new"
	StatusInProgress Status = "in_progress"
	StatusOnHold     Status = "on_hold"
	StatusResolved   Status = "resolved"
	StatusClosed     Status = "closed"
	StatusCanceled   Status = "canceled"
)

// Action is a lifecycle action on an incident.
type Action string

// The actions of the default lifecycle.
const (
	// ActionAssign starts work: New → In Progress.
	ActionAssign Action = "assign"
	// ActionHold suspends work for a reason: New or In Progress → On Hold.
	ActionHold Action = "hold"
	// ActionResume continues suspended work: On Hold → In Progress.
	ActionResume Action = "resume"
	// ActionResolve records a solution: any open state → Resolved.
	ActionResolve Action = "resolve"
	// ActionReopen sends a resolved incident back to work: Resolved (and,
	// under a reopen-from-closed policy, Closed) → In Progress.
	ActionReopen Action = "reopen"
	// ActionClose finishes a resolved incident: Resolved → Closed.
	ActionClose Action = "close"
	// ActionCancel abandons an open incident (a duplicate, not an incident):
	// New, In Progress or On Hold → Canceled.
	ActionCancel Action = "cancel"
)

// Lifecycle is the transition table incidents follow.
type Lifecycle = itsm.Lifecycle[Status, Action]

func baseSpec() itsm.LifecycleSpec[Status, Action] {
	return itsm.LifecycleSpec[Status, Action]{
		Name:    "incident",
		Initial: StatusNew,
		States: []itsm.StateDef[Status]{
			{State: StatusNew, Category: itsm.CategoryNew, Label: "New"},
			{State: StatusInProgress, Category: itsm.CategoryActive, Label: "In Progress"},
			{State: StatusOnHold, Category: itsm.CategoryWaiting, Label: "On Hold"},
			{State: StatusResolved, Category: itsm.CategoryResolved, Label: "Resolved"},
			{State: StatusClosed, Category: itsm.CategoryClosed, Terminal: true, Label: "Closed"},
			{State: StatusCanceled, Category: itsm.CategoryCanceled, Terminal: true, Label: "Canceled"},
		},
		Transitions: []itsm.Transition[Status, Action]{
			{From: StatusNew, Action: ActionAssign, To: StatusInProgress},
			{From: StatusNew, Action: ActionHold, To: StatusOnHold},
			{From: StatusInProgress, Action: ActionHold, To: StatusOnHold},
			{From: StatusOnHold, Action: ActionResume, To: StatusInProgress},
			{From: StatusNew, Action: ActionResolve, To: StatusResolved},
			{From: StatusInProgress, Action: ActionResolve, To: StatusResolved},
			{From: StatusOnHold, Action: ActionResolve, To: StatusResolved},
			{From: StatusResolved, Action: ActionReopen, To: StatusInProgress},
			{From: StatusResolved, Action: ActionClose, To: StatusClosed},
			{From: StatusNew, Action: ActionCancel, To: StatusCanceled},
			{From: StatusInProgress, Action: ActionCancel, To: StatusCanceled},
			{From: StatusOnHold, Action: ActionCancel, To: StatusCanceled},
		},
	}
}

// DefaultLifecycle returns the baseline incident lifecycle: New, In
// Progress, On Hold, Resolved, Closed and Canceled, with Closed final (as in
// ServiceNow and iTop).
func DefaultLifecycle() *Lifecycle {
	return mustLifecycle(baseSpec())
}

// ReopenFromClosedLifecycle returns the baseline lifecycle with one more
// edge, Closed → In Progress by reopen, for desks that reopen closed tickets
// (as GLPI does). Closed is then not terminal; the reopen window is enforced
// by Policy.ReopenClosedWithin.
func ReopenFromClosedLifecycle() *Lifecycle {
	spec := baseSpec()
	spec.Name = "incident-reopen-closed"
	for i := range spec.States {
		if spec.States[i].State == StatusClosed {
			spec.States[i].Terminal = false
		}
	}
	spec.Transitions = append(spec.Transitions, itsm.Transition[Status, Action]{From: StatusClosed, Action: ActionReopen, To: StatusInProgress})
	return mustLifecycle(spec)
}

// mustLifecycle builds a lifecycle this package declares as a constant; the
// tables are tested, so failure is a defect of the package.
func mustLifecycle[S, A ~string](spec itsm.LifecycleSpec[S, A]) *itsm.Lifecycle[S, A] {
	lc, err := itsm.NewLifecycle(spec)
	if err != nil {
		panic("incident: built-in lifecycle is invalid: " + err.Error())
	}
	return lc
}

// LifecycleRequirements returns what the incident service needs of a
// lifecycle a desk supplies: a state of every category, and ways from new to
// resolved, from waiting back to active, from resolved to closed and from
// resolved back to active. CheckLifecycle also checks the action names.
func LifecycleRequirements() itsm.Requirements {
	return itsm.Requirements{
		For: "incident.Service",
		Categories: []itsm.Category{
			itsm.CategoryNew, itsm.CategoryActive, itsm.CategoryWaiting,
			itsm.CategoryResolved, itsm.CategoryClosed, itsm.CategoryCanceled,
		},
		Paths: []itsm.CategoryPath{
			{From: itsm.CategoryNew, To: itsm.CategoryResolved},
			{From: itsm.CategoryWaiting, To: itsm.CategoryActive},
			{From: itsm.CategoryResolved, To: itsm.CategoryClosed},
			{From: itsm.CategoryResolved, To: itsm.CategoryActive},
		},
	}
}

// CheckLifecycle reports whether lc can drive incidents: it meets
// LifecycleRequirements, and each action the service issues leads into the
// category the service expects (assign and resume into active, hold into
// waiting, resolve into resolved, reopen into active, close into closed,
// cancel into canceled) wherever the action is allowed. It returns a
// *itsm.ValidationError listing every gap.
func CheckLifecycle(lc *Lifecycle) error {
	if lc == nil {
		return itsm.NewValidationError("lifecycle", "must not be nil")
	}
	var errs itsm.FieldErrors
	errs.Merge("lifecycle", lc.Require(LifecycleRequirements()))
	want := map[Action]itsm.Category{
		ActionAssign: itsm.CategoryActive, ActionResume: itsm.CategoryActive, ActionReopen: itsm.CategoryActive,
		ActionHold: itsm.CategoryWaiting, ActionResolve: itsm.CategoryResolved,
		ActionClose: itsm.CategoryClosed, ActionCancel: itsm.CategoryCanceled,
	}
	used := map[Action]bool{}
	for _, tr := range lc.Transitions() {
		cat, ok := want[tr.Action]
		if !ok {
			continue
		}
		used[tr.Action] = true
		if got, _ := lc.Category(tr.To); got != cat {
			errs.Addf("lifecycle.transitions", "%s from %s leads to %s (%s); the service expects a %s state", tr.Action, tr.From, tr.To, got, cat)
		}
	}
	for _, a := range []Action{ActionAssign, ActionHold, ActionResume, ActionResolve, ActionReopen, ActionClose, ActionCancel} {
		if !used[a] {
			errs.Addf("lifecycle.transitions", "no transition carries the action %q the service issues", a)
		}
	}
	return errs.Err()
}

// MajorStatus is where an incident stands on the major-incident track, a
// second state machine independent of Status.
type MajorStatus string

// The states of the major-incident track.
const (
	// MajorNone: not a major incident and not proposed as one.
	MajorNone MajorStatus = "none"
	// MajorProposed: someone proposed it; a major incident manager decides.
	MajorProposed MajorStatus = "proposed"
	// MajorAccepted: it is a major incident. It needs an owner and, after
	// resolution, a post-incident review.
	MajorAccepted MajorStatus = "accepted"
	// MajorRejected: the proposal was rejected (with a reason). Final.
	MajorRejected MajorStatus = "rejected"
	// MajorDemoted: it was a major incident and was demoted (with a reason).
	// Final.
	MajorDemoted MajorStatus = "demoted"
)

// valid reports whether s is one of the declared major statuses.
func (s MajorStatus) valid() bool {
	switch s {
	case MajorNone, MajorProposed, MajorAccepted, MajorRejected, MajorDemoted:
		return true
	}
	return false
}

// MajorAction is an action on the major-incident track.
type MajorAction string

// The actions of the major-incident track.
const (
	MajorPropose MajorAction = "propose"
	MajorAccept  MajorAction = "accept"
	MajorReject  MajorAction = "reject"
	MajorDemote  MajorAction = "demote"
)

// MajorLifecycle returns the major-incident track: none → proposed →
// accepted or rejected; accepted → demoted.
func MajorLifecycle() *itsm.Lifecycle[MajorStatus, MajorAction] {
	return mustLifecycle(itsm.LifecycleSpec[MajorStatus, MajorAction]{
		Name:    "major-incident",
		Initial: MajorNone,
		States: []itsm.StateDef[MajorStatus]{
			{State: MajorNone, Category: itsm.CategoryNew, Label: "None"},
			{State: MajorProposed, Category: itsm.CategoryWaiting, Label: "Proposed"},
			{State: MajorAccepted, Category: itsm.CategoryActive, Label: "Accepted"},
			{State: MajorRejected, Category: itsm.CategoryCanceled, Terminal: true, Label: "Rejected"},
			{State: MajorDemoted, Category: itsm.CategoryCanceled, Terminal: true, Label: "Demoted"},
		},
		Transitions: []itsm.Transition[MajorStatus, MajorAction]{
			{From: MajorNone, Action: MajorPropose, To: MajorProposed},
			{From: MajorProposed, Action: MajorAccept, To: MajorAccepted},
			{From: MajorProposed, Action: MajorReject, To: MajorRejected},
			{From: MajorAccepted, Action: MajorDemote, To: MajorDemoted},
		},
	})
}
