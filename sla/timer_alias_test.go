package sla

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tmDeepCopy copies st through JSON, so the copy certainly shares nothing.
func tmDeepCopy(t testing.TB, st State) State {
	t.Helper()
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var out State
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// tmScribble overwrites every mutable part of st, and appends to each list
// in place, as a careless caller might.
func tmScribble(st *State) {
	for k := range st.Previous {
		st.Previous[k] = "scribbled"
	}
	if st.Previous != nil {
		st.Previous["scribbled"] = "yes"
	}
	for i := range st.Timers {
		tm := &st.Timers[i]
		tm.Goal, tm.Stage, tm.BusinessElapsed = "scribbled", StageCanceled, -1
		for j := range tm.Marks {
			tm.Marks[j].Threshold = "scribbled"
		}
		for j := range tm.Segments {
			tm.Segments[j].Kind = "scribbled"
		}
		for j := range tm.Changes {
			tm.Changes[j].To = "scribbled"
		}
		tm.Marks = append(tm.Marks, Mark{Threshold: "scribbled"})
		tm.Segments = append(tm.Segments, Segment{Kind: "scribbled"})
		tm.Changes = append(tm.Changes, Change{To: "scribbled"})
	}
	st.Timers = append(st.Timers, Timer{Goal: "scribbled"})
}

// TestEngineOutputsShareNoMemoryWithInputs checks, over random histories,
// that scribbling over what any Engine method returns leaves its input as
// it was, and scribbling over the input afterwards leaves the output alone.
func TestEngineOutputsShareNoMemoryWithInputs(t *testing.T) {
	e := tmReplayEngine(t)
	as := tmReplayAgreements()
	v2 := as[0]
	v2.Version = 2
	v2.Targets = append([]Target(nil), v2.Targets...)
	v2.Targets[1].Goals = tmByPriority(time.Hour, 2*time.Hour, 3*time.Hour)
	both, err := NewEngine(append(as, v2), CalendarMap{"office": testWeekdayCal{}})
	require.NoError(t, err)

	// check calls op on a private copy of in and verifies both directions.
	check := func(t *testing.T, name string, in State, op func(State) (State, error)) {
		t.Helper()
		mine := tmDeepCopy(t, in)
		in = tmDeepCopy(t, in)
		out, err := op(in)
		require.NoError(t, err, name)
		outSnap := tmDeepCopy(t, out)
		tmScribble(&out)
		require.Equal(t, mine, tmDeepCopy(t, in), "%s: scribbling over the output changed the input", name)
		tmScribble(&in)
		_ = out
		out2, err := op(mine)
		require.NoError(t, err)
		require.Equal(t, outSnap, tmDeepCopy(t, out2), "%s: not a pure function of its input", name)
	}
	for seed := range uint64(60) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0xa11a5))
			st := State{Record: tmRecord}
			var history []Observation
			for _, s := range tmRandomSteps(func(n int) int { return r.IntN(n) }) {
				at := s.obs.At
				if s.advance {
					check(t, "advance", st, func(in State) (State, error) { out, _, err := e.Advance(in, at); return out, err })
				} else {
					obs := s.obs
					history = append(history, obs)
					check(t, "observe", st, func(in State) (State, error) { out, _, err := e.Observe(in, obs); return out, err })
					hist := append([]Observation(nil), history...)
					for _, strategy := range []Strategy{StrategyFrozen, StrategyKeepConsumed, StrategyRecompute} {
						check(t, "migrate", st, func(in State) (State, error) { out, _, err := both.Migrate(in, hist, strategy); return out, err })
					}
				}
				for i := range st.Timers {
					check(t, "explain", st, func(in State) (State, error) {
						x, err := e.Explain(in.Timers[i])
						return State{Record: in.Record, Timers: []Timer{x.Timer}}, err
					})
				}
				var err error
				if s.advance {
					st, _, err = e.Advance(st, at)
				} else {
					st, _, err = e.Observe(st, s.obs)
				}
				require.NoError(t, err)
			}
		})
	}
}
