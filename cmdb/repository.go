package cmdb

import (
	"context"
	"slices"

	"github.com/itsmkit/itsmkit/itsm"
)

// Repository is what the CMDB needs from storage: CI records and the
// relationships between them. Adapters (storage/memory, later
// storage/postgres) implement it, bound to a Registry whose relationship
// types they enforce, and prove it with the conformance suite in
// storage/storagetest.
//
// Every method is scoped by tenant: a record of another tenant is
// itsm.ErrNotFound, indistinguishable from one that does not exist. Methods
// honour ctx's cancellation and deadline and return ctx.Err() (possibly
// wrapped) when it ends first, having written nothing. Data passed in and
// handed out is never shared with the store. Bad input is a
// *itsm.ValidationError naming the field, and writes nothing.
//
// A native key (a source's name and its NativeID in Record.Sources,
// whether the source is present or gone) is carried by at most one CI of a
// tenant: CreateCI and UpdateCI refuse a write that would give a CI a key
// another CI carries, checked in the same atomic step as the write, so
// that of concurrent writers of one key exactly one succeeds. Reconcile
// relies on it: two runs that both plan to create the CI of a new item
// cannot both succeed, and the loser re-plans and finds the winner's CI.
type Repository interface {
	// CreateCI stores a new record whose Version is 0; afterwards the
	// stored version is 1. The record must pass Registry.ValidateRecord.
	// It returns itsm.ErrAlreadyExists when the tenant already has a CI
	// with that ID, or a CI carrying one of the record's native keys.
	CreateCI(ctx context.Context, r Record) error
	// GetCI returns the record with the given ID, or itsm.ErrNotFound.
	GetCI(ctx context.Context, tenant itsm.TenantID, id ID) (Record, error)
	// UpdateCI replaces the stored record r.ID when its stored version is
	// still r.Version, and stores it with version r.Version+1. It returns
	// itsm.ErrConflict, writing nothing, when the stored version differs
	// or r carries a native key the stored record does not and another CI
	// of the tenant carries (keys the stored record carries already are
	// never refused), and itsm.ErrNotFound when there is no such CI. A *itsm.ValidationError
	// refuses a changed class ("class"), and a DuplicateOf that would make
	// a chain: naming a CI that does not exist or is itself a duplicate, or
	// set on a CI that other duplicates point to ("duplicate_of").
	UpdateCI(ctx context.Context, r Record) error
	// DeleteCI deletes the CI id at version, following the OnDelete
	// behaviour of each of its relationships' types: detach removes the
	// relationship; cascade also deletes the dependent CI at the other end
	// (recursively, whatever its version); restrict refuses with a
	// *itsm.ValidationError naming "id" while the CI is the independent end
	// of such a relationship. A relationship of a type the registry does
	// not know restricts too. Records left pointing at a deleted CI with
	// DuplicateOf lose the pointer. It returns every deleted CI, id first,
	// then cascaded ones in ascending order; itsm.ErrNotFound when id does
	// not exist; itsm.ErrConflict, deleting nothing, when the stored
	// version differs.
	DeleteCI(ctx context.Context, tenant itsm.TenantID, id ID, version int64) ([]ID, error)
	// ListCIs returns the tenant's records that match f, ordered by ID,
	// starting after p.After, at most p.Limit of them. Pages never skip or
	// repeat a record that exists and matches throughout the listing.
	ListCIs(ctx context.Context, tenant itsm.TenantID, f Filter, p Page) (CIPage, error)

	// CreateRelationship stores a relationship. It must pass
	// Registry.ValidateRelationship, both ends must exist in its tenant (a
	// dangling end is a *itsm.ValidationError naming "from" or "to"), the
	// type must allow the ends' classes ("type"), the type's cardinality
	// must hold ("from" or "to") and a hosting or containment type must not
	// close a cycle ("to"). It returns itsm.ErrAlreadyExists when the
	// tenant has a relationship with that ID, or of that type between the
	// same two CIs.
	CreateRelationship(ctx context.Context, rel Relationship) error
	// GetRelationship returns the relationship with the given ID, or
	// itsm.ErrNotFound.
	GetRelationship(ctx context.Context, tenant itsm.TenantID, id RelationshipID) (Relationship, error)
	// DeleteRelationship deletes a relationship, or returns
	// itsm.ErrNotFound.
	DeleteRelationship(ctx context.Context, tenant itsm.TenantID, id RelationshipID) error
	// RelationshipsOf returns every relationship with ci at either end,
	// ordered by ID; none (and no error) for a CI that does not exist.
	RelationshipsOf(ctx context.Context, tenant itsm.TenantID, ci ID) ([]Relationship, error)
	// ListRelationships returns the tenant's relationships ordered by ID,
	// starting after p.After, at most p.Limit of them, with the guarantees
	// of ListCIs.
	ListRelationships(ctx context.Context, tenant itsm.TenantID, p RelationshipPage) (RelationshipList, error)
}

// Atomic is implemented by repositories that can run several writes in one
// transaction: all of fn's writes through repo commit together, or none
// does. Plan.Apply uses it when the repository offers it.
type Atomic interface {
	// Atomically runs fn in a transaction; fn's error, or the commit's,
	// is returned and rolls everything back.
	Atomically(ctx context.Context, fn func(ctx context.Context, repo Repository) error) error
}

// Filter selects CI records. Zero fields do not filter; non-empty slices
// match any of their values; all set fields must match.
type Filter struct {
	// Classes selects CIs of exactly these classes.
	Classes []ClassName `json:"classes,omitempty"`
	// Statuses selects CIs in these statuses.
	Statuses []Status `json:"statuses,omitempty"`
	// Source selects CIs the source has reported (present or gone).
	Source SourceName `json:"source,omitempty"`
	// Duplicates, when set, selects duplicates (true) or originals (false).
	Duplicates *bool `json:"duplicates,omitempty"`
}

// Matches reports whether r passes the filter; adapters without a query
// language of their own use it, and the conformance suite checks every
// adapter against it.
func (f Filter) Matches(r *Record) bool {
	if len(f.Classes) > 0 && !slices.Contains(f.Classes, r.Class) {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, r.Status) {
		return false
	}
	if f.Source != "" {
		if _, ok := r.Sources[f.Source]; !ok {
			return false
		}
	}
	if f.Duplicates != nil && r.DuplicateOf.IsZero() == *f.Duplicates {
		return false
	}
	return true
}

// Page limits of CMDB listings.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Page asks for one page of a CI listing.
type Page struct {
	// After is the cursor: the last ID of the previous page; the zero ID
	// starts at the beginning.
	After ID `json:"after,omitzero"`
	// Limit is the most records to return: 1 to MaxPageLimit; 0 means
	// DefaultPageLimit.
	Limit int `json:"limit,omitempty"`
}

// Validate returns a *itsm.ValidationError naming "page.limit" when the
// limit is out of range.
func (p Page) Validate() error { return checkLimit(p.Limit) }

// EffectiveLimit returns the limit to apply.
func (p Page) EffectiveLimit() int { return effectiveLimit(p.Limit) }

// CIPage is one page of a CI listing.
type CIPage struct {
	Items []Record `json:"items"`
	// Next is the cursor for the following page; the zero ID when this
	// page is the last.
	Next ID `json:"next,omitzero"`
}

// RelationshipPage asks for one page of a relationship listing.
type RelationshipPage struct {
	// After is the cursor: the last ID of the previous page.
	After RelationshipID `json:"after,omitzero"`
	// Limit is as for Page.
	Limit int `json:"limit,omitempty"`
}

// Validate returns a *itsm.ValidationError naming "page.limit" when the
// limit is out of range.
func (p RelationshipPage) Validate() error { return checkLimit(p.Limit) }

// EffectiveLimit returns the limit to apply.
func (p RelationshipPage) EffectiveLimit() int { return effectiveLimit(p.Limit) }

// RelationshipList is one page of a relationship listing.
type RelationshipList struct {
	Items []Relationship `json:"items"`
	// Next is the cursor for the following page; the zero ID when this
	// page is the last.
	Next RelationshipID `json:"next,omitzero"`
}

func checkLimit(limit int) error {
	if limit < 0 || limit > MaxPageLimit {
		return itsm.NewValidationError("page.limit", "must be between 0 and 1000")
	}
	return nil
}

func effectiveLimit(limit int) int {
	if limit == 0 {
		return DefaultPageLimit
	}
	return limit
}
