package cmdb

import (
	"fmt"
	"slices"

	"github.com/itsmkit/itsmkit/itsm"
)

// MaxClasses and MaxRelTypes bound a registry, so the graph can keep a class
// in 16 bits and a relationship type in 8.
const (
	MaxClasses  = 1 << 15
	MaxRelTypes = 250
)

// classEntry is a class as the registry resolved it.
type classEntry struct {
	Class
	idx    uint16
	parent int32 // index of the parent class, -1 for the root
	depth  int
}

// Registry holds the class tree and the relationship types: the built-ins
// and whatever a host adds. NewRegistry returns a registry with the
// built-ins; AddClass, AddAttributes and AddRelType extend it.
//
// A Registry is not safe for concurrent modification: configure it at
// start-up, then share it read-only (reads are safe from any goroutine).
// Classes and relationship types are never removed, so their indexes, which
// graphs hold, stay valid.
type Registry struct {
	classes  []classEntry
	byName   map[ClassName]int
	attrs    [][]Attribute // effective attributes per class, inherited first
	relTypes []RelType
	relByNm  map[RelTypeName]int
}

// init makes the maps of a zero Registry, which then starts empty (without
// the built-in classes and types NewRegistry adds).
func (r *Registry) init() {
	if r.byName == nil {
		r.byName = map[ClassName]int{}
	}
	if r.relByNm == nil {
		r.relByNm = map[RelTypeName]int{}
	}
}

// NewRegistry returns a registry holding the built-in classes and
// relationship types.
func NewRegistry() *Registry {
	r := &Registry{byName: map[ClassName]int{}, relByNm: map[RelTypeName]int{}}
	for _, c := range builtinClasses() {
		if err := r.AddClass(c); err != nil {
			panic("cmdb: built-in class " + string(c.Name) + ": " + err.Error()) // a defect in this package
		}
	}
	for _, t := range builtinRelTypes() {
		if err := r.AddRelType(t); err != nil {
			panic("cmdb: built-in relationship type " + string(t.Name) + ": " + err.Error())
		}
	}
	return r
}

// AddClass adds a class below an existing parent. It returns a
// *itsm.ValidationError when the name is malformed or taken, the parent is
// unknown (only the first class, the root, has none), or an attribute is
// malformed or repeats an inherited one.
func (r *Registry) AddClass(c Class) error {
	r.init()
	var errs itsm.FieldErrors
	if !validName(string(c.Name)) {
		errs.Addf("name", "%q must be 1 to %d lower-case letters, digits and underscores, starting with a letter", clip(string(c.Name)), MaxNameLen)
	} else if _, dup := r.byName[c.Name]; dup {
		errs.Addf("name", "class %q already exists", c.Name)
	}
	parent := -1
	switch {
	case c.Parent == "" && len(r.classes) > 0:
		errs.Add("parent", "must name an existing class")
	case c.Parent != "":
		p, ok := r.byName[c.Parent]
		if !ok {
			errs.Addf("parent", "class %q does not exist", clip(string(c.Parent)))
		}
		parent = p
	}
	if len(r.classes) >= MaxClasses {
		errs.Addf("name", "the registry already holds %d classes", MaxClasses)
	}
	var inherited []Attribute
	if parent >= 0 {
		inherited = r.attrs[parent]
	}
	r.checkAttributes(&errs, inherited, c.Attributes, -1)
	if err := errs.Err(); err != nil {
		return err
	}
	c.Attributes = slices.Clone(c.Attributes)
	for i := range c.Attributes {
		c.Attributes[i].Values = slices.Clone(c.Attributes[i].Values)
	}
	e := classEntry{Class: c, idx: uint16(len(r.classes)), parent: int32(parent)}
	if parent >= 0 {
		e.depth = r.classes[parent].depth + 1
	}
	r.byName[c.Name] = len(r.classes)
	r.classes = append(r.classes, e)
	r.attrs = append(r.attrs, append(slices.Clone(inherited), c.Attributes...))
	return nil
}

// checkAttributes validates attrs to be added on top of inherited; below, when
// not -1, is a class whose descendants must not already hold the names.
func (r *Registry) checkAttributes(errs *itsm.FieldErrors, inherited, attrs []Attribute, below int) {
	for i, a := range attrs {
		field := fmt.Sprintf("attributes[%d]", i)
		a.validate(errs, field)
		taken := slices.ContainsFunc(inherited, func(b Attribute) bool { return b.Name == a.Name }) ||
			slices.ContainsFunc(attrs[:i], func(b Attribute) bool { return b.Name == a.Name })
		if !taken && below >= 0 {
			for k := range r.classes {
				if r.descends(k, below) && slices.ContainsFunc(r.attrs[k], func(b Attribute) bool { return b.Name == a.Name }) {
					taken = true
					break
				}
			}
		}
		if taken {
			errs.Addf(field+".name", "%q is already an attribute of the class, an ancestor or a descendant", clip(a.Name))
		}
	}
}

// AddAttributes adds attributes to an existing class and so to every class
// below it. It returns a *itsm.ValidationError when the class is unknown or
// an attribute is malformed or clashes with one of an ancestor or
// descendant. Adding a required attribute makes existing CIs of the class
// invalid until they gain it.
func (r *Registry) AddAttributes(class ClassName, attrs ...Attribute) error {
	k, ok := r.byName[class]
	if !ok {
		return itsm.NewValidationError("class", fmt.Sprintf("class %q does not exist", clip(string(class))))
	}
	var errs itsm.FieldErrors
	r.checkAttributes(&errs, r.attrs[k], attrs, k)
	if err := errs.Err(); err != nil {
		return err
	}
	for _, a := range attrs {
		a.Values = slices.Clone(a.Values)
		r.classes[k].Attributes = append(r.classes[k].Attributes, a)
	}
	// Rebuild the effective lists of the class and its descendants, parents
	// first (classes are stored parents before children).
	for i := k; i < len(r.classes); i++ {
		if !r.descends(i, k) {
			continue
		}
		var base []Attribute
		if p := r.classes[i].parent; p >= 0 {
			base = r.attrs[p]
		}
		r.attrs[i] = append(slices.Clone(base), r.classes[i].Attributes...)
	}
	return nil
}

// descends reports whether class index c is a or lies below it.
func (r *Registry) descends(c, a int) bool {
	for c >= 0 {
		if c == a {
			return true
		}
		c = int(r.classes[c].parent)
	}
	return false
}

// Class returns the class named n as declared (own attributes only).
func (r *Registry) Class(n ClassName) (Class, bool) {
	k, ok := r.byName[n]
	if !ok {
		return Class{}, false
	}
	c := r.classes[k].Class
	c.Attributes = cloneAttributes(c.Attributes)
	return c, true
}

// cloneAttributes copies attrs and each attribute's allowed values, so a
// caller can change what it got without changing the registry.
func cloneAttributes(attrs []Attribute) []Attribute {
	out := slices.Clone(attrs)
	for i := range out {
		out[i].Values = slices.Clone(out[i].Values)
	}
	return out
}

// Classes returns the names of every class, parents before children, in the
// order they were added.
func (r *Registry) Classes() []ClassName {
	out := make([]ClassName, len(r.classes))
	for i, c := range r.classes {
		out[i] = c.Name
	}
	return out
}

// Attributes returns the effective attributes of class n, inherited ones
// first; nil for an unknown class.
func (r *Registry) Attributes(n ClassName) []Attribute {
	k, ok := r.byName[n]
	if !ok {
		return nil
	}
	return cloneAttributes(r.attrs[k])
}

// IsA reports whether class c is class a or lies below it.
func (r *Registry) IsA(c, a ClassName) bool {
	ci, ok1 := r.byName[c]
	ai, ok2 := r.byName[a]
	return ok1 && ok2 && r.descends(ci, ai)
}

// Ancestors returns c's ancestors from its parent up to the root.
func (r *Registry) Ancestors(c ClassName) []ClassName {
	k, ok := r.byName[c]
	if !ok {
		return nil
	}
	var out []ClassName
	for p := r.classes[k].parent; p >= 0; p = r.classes[p].parent {
		out = append(out, r.classes[p].Name)
	}
	return out
}

// AddRelType adds a user-defined relationship type. It returns a
// *itsm.ValidationError when the type is malformed, its name is taken, or an
// allowed pair names an unknown class.
func (r *Registry) AddRelType(t RelType) error {
	r.init()
	var errs itsm.FieldErrors
	t.validate(&errs)
	if _, dup := r.relByNm[t.Name]; dup {
		errs.Addf("name", "relationship type %q already exists", t.Name)
	}
	if len(r.relTypes) >= MaxRelTypes {
		errs.Addf("name", "the registry already holds %d relationship types", MaxRelTypes)
	}
	for i, p := range t.Allowed {
		if _, ok := r.byName[p.From]; !ok {
			errs.Addf(fmt.Sprintf("allowed[%d].from", i), "class %q does not exist", clip(string(p.From)))
		}
		if _, ok := r.byName[p.To]; !ok {
			errs.Addf(fmt.Sprintf("allowed[%d].to", i), "class %q does not exist", clip(string(p.To)))
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	t.Allowed = slices.Clone(t.Allowed)
	r.relByNm[t.Name] = len(r.relTypes)
	r.relTypes = append(r.relTypes, t)
	return nil
}

// RelType returns the relationship type named n.
func (r *Registry) RelType(n RelTypeName) (RelType, bool) {
	k, ok := r.relByNm[n]
	if !ok {
		return RelType{}, false
	}
	t := r.relTypes[k]
	t.Allowed = slices.Clone(t.Allowed)
	return t, true
}

// RelTypes returns the names of every relationship type in the order added.
func (r *Registry) RelTypes() []RelTypeName {
	out := make([]RelTypeName, len(r.relTypes))
	for i, t := range r.relTypes {
		out[i] = t.Name
	}
	return out
}

// Allows reports whether relationship type t may join a CI of class from to
// a CI of class to: some allowed pair of t has from at or below its From and
// to at or below its To.
func (r *Registry) Allows(t RelTypeName, from, to ClassName) bool {
	k, ok := r.relByNm[t]
	if !ok {
		return false
	}
	fi, ok1 := r.byName[from]
	ti, ok2 := r.byName[to]
	return ok1 && ok2 && r.allows(k, fi, ti)
}

func (r *Registry) allows(t, from, to int) bool {
	for _, p := range r.relTypes[t].Allowed {
		if r.descends(from, r.byName[p.From]) && r.descends(to, r.byName[p.To]) {
			return true
		}
	}
	return false
}
