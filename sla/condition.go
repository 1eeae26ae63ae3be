package sla

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Observation is what a timer sees of a record at one instant: its fields
// and the category of its state. Between two observations the record is
// taken to be as last observed, so a host observes on every command that
// changes the record.
type Observation struct {
	// At is the instant the record looked like this. It is normalised with
	// itsm.Normalize and must not precede the previous observation.
	At time.Time `json:"at"`
	// Opened is when the record was opened. Targets whose StartFrom is
	// StartFromOpened start their first cycle here rather than at the
	// attaching observation. Zero means At.
	Opened time.Time `json:"opened,omitzero"`
	// Priority is the record's priority.
	Priority itsm.Priority `json:"priority"`
	// Service names the service the record concerns, in whatever form the
	// host chooses; conditions compare it as text. The incident service
	// supplies an itsm.Ref's text, "service:<uuid>" (never the bare UUID):
	// ServiceIs builds conditions in that form.
	Service string `json:"service,omitempty"`
	// Category is the record's own classification (e.g. "network"), not
	// its state category.
	Category string `json:"category,omitempty"`
	// State is the category of the record's lifecycle state.
	State itsm.Category `json:"state"`
	// Fields holds the record's other fields by name; a condition reads the
	// entry named k as "fields.<k>". Which names exist is the host's
	// choice: the incident service supplies "status", "group", "responded"
	// and its other built-in fields under their own names and the desk's
	// custom fields as "custom.<name>", so a condition on the custom field
	// vip reads "fields.custom.vip" (see package incident). A condition on a
	// name the host never supplies is valid and simply never sees a value;
	// Engine.FieldReads lists the names conditions read, for hosts to check.
	Fields map[string]string `json:"fields,omitempty"`
}

// Op is the comparison a leaf Condition applies to a field.
type Op string

// The comparison operators.
const (
	// OpIn holds when the field's value is one of Values.
	OpIn Op = "in"
	// OpNotIn holds when the field's value is none of Values (an absent
	// custom field is none of them).
	OpNotIn Op = "not_in"
	// OpLT, OpLE, OpGT and OpGE compare the field as an integer against the
	// single integer in Values; a missing or non-integer value never holds.
	OpLT Op = "lt"
	// OpLE is "less than or equal"; see OpLT.
	OpLE Op = "le"
	// OpGT is "greater than"; see OpLT.
	OpGT Op = "gt"
	// OpGE is "greater than or equal"; see OpLT.
	OpGE Op = "ge"
	// OpExists holds when the field is present and not empty.
	OpExists Op = "exists"
	// OpMissing holds when the field is absent or empty.
	OpMissing Op = "missing"
	// OpChanged holds when a previous observation of the same record
	// recorded the field and its value differs now. A field the previous
	// observation did not record (State.Previous has no entry for it, e.g.
	// the engine that observed then did not watch it) is seen for the first
	// time and has not changed. An absent custom field is recorded as empty,
	// so one that appears has changed. It suits reset conditions ("the agent
	// posted an update").
	OpChanged Op = "changed"
)

// Condition is a declarative predicate over an Observation, serialisable as
// JSON. Exactly one of All, Any, Not or Field is set:
//
//   - All holds when every child holds (an empty All is not allowed);
//   - Any holds when at least one child holds;
//   - Not holds when its child does not;
//   - a leaf compares Field with Op against Values.
//
// Fields are "priority", "service", "category", "state" (a state category
// slug such as "waiting") and "fields.<k>" for the entry k of
// Observation.Fields. The names of those entries are the host's: the
// incident service's custom field vip is "fields.custom.vip", its assignment
// group "fields.group" (package incident lists them all, and its
// NewService refuses conditions on names it never supplies).
type Condition struct {
	All    []Condition `json:"all,omitempty"`
	Any    []Condition `json:"any,omitempty"`
	Not    *Condition  `json:"not,omitempty"`
	Field  string      `json:"field,omitempty"`
	Op     Op          `json:"op,omitempty"`
	Values []string    `json:"values,omitempty"`
}

// StateIn holds when the record's state category is one of cats.
func StateIn(cats ...itsm.Category) *Condition {
	vals := make([]string, len(cats))
	for i, c := range cats {
		vals[i] = c.String()
	}
	return &Condition{Field: "state", Op: OpIn, Values: vals}
}

// PriorityIn holds when the record's priority is one of ps.
func PriorityIn(ps ...itsm.Priority) *Condition {
	vals := make([]string, len(ps))
	for i, p := range ps {
		vals[i] = p.String()
	}
	return &Condition{Field: "priority", Op: OpIn, Values: vals}
}

// FieldIs holds when field has one of values. field is a condition field
// as Condition describes it, written in full: "fields.custom.vip" (not
// "vip", nor "fields.vip", for the incident service's custom field vip),
// "category", "service".
func FieldIs(field string, values ...string) *Condition {
	return &Condition{Field: field, Op: OpIn, Values: values}
}

// ServiceIs holds when the record's service is one of services, compared
// as itsm.Ref text ("service:<uuid>"), the form in which the incident
// service supplies Observation.Service.
func ServiceIs(services ...itsm.Ref) *Condition {
	vals := make([]string, len(services))
	for i, r := range services {
		vals[i] = r.String()
	}
	return &Condition{Field: "service", Op: OpIn, Values: vals}
}

// FieldChanged holds when field (written in full, as for FieldIs) differs
// from the previous observation.
func FieldChanged(field string) *Condition {
	return &Condition{Field: field, Op: OpChanged}
}

// AllOf holds when every one of cs holds.
func AllOf(cs ...*Condition) *Condition { return &Condition{All: derefConditions(cs)} }

// AnyOf holds when at least one of cs holds.
func AnyOf(cs ...*Condition) *Condition { return &Condition{Any: derefConditions(cs)} }

// Not holds when c does not.
func Not(c *Condition) *Condition { return &Condition{Not: c} }

func derefConditions(cs []*Condition) []Condition {
	out := make([]Condition, 0, len(cs))
	for _, c := range cs {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// Validate returns a *itsm.ValidationError naming the offending part
// ("any[1].op") when c is malformed.
func (c *Condition) Validate() error {
	_, err := compileCondition(c)
	return err
}

// check records c's problems in errs under the path at.
func (c *Condition) check(errs *itsm.FieldErrors, at string) { compileInto(errs, at, c) }

// condFieldKind tells a compiled leaf where to read its value.
type condFieldKind uint8

const (
	condFieldPriority condFieldKind = iota + 1
	condFieldService
	condFieldCategory
	condFieldState
	condFieldCustom
)

// condPred is a compiled Condition. Evaluation allocates nothing.
type condPred struct {
	kind     uint8 // predAll, predAny, predNot, predLeaf
	children []condPred
	field    condFieldKind
	path     string // the field path as written, the key for OpChanged
	name     string // custom field name
	op       Op
	values   []string
	ints     []int64
	states   uint8 // bit set of state categories for fieldState
	// byState or byPriority, set by compileCondition on a whole
	// condition whose leaves all read the state, or all the priority, and
	// none with OpChanged (the only operator that reads more than the
	// observation's field), holds the condition's value, computed by eval,
	// for each value of that field: every state category (a uint8), the
	// priorities 0 to 63 (bit p).
	byState    *[256]bool
	byPriority uint64
	tabulated  bool // byPriority is set
}

const (
	condAll uint8 = iota + 1
	condAny
	condNot
	condLeaf
)

// compileCondition validates c and compiles it. A nil c compiles to nil.
func compileCondition(c *Condition) (*condPred, error) {
	if c == nil {
		return nil, nil
	}
	var errs itsm.FieldErrors
	p := compileInto(&errs, "", c)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	p.tabulate()
	return &p, nil
}

// tabulate sets p.by and p.table when every leaf of p reads the state, or
// every leaf the priority, and none with OpChanged (the only operator that
// reads more than the observation's field). Evaluation then costs a shift
// for the values the table covers, with eval's own results.
func (p *condPred) tabulate() {
	var by condFieldKind
	pure := true
	p.leaves(func(l *condPred) {
		if by == 0 {
			by = l.field
		}
		if l.field != by || l.op == OpChanged || (by != condFieldState && by != condFieldPriority) {
			pure = false
		}
	})
	if !pure || by == 0 {
		return
	}
	var none condMemory
	if by == condFieldState {
		p.byState = new([256]bool)
		for v := range p.byState {
			p.byState[v] = p.eval(&Observation{State: itsm.Category(v)}, &none)
		}
		return
	}
	for v := range 64 {
		if p.eval(&Observation{Priority: itsm.Priority(v)}, &none) {
			p.byPriority |= 1 << v
		}
	}
	p.tabulated = true
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func compileInto(errs *itsm.FieldErrors, at string, c *Condition) condPred {
	set := 0
	if c.All != nil {
		set++
	}
	if c.Any != nil {
		set++
	}
	if c.Not != nil {
		set++
	}
	if c.Field != "" || c.Op != "" || c.Values != nil {
		set++
	}
	if set != 1 {
		errs.Add(conditionPath(at), "must set exactly one of all, any, not or field")
		return condPred{}
	}
	switch {
	case c.All != nil || c.Any != nil:
		kids, name, kind := c.All, "all", condAll
		if c.Any != nil {
			kids, name, kind = c.Any, "any", condAny
		}
		if len(kids) == 0 {
			errs.Add(joinPath(at, name), "must not be empty")
			return condPred{}
		}
		p := condPred{kind: kind, children: make([]condPred, len(kids))}
		for i := range kids {
			p.children[i] = compileInto(errs, fmt.Sprintf("%s[%d]", joinPath(at, name), i), &kids[i])
		}
		return p
	case c.Not != nil:
		return condPred{kind: condNot, children: []condPred{compileInto(errs, joinPath(at, "not"), c.Not)}}
	}
	return compileLeaf(errs, at, c)
}

func conditionPath(at string) string {
	if at == "" {
		return "condition"
	}
	return at
}

func compileLeaf(errs *itsm.FieldErrors, at string, c *Condition) condPred {
	p := condPred{kind: condLeaf, path: c.Field, op: c.Op, values: slices.Clone(c.Values)}
	switch {
	case c.Field == "priority":
		p.field = condFieldPriority
	case c.Field == "service":
		p.field = condFieldService
	case c.Field == "category":
		p.field = condFieldCategory
	case c.Field == "state":
		p.field = condFieldState
	case strings.HasPrefix(c.Field, "fields.") && len(c.Field) > len("fields."):
		p.field = condFieldCustom
		p.name = c.Field[len("fields."):]
	default:
		errs.Addf(joinPath(at, "field"), "%q is not priority, service, category, state or fields.<name>", c.Field)
		return p
	}
	switch c.Op {
	case OpIn, OpNotIn:
		if len(c.Values) == 0 {
			errs.Add(joinPath(at, "values"), "must not be empty for "+string(c.Op))
		}
	case OpLT, OpLE, OpGT, OpGE:
		if len(c.Values) != 1 {
			errs.Add(joinPath(at, "values"), "must hold exactly one integer for "+string(c.Op))
			return p
		}
	case OpExists, OpMissing, OpChanged:
		if len(c.Values) != 0 {
			errs.Add(joinPath(at, "values"), "must be empty for "+string(c.Op))
		}
	default:
		errs.Addf(joinPath(at, "op"), "%q is not a known operator", c.Op)
		return p
	}
	if p.field == condFieldState && (c.Op == OpIn || c.Op == OpNotIn) {
		for i, v := range c.Values {
			cat, err := itsm.ParseCategory(v)
			if err != nil {
				errs.Addf(fmt.Sprintf("%s[%d]", joinPath(at, "values"), i), "%q is not a state category", v)
				continue
			}
			p.states |= 1 << uint8(cat)
		}
	}
	if p.field == condFieldPriority || isOrderingOp(c.Op) {
		p.ints = make([]int64, len(c.Values))
		for i, v := range c.Values {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				errs.Addf(fmt.Sprintf("%s[%d]", joinPath(at, "values"), i), "%q is not an integer", v)
				continue
			}
			p.ints[i] = n
		}
	}
	return p
}

func isOrderingOp(op Op) bool { return op == OpLT || op == OpLE || op == OpGT || op == OpGE }

// condMemory is what a condition may compare against from the previous
// observation (for OpChanged).
type condMemory struct {
	seen   bool
	values map[string]string
}

// holds evaluates p; a nil p holds when dflt is true. A missing condition
// (most targets leave several out) and a condition on the state alone are
// answered inline.
func (p *condPred) holds(o *Observation, m *condMemory, dflt bool) bool {
	if p == nil {
		return dflt
	}
	if p.byState != nil {
		return p.byState[o.State]
	}
	return p.holdsSlow(o, m)
}

// holdsSlow is holds for a p that is not tabulated on the state.
func (p *condPred) holdsSlow(o *Observation, m *condMemory) bool {
	if p.tabulated && uint(o.Priority) < 64 {
		return p.byPriority>>uint(o.Priority)&1 != 0
	}
	return p.eval(o, m)
}

func (p *condPred) eval(o *Observation, m *condMemory) bool {
	switch p.kind {
	case condAll:
		for i := range p.children {
			if !p.children[i].eval(o, m) {
				return false
			}
		}
		return true
	case condAny:
		for i := range p.children {
			if p.children[i].eval(o, m) {
				return true
			}
		}
		return false
	case condNot:
		return !p.children[0].eval(o, m)
	}
	return p.leaf(o, m)
}

// value reads the leaf's field from o as text, and whether it is present.
func (p *condPred) value(o *Observation) (string, bool) {
	switch p.field {
	case condFieldPriority:
		return strconv.Itoa(int(o.Priority)), o.Priority != 0
	case condFieldService:
		return o.Service, o.Service != ""
	case condFieldCategory:
		return o.Category, o.Category != ""
	case condFieldState:
		return o.State.String(), o.State.Valid()
	default:
		v, ok := o.Fields[p.name]
		return v, ok && v != ""
	}
}

func (p *condPred) leaf(o *Observation, m *condMemory) bool {
	switch p.op {
	case OpChanged:
		if !m.seen {
			return false
		}
		// A field the previous observation did not record (the engine
		// that made it did not watch the field) is seen for the first time
		// now, and first sight is not a change.
		prev, ok := m.values[p.path]
		if !ok {
			return false
		}
		cur, _ := p.value(o)
		return cur != prev
	case OpExists:
		_, ok := p.value(o)
		return ok
	case OpMissing:
		_, ok := p.value(o)
		return !ok
	}
	if p.field == condFieldState {
		in := p.states&(1<<uint8(o.State)) != 0 && o.State.Valid()
		return in == (p.op == OpIn)
	}
	if p.field == condFieldPriority && (p.op == OpIn || p.op == OpNotIn) {
		in := o.Priority != 0 && slices.Contains(p.ints, int64(o.Priority))
		return in == (p.op == OpIn)
	}
	if isOrderingOp(p.op) {
		var n int64
		if p.field == condFieldPriority {
			if o.Priority == 0 {
				return false
			}
			n = int64(o.Priority)
		} else {
			s, ok := p.value(o)
			if !ok {
				return false
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return false
			}
			n = v
		}
		want := p.ints[0]
		switch p.op {
		case OpLT:
			return n < want
		case OpLE:
			return n <= want
		case OpGT:
			return n > want
		default:
			return n >= want
		}
	}
	v, ok := p.value(o)
	in := ok && slices.Contains(p.values, v)
	return in == (p.op == OpIn)
}

// leaves calls fn for every leaf of p, depth first; nil has none.
func (p *condPred) leaves(fn func(leaf *condPred)) {
	if p == nil {
		return
	}
	if p.kind == condLeaf {
		fn(p)
	}
	for i := range p.children {
		p.children[i].leaves(fn)
	}
}

// watched appends the paths p compares with OpChanged.
func (p *condPred) watched(dst []string) []string {
	p.leaves(func(l *condPred) {
		if l.op == OpChanged && !slices.Contains(dst, l.path) {
			dst = append(dst, l.path)
		}
	})
	return dst
}

// readConditionPath reads the field named by a condition path from o, for memory.
func readConditionPath(o *Observation, path string) string {
	p := condPred{path: path}
	switch {
	case path == "priority":
		p.field = condFieldPriority
	case path == "service":
		p.field = condFieldService
	case path == "category":
		p.field = condFieldCategory
	case path == "state":
		p.field = condFieldState
	default:
		p.field = condFieldCustom
		p.name = strings.TrimPrefix(path, "fields.")
	}
	v, _ := p.value(o)
	return v
}
