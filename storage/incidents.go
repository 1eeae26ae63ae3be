package storage

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
)

// IncidentConfig returns an incident.Config whose Repository and Numbers
// come from s; the caller adds the clock, ID generator, policy, SLA engine
// and authorizer. When s offers transactions and an outbox, the repository
// also implements incident.Atomic (the store's own implementation when its
// repository has one), so each command's write and its events commit
// together. A store without both still works, but its outbox (if
// any) receives nothing: the events are only returned to the caller.
//
// It returns an error wrapping errors.ErrUnsupported when s has no
// Sequences capability, which incident numbers need.
func IncidentConfig(s Store) (incident.Config, error) {
	seq, err := Require[Sequences](s)
	if err != nil {
		return incident.Config{}, fmt.Errorf("storage: incident numbers: %w", err)
	}
	var repo incident.Repository = s.Incidents()
	tx, isTx := s.(Transactor)
	_, hasOutbox := s.(Outbox)
	native := false
	if n, ok := repo.(NativeAtomic); ok {
		native = n.NativeAtomicFor(s)
	}
	if !native && isTx && hasOutbox {
		repo = atomicIncidents{Repository: repo, tx: tx}
	}
	return incident.Config{Repository: repo, Numbers: seq}, nil
}

// NativeAtomic is implemented by an incident repository that is itself an
// incident.Atomic running on its store's transactions and outbox.
// IncidentConfig uses such a repository as it is, rather than bridging
// through the store's Transactor and Outbox, only when NativeAtomicFor
// reports that those are s's own: a host's type that embeds a store to
// decorate its InTx or Append gets the bridge, and with it its decorations.
type NativeAtomic interface {
	incident.Atomic
	// NativeAtomicFor reports whether the repository's Atomically commits
	// through s's own transactions and outbox (s is the store it belongs
	// to, not a type wrapping it).
	NativeAtomicFor(s Store) bool
}

// atomicIncidents bridges a store's transactions and outbox to
// incident.Atomic.
type atomicIncidents struct {
	incident.Repository
	tx Transactor
}

// Atomically runs fn in a transaction of the store.
func (a atomicIncidents) Atomically(ctx context.Context, fn func(ctx context.Context, tx incident.Tx) error) error {
	return a.tx.InTx(ctx, func(ctx context.Context, s Store) error {
		ob, ok := s.(Outbox)
		if !ok {
			return fmt.Errorf("storage: the transaction's store %T has no outbox", s)
		}
		return fn(ctx, incidentTx{Repository: s.Incidents(), outbox: ob})
	})
}

// incidentTx is the incident.Tx handed to incident.Atomic functions.
type incidentTx struct {
	incident.Repository
	outbox Outbox
}

// Append adds events to the transaction's outbox.
func (t incidentTx) Append(ctx context.Context, events ...itsm.Event) error {
	return t.outbox.Append(ctx, events...)
}

// CheckIncidentWrite adds to errs what an adapter relies on in an incident
// it is asked to store: an ID, a valid tenant, a number, a priority that
// fits in 32 bits (what a store's priority column holds; a priority
// matrix's levels always do), instants that are zero or lie in the years
// itsm.InstantInRange accepts (the incident's own, its history's, its
// comments', its override's and its review's),
// and version 0 for a creation (the store sets 1) or the version read (1
// or more) for an update. The service validates everything else before
// saving; adapters add what they themselves cannot hold.
func CheckIncidentWrite(errs *itsm.FieldErrors, d *incident.Data, creating bool) {
	if d.ID.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	errs.Merge("", d.Tenant.Validate())
	if d.Number == "" {
		errs.Add("number", "must not be empty")
	}
	if d.Priority < math.MinInt32 || d.Priority > math.MaxInt32 {
		errs.Addf("priority", "is %d; must fit in 32 bits", int(d.Priority))
	}
	checkIncidentInstants(errs, d)
	switch {
	case creating && d.Version != 0:
		errs.Addf("version", "is %d; a new incident has version 0 (the store sets 1)", d.Version)
	case !creating && d.Version < 1:
		errs.Addf("version", "is %d; an update carries the version it read (1 or more)", d.Version)
	}
}

// checkIncidentInstants adds to errs each instant of d that is set and lies
// outside the years itsm.InstantInRange accepts. Every store refuses them
// alike, though only some could not hold them (PostgreSQL's JSON of a
// time.Time ends in year 9999): an incident read back from one store must
// be one the other would take. The service never produces them (its events
// would be refused first); a host's own Data or a replay's can. The SLA
// state's instants are the sla package's to bound (its engine refuses
// instants outside the same years).
func checkIncidentInstants(errs *itsm.FieldErrors, d *incident.Data) {
	check := func(field string, t time.Time) {
		if !storableInstant(t) {
			errs.Add(field, itsm.InstantRangeReason)
		}
	}
	check("opened_at", d.OpenedAt)
	check("first_response_at", d.FirstResponseAt)
	check("resolved_at", d.ResolvedAt)
	check("closed_at", d.ClosedAt)
	check("updated_at", d.UpdatedAt)
	if d.Override != nil {
		check("override.at", d.Override.At)
	}
	check("major.reviewed_at", d.Major.ReviewedAt)
	// The paths of list elements are written only for an instant refused.
	for k := range d.History {
		if !storableInstant(d.History[k].At) {
			errs.Add(fmt.Sprintf("history[%d].at", k), itsm.InstantRangeReason)
		}
	}
	for k := range d.Comments {
		if !storableInstant(d.Comments[k].At) {
			errs.Add(fmt.Sprintf("comments[%d].at", k), itsm.InstantRangeReason)
		}
	}
}

// storableInstant reports whether t is the zero time (an instant not set)
// or lies in the years itsm.InstantInRange accepts.
func storableInstant(t time.Time) bool {
	return itsm.InstantInRange(t) || t.IsZero()
}
