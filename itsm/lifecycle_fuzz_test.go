package itsm_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// randomSpec decodes a lifecycle table from fuzz bytes: a state count, then
// triples (from, action, to) of small indexes. Many decoded tables are
// invalid on purpose.
func randomSpec(table []byte) itsm.LifecycleSpec[state, action] {
	spec := itsm.LifecycleSpec[state, action]{Name: "fuzz", Initial: "s0"}
	if len(table) == 0 {
		return spec
	}
	n := int(table[0])%8 + 1
	for i := 0; i < n; i++ {
		spec.States = append(spec.States, itsm.StateDef[state]{
			State:    state(fmt.Sprintf("s%d", i)),
			Category: itsm.Category(i%6 + 1),
			Terminal: i == n-1,
		})
	}
	for k := 1; k+2 < len(table) && len(spec.Transitions) < 64; k += 3 {
		spec.Transitions = append(spec.Transitions, itsm.Transition[state, action]{
			From:   state(fmt.Sprintf("s%d", int(table[k])%(n+1))), // n+1 sometimes names an undeclared state
			Action: action(fmt.Sprintf("a%d", int(table[k+1])%5)),
			To:     state(fmt.Sprintf("s%d", int(table[k+2])%(n+1))),
		})
	}
	return spec
}

// FuzzLifecycle builds random tables and drives the valid ones with random
// action sequences. Invalid tables must be rejected with a *ValidationError
// and never panic; on valid ones, Next never reaches an undeclared state,
// never leaves a terminal one, agrees with Can, and Actions lists exactly the
// actions Can allows, sorted.
func FuzzLifecycle(f *testing.F) {
	f.Add([]byte{3, 0, 0, 1, 1, 1, 2}, []byte{0, 1, 2, 0, 1})
	f.Add([]byte{2, 0, 0, 1}, []byte{0, 0, 0})
	f.Add([]byte{5, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 1, 4, 0}, []byte{1, 2, 3, 4, 0, 1})
	f.Add([]byte{4, 0, 0, 9, 1, 1, 2}, []byte{7, 7})
	f.Fuzz(func(t *testing.T, table, actions []byte) {
		spec := randomSpec(table)
		l, err := itsm.NewLifecycle(spec)
		if err != nil {
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve, "a rejected table must give a *ValidationError")
			return
		}
		declared := map[state]bool{}
		for _, s := range l.States() {
			declared[s] = true
		}
		cur := l.Initial()
		for _, b := range actions {
			a := action(fmt.Sprintf("a%d", int(b)%6)) // a5 is never declared
			wasTerminal := l.IsTerminal(cur)
			can := l.Can(cur, a)
			next, err := l.Next(cur, a)
			if err != nil {
				require.True(t, errors.Is(err, itsm.ErrInvalidTransition))
				require.False(t, can, "Can allowed what Next refused")
				require.Equal(t, cur, next, "a refused action must not move the state")
				continue
			}
			require.True(t, can, "Next allowed what Can refused")
			require.False(t, wasTerminal, "left terminal state %s", cur)
			require.True(t, declared[next], "reached undeclared state %q", next)
			cur = next
		}
		for _, s := range l.States() {
			acts := l.Actions(s)
			require.True(t, slices.IsSorted(acts))
			for i := 0; i < 6; i++ {
				a := action(fmt.Sprintf("a%d", i))
				require.Equal(t, l.Can(s, a), slices.Contains(acts, a))
			}
		}
	})
}
