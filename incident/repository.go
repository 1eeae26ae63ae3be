package incident

import (
	"context"
	"slices"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// Repository is what the incident service needs from storage. Adapters
// (storage/memory, storage/postgres) implement it and prove it with the
// conformance suite in storage/storagetest.
//
// Every method is scoped by tenant: a record of another tenant is
// itsm.ErrNotFound, indistinguishable from one that does not exist. Methods
// honour ctx's cancellation and deadline and return ctx.Err() (possibly
// wrapped) when it ends first, having written nothing. Data passed in and
// handed out is never shared with the store: adapters copy it, so the
// caller owns what Get, GetByNumber and List return, lists and maps
// included (the service changes a loaded record's SLA timers in place
// before saving it), and may change what it passed to Create or Update
// afterwards. Strings may be shared: they are immutable. Instants may come
// back in UTC and without a monotonic reading.
type Repository interface {
	// Create stores a new incident whose Version is 0; afterwards the stored
	// version is 1. It returns itsm.ErrAlreadyExists when the tenant already
	// has an incident with that ID or number.
	Create(ctx context.Context, d Data) error
	// Get returns the incident with the given ID, or itsm.ErrNotFound.
	Get(ctx context.Context, tenant itsm.TenantID, id ID) (Data, error)
	// GetByNumber returns the incident with the given number, or
	// itsm.ErrNotFound.
	GetByNumber(ctx context.Context, tenant itsm.TenantID, number Number) (Data, error)
	// Update replaces the stored incident d.ID when its stored version is
	// still d.Version, and stores it with version d.Version+1. It returns
	// itsm.ErrConflict, writing nothing, when the stored version differs,
	// and itsm.ErrNotFound when there is no such incident. Changing the
	// number is itsm.ErrInvalid.
	Update(ctx context.Context, d Data) error
	// List returns the tenant's incidents that match f, ordered by ID
	// (creation order, since IDs are UUIDv7), starting after p.After, at
	// most p.Limit of them. Pages never skip or repeat an incident that
	// exists throughout the listing, whatever is written meanwhile. A bad
	// tenant, page (Page.Validate) or filter (Filter.Validate) is a
	// *itsm.ValidationError.
	List(ctx context.Context, tenant itsm.TenantID, f Filter, p Page) (ListPage, error)
}

// Filter selects incidents. Zero fields do not filter; non-empty slices
// match any of their values; all set fields must match. Text matches
// exactly (case and spaces included). Instants compare as instants,
// whatever their zone: a bound named "From" or "Since" is inclusive (at or
// after), one named "Before" exclusive (strictly before), except
// SLANextBefore, which says otherwise. A bound need not lie in the years
// itsm.InstantInRange accepts: it is compared as it is, and since every
// stored incident's instants lie in those years (or are zero), a bound
// beyond them selects all or nothing. A range whose start is not before
// its end (OpenedFrom at or after OpenedBefore) matches nothing; it is not
// an error.
type Filter struct {
	Statuses   []Status        `json:"statuses,omitempty"`
	Priorities []itsm.Priority `json:"priorities,omitempty"`
	Group      string          `json:"group,omitempty"`
	Assignee   string          `json:"assignee,omitempty"`
	// Caller selects the incidents reported by one caller ("my tickets").
	Caller string `json:"caller,omitempty"`
	// Category selects the incidents of one category (Subcategory is not
	// read).
	Category string `json:"category,omitempty"`
	// Service selects the incidents whose affected service (Data.Service)
	// is this one: same kind and ID. ImpactedServices are not read. A
	// Service that is set must be a valid Ref (see Validate).
	Service itsm.Ref `json:"service,omitzero"`
	// OpenedFrom selects incidents opened at or after the instant;
	// OpenedBefore those opened strictly before it. Together they select
	// the half-open period [OpenedFrom, OpenedBefore): "this month's
	// incidents" is OpenedFrom the first of the month and OpenedBefore the
	// first of the next, and consecutive periods neither overlap nor leave
	// a gap.
	OpenedFrom   time.Time `json:"opened_from,omitzero"`
	OpenedBefore time.Time `json:"opened_before,omitzero"`
	// UpdatedSince selects incidents whose UpdatedAt is at or after the
	// instant: what an incremental export polls. See the package
	// documentation ("Incremental export") for what it does and does not
	// catch.
	UpdatedSince time.Time `json:"updated_since,omitzero"`
	// Parent selects the children of one incident.
	Parent ID `json:"parent,omitzero"`
	// Major selects by major-incident status.
	Major []MajorStatus `json:"major,omitempty"`
	// ResolvedBefore selects incidents resolved strictly before the instant.
	ResolvedBefore time.Time `json:"resolved_before,omitzero"`
	// SLAStages selects incidents with at least one SLA timer in one of the
	// stages.
	SLAStages []sla.Stage `json:"sla_stages,omitempty"`
	// SLABreached, when set, selects incidents with (true) or without
	// (false) a breached SLA timer.
	SLABreached *bool `json:"sla_breached,omitempty"`
	// SLANextBefore selects incidents with a live SLA timer whose next
	// threshold or breach falls at or before the instant: what a scheduler
	// must advance.
	SLANextBefore time.Time `json:"sla_next_before,omitzero"`
}

// Validate returns a *itsm.ValidationError naming "filter.service.kind" or
// "filter.service.id" when Service is set but is not a valid Ref (a kind
// without an ID, or an ID without a valid kind): the incident service
// never stores such a reference, so the filter is a mistake that would
// silently match nothing. Every other field is accepted as it is: text no
// record holds and empty periods simply match nothing. Repositories call it
// from List.
func (f Filter) Validate() error {
	if f.Service.IsZero() {
		return nil
	}
	var errs itsm.FieldErrors
	errs.Merge("filter.service", f.Service.Validate())
	return errs.Err()
}

// Matches reports whether d passes the filter; adapters without a query
// language of their own use it (or MatchesSummary), and the conformance
// suite checks every adapter against it.
func (f Filter) Matches(d *Data) bool {
	s := d.Summary()
	return f.MatchesSummary(&s)
}

// MatchesSummary reports whether the incident s summarises passes the
// filter: the same answer as Matches on the whole record.
func (f Filter) MatchesSummary(s *Summary) bool {
	if len(f.Statuses) > 0 && !contains(f.Statuses, s.Status) {
		return false
	}
	if len(f.Priorities) > 0 && !contains(f.Priorities, s.Priority) {
		return false
	}
	if f.Group != "" && s.Group != f.Group {
		return false
	}
	if f.Assignee != "" && s.Assignee != f.Assignee {
		return false
	}
	if !f.Parent.IsZero() && s.Parent != f.Parent {
		return false
	}
	if len(f.Major) > 0 && !contains(f.Major, s.Major) {
		return false
	}
	if f.Caller != "" && s.Caller != f.Caller {
		return false
	}
	if f.Category != "" && s.Category != f.Category {
		return false
	}
	if !f.Service.IsZero() && s.Service != f.Service {
		return false
	}
	if !f.OpenedFrom.IsZero() && s.OpenedAt.Before(f.OpenedFrom) {
		return false
	}
	if !f.OpenedBefore.IsZero() && !s.OpenedAt.Before(f.OpenedBefore) {
		return false
	}
	if !f.UpdatedSince.IsZero() && s.UpdatedAt.Before(f.UpdatedSince) {
		return false
	}
	if !f.ResolvedBefore.IsZero() && (s.ResolvedAt.IsZero() || !s.ResolvedAt.Before(f.ResolvedBefore)) {
		return false
	}
	if len(f.SLAStages) > 0 && !slices.ContainsFunc(f.SLAStages, s.HasSLAStage) {
		return false
	}
	if f.SLABreached != nil && s.SLABreached != *f.SLABreached {
		return false
	}
	if !f.SLANextBefore.IsZero() && (s.SLANextAt.IsZero() || s.SLANextAt.After(f.SLANextBefore)) {
		return false
	}
	return true
}

// Summary is the part of an incident that identifies it and that a Filter
// reads: what a store without a query language keeps beside a record
// stored in encoded form, to list and filter without decoding it.
type Summary struct {
	ID       ID
	Number   Number
	Version  int64
	Parent   ID
	Status   Status
	Priority itsm.Priority
	Group    string
	Assignee string
	Major    MajorStatus
	Caller   string
	Category string
	Service  itsm.Ref
	// OpenedAt, UpdatedAt and ResolvedAt are Data's; ResolvedAt is zero
	// when the incident is not resolved.
	OpenedAt   time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time
	// SLAStages has bit 1<<s set for each stage s that one of the SLA
	// timers is in (see HasSLAStage).
	SLAStages uint16
	// SLABreached is Data.SLABreached.
	SLABreached bool
	// SLANextAt is Data.SLANextAt's instant, zero when nothing is pending.
	SLANextAt time.Time
}

// HasSLAStage reports whether one of the incident's SLA timers is in stage
// st.
func (s *Summary) HasSLAStage(st sla.Stage) bool {
	return st < 16 && s.SLAStages&(1<<st) != 0
}

// Summary returns d's summary. The store calls it on every write, so the
// SLA fields (the stages, SLABreached and SLANextAt's instant) come from
// one pass over the timers, written straight into the result.
func (d *Data) Summary() (s Summary) {
	s.ID, s.Number, s.Version, s.Parent = d.ID, d.Number, d.Version, d.Parent
	s.Status, s.Priority, s.Group, s.Assignee = d.Status, d.Priority, d.Group, d.Assignee
	s.Major, s.Caller, s.Category, s.Service = d.Major.Status, d.Caller, d.Category, d.Service
	s.OpenedAt, s.UpdatedAt, s.ResolvedAt = d.OpenedAt, d.UpdatedAt, d.ResolvedAt
	for i := range d.SLA.Timers {
		t := &d.SLA.Timers[i]
		if t.Stage < 16 {
			s.SLAStages |= 1 << t.Stage
		}
		if t.Breached {
			s.SLABreached = true
		}
		if t.Stage.Live() && !t.NextAt.IsZero() && (s.SLANextAt.IsZero() || t.NextAt.Before(s.SLANextAt)) {
			s.SLANextAt = t.NextAt
		}
	}
	return s
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Page asks for one page of a listing.
type Page struct {
	// After is the cursor: the ID of the last incident of the previous page;
	// the zero ID starts at the beginning.
	After ID `json:"after,omitzero"`
	// Limit is the most incidents to return: 1 to MaxPageLimit; 0 means
	// DefaultPageLimit.
	Limit int `json:"limit,omitempty"`
}

// Page limits.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Validate returns a *itsm.ValidationError naming "page.limit" when the limit
// is out of range.
func (p Page) Validate() error {
	if p.Limit < 0 || p.Limit > MaxPageLimit {
		return itsm.NewValidationError("page.limit", "must be between 0 and 1000")
	}
	return nil
}

// EffectiveLimit returns the limit to apply: Limit, or DefaultPageLimit when
// Limit is 0.
func (p Page) EffectiveLimit() int {
	if p.Limit == 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

// ListPage is one page of a listing.
type ListPage struct {
	Items []Data `json:"items"`
	// Next is the cursor for the following page; the zero ID when this page
	// is the last.
	Next ID `json:"next,omitzero"`
}
