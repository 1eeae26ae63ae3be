package incident

import (
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Policy holds the rules a desk chooses. Start from DefaultPolicy and
// change what differs. The zero Policy fails Validate (and so Restore and
// Replay refuse it); in a Config, it stands for DefaultPolicy().
type Policy struct {
	// Lifecycle is the incident lifecycle; it must pass CheckLifecycle.
	Lifecycle *Lifecycle
	// Matrix derives priority from impact and urgency.
	Matrix *itsm.PriorityMatrix
	// NumberPrefix starts incident numbers ("INC").
	NumberPrefix string
	// ReopenClosedWithin allows reopening a closed incident for this long
	// after it closed. Zero (the default) allows reopening from Resolved
	// only. A positive window needs a lifecycle with a reopen edge out of
	// its closed state, such as ReopenFromClosedLifecycle.
	ReopenClosedWithin time.Duration
	// OverrideRole is the role an actor needs to override the derived
	// priority.
	OverrideRole string
	// MajorRole is the role an actor needs to accept, reject or demote a
	// major incident.
	MajorRole string

	// major caches MajorLifecycle(); nil means build it when needed.
	major *itsm.Lifecycle[MajorStatus, MajorAction]
}

// Default roles.
const (
	DefaultOverrideRole = "priority_override"
	DefaultMajorRole    = "major_incident_manager"
)

// DefaultPolicy returns the default lifecycle, the default 3×3 priority
// matrix, numbers like INC0001234, reopen from Resolved only, and the
// default roles.
func DefaultPolicy() Policy {
	return Policy{
		Lifecycle:    DefaultLifecycle(),
		Matrix:       itsm.DefaultPriorityMatrix(),
		NumberPrefix: defaultNumberPrefix,
		OverrideRole: DefaultOverrideRole,
		MajorRole:    DefaultMajorRole,
		major:        MajorLifecycle(),
	}
}

// majorLifecycle returns the major-incident track, built once per policy.
func (p *Policy) majorLifecycle() *itsm.Lifecycle[MajorStatus, MajorAction] {
	if p.major == nil {
		p.major = MajorLifecycle()
	}
	return p.major
}

// Validate returns a *itsm.ValidationError listing every problem: a missing
// or unsuitable lifecycle, a missing matrix, a malformed number prefix, a
// negative reopen window or one the lifecycle cannot honour, empty roles.
func (p Policy) Validate() error {
	var errs itsm.FieldErrors
	if p.Lifecycle == nil {
		errs.Add("policy.lifecycle", "must be set")
	} else {
		errs.Merge("policy", CheckLifecycle(p.Lifecycle))
	}
	if p.Matrix == nil {
		errs.Add("policy.matrix", "must be set")
	}
	if !isPrefix(p.NumberPrefix) {
		errs.Addf("policy.number_prefix", "%q must be 1 to 8 upper-case letters", p.NumberPrefix)
	}
	switch {
	case p.ReopenClosedWithin < 0:
		errs.Add("policy.reopen_closed_within", "must not be negative")
	case p.ReopenClosedWithin > 0 && p.Lifecycle != nil && !reopensClosed(p.Lifecycle):
		errs.Add("policy.reopen_closed_within", fmt.Sprintf("lifecycle %q has no reopen transition out of a closed state; use ReopenFromClosedLifecycle", p.Lifecycle.Name()))
	}
	if p.OverrideRole == "" {
		errs.Add("policy.override_role", "must not be empty")
	}
	if p.MajorRole == "" {
		errs.Add("policy.major_role", "must not be empty")
	}
	return errs.Err()
}

func isPrefix(s string) bool {
	if s == "" || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func reopensClosed(lc *Lifecycle) bool {
	for _, s := range lc.InCategory(itsm.CategoryClosed) {
		if lc.Can(s, ActionReopen) {
			return true
		}
	}
	return false
}

// category returns the category of s under the policy's lifecycle.
func (p *Policy) category(s Status) itsm.Category {
	c, _ := p.Lifecycle.Category(s)
	return c
}
