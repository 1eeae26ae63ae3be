package cmdb

import (
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// Status is a CI's operational status.
type Status string

// The operational statuses.
const (
	// StatusPlanned: ordered or being built, not yet serving. Impact
	// analysis treats it as absent.
	StatusPlanned Status = "planned"
	// StatusInUse: serving. Only CIs in use carry impact onwards.
	StatusInUse Status = "in_use"
	// StatusInMaintenance: under planned work. Impact analysis reports it
	// when reached but does not propagate through it, and counts it as down
	// in redundancy groups.
	StatusInMaintenance Status = "in_maintenance"
	// StatusRetired: no longer serving. Impact analysis treats it as absent.
	StatusRetired Status = "retired"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPlanned, StatusInUse, StatusInMaintenance, StatusRetired:
		return true
	}
	return false
}

// Limits on CI text.
const (
	MaxCINameLen   = 255
	MaxPartyLen    = 256
	MaxAttrTextLen = 4096
)

// CI is a configuration item: a record of something that must be managed to
// deliver a service. Its attributes are typed and validated against its
// class (Registry.ValidateCI). CI is plain data: what storage saves and
// what the graph indexes.
type CI struct {
	// ID identifies the CI; required.
	ID ID `json:"id"`
	// Tenant owns the CI.
	Tenant itsm.TenantID `json:"tenant"`
	// Class is a concrete (not abstract) class of the registry.
	Class ClassName `json:"class"`
	// Name is how people call it; 1 to MaxCINameLen bytes of UTF-8.
	Name string `json:"name"`
	// Status is the operational status.
	Status Status `json:"status"`
	// Owner is who is accountable for the CI (an actor ID of the host); optional.
	Owner string `json:"owner,omitempty"`
	// SupportGroup is the group that supports it; optional.
	SupportGroup string `json:"support_group,omitempty"`
	// Attributes holds the class's attribute values by name.
	Attributes map[string]Value `json:"attributes,omitzero"`
	// Created and Updated are normalised instants.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Version counts saved changes, for optimistic concurrency; from 0.
	Version int64 `json:"version"`
}

// Clone returns a deep copy of c.
func (c CI) Clone() CI {
	c.Attributes = maps.Clone(c.Attributes)
	return c
}

// Attr returns the value of attribute name and whether it is set.
func (c CI) Attr(name string) (Value, bool) {
	v, ok := c.Attributes[name]
	return v, ok
}

// MissingRecommended lists the recommended attributes of c's class that c
// lacks, in schema order; nil for an unknown class.
func (r *Registry) MissingRecommended(c CI) []string {
	k, ok := r.byName[c.Class]
	if !ok {
		return nil
	}
	var out []string
	for _, a := range r.attrs[k] {
		if _, set := c.Attributes[a.Name]; a.Recommended && !set {
			out = append(out, a.Name)
		}
	}
	return out
}

// ValidateCI checks c against the registry and returns a
// *itsm.ValidationError listing every problem: a zero ID, a bad tenant, an
// unknown or abstract class, a missing or over-long name, an unknown status,
// over-long owner or support group, a missing required attribute, an
// attribute the class does not declare, a value of the wrong type or outside
// the declared values, instants that are zero or not normalised, Updated
// before Created, a negative version.
func (r *Registry) ValidateCI(c CI) error {
	var errs itsm.FieldErrors
	if c.ID.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	errs.Merge("", c.Tenant.Validate())
	k, known := r.byName[c.Class]
	switch {
	case !known:
		errs.Addf("class", "class %q does not exist", clip(string(c.Class)))
	case r.classes[k].Abstract:
		errs.Addf("class", "class %q is abstract", c.Class)
	}
	checkText(&errs, "name", c.Name, MaxCINameLen, true)
	if !c.Status.Valid() {
		errs.Addf("status", "%q is not planned, in_use, in_maintenance or retired", clip(string(c.Status)))
	}
	checkText(&errs, "owner", c.Owner, MaxPartyLen, false)
	checkText(&errs, "support_group", c.SupportGroup, MaxPartyLen, false)
	if known {
		schema := r.attrs[k]
		for _, a := range schema {
			v, ok := c.Attributes[a.Name]
			if !ok {
				if a.Required {
					errs.Addf("attributes."+a.Name, "is required by class %s", c.Class)
				}
				continue
			}
			checkValue(&errs, "attributes."+a.Name, a, v)
		}
		for _, name := range slices.Sorted(maps.Keys(c.Attributes)) {
			if !slices.ContainsFunc(schema, func(a Attribute) bool { return a.Name == name }) {
				errs.Addf("attributes."+clip(name), "is not an attribute of class %s", c.Class)
			}
		}
	}
	for _, f := range [...]struct {
		field string
		t     time.Time
	}{{"created", c.Created}, {"updated", c.Updated}} {
		if f.t.IsZero() || !itsm.IsNormalized(f.t) {
			errs.Add(f.field, "must be a UTC instant truncated to the microsecond")
		}
	}
	if c.Updated.Before(c.Created) {
		errs.Add("updated", "precedes created")
	}
	if c.Version < 0 {
		errs.Add("version", "must not be negative")
	}
	return errs.Err()
}

// checkValue checks one attribute value against its declaration.
func checkValue(errs *itsm.FieldErrors, field string, a Attribute, v Value) {
	if v.Type() != a.Type {
		errs.Addf(field, "is a %s value, want %s", orNone(v.Type()), a.Type)
		return
	}
	switch a.Type {
	case TypeString:
		checkText(errs, field, v.Str(), MaxAttrTextLen, false)
		if len(a.Values) > 0 && !slices.Contains(a.Values, v.Str()) {
			errs.Addf(field, "%q is not one of %v", clip(v.Str()), a.Values)
		}
	case TypeTime:
		if v.Time().IsZero() {
			errs.Add(field, "must not be the zero instant")
		}
	case TypeInt:
		// A redundancy group needs at least one member up: the rule lives
		// here so that every path that checks a value (CIs, reconciliation
		// items) applies it.
		if a.Name == AttrMinUp && v.Int() < 1 {
			errs.Add(field, "must be at least 1")
		}
	case TypeRef:
		errs.Merge(field, v.Ref().Validate())
	}
}

func orNone(t AttrType) string {
	if t == "" {
		return "untyped"
	}
	return string(t)
}

// checkText checks a text field: valid UTF-8, at most max bytes, and not
// empty when required.
func checkText(errs *itsm.FieldErrors, field, s string, max int, required bool) {
	switch {
	case s == "" && required:
		errs.Add(field, "must not be empty")
	case len(s) > max:
		errs.Addf(field, "must be at most %d bytes", max)
	case !utf8.ValidString(s):
		errs.Add(field, "must be valid UTF-8")
	}
}

// NewCI is what NewCI needs to make a CI.
type NewCI struct {
	Tenant       itsm.TenantID
	Class        ClassName
	Name         string
	Status       Status // empty means StatusInUse
	Owner        string
	SupportGroup string
	Attributes   map[string]Value
}

// Make draws an ID from gen, stamps Created and Updated from clock and
// returns the validated CI at version 0. It returns the generator's error
// or a *itsm.ValidationError from ValidateCI. The attributes map is copied.
func (r *Registry) Make(gen itsm.IDGenerator, clock itsm.Clock, in NewCI) (CI, error) {
	id, err := NewID(gen)
	if err != nil {
		return CI{}, err
	}
	now := clock.Now()
	st := in.Status
	if st == "" {
		st = StatusInUse
	}
	c := CI{
		ID: id, Tenant: in.Tenant, Class: in.Class, Name: in.Name, Status: st,
		Owner: in.Owner, SupportGroup: in.SupportGroup, Attributes: maps.Clone(in.Attributes),
		Created: now, Updated: now,
	}
	if err := r.ValidateCI(c); err != nil {
		return CI{}, err
	}
	return c, nil
}

// minUp reads AttrMinUp from c: at least 1, 1 when absent.
func minUp(c CI) int32 {
	v, ok := c.Attributes[AttrMinUp]
	if !ok || v.Type() != TypeInt || v.Int() < 1 {
		return 1
	}
	if v.Int() > 1<<30 {
		return 1 << 30
	}
	return int32(v.Int())
}
