package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// The commands below share their errors, as the Service type's doc says.

// Update changes descriptive fields; changing impact or urgency recomputes
// the priority.
func (s *Service) Update(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, u Update) (Result, error) {
	return s.run(ctx, tenant, id, by, "update", func(inc *Incident, e env) error {
		before := slices.Clone(inc.d.CIs)
		changed, err := inc.update(e, u)
		if err != nil || !changed {
			return err
		}
		return s.refreshImpact(ctx, inc, before)
	})
}

// OverridePriority sets the priority by hand; it needs the policy's
// override role and a reason.
func (s *Service) OverridePriority(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, p itsm.Priority, reason string) (Result, error) {
	return s.run(ctx, tenant, id, by, "override_priority", func(inc *Incident, e env) error {
		return inc.overridePriority(e, p, reason)
	})
}

// Assign sets the assignment group and assignee (either may be empty to
// keep the group, or to leave the assignee unset). A new incident starts
// work; a change of group counts a reassignment.
func (s *Service) Assign(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, group, assignee, reason string) (Result, error) {
	return s.run(ctx, tenant, id, by, "assign", func(inc *Incident, e env) error {
		return inc.assign(e, group, assignee, reason)
	})
}

// Hold suspends work for a reason; awaiting the caller needs a comment
// saying what was asked of the caller. A hold awaiting a change, problem or
// vendor cascades to the incident's new and active children (and theirs),
// and its hold entry on each child names the parent that held it, so that
// the parent's Resume ends the holds it made and no other (see Resume).
func (s *Service) Hold(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason HoldReason, comment string) (Result, error) {
	res, err := s.run(ctx, tenant, id, by, "hold", func(inc *Incident, e env) error {
		return inc.hold(e, reason, comment)
	})
	if err != nil || !reason.cascades() {
		return res, err
	}
	res.Cascade = s.cascade(ctx, res.Incident, by, "hold")
	return res, nil
}

// Resume continues work on an incident on hold, and cascades: each child
// still waiting on the hold its parent's hold cascade put it on (see Hold)
// is resumed with it, and so on down the tree through children that end up
// in work. A child put on hold by a command of its own, or held again by
// one since its parent's cascade held it, keeps waiting (CascadeSkipped);
// one resumed already, or resolved, closed or canceled, is left as it is
// (CascadeAlready). Whatever the incident itself waited for, its children
// are listed: a hold cascade passes through a child waiting for its own
// caller to the grandchildren below, which that child's resume then ends.
// A child resumed by the cascade goes into work without a first response
// being recorded (nobody answered its caller). Each child is saved only
// while the incident, and the parent it is reached through, are still in
// new or active work: one they left meanwhile (held again) keeps waiting
// (CascadeSkipped). Result.Cascade reports each child reached; a child
// that could not be saved does not fail the resume, and Service.Cascade
// completes the cascade later. A caller's reply that resumes an incident
// (Comment) cascades the same way. A hold cascaded by a version of this
// package from before holds were marked carries no mark, so its child is
// left for a Resume of its own.
func (s *Service) Resume(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason string) (Result, error) {
	res, err := s.run(ctx, tenant, id, by, "resume", func(inc *Incident, e env) error {
		return inc.resume(e, reason)
	})
	if err != nil {
		return res, err
	}
	res.Cascade = s.cascade(ctx, res.Incident, by, "resume")
	return res, nil
}

// CommentKind says who a comment is for and from.
type CommentKind int

// The comment kinds.
const (
	// AgentComment is written by the desk and seen by the caller.
	AgentComment CommentKind = iota
	// WorkNote is written by the desk for the desk only.
	WorkNote
	// CallerComment is written by the caller; it resumes an incident on
	// hold awaiting the caller.
	CallerComment
)

// Comment adds a comment or work note. A caller's comment on an incident
// on hold awaiting the caller resumes it, and the resume cascades to its
// children as Resume's does (Result.Cascade).
func (s *Service) Comment(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, text string, kind CommentKind) (Result, error) {
	if kind < AgentComment || kind > CallerComment {
		return Result{}, itsm.NewValidationError("kind", fmt.Sprintf("%d is not a comment kind", kind))
	}
	resumed := false
	res, err := s.run(ctx, tenant, id, by, "comment", func(inc *Incident, e env) error {
		waiting := kind == CallerComment && e.pol.category(inc.d.Status) == itsm.CategoryWaiting
		if err := inc.comment(e, text, kind == WorkNote, kind == CallerComment); err != nil {
			return err
		}
		resumed = waiting && e.pol.category(inc.d.Status) != itsm.CategoryWaiting
		return nil
	})
	if err != nil || !resumed {
		return res, err
	}
	res.Cascade = s.cascade(ctx, res.Incident, by, "resume")
	return res, nil
}

// Resolve records a solution; the incident's open children are resolved
// with it.
func (s *Service) Resolve(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, code ResolutionCode, notes string) (Result, error) {
	res, err := s.run(ctx, tenant, id, by, "resolve", func(inc *Incident, e env) error {
		return inc.resolve(e, code, notes)
	})
	if err != nil {
		return res, err
	}
	res.Cascade = s.cascade(ctx, res.Incident, by, "resolve")
	return res, nil
}

// Reopen sends a resolved incident back to work (a closed one too, within
// the policy's window).
func (s *Service) Reopen(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason string) (Result, error) {
	return s.run(ctx, tenant, id, by, "reopen", func(inc *Incident, e env) error {
		return inc.reopen(e, reason)
	})
}

// Close finishes a resolved incident. Closing a parent does not close its
// children.
func (s *Service) Close(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason string) (Result, error) {
	return s.run(ctx, tenant, id, by, "close", func(inc *Incident, e env) error {
		return inc.close(e, reason)
	})
}

// Cancel abandons an open incident.
func (s *Service) Cancel(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, c Cancellation) (Result, error) {
	return s.run(ctx, tenant, id, by, "cancel", func(inc *Incident, e env) error {
		return inc.cancel(e, c)
	})
}

// Escalate escalates an open incident: functionally to another group, or
// hierarchically to management.
func (s *Service) Escalate(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, kind EscalationKind, group, reason string) (Result, error) {
	return s.run(ctx, tenant, id, by, "escalate", func(inc *Incident, e env) error {
		return inc.escalate(e, kind, group, reason)
	})
}

// ProposeMajor proposes the incident as a major incident.
func (s *Service) ProposeMajor(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason string) (Result, error) {
	return s.major(ctx, tenant, id, by, MajorPropose, reason, "")
}

// AcceptMajor accepts a proposed major incident and names its owner; it
// needs the policy's major-incident role.
func (s *Service) AcceptMajor(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, owner string) (Result, error) {
	return s.major(ctx, tenant, id, by, MajorAccept, "", owner)
}

// RejectMajor rejects a proposal, with a reason; it needs the major-incident
// role.
func (s *Service) RejectMajor(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason string) (Result, error) {
	return s.major(ctx, tenant, id, by, MajorReject, reason, "")
}

// DemoteMajor demotes an accepted major incident, with a reason; it needs
// the major-incident role.
func (s *Service) DemoteMajor(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, reason string) (Result, error) {
	return s.major(ctx, tenant, id, by, MajorDemote, reason, "")
}

func (s *Service) major(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, action MajorAction, reason, owner string) (Result, error) {
	return s.run(ctx, tenant, id, by, "major."+string(action), func(inc *Incident, e env) error {
		return inc.majorMove(e, action, reason, owner)
	})
}

// ReviewMajor records the post-incident review of a resolved major incident.
func (s *Service) ReviewMajor(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, notes string) (Result, error) {
	return s.run(ctx, tenant, id, by, "major.review", func(inc *Incident, e env) error {
		return inc.review(e, notes)
	})
}

// maxAncestry bounds the parent chain walked to refuse cycles.
const maxAncestry = 64

// ancestors walks parent's chain upwards through repo and returns it,
// nearest first, stopping at id (which then ends the list: a cycle). When
// touch is set, each ancestor is written back unchanged at the version read,
// so that a concurrent change to the chain makes the caller's transaction
// fail with itsm.ErrConflict rather than commit a cycle.
func ancestors(ctx context.Context, repo Repository, tenant itsm.TenantID, id, parent ID, touch bool) ([]ID, error) {
	var out []ID
	cur := parent
	for depth := 0; !cur.IsZero(); depth++ {
		if depth >= maxAncestry {
			return nil, itsm.NewValidationError("parent", fmt.Sprintf("the parent chain is deeper than %d", maxAncestry))
		}
		if cur == id {
			return append(out, cur), nil
		}
		d, err := repo.Get(ctx, tenant, cur)
		if err != nil {
			if errors.Is(err, itsm.ErrNotFound) && cur == parent {
				return nil, fmt.Errorf("incident: parent %s: %w", parent, err)
			}
			return nil, err
		}
		if touch {
			if err := repo.Update(ctx, d); err != nil {
				return nil, err
			}
		}
		if cur != parent {
			out = append(out, cur)
		}
		cur = d.Parent
	}
	return out, nil
}

// LinkParent makes parent the incident's parent. It refuses a link that
// would make an incident its own ancestor (a *itsm.ValidationError naming
// "parent"), a parent in another tenant or missing (itsm.ErrNotFound), and
// a new parent whose own chain is deeper than 64. Under an Atomic store the
// chain is read again inside the transaction that saves the link, and each
// ancestor is written back unchanged, so two concurrent links can never
// commit a cycle between them (one of them retries and is refused); the
// ancestors' versions move on as a result. Without Atomic the check can
// race with a concurrent link.
func (s *Service) LinkParent(ctx context.Context, tenant itsm.TenantID, id, parent ID, by itsm.Actor) (Result, error) {
	decide := func(inc *Incident, e env) error {
		if parent.IsZero() || parent == id {
			return inc.linkParent(e, parent, nil)
		}
		chain, err := ancestors(ctx, s.repo, tenant, id, parent, false)
		if err != nil {
			return err
		}
		return inc.linkParent(e, parent, chain)
	}
	var verify check
	if s.atomic != nil {
		verify = func(ctx context.Context, repo Repository, inc *Incident) error {
			chain, err := ancestors(ctx, repo, tenant, id, parent, true)
			if err != nil {
				return err
			}
			if slices.Contains(chain, id) {
				return itsm.NewValidationError("parent", fmt.Sprintf("%s now descends from this incident; linking would make a cycle", parent))
			}
			return nil
		}
	}
	return s.runChecked(ctx, tenant, id, by, "link_parent", decide, verify)
}

// UnlinkParent removes the incident's parent link.
func (s *Service) UnlinkParent(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor) (Result, error) {
	return s.run(ctx, tenant, id, by, "unlink_parent", func(inc *Incident, e env) error {
		return inc.unlinkParent(e)
	})
}

// LinkProblem links the incident to the problem (or known error) it is an
// instance of; the zero Ref unlinks. A Ref of another kind is a
// *itsm.ValidationError naming "problem.kind".
func (s *Service) LinkProblem(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, problem itsm.Ref) (Result, error) {
	return s.run(ctx, tenant, id, by, "link_problem", func(inc *Incident, e env) error {
		return inc.linkRecord(e, "problem", &inc.d.Problem, problem, itsm.KindProblem, itsm.KindKnownError)
	})
}

// LinkChange links the incident to the change that caused or fixes it; the
// zero Ref unlinks. A Ref of another kind is a *itsm.ValidationError naming
// "change.kind".
func (s *Service) LinkChange(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, change itsm.Ref) (Result, error) {
	return s.run(ctx, tenant, id, by, "link_change", func(inc *Incident, e env) error {
		return inc.linkRecord(e, "change", &inc.d.Change, change, itsm.KindChange)
	})
}

// Cascade carries an incident's state to its descendants again: a resolved
// or closed incident resolves its open descendants; one on hold awaiting a
// change, problem or vendor puts its new and active descendants on hold;
// one in new or active work resumes the descendants still waiting on a hold
// their parent's hold cascade made. Resolve, Hold and Resume cascade by
// themselves; Cascade completes a cascade that failed half way (a child
// that could not be saved), and is harmless to run twice: a child reopened
// after the incident was resolved, resumed after it went on hold, or held
// by a command of its own, is left as someone made it (CascadeSkipped). For
// any other state (waiting for its caller, canceled) it does nothing.
func (s *Service) Cascade(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor) (Result, error) {
	if err := by.Validate(); err != nil {
		return Result{}, err
	}
	d, err := s.repo.Get(ctx, tenant, id)
	if err != nil {
		return Result{}, err
	}
	if err := s.authorize(ctx, tenant, by, "cascade", &d); err != nil {
		return Result{}, err
	}
	inc, err := restore(&s.pol, &d)
	if err != nil {
		return Result{}, err
	}
	res := Result{Incident: inc}
	switch cat := s.pol.category(inc.d.Status); {
	case cat == itsm.CategoryResolved || cat == itsm.CategoryClosed:
		res.Cascade = s.cascade(ctx, inc, by, "resolve")
	case cat == itsm.CategoryWaiting && inc.d.HoldReason.cascades():
		res.Cascade = s.cascade(ctx, inc, by, "hold")
	case cat == itsm.CategoryNew || cat == itsm.CategoryActive:
		res.Cascade = s.cascade(ctx, inc, by, "resume")
	}
	return res, nil
}

// cascade carries root's resolution ("resolve"), hold ("hold") or resume
// ("resume") down its tree, breadth first, each descendant in its own
// command (re-read and retried on conflict) in ID order. A descendant
// reached is passed on through when it ends in the cascaded state (whether
// the cascade moved it or it was there already; for a resume, new or
// active work), so grandchildren are reached too, and a re-run finishes
// what a failed one left. A child that was unlinked meanwhile is left alone
// (CascadeDetached). A failed child does not stop the others.
func (s *Service) cascade(ctx context.Context, root *Incident, by itsm.Actor, command string) []CascadeResult {
	// step moves one child reached through its parent, numbered via.
	var step func(inc *Incident, e env, via Number) CascadeOutcome
	var reached func(c itsm.Category) bool
	switch command {
	case "hold":
		step = func(inc *Incident, e env, _ Number) CascadeOutcome { return inc.cascadeHold(e, root) }
		reached = func(c itsm.Category) bool { return c == itsm.CategoryWaiting }
	case "resume":
		step = (*Incident).cascadeResume
		reached = func(c itsm.Category) bool { return c == itsm.CategoryNew || c == itsm.CategoryActive }
	default:
		step = func(inc *Incident, e env, _ Number) CascadeOutcome { return inc.cascadeResolve(e, root) }
		reached = func(c itsm.Category) bool { return c == itsm.CategoryResolved || c == itsm.CategoryClosed }
	}
	var out []CascadeResult
	// seen holds the incidents reached, root included; it is made when the
	// first child turns up, since most incidents have none and the listing
	// of root's children is then all a cascade does.
	var seen map[ID]bool
	type node struct {
		id     ID
		number Number
	}
	queue := []node{{root.d.ID, root.d.Number}}
	for len(queue) > 0 && len(seen) <= maxCascade {
		parent, via := queue[0].id, queue[0].number
		queue = queue[1:]
		page := Page{Limit: MaxPageLimit}
		for {
			lp, err := s.repo.List(ctx, root.d.Tenant, Filter{Parent: parent}, page)
			if err != nil {
				return append(out, CascadeResult{Parent: parent, Err: fmt.Errorf("incident: cascade %s from %s: listing children: %w", command, root.d.Number, err)})
			}
			for _, child := range lp.Items {
				if child.ID == root.d.ID || seen[child.ID] {
					continue
				}
				if seen == nil {
					seen = map[ID]bool{root.d.ID: true}
				}
				seen[child.ID] = true
				outcome := CascadeAlready
				var verify check
				if command == "resume" {
					verify = s.stillInWork(root.d.Tenant, root.d.ID, parent)
				}
				res, err := s.runChecked(ctx, root.d.Tenant, child.ID, by, "cascade."+command, func(inc *Incident, e env) error {
					if inc.d.Parent != parent {
						outcome = CascadeDetached
						return nil
					}
					outcome = step(inc, e, via)
					return nil
				}, verify)
				if errors.Is(err, errLeftWork) {
					outcome, err = CascadeSkipped, nil
					res = Result{}
				}
				out = append(out, CascadeResult{Child: child.ID, Number: child.Number, Parent: parent, Outcome: outcome, Events: res.Events, Err: err})
				if err == nil && outcome != CascadeDetached && res.Incident != nil && reached(s.pol.category(res.Incident.d.Status)) {
					queue = append(queue, node{child.ID, child.Number})
				}
			}
			if lp.Next.IsZero() {
				break
			}
			page.After = lp.Next
		}
	}
	return out
}

// errLeftWork is stillInWork's refusal: the resume being cascaded is no
// longer the incident's latest word.
var errLeftWork = errors.New("incident: the resumed incident is no longer in work")

// stillInWork returns the check a resume cascade makes as it saves each
// child, in the same transaction where the store has one: the root that was
// resumed, and the parent the child is reached through, are still in new
// or active work. A hold that lands on either after the resume has held,
// or will hold, the children itself; the stale resume must not undo it.
func (s *Service) stillInWork(tenant itsm.TenantID, ids ...ID) check {
	return func(ctx context.Context, repo Repository, _ *Incident) error {
		for k, id := range ids {
			if k > 0 && id == ids[0] {
				continue
			}
			d, err := repo.Get(ctx, tenant, id)
			if err != nil {
				return err
			}
			if cat := s.pol.category(d.Status); cat != itsm.CategoryNew && cat != itsm.CategoryActive {
				return errLeftWork
			}
		}
		return nil
	}
}

// maxCascade bounds how many descendants one cascade visits.
const maxCascade = 100_000

// AdvanceSLA brings an incident's SLA timers up to now without any other
// change, so that thresholds and breaches due by now are recorded and their
// events emitted. A host's scheduler calls it at the instant
// Data.SLANextAt reports (or lists incidents with Filter.SLANextBefore).
// Without an SLA engine it does nothing.
func (s *Service) AdvanceSLA(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor) (Result, error) {
	if err := by.Validate(); err != nil {
		return Result{}, err
	}
	if s.sla == nil {
		d, err := s.repo.Get(ctx, tenant, id)
		if err != nil {
			return Result{}, err
		}
		if err := s.authorize(ctx, tenant, by, "advance_sla", &d); err != nil {
			return Result{}, err
		}
		inc, err := restore(&s.pol, &d)
		return Result{Incident: inc}, err
	}
	for attempt := 1; ; attempt++ {
		d, err := s.repo.Get(ctx, tenant, id)
		if err != nil {
			return Result{}, fmt.Errorf("incident: advance_sla %s: loading: %w", id, err)
		}
		if err := s.authorize(ctx, tenant, by, "advance_sla", &d); err != nil {
			return Result{}, err
		}
		inc, err := restore(&s.pol, &d)
		if err != nil {
			return Result{}, err
		}
		now := s.clock.Now()
		if now.Before(inc.d.SLA.AsOf) || inc.d.SLA.Record.IsZero() {
			return Result{Incident: inc}, nil
		}
		st, slaEvents, err := s.sla.Advance(inc.d.SLA, now)
		if err != nil {
			return Result{}, fmt.Errorf("incident: advance_sla %s: %w", inc.d.Number, err)
		}
		if len(slaEvents) == 0 {
			return Result{Incident: inc}, nil
		}
		inc.d.SLA = st
		var events []itsm.Event
		for _, ev := range slaEvents {
			e, err := itsm.NewEvent(s.ids, itsm.EventInput{
				Type: slaEventType(ev.Kind), Tenant: tenant, Subject: inc.d.ID.Ref(),
				Version: inc.d.Version + 1, At: ev.At, Actor: itsm.Actor{ID: "sla", Name: "SLA engine", Kind: itsm.ActorSystem}, Payload: ev,
			})
			if err != nil {
				return Result{}, err
			}
			events = append(events, e)
		}
		err = s.write(ctx, inc, events, false, nil)
		if errors.Is(err, itsm.ErrConflict) && attempt < s.attempts {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("incident: advance_sla %s: saving: %w", inc.d.Number, err)
		}
		return Result{Incident: inc, Events: events}, nil
	}
}

// AutoClose says when resolved incidents become closable: after Days
// business days on Calendar, counted in Location. A business day is a local
// date on which the calendar has working time. The incident becomes
// closable when Days such dates have fully passed after the date it was
// resolved on (or, with ResetOnActivity, the date of its latest comment the
// caller could see), at the first working instant after the last of them: a
// Monday-to-Friday desk that resolves on Monday with Days 3 may close from
// Friday's opening. Accepted major incidents are never auto-closed.
type AutoClose struct {
	Days            int
	Calendar        sla.Calendar
	Location        *time.Location
	ResetOnActivity bool
}

// Validate returns a *itsm.ValidationError naming the bad field.
func (a AutoClose) Validate() error {
	var errs itsm.FieldErrors
	if a.Days < 1 || a.Days > 366 {
		errs.Add("auto_close.days", "must be between 1 and 366")
	}
	if !sla.Usable(a.Calendar) {
		errs.Add("auto_close.calendar", "must be set")
	}
	if a.Location == nil {
		errs.Add("auto_close.location", "must be set")
	}
	return errs.Err()
}

// ClosableAt returns when a resolved incident becomes closable under a, and
// false when it never does: not resolved (ResolvedAt is zero), closed
// already (ClosedAt is set: there is nothing left to close), an accepted
// major incident, a calendar without enough working time, or an invalid a.
// It reads only d's instants and major status, so it answers the same under
// any lifecycle.
func ClosableAt(d *Data, a AutoClose) (time.Time, bool) {
	if d == nil || d.ResolvedAt.IsZero() || !d.ClosedAt.IsZero() || d.Major.Status == MajorAccepted || a.Validate() != nil {
		return time.Time{}, false
	}
	from := d.ResolvedAt
	if a.ResetOnActivity {
		for _, c := range d.Comments {
			if c.At.After(from) && !c.WorkNote {
				from = c.At
			}
		}
	}
	// Walk the local dates after the one it was resolved on, counting those
	// with working time; it becomes closable at the first working instant
	// after the last counted date ends. Dates are counted by number from
	// the resolution date, never derived from the previous date's start:
	// where a date has no midnight, that start can lie on the date before.
	y, m, dd := from.In(a.Location).Date()
	next := startOfDate(y, m, dd+1, a.Location)
	counted := 0
	for i := 1; i <= 7*a.Days+400; i++ {
		day := next
		next = startOfDate(y, m, dd+i+1, a.Location)
		if !hasWork(a.Calendar, day, next) {
			continue
		}
		counted++
		if counted < a.Days {
			continue
		}
		if a.Calendar.IsWorking(next) {
			return itsm.Normalize(next), true
		}
		if open, ok := a.Calendar.NextTransition(next); ok {
			return itsm.Normalize(open), true
		}
		return time.Time{}, false
	}
	return time.Time{}, false
}

// startOfDate returns the first instant of the local date y-m-d in loc (d
// may overflow the month, as in time.Date). Where the clocks jump forward
// at midnight (America/Santiago, 2026-09-06) the date has no 00:00 and
// time.Date answers an instant beside the gap, on either side of it; the
// date then starts at the instant the gap ends, the zone's transition.
func startOfDate(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if t.Hour() == 0 {
		return t
	}
	start, end := t.ZoneBounds()
	if t.Hour() >= 12 { // late on the date before: the gap follows
		return end
	}
	return start // early on the date itself: the gap came just before
}

// hasWork reports whether cal has working time in [from, to).
func hasWork(cal sla.Calendar, from, to time.Time) bool {
	if cal.IsWorking(from) {
		return true
	}
	next, ok := cal.NextTransition(from)
	return ok && next.Before(to)
}

// DueForAutoClose lists the tenant's resolved incidents that are closable
// at the given instant under a, the longest resolved first (by ResolvedAt,
// then by ID). The host closes them (with a system actor) through Close.
//
// Errors: *itsm.ValidationError for a bad a, or naming "at" for the zero
// instant (the store would take a zero bound as no bound at all);
// storage errors.
func (s *Service) DueForAutoClose(ctx context.Context, tenant itsm.TenantID, at time.Time, a AutoClose) ([]Data, error) {
	var errs itsm.FieldErrors
	if at.IsZero() {
		errs.Add("at", "must not be the zero instant")
	}
	errs.Merge("", a.Validate())
	if err := errs.Err(); err != nil {
		return nil, err
	}
	f := Filter{Statuses: s.pol.Lifecycle.InCategory(itsm.CategoryResolved), ResolvedBefore: at}
	var out []Data
	page := Page{Limit: MaxPageLimit}
	for {
		lp, err := s.repo.List(ctx, tenant, f, page)
		if err != nil {
			return nil, err
		}
		for i := range lp.Items {
			if when, ok := ClosableAt(&lp.Items[i], a); ok && !when.After(at) {
				out = append(out, lp.Items[i])
			}
		}
		if lp.Next.IsZero() {
			// The store lists by ID; a host working through the list
			// closes the incidents waiting longest first.
			slices.SortStableFunc(out, func(x, y Data) int { return x.ResolvedAt.Compare(y.ResolvedAt) })
			return out, nil
		}
		page.After = lp.Next
	}
}
