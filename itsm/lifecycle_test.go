package itsm_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

type (
	state  string
	action string
)

// sixStates is the six-state lifecycle of DOMAIN.md §3 without its imported
// shortcuts, used by tests and benchmarks.
func sixStates() itsm.LifecycleSpec[state, action] {
	return itsm.LifecycleSpec[state, action]{
		Name:    "incident",
		Initial: "new",
		States: []itsm.StateDef[state]{
			{State: "new", Category: itsm.CategoryNew, Label: "New"},
			{State: "in_progress", Category: itsm.CategoryActive, Label: "In Progress"},
			{State: "on_hold", Category: itsm.CategoryWaiting, Label: "On Hold"},
			{State: "resolved", Category: itsm.CategoryResolved, Label: "Resolved"},
			{State: "closed", Category: itsm.CategoryClosed, Terminal: true, Label: "Closed"},
			{State: "canceled", Category: itsm.CategoryCanceled, Terminal: true, Label: "Canceled"},
		},
		Transitions: []itsm.Transition[state, action]{
			{From: "new", Action: "assign", To: "in_progress"},
			{From: "new", Action: "hold", To: "on_hold"},
			{From: "in_progress", Action: "hold", To: "on_hold"},
			{From: "in_progress", Action: "reassign", To: "in_progress"},
			{From: "on_hold", Action: "resume", To: "in_progress"},
			{From: "new", Action: "resolve", To: "resolved"},
			{From: "in_progress", Action: "resolve", To: "resolved"},
			{From: "on_hold", Action: "resolve", To: "resolved"},
			{From: "resolved", Action: "reopen", To: "in_progress"},
			{From: "resolved", Action: "close", To: "closed"},
			{From: "new", Action: "cancel", To: "canceled"},
			{From: "in_progress", Action: "cancel", To: "canceled"},
			{From: "on_hold", Action: "cancel", To: "canceled"},
		},
	}
}

func mustLifecycle(t testing.TB, spec itsm.LifecycleSpec[state, action]) *itsm.Lifecycle[state, action] {
	t.Helper()
	l, err := itsm.NewLifecycle(spec)
	require.NoError(t, err)
	return l
}

func TestNewLifecycleRejectsBadTables(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*itsm.LifecycleSpec[state, action])
		field  string
	}{
		{"missing initial state", func(s *itsm.LifecycleSpec[state, action]) { s.Initial = "" }, "initial"},
		{"initial state not declared", func(s *itsm.LifecycleSpec[state, action]) { s.Initial = "draft" }, "initial"},
		{"unknown from state", func(s *itsm.LifecycleSpec[state, action]) {
			s.Transitions = append(s.Transitions, itsm.Transition[state, action]{From: "limbo", Action: "assign", To: "in_progress"})
		}, "transitions[13].from"},
		{"unknown to state", func(s *itsm.LifecycleSpec[state, action]) {
			s.Transitions[0].To = "working"
		}, "transitions[0].to"},
		{"duplicate edge", func(s *itsm.LifecycleSpec[state, action]) {
			s.Transitions = append(s.Transitions, itsm.Transition[state, action]{From: "new", Action: "assign", To: "on_hold"})
		}, "transitions[13]"},
		{"unreachable state", func(s *itsm.LifecycleSpec[state, action]) {
			s.States = append(s.States, itsm.StateDef[state]{State: "archived", Category: itsm.CategoryClosed, Terminal: true})
		}, "states[6]"},
		{"non-terminal dead end", func(s *itsm.LifecycleSpec[state, action]) {
			s.States = append(s.States, itsm.StateDef[state]{State: "parked", Category: itsm.CategoryWaiting})
			s.Transitions = append(s.Transitions, itsm.Transition[state, action]{From: "in_progress", Action: "park", To: "parked"})
		}, "states[6]"},
		{"cycle with no way out", func(s *itsm.LifecycleSpec[state, action]) {
			s.States = append(s.States,
				itsm.StateDef[state]{State: "ping", Category: itsm.CategoryActive},
				itsm.StateDef[state]{State: "pong", Category: itsm.CategoryActive})
			s.Transitions = append(s.Transitions,
				itsm.Transition[state, action]{From: "new", Action: "play", To: "ping"},
				itsm.Transition[state, action]{From: "ping", Action: "hit", To: "pong"},
				itsm.Transition[state, action]{From: "pong", Action: "hit", To: "ping"})
		}, "states[6]"},
		{"transition out of a terminal state", func(s *itsm.LifecycleSpec[state, action]) {
			s.Transitions = append(s.Transitions, itsm.Transition[state, action]{From: "closed", Action: "reopen", To: "in_progress"})
		}, "transitions[13].from"},
		{"duplicate state", func(s *itsm.LifecycleSpec[state, action]) {
			s.States = append(s.States, itsm.StateDef[state]{State: "new", Category: itsm.CategoryNew})
		}, "states[6].state"},
		{"state without category", func(s *itsm.LifecycleSpec[state, action]) { s.States[1].Category = 0 }, "states[1].category"},
		{"empty state name", func(s *itsm.LifecycleSpec[state, action]) { s.States[2].State = "" }, "states[2].state"},
		{"empty action", func(s *itsm.LifecycleSpec[state, action]) { s.Transitions[3].Action = "" }, "transitions[3].action"},
		{"action with control character", func(s *itsm.LifecycleSpec[state, action]) { s.Transitions[3].Action = "re\nassign" }, "transitions[3].action"},
		{"no states", func(s *itsm.LifecycleSpec[state, action]) { s.States = nil; s.Transitions = nil }, "states"},
		{"no terminal state", func(s *itsm.LifecycleSpec[state, action]) {
			s.States[4].Terminal = false
			s.States[5].Terminal = false
			s.Transitions = append(s.Transitions,
				itsm.Transition[state, action]{From: "closed", Action: "reopen", To: "in_progress"},
				itsm.Transition[state, action]{From: "canceled", Action: "reopen", To: "in_progress"})
		}, "states"},
		{"missing name", func(s *itsm.LifecycleSpec[state, action]) { s.Name = "" }, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := sixStates()
			tc.mutate(&spec)
			l, err := itsm.NewLifecycle(spec)
			require.Error(t, err)
			assert.Nil(t, l)
			assert.ErrorIs(t, err, itsm.ErrInvalid)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "want a problem on %q, got %v", tc.field, err)
		})
	}
}

func TestNewLifecycleReportsEveryProblem(t *testing.T) {
	spec := sixStates()
	spec.Name = ""
	spec.Initial = "draft"
	spec.Transitions[0].To = "nowhere"
	_, err := itsm.NewLifecycle(spec)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.All(), 3)
	for _, f := range []string{"name", "initial", "transitions[0].to"} {
		assert.True(t, ve.Has(f), f)
	}
}

func TestLifecycleCopiesItsSpec(t *testing.T) {
	spec := sixStates()
	l := mustLifecycle(t, spec)
	spec.States[0].State = "mutated"
	spec.Transitions[0].To = "closed"
	next, err := l.Next("new", "assign")
	require.NoError(t, err)
	assert.Equal(t, state("in_progress"), next)
	got := l.Spec()
	got.States[0].Category = itsm.CategoryClosed
	c, _ := l.Category("new")
	assert.Equal(t, itsm.CategoryNew, c)
}

func TestLifecycleNext(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	tests := []struct {
		from    state
		action  action
		want    state
		wantErr string // substring of the TransitionError reason; "" means success
	}{
		{"new", "assign", "in_progress", ""},
		{"in_progress", "reassign", "in_progress", ""}, // self-transition is a success
		{"on_hold", "resume", "in_progress", ""},
		{"resolved", "close", "closed", ""},
		{"resolved", "reopen", "in_progress", ""},
		{"new", "close", "new", "not allowed"},
		{"closed", "reopen", "closed", "terminal"},
		{"canceled", "assign", "canceled", "terminal"},
		{"limbo", "assign", "limbo", "not a state"},
		{"new", "explode", "new", "not an action"},
	}
	for _, tc := range tests {
		t.Run(string(tc.from)+"/"+string(tc.action), func(t *testing.T) {
			got, err := l.Next(tc.from, tc.action)
			assert.Equal(t, tc.want, got)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.True(t, l.Can(tc.from, tc.action))
				return
			}
			require.Error(t, err)
			assert.False(t, l.Can(tc.from, tc.action))
			assert.ErrorIs(t, err, itsm.ErrInvalidTransition)
			var te *itsm.TransitionError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "incident", te.Lifecycle)
			assert.Equal(t, string(tc.from), te.From)
			assert.Equal(t, string(tc.action), te.Action)
			assert.Contains(t, te.Reason, tc.wantErr)
		})
	}
}

func TestTransitionErrorListsAllowedActions(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	_, err := l.Next("resolved", "assign")
	var te *itsm.TransitionError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, []string{"close", "reopen"}, te.Allowed)
	assert.Equal(t, "incident: cannot assign from resolved: assign is not allowed from resolved (allowed: close, reopen)", te.Error())
}

func TestLifecycleQueries(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	assert.Equal(t, "incident", l.Name())
	assert.Equal(t, state("new"), l.Initial())
	assert.Equal(t, []state{"new", "in_progress", "on_hold", "resolved", "closed", "canceled"}, l.States())
	assert.Equal(t, []state{"closed", "canceled"}, l.Terminal())
	assert.Equal(t, []action{"assign", "cancel", "hold", "resolve"}, l.Actions("new"))
	assert.Nil(t, l.Actions("closed"))
	assert.Nil(t, l.Actions("limbo"))
	assert.Equal(t, []state{"on_hold"}, l.InCategory(itsm.CategoryWaiting))
	c, ok := l.Category("resolved")
	assert.True(t, ok)
	assert.Equal(t, itsm.CategoryResolved, c)
	_, ok = l.Category("limbo")
	assert.False(t, ok)
	assert.True(t, l.IsTerminal("closed"))
	assert.False(t, l.IsTerminal("resolved"))
	assert.Equal(t, "In Progress", l.Label("in_progress"))
	assert.Equal(t, "limbo", l.Label("limbo"))
	assert.Len(t, l.Transitions(), 13)
	require.NoError(t, l.Validate("state", "on_hold"))
	var ve *itsm.ValidationError
	require.ErrorAs(t, l.Validate("state", "limbo"), &ve)
	assert.Equal(t, "state", ve.Field)

	acts := l.Actions("new")
	acts[0] = "mutated"
	assert.Equal(t, action("assign"), l.Actions("new")[0], "Actions returns a copy")
}

func TestLifecycleRequire(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	require.NoError(t, l.Require(itsm.Requirements{
		For:        "incident.Service",
		Categories: []itsm.Category{itsm.CategoryNew, itsm.CategoryWaiting, itsm.CategoryResolved},
		Paths:      []itsm.CategoryPath{{From: itsm.CategoryWaiting, To: itsm.CategoryResolved}},
	}))

	spec := sixStates()
	spec.States = spec.States[:4]
	spec.States[3].Terminal = true
	spec.States = append(spec.States, itsm.StateDef[state]{State: "canceled", Category: itsm.CategoryCanceled, Terminal: true})
	spec.Transitions = []itsm.Transition[state, action]{
		{From: "new", Action: "assign", To: "in_progress"},
		{From: "in_progress", Action: "hold", To: "on_hold"},
		{From: "on_hold", Action: "cancel", To: "canceled"},
		{From: "in_progress", Action: "resolve", To: "resolved"},
	}
	small := mustLifecycle(t, spec)
	err := small.Require(itsm.Requirements{
		For:        "incident.Service",
		Categories: []itsm.Category{itsm.CategoryClosed, itsm.CategoryWaiting},
		Paths:      []itsm.CategoryPath{{From: itsm.CategoryWaiting, To: itsm.CategoryResolved}},
	})
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.All(), 2)
	assert.Equal(t, itsm.FieldError{Field: "states", Reason: `incident.Service needs a state in category closed; lifecycle "incident" has none`}, ve.All()[0])
	assert.Equal(t, itsm.FieldError{Field: "transitions", Reason: `incident.Service needs a path from a waiting state to a resolved state; lifecycle "incident" has none`}, ve.All()[1])
}

func TestLifecycleJSONRoundTrip(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	b, err := json.Marshal(l)
	require.NoError(t, err)
	var back itsm.Lifecycle[state, action]
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, l.Spec(), back.Spec())
	next, err := back.Next("new", "assign")
	require.NoError(t, err)
	assert.Equal(t, state("in_progress"), next)

	bad := []byte(`{"name":"x","initial":"a","states":[{"state":"a","category":"new"}],"transitions":[]}`)
	err = json.Unmarshal(bad, &back)
	assert.ErrorIs(t, err, itsm.ErrInvalid)
	err = json.Unmarshal([]byte(`{"name":"x","initial":"a","states":[{"state":"a","category":"sleeping"}]}`), &back)
	assert.ErrorIs(t, err, itsm.ErrInvalid)
}

// The golden diagrams live in testdata/; run with -update to rewrite them
// after an intended change and review the diff.
func TestLifecycleDiagramsGolden(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	for _, tc := range []struct {
		file string
		got  string
	}{
		{"incident.mmd", l.Mermaid()},
		{"incident.dot", l.DOT()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(tc.got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), tc.got)
		})
	}
}

func TestMermaidQuotesAwkwardNames(t *testing.T) {
	spec := itsm.LifecycleSpec[state, action]{
		Name:    "odd",
		Initial: "state",
		States: []itsm.StateDef[state]{
			{State: "state", Category: itsm.CategoryNew},
			{State: "Awaiting: caller", Category: itsm.CategoryWaiting},
			{State: "done", Category: itsm.CategoryClosed, Terminal: true},
		},
		Transitions: []itsm.Transition[state, action]{
			{From: "state", Action: "wait; then", To: "Awaiting: caller"},
			{From: "Awaiting: caller", Action: "finish", To: "done"},
		},
	}
	got := mustLifecycle(t, spec).Mermaid()
	assert.Contains(t, got, `state "state" as s0`)
	assert.Contains(t, got, `state "Awaiting#colon; caller" as s1`)
	assert.Contains(t, got, "s0 --> s1 : wait#59; then")
}

// Generated identifiers and the DOT start point never take a state's name.
func TestDiagramNamesNeverCollide(t *testing.T) {
	spec := itsm.LifecycleSpec[state, action]{
		Name:    "clash",
		Initial: "s1",
		States: []itsm.StateDef[state]{
			{State: "s1", Category: itsm.CategoryNew},
			{State: "end", Category: itsm.CategoryActive},
			{State: "__start__", Category: itsm.CategoryClosed, Terminal: true},
		},
		Transitions: []itsm.Transition[state, action]{
			{From: "s1", Action: "work", To: "end"},
			{From: "end", Action: "finish", To: "__start__"},
		},
	}
	l := mustLifecycle(t, spec)
	mermaid := l.Mermaid()
	assert.Contains(t, mermaid, `state "end" as s1_`, "s1 is a state's own name")
	assert.Contains(t, mermaid, "s1 --> s1_ : work")
	assert.NotContains(t, mermaid, "s1 --> s1 ")
	dot := l.DOT()
	assert.Contains(t, dot, `"__start___" [shape=point`)
	assert.Contains(t, dot, `"__start___" -> "s1";`)
	assert.Contains(t, dot, `"end" -> "__start__" [label="finish"];`)
}

func TestNextIsSafeForConcurrentUse(t *testing.T) {
	l := mustLifecycle(t, sixStates())
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 500; i++ {
				to, err := l.Next("new", "assign")
				if err != nil || to != "in_progress" {
					errs <- errors.New("wrong transition under concurrency")
					return
				}
				if _, err := l.Next("closed", "reopen"); err == nil {
					errs <- errors.New("terminal state left under concurrency")
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		require.NoError(t, <-errs)
	}
}

func BenchmarkLifecycleNext(b *testing.B) {
	l := mustLifecycle(b, sixStates())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Next("in_progress", "hold"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLifecycleCan(b *testing.B) {
	l := mustLifecycle(b, sixStates())
	b.ReportAllocs()
	for b.Loop() {
		if !l.Can("on_hold", "resolve") {
			b.Fatal("want allowed")
		}
	}
}
