package sla

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// tmReplayEngine exercises every policy at once: reopen never/resume/new
// cycle, both retarget policies, a retroactive start, a reset, cancel when
// start fails, and goals on two calendars.
func tmReplayEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(tmReplayAgreements(), CalendarMap{"office": testWeekdayCal{}})
	require.NoError(t, err)
	return e
}

// tmReplayAgreements returns the agreements of tmReplayEngine.
func tmReplayAgreements() []Agreement {
	fix := tmResolution()
	fix.Metric = "fix"
	fix.Reopen = ReopenNewCycle
	fix.Retarget = RetargetRetroactive
	fix.StartFrom = StartFromOpened
	fix.Goals = []Goal{
		{Name: "p1", When: PriorityIn(1), Within: 3 * time.Hour, Calendar: Always24x7},
		{Name: "p2", When: PriorityIn(2), Within: 6 * time.Hour},
		{Name: "other", When: &Condition{Field: "priority", Op: OpLE, Values: []string{"4"}}, Within: 20 * time.Hour},
	}
	fix.Thresholds = nil
	update := Target{
		Metric:               "update",
		Start:                StateIn(itsm.CategoryNew, itsm.CategoryActive),
		Pause:                StateIn(itsm.CategoryWaiting),
		Stop:                 tmDone,
		Reset:                FieldChanged("fields.updates"),
		CancelWhenStartFails: true,
		Reopen:               ReopenNewCycle,
		Goals:                []Goal{{Name: "all", Within: 90 * time.Minute}},
	}
	return []Agreement{
		{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Calendar: "office", Targets: []Target{tmResponse(), tmResolution(), fix, update}},
		{ID: "vendor", Version: 1, Kind: itsm.AgreementUC, Scope: FieldIs("service", "email"), Targets: []Target{tmResolution()}},
	}
}

// tmStep is one thing the host does: observe the record, or advance to an
// instant without observing.
type tmStep struct {
	advance bool
	obs     Observation
}

// tmRandomHistory is the observations of a run of tmRandomSteps, without
// its advances: a history Replay takes.
func tmRandomHistory(r *rand.Rand) []Observation {
	var history []Observation
	for _, s := range tmRandomSteps(func(n int) int { return r.IntN(n) }) {
		if !s.advance {
			history = append(history, s.obs)
		}
	}
	return history
}

// tmRandomSteps turns a stream of numbers into a plausible record history.
func tmRandomSteps(next func(n int) int) []tmStep {
	at := tmDay(3, 8, 0).Add(time.Duration(next(7*24*60)) * time.Minute)
	opened := at.Add(-time.Duration(next(3*24*60)) * time.Minute)
	states := itsm.Categories()
	services := []string{"email", "web"}
	updates := 0
	var out []tmStep
	n := 1 + next(14)
	for range n {
		switch next(4) {
		case 0:
			at = at.Add(time.Duration(next(90*60)) * time.Second)
		case 1:
			at = at.Add(time.Duration(next(3*24*60)) * time.Minute)
		case 2:
			at = at.Add(time.Duration(next(1000)) * time.Microsecond)
		}
		if next(3) == 0 {
			out = append(out, tmStep{advance: true, obs: Observation{At: at}})
			at = at.Add(time.Duration(next(6*60)) * time.Minute)
		}
		if next(3) == 0 {
			updates++
		}
		out = append(out, tmStep{obs: Observation{
			At:       at,
			Opened:   opened,
			Priority: itsm.Priority(1 + next(5)),
			Service:  services[next(len(services))],
			State:    states[next(len(states))],
			Fields:   map[string]string{"updates": strconv.Itoa(updates), "responded": []string{"", "yes"}[next(2)]},
		}})
	}
	return out
}

// tmCheckReplay feeds steps one by one, advancing and round-tripping the
// state through JSON as a host would, and compares the outcome with a replay
// of the observations alone.
func tmCheckReplay(t testing.TB, e *Engine, steps []tmStep) {
	t.Helper()
	var history []Observation
	st := State{Record: tmRecord}
	var inc []Event
	for _, s := range steps {
		var (
			next State
			evs  []Event
			err  error
		)
		if s.advance {
			next, evs, err = e.Advance(st, s.obs.At)
		} else {
			history = append(history, s.obs)
			next, evs, err = e.Observe(st, s.obs)
		}
		require.NoError(t, err)
		inc = append(inc, evs...)
		b, err := json.Marshal(next)
		require.NoError(t, err)
		st = State{}
		require.NoError(t, json.Unmarshal(b, &st))
	}
	if len(history) == 0 {
		return
	}
	// Trailing advances are beyond the last observation: bring the replay
	// to the same instant.
	replayed, all, err := e.Replay(tmRecord, history)
	require.NoError(t, err)
	replayed, more, err := e.Advance(replayed, st.AsOf)
	require.NoError(t, err)
	all = append(all, more...)

	require.Equal(t, replayed, st, "replay and incremental timers differ")
	require.Equal(t, all, inc, "replay and incremental events differ")

	seen := map[string]bool{}
	for _, ev := range all {
		require.False(t, seen[ev.Key], "duplicate idempotency key %s", ev.Key)
		seen[ev.Key] = true
	}
	for _, tm := range st.Timers {
		x, err := e.Explain(tm)
		require.NoError(t, err)
		end := tm.AsOf
		if !tm.Stage.Live() {
			end = tm.EndedAt
		}
		var span time.Duration
		for _, iv := range x.Stretches {
			span += iv.To.Sub(iv.From)
		}
		require.Equal(t, end.Sub(tm.StartedAt), span, "explained intervals cover the timer's life")
		require.Equal(t, tm.BusinessElapsed, x.Total(StretchCounted), "counted intervals sum to business elapsed")
		require.Equal(t, tm.BusinessPaused, x.Total(StretchPaused), "paused intervals sum to business pause")
		if tm.Breached && len(tm.Changes) == 0 {
			require.GreaterOrEqual(t, tm.BusinessElapsed, tm.Within)
		}
	}
}

func TestReplayEqualsIncremental(t *testing.T) {
	e := tmReplayEngine(t)
	for seed := range uint64(400) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x5eed))
			tmCheckReplay(t, e, tmRandomSteps(func(n int) int { return r.IntN(n) }))
		})
	}
}

func FuzzTimerReplay(f *testing.F) {
	for _, seed := range tmFuzzSeeds {
		f.Add(seed)
	}
	e := tmReplayEngine(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tmCheckReplay(t, e, tmRandomSteps(tmChooser(data)))
	})
}

// tmFuzzSeeds are the seed inputs of the fuzz targets that replay random
// steps.
var tmFuzzSeeds = [][]byte{
	{1, 2, 3, 4, 5, 6, 7, 8, 9},
	[]byte("a resolution paused while awaiting the caller"),
	{0, 0, 0, 0, 255, 255, 255, 255, 17, 42, 3, 3, 3},
}

// tmChooser turns fuzz data into the choices tmRandomSteps asks for: two
// bytes a choice, then zeros once the data runs out.
func tmChooser(data []byte) func(n int) int {
	i := 0
	return func(n int) int {
		if i >= len(data) {
			return 0
		}
		v := int(data[i])
		if i+1 < len(data) {
			v = v<<8 | int(data[i+1])
		}
		i += 2
		return v % n
	}
}

func TestReplayCoversEveryPolicy(t *testing.T) {
	// The property test is only as good as its histories: make sure they
	// reach the interesting paths.
	e := tmReplayEngine(t)
	seen := map[string]bool{}
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		history := tmRandomHistory(r)
		st, evs, err := e.Replay(tmRecord, history)
		require.NoError(t, err)
		for _, ev := range evs {
			seen[string(ev.Kind)] = true
		}
		for _, tm := range st.Timers {
			seen["reason:"+tm.EndReason] = true
			if tm.Cycle > 1 {
				seen["cycle>1:"+tm.Metric] = true
			}
			for _, c := range tm.Changes {
				seen["retarget:"+string(c.How)] = true
			}
			for _, m := range tm.Marks {
				if m.Skipped {
					seen["skipped"] = true
				}
			}
		}
	}
	for _, want := range []string{
		"attached", "paused", "resumed", "completed", "canceled", "retargeted", "threshold", "breached",
		"reason:cancel", "reason:reset", "reason:start_failed", "reason:scope",
		"cycle>1:fix", "cycle>1:update", "retarget:keep_elapsed", "retarget:retroactive", "skipped",
	} {
		assert.True(t, seen[want], "no random history reached %s", want)
	}
}

// TestNextEventAtIsWhenSomethingHappens checks over random histories that
// advancing to State.NextEventAt emits an event and advancing to just
// before it emits none, so a host that schedules itself by it misses
// nothing and wakes for nothing.
func TestNextEventAtIsWhenSomethingHappens(t *testing.T) {
	e := tmReplayEngine(t)
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 11))
		st := State{Record: tmRecord}
		for _, s := range tmRandomSteps(func(n int) int { return r.IntN(n) }) {
			var err error
			if s.advance {
				st, _, err = e.Advance(st, s.obs.At)
			} else {
				st, _, err = e.Observe(st, s.obs)
			}
			require.NoError(t, err)
			at, ok := st.NextEventAt(st.AsOf)
			if !ok {
				continue
			}
			if before := at.Add(-time.Microsecond); before.After(st.AsOf) {
				_, evs, err := e.Advance(st, before)
				require.NoError(t, err)
				require.Empty(t, evs, "seed %d: events before NextEventAt %v", seed, at)
			}
			_, evs, err := e.Advance(st, at)
			require.NoError(t, err)
			require.NotEmpty(t, evs, "seed %d: nothing at NextEventAt %v", seed, at)
		}
	}
}
