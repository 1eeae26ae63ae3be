package sla

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

var tmRecord = itsm.Ref{Kind: "incident", ID: uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}

// tmDay returns an instant in the first fortnight of March 2025 (Monday 3rd
// is a weekday, Saturday 8th is not) at hh:mm UTC.
func tmDay(d, hh, mm int) time.Time { return time.Date(2025, 3, d, hh, mm, 0, 0, time.UTC) }

func tmObs(at time.Time, p itsm.Priority, state itsm.Category) Observation {
	return Observation{At: at, Priority: p, State: state}
}

func tmWith(o Observation, f func(*Observation)) Observation { f(&o); return o }

var (
	tmDone       = StateIn(itsm.CategoryResolved, itsm.CategoryClosed)
	tmByPriority = func(p1, p2, other time.Duration) []Goal {
		return []Goal{
			{Name: "p1", When: PriorityIn(1), Within: p1},
			{Name: "p2", When: PriorityIn(2), Within: p2},
			{Name: "other", Within: other},
		}
	}
)

// tmResolution pauses while waiting, stops when resolved, cancels when
// canceled and keeps counting across reopens.
func tmResolution() Target {
	return Target{
		Metric: "resolution",
		Pause:  StateIn(itsm.CategoryWaiting),
		Stop:   tmDone,
		Cancel: StateIn(itsm.CategoryCanceled),
		Reopen: ReopenResume,
		Goals:  tmByPriority(4*time.Hour, 8*time.Hour, 16*time.Hour),
	}
}

func tmResponse() Target {
	return Target{
		Metric: "response",
		Stop:   AnyOf(FieldIs("fields.responded", "yes"), tmDone),
		Goals:  tmByPriority(time.Hour, 2*time.Hour, 4*time.Hour),
	}
}

func tmEngine(t testing.TB, cal string, targets ...Target) *Engine {
	t.Helper()
	e, err := NewEngine([]Agreement{{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Calendar: cal, Targets: targets}},
		CalendarMap{"office": testWeekdayCal{}, "never": testNeverCal{}})
	require.NoError(t, err)
	return e
}

// tmFeed observes each observation in turn, failing the test on error.
func tmFeed(t testing.TB, e *Engine, st State, obs ...Observation) (State, []Event) {
	t.Helper()
	var all []Event
	for _, o := range obs {
		next, evs, err := e.Observe(st, o)
		require.NoError(t, err)
		st = next
		all = append(all, evs...)
	}
	return st, all
}

func tmOnly(t testing.TB, st State, metric string) Timer {
	t.Helper()
	tm, ok := st.Find("gold", metric)
	require.True(t, ok, "no %s timer", metric)
	return tm
}

func tmKinds(evs []Event) []EventKind {
	out := make([]EventKind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

func TestPrecedence(t *testing.T) {
	t0 := tmDay(3, 9, 0)
	tests := []struct {
		name       string
		target     Target
		obs        []Observation
		wantTimers int
		wantStage  Stage
		wantReason string
	}{
		{
			name:   "stop beats start at attach",
			target: Target{Metric: "resolution", Stop: tmDone, Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:    []Observation{tmObs(t0, 3, itsm.CategoryResolved)},
		},
		{
			name: "start contained in stop never attaches",
			target: Target{Metric: "resolution", Start: StateIn(itsm.CategoryResolved), Stop: tmDone,
				Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs: []Observation{
				tmObs(t0, 3, itsm.CategoryNew), tmObs(t0.Add(time.Hour), 3, itsm.CategoryActive),
				tmObs(t0.Add(2*time.Hour), 3, itsm.CategoryResolved), tmObs(t0.Add(3*time.Hour), 3, itsm.CategoryClosed),
			},
		},
		{
			name: "stop beats cancel on a live timer",
			target: Target{Metric: "resolution", Stop: AnyOf(tmDone, FieldIs("fields.x", "1")), Cancel: FieldIs("fields.x", "1"),
				Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs: []Observation{
				tmObs(t0, 3, itsm.CategoryActive),
				tmWith(tmObs(t0.Add(time.Minute), 3, itsm.CategoryActive), func(o *Observation) { o.Fields = map[string]string{"x": "1"} }),
			},
			wantTimers: 1, wantStage: StageCompleted,
		},
		{
			name:       "cancel beats pause",
			target:     Target{Metric: "resolution", Pause: StateIn(itsm.CategoryWaiting), Cancel: StateIn(itsm.CategoryWaiting), Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryActive), tmObs(t0.Add(time.Minute), 3, itsm.CategoryWaiting)},
			wantTimers: 1, wantStage: StageCanceled, wantReason: "cancel",
		},
		{
			name: "pause excluding start cancels instead of pausing",
			target: Target{Metric: "resolution", Start: StateIn(itsm.CategoryNew, itsm.CategoryActive), Pause: StateIn(itsm.CategoryWaiting),
				CancelWhenStartFails: true, Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryActive), tmObs(t0.Add(time.Minute), 3, itsm.CategoryWaiting)},
			wantTimers: 1, wantStage: StageCanceled, wantReason: "start_failed",
		},
		{
			name: "pause excluding start cancels by default",
			target: Target{Metric: "resolution", Start: StateIn(itsm.CategoryNew, itsm.CategoryActive), Pause: StateIn(itsm.CategoryWaiting),
				Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryActive), tmObs(t0.Add(time.Minute), 3, itsm.CategoryWaiting)},
			wantTimers: 1, wantStage: StageCanceled, wantReason: "start_failed",
		},
		{
			name: "pause inside start pauses",
			target: Target{Metric: "resolution", Start: Not(StateIn(itsm.CategoryResolved)), Pause: StateIn(itsm.CategoryWaiting),
				Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryActive), tmObs(t0.Add(time.Minute), 3, itsm.CategoryWaiting)},
			wantTimers: 1, wantStage: StagePaused,
		},
		{
			name: "start failing outside the pause keeps running",
			target: Target{Metric: "resolution", Start: StateIn(itsm.CategoryNew), Pause: StateIn(itsm.CategoryWaiting),
				Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryNew), tmObs(t0.Add(time.Minute), 3, itsm.CategoryActive)},
			wantTimers: 1, wantStage: StageRunning,
		},
		{
			name: "start failing outside the pause cancels with CancelWhenStartFails",
			target: Target{Metric: "resolution", Start: StateIn(itsm.CategoryNew), Pause: StateIn(itsm.CategoryWaiting),
				CancelWhenStartFails: true, Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryNew), tmObs(t0.Add(time.Minute), 3, itsm.CategoryActive)},
			wantTimers: 1, wantStage: StageCanceled, wantReason: "start_failed",
		},
		{
			name:       "leaving the scope cancels",
			target:     Target{Metric: "resolution", Goals: []Goal{{Name: "p1", When: PriorityIn(1), Within: time.Hour}}},
			obs:        []Observation{tmObs(t0, 1, itsm.CategoryActive), tmObs(t0.Add(time.Minute), 4, itsm.CategoryActive)},
			wantTimers: 1, wantStage: StageCanceled, wantReason: "no_goal",
		},
		{
			name:       "a paused attach starts paused",
			target:     Target{Metric: "resolution", Pause: StateIn(itsm.CategoryWaiting), Goals: tmByPriority(time.Hour, time.Hour, time.Hour)},
			obs:        []Observation{tmObs(t0, 3, itsm.CategoryWaiting)},
			wantTimers: 1, wantStage: StagePaused,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tmEngine(t, "", tc.target)
			st, _ := tmFeed(t, e, State{Record: tmRecord}, tc.obs...)
			require.Len(t, st.Timers, tc.wantTimers)
			if tc.wantTimers > 0 {
				assert.Equal(t, tc.wantStage, st.Timers[0].Stage)
				assert.Equal(t, tc.wantReason, st.Timers[0].EndReason)
			}
		})
	}
}

func TestReset(t *testing.T) {
	update := Target{
		Metric: "update",
		Stop:   tmDone,
		Reset:  FieldChanged("fields.public_updates"),
		Reopen: ReopenNewCycle,
		Goals:  []Goal{{Name: "all", Within: 2 * time.Hour}},
	}
	e := tmEngine(t, "", update)
	upd := func(at time.Time, n string) Observation {
		return tmWith(tmObs(at, 3, itsm.CategoryActive), func(o *Observation) { o.Fields = map[string]string{"public_updates": n} })
	}
	st, evs := tmFeed(t, e, State{Record: tmRecord},
		upd(tmDay(3, 9, 0), "0"),
		upd(tmDay(3, 10, 0), "0"), // nothing changed
		upd(tmDay(3, 10, 30), "1"),
		upd(tmDay(3, 13, 0), "1"),
	)
	require.Len(t, st.Timers, 2)
	first, second := st.Timers[0], st.Timers[1]
	assert.Equal(t, StageCanceled, first.Stage)
	assert.Equal(t, "reset", first.EndReason)
	assert.Equal(t, 90*time.Minute, first.BusinessElapsed)
	assert.Equal(t, 2, second.Cycle)
	assert.Equal(t, tmDay(3, 10, 30), second.StartedAt)
	assert.Equal(t, StageRunning, second.Stage)
	assert.Equal(t, 150*time.Minute, second.BusinessElapsed)
	assert.True(t, second.Breached)
	assert.Equal(t, tmDay(3, 12, 30), second.BreachedAt)
	assert.Equal(t, []EventKind{EventAttached, EventThreshold, EventCanceled, EventAttached, EventThreshold, EventThreshold, EventThreshold, EventBreached}, tmKinds(evs))
}

func TestPauseAcrossNonWorkingTime(t *testing.T) {
	e := tmEngine(t, "office", tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(7, 13, 0), 2, itsm.CategoryActive),  // Friday 13:00, P2 = 8h
		tmObs(tmDay(7, 15, 0), 2, itsm.CategoryWaiting), // paused after 2h
	)
	paused := tmOnly(t, st, "resolution")
	assert.Equal(t, StagePaused, paused.Stage)
	assert.True(t, paused.DueAt.IsZero(), "breach instant is undefined while paused")
	due, err := e.DueIfResumed(paused, tmDay(10, 10, 0))
	require.NoError(t, err)
	assert.Equal(t, tmDay(10, 16, 0), due, "6h left from Monday 10:00")
	_, ok := st.NextEventAt(tmDay(8, 0, 0))
	assert.False(t, ok, "a paused timer schedules nothing")

	st, _ = tmFeed(t, e, st, tmObs(tmDay(11, 11, 0), 2, itsm.CategoryActive)) // resumed Tuesday 11:00
	tm := tmOnly(t, st, "resolution")
	assert.Equal(t, StageRunning, tm.Stage)
	assert.Equal(t, 2*time.Hour, tm.BusinessElapsed)
	assert.Equal(t, 12*time.Hour, tm.BusinessPaused, "Fri 15–17, Mon 9–17, Tue 9–11")
	assert.Equal(t, 92*time.Hour, tm.ActualPaused)
	assert.Equal(t, tmDay(11, 17, 0), tm.DueAt, "Monday 13:00 moved by 12h of business pause")
	assert.Equal(t, tmDay(11, 13, 0), tm.NextAt, "50% at 4h")
	next, ok := st.NextEventAt(tmDay(11, 11, 0))
	require.True(t, ok)
	assert.Equal(t, tmDay(11, 13, 0).Add(time.Microsecond), next)

	x, err := e.Explain(tm)
	require.NoError(t, err)
	assert.Equal(t, tm.BusinessElapsed, x.Total(StretchCounted))
	assert.Equal(t, tm.BusinessPaused, x.Total(StretchPaused))
	assert.Equal(t, []StretchKind{StretchCounted, StretchPaused}, []StretchKind{x.Stretches[0].Kind, x.Stretches[1].Kind})
}

func TestBreachBoundary(t *testing.T) {
	tests := []struct {
		name   string
		stopAt time.Time
		breach bool
		events []EventKind
	}{
		{"stopped exactly at the breach instant is met", tmDay(3, 13, 0), false, []EventKind{EventAttached, EventThreshold, EventThreshold, EventCompleted}},
		{"one microsecond later is breached", tmDay(3, 13, 0).Add(time.Microsecond), true,
			[]EventKind{EventAttached, EventThreshold, EventThreshold, EventThreshold, EventBreached, EventCompleted}},
		{"after the close of business on the due day is breached", tmDay(3, 18, 0), true,
			[]EventKind{EventAttached, EventThreshold, EventThreshold, EventThreshold, EventBreached, EventCompleted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tmEngine(t, "office", tmResolution())
			st, evs := tmFeed(t, e, State{Record: tmRecord},
				tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
				tmObs(tc.stopAt, 1, itsm.CategoryResolved))
			tm := tmOnly(t, st, "resolution")
			assert.Equal(t, StageCompleted, tm.Stage)
			assert.Equal(t, tc.breach, tm.Breached)
			assert.Equal(t, tc.events, tmKinds(evs))
			assert.Equal(t, 4*time.Hour, min(tm.BusinessElapsed, 4*time.Hour))
		})
	}
}

func TestThresholdsFireOnceWithKeys(t *testing.T) {
	e := tmEngine(t, "", tmResolution())
	st, evs := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive))
	require.Equal(t, []EventKind{EventAttached}, tmKinds(evs))

	next, ok := st.NextEventAt(tmDay(3, 9, 0))
	require.True(t, ok)
	assert.Equal(t, tmDay(3, 11, 0).Add(time.Microsecond), next)

	st, evs, err := e.Advance(st, tmDay(3, 11, 0))
	require.NoError(t, err)
	assert.Empty(t, evs, "reaching 50% exactly is not running past it")
	st, evs, err = e.Advance(st, next)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, EventThreshold, evs[0].Kind)
	assert.Equal(t, tmDay(3, 11, 0), evs[0].At)
	assert.True(t, decimal.NewFromInt(50).Equal(evs[0].Threshold))
	assert.Equal(t, tmRecord.String()+"/gold/resolution/1/threshold/50", evs[0].Key)

	st, evs, err = e.Advance(st, tmDay(3, 12, 0))
	require.NoError(t, err)
	assert.Empty(t, evs, "no threshold fires twice")

	_, evs, err = e.Advance(st, tmDay(4, 0, 0))
	require.NoError(t, err)
	assert.Equal(t, []EventKind{EventThreshold, EventThreshold, EventBreached}, tmKinds(evs))
	assert.Equal(t, tmDay(3, 13, 0), evs[2].At)
	assert.Equal(t, tmRecord.String()+"/gold/resolution/1/breached", evs[2].Key)
}

func TestRetarget(t *testing.T) {
	t.Run("keep elapsed keeps accumulated pause", func(t *testing.T) {
		e := tmEngine(t, "office", tmResolution())
		st, _ := tmFeed(t, e, State{Record: tmRecord},
			tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive),   // other: 16h
			tmObs(tmDay(3, 11, 0), 3, itsm.CategoryWaiting), // 2h elapsed
			tmObs(tmDay(4, 10, 0), 3, itsm.CategoryActive),  // 7h business pause
			tmObs(tmDay(4, 11, 0), 3, itsm.CategoryActive),
		)
		before := tmOnly(t, st, "resolution")
		st, evs := tmFeed(t, e, st, tmObs(tmDay(4, 11, 0), 1, itsm.CategoryActive)) // raised to P1: 4h
		tm := tmOnly(t, st, "resolution")
		assert.Equal(t, []EventKind{EventRetargeted}, tmKinds(evs))
		assert.Equal(t, "p1", tm.Goal)
		assert.Equal(t, before.BusinessElapsed, tm.BusinessElapsed)
		assert.Equal(t, 3*time.Hour, tm.BusinessElapsed)
		assert.Equal(t, 7*time.Hour, tm.BusinessPaused)
		assert.Equal(t, 23*time.Hour, tm.ActualPaused)
		assert.Equal(t, tmDay(4, 12, 0), tm.DueAt)
		assert.Equal(t, []Change{{At: tmDay(4, 11, 0), From: "other", To: "p1", FromCalendar: "office", ToCalendar: "office",
			FromVersion: 1, ToVersion: 1, How: RetargetKeepElapsed}}, tm.Changes)

		// 50% and 75% of 4h are behind the timer now: they fire (once) as it runs on.
		_, evs, err := e.Advance(st, tmDay(4, 11, 1))
		require.NoError(t, err)
		assert.Equal(t, []EventKind{EventThreshold, EventThreshold}, tmKinds(evs))
		assert.Equal(t, tmDay(4, 11, 0), evs[0].At)
	})
	t.Run("a passed threshold never refires", func(t *testing.T) {
		e := tmEngine(t, "", tmResolution())
		st, evs := tmFeed(t, e, State{Record: tmRecord},
			tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
			tmObs(tmDay(3, 11, 30), 1, itsm.CategoryActive), // 50% of 4h fired at 11:00
			tmObs(tmDay(3, 11, 30), 3, itsm.CategoryActive), // demoted: 2h30 of 16h
			tmObs(tmDay(3, 18, 0), 3, itsm.CategoryActive),  // 9h of 16h: 50% again
		)
		n := 0
		for _, ev := range evs {
			if ev.Kind == EventThreshold {
				n++
				assert.Equal(t, "50", ev.Threshold.String())
			}
		}
		assert.Equal(t, 1, n)
		assert.Len(t, tmOnly(t, st, "resolution").Marks, 1)
	})
	t.Run("retroactive recounts on the new calendar", func(t *testing.T) {
		tg := tmResolution()
		tg.Retarget = RetargetRetroactive
		tg.Goals = []Goal{
			{Name: "p1", When: PriorityIn(1), Within: 4 * time.Hour, Calendar: Always24x7},
			{Name: "other", Within: 16 * time.Hour},
		}
		e := tmEngine(t, "office", tg)
		st, evs := tmFeed(t, e, State{Record: tmRecord},
			tmObs(tmDay(7, 16, 0), 3, itsm.CategoryActive),  // Friday 16:00 on office hours
			tmObs(tmDay(8, 10, 0), 3, itsm.CategoryWaiting), // Saturday: 1h counted
			tmObs(tmDay(8, 11, 0), 3, itsm.CategoryActive),
			tmObs(tmDay(8, 12, 0), 1, itsm.CategoryActive), // P1, 24x7, from Friday 16:00
		)
		tm := tmOnly(t, st, "resolution")
		assert.Equal(t, 19*time.Hour, tm.BusinessElapsed, "Fri 16:00 – Sat 10:00 and Sat 11–12 on 24x7")
		assert.Equal(t, time.Hour, tm.BusinessPaused)
		assert.True(t, tm.Breached)
		assert.Equal(t, tmDay(7, 20, 0), tm.BreachedAt)
		for _, ev := range evs {
			assert.NotContains(t, []EventKind{EventThreshold, EventBreached}, ev.Kind, "recounted thresholds are skipped")
		}
		require.Len(t, tm.Marks, 3)
		for _, m := range tm.Marks {
			assert.True(t, m.Skipped)
		}
		x, err := e.Explain(tm)
		require.NoError(t, err)
		assert.Equal(t, tm.BusinessElapsed, x.Total(StretchCounted))
	})
}

func TestReopen(t *testing.T) {
	multi := tmResolution()
	multi.Metric = "fix"
	multi.Reopen = ReopenNewCycle
	e := tmEngine(t, "", tmResponse(), tmResolution(), multi)
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 2, itsm.CategoryNew),
		tmObs(tmDay(3, 10, 0), 2, itsm.CategoryResolved), // all three complete after 1h
		tmObs(tmDay(3, 12, 0), 2, itsm.CategoryActive),   // reopened
		tmObs(tmDay(3, 13, 0), 2, itsm.CategoryResolved),
	)
	resp := tmOnly(t, st, "response")
	assert.Equal(t, StageCompleted, resp.Stage)
	assert.Equal(t, 1, resp.Cycle)
	assert.Equal(t, time.Hour, resp.BusinessElapsed, "the first response does not restart")

	res := tmOnly(t, st, "resolution")
	assert.Equal(t, 1, res.Cycle)
	assert.Equal(t, StageCompleted, res.Stage)
	assert.Equal(t, 2*time.Hour, res.BusinessElapsed, "resolution keeps counting across the reopen")
	assert.Equal(t, tmDay(3, 13, 0), res.EndedAt)
	x, err := e.Explain(res)
	require.NoError(t, err)
	assert.Equal(t, []Stretch{
		{Kind: StretchCounted, From: tmDay(3, 9, 0), To: tmDay(3, 10, 0), Working: time.Hour},
		{Kind: StretchStopped, From: tmDay(3, 10, 0), To: tmDay(3, 12, 0)},
		{Kind: StretchCounted, From: tmDay(3, 12, 0), To: tmDay(3, 13, 0), Working: time.Hour},
	}, x.Stretches)

	var cycles []int
	for _, tm := range st.Timers {
		if tm.Metric == "fix" {
			cycles = append(cycles, tm.Cycle)
			assert.Equal(t, time.Hour, tm.BusinessElapsed)
			assert.Equal(t, StageCompleted, tm.Stage)
		}
	}
	assert.Equal(t, []int{1, 2}, cycles, "multi-cycle keeps every cycle")
}

func TestRetroactiveStart(t *testing.T) {
	tg := tmResolution()
	tg.StartFrom = StartFromOpened
	e := tmEngine(t, "office", tg)
	tests := []struct {
		name      string
		opened    time.Time
		breached  bool
		wantMarks int
	}{
		{"start in the past behind 75%", time.Date(2025, 2, 28, 16, 30, 0, 0, time.UTC), false, 2},
		{"start far in the past attaches breached", tmDay(3, 9, 0).AddDate(0, 0, -7), true, 3},
		{"75% reached exactly at attach still fires", tmDay(3, 9, 0), false, 1},
		{"opened at the observation", tmDay(3, 12, 0), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, evs := tmFeed(t, e, State{Record: tmRecord},
				tmWith(tmObs(tmDay(3, 12, 0), 1, itsm.CategoryActive), func(o *Observation) { o.Opened = tc.opened }))
			assert.Equal(t, []EventKind{EventAttached}, tmKinds(evs), "warnings behind a retroactive start are suppressed")
			tm := tmOnly(t, st, "resolution")
			assert.Equal(t, tc.breached, evs[0].Breached, "the attached event tells the host of a breach behind it")
			assert.Equal(t, tm.BreachedAt, evs[0].BreachedAt)
			assert.Equal(t, tc.opened, tm.StartedAt)
			assert.Equal(t, tmDay(3, 12, 0), tm.AttachedAt)
			assert.Equal(t, tc.breached, tm.Breached)
			require.Len(t, tm.Marks, tc.wantMarks)
			for _, m := range tm.Marks {
				assert.True(t, m.Skipped)
			}
			_, evs, err := e.Advance(st, tmDay(3, 17, 0))
			require.NoError(t, err)
			for _, ev := range evs {
				for _, m := range tm.Marks {
					assert.NotEqual(t, m.Threshold, ev.Threshold.String(), "a skipped threshold never fires later")
				}
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	v1 := Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{tmResolution()}}
	v2 := v1
	tg := tmResolution()
	tg.Goals = tmByPriority(2*time.Hour, 8*time.Hour, 16*time.Hour)
	v2.Version, v2.Targets = 2, []Target{tg}
	old, err := NewEngine([]Agreement{v1}, nil)
	require.NoError(t, err)
	history := []Observation{
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryWaiting),
		tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive),
	}
	st, _, err := old.Replay(tmRecord, history)
	require.NoError(t, err)
	now := append(history, tmObs(tmDay(3, 11, 30), 1, itsm.CategoryActive))

	both, err := NewEngine([]Agreement{v2, v1}, nil)
	require.NoError(t, err)
	tests := []struct {
		name    string
		s       Strategy
		version int
		within  time.Duration
		elapsed time.Duration
		paused  time.Duration
	}{
		{"frozen", StrategyFrozen, 1, 4 * time.Hour, time.Hour, time.Hour},
		{"keep consumed", StrategyKeepConsumed, 2, 2 * time.Hour, 90 * time.Minute, time.Hour},
		{"recompute", StrategyRecompute, 2, 2 * time.Hour, 90 * time.Minute, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := both.Migrate(st, now, tc.s)
			require.NoError(t, err)
			tm := tmOnly(t, got, "resolution")
			assert.Equal(t, tc.version, tm.Version)
			assert.Equal(t, tc.within, tm.Within)
			assert.Equal(t, tc.elapsed, tm.BusinessElapsed)
			assert.Equal(t, tc.paused, tm.BusinessPaused)
		})
	}
	t.Run("frozen timers keep their version under observe", func(t *testing.T) {
		got, _, err := both.Observe(st, now[3])
		require.NoError(t, err)
		assert.Equal(t, 1, tmOnly(t, got, "resolution").Version)
	})
	t.Run("a live timer on an unloaded version is canceled as removed", func(t *testing.T) {
		only2, err := NewEngine([]Agreement{v2}, nil)
		require.NoError(t, err)
		got, evs, err := only2.Observe(st, now[3])
		require.NoError(t, err)
		require.Len(t, got.Timers, 2)
		tm := got.Timers[0]
		assert.Equal(t, StageCanceled, tm.Stage)
		assert.Equal(t, "removed", tm.EndReason)
		assert.Equal(t, st.AsOf, tm.EndedAt, "canceled where it was last accrued")
		assert.Equal(t, time.Hour, tm.BusinessElapsed, "nothing accrued after its definition went")
		assert.Equal(t, []EventKind{EventCanceled, EventAttached}, tmKinds(evs))
		assert.Equal(t, st.AsOf, evs[0].At)
		next := got.Timers[1]
		assert.Equal(t, 2, next.Cycle, "the record still matches: a new cycle attaches under the version loaded")
		assert.Equal(t, 2, next.Version)
	})
	t.Run("unknown strategy", func(t *testing.T) {
		_, _, err := both.Migrate(st, now, Strategy(9))
		require.ErrorIs(t, err, itsm.ErrInvalid)
	})
}

func TestObserveErrors(t *testing.T) {
	e := tmEngine(t, "", tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 10, 0), 1, itsm.CategoryActive))
	tests := []struct {
		name  string
		st    State
		obs   Observation
		field string
	}{
		{"observation before the last", st, tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive), "at"},
		{"zero instant", st, tmObs(time.Time{}, 1, itsm.CategoryActive), "at"},
		{"invalid state category", st, tmObs(tmDay(3, 11, 0), 1, 0), "state"},
		{"opened after at", st, tmWith(tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive), func(o *Observation) { o.Opened = tmDay(3, 12, 0) }), "opened"},
		{"no record", State{}, tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive), "record.kind"},
		{"malformed record kind", State{Record: itsm.Ref{Kind: "Incident", ID: tmRecord.ID}}, tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive), "record.kind"},
		{"no record ID", State{Record: itsm.Ref{Kind: itsm.KindIncident}}, tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive), "record.id"},
		{"bad stage", State{Record: tmRecord, Timers: []Timer{{}}}, tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive), "timers[0].stage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.Observe(tc.st, tc.obs)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
			assert.True(t, errors.Is(err, itsm.ErrInvalid))
		})
	}
	t.Run("advance backwards", func(t *testing.T) {
		_, _, err := e.Advance(st, tmDay(3, 9, 0))
		require.ErrorIs(t, err, itsm.ErrInvalid)
	})
	t.Run("replay names the observation", func(t *testing.T) {
		_, _, err := e.Replay(tmRecord, []Observation{tmObs(tmDay(3, 10, 0), 1, itsm.CategoryActive), tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive)})
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "history[1].at", ve.Field)
	})
	t.Run("due if resumed of a finished timer", func(t *testing.T) {
		_, err := e.DueIfResumed(Timer{Stage: StageCompleted}, tmDay(3, 9, 0))
		require.ErrorIs(t, err, itsm.ErrInvalid)
	})
}

func TestCalendarThatNeverWorks(t *testing.T) {
	e := tmEngine(t, "never", tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive))
	tm := tmOnly(t, st, "resolution")
	assert.True(t, tm.DueAt.IsZero())
	_, ok := st.NextEventAt(tmDay(3, 9, 0))
	assert.False(t, ok)
	st, evs, err := e.Advance(st, tmDay(30, 0, 0))
	require.NoError(t, err)
	assert.Empty(t, evs)
	assert.Zero(t, tmOnly(t, st, "resolution").BusinessElapsed)
}

func TestPercentNeverRoundsUp(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration
		within  time.Duration
		want    string
	}{
		{"just short of the goal", 4*time.Hour - time.Microsecond, 4 * time.Hour, "99.999999"},
		{"a third", time.Hour, 3 * time.Hour, "33.333333"},
		{"exactly", 4 * time.Hour, 4 * time.Hour, "100"},
		{"over", 5 * time.Hour, 4 * time.Hour, "125"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := Timer{BusinessElapsed: tc.elapsed, Within: tc.within}
			assert.Equal(t, tc.want, tm.Percent().String())
		})
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	e := tmEngine(t, "office", tmResponse(), tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(7, 13, 0), 2, itsm.CategoryActive),
		tmObs(tmDay(7, 15, 0), 2, itsm.CategoryWaiting),
		tmObs(tmDay(10, 15, 0), 1, itsm.CategoryActive))
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back State
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, st, back)
}

func TestThresholdNeedsAreExact(t *testing.T) {
	tests := []struct {
		name      string
		within    time.Duration
		threshold string
		want      time.Duration
	}{
		{"half of four hours", 4 * time.Hour, "50", 2 * time.Hour},
		{"a hair above all of one microsecond needs two", time.Microsecond, "100.00000000000000000001", 2 * time.Microsecond},
		{"a hair above a third of three seconds rounds up", 3 * time.Second, "33.33333333333333333334", time.Second + time.Microsecond},
		{"exactly a third of three seconds", 3 * time.Second, "33.33333333333333333333333333333333333333", time.Second},
		{"a share below a microsecond rounds up to one", time.Microsecond, "0.0000001", time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := Target{Metric: "x", Goals: []Goal{{Name: "g", Within: tc.within}},
				Thresholds: []decimal.Decimal{decimal.RequireFromString(tc.threshold)}}
			e := tmEngine(t, "", tg)
			assert.Equal(t, tc.want, e.latest[0].targets[0].goals[0].needs[0])
		})
	}
}

func TestChangedIgnoresFieldsFirstSeen(t *testing.T) {
	tg := Target{Metric: "update", Stop: tmDone, Reopen: ReopenNewCycle, Goals: []Goal{{Name: "a", Within: 2 * time.Hour}}}
	watching := tg
	watching.Reset = FieldChanged("fields.updates")
	obs := func(at time.Time) Observation {
		return tmWith(tmObs(at, 3, itsm.CategoryActive), func(o *Observation) { o.Fields = map[string]string{"updates": "4"} })
	}
	v1 := Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{tg}}
	v2 := v1
	v2.Version, v2.Targets = 2, []Target{watching}
	hist := []Observation{obs(tmDay(3, 9, 0))}
	old, err := NewEngine([]Agreement{v1}, nil)
	require.NoError(t, err)
	st, _, err := old.Replay(tmRecord, hist)
	require.NoError(t, err)
	require.Empty(t, st.Previous, "the old engine watched nothing")

	t.Run("an engine that starts watching a field does not reset on first sight", func(t *testing.T) {
		e, err := NewEngine([]Agreement{{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{watching}}}, nil)
		require.NoError(t, err)
		got, evs, err := e.Observe(st, obs(tmDay(3, 10, 0)))
		require.NoError(t, err)
		assert.Empty(t, evs)
		assert.Equal(t, map[string]string{"fields.updates": "4"}, got.Previous)
	})
	t.Run("migrating to a version that adds a reset keeps live timers", func(t *testing.T) {
		both, err := NewEngine([]Agreement{v1, v2}, nil)
		require.NoError(t, err)
		got, evs, err := both.Migrate(st, append(hist, obs(tmDay(3, 10, 0))), StrategyKeepConsumed)
		require.NoError(t, err)
		assert.NotContains(t, tmKinds(evs), EventCanceled)
		require.Len(t, got.Timers, 1)
		assert.Equal(t, StageRunning, got.Timers[0].Stage)
		assert.Equal(t, 2, got.Timers[0].Version)
	})
}

func TestBreachAtClosingTimeIsTheClosingInstant(t *testing.T) {
	// P2's 8h office goal, started on Monday at 09:00, is reached at 17:00
	// sharp, the close of business, not at Tuesday's opening.
	e := tmEngine(t, "office", tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 2, itsm.CategoryActive))
	tm := tmOnly(t, st, "resolution")
	assert.Equal(t, tmDay(3, 17, 0), tm.DueAt)
	_, evs, err := e.Advance(st, tmDay(4, 9, 0))
	require.NoError(t, err)
	require.Equal(t, EventBreached, evs[len(evs)-1].Kind)
	assert.Equal(t, tmDay(3, 17, 0), evs[len(evs)-1].At)
}

// TestTimerRecordsItsDecision checks that a cycle's decision (Decided,
// DecidedBreached, DecidedPriority) is what the timer showed when it first
// completed, whatever happens to the timer afterwards.
func TestTimerRecordsItsDecision(t *testing.T) {
	retro := tmResolution()
	retro.Retarget = RetargetRetroactive
	e := tmEngine(t, "", retro) // 24×7: p1 4h, p2 8h, other 16h
	type decision struct {
		decided, breached bool
		priority          itsm.Priority
	}
	tests := []struct {
		name string
		// legacy clears the decision after the first completion, as a
		// timer completed before decisions were recorded has none.
		legacy bool
		obs    []Observation
		want   decision
		// breached is the timer's own Breached at the end.
		breached bool
	}{
		{"live", false, []Observation{tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive)}, decision{}, false},
		{"canceled", false, []Observation{tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(3, 10, 0), 3, itsm.CategoryCanceled)}, decision{}, false},
		{"met", false, []Observation{tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(3, 10, 0), 2, itsm.CategoryResolved)},
			decision{true, false, 2}, false},
		{"breached", false, []Observation{tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive), tmObs(tmDay(3, 14, 0), 1, itsm.CategoryResolved)},
			decision{true, true, 1}, true},
		{"reopened at another priority, recounted to an earlier breach, completed again", false, []Observation{
			tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(3, 14, 0), 3, itsm.CategoryResolved), // 5h of 16h: met
			tmObs(tmDay(5, 9, 0), 3, itsm.CategoryActive),
			tmObs(tmDay(5, 10, 0), 1, itsm.CategoryActive), // p1, 4h, recounted: breached on the 3rd at 13:00
			tmObs(tmDay(5, 11, 0), 1, itsm.CategoryResolved),
		}, decision{true, false, 3}, true},
		{"completed before decisions were recorded, reopened", true, []Observation{
			tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(3, 14, 0), 3, itsm.CategoryResolved),
			tmObs(tmDay(5, 9, 0), 1, itsm.CategoryActive),
			tmObs(tmDay(5, 10, 0), 1, itsm.CategoryActive),
		}, decision{true, false, 3}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := State{Record: tmRecord}
			for _, o := range tc.obs {
				st, _ = tmFeed(t, e, st, o)
				if tm := &st.Timers[0]; tc.legacy && tm.Stage == StageCompleted {
					tm.Decided, tm.DecidedBreached, tm.DecidedPriority = false, false, 0
				}
			}
			tm := tmOnly(t, st, "resolution")
			assert.Equal(t, tc.want, decision{tm.Decided, tm.DecidedBreached, tm.DecidedPriority})
			assert.Equal(t, tc.breached, tm.Breached)
			re, _, err := e.Replay(tmRecord, tc.obs)
			require.NoError(t, err)
			if !tc.legacy {
				assert.Equal(t, st, re, "a replay records the same decision")
			}
		})
	}
}
