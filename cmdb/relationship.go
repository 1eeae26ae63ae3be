package cmdb

import (
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Relationship joins two CIs of one tenant with a relationship type. It reads
// From, type's parent name, To: "app01 runs on vm01".
type Relationship struct {
	// ID identifies the relationship; required.
	ID RelationshipID `json:"id"`
	// Tenant owns it; both CIs belong to the same tenant.
	Tenant itsm.TenantID `json:"tenant"`
	// Type names a relationship type of the registry.
	Type RelTypeName `json:"type"`
	// From and To are the two CIs; they differ.
	From ID `json:"from"`
	To   ID `json:"to"`
	// Created is a normalised instant.
	Created time.Time `json:"created"`
}

// ValidateRelationship checks rel on its own (not its ends' classes, which
// need the CIs: see CheckPair and Graph.AddRelationship). It returns a
// *itsm.ValidationError listing every problem: a zero ID, a bad tenant, an
// unknown type, a zero or identical From and To, a zero or unnormalised
// Created.
func (r *Registry) ValidateRelationship(rel Relationship) error {
	var errs itsm.FieldErrors
	if rel.ID.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	errs.Merge("", rel.Tenant.Validate())
	if _, ok := r.relByNm[rel.Type]; !ok {
		errs.Addf("type", "relationship type %q does not exist", clip(string(rel.Type)))
	}
	if rel.From.IsZero() {
		errs.Add("from", "must not be the zero ID")
	}
	if rel.To.IsZero() {
		errs.Add("to", "must not be the zero ID")
	} else if rel.To == rel.From {
		errs.Add("to", "must differ from from: a CI cannot relate to itself")
	}
	if rel.Created.IsZero() || !itsm.IsNormalized(rel.Created) {
		errs.Add("created", "must be a UTC instant truncated to the microsecond")
	}
	return errs.Err()
}

// CheckPair returns a *itsm.ValidationError naming "type" when relationship
// type t does not allow a CI of class from to relate to a CI of class to.
func (r *Registry) CheckPair(t RelTypeName, from, to ClassName) error {
	if !r.Allows(t, from, to) {
		return itsm.NewValidationError("type", "relationship type "+string(t)+" does not allow "+string(from)+" → "+string(to))
	}
	return nil
}

// Relate makes a relationship of type t from one CI to another, drawing its
// ID from gen and stamping it from clock; it checks the relationship on its
// own and the class pair. Errors are the generator's or a
// *itsm.ValidationError.
func (r *Registry) Relate(gen itsm.IDGenerator, clock itsm.Clock, t RelTypeName, from, to CI) (Relationship, error) {
	id, err := NewRelationshipID(gen)
	if err != nil {
		return Relationship{}, err
	}
	rel := Relationship{ID: id, Tenant: from.Tenant, Type: t, From: from.ID, To: to.ID, Created: clock.Now()}
	var errs itsm.FieldErrors
	errs.Merge("", r.ValidateRelationship(rel))
	if from.Tenant != to.Tenant {
		errs.Add("tenant", "both CIs must belong to the same tenant")
	}
	if _, ok := r.relByNm[t]; ok {
		errs.Merge("", r.CheckPair(t, from.Class, to.Class))
	}
	if err := errs.Err(); err != nil {
		return Relationship{}, err
	}
	return rel, nil
}
