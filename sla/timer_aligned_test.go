package sla

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAligned pins Engine.aligned: true exactly when the state holds one
// timer per target of the latest versions, in the order observe attaches
// them, and then timer k is what State.latest finds for target k.
func TestAligned(t *testing.T) {
	e := tmReplayEngine(t)
	type pair struct{ agreement, metric string }
	var order []pair
	for _, ca := range e.latest {
		for _, ct := range ca.targets {
			order = append(order, pair{ca.id, ct.metric})
		}
	}
	require.Len(t, order, 5)
	build := func(ps []pair) State {
		st := State{Record: tmRecord}
		for _, p := range ps {
			st.Timers = append(st.Timers, Timer{Agreement: p.agreement, Metric: p.metric, Cycle: 1})
		}
		return st
	}
	swapped := append([]pair(nil), order...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	otherAgreement := append([]pair(nil), order...)
	otherAgreement[4].agreement = "gold" // gold/resolution twice, vendor/resolution missing
	otherMetric := append([]pair(nil), order...)
	otherMetric[2].metric = "fixes"
	tests := []struct {
		name  string
		pairs []pair
		want  bool
	}{
		{"one per target in order", order, true},
		{"none", nil, false},
		{"one missing", order[:4], false},
		{"a second cycle", append(append([]pair(nil), order...), order[1]), false},
		{"out of order", swapped, false},
		{"another agreement's target", otherAgreement, false},
		{"a metric no target has", otherMetric, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := build(tc.pairs)
			assert.Equal(t, tc.want, e.aligned(&st))
			if tc.want {
				for k, p := range order {
					assert.Equal(t, k, st.latest(p.agreement, p.metric), "%v", p)
				}
			}
		})
	}
}
