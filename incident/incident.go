package incident

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// record marks incident IDs.
type record struct{}

// RecordKind returns itsm.KindIncident.
func (record) RecordKind() itsm.Kind { return itsm.KindIncident }

// ID identifies an incident.
type ID = itsm.ID[record]

// NewID draws a fresh incident ID from gen (see itsm.NewID for errors).
func NewID(gen itsm.IDGenerator) (ID, error) { return itsm.NewID[record](gen) }

// IDFromUUID wraps an existing UUID as an incident ID.
func IDFromUUID(u uuid.UUID) ID { return itsm.IDFromUUID[record](u) }

// ParseID parses an incident ID from its canonical UUID text; errors are
// *itsm.ValidationError naming "id".
func ParseID(s string) (ID, error) { return itsm.ParseID[record](s) }

// Override records a manual change of the derived priority.
type Override struct {
	// Priority is the priority set by hand.
	Priority itsm.Priority `json:"priority"`
	// Derived is what the matrix gave at the time.
	Derived itsm.Priority `json:"derived"`
	// Reason says why; required.
	Reason string `json:"reason"`
	// By is who overrode it.
	By itsm.ActorRef `json:"by"`
	// At is when.
	At time.Time `json:"at"`
}

// Resolution is how an incident was resolved.
type Resolution struct {
	Code  ResolutionCode `json:"code"`
	Notes string         `json:"notes"`
}

// Cancellation is why an incident was canceled.
type Cancellation struct {
	Reason CancelReason `json:"reason"`
	Notes  string       `json:"notes,omitempty"`
	// DuplicateOf is the incident this one duplicates, for CancelDuplicate.
	DuplicateOf ID `json:"duplicate_of,omitzero"`
}

// Major is the incident's place on the major-incident track.
type Major struct {
	Status MajorStatus `json:"status"`
	// Owner is the major incident manager; required once accepted.
	Owner string `json:"owner,omitempty"`
	// Reason is the latest proposal, rejection or demotion reason.
	Reason string `json:"reason,omitempty"`
	// ReviewedAt is when the post-incident review was recorded.
	ReviewedAt time.Time `json:"reviewed_at,omitzero"`
	// ReviewNotes summarise the post-incident review.
	ReviewNotes string `json:"review_notes,omitempty"`
}

// Comment is a note on an incident: a comment the caller sees, or a work
// note for the desk only.
type Comment struct {
	At   time.Time     `json:"at"`
	By   itsm.ActorRef `json:"by"`
	Text string        `json:"text"`
	// WorkNote marks an internal note the caller does not see.
	WorkNote bool `json:"work_note,omitempty"`
	// FromCaller marks a comment written by the caller.
	FromCaller bool `json:"from_caller,omitempty"`
}

// FieldChange is one field's change recorded in a history entry.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Entry is one line of an incident's history: every command that changed
// the incident's state or fields appends one. A comment (or work note) is
// recorded in Comments instead, with its instant and author, and is not
// repeated here, though it may set FirstResponseAt or resume an
// awaiting-caller hold (the resume has its entry); SLA timers advancing
// record their changes in the SLA state and its events. History and
// Comments are append-only; nothing rewrites them. ISO/IEC 20000-1
// auditors read the two together as the record of actions taken.
type Entry struct {
	// Seq is the entry's position, from 1.
	Seq int `json:"seq"`
	// At is when the command took effect.
	At time.Time `json:"at"`
	// By is who issued it.
	By itsm.ActorRef `json:"by"`
	// Command names what was done: a lifecycle action ("resolve") or another
	// command ("open", "update", "reassign", "escalate", "major.propose").
	Command string `json:"command"`
	// From and To are the states before and after; equal when the command
	// did not move the incident.
	From Status `json:"from"`
	To   Status `json:"to"`
	// Reason is the reason given, where the command takes one.
	Reason string `json:"reason,omitempty"`
	// Changes lists the fields the command changed.
	Changes []FieldChange `json:"changes,omitzero"`
}

// Data is an incident as plain data: what storage saves and loads, and what
// hosts render. Changing a Data value changes no incident; Restore turns one
// back into an Incident after validating it.
type Data struct {
	// ID identifies the incident within its tenant; Tenant is the tenant
	// it belongs to.
	ID     ID            `json:"id"`
	Tenant itsm.TenantID `json:"tenant"`
	// Number is the human-facing number ("INC0001234"), unique per tenant.
	Number Number `json:"number"`
	// Version is the stored version the record was read at: 0 for one not
	// yet stored (Repository.Create stores it as 1), and the version read
	// for an update, which the store compares and increments.
	Version int64 `json:"version"`

	// Title is required; Description, Category and Subcategory are the
	// desk's own words. Caller is who reported it (required); Channel how.
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Caller      string  `json:"caller"`
	Channel     Channel `json:"channel,omitempty"`
	Category    string  `json:"category,omitempty"`
	Subcategory string  `json:"subcategory,omitempty"`

	// Service is the affected business service and CIs the affected
	// configuration items, as references into the CMDB.
	Service itsm.Ref   `json:"service,omitzero"`
	CIs     []itsm.Ref `json:"cis,omitzero"`
	// ImpactedServices are the business services the CIs' failure reaches,
	// computed by Config.Impact when the incident opens and whenever its
	// CIs change.
	ImpactedServices []itsm.Ref `json:"impacted_services,omitzero"`

	// Impact and Urgency are as assessed; Priority is derived from them by
	// the policy's matrix, unless Override (with its reason, author and
	// instant) set it by hand.
	Impact   itsm.Impact   `json:"impact"`
	Urgency  itsm.Urgency  `json:"urgency"`
	Priority itsm.Priority `json:"priority"`
	Override *Override     `json:"override,omitempty"`

	// Group and Assignee are who works on it. Reassignments counts the
	// moves from one group to another (setting the first group is not one;
	// functional escalations are), Reopens the reopens, Escalations the
	// escalations of either kind.
	Group         string `json:"group,omitempty"`
	Assignee      string `json:"assignee,omitempty"`
	Reassignments int    `json:"reassignments"`
	Reopens       int    `json:"reopens"`
	Escalations   int    `json:"escalations"`

	// Status is the lifecycle state. HoldReason is set exactly while the
	// state is in the waiting category; Resolution while resolved or
	// closed; Cancellation once canceled.
	Status       Status        `json:"status"`
	HoldReason   HoldReason    `json:"hold_reason,omitempty"`
	Resolution   Resolution    `json:"resolution,omitzero"`
	Cancellation *Cancellation `json:"cancellation,omitempty"`

	// OpenedAt is when it was opened; FirstResponseAt when the desk first
	// responded (zero until then); ResolvedAt and ClosedAt the latest
	// resolution and closure (cleared by a reopen); UpdatedAt the instant
	// of the latest change, which no later change precedes.
	OpenedAt        time.Time `json:"opened_at"`
	FirstResponseAt time.Time `json:"first_response_at,omitzero"`
	ResolvedAt      time.Time `json:"resolved_at,omitzero"`
	ClosedAt        time.Time `json:"closed_at,omitzero"`
	UpdatedAt       time.Time `json:"updated_at"`

	// Parent is the parent incident (zero for none); Problem and Change
	// link the problem and change records.
	Parent  ID       `json:"parent,omitzero"`
	Problem itsm.Ref `json:"problem,omitzero"`
	Change  itsm.Ref `json:"change,omitzero"`

	// Custom holds a desk's own fields, by name; SLA conditions read them
	// as "fields.custom.<name>".
	Custom map[string]string `json:"custom,omitzero"`
	// Major is the incident's place on the major-incident track.
	Major Major `json:"major"`
	// Comments are the comments and work notes, oldest first; History the
	// append-only record of every change, oldest first.
	Comments []Comment `json:"comments,omitzero"`
	History  []Entry   `json:"history"`

	// SLA holds the incident's SLA, OLA and UC timers, every cycle of every
	// target, advanced by the service on each command.
	SLA sla.State `json:"sla,omitzero"`

	// tail, when set, says which slots of History's array beyond its
	// length are still free for this record's successors (see share.go);
	// nil means none may be written in place.
	tail *historyTail
}

// Clone returns a deep copy of d.
func (d Data) Clone() Data {
	d.CIs = slices.Clone(d.CIs)
	d.ImpactedServices = slices.Clone(d.ImpactedServices)
	if d.Override != nil {
		o := *d.Override
		d.Override = &o
	}
	if d.Cancellation != nil {
		c := *d.Cancellation
		d.Cancellation = &c
	}
	d.Custom = maps.Clone(d.Custom)
	d.Comments = slices.Clone(d.Comments)
	d.History = slices.Clone(d.History)
	d.tail = nil
	// One backing array for every entry's changes: a clone costs two
	// allocations however long the history is.
	n := 0
	for i := range d.History {
		n += len(d.History[i].Changes)
	}
	changes := make([]FieldChange, 0, n)
	for i := range d.History {
		h := &d.History[i]
		if h.Changes != nil {
			start := len(changes)
			changes = append(changes, h.Changes...)
			h.Changes = changes[start:len(changes):len(changes)]
		}
	}
	d.SLA = d.SLA.Clone()
	return d
}

// SLABreached reports whether any SLA timer of the incident has breached.
func (d *Data) SLABreached() bool {
	for i := range d.SLA.Timers {
		if d.SLA.Timers[i].Breached {
			return true
		}
	}
	return false
}

// SLANextAt returns the earliest instant at which one of the incident's live
// timers reaches a threshold or breaches, and false when none will: the
// instant a host's scheduler should call Service.AdvanceSLA.
func (d *Data) SLANextAt() (time.Time, bool) {
	var next time.Time
	for i := range d.SLA.Timers {
		t := &d.SLA.Timers[i]
		if !t.Stage.Live() || t.NextAt.IsZero() {
			continue
		}
		if next.IsZero() || t.NextAt.Before(next) {
			next = t.NextAt
		}
	}
	return next, !next.IsZero()
}

// Incident is the incident aggregate. Its status changes only through its
// lifecycle, by the commands of Service; read it through its methods. An
// Incident is a value owned by one goroutine at a time; Service hands out
// copies.
type Incident struct {
	// d is the record. A store that adopts a saved record (see share.go)
	// keeps d itself, so an Incident holds it through a pointer: a host
	// that overwrites its Incident value replaces its own pointer, never
	// the stored record.
	d *Data
}

// newIncident returns an Incident holding a copy of *d, both in one
// allocation. (d is a pointer so that the 800-byte record is copied once,
// into place.)
func newIncident(d *Data) *Incident {
	b := &struct {
		inc Incident
		d   Data
	}{d: *d}
	b.inc.d = &b.d
	return &b.inc
}

// Data returns a deep copy of the incident as plain data.
func (i *Incident) Data() Data { return i.d.Clone() }

// ID returns the incident's ID.
func (i *Incident) ID() ID { return i.d.ID }

// Tenant returns the tenant the incident belongs to.
func (i *Incident) Tenant() itsm.TenantID { return i.d.Tenant }

// Number returns the human-readable number, e.g. INC0001234.
func (i *Incident) Number() Number { return i.d.Number }

// Version returns the stored version the incident was read at (0 before its
// first save).
func (i *Incident) Version() int64 { return i.d.Version }

// Status returns the lifecycle state.
func (i *Incident) Status() Status { return i.d.Status }

// Priority returns the effective priority (the override when there is one).
func (i *Incident) Priority() itsm.Priority { return i.d.Priority }

// Major returns the major-incident track.
func (i *Incident) Major() Major { return i.d.Major }

// IsMajor reports whether the incident is an accepted major incident.
func (i *Incident) IsMajor() bool { return i.d.Major.Status == MajorAccepted }

// History returns a copy of the history, oldest first.
func (i *Incident) History() []Entry {
	h := slices.Clone(i.d.History)
	for k := range h {
		h[k].Changes = slices.Clone(h[k].Changes)
	}
	return h
}

// Parent returns the parent incident's ID, or the zero ID.
func (i *Incident) Parent() ID { return i.d.Parent }

// Title returns the one-line summary.
func (i *Incident) Title() string { return i.d.Title }

// Caller returns who reported the incident.
func (i *Incident) Caller() string { return i.d.Caller }

// Impact returns the impact.
func (i *Incident) Impact() itsm.Impact { return i.d.Impact }

// Urgency returns the urgency.
func (i *Incident) Urgency() itsm.Urgency { return i.d.Urgency }

// Group returns the assignment group.
func (i *Incident) Group() string { return i.d.Group }

// Assignee returns the assignee.
func (i *Incident) Assignee() string { return i.d.Assignee }

// HoldReason returns what an incident on hold waits for, or "".
func (i *Incident) HoldReason() HoldReason { return i.d.HoldReason }

// Resolution returns how the incident was resolved (zero unless resolved or
// closed).
func (i *Incident) Resolution() Resolution { return i.d.Resolution }

// OpenedAt returns when the incident was opened.
func (i *Incident) OpenedAt() time.Time { return i.d.OpenedAt }

// ResolvedAt returns when the incident was last resolved, or the zero time.
func (i *Incident) ResolvedAt() time.Time { return i.d.ResolvedAt }

// ImpactedServices returns the business services the incident's CIs reach
// (see Config.Impact).
func (i *Incident) ImpactedServices() []itsm.Ref { return slices.Clone(i.d.ImpactedServices) }

// SLA returns a copy of the incident's SLA timers.
func (i *Incident) SLA() sla.State { return i.d.SLA.Clone() }

// MarshalJSON writes the incident as its Data.
func (i *Incident) MarshalJSON() ([]byte, error) { return json.Marshal(i.d) }

// Clone returns an independent copy.
func (i *Incident) Clone() *Incident {
	c := i.d.Clone()
	return newIncident(&c)
}

// lastAt is the instant of the latest history entry.
func (i *Incident) lastAt() time.Time {
	if n := len(i.d.History); n > 0 {
		return i.d.History[n-1].At
	}
	return time.Time{}
}

// stamp normalises at and keeps the incident's instants monotonic: an
// instant earlier than the last change (a host's clocks disagreeing by a
// little) is taken as the last change's instant. The last change is the
// later of the last history entry and UpdatedAt, since a comment moves
// UpdatedAt without an entry; every command takes its instant from here,
// so comments, history entries, UpdatedAt and the events made of them
// never go back.
func (i *Incident) stamp(at time.Time) time.Time {
	at = itsm.Normalize(at)
	last := i.lastAt()
	if u := i.d.UpdatedAt; u.After(last) {
		// Restore does not check UpdatedAt: normalise what it may have let in.
		last = itsm.Normalize(u)
	}
	if at.Before(last) {
		return last
	}
	return at
}

// record appends a history entry and bumps UpdatedAt. It writes every
// field of the new slot: newEntry's slot may be one a copy left as it was.
func (i *Incident) record(at time.Time, by *itsm.Actor, command string, from Status, reason string, changes []FieldChange) {
	n := len(i.d.History)
	h := i.d.newEntry()
	h.Seq, h.At = n+1, at
	h.By = itsm.ActorRef{ID: by.ID, Name: by.Name, Kind: by.Kind}
	h.Command, h.From, h.To, h.Reason, h.Changes = command, from, i.d.Status, reason, changes
	i.d.UpdatedAt = at
}
