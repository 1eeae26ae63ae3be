package cmdb

import (
	"fmt"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// RelTypeName names a relationship type ("runs_on"); names follow the rules
// of class names.
type RelTypeName string

// The built-in relationship types of DOMAIN.md §7. A relationship reads from
// its From CI to its To CI with the parent name: "app runs on vm01".
const (
	RelDependsOn     RelTypeName = "depends_on"
	RelRunsOn        RelTypeName = "runs_on"
	RelHostedOn      RelTypeName = "hosted_on"
	RelContains      RelTypeName = "contains"
	RelMemberOf      RelTypeName = "member_of"
	RelPowers        RelTypeName = "powers"
	RelConnectsTo    RelTypeName = "connects_to"
	RelUses          RelTypeName = "uses"
	RelProvides      RelTypeName = "provides"
	RelVirtualizedBy RelTypeName = "virtualized_by"
	RelManages       RelTypeName = "manages"
	RelOwnedBy       RelTypeName = "owned_by"
	RelLocatedIn     RelTypeName = "located_in"
)

// Flow says which way the failure of one end of a relationship impacts the
// other.
type Flow string

// The flows.
const (
	// FlowNone: neither end's failure impacts the other (manages, owned by,
	// located in).
	FlowNone Flow = "none"
	// FlowToFrom: the To CI's failure impacts the From CI ("a depends on b":
	// b failing impacts a). The usual sense.
	FlowToFrom Flow = "to_from"
	// FlowFromTo: the From CI's failure impacts the To CI ("a provides b",
	// "a is member of group b").
	FlowFromTo Flow = "from_to"
	// FlowBoth: each end's failure impacts the other (connects to).
	FlowBoth Flow = "both"
)

// Valid reports whether f is one of the flows.
func (f Flow) Valid() bool {
	switch f {
	case FlowNone, FlowToFrom, FlowFromTo, FlowBoth:
		return true
	}
	return false
}

// RelKind classifies a relationship type. Hosting and containment types are
// acyclic: a relationship that would close a cycle among them is refused.
type RelKind string

// The relationship kinds.
const (
	KindDependency  RelKind = "dependency"
	KindHosting     RelKind = "hosting"
	KindContainment RelKind = "containment"
	KindMembership  RelKind = "membership"
	KindPower       RelKind = "power"
	KindConnection  RelKind = "connection"
	KindUsage       RelKind = "usage"
	KindReference   RelKind = "reference"
)

// Valid reports whether k is one of the kinds.
func (k RelKind) Valid() bool {
	switch k {
	case KindDependency, KindHosting, KindContainment, KindMembership, KindPower, KindConnection, KindUsage, KindReference:
		return true
	}
	return false
}

// Acyclic reports whether relationships of this kind may never form a cycle
// (hosting and containment).
func (k RelKind) Acyclic() bool { return k == KindHosting || k == KindContainment }

// Side names one end of a relationship.
type Side string

// The sides.
const (
	// SideNone: neither end depends on the other for its identity.
	SideNone Side = ""
	// SideFrom: the From CI is identified in the context of the To CI (software
	// on its host).
	SideFrom Side = "from"
	// SideTo: the To CI is identified in the context of the From CI (a
	// component in its container).
	SideTo Side = "to"
)

// Cardinality bounds how many relationships of one type a CI may have.
type Cardinality string

// The cardinalities, read From:To.
const (
	// ManyToMany: no bound.
	ManyToMany Cardinality = "N:N"
	// ManyToOne: each From CI has at most one To CI of this type (software
	// runs on one host).
	ManyToOne Cardinality = "N:1"
	// OneToMany: each To CI has at most one From CI of this type (a component
	// has one container).
	OneToMany Cardinality = "1:N"
	// OneToOne: both bounds at once.
	OneToOne Cardinality = "1:1"
)

// Valid reports whether c is one of the cardinalities.
func (c Cardinality) Valid() bool {
	switch c {
	case ManyToMany, ManyToOne, OneToMany, OneToOne:
		return true
	}
	return false
}

// OnDelete says what deleting a CI does to its relationships of one type.
// The graph does not delete CIs itself; stores apply this when they do.
type OnDelete string

// The delete behaviours.
const (
	// DeleteDetach removes the relationship and leaves the other CI alone.
	DeleteDetach OnDelete = "detach"
	// DeleteCascade deletes the dependent CI (Dependent side) with the CI it
	// depends on, and detaches otherwise.
	DeleteCascade OnDelete = "cascade"
	// DeleteRestrict refuses to delete the independent CI while the
	// relationship exists.
	DeleteRestrict OnDelete = "restrict"
)

// Valid reports whether d is one of the delete behaviours.
func (d OnDelete) Valid() bool {
	switch d {
	case DeleteDetach, DeleteCascade, DeleteRestrict:
		return true
	}
	return false
}

// ClassPair allows relationships from CIs of class From (or below) to CIs of
// class To (or below).
type ClassPair struct {
	From ClassName `json:"from"`
	To   ClassName `json:"to"`
}

// RelType declares a relationship type with its propagation metadata.
type RelType struct {
	// Name identifies the type.
	Name RelTypeName `json:"name"`
	// Parent is how the relationship reads from From to To ("Runs on").
	Parent string `json:"parent"`
	// Child is how it reads back from To to From ("Runs").
	Child string `json:"child"`
	// Kind classifies the type; hosting and containment are acyclic.
	Kind RelKind `json:"kind"`
	// Flow is the way impact travels along the type.
	Flow Flow `json:"flow"`
	// Redundant types gate impact at the receiving CI: it is impacted only
	// when fewer than its AttrMinUp providers of this type remain up.
	Redundant bool `json:"redundant,omitempty"`
	// OffByDefault types carry impact only when an analysis asks for them.
	OffByDefault bool `json:"off_by_default,omitempty"`
	// Dependent is the end identified in the context of the other, if any.
	Dependent Side `json:"dependent,omitempty"`
	// Cardinality bounds the relationships of this type per CI.
	Cardinality Cardinality `json:"cardinality"`
	// OnDelete is what deleting a CI does to relationships of this type.
	OnDelete OnDelete `json:"on_delete"`
	// Allowed lists the class pairs the type may join; a pair allows every
	// class below its classes too. Empty allows nothing.
	Allowed []ClassPair `json:"allowed"`
}

// validate checks the type on its own, without the class tree.
func (t RelType) validate(errs *itsm.FieldErrors) {
	if !validName(string(t.Name)) {
		errs.Addf("name", "%q must be 1 to %d lower-case letters, digits and underscores, starting with a letter", clip(string(t.Name)), MaxNameLen)
	}
	for _, f := range [...]struct{ field, s string }{{"parent", t.Parent}, {"child", t.Child}} {
		if f.s == "" || len(f.s) > 128 || !utf8.ValidString(f.s) {
			errs.Add(f.field, "must be 1 to 128 bytes of UTF-8")
		}
	}
	if !t.Kind.Valid() {
		errs.Addf("kind", "%q is not a relationship kind", clip(string(t.Kind)))
	}
	if !t.Flow.Valid() {
		errs.Addf("flow", "%q is not a flow", clip(string(t.Flow)))
	}
	if t.Kind.Acyclic() && (t.Flow == FlowBoth || t.Flow == FlowNone) {
		errs.Add("flow", "a hosting or containment type must flow one way")
	}
	if t.Redundant && (t.Flow == FlowNone || t.Flow == FlowBoth) {
		errs.Add("redundant", "a redundant type must flow one way")
	}
	switch t.Dependent {
	case SideNone, SideFrom, SideTo:
	default:
		errs.Addf("dependent", "%q is not from, to or empty", clip(string(t.Dependent)))
	}
	if !t.Cardinality.Valid() {
		errs.Addf("cardinality", "%q is not N:N, N:1, 1:N or 1:1", clip(string(t.Cardinality)))
	}
	if !t.OnDelete.Valid() {
		errs.Addf("on_delete", "%q is not detach, cascade or restrict", clip(string(t.OnDelete)))
	}
	if t.OnDelete == DeleteCascade && t.Dependent == SideNone {
		errs.Add("on_delete", "cascade needs a dependent side")
	}
	if len(t.Allowed) == 0 {
		errs.Add("allowed", "must list at least one class pair")
	}
}

// flowsForward reports whether impact travels from From to To.
func (t *RelType) flowsForward() bool { return t.Flow == FlowFromTo || t.Flow == FlowBoth }

// flowsBackward reports whether impact travels from To to From.
func (t *RelType) flowsBackward() bool { return t.Flow == FlowToFrom || t.Flow == FlowBoth }

// String returns "parent::child".
func (t RelType) String() string { return fmt.Sprintf("%s::%s", t.Parent, t.Child) }
