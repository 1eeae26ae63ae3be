package incident

import (
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Restore turns stored data back into an incident, checking it against the
// policy first: storage is not trusted to hand back something the commands
// could never have produced. It returns a *itsm.ValidationError listing every
// problem: a zero ID, an invalid tenant, a missing number, a negative
// version, a status or major status the lifecycles do not declare, impact,
// urgency or priority outside the matrix, an override that disagrees with the
// priority, malformed text, an incident that is its own parent, fields that
// contradict the state's category (a hold reason outside a waiting state, a
// resolved state without a resolution, a canceled one without a
// cancellation), or a history that is empty, out of sequence, not
// normalised, not monotonic, or that does not end in the current status.
func Restore(pol Policy, d Data) (*Incident, error) {
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	c := d.Clone()
	return restore(&pol, &c)
}

// restore is Restore for a policy already validated, as the service holds.
// The Incident it returns holds a shallow copy of *d, sharing d's slices
// and maps: the caller passes a record nobody else changes (what the
// repository just handed out, already a copy, or a record lent by the
// store, which commands detach before changing).
//
// Most stored records are valid, and restore runs on every command, so a
// single pass that allocates nothing (wellFormed) answers first; only a
// record it does not accept goes through the pass that names every problem
// (dataErrors). The two must agree: wellFormed accepts exactly what
// dataErrors finds nothing wrong with (FuzzRestoreFastPath checks it).
func restore(pol *Policy, d *Data) (*Incident, error) {
	if wellFormed(pol, d) {
		return newIncident(d), nil
	}
	if err := dataErrors(pol, d); err != nil {
		return nil, err
	}
	// Unreachable while the two agree; a record they disagree on is taken
	// as dataErrors judges it.
	return newIncident(d), nil
}

// wellFormed reports whether dataErrors would find nothing wrong with d,
// without building any error: the common case, checked cheaply.
func wellFormed(pol *Policy, d *Data) bool {
	if d.ID.IsZero() || d.Tenant.Validate() != nil || d.Number == "" || d.Version < 0 {
		return false
	}
	cat, ok := pol.Lifecycle.Category(d.Status)
	if !ok || !d.Major.Status.valid() {
		return false
	}
	if !d.SLA.Record.IsZero() && d.SLA.Record != d.ID.Ref() {
		return false
	}
	if !requiredOK(d.Title, MaxTitleLen, false) || !textOK(d.Description, MaxDescriptionLen, true) {
		return false
	}
	if d.HoldReason != "" && !d.HoldReason.Valid() {
		return false
	}
	if !refsOK(d.Service, d.CIs) {
		return false
	}
	for k := range d.ImpactedServices {
		if d.ImpactedServices[k].Validate() != nil {
			return false
		}
	}
	if !customOK(d.Custom, false) || len(d.Comments) > MaxComments {
		return false
	}
	if _, ok := pol.Matrix.PriorityLevel(d.Priority); !ok {
		return false
	}
	if _, err := pol.Matrix.Lookup(d.Impact, d.Urgency); err != nil {
		return false
	}
	if d.Override != nil && d.Override.Priority != d.Priority {
		return false
	}
	if !requiredOK(d.Caller, MaxShortTextLen, false) || !shortOK(d.Category) || !shortOK(d.Subcategory) ||
		!shortOK(d.Group) || !shortOK(d.Assignee) {
		return false
	}
	if d.Parent == d.ID {
		return false
	}
	for k := range d.Comments {
		c := &d.Comments[k]
		if !textOK(c.Text, MaxCommentLen, true) || !normalInstant(c.At) {
			return false
		}
	}
	if (cat == itsm.CategoryWaiting) != (d.HoldReason != "") {
		return false
	}
	switch cat {
	case itsm.CategoryResolved, itsm.CategoryClosed:
		if d.ResolvedAt.IsZero() || d.Resolution.Code == "" || cat == itsm.CategoryClosed && d.ClosedAt.IsZero() {
			return false
		}
	case itsm.CategoryCanceled:
		if d.Cancellation == nil {
			return false
		}
	default:
		if !d.ResolvedAt.IsZero() || !d.ClosedAt.IsZero() {
			return false
		}
	}
	history := d.History
	n := len(history)
	if n == 0 || n > maxHistoryEntries || history[n-1].To != d.Status {
		return false
	}
	// normalInstant and the order, spelt out: this loop is the part of the
	// check that grows with the incident's age.
	var prev time.Time
	for k := range history {
		h := &history[k]
		at := h.At
		if h.Seq != k+1 || at != at.UTC() || at.Nanosecond()%1000 != 0 || at.IsZero() || k > 0 && at.Before(prev) {
			return false
		}
		prev = at
	}
	return true
}

// normalInstant reports whether t is a non-zero UTC instant truncated to
// the microsecond, as every stored instant must be:
// !t.IsZero() && itsm.IsNormalized(t), spelt out so that it inlines into
// the loop over the history (Normalize of a UTC instant without a
// monotonic reading and whole microseconds is the instant itself).
func normalInstant(t time.Time) bool {
	return t == t.UTC() && t.Nanosecond()%1000 == 0 && !t.IsZero()
}

// dataErrors is restore's full pass: it names every problem of d, or
// returns nil.
func dataErrors(pol *Policy, d *Data) error {
	var errs itsm.FieldErrors
	if d.ID.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	errs.Merge("", d.Tenant.Validate())
	if d.Number == "" {
		errs.Add("number", "must not be empty")
	}
	if d.Version < 0 {
		errs.Add("version", "must not be negative")
	}
	errs.Merge("", pol.Lifecycle.Validate("status", d.Status))
	if !d.Major.Status.valid() {
		errs.Addf("major.status", "%q is not a major-incident status", clip(string(d.Major.Status)))
	}
	if !d.SLA.Record.IsZero() && d.SLA.Record != d.ID.Ref() {
		errs.Addf("sla.record", "timers belong to %s, not to this incident", d.SLA.Record)
	}
	checkRequired(&errs, "title", d.Title, MaxTitleLen, false)
	checkText(&errs, "description", d.Description, MaxDescriptionLen, true)
	if d.HoldReason != "" && !d.HoldReason.Valid() {
		errs.Addf("hold_reason", "%q is not a hold reason", clip(string(d.HoldReason)))
	}
	validateRefs(&errs, d.Service, d.CIs)
	for k, r := range d.ImpactedServices {
		errs.Merge(fmt.Sprintf("impacted_services[%d]", k), r.Validate())
	}
	validateCustom(&errs, d.Custom, false)
	if len(d.Comments) > MaxComments {
		errs.Addf("comments", "holds %d comments, more than %d", len(d.Comments), MaxComments)
	}
	if _, ok := pol.Matrix.PriorityLevel(d.Priority); !ok {
		errs.Addf("priority", "%d is not a priority of the matrix", int(d.Priority))
	}
	if _, err := pol.Matrix.Lookup(d.Impact, d.Urgency); err != nil {
		errs.Merge("", err)
	}
	if d.Override != nil && d.Override.Priority != d.Priority {
		errs.Addf("override", "overrides to %d but the priority is %d", int(d.Override.Priority), int(d.Priority))
	}
	checkRequired(&errs, "caller", d.Caller, MaxShortTextLen, false)
	for _, f := range []struct{ name, v string }{{"category", d.Category}, {"subcategory", d.Subcategory}, {"group", d.Group}, {"assignee", d.Assignee}} {
		validateShort(&errs, f.name, f.v)
	}
	if !d.ID.IsZero() && d.Parent == d.ID {
		errs.Add("parent", "an incident cannot be its own parent")
	}
	for k, c := range d.Comments {
		f := "comments"
		if !checkText(&errs, f, c.Text, MaxCommentLen, true) {
			continue
		}
		if !itsm.IsNormalized(c.At) || c.At.IsZero() {
			errs.Addf(f, "comment %d: must be a UTC instant truncated to the microsecond", k)
		}
	}
	// Fields that the state's category implies.
	if cat, ok := pol.Lifecycle.Category(d.Status); ok {
		switch {
		case cat == itsm.CategoryWaiting && d.HoldReason == "":
			errs.Add("hold_reason", "must be set while the incident waits")
		case cat != itsm.CategoryWaiting && d.HoldReason != "":
			errs.Addf("hold_reason", "must be empty in a %s state", cat)
		}
		switch cat {
		case itsm.CategoryResolved, itsm.CategoryClosed:
			if d.ResolvedAt.IsZero() {
				errs.Addf("resolved_at", "must be set in a %s state", cat)
			}
			if d.Resolution.Code == "" {
				errs.Addf("resolution.code", "must be set in a %s state", cat)
			}
			if cat == itsm.CategoryClosed && d.ClosedAt.IsZero() {
				errs.Add("closed_at", "must be set in a closed state")
			}
		case itsm.CategoryCanceled:
			if d.Cancellation == nil {
				errs.Add("cancellation", "must be set in a canceled state")
			}
		default:
			if !d.ResolvedAt.IsZero() || !d.ClosedAt.IsZero() {
				errs.Addf("resolved_at", "must be empty in a %s state", cat)
			}
		}
	}
	switch {
	case len(d.History) == 0:
		errs.Add("history", "must not be empty: every incident starts with its opening")
	case len(d.History) > maxHistoryEntries:
		errs.Addf("history", "holds %d entries, more than %d", len(d.History), maxHistoryEntries)
	default:
		for k, h := range d.History {
			if h.Seq != k+1 {
				errs.Addf(fmt.Sprintf("history[%d].seq", k), "is %d, want %d", h.Seq, k+1)
			}
			if !itsm.IsNormalized(h.At) || h.At.IsZero() {
				errs.Add(fmt.Sprintf("history[%d].at", k), "must be a UTC instant truncated to the microsecond")
			}
			if k > 0 && h.At.Before(d.History[k-1].At) {
				errs.Add(fmt.Sprintf("history[%d].at", k), "precedes the entry before it")
			}
		}
		if last := d.History[len(d.History)-1]; last.To != d.Status {
			errs.Addf("history", "ends in %q but the status is %q", last.To, d.Status)
		}
	}
	return errs.Err()
}
