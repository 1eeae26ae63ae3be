package sla

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tmSpare returns s in a new array with k more elements of spare capacity
// holding fill, so that a write into the spare capacity shows.
func tmSpare[T any](s []T, k int, fill T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s), len(s)+k)
	copy(out, s)
	for range k {
		out = append(out, fill)
	}
	return out[:len(s)]
}

// tmTail returns a check that s's spare capacity still holds what it
// holds now.
func tmTail[T any](s []T) func() bool {
	spare := s[len(s):cap(s)]
	was := slices.Clone(spare)
	return func() bool { return reflect.DeepEqual(was, slices.Clone(spare)) }
}

// tmShare makes st look like a state a store lends to every reader: its
// lists get spare capacity holding sentinels (sometimes), its instants are
// denormalised (with denorm), and its Previous map holds a stale entry
// (sometimes). It returns checks that the spare capacity is untouched.
func tmShare(st *State, r *rand.Rand, denorm bool) []func() bool {
	if denorm {
		tmDenormalize(st, r)
	}
	if st.Previous != nil && r.IntN(2) == 0 {
		st.Previous["fields.stale"] = "x"
	}
	if r.IntN(3) > 0 {
		st.Timers = tmSpare(st.Timers, 1+r.IntN(3), Timer{Goal: "sentinel"})
	}
	for i := range st.Timers {
		tm := &st.Timers[i]
		if r.IntN(3) > 0 {
			tm.Marks = tmSpare(tm.Marks, 1+r.IntN(3), Mark{Threshold: "sentinel"})
			tm.Segments = tmSpare(tm.Segments, 1+r.IntN(3), Segment{Kind: "sentinel"})
			tm.Changes = tmSpare(tm.Changes, 1+r.IntN(3), Change{To: "sentinel"})
		}
	}
	checks := []func() bool{tmTail(st.Timers)}
	for i := range st.Timers {
		tm := &st.Timers[i]
		checks = append(checks, tmTail(tm.Marks), tmTail(tm.Segments), tmTail(tm.Changes))
	}
	return checks
}

// tmCheckDetached walks steps with states that share memory: at each step
// the state so far is the shared original, a Detached copy of it goes
// through ObserveInPlace or AdvanceInPlace, and the original must come out
// exactly as it was, spare capacity included, while the copy must equal
// what Observe or Advance make of the original. Meanwhile another goroutine
// reads the original, so that under -race even a write of the value
// already there fails. The next step starts from the copy, which shares
// what the engine left alone with every original before it.
func tmCheckDetached(t testing.TB, e *Engine, steps []tmStep, r *rand.Rand, denorm bool) {
	t.Helper()
	orig := State{Record: tmRecord}
	for k, s := range steps {
		tails := tmShare(&orig, r, denorm)
		snap := orig.Clone()
		var (
			next, mine State
			want, got  []Event
			err        error
		)
		if s.advance {
			next, want, err = e.Advance(orig, s.obs.At)
		} else {
			next, want, err = e.Observe(orig, s.obs)
		}
		require.NoError(t, err)

		var wg sync.WaitGroup
		wg.Go(func() {
			// A reader of the original, as another command on a lent
			// record would be.
			_ = reflect.DeepEqual(orig, snap)
			_, _ = orig.AppendBinary(nil)
		})
		mine = orig
		mine.Detach()
		if s.advance {
			got, err = e.AdvanceInPlace(&mine, s.obs.At)
		} else {
			got, err = e.ObserveInPlace(&mine, s.obs)
		}
		wg.Wait()
		require.NoError(t, err)
		require.Equal(t, snap, orig, "step %d: the in-place method changed the original through a Detached copy", k)
		for j, ok := range tails {
			require.True(t, ok(), "step %d: the in-place method wrote past the end of shared list %d", k, j)
		}
		require.Equal(t, next, mine, "step %d: in place on a Detached copy and copying states differ", k)
		require.Equal(t, want, got, "step %d: in place on a Detached copy and copying events differ", k)
		orig = mine
	}
}

func TestInPlaceLeavesWhatDetachSharesAlone(t *testing.T) {
	tmEachRandomHistory(t, tmInPlaceEngines(t), 0xde7a, tmCheckDetached)
}

func FuzzInPlaceOnDetached(f *testing.F) {
	for k, seed := range tmFuzzSeeds {
		f.Add(seed, k > 0)
	}
	e := tmTwoVersions(f)
	f.Fuzz(func(t *testing.T, data []byte, denorm bool) {
		tmCheckDetached(t, e, tmRandomSteps(tmChooser(data)), rand.New(rand.NewPCG(uint64(len(data)), 5)), denorm)
	})
}

func TestDetachCopiesOnlyTheTimersArray(t *testing.T) {
	var nilState State
	nilState.Detach()
	require.Nil(t, nilState.Timers)

	empty := State{Timers: make([]Timer, 0, 4)}
	empty.Detach()
	require.NotNil(t, empty.Timers)
	require.Zero(t, cap(empty.Timers))

	at := tmDay(3, 9, 0)
	orig := State{
		Record:   tmRecord,
		Previous: map[string]string{"priority": "2"},
		Timers: []Timer{{
			Metric:   "resolution",
			Marks:    make([]Mark, 1, 3),
			Segments: []Segment{{Kind: SegmentRunning, From: at, To: at}},
		}, {Metric: "response"}},
	}
	d := orig
	d.Detach()
	require.Equal(t, orig, d)
	require.NotSame(t, &orig.Timers[0], &d.Timers[0])
	require.Equal(t, len(d.Timers), cap(d.Timers))
	require.Same(t, &orig.Timers[0].Marks[0], &d.Timers[0].Marks[0], "the lists' elements stay shared")
	require.Equal(t, 1, cap(d.Timers[0].Marks))
	allocs := testing.AllocsPerRun(100, func() {
		d := orig
		d.Detach()
	})
	require.Equal(t, 1.0, allocs)
}

func TestDetachIntoUsesTheBufferWithRoom(t *testing.T) {
	at := tmDay(3, 9, 0)
	orig := State{Record: tmRecord, Timers: []Timer{
		{Metric: "response", Segments: make([]Segment, 1, 4)},
		{Metric: "resolution", Marks: make([]Mark, 2, 3)},
	}}
	orig.Timers[0].Segments[0] = Segment{From: at, To: at.Add(time.Minute)}

	tests := []struct {
		name    string
		buf     []Timer
		inPlace bool
	}{
		{"room for both", make([]Timer, 2), true},
		{"more room than needed", make([]Timer, 1, 3), true},
		{"too little room", make([]Timer, 1), false},
		{"no buffer", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := orig
			st.DetachInto(tt.buf)
			require.Equal(t, orig.Timers, st.Timers)
			assert.NotSame(t, &orig.Timers[0], &st.Timers[0], "the stored array is never written")
			assert.Equal(t, tt.inPlace, cap(tt.buf) > 0 && &st.Timers[0] == &tt.buf[:1][0])
			assert.Equal(t, 2, cap(st.Timers), "an attach reallocates")
			for i := range st.Timers {
				assert.Equal(t, len(st.Timers[i].Segments), cap(st.Timers[i].Segments), "lists are clipped")
				assert.Equal(t, len(st.Timers[i].Marks), cap(st.Timers[i].Marks), "lists are clipped")
			}
		})
	}
}
