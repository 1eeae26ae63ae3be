package sla

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// tmDenormalize moves every non-zero instant of st into another zone and
// adds under a microsecond to it: the same state once normalised.
func tmDenormalize(st *State, r *rand.Rand) {
	zone := time.FixedZone("elsewhere", -(3*3600 + 1800))
	f := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.In(zone).Add(time.Duration(r.IntN(1000)))
		}
	}
	f(&st.AsOf)
	for i := range st.Timers {
		tm := &st.Timers[i]
		for _, p := range []*time.Time{&tm.BreachedAt, &tm.StartedAt, &tm.AttachedAt, &tm.EndedAt, &tm.AsOf, &tm.Since, &tm.DueAt, &tm.NextAt} {
			f(p)
		}
		for j := range tm.Marks {
			f(&tm.Marks[j].At)
		}
		for j := range tm.Segments {
			f(&tm.Segments[j].From)
			f(&tm.Segments[j].To)
		}
		for j := range tm.Changes {
			f(&tm.Changes[j].At)
			f(&tm.Changes[j].BreachedAt)
		}
	}
}

// tmTwoVersions returns tmReplayEngine's agreements with a second version
// of "gold" loaded beside the first, so that migrations happen.
func tmTwoVersions(t testing.TB) *Engine {
	t.Helper()
	as := tmReplayAgreements()
	v2 := as[0]
	v2.Version = 2
	v2.Targets = append([]Target(nil), v2.Targets...)
	v2.Targets[1].Goals = tmByPriority(time.Hour, 2*time.Hour, 3*time.Hour)
	e, err := NewEngine(append(as, v2), CalendarMap{"office": testWeekdayCal{}})
	require.NoError(t, err)
	return e
}

// tmCheckInPlace walks steps twice at once, one state through Observe and
// Advance, the other through ObserveInPlace and AdvanceInPlace, and
// requires equal states and events after every step, and that Observe and
// Advance leave their input as it was. With denorm set, the copy handed to
// the in-place methods has its instants denormalised first.
func tmCheckInPlace(t testing.TB, e *Engine, steps []tmStep, r *rand.Rand, denorm bool) {
	t.Helper()
	st := State{Record: tmRecord}
	for k, s := range steps {
		mine := st.Clone()
		if denorm {
			tmDenormalize(&mine, r)
			if mine.Previous != nil && !s.advance {
				// Left by an engine that watched other fields: not read,
				// and gone after an observation.
				mine.Previous["fields.stale"] = "x"
			}
		}
		before := st.Clone()
		var (
			want, got []Event
			next      State
			err       error
		)
		if s.advance {
			next, want, err = e.Advance(st, s.obs.At)
			require.NoError(t, err)
			got, err = e.AdvanceInPlace(&mine, s.obs.At)
		} else {
			next, want, err = e.Observe(st, s.obs)
			require.NoError(t, err)
			got, err = e.ObserveInPlace(&mine, s.obs)
		}
		require.NoError(t, err)
		require.Equal(t, before, st, "step %d: Observe or Advance modified its input", k)
		require.Equal(t, next, mine, "step %d: in place and copying states differ", k)
		require.Equal(t, want, got, "step %d: in place and copying events differ", k)
		st = next
	}
}

func TestObserveInPlaceEqualsObserve(t *testing.T) {
	tmEachRandomHistory(t, tmInPlaceEngines(t), 0x1ace, tmCheckInPlace)
}

// tmNamedEngine names an engine for a table of tests.
type tmNamedEngine struct {
	name string
	e    *Engine
}

// tmInPlaceEngines are the engines the in-place tests drive: one agreement
// version, two, and the two targets on 24×7 and on office hours.
func tmInPlaceEngines(t *testing.T) []tmNamedEngine {
	return []tmNamedEngine{
		{"one version", tmReplayEngine(t)},
		{"two versions", tmTwoVersions(t)},
		{"24x7", tmEngine(t, "", tmResponse(), tmResolution())},
		{"office", tmEngine(t, "office", tmResponse(), tmResolution())},
	}
}

// tmEachRandomHistory runs check on 150 random histories (seeded with salt)
// per engine, on normalised and on denormalised states.
func tmEachRandomHistory(t *testing.T, engines []tmNamedEngine, salt uint64, check func(t testing.TB, e *Engine, steps []tmStep, r *rand.Rand, denorm bool)) {
	for _, eng := range engines {
		for _, denorm := range []bool{false, true} {
			for seed := range uint64(150) {
				t.Run(eng.name+"/denorm="+strconv.FormatBool(denorm)+"/"+strconv.FormatUint(seed, 10), func(t *testing.T) {
					r := rand.New(rand.NewPCG(seed, salt))
					check(t, eng.e, tmRandomSteps(func(n int) int { return r.IntN(n) }), r, denorm)
				})
			}
		}
	}
}

// TestInPlaceAcrossWholeHistories feeds whole histories to one state in
// place, never copying it, and compares the end with the copying methods.
func TestInPlaceAcrossWholeHistories(t *testing.T) {
	e := tmReplayEngine(t)
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 0xf00d))
		copying, inPlace := State{Record: tmRecord}, State{Record: tmRecord}
		var want, got []Event
		for _, s := range tmRandomSteps(func(n int) int { return r.IntN(n) }) {
			var (
				evs []Event
				err error
			)
			if s.advance {
				copying, evs, err = e.Advance(copying, s.obs.At)
				require.NoError(t, err)
				want = append(want, evs...)
				evs, err = e.AdvanceInPlace(&inPlace, s.obs.At)
			} else {
				copying, evs, err = e.Observe(copying, s.obs)
				require.NoError(t, err)
				want = append(want, evs...)
				evs, err = e.ObserveInPlace(&inPlace, s.obs)
			}
			require.NoError(t, err)
			got = append(got, evs...)
		}
		require.Equal(t, copying, inPlace, "seed %d", seed)
		require.Equal(t, want, got, "seed %d", seed)
	}
}

func FuzzObserveInPlace(f *testing.F) {
	for k, seed := range tmFuzzSeeds {
		f.Add(seed, k > 0)
	}
	e := tmTwoVersions(f)
	f.Fuzz(func(t *testing.T, data []byte, denorm bool) {
		tmCheckInPlace(t, e, tmRandomSteps(tmChooser(data)), rand.New(rand.NewPCG(uint64(len(data)), 3)), denorm)
	})
}

func TestObserveInPlaceErrorsLeaveTheStateAlone(t *testing.T) {
	e := tmReplayEngine(t)
	r := rand.New(rand.NewPCG(7, 7))
	full, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryWaiting),
		tmObs(tmDay(3, 11, 0), 2, itsm.CategoryActive),
	)
	require.NotEmpty(t, full.Timers)
	denorm := full.Clone()
	tmDenormalize(&denorm, r)
	withTimer := func(f func(*Timer)) State {
		st := full.Clone()
		f(&st.Timers[0])
		return st
	}
	later := tmObs(tmDay(3, 12, 0), 1, itsm.CategoryActive)
	tests := []struct {
		name  string
		st    State
		obs   Observation
		field string
	}{
		{"observation before the last", full, tmObs(tmDay(3, 9, 30), 1, itsm.CategoryActive), "at"},
		{"observation before the last, denormalised", denorm, tmObs(tmDay(3, 9, 30), 1, itsm.CategoryActive), "at"},
		{"zero instant", full, tmObs(time.Time{}, 1, itsm.CategoryActive), "at"},
		{"instant out of the years", full, tmObs(time.Date(9100, 1, 1, 0, 0, 0, 0, time.UTC), 1, itsm.CategoryActive), "at"},
		{"invalid state category", denorm, tmObs(tmDay(3, 12, 0), 1, 0), "state"},
		{"opened after at", full, tmWith(later, func(o *Observation) { o.Opened = tmDay(3, 13, 0) }), "opened"},
		{"opened a century before", full, tmWith(later, func(o *Observation) { o.Opened = tmDay(3, 12, 0).AddDate(-101, 0, 0) }), "opened"},
		{"no record", State{Timers: full.Clone().Timers}, later, "record.kind"},
		{"bad stage", withTimer(func(tm *Timer) { tm.Stage = 0 }), later, "timers[0].stage"},
		{"live timer not as of the state", withTimer(func(tm *Timer) { tm.Stage, tm.AsOf = StageRunning, tm.AsOf.Add(-time.Hour) }), later, "timers[0].as_of"},
		{"negative elapsed", withTimer(func(tm *Timer) { tm.Stage, tm.BusinessElapsed = StageRunning, -1 }), later, "timers[0].business_elapsed"},
		{"a century of life", full, tmObs(tmDay(3, 9, 0).AddDate(100, 1, 0), 1, itsm.CategoryActive), "at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st.Clone()
			snap := st.Clone()
			evs, err := e.ObserveInPlace(&st, tc.obs)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
			assert.Nil(t, evs)
			require.Equal(t, snap, st, "a rejected observation changed the state")

			_, _, want := e.Observe(tc.st, tc.obs)
			assert.Equal(t, want, err, "Observe and ObserveInPlace fail alike")
		})
	}
	t.Run("advance backwards", func(t *testing.T) {
		st := denorm.Clone()
		snap := st.Clone()
		evs, err := e.AdvanceInPlace(&st, tmDay(3, 10, 0))
		require.ErrorIs(t, err, itsm.ErrInvalid)
		assert.Nil(t, evs)
		require.Equal(t, snap, st)
	})
	t.Run("advance a century", func(t *testing.T) {
		st := full.Clone()
		snap := st.Clone()
		_, err := e.AdvanceInPlace(&st, tmDay(3, 9, 0).AddDate(100, 1, 0))
		require.ErrorIs(t, err, itsm.ErrInvalid)
		require.Equal(t, snap, st)
	})
}

// TestLiveTimerStartChecks pins the checks of a live timer's started_at and
// since, in the order they are made, with their reasons: a state whose
// running timer starts where each case puts it.
func TestLiveTimerStartChecks(t *testing.T) {
	e := tmReplayEngine(t)
	base, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive))
	require.NotEmpty(t, base.Timers)
	require.Equal(t, StageRunning, base.Timers[0].Stage)
	asOf := base.AsOf
	later := tmObs(tmDay(3, 12, 0), 1, itsm.CategoryActive)
	for _, tc := range []struct {
		name          string
		f             func(st *State, tm *Timer)
		field, reason string
	}{
		{"started after as_of", func(_ *State, tm *Timer) { tm.StartedAt = asOf.Add(time.Microsecond) },
			"timers[0].started_at", "must not be after as_of"},
		{"started a century before as_of", func(_ *State, tm *Timer) {
			tm.StartedAt, tm.Since = asOf.Add(-maxLife-time.Microsecond), asOf
		}, "timers[0].started_at", "must not be more than 100 years before as_of"},
		{"started out of the years", func(_ *State, tm *Timer) { tm.StartedAt = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC) },
			"timers[0].started_at", "1899-12-31T00:00:00Z is outside the years 1900 to 8999"},
		{"started after a zero as_of", func(st *State, tm *Timer) { st.AsOf, tm.AsOf = time.Time{}, time.Time{} },
			"timers[0].started_at", "must not be after as_of"},
		{"since before started", func(_ *State, tm *Timer) { tm.Since = tm.StartedAt.Add(-time.Second) },
			"timers[0].since", "must lie between started_at and as_of"},
		{"since after as_of", func(_ *State, tm *Timer) { tm.Since = asOf.Add(time.Second) },
			"timers[0].since", "must lie between started_at and as_of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := base.Clone()
			tc.f(&st, &st.Timers[0])
			snap := st.Clone()
			_, err := e.ObserveInPlace(&st, later)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Contains(t, ve.All(), itsm.FieldError{Field: tc.field, Reason: tc.reason}, "got %v", err)
			require.Equal(t, snap, st)
		})
	}
	// At exactly a century, and started at as_of, the state is valid.
	for _, started := range []time.Time{asOf.Add(-maxLife), asOf} {
		st := base.Clone()
		st.Timers[0].StartedAt, st.Timers[0].Since = started, asOf
		_, err := checkTimerState(&st)
		require.NoError(t, err)
	}
}

// TestObserveEventsInOrder requires an observation's events to be those
// of advancing to its instant followed by those of observing there: the
// thresholds and breaches timers ran past first, in the order of their
// instants, then what the observation did to each timer, in the timers'
// order. Here the response timer, first, runs past its thresholds and
// breach and then completes, while the resolution timer, second, runs
// past its first threshold after the response's breach and before the
// response completes.
func TestObserveEventsInOrder(t *testing.T) {
	e, err := NewEngine([]Agreement{lcAgreement()}, nil)
	require.NoError(t, err)
	obs := lcObservations()
	st := State{Record: tmRecord}
	_, err = e.ObserveInPlace(&st, obs[0])
	require.NoError(t, err)
	later := obs[1]
	later.At = obs[0].At.Add(4*time.Hour + 30*time.Minute)

	split := st.Clone()
	want, err := e.AdvanceInPlace(&split, later.At)
	require.NoError(t, err)
	more, err := e.ObserveInPlace(&split, later)
	require.NoError(t, err)
	want = append(want, more...)

	got, err := e.ObserveInPlace(&st, later)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, split, st)
	var keys []string
	for _, ev := range got {
		keys = append(keys, ev.Key[len("incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/desk/"):])
	}
	assert.Equal(t, []string{"response/1/threshold/50", "response/1/threshold/75", "response/1/threshold/100", "response/1/breached",
		"resolution/1/threshold/50", "response/1/completed/2"}, keys)
}
