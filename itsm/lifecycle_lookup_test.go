package itsm_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// chain returns a lifecycle of n states s0 → s1 → … → s(n-1), each moved
// on by "next", the last terminal, with labels.
func chain(t *testing.T, n int) *itsm.Lifecycle[state, action] {
	t.Helper()
	spec := itsm.LifecycleSpec[state, action]{Name: "chain", Initial: "s0"}
	for i := range n {
		st := itsm.StateDef[state]{State: state(fmt.Sprintf("s%d", i)), Category: itsm.CategoryActive, Label: fmt.Sprintf("S%d", i)}
		switch i {
		case 0:
			st.Category = itsm.CategoryNew
		case n - 1:
			st.Category, st.Terminal = itsm.CategoryClosed, true
		}
		spec.States = append(spec.States, st)
		if i < n-1 {
			spec.Transitions = append(spec.Transitions, itsm.Transition[state, action]{From: st.State, Action: "next", To: state(fmt.Sprintf("s%d", i+1))})
		}
	}
	return mustLifecycle(t, spec)
}

// TestLifecycleLookupSmallAndLarge runs the state lookups on lifecycles
// small enough to be scanned and too large for it, with states built at
// run time (strings that equal the declared ones without sharing them).
func TestLifecycleLookupSmallAndLarge(t *testing.T) {
	for _, n := range []int{2, 12, 13, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			l := chain(t, n)
			for i := range n {
				s := state(fmt.Sprintf("s%d", i))
				require.True(t, l.Has(s), s)
				c, ok := l.Category(s)
				require.True(t, ok)
				assert.Equal(t, i == n-1, l.IsTerminal(s))
				assert.Equal(t, fmt.Sprintf("S%d", i), l.Label(s))
				if i < n-1 {
					assert.NotEqual(t, itsm.CategoryClosed, c)
					to, err := l.Next(s, "next")
					require.NoError(t, err)
					assert.Equal(t, state(fmt.Sprintf("s%d", i+1)), to)
					assert.Equal(t, []action{"next"}, l.Actions(s))
				} else {
					assert.Equal(t, itsm.CategoryClosed, c)
					_, err := l.Next(s, "next")
					require.ErrorIs(t, err, itsm.ErrInvalidTransition)
				}
			}
			for _, s := range []state{"", "s", state(fmt.Sprintf("s%d", n)), "S0"} {
				assert.False(t, l.Has(s), s)
				_, ok := l.Category(s)
				assert.False(t, ok, s)
				assert.False(t, l.Can(s, "next"), s)
				_, err := l.Next(s, "next")
				require.ErrorIs(t, err, itsm.ErrInvalidTransition)
			}
		})
	}
}
