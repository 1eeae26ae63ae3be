package fsmx_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/itsmkit/itsmkit/internal/fsmx"
)

func TestFire(t *testing.T) {
	m := fsmx.New("a", []fsmx.Edge{
		{From: "a", Action: "go", To: "b"},
		{From: "b", Action: "stay", To: "b"},
		{From: "b", Action: "go", To: "c"},
	})
	tests := []struct {
		from, action string
		want         string
		outcome      fsmx.Outcome
	}{
		{"a", "go", "b", fsmx.Moved},
		{"b", "go", "c", fsmx.Moved},
		{"b", "stay", "b", fsmx.Moved}, // looplab's NoTransitionError is a success
		{"a", "stay", "a", fsmx.NotAllowed},
		{"c", "go", "c", fsmx.NotAllowed},
		{"a", "fly", "a", fsmx.UnknownAction},
	}
	for _, tc := range tests {
		t.Run(tc.from+"/"+tc.action, func(t *testing.T) {
			got, outcome, err := m.Fire(tc.from, tc.action)
			assert.NoError(t, err)
			assert.Equal(t, tc.outcome, outcome)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A pooled FSM must not carry its last state into the next call.
func TestFireDoesNotLeakStateBetweenCalls(t *testing.T) {
	m := fsmx.New("a", []fsmx.Edge{{From: "a", Action: "go", To: "b"}, {From: "b", Action: "back", To: "a"}})
	for i := 0; i < 100; i++ {
		got, outcome, err := m.Fire("a", "go")
		assert.NoError(t, err)
		assert.Equal(t, fsmx.Moved, outcome)
		assert.Equal(t, "b", got)
	}
}

func sixStateEdges() []fsmx.Edge {
	return []fsmx.Edge{
		{From: "new", Action: "assign", To: "in_progress"},
		{From: "in_progress", Action: "hold", To: "on_hold"},
		{From: "on_hold", Action: "resume", To: "in_progress"},
		{From: "in_progress", Action: "resolve", To: "resolved"},
		{From: "resolved", Action: "close", To: "closed"},
		{From: "new", Action: "cancel", To: "canceled"},
	}
}

// BenchmarkFire measures the pooled path Lifecycle.Next uses, beside the
// cost of building a fresh machine for every call, which the pool avoids.
func BenchmarkFire(b *testing.B) {
	b.Run("machine=pooled", func(b *testing.B) {
		m := fsmx.New("new", sixStateEdges())
		b.ReportAllocs()
		for b.Loop() {
			if _, o, _ := m.Fire("in_progress", "hold"); o != fsmx.Moved {
				b.Fatal("not moved")
			}
		}
	})
	b.Run("machine=fresh", func(b *testing.B) {
		edges := sixStateEdges()
		b.ReportAllocs()
		for b.Loop() {
			if _, o, _ := fsmx.New("new", edges).Fire("in_progress", "hold"); o != fsmx.Moved {
				b.Fatal("not moved")
			}
		}
	})
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		edges   []fsmx.Edge
		states  []string
		wantErr string
	}{
		{
			name:   "agreeing table",
			edges:  []fsmx.Edge{{From: "a", Action: "go", To: "b"}, {From: "b", Action: "stay", To: "b"}, {From: "b", Action: "go", To: "c"}},
			states: []string{"a", "b", "c"},
		},
		{
			// looplab keeps one target per (from, action), so a table that
			// declares two disagrees with it on one of them.
			name:    "duplicate edge with another target",
			edges:   []fsmx.Edge{{From: "a", Action: "go", To: "b"}, {From: "a", Action: "go", To: "c"}},
			states:  []string{"a", "b", "c"},
			wantErr: `looplab/fsm takes "go" from "a"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := fsmx.Check(tc.states[0], tc.edges, tc.states)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}
