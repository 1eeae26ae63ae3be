package sla

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// Calendars resolves the calendar names agreements use. Always24x7 is built
// in and never asked for.
type Calendars interface {
	// Calendar returns the calendar named name, and false when there is
	// none.
	Calendar(name string) (Calendar, bool)
}

// CalendarMap is the simplest Calendars: a map from name to calendar.
type CalendarMap map[string]Calendar

// Calendar returns m[name].
func (m CalendarMap) Calendar(name string) (Calendar, bool) {
	c, ok := m[name]
	return c, ok && c != nil
}

// maxWithin is the longest goal accepted, so that every threshold's share of
// it fits in a time.Duration.
const maxWithin = 20 * 365 * 24 * time.Hour

// Engine evaluates agreements against observations of records. It is built
// once from definitions and calendars, holds no mutable state, and is safe
// for concurrent use. Every method is a pure function of its arguments.
type Engine struct {
	latest  []*compAgreement // highest version of each ID, sorted by ID
	all     map[versionKey]*compAgreement
	watched []string // condition paths compared with OpChanged
}

type versionKey struct {
	id      string
	version int
}

type compAgreement struct {
	id      string
	version int
	kind    itsm.AgreementKind
	scope   *condPred
	targets []compTarget
}

type compTarget struct {
	metric                            string
	start, pause, stop, cancel, reset *condPred
	cancelWhenStartFails              bool
	startFrom                         StartFrom
	reopen                            ReopenPolicy
	retarget                          RetargetPolicy
	goals                             []compGoal
	thresholds                        []compThreshold // ascending
}

type compThreshold struct {
	pct  decimal.Decimal
	text string
}

type compGoal struct {
	name    string
	when    *condPred
	within  time.Duration
	calName string
	cal     Calendar
	needs   []time.Duration // business time at which each threshold is reached
}

// NewEngine validates and compiles agreements (several versions of one ID
// may be given; new cycles attach to the highest) and resolves every
// calendar they name through cals, which may be nil when all run on
// Always24x7. It returns a *itsm.ValidationError naming the field, e.g.
// "agreements[0].targets[1].goals[0].calendar", when a definition is invalid,
// an (ID, version) pair repeats or a calendar is unknown.
func NewEngine(agreements []Agreement, cals Calendars) (*Engine, error) {
	var errs itsm.FieldErrors
	e := &Engine{all: make(map[versionKey]*compAgreement, len(agreements))}
	if len(agreements) == 0 {
		errs.Add("agreements", "must not be empty")
	}
	byID := map[string]*compAgreement{}
	for i, a := range agreements {
		at := fmt.Sprintf("agreements[%d]", i)
		before := errs.Len()
		var inner itsm.FieldErrors
		a.validate(&inner)
		errs.Merge(at, inner.Err())
		if errs.Len() > before {
			continue
		}
		ca := compileAgreement(&errs, at, a, cals)
		if errs.Len() > before {
			continue
		}
		key := versionKey{a.ID, a.Version}
		if e.all[key] != nil {
			errs.Addf(at+".version", "agreement %q version %d is given twice", a.ID, a.Version)
			continue
		}
		e.all[key] = ca
		if cur := byID[a.ID]; cur == nil || cur.version < a.Version {
			byID[a.ID] = ca
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	for _, ca := range byID {
		e.latest = append(e.latest, ca)
	}
	slices.SortFunc(e.latest, func(a, b *compAgreement) int { return cmp.Compare(a.id, b.id) })
	for _, ca := range e.all {
		e.watched = ca.scope.watched(e.watched)
		for _, ct := range ca.targets {
			for _, p := range []*condPred{ct.start, ct.pause, ct.stop, ct.cancel, ct.reset} {
				e.watched = p.watched(e.watched)
			}
			for _, g := range ct.goals {
				e.watched = g.when.watched(e.watched)
			}
		}
	}
	slices.Sort(e.watched)
	return e, nil
}

func compileAgreement(errs *itsm.FieldErrors, at string, a Agreement, cals Calendars) *compAgreement {
	ca := &compAgreement{id: a.ID, version: a.Version, kind: a.Kind}
	ca.scope, _ = compileCondition(a.Scope)
	for i, t := range a.Targets {
		tat := fmt.Sprintf("%s.targets[%d]", at, i)
		ct := compTarget{
			metric:               t.Metric,
			cancelWhenStartFails: t.CancelWhenStartFails,
			startFrom:            cmp.Or(t.StartFrom, StartFromObserved),
			reopen:               cmp.Or(t.Reopen, ReopenNever),
			retarget:             cmp.Or(t.Retarget, RetargetKeepElapsed),
		}
		ct.start, _ = compileCondition(t.Start)
		ct.pause, _ = compileCondition(t.Pause)
		ct.stop, _ = compileCondition(t.Stop)
		ct.cancel, _ = compileCondition(t.Cancel)
		ct.reset, _ = compileCondition(t.Reset)
		ths := t.Thresholds
		if len(ths) == 0 {
			ths = DefaultThresholds()
		}
		for _, p := range ths {
			ct.thresholds = append(ct.thresholds, compThreshold{pct: p, text: p.String()})
		}
		slices.SortFunc(ct.thresholds, func(a, b compThreshold) int { return a.pct.Cmp(b.pct) })
		for j, g := range t.Goals {
			gat := fmt.Sprintf("%s.goals[%d]", tat, j)
			if g.Within > maxWithin {
				errs.Add(gat+".within", "must be at most 20 years")
				continue
			}
			name := cmp.Or(g.Calendar, a.Calendar, Always24x7)
			cg := compGoal{name: g.Name, within: g.Within, calName: name}
			cg.when, _ = compileCondition(g.When)
			if name == Always24x7 {
				cg.cal = continuousTime{}
			} else if cals == nil {
				errs.Addf(gat+".calendar", "%q cannot be resolved: no calendars given", name)
			} else if c, ok := cals.Calendar(name); ok {
				cg.cal = c
			} else {
				errs.Addf(gat+".calendar", "%q is not a known calendar", name)
			}
			w := decimal.NewFromInt(int64(g.Within))
			for _, th := range ct.thresholds {
				// within (ns) × pct ÷ 100 ÷ 1000 is the need in microseconds:
				// multiplying and shifting the decimal point are exact, so the
				// only rounding is the final one up to a whole microsecond.
				us := w.Mul(th.pct).Shift(-5).Ceil()
				cg.needs = append(cg.needs, time.Duration(us.IntPart())*time.Microsecond)
			}
			ct.goals = append(ct.goals, cg)
		}
		ca.targets = append(ca.targets, ct)
	}
	return ca
}

// continuousTime is the built-in Always24x7 calendar: every instant works.
type continuousTime struct{}

func (continuousTime) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, itsm.NewValidationError("duration", "must not be negative")
	}
	return t.Add(d), nil
}

func (continuousTime) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}

func (continuousTime) IsWorking(time.Time) bool                   { return true }
func (continuousTime) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }

// Agreements returns the (ID, version) pairs the engine holds, sorted.
func (e *Engine) Agreements() []string {
	out := make([]string, 0, len(e.all))
	for k := range e.all {
		out = append(out, fmt.Sprintf("%s@%d", k.id, k.version))
	}
	sort.Strings(out)
	return out
}

func (ct *compTarget) goal(name string) *compGoal {
	for i := range ct.goals {
		if ct.goals[i].name == name {
			return &ct.goals[i]
		}
	}
	return nil
}

func (ca *compAgreement) target(metric string) *compTarget {
	for i := range ca.targets {
		if ca.targets[i].metric == metric {
			return &ca.targets[i]
		}
	}
	return nil
}

func (ct *compTarget) match(o *Observation, m *condMemory) *compGoal {
	for i := range ct.goals {
		if ct.goals[i].when.holds(o, m, true) {
			return &ct.goals[i]
		}
	}
	return nil
}

// definition finds the compiled definition a timer evaluates under.
func (e *Engine) definition(t *Timer) (*compAgreement, *compTarget, *compGoal, bool) {
	ca := e.all[versionKey{t.Agreement, t.Version}]
	if ca == nil {
		return nil, nil, nil, false
	}
	ct := ca.target(t.Metric)
	if ct == nil {
		return nil, nil, nil, false
	}
	g := ct.goal(t.Goal)
	if g == nil {
		return nil, nil, nil, false
	}
	return ca, ct, g, true
}

func missingDefinition(i int, t *Timer) error {
	return itsm.NewValidationError(fmt.Sprintf("timers[%d].version", i),
		fmt.Sprintf("agreement %q version %d with metric %q and goal %q is not loaded in the engine", t.Agreement, t.Version, t.Metric, t.Goal))
}

// crossAt returns the instant at which rem more business time has
// accrued from a (a itself when rem <= 0).
func crossAt(cal Calendar, a time.Time, rem time.Duration) (time.Time, error) {
	if rem <= 0 {
		return a, nil
	}
	x, err := cal.Add(a, rem)
	if err != nil {
		return time.Time{}, err
	}
	return itsm.Normalize(x), nil
}

// accrueTimer brings a live timer from t.AsOf to to in its current stage,
// recording thresholds and the breach it runs past. With suppress set they
// are recorded as skipped and emit nothing.
func accrueTimer(t *Timer, ct *compTarget, g *compGoal, to time.Time, suppress bool, evs *[]Event) error {
	a := t.AsOf
	if !t.Stage.Live() || !to.After(a) {
		return nil
	}
	cal := g.cal
	switch t.Stage {
	case StageRunning:
		bw := cal.Between(a, to)
		e := t.BusinessElapsed
		for i := range ct.thresholds {
			rem := g.needs[i] - e
			if rem > bw {
				break
			}
			th := &ct.thresholds[i]
			if t.hasMark(th.text) {
				continue
			}
			x, err := crossAt(cal, a, rem)
			if err != nil {
				return fmt.Errorf("sla: calendar %q: %w", g.calName, err)
			}
			if !x.Before(to) {
				continue
			}
			t.Marks = append(slices.Clip(t.Marks), Mark{Threshold: th.text, At: x, Skipped: suppress})
			if !suppress {
				ev := newEvent(t, EventThreshold, x)
				ev.Key = t.eventKey("threshold", th.text)
				ev.Threshold = th.pct
				*evs = append(*evs, ev)
			}
		}
		if rem := t.Within - e; !t.Breached && rem <= bw {
			x, err := crossAt(cal, a, rem)
			if err != nil {
				return fmt.Errorf("sla: calendar %q: %w", g.calName, err)
			}
			if x.Before(to) {
				t.Breached, t.BreachedAt = true, x
				if !suppress {
					ev := newEvent(t, EventBreached, x)
					ev.Key = t.eventKey("breached")
					*evs = append(*evs, ev)
				}
			}
		}
		t.BusinessElapsed += bw
		t.ActualElapsed += to.Sub(a)
	case StagePaused:
		t.BusinessPaused += cal.Between(a, to)
		t.ActualPaused += to.Sub(a)
	}
	t.AsOf = to
	return nil
}

// refreshTimer recomputes DueAt and NextAt of a timer at t.AsOf. A calendar that
// never reaches an instant leaves it zero.
func refreshTimer(t *Timer, ct *compTarget, g *compGoal) {
	t.DueAt, t.NextAt = time.Time{}, time.Time{}
	if t.Stage != StageRunning {
		return
	}
	if t.Breached {
		t.DueAt = t.BreachedAt
	} else if due, err := crossAt(g.cal, t.AsOf, t.Within-t.BusinessElapsed); err == nil {
		t.DueAt, t.NextAt = due, due
	}
	for i := range ct.thresholds {
		if t.hasMark(ct.thresholds[i].text) {
			continue
		}
		if x, err := crossAt(g.cal, t.AsOf, g.needs[i]-t.BusinessElapsed); err == nil && (t.NextAt.IsZero() || x.Before(t.NextAt)) {
			t.NextAt = x
		}
		break
	}
}

// setTimerStage closes the current segment at at and enters stage s.
func setTimerStage(t *Timer, s Stage, at time.Time) {
	if t.Since.Before(at) {
		kind := SegmentRunning
		if t.Stage == StagePaused {
			kind = SegmentPaused
		}
		t.Segments = append(slices.Clip(t.Segments), Segment{Kind: kind, From: t.Since, To: at})
	}
	t.Stage = s
	if s.Live() {
		t.Since = at
		return
	}
	t.Since = time.Time{}
	t.EndedAt = at
	t.DueAt, t.NextAt = time.Time{}, time.Time{}
}

func finishTimer(t *Timer, s Stage, reason string, at time.Time, evs *[]Event) {
	setTimerStage(t, s, at)
	t.EndReason = reason
	kind := EventCompleted
	if s == StageCanceled {
		kind = EventCanceled
	}
	*evs = append(*evs, newEvent(t, kind, at))
}

// checkTimerState validates the parts of a State the engine relies on.
func checkTimerState(st *State) error {
	var errs itsm.FieldErrors
	if err := st.Record.Validate(); err != nil {
		errs.Merge("record", err)
	}
	if !st.AsOf.IsZero() && !itsm.IsNormalized(st.AsOf) {
		errs.Add("as_of", "must be normalised (UTC, whole microseconds)")
	}
	for i := range st.Timers {
		t := &st.Timers[i]
		if t.Stage < StageRunning || t.Stage > StageCanceled {
			errs.Addf(fmt.Sprintf("timers[%d].stage", i), "%d is not a stage", uint8(t.Stage))
		}
		if t.Stage.Live() && t.AsOf != st.AsOf {
			errs.Add(fmt.Sprintf("timers[%d].as_of", i), "of a live timer must equal the state's as_of")
		}
	}
	return errs.Err()
}

// Observe applies one observation of the state's record and returns the new
// state and the events that happened since st.AsOf, sorted by instant. The
// given state is not modified.
//
// Live timers evaluate under the agreement version they attached with
// (frozen) until migrated; new cycles attach under the highest version.
//
// Errors: a *itsm.ValidationError naming "record", "at" (zero, or before
// the state's as_of), "opened" (after at), "state" (not a valid category) or
// "timers[i].…" (a malformed state, or a live timer whose agreement version
// the engine does not hold); an error wrapping a calendar's error when a
// calendar fails. Nothing is returned but the error then.
func (e *Engine) Observe(st State, obs Observation) (State, []Event, error) {
	if err := checkTimerState(&st); err != nil {
		return State{}, nil, err
	}
	var errs itsm.FieldErrors
	at := itsm.Normalize(obs.At)
	if obs.At.IsZero() {
		errs.Add("at", "must be set")
	} else if at.Before(st.AsOf) {
		errs.Addf("at", "%s is before the last observation %s", at.Format(time.RFC3339Nano), st.AsOf.Format(time.RFC3339Nano))
	}
	opened := itsm.Normalize(obs.Opened)
	if obs.Opened.IsZero() {
		opened = at
	} else if opened.After(at) {
		errs.Add("opened", "must not be after at")
	}
	if !obs.State.Valid() {
		errs.Add("state", "must be a valid state category")
	}
	if err := errs.Err(); err != nil {
		return State{}, nil, err
	}
	obs.At, obs.Opened = at, opened

	out := st
	out.Timers = slices.Clone(st.Timers)

	var evs []Event
	if err := e.advanceAll(&out, at, &evs); err != nil {
		return State{}, nil, err
	}
	mem := condMemory{seen: st.Observed, values: st.Previous}

	// Live timers, each under its own definition.
	for i := range out.Timers {
		t := &out.Timers[i]
		if !t.Stage.Live() {
			continue
		}
		ca, ct, _, _ := e.definition(t)
		e.evaluateLive(t, ca, ct, &obs, &mem, &evs)
	}
	// Attach and reopen under the latest definitions.
	for _, ca := range e.latest {
		for j := range ca.targets {
			if err := e.attach(&out, ca, &ca.targets[j], &obs, &mem, &evs); err != nil {
				return State{}, nil, err
			}
		}
	}
	for i := range out.Timers {
		t := &out.Timers[i]
		if t.Stage.Live() {
			_, ct, g, _ := e.definition(t)
			refreshTimer(t, ct, g)
		}
	}
	out.Observed = true
	if len(out.Timers) == 0 {
		out.Timers = nil
	}
	if len(e.watched) > 0 {
		out.Previous = make(map[string]string, len(e.watched))
		for _, p := range e.watched {
			out.Previous[p] = readConditionPath(&obs, p)
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	return out, evs, nil
}

// advanceAll accrues every live timer of out to at; out.Timers is already
// a copy the caller owns.
func (e *Engine) advanceAll(out *State, at time.Time, evs *[]Event) error {
	for i := range out.Timers {
		t := &out.Timers[i]
		if !t.Stage.Live() {
			continue
		}
		_, ct, g, ok := e.definition(t)
		if !ok {
			return missingDefinition(i, t)
		}
		if err := accrueTimer(t, ct, g, at, false, evs); err != nil {
			return err
		}
	}
	out.AsOf = at
	return nil
}

// evaluateLive applies the precedence stop, cancel, reset, goal, pause to a
// live timer at obs.At.
func (e *Engine) evaluateLive(t *Timer, ca *compAgreement, ct *compTarget, o *Observation, m *condMemory, evs *[]Event) {
	at := o.At
	t.Priority = o.Priority
	if ct.stop.holds(o, m, false) {
		finishTimer(t, StageCompleted, "", at, evs)
		return
	}
	switch {
	case ct.cancel.holds(o, m, false):
		finishTimer(t, StageCanceled, "cancel", at, evs)
		return
	case !ca.scope.holds(o, m, true):
		finishTimer(t, StageCanceled, "scope", at, evs)
		return
	case ct.cancelWhenStartFails && !ct.start.holds(o, m, true):
		finishTimer(t, StageCanceled, "start_failed", at, evs)
		return
	case ct.reset.holds(o, m, false):
		finishTimer(t, StageCanceled, "reset", at, evs)
		return
	}
	e.goalAndPause(t, ct, o, m, evs)
}

// goalAndPause retargets a live timer if another goal matches and sets its
// stage from the pause condition.
func (e *Engine) goalAndPause(t *Timer, ct *compTarget, o *Observation, m *condMemory, evs *[]Event) {
	at := o.At
	g := ct.match(o, m)
	if g == nil {
		finishTimer(t, StageCanceled, "no_goal", at, evs)
		return
	}
	if g.name != t.Goal {
		retargetTimer(t, ct, g, ct.retarget, at)
		*evs = append(*evs, newEvent(t, EventRetargeted, at))
	}
	paused := ct.pause.holds(o, m, false)
	switch {
	case paused && t.Stage == StageRunning:
		setTimerStage(t, StagePaused, at)
		*evs = append(*evs, newEvent(t, EventPaused, at))
	case !paused && t.Stage == StagePaused:
		setTimerStage(t, StageRunning, at)
		*evs = append(*evs, newEvent(t, EventResumed, at))
	}
}

// retargetTimer moves a live timer, accrued to at, onto goal g.
func retargetTimer(t *Timer, ct *compTarget, g *compGoal, how RetargetPolicy, at time.Time) {
	t.Changes = append(slices.Clip(t.Changes), Change{At: at, From: t.Goal, To: g.name, How: how})
	t.Goal, t.Within, t.Calendar = g.name, g.within, g.calName
	if how != RetargetRetroactive {
		return
	}
	// Recount every stretch on the new goal's calendar; what the recount puts
	// behind the timer is skipped, what already fired stays fired.
	stage, since := t.Stage, t.Since
	t.BusinessElapsed, t.ActualElapsed, t.BusinessPaused, t.ActualPaused = 0, 0, 0, 0
	var none []Event
	replay := func(kind SegmentKind, from, to time.Time) {
		switch kind {
		case SegmentRunning:
			t.Stage = StageRunning
		case SegmentPaused:
			t.Stage = StagePaused
		default:
			return
		}
		t.AsOf = from
		// The calendar's Add cannot fail inside a span Between measured.
		_ = accrueTimer(t, ct, g, to, true, &none)
	}
	for _, s := range t.Segments {
		replay(s.Kind, s.From, s.To)
	}
	cur := SegmentRunning
	if stage == StagePaused {
		cur = SegmentPaused
	}
	replay(cur, since, at)
	t.Stage, t.AsOf = stage, at
}

// canAttach reports whether a cycle of ct may attach now: in scope, start
// holds, and neither stop nor cancel does (stop beats start).
func canAttach(ca *compAgreement, ct *compTarget, o *Observation, m *condMemory) bool {
	return ca.scope.holds(o, m, true) && ct.start.holds(o, m, true) &&
		!ct.stop.holds(o, m, false) && !ct.cancel.holds(o, m, false)
}

func (e *Engine) attach(out *State, ca *compAgreement, ct *compTarget, o *Observation, m *condMemory, evs *[]Event) error {
	at := o.At
	idx := out.latest(ca.id, ct.metric)
	cycle := 1
	if idx >= 0 {
		cur := &out.Timers[idx]
		if cur.Stage.Live() {
			return nil
		}
		cycle = cur.Cycle + 1
		if cur.Stage == StageCompleted {
			cca, cct := ca, ct
			if old := e.all[versionKey{cur.Agreement, cur.Version}]; old != nil {
				if tg := old.target(cur.Metric); tg != nil {
					cca, cct = old, tg
				}
			}
			switch cct.reopen {
			case ReopenNever:
				return nil
			case ReopenResume:
				if !canAttach(cca, cct, o, m) || cct.match(o, m) == nil {
					return nil
				}
				if cct.goal(cur.Goal) == nil {
					return missingDefinition(idx, cur)
				}
				cur.Segments = append(slices.Clip(cur.Segments), Segment{Kind: SegmentStopped, From: cur.EndedAt, To: at})
				cur.Stage, cur.Since, cur.AsOf, cur.EndedAt, cur.Priority = StageRunning, at, at, time.Time{}, o.Priority
				*evs = append(*evs, newEvent(cur, EventResumed, at))
				e.goalAndPause(cur, cct, o, m, evs)
				return nil
			}
		}
	}
	if !canAttach(ca, ct, o, m) {
		return nil
	}
	g := ct.match(o, m)
	if g == nil {
		return nil
	}
	t := Timer{
		Record: out.Record, Agreement: ca.id, Version: ca.version, Kind: ca.kind, Metric: ct.metric,
		Cycle: cycle, Priority: o.Priority, Goal: g.name, Within: g.within, Calendar: g.calName,
		Stage: StageRunning, StartedAt: at, AttachedAt: at, AsOf: at, Since: at,
	}
	if ct.startFrom == StartFromOpened && cycle == 1 && o.Opened.Before(at) {
		t.StartedAt, t.AsOf, t.Since = o.Opened, o.Opened, o.Opened
		var none []Event
		if err := accrueTimer(&t, ct, g, at, true, &none); err != nil {
			return err
		}
	}
	*evs = append(*evs, newEvent(&t, EventAttached, at))
	if ct.pause.holds(o, m, false) {
		setTimerStage(&t, StagePaused, at)
	}
	out.Timers = append(out.Timers, t)
	return nil
}

// Advance accrues the state's live timers up to now without a new
// observation (the record is as last observed) and returns the threshold
// and breach events passed on the way, sorted by instant. Hosts call it at
// State.NextEventAt. Errors: a *itsm.ValidationError naming "now" (before
// the state's as_of) or "timers[i].…"; an error wrapping a calendar's.
func (e *Engine) Advance(st State, now time.Time) (State, []Event, error) {
	if err := checkTimerState(&st); err != nil {
		return State{}, nil, err
	}
	now = itsm.Normalize(now)
	if now.Before(st.AsOf) {
		return State{}, nil, itsm.NewValidationError("now", "is before the state's as_of")
	}
	out := st
	out.Timers = slices.Clone(st.Timers)
	if len(out.Timers) == 0 {
		out.Timers = nil
	}
	var evs []Event
	if err := e.advanceAll(&out, now, &evs); err != nil {
		return State{}, nil, err
	}
	for i := range out.Timers {
		t := &out.Timers[i]
		if t.Stage.Live() {
			_, ct, g, _ := e.definition(t)
			refreshTimer(t, ct, g)
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	return out, evs, nil
}

// Replay applies a record's whole observation history, oldest first, to a
// fresh state and returns the result and every event. It equals feeding the
// observations one by one to Observe, with or without Advance calls in
// between. Errors are Observe's, with the field prefixed "history[i]".
func (e *Engine) Replay(record itsm.Ref, history []Observation) (State, []Event, error) {
	st := State{Record: record}
	var all []Event
	for i, o := range history {
		next, evs, err := e.Observe(st, o)
		if err != nil {
			var ve *itsm.ValidationError
			if errors.As(err, &ve) {
				var errs itsm.FieldErrors
				errs.Merge(fmt.Sprintf("history[%d]", i), err)
				return State{}, nil, errs.Err()
			}
			return State{}, nil, err
		}
		st = next
		all = append(all, evs...)
	}
	return st, all, nil
}

// Strategy says what becomes of live timers whose agreement has a newer
// version (a changed definition or calendar).
type Strategy uint8

// The strategies.
const (
	// StrategyFrozen leaves live timers on the version they attached with
	// until they finish. It is what Observe does when nobody migrates.
	StrategyFrozen Strategy = iota + 1
	// StrategyKeepConsumed moves live timers to the newest version at the
	// current observation, keeping the elapsed and pause time consumed so
	// far; the new goal, calendar and thresholds apply from then on.
	// Thresholds the new definition puts behind the timer are skipped; a
	// breach is detected as usual.
	StrategyKeepConsumed
	// StrategyRecompute replays the record's whole history under the newest
	// versions, as if they had always been in force.
	StrategyRecompute
)

// Migrate applies a Strategy to a record's state. history is the record's
// observation history, oldest first; StrategyKeepConsumed needs only its
// last element (the record as it is now), StrategyRecompute all of it, and
// StrategyFrozen none. Errors: a *itsm.ValidationError naming "strategy" or
// "history", or Observe's errors.
func (e *Engine) Migrate(st State, history []Observation, s Strategy) (State, []Event, error) {
	switch s {
	case StrategyFrozen:
		if err := checkTimerState(&st); err != nil {
			return State{}, nil, err
		}
		return st, nil, nil
	case StrategyRecompute:
		if len(history) == 0 {
			return State{}, nil, itsm.NewValidationError("history", "must not be empty to recompute")
		}
		return e.Replay(st.Record, history)
	case StrategyKeepConsumed:
	default:
		return State{}, nil, itsm.NewValidationError("strategy", fmt.Sprintf("%d is not a strategy", uint8(s)))
	}
	if len(history) == 0 {
		return State{}, nil, itsm.NewValidationError("history", "must hold the current observation")
	}
	now := history[len(history)-1]
	at := itsm.Normalize(now.At)
	if at.Before(st.AsOf) {
		return State{}, nil, itsm.NewValidationError("history", "last observation is before the state's as_of")
	}
	adv, evs, err := e.Advance(st, at)
	if err != nil {
		return State{}, nil, err
	}
	now.At = at
	mem := condMemory{seen: st.Observed, values: st.Previous}
	for i := range adv.Timers {
		t := &adv.Timers[i]
		if !t.Stage.Live() {
			continue
		}
		ca := e.latestOf(t.Agreement)
		if ca != nil && ca.version == t.Version {
			continue
		}
		var ct *compTarget
		if ca != nil {
			ct = ca.target(t.Metric)
		}
		if ct == nil {
			finishTimer(t, StageCanceled, "removed", at, &evs)
			continue
		}
		g := ct.match(&now, &mem)
		if g == nil {
			finishTimer(t, StageCanceled, "no_goal", at, &evs)
			continue
		}
		t.Version, t.Kind = ca.version, ca.kind
		if g.name != t.Goal {
			t.Changes = append(slices.Clip(t.Changes), Change{At: at, From: t.Goal, To: g.name, How: RetargetKeepElapsed})
		}
		t.Goal, t.Within, t.Calendar = g.name, g.within, g.calName
		for k := range ct.thresholds {
			if g.needs[k] <= t.BusinessElapsed && !t.hasMark(ct.thresholds[k].text) {
				t.Marks = append(slices.Clip(t.Marks), Mark{Threshold: ct.thresholds[k].text, At: at, Skipped: true})
			}
		}
		refreshTimer(t, ct, g)
	}
	out, more, err := e.Observe(adv, now)
	if err != nil {
		return State{}, nil, err
	}
	return out, append(evs, more...), nil
}

func (e *Engine) latestOf(id string) *compAgreement {
	i, ok := slices.BinarySearchFunc(e.latest, id, func(a *compAgreement, id string) int { return cmp.Compare(a.id, id) })
	if !ok {
		return nil
	}
	return e.latest[i]
}

// DueIfResumed answers "when would this timer breach if it resumed at
// now?": for a running timer its DueAt, for a paused one the instant its
// remaining business time runs out counting from now (now itself when none
// remains). Errors: a *itsm.ValidationError naming "stage" for a finished
// timer or "version" for a definition the engine does not hold; an error
// wrapping the calendar's.
func (e *Engine) DueIfResumed(t Timer, now time.Time) (time.Time, error) {
	switch t.Stage {
	case StageRunning:
		return t.DueAt, nil
	case StagePaused:
	default:
		return time.Time{}, itsm.NewValidationError("stage", "the timer is not live")
	}
	_, _, g, ok := e.definition(&t)
	if !ok {
		return time.Time{}, itsm.NewValidationError("version", fmt.Sprintf("agreement %q version %d is not loaded", t.Agreement, t.Version))
	}
	x, err := crossAt(g.cal, itsm.Normalize(now), t.Remaining())
	if err != nil {
		return time.Time{}, fmt.Errorf("sla: calendar %q: %w", g.calName, err)
	}
	return x, nil
}
