package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestReopenAfterVersionDropped(t *testing.T) {
	v1 := Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{tmResolution()}}
	renamed := tmResolution()
	renamed.Goals = []Goal{{Name: "urgent", When: PriorityIn(1), Within: 6 * time.Hour}, {Name: "rest", Within: 16 * time.Hour}}
	tests := []struct {
		name   string
		target Target
		goal   string
		within time.Duration
	}{
		{"same goals", tmResolution(), "p1", 4 * time.Hour},
		{"goals renamed", renamed, "urgent", 6 * time.Hour},
	}
	old, err := NewEngine([]Agreement{v1}, nil)
	require.NoError(t, err)
	st, _ := tmFeed(t, old, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryResolved))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v2 := Agreement{ID: "gold", Version: 2, Kind: itsm.AgreementOLA, Targets: []Target{tc.target}}
			e, err := NewEngine([]Agreement{v2}, nil)
			require.NoError(t, err)
			var got State
			var evs []Event
			require.NotPanics(t, func() {
				got, evs, err = e.Observe(st, tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive))
			})
			require.NoError(t, err)
			assert.Equal(t, []EventKind{EventResumed}, tmKinds(evs))
			tm := tmOnly(t, got, "resolution")
			assert.Equal(t, StageRunning, tm.Stage)
			assert.Equal(t, 1, tm.Cycle, "the cycle resumes")
			assert.Equal(t, 2, tm.Version, "onto the version loaded")
			assert.Equal(t, itsm.AgreementOLA, tm.Kind)
			assert.Equal(t, tc.goal, tm.Goal)
			assert.Equal(t, time.Hour, tm.BusinessElapsed)
			assert.Equal(t, tmDay(3, 11, 0).Add(tc.within-time.Hour), tm.DueAt)
			require.Len(t, tm.Changes, 1)
			assert.Equal(t, Change{At: tmDay(3, 11, 0), From: "p1", To: tc.goal, FromCalendar: Always24x7, ToCalendar: Always24x7,
				FromVersion: 1, ToVersion: 2, How: RetargetKeepElapsed, Migrated: true}, tm.Changes[0])
		})
	}
}

func TestRetireAgreement(t *testing.T) {
	gold := Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{tmResolution()}}
	silver := Agreement{ID: "silver", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{tmResolution()}}
	before, err := NewEngine([]Agreement{gold, silver}, nil)
	require.NoError(t, err)
	hist := []Observation{tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive)}
	st, _, err := before.Replay(tmRecord, hist)
	require.NoError(t, err)
	after, err := NewEngine([]Agreement{silver}, nil)
	require.NoError(t, err)
	now := tmObs(tmDay(3, 10, 0), 1, itsm.CategoryActive)
	for _, s := range []struct {
		name string
		s    Strategy
	}{{"frozen", StrategyFrozen}, {"keep consumed", StrategyKeepConsumed}, {"recompute", StrategyRecompute}} {
		t.Run(s.name, func(t *testing.T) {
			got, evs, err := after.Migrate(st, append(hist, now), s.s)
			require.NoError(t, err)
			retired, ok := got.Find("gold", "resolution")
			require.True(t, ok, "the retired agreement's cycle stays on record")
			assert.Equal(t, StageCanceled, retired.Stage)
			assert.Equal(t, "removed", retired.EndReason)
			assert.Equal(t, tmDay(3, 9, 0), retired.EndedAt, "canceled at the state's as_of, nothing accrued")
			assert.Contains(t, tmKinds(evs), EventCanceled)
			_, _, err = after.Observe(got, tmObs(tmDay(3, 11, 0), 1, itsm.CategoryActive))
			require.NoError(t, err, "the next command must not fail")
		})
	}
	t.Run("advance cancels too", func(t *testing.T) {
		got, evs, err := after.Advance(st, tmDay(3, 12, 0))
		require.NoError(t, err)
		retired, _ := got.Find("gold", "resolution")
		assert.Equal(t, "removed", retired.EndReason)
		require.NotEmpty(t, evs)
		assert.Equal(t, EventCanceled, evs[0].Kind)
		assert.Equal(t, "gold", evs[0].Agreement)
		silverTimer, _ := got.Find("silver", "resolution")
		assert.Equal(t, 3*time.Hour, silverTimer.BusinessElapsed, "the other agreement's timer accrues")
	})
	t.Run("keep consumed cancels a metric the newest version dropped", func(t *testing.T) {
		v2 := Agreement{ID: "gold", Version: 2, Kind: itsm.AgreementSLA, Targets: []Target{tmResponse()}}
		both, err := NewEngine([]Agreement{gold, v2, silver}, nil)
		require.NoError(t, err)
		got, _, err := both.Migrate(st, append(hist, now), StrategyKeepConsumed)
		require.NoError(t, err)
		res, _ := got.Find("gold", "resolution")
		assert.Equal(t, "removed", res.EndReason)
		assert.Equal(t, tmDay(3, 10, 0), res.EndedAt, "accrued on its own definition up to the migration")
		assert.Equal(t, time.Hour, res.BusinessElapsed)
	})
}

func TestExplainAfterMigrate(t *testing.T) {
	v1 := Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Calendar: "office", Targets: []Target{tmResolution()}}
	v2 := v1
	v2.Version, v2.Calendar = 2, Always24x7
	cals := CalendarMap{"office": testWeekdayCal{}}
	old, err := NewEngine([]Agreement{v1}, cals)
	require.NoError(t, err)
	hist := []Observation{tmObs(tmDay(7, 16, 0), 3, itsm.CategoryActive)} // Friday 16:00
	st, _, err := old.Replay(tmRecord, hist)
	require.NoError(t, err)
	both, err := NewEngine([]Agreement{v1, v2}, cals)
	require.NoError(t, err)
	now := tmObs(tmDay(10, 10, 0), 3, itsm.CategoryActive) // Monday 10:00: 2h of office time
	got, _, err := both.Migrate(st, append(hist, now), StrategyKeepConsumed)
	require.NoError(t, err)
	got, _, err = both.Advance(got, tmDay(10, 12, 0)) // 2h more on 24x7
	require.NoError(t, err)
	tm := tmOnly(t, got, "resolution")
	require.Equal(t, 4*time.Hour, tm.BusinessElapsed)
	assert.Equal(t, []Change{{At: tmDay(10, 10, 0), From: "other", To: "other", FromCalendar: "office", ToCalendar: Always24x7,
		FromVersion: 1, ToVersion: 2, How: RetargetKeepElapsed, Migrated: true}}, tm.Changes,
		"a migration that changes only the calendar is recorded")

	only2, err := NewEngine([]Agreement{v2}, cals)
	require.NoError(t, err)
	for name, e := range map[string]*Engine{"both versions loaded": both, "old version dropped": only2} {
		t.Run(name, func(t *testing.T) {
			x, err := e.Explain(tm)
			require.NoError(t, err)
			assert.Equal(t, tm.BusinessElapsed, x.Total(StretchCounted))
			assert.Equal(t, []Stretch{
				{Kind: StretchCounted, From: tmDay(7, 16, 0), To: tmDay(7, 17, 0), Working: time.Hour},
				{Kind: StretchExcluded, From: tmDay(7, 17, 0), To: tmDay(10, 9, 0)},
				{Kind: StretchCounted, From: tmDay(10, 9, 0), To: tmDay(10, 12, 0), Working: 3 * time.Hour},
			}, x.Stretches)
		})
	}
	t.Run("an unknown calendar is named", func(t *testing.T) {
		lost := tm.Clone()
		lost.Changes[0].FromCalendar = "gone"
		_, err := both.Explain(lost)
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "changes[0].from_calendar", ve.Field)
	})
}

func TestRetargetAfterBreach(t *testing.T) {
	for _, how := range []RetargetPolicy{RetargetKeepElapsed, RetargetRetroactive} {
		t.Run(string(how)+"/onto a longer goal the breach stays and DueAt moves", func(t *testing.T) {
			tg := tmResolution()
			tg.Retarget = how
			e := tmEngine(t, "", tg)
			st, evs := tmFeed(t, e, State{Record: tmRecord},
				tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
				tmObs(tmDay(3, 14, 0), 1, itsm.CategoryActive), // 5h of P1's 4h: breached at 13:00
				tmObs(tmDay(3, 14, 0), 3, itsm.CategoryActive), // P3: 16h
			)
			tm := tmOnly(t, st, "resolution")
			assert.Equal(t, "other", tm.Goal)
			assert.True(t, tm.Breached, "a breach never un-fires")
			assert.Equal(t, tmDay(3, 13, 0), tm.BreachedAt)
			assert.Equal(t, tmDay(4, 1, 0), tm.DueAt, "11h left of the current goal")
			assert.True(t, tm.NextAt.IsZero(), "every threshold fired and the breach too: nothing left")
			st, more, err := e.Advance(st, tmDay(4, 2, 0))
			require.NoError(t, err)
			assert.Empty(t, more, "no second breach")
			assert.Equal(t, 1, countKind(append(evs, more...), EventBreached))
			assert.Equal(t, tmDay(4, 1, 0), tmOnly(t, st, "resolution").DueAt, "the current goal was reached then")
		})
	}
	t.Run("keep elapsed onto a goal already behind breaches as it runs on", func(t *testing.T) {
		e := tmEngine(t, "", tmResolution())
		st, _ := tmFeed(t, e, State{Record: tmRecord},
			tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive),
			tmObs(tmDay(3, 14, 0), 1, itsm.CategoryActive)) // 5h, onto P1's 4h
		tm := tmOnly(t, st, "resolution")
		assert.False(t, tm.Breached)
		assert.Equal(t, tmDay(3, 14, 0), tm.DueAt)
		st, evs, err := e.Advance(st, tmDay(3, 14, 1))
		require.NoError(t, err)
		assert.Contains(t, tmKinds(evs), EventBreached)
		tm = tmOnly(t, st, "resolution")
		assert.Equal(t, tmDay(3, 14, 0), tm.BreachedAt)
		assert.Equal(t, tmDay(3, 13, 0), tm.DueAt, "business elapsed time reached the current goal at 13:00")
	})
	t.Run("retroactive recount that breaches earlier moves the breach back", func(t *testing.T) {
		tg := tmResolution()
		tg.Retarget = RetargetRetroactive
		tg.Goals = tmByPriority(2*time.Hour, 4*time.Hour, 16*time.Hour)
		e := tmEngine(t, "", tg)
		st, evs := tmFeed(t, e, State{Record: tmRecord},
			tmObs(tmDay(3, 9, 0), 2, itsm.CategoryActive),
			tmObs(tmDay(3, 14, 0), 2, itsm.CategoryActive), // P2 4h: breached at 13:00
		)
		require.Equal(t, 1, countKind(evs, EventBreached))
		st, evs = tmFeed(t, e, st, tmObs(tmDay(3, 14, 0), 1, itsm.CategoryActive)) // P1 2h from 09:00
		tm := tmOnly(t, st, "resolution")
		assert.Equal(t, tmDay(3, 11, 0), tm.BreachedAt)
		assert.Equal(t, tmDay(3, 11, 0), tm.DueAt)
		assert.Equal(t, tmDay(3, 11, 0), tm.Changes[0].BreachedAt)
		require.Equal(t, []EventKind{EventRetargeted}, tmKinds(evs), "no second breached event")
		assert.True(t, evs[0].Breached)
		assert.Equal(t, tmDay(3, 11, 0), evs[0].BreachedAt)
	})
	t.Run("retroactive recount that breaches a timer not yet breached", func(t *testing.T) {
		tg := tmResolution()
		tg.Retarget = RetargetRetroactive
		e := tmEngine(t, "", tg)
		st, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 3, itsm.CategoryActive))
		st, evs := tmFeed(t, e, st, tmObs(tmDay(3, 14, 0), 1, itsm.CategoryActive))
		tm := tmOnly(t, st, "resolution")
		assert.True(t, tm.Breached)
		assert.Equal(t, tmDay(3, 13, 0), tm.BreachedAt)
		assert.Equal(t, tmDay(3, 13, 0), tm.Changes[0].BreachedAt)
		assert.NotContains(t, tmKinds(evs), EventBreached, "the breach lies before the retarget")
		require.Equal(t, EventRetargeted, evs[len(evs)-1].Kind)
		assert.True(t, evs[len(evs)-1].Breached)
	})
}

func countKind(evs []Event, k EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func TestDueIfResumed(t *testing.T) {
	e := tmEngine(t, "", tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 14, 0), 1, itsm.CategoryWaiting)) // breached at 13:00, paused at 14:00
	demoted, _ := tmFeed(t, e, st, tmObs(tmDay(3, 14, 30), 3, itsm.CategoryWaiting))
	fresh, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryWaiting))
	tests := []struct {
		name string
		st   State
		now  time.Time
		want time.Time
	}{
		{"paused with time left", fresh, tmDay(3, 15, 0), tmDay(3, 18, 0)},
		{"paused and breached: when the goal was reached", st, tmDay(3, 15, 0), tmDay(3, 13, 0)},
		{"paused, breached, then moved onto a longer goal", demoted, tmDay(3, 15, 0), tmDay(4, 2, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := tmOnly(t, tc.st, "resolution")
			require.Equal(t, StagePaused, tm.Stage)
			got, err := e.DueIfResumed(tm, tc.now)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestInstantsOutsideTheWindow(t *testing.T) {
	tg := tmResolution()
	tg.StartFrom = StartFromOpened
	e := tmEngine(t, "", tg)
	st, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive))
	opened := func(o Observation, at time.Time) Observation { o.Opened = at; return o }
	tests := []struct {
		name  string
		st    State
		obs   Observation
		field string
	}{
		{"opened centuries ago", State{Record: tmRecord}, opened(tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive), time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)), "opened"},
		{"opened more than 100 years before at", State{Record: tmRecord}, opened(tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive), time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC)), "opened"},
		{"at far in the future", State{Record: tmRecord}, tmObs(time.Date(9500, 1, 1, 0, 0, 0, 0, time.UTC), 1, itsm.CategoryActive), "at"},
		{"a live timer would live more than 100 years", st, tmObs(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 1, itsm.CategoryActive), "at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.Observe(tc.st, tc.obs)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
	t.Run("advance a century on", func(t *testing.T) {
		_, _, err := e.Advance(st, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "now", ve.Field)
	})
	t.Run("a state whose figures would overflow", func(t *testing.T) {
		bad := st.Clone()
		bad.Timers[0].BusinessElapsed = -1
		_, _, err := e.Advance(bad, tmDay(3, 10, 0))
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.True(t, ve.Has("timers[0].business_elapsed"), "got %v", err)
	})
	t.Run("the longest life accepted accrues without wrapping", func(t *testing.T) {
		o := opened(tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive), tmDay(3, 9, 0).Add(-maxLife))
		st, _ := tmFeed(t, e, State{Record: tmRecord}, o)
		tm := tmOnly(t, st, "resolution")
		assert.Equal(t, maxLife, tm.BusinessElapsed)
		assert.True(t, tm.Percent().IsPositive())
		assert.Zero(t, tm.Remaining())
	})
}

func TestNonUTCStateIsNormalised(t *testing.T) {
	e := tmEngine(t, "", tmResolution())
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryWaiting))
	paris := time.FixedZone("CET", 3600)
	local := st.Clone()
	local.AsOf = local.AsOf.In(paris)
	for i := range local.Timers {
		tm := &local.Timers[i]
		tm.AsOf, tm.StartedAt, tm.Since = tm.AsOf.In(paris), tm.StartedAt.In(paris), tm.Since.In(paris)
		for j := range tm.Segments {
			tm.Segments[j].From = tm.Segments[j].From.In(paris)
		}
	}
	next := tmObs(tmDay(3, 11, 0).In(paris), 1, itsm.CategoryActive)
	want, wantEvs, err := e.Observe(st, next)
	require.NoError(t, err)
	got, gotEvs, err := e.Observe(local, next)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, wantEvs, gotEvs)
}

// testStuckCal works every instant but reports a transition that never
// moves forward.
type testStuckCal struct{ continuousTime }

func (testStuckCal) NextTransition(t time.Time) (time.Time, bool) { return t, true }

func TestExplainSurvivesACalendarThatDoesNotMoveOn(t *testing.T) {
	e, err := NewEngine([]Agreement{{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Calendar: "stuck", Targets: []Target{tmResolution()}}},
		CalendarMap{"stuck": testStuckCal{}})
	require.NoError(t, err)
	st, _ := tmFeed(t, e, State{Record: tmRecord}, tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive), tmObs(tmDay(3, 10, 0), 1, itsm.CategoryActive))
	x, err := e.Explain(tmOnly(t, st, "resolution"))
	require.NoError(t, err)
	assert.Equal(t, []Stretch{{Kind: StretchCounted, From: tmDay(3, 9, 0), To: tmDay(3, 10, 0), Working: time.Hour}}, x.Stretches)
}
