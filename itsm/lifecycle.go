package itsm

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/internal/fsmx"
)

// StateDef declares one state of a lifecycle.
type StateDef[S ~string] struct {
	// State is the state's stable name, e.g. "in_progress".
	State S `json:"state"`
	// Category says what the state means to the rules (see Category).
	Category Category `json:"category"`
	// Terminal marks a state the record never leaves. Terminal states have no
	// outgoing transitions; every other state has at least one.
	Terminal bool `json:"terminal,omitempty"`
	// Label is an optional display name for diagrams, e.g. "In Progress".
	Label string `json:"label,omitempty"`
}

// Transition declares that Action leads from From to To. From may equal To
// (a self-transition, e.g. "reassign" within In Progress).
type Transition[S, A ~string] struct {
	From   S `json:"from"`
	Action A `json:"action"`
	To     S `json:"to"`
}

// LifecycleSpec is the serialisable description of a lifecycle. NewLifecycle
// validates it.
type LifecycleSpec[S, A ~string] struct {
	// Name names the lifecycle in errors and diagrams, e.g. "incident".
	Name string `json:"name"`
	// Initial is the state every record starts in.
	Initial S `json:"initial"`
	// States lists every state, in the order diagrams show them.
	States []StateDef[S] `json:"states"`
	// Transitions lists every (from, action) -> to edge.
	Transitions []Transition[S, A] `json:"transitions"`
}

// Limits on a lifecycle's size and names.
const (
	MaxLifecycleStates      = 256
	MaxLifecycleTransitions = 4096
	MaxLifecycleNameLen     = 64
)

// Lifecycle is a validated, immutable transition table over states S and
// actions A, with a Category per state, one initial state and one or more
// terminal states. It is safe for concurrent use and cheap to share: build one
// per process and use it for every record.
//
// Can, Actions and Next are answered from a precomputed index without
// allocating; NewLifecycle checks that index against looplab/fsm (inside
// internal/fsmx) once, when the lifecycle is built.
type Lifecycle[S, A ~string] struct {
	spec  LifecycleSpec[S, A]
	index map[S]*stateInfo[S, A]
	// few lists the states when they are few enough that comparing a
	// state with each (most often the very string the table declared,
	// which compares equal at once) beats hashing it; nil otherwise.
	few []*stateInfo[S, A]
}

// maxScannedStates is the most states a lifecycle looks up by scanning.
const maxScannedStates = 12

// state returns what the lifecycle knows of s; nil when s is not declared.
func (l *Lifecycle[S, A]) state(s S) *stateInfo[S, A] {
	if l.few == nil {
		return l.index[s]
	}
	for _, info := range l.few {
		if info.def.State == s {
			return info
		}
	}
	return nil
}

type stateInfo[S, A ~string] struct {
	def     StateDef[S]
	out     []outEdge[S, A] // sorted by action
	actions []A             // sorted
	allowed []string        // sorted, for TransitionError
}

type outEdge[S, A ~string] struct {
	action A
	to     S
}

// NewLifecycle validates spec and builds the lifecycle. It reports every
// problem it finds in one *ValidationError, naming the offending field:
//
//   - name: empty or longer than MaxLifecycleNameLen;
//   - initial: missing, or not a declared state;
//   - states[i]: empty, duplicate or malformed names, invalid categories,
//     states not reachable from the initial state, non-terminal states with
//     no outgoing transition (dead ends), states from which no terminal state
//     can be reached;
//   - transitions[i]: unknown from/to states, empty or malformed actions,
//     a (from, action) pair declared twice, transitions out of a terminal
//     state.
//
// The spec is copied; later changes to it do not affect the lifecycle.
func NewLifecycle[S, A ~string](spec LifecycleSpec[S, A]) (*Lifecycle[S, A], error) {
	var errs FieldErrors
	checkName(&errs, "name", spec.Name)

	index := make(map[S]*stateInfo[S, A], len(spec.States))
	switch {
	case len(spec.States) == 0:
		errs.Add("states", "must declare at least one state")
	case len(spec.States) > MaxLifecycleStates:
		errs.Addf("states", "must declare at most %d states, got %d", MaxLifecycleStates, len(spec.States))
	}
	for i, st := range spec.States {
		field := fmt.Sprintf("states[%d]", i)
		if !checkName(&errs, field+".state", string(st.State)) {
			continue
		}
		if !st.Category.Valid() {
			errs.Addf(field+".category", "state %q has no valid category (one of new, active, waiting, resolved, closed, canceled)", string(st.State))
		}
		if !utf8.ValidString(st.Label) || strings.ContainsFunc(st.Label, unicode.IsControl) {
			errs.Addf(field+".label", "state %q has a label that is not printable UTF-8", string(st.State))
		}
		if _, dup := index[st.State]; dup {
			errs.Addf(field+".state", "%q is declared twice", string(st.State))
			continue
		}
		index[st.State] = &stateInfo[S, A]{def: st}
	}

	switch {
	case spec.Initial == "":
		errs.Add("initial", "must name the initial state")
	case index[spec.Initial] == nil:
		errs.Addf("initial", "%q is not a declared state", string(spec.Initial))
	}

	if len(spec.Transitions) > MaxLifecycleTransitions {
		errs.Addf("transitions", "must declare at most %d transitions, got %d", MaxLifecycleTransitions, len(spec.Transitions))
	}
	type edgeKey struct {
		from   S
		action A
	}
	seen := make(map[edgeKey]int, len(spec.Transitions))
	for i, tr := range spec.Transitions {
		field := fmt.Sprintf("transitions[%d]", i)
		from, to := index[tr.From], index[tr.To]
		ok := checkName(&errs, field+".action", string(tr.Action))
		if from == nil {
			errs.Addf(field+".from", "%q is not a declared state", string(tr.From))
			ok = false
		}
		if to == nil {
			errs.Addf(field+".to", "%q is not a declared state", string(tr.To))
			ok = false
		}
		if !ok {
			continue
		}
		if from.def.Terminal {
			errs.Addf(field+".from", "%q is terminal and cannot be left", string(tr.From))
			continue
		}
		k := edgeKey{tr.From, tr.Action}
		if j, dup := seen[k]; dup {
			errs.Addf(field, "action %q from %q is already declared by transitions[%d]", string(tr.Action), string(tr.From), j)
			continue
		}
		seen[k] = i
		from.out = append(from.out, outEdge[S, A]{action: tr.Action, to: tr.To})
	}

	if errs.Len() == 0 {
		checkGraph(&errs, spec, index)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	edges := make([]fsmx.Edge, len(spec.Transitions))
	for i, tr := range spec.Transitions {
		edges[i] = fsmx.Edge{From: string(tr.From), Action: string(tr.Action), To: string(tr.To)}
	}
	for _, info := range index {
		slices.SortFunc(info.out, func(a, b outEdge[S, A]) int { return cmp.Compare(a.action, b.action) })
		info.actions = make([]A, len(info.out))
		info.allowed = make([]string, len(info.out))
		for i, e := range info.out {
			info.actions[i] = e.action
			info.allowed[i] = string(e.action)
		}
	}
	states := make([]string, len(spec.States))
	for i, st := range spec.States {
		states[i] = string(st.State)
	}
	if err := fsmx.Check(string(spec.Initial), edges, states); err != nil {
		return nil, NewValidationError("transitions", err.Error())
	}
	l := &Lifecycle[S, A]{spec: cloneLifecycleSpec(spec), index: index}
	if len(spec.States) <= maxScannedStates {
		l.few = make([]*stateInfo[S, A], len(spec.States))
		for i, st := range spec.States {
			l.few[i] = index[st.State]
		}
	}
	return l, nil
}

// checkName validates a state, action or lifecycle name: 1 to
// MaxLifecycleNameLen bytes of printable UTF-8 without surrounding spaces.
func checkName(errs *FieldErrors, field, s string) bool {
	switch {
	case s == "":
		errs.Add(field, "must not be empty")
	case len(s) > MaxLifecycleNameLen:
		errs.Addf(field, "must be at most %d bytes", MaxLifecycleNameLen)
	case !utf8.ValidString(s):
		errs.Add(field, "must be valid UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		errs.Addf(field, "%q contains a control character", s)
	case strings.TrimSpace(s) != s:
		errs.Addf(field, "%q has leading or trailing spaces", s)
	default:
		return true
	}
	return false
}

// checkGraph reports unreachable states, non-terminal dead ends and states
// from which no terminal state can be reached. It runs only on a table whose
// states and transitions are otherwise valid.
func checkGraph[S, A ~string](errs *FieldErrors, spec LifecycleSpec[S, A], index map[S]*stateInfo[S, A]) {
	reach := map[S]bool{spec.Initial: true}
	queue := []S{spec.Initial}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range index[s].out {
			if !reach[e.to] {
				reach[e.to] = true
				queue = append(queue, e.to)
			}
		}
	}
	// Reverse reachability from the terminal states.
	preds := make(map[S][]S, len(index))
	ends := map[S]bool{}
	hasTerminal := false
	for _, st := range spec.States {
		for _, e := range index[st.State].out {
			preds[e.to] = append(preds[e.to], st.State)
		}
		if st.Terminal {
			hasTerminal = true
			ends[st.State] = true
			queue = append(queue, st.State)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, p := range preds[s] {
			if !ends[p] {
				ends[p] = true
				queue = append(queue, p)
			}
		}
	}
	if !hasTerminal {
		errs.Add("states", "must mark at least one state terminal")
	}
	for i, st := range spec.States {
		field := fmt.Sprintf("states[%d]", i)
		info := index[st.State]
		switch {
		case !reach[st.State]:
			errs.Addf(field, "%q is not reachable from the initial state %q", string(st.State), string(spec.Initial))
		case !st.Terminal && len(info.out) == 0:
			errs.Addf(field, "%q is a dead end: it has no outgoing transition and is not terminal", string(st.State))
		case hasTerminal && !ends[st.State]:
			errs.Addf(field, "%q cannot reach any terminal state", string(st.State))
		}
	}
}

func cloneLifecycleSpec[S, A ~string](s LifecycleSpec[S, A]) LifecycleSpec[S, A] {
	s.States = slices.Clone(s.States)
	s.Transitions = slices.Clone(s.Transitions)
	return s
}

// Name returns the lifecycle's name.
func (l *Lifecycle[S, A]) Name() string { return l.spec.Name }

// Initial returns the state records start in.
func (l *Lifecycle[S, A]) Initial() S { return l.spec.Initial }

// Spec returns a copy of the lifecycle's spec, e.g. to store it.
func (l *Lifecycle[S, A]) Spec() LifecycleSpec[S, A] { return cloneLifecycleSpec(l.spec) }

// States returns every state in declaration order.
func (l *Lifecycle[S, A]) States() []S {
	out := make([]S, len(l.spec.States))
	for i, st := range l.spec.States {
		out[i] = st.State
	}
	return out
}

// Transitions returns every transition in declaration order.
func (l *Lifecycle[S, A]) Transitions() []Transition[S, A] { return slices.Clone(l.spec.Transitions) }

// Has reports whether s is a declared state. Loading a record from storage
// checks its state with Has (or Validate) before trusting it.
func (l *Lifecycle[S, A]) Has(s S) bool { return l.state(s) != nil }

// Validate returns a *ValidationError naming field when s is not a declared
// state.
func (l *Lifecycle[S, A]) Validate(field string, s S) error {
	if l.Has(s) {
		return nil
	}
	return NewValidationError(field, fmt.Sprintf("%q is not a state of lifecycle %q", clip(string(s)), l.spec.Name))
}

// Category returns the category of s; false when s is not declared.
func (l *Lifecycle[S, A]) Category(s S) (Category, bool) {
	info := l.state(s)
	if info == nil {
		return 0, false
	}
	return info.def.Category, true
}

// IsTerminal reports whether s is a declared terminal state.
func (l *Lifecycle[S, A]) IsTerminal(s S) bool {
	info := l.state(s)
	return info != nil && info.def.Terminal
}

// Terminal returns the terminal states in declaration order.
func (l *Lifecycle[S, A]) Terminal() []S {
	var out []S
	for _, st := range l.spec.States {
		if st.Terminal {
			out = append(out, st.State)
		}
	}
	return out
}

// InCategory returns the states of category c in declaration order.
func (l *Lifecycle[S, A]) InCategory(c Category) []S {
	var out []S
	for _, st := range l.spec.States {
		if st.Category == c {
			out = append(out, st.State)
		}
	}
	return out
}

// Label returns the display label of s: its declared Label, or the state name.
func (l *Lifecycle[S, A]) Label(s S) string {
	if info := l.state(s); info != nil && info.def.Label != "" {
		return info.def.Label
	}
	return string(s)
}

// Can reports whether action is allowed from state from. It answers from a
// precomputed index without allocating.
func (l *Lifecycle[S, A]) Can(from S, action A) bool {
	_, ok := l.target(from, action)
	return ok
}

func (l *Lifecycle[S, A]) target(from S, action A) (S, bool) {
	info := l.state(from)
	if info == nil {
		return "", false
	}
	return info.target(action)
}

// target returns the state action leads to from this state.
func (info *stateInfo[S, A]) target(action A) (S, bool) {
	out := info.out
	if len(out) <= 8 {
		for i := range out {
			if out[i].action == action {
				return out[i].to, true
			}
		}
		return "", false
	}
	i, found := slices.BinarySearchFunc(out, action, func(e outEdge[S, A], a A) int { return cmp.Compare(e.action, a) })
	if !found {
		return "", false
	}
	return out[i].to, true
}

// Actions returns the actions allowed from state from, sorted. It returns nil
// for an undeclared or terminal state.
func (l *Lifecycle[S, A]) Actions(from S) []A {
	info := l.state(from)
	if info == nil || len(info.actions) == 0 {
		return nil
	}
	return slices.Clone(info.actions)
}

// Next returns the state that action leads to from state from. Guards that
// depend on the record (reasons, permissions) run before Next, in the domain
// package; effects run after it.
//
// It returns a *TransitionError (errors.Is ErrInvalidTransition) when from is
// not a declared state, when from is terminal, or when the action is not
// allowed from it; the error lists the actions that are allowed.
func (l *Lifecycle[S, A]) Next(from S, action A) (S, error) {
	info := l.state(from)
	if info == nil {
		return from, l.refuse(from, action, fmt.Sprintf("%q is not a state of this lifecycle", clip(string(from))), nil)
	}
	if info.def.Terminal {
		return from, l.refuse(from, action, fmt.Sprintf("%s is terminal", string(from)), nil)
	}
	if to, ok := info.target(action); ok {
		return to, nil
	}
	if !l.known(action) {
		return from, l.refuse(from, action, fmt.Sprintf("%q is not an action of this lifecycle", clip(string(action))), info.allowed)
	}
	return from, l.refuse(from, action, fmt.Sprintf("%s is not allowed from %s", clip(string(action)), string(from)), info.allowed)
}

// known reports whether some transition of the lifecycle carries action.
func (l *Lifecycle[S, A]) known(action A) bool {
	for _, tr := range l.spec.Transitions {
		if tr.Action == action {
			return true
		}
	}
	return false
}

func (l *Lifecycle[S, A]) refuse(from S, action A, reason string, allowed []string) error {
	return &TransitionError{
		Lifecycle: l.spec.Name,
		From:      clip(string(from)),
		Action:    clip(string(action)),
		Reason:    reason,
		Allowed:   slices.Clone(allowed),
	}
}

// CategoryPath asks for a way from some state of category From to some state
// of category To, e.g. from new to resolved.
type CategoryPath struct {
	From Category `json:"from"`
	To   Category `json:"to"`
}

// Requirements is what a service needs of a user-supplied lifecycle: states
// of certain categories, and paths between categories.
type Requirements struct {
	// For names who needs it, for the error message, e.g. "incident.Service".
	For string
	// Categories lists categories that must each have at least one state.
	Categories []Category
	// Paths lists category pairs that must be connected by some sequence of
	// transitions.
	Paths []CategoryPath
}

// Require checks that the lifecycle meets r. It returns a *ValidationError
// that lists every missing category ("states") and every missing path
// ("transitions"), saying who needs it.
func (l *Lifecycle[S, A]) Require(r Requirements) error {
	who := r.For
	if who == "" {
		who = "the caller"
	}
	var errs FieldErrors
	for _, c := range r.Categories {
		if len(l.InCategory(c)) == 0 {
			errs.Addf("states", "%s needs a state in category %s; lifecycle %q has none", who, c, l.spec.Name)
		}
	}
	for _, p := range r.Paths {
		if !l.connected(p.From, p.To) {
			errs.Addf("transitions", "%s needs a path from a %s state to a %s state; lifecycle %q has none", who, p.From, p.To, l.spec.Name)
		}
	}
	return errs.Err()
}

func (l *Lifecycle[S, A]) connected(from, to Category) bool {
	seen := map[S]bool{}
	queue := l.InCategory(from)
	for _, s := range queue {
		seen[s] = true
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range l.index[s].out {
			if l.index[e.to].def.Category == to {
				return true
			}
			if !seen[e.to] {
				seen[e.to] = true
				queue = append(queue, e.to)
			}
		}
	}
	return false
}

// MarshalJSON writes the lifecycle's spec.
func (l *Lifecycle[S, A]) MarshalJSON() ([]byte, error) { return json.Marshal(l.spec) }

// UnmarshalJSON reads a spec and validates it as NewLifecycle does.
func (l *Lifecycle[S, A]) UnmarshalJSON(b []byte) error {
	var spec LifecycleSpec[S, A]
	if err := json.Unmarshal(b, &spec); err != nil {
		return NewValidationError("lifecycle", "is not a valid JSON lifecycle spec: "+err.Error())
	}
	built, err := NewLifecycle(spec)
	if err != nil {
		return err
	}
	*l = *built
	return nil
}
