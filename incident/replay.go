package incident

import (
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// Recorded is one observation of an incident in another tool's history: at
// an instant, the tool showed the incident in a state (in the tool's own
// words) with some fields. Empty fields mean "unchanged".
type Recorded struct {
	// At is when the tool recorded the observation: required, in the years
	// itsm.InstantInRange accepts, and never before the observation
	// before it.
	At time.Time `json:"at"`
	// State is the tool's state name, translated by Mapping.States; empty
	// leaves the state as it is.
	State string `json:"state"`
	// By is who made the change in the tool; empty means an "import"
	// integration actor.
	By itsm.Actor `json:"by,omitzero"`
	// Impact, Urgency and Priority as the tool recorded them; zero means
	// unchanged. A Priority that differs from what the matrix derives is
	// kept as an imported override.
	Impact   itsm.Impact   `json:"impact,omitempty"`
	Urgency  itsm.Urgency  `json:"urgency,omitempty"`
	Priority itsm.Priority `json:"priority,omitempty"`
	Group    string        `json:"group,omitempty"`
	Assignee string        `json:"assignee,omitempty"`
	// HoldReason is the tool's own word for why the incident waits.
	HoldReason string `json:"hold_reason,omitempty"`
	// ResolutionCode and ResolutionNotes, when the incident was resolved.
	ResolutionCode  string `json:"resolution_code,omitempty"`
	ResolutionNotes string `json:"resolution_notes,omitempty"`
}

// Mapping translates another tool's vocabulary into this package's.
type Mapping struct {
	// States maps the tool's state names to statuses. Required for every
	// state that occurs.
	States map[string]Status `json:"states"`
	// HoldReasons maps the tool's hold reasons; unmapped or empty reasons
	// take DefaultHoldReason.
	HoldReasons map[string]HoldReason `json:"hold_reasons,omitempty"`
	// DefaultHoldReason is used when a hold has no mapped reason; empty
	// means awaiting_vendor.
	DefaultHoldReason HoldReason `json:"default_hold_reason,omitempty"`
	// DefaultResolutionCode is used when a resolution has no code; empty
	// means "imported".
	DefaultResolutionCode ResolutionCode `json:"default_resolution_code,omitempty"`
	// CancelReason is used for cancellations; empty means raised_in_error.
	CancelReason CancelReason `json:"cancel_reason,omitempty"`
}

// Refusal reports one recorded change that could not be replayed.
type Refusal struct {
	// Index is the position of the observation in the recorded history,
	// and At its instant.
	Index int       `json:"index"`
	At    time.Time `json:"at"`
	// From is the status the incident was in; To the status the tool moved
	// it to (empty when the tool's state was not mapped).
	From Status `json:"from"`
	To   Status `json:"to,omitempty"`
	// Reason says why, in words fit for an import report.
	Reason string `json:"reason"`
	// Err is the error behind the refusal, when there was one, for
	// errors.Is and errors.As.
	Err error `json:"-"`
}

// ReplayResult is a replayed incident with what could not be replayed.
type ReplayResult struct {
	Incident *Incident
	// Refused lists the recorded changes the lifecycle or guards refused;
	// the incident stayed where it was for each of them.
	Refused []Refusal
	// SLAEvents lists the SLA events in the order they occurred.
	SLAEvents []sla.Event
}

// Replay rebuilds an incident from another tool's recorded history: the
// first observation opens it (with in, whose impact and urgency the
// observation may override), and each later one moves it, through the
// lifecycle, to the mapped state and applies changed fields. A move that the
// lifecycle or a guard refuses is reported in Refused and skipped: the
// incident stays in its state, and the next observation is taken from
// there. An observation without a state, or with one that is refused,
// leaves the state as it was, whatever fields it changes. SLA timers, when
// engine is not nil, are observed after every step, at the recorded
// instants.
//
// Replay changes nothing in storage; save the result through a Repository.
//
// Errors: *itsm.ValidationError for an empty history, an observation
// without an instant, outside the years itsm.InstantInRange accepts or
// out of order (naming history[k].at), a first
// observation the open guards refuse, or an invalid policy.
func Replay(pol Policy, engine *sla.Engine, id ID, tenant itsm.TenantID, number Number, in OpenInput, history []Recorded, m Mapping) (ReplayResult, error) {
	if err := pol.Validate(); err != nil {
		return ReplayResult{}, err
	}
	if len(history) == 0 {
		return ReplayResult{}, itsm.NewValidationError("history", "must hold at least the opening observation")
	}
	var errs itsm.FieldErrors
	for k := range history {
		switch {
		case history[k].At.IsZero():
			// Every entry and timer would start from year one, which
			// Restore refuses.
			errs.Add(fmt.Sprintf("history[%d].at", k), "must be set")
		case !itsm.InstantInRange(history[k].At):
			// Every store refuses an incident holding it.
			errs.Add(fmt.Sprintf("history[%d].at", k), itsm.InstantRangeReason)
		case k > 0 && history[k].At.Before(history[k-1].At):
			errs.Add(fmt.Sprintf("history[%d].at", k), "precedes the observation before it")
		}
	}
	if err := errs.Err(); err != nil {
		return ReplayResult{}, err
	}
	importer := itsm.Actor{ID: "import", Name: "Import", Kind: itsm.ActorIntegration}
	actor := func(r Recorded) itsm.Actor {
		if r.By.ID == "" {
			return importer
		}
		return r.By
	}
	first := history[0]
	if first.Impact != 0 {
		in.Impact = first.Impact
	}
	if first.Urgency != 0 {
		in.Urgency = first.Urgency
	}
	if first.Group != "" {
		in.Group = first.Group
	}
	if first.Assignee != "" {
		in.Assignee = first.Assignee
	}
	inc, err := open(env{pol: &pol, at: first.At, by: actor(first)}, id, tenant, number, in)
	if err != nil {
		return ReplayResult{}, err
	}
	res := ReplayResult{Incident: inc}
	// The timers see the incident as the live service shows it to them,
	// with the fields some condition reads (as NewService sets up).
	var svc *Service
	if engine != nil {
		svc = &Service{pol: pol, sla: engine, slaReads: builtinReads(engine)}
	}
	observe := func(at time.Time) error {
		if svc == nil {
			return nil
		}
		if inc.d.SLA.Record.IsZero() {
			inc.d.SLA.Record = inc.d.ID.Ref()
		}
		// The incident is the replay's own: its timers advance in place.
		evs, err := engine.ObserveInPlace(&inc.d.SLA, svc.observation(inc, itsm.Normalize(at)))
		if err != nil {
			return err
		}
		res.SLAEvents = append(res.SLAEvents, evs...)
		return nil
	}
	for k, r := range history {
		e := env{pol: &pol, at: r.At, by: actor(r)}
		if k > 0 || r.State != "" {
			replayStep(&res, inc, e, k, r, m)
		}
		if err := observe(r.At); err != nil {
			return ReplayResult{}, fmt.Errorf("incident: replay %s: SLA timers at history[%d]: %w", number, k, err)
		}
	}
	return res, nil
}

// replayStep applies one recorded observation.
func replayStep(res *ReplayResult, inc *Incident, e env, k int, r Recorded, m Mapping) {
	refuse := func(to Status, reason string, err error) {
		if err != nil {
			reason += ": " + err.Error()
		}
		res.Refused = append(res.Refused, Refusal{Index: k, At: itsm.Normalize(r.At), From: inc.d.Status, To: to, Reason: reason, Err: err})
	}
	// Fields first: a priority change recorded with a move applies either way.
	u := Update{}
	if r.Impact != 0 && r.Impact != inc.d.Impact {
		u.Impact = &r.Impact
	}
	if r.Urgency != 0 && r.Urgency != inc.d.Urgency {
		u.Urgency = &r.Urgency
	}
	if u.Impact != nil || u.Urgency != nil {
		if _, err := inc.update(e, u); err != nil {
			refuse(inc.d.Status, "field change refused", err)
		}
	}
	if r.Priority != 0 && r.Priority != inc.d.Priority {
		imp := e
		imp.by = itsm.Actor{ID: e.by.ID, Name: e.by.Name, Kind: e.by.Kind, Roles: []string{e.pol.OverrideRole}}
		if err := inc.overridePriority(imp, r.Priority, "imported from the source tool"); err != nil {
			refuse(inc.d.Status, fmt.Sprintf("priority change to %d refused", int(r.Priority)), err)
		}
	}
	// Where the observation takes the incident is decided before anything
	// moves it: no state means the state is unchanged, and a state that
	// cannot be placed (refused below) leaves the incident where it is.
	to, mapped := inc.d.Status, true
	if r.State != "" {
		to, mapped = m.States[r.State]
	}
	stays := to == inc.d.Status || !mapped || !e.pol.Lifecycle.Has(to)
	assignment := r.Group != "" && r.Group != inc.d.Group || r.Assignee != "" && r.Assignee != inc.d.Assignee
	if assignment && !e.pol.category(inc.d.Status).IsOpen() {
		refuse(inc.d.Status, fmt.Sprintf("assignment change on a %s incident refused", e.pol.category(inc.d.Status)), nil)
	}
	if assignment && e.pol.category(inc.d.Status).IsOpen() {
		var err error
		if stays && inc.d.Status == e.pol.Lifecycle.Initial() {
			// Assignment recorded while the tool still showed the incident
			// as new: keep the state, record the assignment only.
			err = inc.setAssignment(e, orKeep(r.Group, inc.d.Group), orKeep(r.Assignee, inc.d.Assignee), "imported", false)
		} else {
			err = inc.assign(e, r.Group, r.Assignee, "")
		}
		if err != nil {
			refuse(inc.d.Status, "assignment refused", err)
		}
	}
	if r.State == "" {
		return
	}
	if !mapped {
		refuse("", fmt.Sprintf("the source state %q is not mapped", r.State), nil)
		return
	}
	if !e.pol.Lifecycle.Has(to) {
		refuse(to, fmt.Sprintf("%q is not a state of lifecycle %q", to, e.pol.Lifecycle.Name()), nil)
		return
	}
	if to == inc.d.Status {
		if e.pol.category(to) == itsm.CategoryWaiting && r.HoldReason != "" {
			reason := m.holdReason(r.HoldReason)
			if reason != inc.d.HoldReason {
				if err := inc.hold(e, reason, importedHoldComment(reason)); err != nil {
					refuse(to, "hold reason change refused", err)
				}
			}
		}
		return
	}
	var action Action
	for _, a := range e.pol.Lifecycle.Actions(inc.d.Status) {
		if next, err := e.pol.Lifecycle.Next(inc.d.Status, a); err == nil && next == to {
			action = a
			break
		}
	}
	if action == "" {
		refuse(to, fmt.Sprintf("lifecycle %q has no transition from %s to %s", e.pol.Lifecycle.Name(), inc.d.Status, to), nil)
		return
	}
	var err error
	switch action {
	case ActionHold:
		reason := m.holdReason(r.HoldReason)
		err = inc.hold(e, reason, importedHoldComment(reason))
	case ActionResolve:
		code := ResolutionCode(r.ResolutionCode)
		if code == "" || code.Validate() != nil {
			code = m.DefaultResolutionCode
		}
		if code == "" {
			code = "imported"
		}
		notes := r.ResolutionNotes
		if notes == "" {
			notes = "Resolved in the source tool (imported)"
		}
		err = inc.resolve(e, code, notes)
	case ActionReopen:
		err = inc.reopen(e, "Reopened in the source tool (imported)")
	case ActionCancel:
		reason := m.CancelReason
		if reason == "" || reason == CancelDuplicate {
			reason = CancelRaisedInError
		}
		err = inc.cancel(e, Cancellation{Reason: reason, Notes: "imported"})
	case ActionClose:
		err = inc.close(e, "imported")
	case ActionAssign:
		group, assignee := orKeep(r.Group, inc.d.Group), orKeep(r.Assignee, inc.d.Assignee)
		if group != "" || assignee != "" {
			err = inc.assign(e, group, assignee, "")
		}
		if err == nil && inc.d.Status != to {
			err = inc.move(e, action, "", nil)
		}
	default:
		err = inc.move(e, action, "imported", nil)
	}
	if err != nil {
		refuse(to, "refused", err)
	}
}

func orKeep(v, old string) string {
	if v == "" {
		return old
	}
	return v
}

// holdReason maps the source tool's hold reason: a mapped one, else
// DefaultHoldReason, else awaiting a vendor.
func (m Mapping) holdReason(source string) HoldReason {
	if reason, ok := m.HoldReasons[source]; ok {
		return reason
	}
	if m.DefaultHoldReason != "" {
		return m.DefaultHoldReason
	}
	return HoldAwaitingVendor
}

// importedHoldComment is the comment an imported hold awaiting the caller
// carries, since such a hold needs one.
func importedHoldComment(reason HoldReason) string {
	if reason == HoldAwaitingCaller {
		return "Awaiting the caller (imported)"
	}
	return ""
}
