package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// Numbers hands out per-tenant sequence values for incident numbers: each
// call returns a value never returned before for the tenant and name,
// starting at 1 (gaps are allowed). storage adapters provide it.
type Numbers interface {
	Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error)
}

// Atomic is the optional capability of a store that commits an incident
// write together with the events it emits (an outbox), and with the reads
// that confirm what the command relied on (a parent link's ancestors), or
// none of them.
type Atomic interface {
	// Atomically runs fn; the writes fn makes through tx, and the events it
	// appends, commit together when fn returns nil and vanish when it
	// returns an error.
	Atomically(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is what Atomic hands to its function.
type Tx interface {
	Repository
	// Append adds events to the outbox, committed with the writes.
	Append(ctx context.Context, events ...itsm.Event) error
}

// Authorization describes a command about to run, for an Authorizer.
type Authorization struct {
	Tenant itsm.TenantID
	Actor  itsm.Actor
	// Command is the command's name: "open", "update", "assign", "hold",
	// "resume", "comment", "resolve", "reopen", "close", "cancel",
	// "escalate", "override_priority", "major.propose", "major.accept",
	// "major.reject", "major.demote", "major.review", "link_parent",
	// "unlink_parent", "link_problem", "link_change", "advance_sla",
	// "cascade" (a re-run asked for by Service.Cascade), and
	// "cascade.resolve", "cascade.hold" and "cascade.resume" for each
	// child a cascade reaches.
	Command string
	// Incident is a copy of the incident as loaded, or nil for "open".
	Incident *Data
}

// Authorizer decides whether an actor may run a command. Return nil to
// allow; any error refuses, and the service reports it as itsm.ErrForbidden
// (wrapping it when it does not already).
type Authorizer interface {
	Authorize(ctx context.Context, a Authorization) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, a Authorization) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, a Authorization) error { return f(ctx, a) }

// Config assembles a Service.
type Config struct {
	// Repository stores incidents. Required. When it also implements
	// Atomic, each command's write and its events commit together. Without
	// it, events are only returned, never stored, and a parent link's cycle
	// check can race with a concurrent link.
	Repository Repository
	// Numbers numbers new incidents. Required.
	Numbers Numbers
	// Policy holds the desk's rules; the zero Policy means DefaultPolicy().
	// A partly filled Policy is validated as it is: start from
	// DefaultPolicy() and change what differs.
	Policy Policy
	// SLA attaches and advances SLA, OLA and UC timers on every command;
	// nil means no timers.
	SLA *sla.Engine
	// Clock tells the time. Required. An instant it returns that is
	// earlier than the incident's last change (its latest history entry or
	// comment, as when hosts' clocks disagree a little) is clamped to that
	// change: the command takes effect at the last change's instant, so an
	// incident's history, comments, UpdatedAt and events never go back.
	// Open refuses the zero instant (a *itsm.ValidationError naming
	// "clock").
	Clock itsm.Clock
	// IDs draws incident and event IDs. Required.
	IDs itsm.IDGenerator
	// Authorizer is consulted before every command; nil allows everything.
	Authorizer Authorizer
	// MaxAttempts is how many times in all (the first try included) a
	// command is read, decided and saved before a version conflict is
	// returned as itsm.ErrConflict; 0 means 5.
	MaxAttempts int
	// Impact, when set, names the business services a failure of the given
	// CIs reaches (for example cmdb.Graph.ImpactedServices); the service
	// records them as Data.ImpactedServices when an incident opens and
	// whenever its CIs change. An error fails the command.
	Impact ImpactFunc
}

// ImpactFunc returns the business services a failure of cis reaches.
type ImpactFunc func(ctx context.Context, tenant itsm.TenantID, cis []itsm.Ref) ([]itsm.Ref, error)

// Service runs the incident practice's commands: it loads an incident,
// decides with the aggregate's guards, advances its SLA timers, saves it
// with optimistic concurrency (retrying a bounded number of times on
// conflict) and returns what happened as events. It holds no state between
// calls and is safe for concurrent use.
//
// Its commands share their errors: *itsm.ValidationError for bad input,
// naming the field; *itsm.TransitionError (itsm.ErrInvalidTransition) when
// the lifecycle or a guard refuses; itsm.ErrForbidden when the authorizer
// or a role check refuses; itsm.ErrNotFound for an incident the tenant does
// not hold; itsm.ErrConflict when concurrent writers kept winning for
// Config.MaxAttempts tries; and storage errors, wrapped with what failed. A
// command that fails writes nothing.
type Service struct {
	repo   Repository
	atomic Atomic
	// shared is repo when it can lend its stored records, commit when it
	// saves a command in one step (see share.go).
	shared   sharedGetter
	commit   ownedCommitter
	numbers  Numbers
	pol      Policy
	sla      *sla.Engine
	clock    itsm.Clock
	ids      itsm.IDGenerator
	auth     Authorizer
	attempts int
	impact   ImpactFunc
	// slaReads marks which of observedFields' built-in fields some SLA
	// condition reads (bit i for builtinFields[i]), asked of the engine
	// once rather than on every command.
	slaReads uint16
}

// NewService validates cfg and builds a Service. It returns a
// *itsm.ValidationError listing every missing or invalid part, among them
// (under "sla") every comparison of the SLA engine's conditions that could
// never hold because it reads what the service never supplies: a field
// name other than those the package doc's "SLA conditions" section lists
// ("fields.vip" where "fields.custom.vip" was meant), a service compared
// with anything but itsm.Ref text (a bare UUID), or a built-in field
// compared with a value it never takes ("vendor" for awaiting_vendor).
func NewService(cfg Config) (*Service, error) {
	var errs itsm.FieldErrors
	if cfg.Repository == nil {
		errs.Add("repository", "must be set")
	}
	if cfg.Numbers == nil {
		errs.Add("numbers", "must be set")
	}
	if cfg.Clock == nil {
		errs.Add("clock", "must be set")
	}
	if cfg.IDs == nil {
		errs.Add("ids", "must be set")
	}
	if cfg.MaxAttempts < 0 {
		errs.Add("max_attempts", "must not be negative")
	}
	pol := cfg.Policy
	if pol == (Policy{}) {
		pol = DefaultPolicy()
	}
	errs.Merge("", pol.Validate())
	if cfg.SLA != nil {
		errs.Merge("", checkSLAReads(cfg.SLA, &pol))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	pol.majorLifecycle()
	s := &Service{
		repo: cfg.Repository, numbers: cfg.Numbers, pol: pol, sla: cfg.SLA,
		clock: cfg.Clock, ids: cfg.IDs, auth: cfg.Authorizer, attempts: cfg.MaxAttempts, impact: cfg.Impact,
	}
	if a, ok := cfg.Repository.(Atomic); ok {
		s.atomic = a
	}
	if g, ok := cfg.Repository.(sharedGetter); ok {
		s.shared = g
	}
	if c, ok := cfg.Repository.(ownedCommitter); ok && s.atomic != nil {
		s.commit = c
	}
	if s.attempts == 0 {
		s.attempts = 5
	}
	if s.sla != nil {
		s.slaReads = builtinReads(s.sla)
	}
	return s, nil
}

// Policy returns the service's policy.
func (s *Service) Policy() Policy { return s.pol }

// Result is what a command did: the incident as saved, the events it
// emitted (incident and SLA events, in order), and for resolve, hold and
// resume (a caller's reply that resumes included) the outcome of the
// cascade to the incident's children.
type Result struct {
	Incident *Incident
	Events   []itsm.Event
	Cascade  []CascadeResult
}

// CascadeResult is the outcome of a cascade on one descendant.
type CascadeResult struct {
	Child  ID
	Number Number
	// Parent is the incident the cascade reached the child through: the
	// incident the command ran on, or one of its descendants.
	Parent  ID
	Outcome CascadeOutcome
	// Events are the events the child's change emitted.
	Events []itsm.Event
	// Err is set when the child could not be saved. Cascades are
	// idempotent: Service.Cascade completes one that failed half way.
	Err error
}

func (s *Service) authorize(ctx context.Context, tenant itsm.TenantID, by itsm.Actor, command string, d *Data) error {
	if s.auth == nil {
		return nil
	}
	if d != nil {
		c := d.Clone() // the authorizer may keep or change what it is shown
		d = &c
	}
	err := s.auth.Authorize(ctx, Authorization{Tenant: tenant, Actor: by, Command: command, Incident: d})
	if err == nil {
		return nil
	}
	if errors.Is(err, itsm.ErrForbidden) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", itsm.ErrForbidden, command, err)
}

// Open records a new incident, numbered from the tenant's sequence.
//
// Errors: *itsm.ValidationError for bad input (nothing is written);
// itsm.ErrForbidden when the authorizer refuses; storage errors wrapped.
func (s *Service) Open(ctx context.Context, tenant itsm.TenantID, by itsm.Actor, in OpenInput) (Result, error) {
	if err := tenant.Validate(); err != nil {
		return Result{}, err
	}
	if s.auth != nil {
		if err := s.authorize(ctx, tenant, by, "open", nil); err != nil {
			return Result{}, err
		}
	}
	id, err := itsm.NewID[record](s.ids)
	if err != nil {
		return Result{}, fmt.Errorf("incident: open: drawing an ID: %w", err)
	}
	e := env{pol: &s.pol, at: s.clock.Now(), by: by}
	if e.at.IsZero() {
		// Later commands never go back before the last entry; the first
		// one has no entry to hold to, and its events are not checked
		// again on the owned path (see share.go).
		return Result{}, itsm.NewValidationError("clock", "returned the zero instant")
	}
	// Decide before drawing a number, so bad input consumes none.
	inc, err := open(e, id, tenant, "", in)
	if err != nil {
		return Result{}, err
	}
	n, err := s.numbers.Next(ctx, tenant, "incident")
	if err != nil {
		return Result{}, fmt.Errorf("incident: open: numbering: %w", err)
	}
	inc.d.Number = FormatNumber(s.pol.NumberPrefix, n)
	if err := s.refreshImpact(ctx, inc, nil); err != nil {
		return Result{}, err
	}
	events, err := s.advance(inc, 0, 0, e.at)
	if err != nil {
		return Result{}, err
	}
	if err := s.write(ctx, inc, events, true, nil); err != nil {
		return Result{}, fmt.Errorf("incident: open %s: saving: %w", inc.d.Number, err)
	}
	return Result{Incident: inc, Events: events}, nil
}

// Get returns an incident.
//
// Errors: itsm.ErrNotFound; *itsm.ValidationError when what storage holds
// does not restore.
func (s *Service) Get(ctx context.Context, tenant itsm.TenantID, id ID) (*Incident, error) {
	d, err := s.repo.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return restore(&s.pol, &d)
}

// GetByNumber returns an incident by its number.
//
// Errors: as Get.
func (s *Service) GetByNumber(ctx context.Context, tenant itsm.TenantID, number Number) (*Incident, error) {
	d, err := s.repo.GetByNumber(ctx, tenant, number)
	if err != nil {
		return nil, err
	}
	return restore(&s.pol, &d)
}

// List returns one page of the tenant's incidents matching f, in creation
// order.
//
// Errors: *itsm.ValidationError for a bad tenant, page or filter (a
// service reference that is set but invalid: Filter.Validate); storage
// errors.
func (s *Service) List(ctx context.Context, tenant itsm.TenantID, f Filter, p Page) (ListPage, error) {
	if err := p.Validate(); err != nil {
		return ListPage{}, err
	}
	if err := f.Validate(); err != nil {
		return ListPage{}, err
	}
	return s.repo.List(ctx, tenant, f, p)
}

// decision is a command's pure part: it changes inc through the aggregate's
// guards or returns an error and leaves inc as it was.
type decision func(inc *Incident, e env) error

// check runs inside the transaction that saves a command's result, with the
// transaction's repository, to confirm what the decision read elsewhere
// still holds; an error aborts the write.
type check func(ctx context.Context, repo Repository, inc *Incident) error

// run loads the incident, decides, advances SLA timers, and saves with its
// events, re-reading and re-deciding on a version conflict up to the
// service's attempt limit. A command that changes nothing saves nothing.
func (s *Service) run(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, command string, decide decision) (Result, error) {
	return s.runChecked(ctx, tenant, id, by, command, decide, nil)
}

// runChecked is run with a check made inside the saving transaction.
func (s *Service) runChecked(ctx context.Context, tenant itsm.TenantID, id ID, by itsm.Actor, command string, decide decision, verify check) (Result, error) {
	if err := by.Validate(); err != nil {
		return Result{}, err
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		var d *Data
		var owner any
		var err error
		if s.shared != nil {
			d, owner, err = s.shared.GetShared(ctx, tenant, id)
		} else {
			var got Data
			got, err = s.repo.Get(ctx, tenant, id)
			d = &got
		}
		if err != nil {
			return Result{}, fmt.Errorf("incident: %s %s: loading: %w", command, id, err)
		}
		var inc *Incident
		detached := false
		if owner == any(s) {
			// Saved by this service's own command (see share.go), and lent:
			// copy what the command may change.
			inc, detached = lendIncident(d), true
		} else if inc, err = restore(&s.pol, d); err != nil {
			return Result{}, fmt.Errorf("incident: %s %s: stored record: %w", command, d.Number, err)
		}
		if inc.d.Tenant != tenant {
			return Result{}, fmt.Errorf("incident: %s %s: the store returned a record of tenant %q", command, d.Number, inc.d.Tenant)
		}
		if s.auth != nil { // tested here: the call would copy the actor for nothing
			if err := s.authorize(ctx, tenant, by, command, inc.d); err != nil {
				return Result{}, err
			}
		}
		if s.shared != nil && !detached {
			inc.d.detach() // the record is lent: copy what the command may change
		}
		e := env{pol: &s.pol, at: s.clock.Now(), by: by}
		history, comments := len(inc.d.History), len(inc.d.Comments)
		if err := decide(inc, e); err != nil {
			return Result{}, err
		}
		if len(inc.d.History) == history && len(inc.d.Comments) == comments {
			return Result{Incident: inc}, nil
		}
		if len(inc.d.History) > maxHistoryEntries {
			return Result{}, itsm.NewValidationError("history", fmt.Sprintf("the incident already holds %d history entries, the most one may", maxHistoryEntries))
		}
		events, err := s.advance(inc, history, comments, e.at)
		if err != nil {
			return Result{}, err
		}
		err = s.write(ctx, inc, events, false, verify)
		if errors.Is(err, itsm.ErrConflict) && attempt < s.attempts {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("incident: %s %s: saving (attempt %d): %w", command, inc.d.Number, attempt, err)
		}
		return Result{Incident: inc, Events: events}, nil
	}
}

// write saves the incident (creating it when create is set) and, under an
// Atomic store, appends its events in the same transaction, after verify
// (when not nil) has confirmed what the decision relied on.
//
// On success inc.d.Version is the version stored: a store that adopted the
// record set it (see share.go); otherwise write does, and only then, since
// an adopted record is never written to again.
func (s *Service) write(ctx context.Context, inc *Incident, events []itsm.Event, create bool, verify check) error {
	read := inc.d.Version
	var err error
	switch {
	case s.commit != nil && verify == nil:
		err = s.commit.CommitOwned(ctx, inc.d, create, events, s)
	case s.atomic == nil:
		err = s.save(ctx, s.repo, inc, create, verify)
	default:
		err = s.atomic.Atomically(ctx, func(ctx context.Context, tx Tx) error {
			if err := s.save(ctx, tx, inc, create, verify); err != nil {
				return err
			}
			return tx.Append(ctx, events...)
		})
	}
	if err != nil {
		return err
	}
	if inc.d.Version == read {
		inc.d.Version = read + 1 // creation: 0 becomes 1
	}
	return nil
}

// save is write's part inside the transaction. A repository that can
// adopt the record takes inc's data over (see share.go): the service only
// reads inc afterwards.
func (s *Service) save(ctx context.Context, repo Repository, inc *Incident, create bool, verify check) error {
	if verify != nil {
		if err := verify(ctx, repo, inc); err != nil {
			return err
		}
	}
	if o, ok := repo.(ownedWriter); ok {
		if create {
			return o.CreateOwned(ctx, inc.d, s)
		}
		return o.UpdateOwned(ctx, inc.d, s)
	}
	if create {
		return repo.Create(ctx, *inc.d)
	}
	return repo.Update(ctx, *inc.d)
}

// slaActor is the actor of SLA events: the engine, on the host's behalf.
var slaActor = itsm.ActorRef{ID: "sla", Name: "SLA engine", Kind: itsm.ActorSystem}

// The event types the service emits, in itsm.Event.Type. Package doc's
// "Events" section says which command emits which, with what payload: an
// incident.Entry for the history-entry events, an incident.Comment for
// EventCommented, an sla.Event for the SLA ones.
const (
	// EventOpened: Open recorded a new incident.
	EventOpened itsm.EventType = "incident.opened"
	// EventUpdated: Update changed descriptive fields.
	EventUpdated itsm.EventType = "incident.updated"
	// EventAssigned: Assign moved a new incident into work.
	EventAssigned itsm.EventType = "incident.assigned"
	// EventReassigned: Assign changed the assignment of an incident
	// already in work.
	EventReassigned itsm.EventType = "incident.reassigned"
	// EventHeld: Hold (or a hold cascade) put the incident on hold, or
	// changed what an incident on hold waits for.
	EventHeld itsm.EventType = "incident.held"
	// EventResumed: Resume, or a caller's comment on an incident awaiting
	// the caller, resumed work.
	EventResumed itsm.EventType = "incident.resumed"
	// EventResolved: Resolve (or a resolve cascade) resolved the incident.
	EventResolved itsm.EventType = "incident.resolved"
	// EventReopened: Reopen sent the incident back to work.
	EventReopened itsm.EventType = "incident.reopened"
	// EventClosed: Close closed the incident.
	EventClosed itsm.EventType = "incident.closed"
	// EventCanceled: Cancel abandoned the incident.
	EventCanceled itsm.EventType = "incident.canceled"
	// EventPriorityOverridden: OverridePriority set the priority by hand.
	EventPriorityOverridden itsm.EventType = "incident.priority_overridden"
	// EventEscalated: Escalate escalated the incident, functionally or
	// hierarchically (the payload's command says which).
	EventEscalated itsm.EventType = "incident.escalated"
	// EventMajorProposed: ProposeMajor proposed a major incident.
	EventMajorProposed itsm.EventType = "incident.major_proposed"
	// EventMajorAccepted: AcceptMajor accepted it.
	EventMajorAccepted itsm.EventType = "incident.major_accepted"
	// EventMajorRejected: RejectMajor rejected the proposal.
	EventMajorRejected itsm.EventType = "incident.major_rejected"
	// EventMajorDemoted: DemoteMajor demoted it.
	EventMajorDemoted itsm.EventType = "incident.major_demoted"
	// EventMajorReviewed: ReviewMajor recorded the post-incident review.
	EventMajorReviewed itsm.EventType = "incident.major_reviewed"
	// EventParentLinked: LinkParent linked a parent.
	EventParentLinked itsm.EventType = "incident.parent_linked"
	// EventParentUnlinked: UnlinkParent removed the parent link.
	EventParentUnlinked itsm.EventType = "incident.parent_unlinked"
	// EventProblemLinked: LinkProblem linked a problem or known error.
	EventProblemLinked itsm.EventType = "incident.problem_linked"
	// EventProblemUnlinked: LinkProblem with the zero Ref removed the link.
	EventProblemUnlinked itsm.EventType = "incident.problem_unlinked"
	// EventChangeLinked: LinkChange linked a change.
	EventChangeLinked itsm.EventType = "incident.change_linked"
	// EventChangeUnlinked: LinkChange with the zero Ref removed the link.
	EventChangeUnlinked itsm.EventType = "incident.change_unlinked"
	// EventCommented: a comment or work note was added (by Comment, or by
	// Hold with a comment).
	EventCommented itsm.EventType = "incident.commented"

	// EventSLAAttached: an SLA timer attached (sla.EventAttached).
	EventSLAAttached itsm.EventType = "sla.attached"
	// EventSLAPaused: a timer paused (sla.EventPaused).
	EventSLAPaused itsm.EventType = "sla.paused"
	// EventSLAResumed: a timer resumed (sla.EventResumed).
	EventSLAResumed itsm.EventType = "sla.resumed"
	// EventSLACompleted: a timer's cycle completed (sla.EventCompleted).
	EventSLACompleted itsm.EventType = "sla.completed"
	// EventSLACanceled: a timer's cycle was canceled (sla.EventCanceled).
	EventSLACanceled itsm.EventType = "sla.canceled"
	// EventSLARetargeted: a timer changed goal (sla.EventRetargeted).
	EventSLARetargeted itsm.EventType = "sla.retargeted"
	// EventSLAThreshold: a timer reached a warning threshold
	// (sla.EventThreshold).
	EventSLAThreshold itsm.EventType = "sla.threshold"
	// EventSLABreached: a timer breached its goal (sla.EventBreached).
	EventSLABreached itsm.EventType = "sla.breached"
)

// EventTypes returns every event type the service emits: the incident.*
// types, then the sla.* ones. The slice is the caller's.
func EventTypes() []itsm.EventType {
	return []itsm.EventType{
		EventOpened, EventUpdated, EventAssigned, EventReassigned, EventHeld, EventResumed, EventResolved,
		EventReopened, EventClosed, EventCanceled, EventPriorityOverridden, EventEscalated,
		EventMajorProposed, EventMajorAccepted, EventMajorRejected, EventMajorDemoted, EventMajorReviewed,
		EventParentLinked, EventParentUnlinked, EventProblemLinked, EventProblemUnlinked,
		EventChangeLinked, EventChangeUnlinked, EventCommented,
		EventSLAAttached, EventSLAPaused, EventSLAResumed, EventSLACompleted, EventSLACanceled,
		EventSLARetargeted, EventSLAThreshold, EventSLABreached,
	}
}

// eventType names the event a history entry's command emits, e.g.
// EventResolved: a constant for each command the package records, or
// derivedEventType's name for any other.
func eventType(command string) itsm.EventType {
	switch command {
	case "open":
		return EventOpened
	case "update":
		return EventUpdated
	case "assign":
		return EventAssigned
	case "reassign":
		return EventReassigned
	case "hold":
		return EventHeld
	case "resume":
		return EventResumed
	case "resolve":
		return EventResolved
	case "reopen":
		return EventReopened
	case "close":
		return EventClosed
	case "cancel":
		return EventCanceled
	case "override_priority":
		return EventPriorityOverridden
	case "escalate.functional", "escalate.hierarchical":
		return EventEscalated
	case "major.propose":
		return EventMajorProposed
	case "major.accept":
		return EventMajorAccepted
	case "major.reject":
		return EventMajorRejected
	case "major.demote":
		return EventMajorDemoted
	case "major.review":
		return EventMajorReviewed
	case "link_parent":
		return EventParentLinked
	case "link_problem":
		return EventProblemLinked
	case "link_change":
		return EventChangeLinked
	case "unlink_parent":
		return EventParentUnlinked
	case "unlink_problem":
		return EventProblemUnlinked
	case "unlink_change":
		return EventChangeUnlinked
	}
	return derivedEventType(command)
}

// derivedEventType builds an event type from the name of a command
// eventType does not list: the verb in the past tense, dots turned into
// underscores ("major.propose" would be "incident.major_proposed").
func derivedEventType(command string) itsm.EventType {
	verb := strings.ReplaceAll(command, ".", "_")
	if strings.HasSuffix(verb, "e") {
		return itsm.EventType("incident." + verb + "d") // resume → resumed
	}
	return itsm.EventType("incident." + verb + "ed") // reopen → reopened, cancel → canceled
}

// advance observes the incident with the SLA engine and builds the events
// for the history entries and comments added since the given counts, then
// the SLA events. The events carry the version the save will produce.
func (s *Service) advance(inc *Incident, history, comments int, at time.Time) ([]itsm.Event, error) {
	// The timers advance first, so that the events and their payloads are
	// sized for what the command emits (the SLA engine draws no IDs, so
	// the events' IDs come in the same order). The incident was loaded (or
	// built) for this command alone, so its timers advance in place; on an
	// error it is discarded.
	subject := inc.d.ID.Ref()
	var slaEvents []sla.Event
	if s.sla != nil {
		if inc.d.SLA.Record.IsZero() {
			inc.d.SLA.Record = subject
		}
		var err error
		slaEvents, err = s.sla.ObserveInPlace(&inc.d.SLA, s.observation(inc, at))
		if err != nil {
			return nil, fmt.Errorf("incident: %s: SLA timers: %w", inc.d.Number, err)
		}
	}
	n := len(inc.d.History) - history + len(inc.d.Comments) - comments + len(slaEvents)
	// Every payload of the command is written into one buffer, each
	// clipped to its own length; an SLA event larger than the estimate
	// grows it.
	size := len(slaEvents) * slaPayloadSize
	for k := history; k < len(inc.d.History); k++ {
		size += entryPayloadSize(&inc.d.History[k])
	}
	for k := comments; k < len(inc.d.Comments); k++ {
		size += commentPayloadSize(&inc.d.Comments[k])
	}
	events, buf := eventSpace(n, size)
	// Events are assembled from parts validated already (the tenant and ID
	// of a stored incident, the actor checked at the start of the command,
	// types from a fixed table, instants from the clock Open checked and
	// the history that never goes back), so no second validation pass is
	// spent on them here. A store's Tx.Append validates them again; the
	// owned path (share.go) does not, and the aliasing guard test checks
	// every event it commits.
	// Each event is written in its slot of events, field by field: what
	// the events of a command share (tenant, subject, version) is set once
	// per event rather than built into a value and copied. The instants of
	// history entries and comments are normalised already (stamp, or a
	// restored entry restore checked), so only the SLA engine's are
	// normalised here.
	base := eventBase{tenant: inc.d.Tenant, subject: subject, version: inc.d.Version + 1}
	j := 0
	for k := history; k < len(inc.d.History); k++ {
		h := &inc.d.History[k]
		start := len(buf)
		buf = appendEntryPayload(buf, h)
		if err := s.setEvent(&events[j], &base, eventType(h.Command), buf[start:len(buf):len(buf)], &h.At, &h.By); err != nil {
			return nil, err
		}
		j++
	}
	for k := comments; k < len(inc.d.Comments); k++ {
		c := &inc.d.Comments[k]
		start := len(buf)
		buf = appendCommentPayload(buf, c)
		if err := s.setEvent(&events[j], &base, EventCommented, buf[start:len(buf):len(buf)], &c.At, &c.By); err != nil {
			return nil, err
		}
		j++
	}
	for k := range slaEvents {
		se := &slaEvents[k]
		start := len(buf)
		var err error
		buf, err = se.AppendJSON(buf)
		if err != nil {
			return nil, fmt.Errorf("incident: encoding SLA event %s: %w", se.Key, err)
		}
		at := itsm.Normalize(se.At)
		if err := s.setEvent(&events[j], &base, slaEventType(se.Kind), buf[start:len(buf):len(buf)], &at, &slaActor); err != nil {
			return nil, err
		}
		j++
	}
	return events, nil
}

// eventSpace returns n zero events and an empty buffer with room for size
// bytes of payloads. A command's events and their payloads live and die
// together (the events point into the buffer), so for the usual commands,
// one to four events, they share one allocation, in a shape whose size
// fills its allocation class (512, 1152, 1536 and 2304 bytes; an event is
// 232), so that no more memory is taken than two allocations would. The
// events are clipped, so that a host appending to them copies rather than
// writes over the payloads; an SLA payload larger than its estimate moves
// the buffer to an array of its own.
func eventSpace(n, size int) ([]itsm.Event, []byte) {
	switch {
	case n <= 1 && size <= 256:
		b := new(struct {
			events [1]itsm.Event
			buf    [256]byte
		})
		return b.events[:n:n], b.buf[:0]
	case n <= 2 && size <= 640:
		b := new(struct {
			events [2]itsm.Event
			buf    [640]byte
		})
		return b.events[:n:n], b.buf[:0]
	case n <= 3 && size <= 832:
		b := new(struct {
			events [3]itsm.Event
			buf    [832]byte
		})
		return b.events[:n:n], b.buf[:0]
	case n <= 4 && size <= 1376:
		b := new(struct {
			events [4]itsm.Event
			buf    [1376]byte
		})
		return b.events[:n:n], b.buf[:0]
	}
	return make([]itsm.Event, n), make([]byte, 0, size)
}

// eventBase is what every event of one command shares.
type eventBase struct {
	tenant  itsm.TenantID
	subject itsm.Ref
	version int64
}

// setEvent fills e, a zero slot of the command's events, drawing its ID;
// *at must be normalised already. (Pointers rather than values: the
// arguments would otherwise be some twenty words a call.)
func (s *Service) setEvent(e *itsm.Event, base *eventBase, typ itsm.EventType, payload []byte, at *time.Time, by *itsm.ActorRef) error {
	id, err := s.ids.NewUUID()
	if err != nil {
		return fmt.Errorf("incident: drawing an event ID: %w", err)
	}
	e.ID, e.Type, e.Tenant, e.Subject, e.Version, e.At = id, typ, base.tenant, base.subject, base.version, *at
	e.Actor.ID, e.Actor.Name, e.Actor.Kind = by.ID, by.Name, by.Kind
	e.Payload = payload
	return nil
}

// slaPayloadSize is about the size of an SLA event's payload.
const slaPayloadSize = 320

// slaEventType names the event an SLA engine event becomes, e.g.
// EventSLABreached; a kind the engine may add later becomes "sla.<kind>".
func slaEventType(k sla.EventKind) itsm.EventType {
	switch k {
	case sla.EventAttached:
		return EventSLAAttached
	case sla.EventPaused:
		return EventSLAPaused
	case sla.EventResumed:
		return EventSLAResumed
	case sla.EventCompleted:
		return EventSLACompleted
	case sla.EventCanceled:
		return EventSLACanceled
	case sla.EventRetargeted:
		return EventSLARetargeted
	case sla.EventThreshold:
		return EventSLAThreshold
	case sla.EventBreached:
		return EventSLABreached
	}
	return itsm.EventType("sla." + string(k))
}

// observation is what the SLA engine sees of an incident: the names the
// package doc's "SLA conditions" section lists, which checkSLAReads holds
// agreements to.
func (s *Service) observation(inc *Incident, at time.Time) sla.Observation {
	d := inc.d
	obs := sla.Observation{
		At:       at,
		Opened:   d.OpenedAt,
		Priority: d.Priority,
		Category: d.Category,
		State:    s.pol.category(d.Status),
		// Only the fields some condition reads are passed: most agreements
		// read none, and then no map is built.
		Fields: s.observedFields(d),
	}
	if !d.Service.IsZero() {
		obs.Service = d.Service.String()
	}
	if st := d.SLA.AsOf; at.Before(st) {
		obs.At = st
	}
	return obs
}

// builtinFields names the incident fields, other than the custom ones, an
// SLA condition may read by name; observedFields passes them in this order,
// the text fields first, then the reopen count and whether the incident
// has had its first response.
var builtinFields = [...]string{"status", "subcategory", "channel", "group", "assignee", "hold_reason", "major", "reopens", "responded"}

// builtinReads returns the mask of Service.slaReads for e.
func builtinReads(e *sla.Engine) uint16 {
	var mask uint16
	for i, name := range builtinFields {
		if e.ReadsField(name) {
			mask |= 1 << i
		}
	}
	return mask
}

// observedFields is the map of fields of d some SLA condition reads, or nil
// when none reads any of them.
func (s *Service) observedFields(d *Data) map[string]string {
	if s.slaReads == 0 && len(d.Custom) == 0 {
		return nil // the usual case: no condition reads a field by name
	}
	var fields map[string]string
	put := func(k, v string) {
		if fields == nil {
			fields = make(map[string]string)
		}
		fields[k] = v
	}
	if s.slaReads != 0 {
		text := [...]string{
			string(d.Status), d.Subcategory, string(d.Channel), d.Group, d.Assignee,
			string(d.HoldReason), string(d.Major.Status),
		}
		for i, v := range text {
			if s.slaReads&(1<<i) != 0 && v != "" {
				put(builtinFields[i], v)
			}
		}
		if s.slaReads&(1<<len(text)) != 0 { // "reopens"
			put("reopens", strconv.Itoa(d.Reopens))
		}
		if s.slaReads&(1<<(len(text)+1)) != 0 && !d.FirstResponseAt.IsZero() { // "responded", the last
			put("responded", "true")
		}
	}
	for k, v := range d.Custom {
		if name := "custom." + k; v != "" && s.sla.ReadsField(name) {
			put(name, v)
		}
	}
	return fields
}

// suppliedFields describes the fields observation supplies, for errors.
const suppliedFields = `priority, service (itsm.Ref text, "service:<uuid>"), category, state, ` +
	`fields.status, fields.subcategory, fields.channel, fields.group, fields.assignee, fields.hold_reason, ` +
	`fields.major, fields.reopens, fields.responded and fields.custom.<name>`

// checkSLAReads returns a *itsm.ValidationError naming "sla", with one
// entry per comparison, when a condition of e compares something the
// service's observations never supply, so that it would silently never
// hold: a field name other than builtinFields and "custom.<name>" (a custom
// field's name being a slug), a service that is not itsm.Ref text, or a
// built-in field compared with a value it never takes (checkBuiltinRead).
func checkSLAReads(e *sla.Engine, pol *Policy) error {
	var errs itsm.FieldErrors
	for _, r := range e.FieldReads() {
		switch {
		case r.Name != "":
			custom, isCustom := strings.CutPrefix(r.Name, "custom.")
			switch {
			case isCustom && isSlug(custom):
			case isCustom:
				errs.Addf("sla", "%s: %q is not a custom field name (1 to 64 lower-case letters, digits and underscores)", r, custom)
			case slices.Contains(builtinFields[:], r.Name):
				checkBuiltinRead(&errs, r, pol)
			default:
				errs.Addf("sla", "%s: the incident service never supplies the field %q (for a custom field write fields.custom.%s); it supplies %s", r, r.Field, r.Name, suppliedFields)
			}
		case r.Field == "service":
			switch r.Op {
			case sla.OpIn, sla.OpNotIn:
				for _, v := range r.Values {
					if ref, err := itsm.ParseRef(v); err != nil || ref.String() != v {
						errs.Addf("sla", "%s: %q is not how the incident service supplies a service, which is itsm.Ref text (\"service:<uuid>\", lower case; sla.ServiceIs builds it)", r, v)
					}
				}
			case sla.OpLT, sla.OpLE, sla.OpGT, sla.OpGE:
				errs.Addf("sla", "%s: the service is itsm.Ref text, never an integer", r)
			}
		}
	}
	return errs.Err()
}

// checkBuiltinRead adds to errs what makes a comparison r of a built-in
// field never hold, or hold always: a value the field never takes (a
// status the lifecycle lacks, a hold reason, channel or major status not
// declared, a reopen count that is not an integer, responded other than
// "true"), or an order (lt, ge, ...) on a field that is not a number.
func checkBuiltinRead(errs *itsm.FieldErrors, r sla.FieldRead, pol *Policy) {
	var valid func(v string) bool
	var takes string
	switch r.Name {
	case "status":
		valid = func(v string) bool { return pol.Lifecycle.Has(Status(v)) }
		takes = fmt.Sprintf("a status of the lifecycle %q", pol.Lifecycle.Name())
	case "hold_reason":
		valid = func(v string) bool { return HoldReason(v).Valid() }
		takes = "a declared hold reason (awaiting_caller, awaiting_change, awaiting_problem, awaiting_vendor)"
	case "channel":
		valid = func(v string) bool { return Channel(v).Valid() }
		takes = "a declared channel"
	case "major":
		valid = func(v string) bool { return MajorStatus(v).valid() }
		takes = "a major-incident status (none, proposed, accepted, rejected, demoted)"
	case "responded":
		valid = func(v string) bool { return v == "true" }
		takes = `"true" once the incident has its first response, and is absent before`
	case "reopens":
		valid = func(v string) bool { _, err := strconv.Atoi(v); return err == nil }
		takes = "an integer"
	default:
		return // free text: group, assignee, subcategory
	}
	switch r.Op {
	case sla.OpIn, sla.OpNotIn:
		for _, v := range r.Values {
			if !valid(v) {
				errs.Addf("sla", "%s: fields.%s is never %q; it is %s", r, r.Name, v, takes)
			}
		}
	case sla.OpLT, sla.OpLE, sla.OpGT, sla.OpGE:
		if r.Name != "reopens" {
			errs.Addf("sla", "%s: fields.%s is text, never a number to order", r, r.Name)
		}
	}
}

// refreshImpact recomputes the services the incident's CIs reach when they
// differ from before, recording the change on the command's last history
// entry.
func (s *Service) refreshImpact(ctx context.Context, inc *Incident, before []itsm.Ref) error {
	if s.impact == nil || (before != nil && slices.Equal(before, inc.d.CIs)) {
		return nil
	}
	var services []itsm.Ref
	if len(inc.d.CIs) > 0 {
		var err error
		services, err = s.impact(ctx, inc.d.Tenant, slices.Clone(inc.d.CIs))
		if err != nil {
			return fmt.Errorf("incident: impacted services: %w", err)
		}
		// The record is stored as it is and, saved by this service, not
		// checked again (share.go): check the host's answer and keep a
		// copy of its slice.
		services = slices.Clone(services)
		for k := range services {
			if err := services[k].Validate(); err != nil {
				return fmt.Errorf("incident: impacted services[%d]: %w", k, err)
			}
		}
	}
	if slices.Equal(services, inc.d.ImpactedServices) {
		return nil
	}
	if n := len(inc.d.History); n > 0 {
		h := &inc.d.History[n-1]
		h.Changes = append(h.Changes, FieldChange{Field: "impacted_services", From: refsText(inc.d.ImpactedServices), To: refsText(services)})
	}
	inc.d.ImpactedServices = services
	return nil
}
