package cmdb

import (
	"fmt"
	"slices"

	"github.com/itsmkit/itsmkit/itsm"
)

// Lookup is how the integrity checks see stored data: Class returns the
// class of a CI of the tenant (false when there is no such CI), Relations
// every relationship with the CI at either end. Adapters pass views of their
// own data; reconciliation passes its planned state.
type Lookup struct {
	Class     func(ID) (ClassName, bool)
	Relations func(ID) []Relationship
}

// CheckRelationship decides whether rel may be stored next to what lookup
// sees, as Repository.CreateRelationship requires: rel valid on its own,
// both ends present (a *itsm.ValidationError naming "from" or "to"), the
// class pair allowed ("type"), the cardinality kept ("from" when the From
// CI already has its one relationship of the type, "to" likewise), no
// hosting or containment cycle ("to"). A relationship of the same type
// between the same CIs is itsm.ErrAlreadyExists.
func (reg *Registry) CheckRelationship(rel Relationship, lookup Lookup) error {
	if err := reg.ValidateRelationship(rel); err != nil {
		return err
	}
	var errs itsm.FieldErrors
	fromClass, okFrom := lookup.Class(rel.From)
	if !okFrom {
		errs.Addf("from", "CI %s does not exist: a relationship cannot dangle", rel.From)
	}
	toClass, okTo := lookup.Class(rel.To)
	if !okTo {
		errs.Addf("to", "CI %s does not exist: a relationship cannot dangle", rel.To)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if err := reg.CheckPair(rel.Type, fromClass, toClass); err != nil {
		return err
	}
	t := &reg.relTypes[reg.relByNm[rel.Type]]
	for _, o := range lookup.Relations(rel.From) {
		if o.Type != rel.Type {
			continue
		}
		if o.From == rel.From && o.To == rel.To {
			return fmt.Errorf("cmdb: %s %s %s already exists as %s: %w", rel.From, rel.Type, rel.To, o.ID, itsm.ErrAlreadyExists)
		}
		if o.From == rel.From && (t.Cardinality == ManyToOne || t.Cardinality == OneToOne) {
			errs.Addf("from", "CI %s already %s %s; type %s allows one", rel.From, t.Parent, o.To, rel.Type)
		}
	}
	if t.Cardinality == OneToMany || t.Cardinality == OneToOne {
		for _, o := range lookup.Relations(rel.To) {
			if o.Type == rel.Type && o.To == rel.To && o.From != rel.From {
				errs.Addf("to", "CI %s already has %s as its %s; type %s allows one", rel.To, o.From, t.Parent, rel.Type)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if t.Kind.Acyclic() && reg.closesCycle(rel, t, lookup.Relations) {
		return itsm.NewValidationError("to", fmt.Sprintf("%s %s %s would close a hosting or containment cycle", rel.From, rel.Type, rel.To))
	}
	return nil
}

// closesCycle reports whether adding rel (of acyclic type t) closes a cycle
// among hosting and containment relationships, oriented the way impact
// flows: from provider p to receiver q. A cycle exists when q already
// provides, directly or not, for p.
func (reg *Registry) closesCycle(rel Relationship, t *RelType, relations func(ID) []Relationship) bool {
	p, q := rel.To, rel.From
	if t.Flow == FlowFromTo {
		p, q = rel.From, rel.To
	}
	seen := map[ID]bool{p: true}
	stack := []ID{p}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if u == q {
			return true
		}
		for _, o := range relations(u) {
			k, ok := reg.relByNm[o.Type]
			if !ok || !reg.relTypes[k].Kind.Acyclic() {
				continue
			}
			var provider ID
			switch {
			case reg.relTypes[k].Flow == FlowToFrom && o.From == u:
				provider = o.To
			case reg.relTypes[k].Flow == FlowFromTo && o.To == u:
				provider = o.From
			default:
				continue
			}
			if !seen[provider] {
				seen[provider] = true
				stack = append(stack, provider)
			}
		}
	}
	return false
}

// DeleteClosure decides what deleting CI root takes with it, as
// Repository.DeleteCI requires: every CI to delete (root first, then the
// cascaded ones in ascending order) and every relationship touching them
// (ascending). A restrict relationship — or one of a type the registry does
// not know — where a CI to delete is the independent end refuses the whole
// deletion with a *itsm.ValidationError naming "id".
func (reg *Registry) DeleteClosure(root ID, relations func(ID) []Relationship) ([]ID, []RelationshipID, error) {
	// far returns the other end of o seen from u, and whether it is the
	// dependent end of a known type.
	far := func(o Relationship, u ID) (other ID, t *RelType, dependent bool) {
		other = o.To
		if o.To == u {
			other = o.From
		}
		k, known := reg.relByNm[o.Type]
		if !known {
			return other, nil, false
		}
		t = &reg.relTypes[k]
		return other, t, t.Dependent == SideFrom && o.From == other || t.Dependent == SideTo && o.To == other
	}
	doomed := map[ID]bool{root: true}
	order := []ID{root}
	for i := 0; i < len(order); i++ {
		u := order[i]
		for _, o := range relations(u) {
			if other, t, dep := far(o, u); t != nil && t.OnDelete == DeleteCascade && dep && !doomed[other] {
				doomed[other] = true
				order = append(order, other)
			}
		}
	}
	rels := map[RelationshipID]bool{}
	for _, u := range order {
		for _, o := range relations(u) {
			rels[o.ID] = true
			other, t, dep := far(o, u)
			if doomed[other] {
				continue
			}
			if t == nil {
				return nil, nil, itsm.NewValidationError("id", fmt.Sprintf("CI %s cannot be deleted: relationship %s has type %q, which the registry does not know", u, o.ID, clip(string(o.Type))))
			}
			if t.OnDelete == DeleteRestrict && (dep || t.Dependent == SideNone) {
				return nil, nil, itsm.NewValidationError("id", fmt.Sprintf("CI %s cannot be deleted: relationship %s (%s) restricts it", u, o.ID, o.Type))
			}
		}
	}
	cis := slices.Clone(order[1:])
	slices.SortFunc(cis, ID.Compare)
	cis = append([]ID{root}, cis...)
	ids := make([]RelationshipID, 0, len(rels))
	for id := range rels {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, RelationshipID.Compare)
	return cis, ids, nil
}
