package sla

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
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

// The window of instants the engine accepts (the kernel's, which stores
// enforce too), and the longest life of a timer, so that no duration it
// adds up can overflow a time.Duration (about 292 years).
const (
	minYear = itsm.MinInstantYear     // first year accepted
	maxYear = itsm.MaxInstantYear + 1 // first year refused
	maxLife = 100 * 365 * 24 * time.Hour
)

// The Unix seconds of the first instant of minYear and of maxYear in UTC
// (TestInstantHelpers checks them), constants so that a test of an
// instant's seconds loads nothing.
const (
	minUnix = -2208988800  // 1900-01-01T00:00:00Z
	maxUnix = 221845392000 // 9000-01-01T00:00:00Z
)

// inWindow reports whether t lies in the years the engine accepts, its
// year read in its own location. An instant in UTC, as the engine's are,
// is compared by its Unix seconds, sparing the calendar arithmetic of
// Year.
func inWindow(t time.Time) bool {
	if t.Location() == time.UTC {
		sec := t.Unix()
		return sec >= minUnix && sec < maxUnix
	}
	y := t.Year()
	return y >= minYear && y < maxYear
}

// norm returns itsm.Normalize(t). An instant already whole microseconds,
// as stored instants are, takes only the inlined UTC conversion.
func norm(t time.Time) time.Time {
	u := t.UTC()
	if u.Nanosecond()%1000 != 0 {
		return itsm.Normalize(u)
	}
	return u
}

// checkInstant records in errs that field is outside the accepted years,
// and reports whether it is inside.
//
// The instants it is given are normalised, in UTC: inWindow's test of
// their seconds is made here, sparing the call.
func checkInstant(errs *itsm.FieldErrors, field string, t time.Time) bool {
	if t.Location() == time.UTC {
		if sec := t.Unix(); sec >= minUnix && sec < maxUnix {
			return true
		}
	} else if inWindow(t) {
		return true
	}
	errs.Add(field, outOfWindow(t))
	return false
}

func outOfWindow(t time.Time) string {
	return fmt.Sprintf("%s is outside the years %d to %d", t.Format(time.RFC3339Nano), minYear, maxYear-1)
}

// Engine evaluates agreements against observations of records. It is built
// once from definitions and calendars, holds no mutable state, and is safe
// for concurrent use. Every method is a pure function of its arguments.
type Engine struct {
	latest []*compAgreement // highest version of each ID, sorted by ID
	// targets counts the targets of the latest versions: the most timers
	// one observation attaches.
	targets int
	all     map[versionKey]*compAgreement
	// few lists every version when there are at most fewVersions, for
	// lookup without hashing the ID (see version); nil otherwise.
	few     []*compAgreement
	watched []string // condition paths compared with OpChanged
	fields  []string // custom field names conditions read, sorted
	// cals holds every calendar a loaded goal names, Always24x7 included;
	// resolver answers for the others (calendars of versions no longer
	// loaded that a timer or its changes still name).
	cals     map[string]Calendar
	resolver Calendars
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
// "agreements[0].targets[1].goals[0].within", when a definition is invalid,
// an (ID, version) pair repeats or a calendar cannot be resolved. A calendar
// is named where it is written: a goal's own as
// "agreements[0].targets[1].goals[0].calendar", the agreement's once as
// "agreements[0].calendar" however many goals count in it.
func NewEngine(agreements []Agreement, cals Calendars) (*Engine, error) {
	var errs itsm.FieldErrors
	e := &Engine{
		all:      make(map[versionKey]*compAgreement, len(agreements)),
		cals:     map[string]Calendar{Always24x7: continuousTime{}},
		resolver: cals,
	}
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
	for _, ca := range e.latest {
		e.targets += len(ca.targets)
	}
	if len(e.all) <= fewVersions {
		// Latest versions first: timers mostly run under them.
		e.few = append(e.few, e.latest...)
		for _, ca := range e.all {
			if byID[ca.id] != ca {
				e.few = append(e.few, ca)
			}
		}
	}
	for _, ca := range e.all {
		e.watched = ca.scope.watched(e.watched)
		e.fields = ca.scope.fieldNames(e.fields)
		for _, ct := range ca.targets {
			for _, p := range []*condPred{ct.start, ct.pause, ct.stop, ct.cancel, ct.reset} {
				e.watched = p.watched(e.watched)
				e.fields = p.fieldNames(e.fields)
			}
			for _, g := range ct.goals {
				e.watched = g.when.watched(e.watched)
				e.fields = g.when.fieldNames(e.fields)
				e.cals[g.calName] = g.cal
			}
		}
	}
	slices.Sort(e.watched)
	slices.Sort(e.fields)
	return e, nil
}

func compileAgreement(errs *itsm.FieldErrors, at string, a Agreement, cals Calendars) *compAgreement {
	ca := &compAgreement{id: a.ID, version: a.Version, kind: a.Kind}
	ca.scope, _ = compileCondition(a.Scope)
	gcals := newGoalCalendars(at, a, cals)
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
			cg := compGoal{name: g.Name, within: g.Within}
			cg.calName, cg.cal = gcals.resolve(errs, gat, g)
			cg.when, _ = compileCondition(g.When)
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

// fewVersions is how many agreement versions an engine may hold for version
// to scan them rather than hash the ID: comparing an int and then, rarely,
// a short string a few times costs less than hashing the string once.
const fewVersions = 16

// version returns version v of agreement id, or nil when the engine does
// not hold it.
func (e *Engine) version(id string, v int) *compAgreement {
	if e.few == nil {
		return e.all[versionKey{id, v}]
	}
	for _, ca := range e.few {
		if ca.version == v && ca.id == id {
			return ca
		}
	}
	return nil
}

// definition finds the compiled definition a timer evaluates under.
func (e *Engine) definition(t *Timer) (*compAgreement, *compTarget, *compGoal, bool) {
	ca := e.version(t.Agreement, t.Version)
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

// calendar returns the calendar named name: Always24x7, one a loaded goal
// names, or one the Calendars given to NewEngine resolves.
func (e *Engine) calendar(name string) (Calendar, bool) {
	if c, ok := e.cals[name]; ok {
		return c, true
	}
	if e.resolver == nil || name == "" {
		return nil, false
	}
	c, ok := e.resolver.Calendar(name)
	return c, ok && Usable(c)
}

// crossAt returns the instant at which rem more business time has
// accrued from a (a itself when rem <= 0).
func crossAt(cal Calendar, a time.Time, rem time.Duration) (time.Time, error) {
	if rem <= 0 {
		return a, nil
	}
	if _, ok := cal.(continuousTime); ok {
		// continuousTime.Add without the interface call.
		return norm(a.Add(rem)), nil
	}
	x, err := cal.Add(a, rem)
	if err != nil {
		return time.Time{}, err
	}
	return norm(x), nil
}

// accrueTimer brings a live timer from t.AsOf to to in its current stage,
// recording thresholds and the breach it runs past. With suppress set they
// are recorded as skipped and emit nothing.
func accrueTimer(t *Timer, ct *compTarget, g *compGoal, to time.Time, suppress bool, evs *[]Event) error {
	a := t.AsOf
	if !t.Stage.Live() || !before(a, to) {
		return nil
	}
	cal := g.cal
	switch t.Stage {
	case StageRunning:
		bw := between(cal, a, to)
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
			t.Marks = append(t.Marks, Mark{Threshold: th.text, At: x, Skipped: suppress})
			if !suppress {
				addEvent(evs, t, EventThreshold, x, th.text).Threshold = th.pct
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
					addEvent(evs, t, EventBreached, x, "")
				}
			}
		}
		t.BusinessElapsed += bw
		t.ActualElapsed += sub(to, a)
	case StagePaused:
		t.BusinessPaused += between(cal, a, to)
		t.ActualPaused += sub(to, a)
	}
	t.AsOf = to
	return nil
}

// between returns cal.Between(a, to) for a before to. On Always24x7 it
// spares the interface call, and computes Sub with sub: to, an instant
// the engine normalised, carries no monotonic clock reading, so Sub would
// compare wall clocks too.
func between(cal Calendar, a, to time.Time) time.Duration {
	if _, ok := cal.(continuousTime); ok {
		return sub(to, a)
	}
	return cal.Between(a, to)
}

// refreshTimer recomputes DueAt and NextAt of a timer at t.AsOf from its
// current goal (see Timer.DueAt). A calendar that never reaches an instant
// leaves it zero, and so does a definition the engine does not hold.
func (e *Engine) refreshTimer(t *Timer) {
	t.DueAt, t.NextAt = time.Time{}, time.Time{}
	if t.Stage != StageRunning {
		return
	}
	if _, ct, g, ok := e.definition(t); ok {
		e.refreshWith(t, ct, g)
	}
}

// refreshWith is refreshTimer for a timer whose definition is known: ct
// and its goal g the timer is on.
func (e *Engine) refreshWith(t *Timer, ct *compTarget, g *compGoal) {
	t.DueAt, t.NextAt = time.Time{}, time.Time{}
	if t.Stage != StageRunning {
		return
	}
	switch rem := t.Within - t.BusinessElapsed; {
	case rem > 0:
		if due, err := crossAt(g.cal, t.AsOf, rem); err == nil {
			t.DueAt = due
			if !t.Breached {
				t.NextAt = due
			}
		}
	case t.Breached:
		t.DueAt = e.reachedAt(t)
	default:
		// Moved onto a goal already behind it: it breaches as it runs on.
		t.DueAt, t.NextAt = t.AsOf, t.AsOf
	}
	for i := range ct.thresholds {
		if t.hasMark(ct.thresholds[i].text) {
			continue
		}
		if x, err := crossAt(g.cal, t.AsOf, g.needs[i]-t.BusinessElapsed); err == nil && (t.NextAt.IsZero() || before(x, t.NextAt)) {
			t.NextAt = x
		}
		break
	}
}

// reachedAt returns the instant t's business elapsed time, counted stretch
// by stretch on the calendar in force in each, reached Within; BreachedAt
// when the goal never changed or the stretches cannot be recounted.
func (e *Engine) reachedAt(t *Timer) time.Time {
	if len(t.Changes) == 0 {
		return t.BreachedAt
	}
	line, err := e.timeline(t)
	if err != nil {
		return t.BreachedAt
	}
	var acc time.Duration
	found := t.BreachedAt
	walkTimer(t, line, func(kind SegmentKind, cal Calendar, from, to time.Time) bool {
		if kind != SegmentRunning {
			return true
		}
		w := cal.Between(from, to)
		if acc+w < t.Within {
			acc += w
			return true
		}
		if x, err := crossAt(cal, from, t.Within-acc); err == nil {
			found = x
		}
		return false
	})
	return found
}

// setTimerStage closes the current segment at at and enters stage s.
func setTimerStage(t *Timer, s Stage, at time.Time) {
	if before(t.Since, at) {
		kind := SegmentRunning
		if t.Stage == StagePaused {
			kind = SegmentPaused
		}
		t.Segments = append(t.Segments, Segment{Kind: kind, From: t.Since, To: at})
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

// decide records t's decision (Timer.Decided) unless it has one: when the
// cycle completes, and when a reopen resumes it. The first time is the
// cycle's first completion, except for a timer completed before the
// decision was recorded, which gets it from what it shows now: the same
// answer Compliance gives such a timer without one.
func decide(t *Timer) {
	if t.Decided {
		return
	}
	at, _ := firstCompletion(t)
	t.Decided, t.DecidedBreached, t.DecidedPriority = true, breachedBefore(t, at), t.Priority
}

func finishTimer(t *Timer, s Stage, reason string, at time.Time, evs *[]Event) {
	setTimerStage(t, s, at)
	t.EndReason = reason
	kind := EventCompleted
	if s == StageCanceled {
		kind = EventCanceled
	}
	addEvent(evs, t, kind, at, "")
}

// normalizeState normalises every instant of st with itsm.Normalize,
// following the copy-on-write rule of State.Detach: it writes only the
// instants that change (stored ones, whole microseconds in UTC already,
// stay as they are, unwritten), st's and its timers' own in place, and
// copies a timer's list before changing an instant in it.
//
// checkTimerState reports in stateFacts.normed whether it has anything to
// do: the observe and advance that follow a check skip it otherwise.
func normalizeState(st *State) {
	if !isNorm(st.AsOf) {
		normAll(&st.AsOf)
	}
	for i := range st.Timers {
		normalizeTimer(&st.Timers[i])
	}
}

// normalizeTimer normalises every instant of t as normalizeState does: its
// own in place, and those of its marks, segments and changes in a copy of
// the list, made only when one of them changes.
func normalizeTimer(t *Timer) {
	if !ownNorm(t) {
		normAll(&t.BreachedAt, &t.StartedAt, &t.AttachedAt, &t.EndedAt, &t.AsOf, &t.Since, &t.DueAt, &t.NextAt)
	}
	for i := range t.Marks {
		if !isNorm(t.Marks[i].At) {
			t.Marks = slices.Clone(t.Marks)
			for j := i; j < len(t.Marks); j++ {
				normAll(&t.Marks[j].At)
			}
			break
		}
	}
	for i := range t.Segments {
		if sg := &t.Segments[i]; !isNorm(sg.From) || !isNorm(sg.To) {
			t.Segments = slices.Clone(t.Segments)
			for j := i; j < len(t.Segments); j++ {
				sg := &t.Segments[j]
				normAll(&sg.From, &sg.To)
			}
			break
		}
	}
	for i := range t.Changes {
		if c := &t.Changes[i]; !isNorm(c.At) || !isNorm(c.BreachedAt) || !isNorm(c.PriorBreachedAt) {
			t.Changes = slices.Clone(t.Changes)
			for j := i; j < len(t.Changes); j++ {
				c := &t.Changes[j]
				normAll(&c.At, &c.BreachedAt, &c.PriorBreachedAt)
			}
			break
		}
	}
}

// ownNorm reports whether the eight instants of t itself (not those of its
// lists) are normalised. isNorm is inlined: testing them costs less than
// building normAll's arguments, and they are normalised already but for a
// state the host built or changed itself.
//
// The instants a timer's stage leaves unset (a running timer's breached_at
// and ended_at, a finished one's since, due_at and next_at) are zero, which
// one comparison recognises as normalised before isNorm's longer test.
func ownNorm(t *Timer) bool {
	var zero time.Time
	return (t.BreachedAt == zero || isNorm(t.BreachedAt)) && isNorm(t.StartedAt) && (t.AttachedAt == t.StartedAt || isNorm(t.AttachedAt)) &&
		(t.EndedAt == zero || isNorm(t.EndedAt)) && isNorm(t.AsOf) && (t.Since == zero || isNorm(t.Since)) &&
		(t.DueAt == zero || isNorm(t.DueAt)) && (t.NextAt == zero || isNorm(t.NextAt))
}

// timerNorm reports whether every instant of t, its lists' included, is
// normalised: whether normalizeTimer would leave t as it is. asOf is the
// state's as_of when that is normalised, the zero instant otherwise.
//
// An instant equal, bit for bit, to one found normalised is normalised
// too, and == costs less than isNorm (which copies the instant to
// compare it with its UTC form). So the instants are tested in the order
// that lets most of them be recognised that way: a cycle attaches where
// it starts (bar a retroactive start); each stretch of its life starts
// where the one before it ended, the first where the cycle started; the
// current stage (Since) began, and a finished cycle ended (EndedAt), where
// the last stretch ended; and a timer is accrued (AsOf) to the state's
// as_of while live, to its end once finished. The instants its stage
// leaves unset are zero, which is normalised too.
func timerNorm(t *Timer, asOf time.Time) bool {
	var zero time.Time
	if !isNorm(t.StartedAt) || t.AttachedAt != t.StartedAt && !isNorm(t.AttachedAt) {
		return false
	}
	prev := t.StartedAt
	for i := range t.Segments {
		sg := &t.Segments[i]
		if sg.From != prev && !isNorm(sg.From) || !isNorm(sg.To) {
			return false
		}
		prev = sg.To
	}
	if t.Since != prev && t.Since != zero && !isNorm(t.Since) ||
		t.EndedAt != prev && t.EndedAt != zero && !isNorm(t.EndedAt) ||
		t.AsOf != asOf && t.AsOf != t.EndedAt && !isNorm(t.AsOf) ||
		t.BreachedAt != zero && !isNorm(t.BreachedAt) ||
		t.DueAt != zero && !isNorm(t.DueAt) ||
		t.NextAt != zero && !isNorm(t.NextAt) {
		return false
	}
	for i := range t.Marks {
		if !isNorm(t.Marks[i].At) {
			return false
		}
	}
	for i := range t.Changes {
		if c := &t.Changes[i]; !isNorm(c.At) || !isNorm(c.BreachedAt) || !isNorm(c.PriorBreachedAt) {
			return false
		}
	}
	return true
}

// isNorm reports whether t is its own normalised form, bit for bit: in
// UTC, without a monotonic clock reading, whole microseconds. UTC returns
// t's very bits when it is in UTC without a monotonic reading, so t
// compares equal to it with == (not Equal, which ignores the location).
//
// Written as one expression it stays within the inlining budget.
func isNorm(t time.Time) bool {
	return t.UTC() == t && t.Nanosecond()%1000 == 0
}

// normAll replaces each *p with norm(*p), with UTC inlined: one call for
// a timer's eight instants rather than eight. It writes only the instants
// that change, so that the instants already normalised are never written.
func normAll(ps ...*time.Time) {
	for _, p := range ps {
		u := p.UTC()
		if u.Nanosecond()%1000 != 0 {
			u = itsm.Normalize(u)
		}
		if u != *p {
			*p = u
		}
	}
}

// sub returns t.Sub(u) for instants without monotonic clock readings, as
// normalised ones are. Within 2³³ seconds (some 272 years) of each other,
// the difference cannot overflow, and Sub's check for it is skipped.
func sub(t, u time.Time) time.Duration {
	if ds := t.Unix() - u.Unix(); ds > -1<<33 && ds < 1<<33 {
		return time.Duration(ds)*time.Second + time.Duration(t.Nanosecond()-u.Nanosecond())
	}
	return t.Sub(u)
}

// stateFacts is what checkTimerState learns of a valid state.
type stateFacts struct {
	asOf     time.Time // the state's as_of, normalised
	live     bool      // some timer is live
	earliest time.Time // the earliest started_at of a live timer, normalised
	// normed is set when every instant of the state is normalised
	// already, so that normalizeState would not change it.
	normed bool
}

// checkTimerState validates the parts of st the engine relies on, so that
// no arithmetic on it can overflow. It judges st as normalizeState would
// leave it, but does not modify it.
func checkTimerState(st *State) (stateFacts, error) {
	var errs itsm.FieldErrors
	// Ref.Validate fails exactly when the kind is invalid or the ID is
	// nil; testing those two directly spares building its collector on
	// every call, and the failing case still takes its errors from it.
	// A kind itsmkit defines is valid without Kind.Validate's scan.
	if r := &st.Record; r.ID == (uuid.UUID{}) || !ownKind(r.Kind) && r.Kind.Validate() != nil {
		errs.Merge("record", r.Validate())
	}
	var facts stateFacts
	stAsOf := st.AsOf
	facts.normed = isNorm(stAsOf)
	if !facts.normed {
		stAsOf = norm(stAsOf)
	}
	facts.asOf = stAsOf
	if !stAsOf.IsZero() {
		checkInstant(&errs, "as_of", stAsOf)
	}
	// What timerNorm may take as normalised: st's as_of when it is.
	var normAsOf time.Time
	if facts.normed {
		normAsOf = stAsOf
	}
	for i := range st.Timers {
		t := &st.Timers[i]
		if t.Stage < StageRunning || t.Stage > StageCanceled {
			errs.Addf(fmt.Sprintf("timers[%d].stage", i), "%d is not a stage", uint8(t.Stage))
		}
		tn := timerNorm(t, normAsOf)
		facts.normed = facts.normed && tn
		if !t.Stage.Live() {
			continue
		}
		asOf, started, since := t.AsOf, t.StartedAt, t.Since
		if !tn {
			asOf, started, since = norm(asOf), norm(started), norm(since)
		}
		if !facts.live || before(started, facts.earliest) {
			facts.live, facts.earliest = true, started
		}
		field := func(name string) string { return fmt.Sprintf("timers[%d].%s", i, name) }
		// Both normalised: equal instants are equal values.
		if asOf != stAsOf {
			errs.Add(field("as_of"), "of a live timer must equal the state's as_of")
		}
		// One difference decides both bounds on started_at: instants
		// without monotonic readings, as normalised ones are, differ by a
		// negative duration exactly when the first is before the second
		// (sub saturates, keeping the sign, where it would overflow).
		// started, normalised, is in UTC: inWindow's test of its seconds
		// is made inline.
		switch life, sec := sub(asOf, started), started.Unix(); {
		case sec < minUnix || sec >= maxUnix:
			errs.Add(field("started_at"), outOfWindow(started))
		case life < 0:
			errs.Add(field("started_at"), "must not be after as_of")
		case life > maxLife:
			errs.Add(field("started_at"), "must not be more than 100 years before as_of")
		default:
			// And one more decides both bounds on since: since lies in
			// [started, as_of] exactly when it is at most life after
			// started, life being at most 100 years, which sub gives
			// exactly; a since beyond as_of is more than life after
			// started, saturated or not.
			if in := sub(since, started); in < 0 || in > life {
				errs.Add(field("since"), "must lie between started_at and as_of")
			}
		}
		if outOfLife(t.BusinessElapsed) || outOfLife(t.ActualElapsed) || outOfLife(t.BusinessPaused) || outOfLife(t.ActualPaused) {
			for _, d := range [...]struct {
				name string
				d    time.Duration
			}{
				{"business_elapsed", t.BusinessElapsed}, {"actual_elapsed", t.ActualElapsed},
				{"business_paused", t.BusinessPaused}, {"actual_paused", t.ActualPaused},
			} {
				if outOfLife(d.d) {
					errs.Add(field(d.name), "must be between 0 and 100 years")
				}
			}
		}
		if t.Within <= 0 || t.Within > maxWithin {
			errs.Add(field("within"), "must be above 0 and at most 20 years")
		}
	}
	return facts, errs.Err()
}

// ownKind reports whether k is one of the kinds of record itsmkit's own
// practices measure with timers, all valid kinds (Kind.Validate accepts
// them). Comparing k with them, each an eight-byte load at most, costs
// less than Kind.Validate's test of every byte.
func ownKind(k itsm.Kind) bool {
	return k == itsm.KindIncident || k == itsm.KindChange || k == itsm.KindProblem || k == itsm.KindRequest
}

// before is a.Before(b) for instants without monotonic clock readings, as
// normalised ones are: their seconds, then their nanoseconds, compared
// inline (Before is not inlined). Every instant of a state is normalised
// before the engine accrues, evaluates or refreshes its timers, and so
// are those it computes (crossAt) and its events' instants.
func before(a, b time.Time) bool {
	as, bs := a.Unix(), b.Unix()
	return as < bs || as == bs && a.Nanosecond() < b.Nanosecond()
}

// outOfLife reports whether d lies outside the durations a timer can
// accrue, 0 to 100 years.
func outOfLife(d time.Duration) bool { return d < 0 || d > maxLife }

// checkLife returns a *itsm.ValidationError naming field when accruing the
// live timers of st up to at would make one live more than 100 years.
// Timers whose definition the engine does not hold are skipped: they are
// canceled as "removed" before anything accrues. It does not modify st,
// and judges it as normalizeState would leave it. facts are
// checkTimerState's of st, or of a state whose live timers include st's:
// when at is within 100 years of the earliest start, no timer is looked at.
func (e *Engine) checkLife(st *State, facts stateFacts, at time.Time, field string) error {
	if !facts.live || sub(at, facts.earliest) <= maxLife {
		return nil
	}
	for i := range st.Timers {
		t := &st.Timers[i]
		if !t.Stage.Live() || sub(at, norm(t.StartedAt)) <= maxLife {
			continue
		}
		if _, _, _, ok := e.definition(t); ok {
			return itsm.NewValidationError(field, fmt.Sprintf("is more than 100 years after timers[%d].started_at", i))
		}
	}
	return nil
}

// timerDef is the compiled definition a live timer evaluates under, as
// Engine.definition finds it.
type timerDef struct {
	ca *compAgreement
	ct *compTarget
	g  *compGoal
}

// removeUndefined cancels, as "removed" at out.AsOf and without accruing
// anything (the calendar it counted on is gone with its definition), every
// live timer whose agreement version, metric or goal the engine does not
// hold. It appends to defs, and returns, the definition of each timer of
// out in order, the zero timerDef for those not (or no longer) live, so
// that the passes that follow look none up again.
func (e *Engine) removeUndefined(out *State, evs *[]Event, defs []timerDef) []timerDef {
	for i := range out.Timers {
		t := &out.Timers[i]
		var d timerDef
		if t.Stage.Live() {
			var ok bool
			if d.ca, d.ct, d.g, ok = e.definition(t); !ok {
				finishTimer(t, StageCanceled, "removed", out.AsOf, evs)
			}
		}
		defs = append(defs, d)
	}
	return defs
}

// Observe applies one observation of the state's record and returns the new
// state and the events that happened since st.AsOf, sorted by instant. The
// given state is not modified, and the returned one shares no memory with
// it. Instants in st and obs are normalised with itsm.Normalize.
//
// Live timers evaluate under the agreement version they attached with
// (frozen) until migrated; new cycles attach under the highest version. A
// live timer whose agreement version the engine no longer holds is canceled
// as "removed" at st.AsOf, without accruing anything since: a host that
// deploys an engine without an agreement retires its timers rather than
// failing every command. Keep old versions loaded while migrating them.
//
// Errors: a *itsm.ValidationError naming "record", "at" (zero, before the
// state's as_of, outside the years 1900 to 8999, or more than 100 years
// after a live timer started), "opened" (after at, outside those years, or
// more than 100 years before at), "state" (not a valid category) or
// "timers[i].…" (a malformed state); an error wrapping a calendar's error
// when a calendar fails. Nothing is returned but the error then.
//
// Observe is a deep copy of st followed by ObserveInPlace on the copy.
func (e *Engine) Observe(st State, obs Observation) (State, []Event, error) {
	normed, err := e.checkObservation(&st, &obs)
	if err != nil {
		return State{}, nil, err
	}
	// The copy's timers are the engine's own; its Previous is still the
	// caller's map, which observe only reads before replacing it.
	st.Timers = cloneTimers(st.Timers, 0)
	evs, err := e.observe(&st, &obs, false, normed)
	if err != nil {
		return State{}, nil, err
	}
	return st, evs, nil
}

// ObserveInPlace is Observe advancing *st in place instead of returning a
// new state: the same observation applied to equal states gives an equal
// state and the same events. It copies nothing of the state: its timers
// are updated where they are, and their marks, segments and changes
// appended to. It follows the copy-on-write rule State.Detach describes,
// so the caller must own *st's Timers array exclusively (and nothing else
// may read or write it meanwhile), but may share the timers' lists and the
// Previous map with other states, as long as it clips the lists: a state
// just decoded, cloned or Detached for this call will do. The events
// returned share no memory with *st.
//
// Every check Observe makes on obs and on the stored state is made before
// *st is touched: a *itsm.ValidationError leaves *st exactly as it was.
// Only a calendar's own error (an Add that fails while accruing a timer or
// starting one retroactively) can happen after the update began; *st is
// then partly advanced, some timers accrued and others not, and must be
// discarded. Calendars built with this package fail only on a negative
// duration, which the engine never asks for.
func (e *Engine) ObserveInPlace(st *State, obs Observation) ([]Event, error) {
	normed, err := e.checkObservation(st, &obs)
	if err != nil {
		return nil, err
	}
	return e.observe(st, &obs, true, normed)
}

// checkObservation makes every check Observe makes on st and *obs,
// without modifying st, and then normalises obs's instants and defaults
// Opened to At (obs is left alone on an error). It reports whether every
// instant of st is normalised already (stateFacts.normed). obs is a
// pointer so that the caller's copy is updated rather than copied twice
// more.
func (e *Engine) checkObservation(st *State, obs *Observation) (bool, error) {
	facts, err := checkTimerState(st)
	if err != nil {
		return false, err
	}
	asOf := facts.asOf
	var errs itsm.FieldErrors
	at := norm(obs.At)
	if obs.At.IsZero() {
		errs.Add("at", "must be set")
	} else if checkInstant(&errs, "at", at) && before(at, asOf) {
		errs.Addf("at", "%s is before the last observation %s", at.Format(time.RFC3339Nano), asOf.Format(time.RFC3339Nano))
	}
	opened := at
	if !obs.Opened.IsZero() {
		opened = norm(obs.Opened)
		if checkInstant(&errs, "opened", opened) {
			// One difference decides both bounds, as in checkTimerState.
			switch life := sub(at, opened); {
			case life < 0:
				errs.Add("opened", "must not be after at")
			case life > maxLife:
				errs.Add("opened", "must not be more than 100 years before at")
			}
		}
	}
	if !obs.State.Valid() {
		errs.Add("state", "must be a valid state category")
	}
	if err := errs.Err(); err != nil {
		return false, err
	}
	// checkLife looks at no timer unless at is more than 100 years after
	// the earliest live start: that test, made here, spares the call.
	if facts.live && sub(at, facts.earliest) > maxLife {
		if err := e.checkLife(st, facts, at, "at"); err != nil {
			return false, err
		}
	}
	obs.At, obs.Opened = at, opened
	return facts.normed, nil
}

// observe applies obs, checked by checkObservation, to st in place,
// following the rule of State.Detach. Its Previous map is only read, and
// then replaced by a new map, or kept when keepPrevious is set and it
// holds the values obs has (see nextPrevious). normed says that every
// instant of st is normalised already, as checkObservation found it, and
// spares normalizeState. On a calendar's error st is partly advanced.
func (e *Engine) observe(st *State, obs *Observation, keepPrevious, normed bool) ([]Event, error) {
	if !normed {
		normalizeState(st)
	}
	at := obs.At
	var evs []Event
	var buf [4]timerDef
	defs := e.removeUndefined(st, &evs, buf[:0])
	mem := condMemory{seen: st.Observed, values: st.Previous}

	// Live timers, each under its own definition: accrued to at (as
	// advanceAll does), then evaluated at at. One pass does both: a timer's
	// accrual and evaluation touch no other timer, and the accrual's events
	// lie strictly before at, where the evaluation's lie, so the events
	// sorted by instant come out as two passes would leave them.
	for i := range st.Timers {
		t := &st.Timers[i]
		if d := &defs[i]; t.Stage.Live() && d.ct != nil {
			if err := accrueTimer(t, d.ct, d.g, at, false, &evs); err != nil {
				return nil, err
			}
			e.evaluateLive(t, d.ca, d.ct, obs, &mem, &evs)
		}
	}
	st.AsOf = at
	// Attach and reopen under the latest definitions; room counts the
	// targets left, the most timers and attached events still to come.
	room := e.targets
	// k counts the targets in the order they attach; when the state holds
	// one timer per target in that order (e.aligned), target k's latest
	// cycle is timer k, whatever attach appends meanwhile.
	aligned, k := e.aligned(st), 0
	for _, ca := range e.latest {
		for j := range ca.targets {
			ct := &ca.targets[j]
			idx := k
			if !aligned {
				idx = st.latest(ca.id, ct.metric)
			}
			k++
			if idx >= 0 && settled(&st.Timers[idx], ca, ct) {
				room--
				continue
			}
			g, err := e.attach(st, ca, ct, idx, obs, &mem, &evs, room)
			if err != nil {
				return nil, err
			}
			if g != nil {
				defs = append(defs, timerDef{ca, ct, g})
			}
			room--
		}
	}
	for i := range st.Timers {
		t := &st.Timers[i]
		if i < len(defs) && defs[i].ct != nil {
			// Live before this observation, or attached by it: still under
			// the same version and target, on the goal it has now.
			if g := defs[i].g; g.name == t.Goal {
				e.refreshWith(t, defs[i].ct, g)
				continue
			}
		}
		e.refreshTimer(t)
	}
	st.Observed = true
	if len(st.Timers) == 0 {
		st.Timers = nil
	}
	st.Previous = e.nextPrevious(st.Previous, obs, keepPrevious)
	sortEvents(evs)
	return evs, nil
}

// aligned reports whether st holds exactly one timer per target of the
// latest agreement versions, in the order observe attaches them (e.latest,
// then each agreement's targets): a record's first cycles, mostly. Timer k
// is then the latest cycle of target k (State.latest), and observe spares
// a scan of every timer per target. A timer's agreement and metric are
// those of at most one target: agreement IDs differ and an agreement's
// metrics do too, so with as many timers as targets, matched in order,
// none is left over and none is missing.
func (e *Engine) aligned(st *State) bool {
	if len(st.Timers) != e.targets {
		return false
	}
	k := 0
	for _, ca := range e.latest {
		for j := range ca.targets {
			t := &st.Timers[k]
			if t.Metric != ca.targets[j].metric || t.Agreement != ca.id {
				return false
			}
			k++
		}
	}
	return true
}

// nextPrevious returns what State.Previous holds after observation o: the
// values of the watched paths in o, nil when none are watched. It never
// writes into old. With keep set it returns old itself when old holds
// exactly those values (the usual case: few observations change a
// watched field), sparing the allocation; otherwise it builds a new map.
func (e *Engine) nextPrevious(old map[string]string, o *Observation, keep bool) map[string]string {
	if len(e.watched) == 0 {
		return nil
	}
	var out map[string]string
	if !keep || len(old) != len(e.watched) {
		out = make(map[string]string, len(e.watched))
	}
	for k, p := range e.watched {
		v := readConditionPath(o, p)
		if out == nil {
			// old has as many keys as e.watched, which has no duplicates:
			// if it holds each path with its value, it holds nothing else.
			if w, ok := old[p]; ok && w == v {
				continue
			}
			out = make(map[string]string, len(e.watched))
			for _, q := range e.watched[:k] {
				out[q] = old[q]
			}
		}
		out[p] = v
	}
	if out == nil {
		return old
	}
	return out
}

// advanceAll accrues every live timer of out to at; out.Timers is already
// a copy the caller owns. Timers whose definition is missing must have been
// removed first; any left are skipped. defs holds the definition of each
// timer, as removeUndefined returned them.
func (e *Engine) advanceAll(out *State, at time.Time, evs *[]Event, defs []timerDef) error {
	for i := range out.Timers {
		t := &out.Timers[i]
		if d := &defs[i]; t.Stage.Live() && d.ct != nil {
			if err := accrueTimer(t, d.ct, d.g, at, false, evs); err != nil {
				return err
			}
		}
	}
	out.AsOf = at
	return nil
}

// evaluateLive applies the precedence stop, cancel (the cancel condition,
// the scope, a failing start condition), reset, goal, pause to a live timer
// at obs.At.
func (e *Engine) evaluateLive(t *Timer, ca *compAgreement, ct *compTarget, o *Observation, m *condMemory, evs *[]Event) {
	at := o.At
	t.Priority = o.Priority
	if ct.stop.holds(o, m, false) {
		finishTimer(t, StageCompleted, "", at, evs)
		decide(t)
		return
	}
	switch {
	case ct.cancel.holds(o, m, false):
		finishTimer(t, StageCanceled, "cancel", at, evs)
		return
	case !ca.scope.holds(o, m, true):
		finishTimer(t, StageCanceled, "scope", at, evs)
		return
	case (ct.cancelWhenStartFails || ct.pause.holds(o, m, false)) && !ct.start.holds(o, m, true):
		// A pause condition holding where the start condition does not
		// excludes it: the cycle cancels instead of pausing.
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
		ch := retargetTimer(t, ct, g, ct.retarget, at)
		ev := addEvent(evs, t, EventRetargeted, at, "")
		if !ch.BreachedAt.IsZero() {
			ev.Breached, ev.BreachedAt = true, ch.BreachedAt
		}
	}
	paused := ct.pause.holds(o, m, false)
	switch {
	case paused && t.Stage == StageRunning:
		setTimerStage(t, StagePaused, at)
		addEvent(evs, t, EventPaused, at, "")
	case !paused && t.Stage == StagePaused:
		setTimerStage(t, StageRunning, at)
		addEvent(evs, t, EventResumed, at, "")
	}
}

// retargetTimer moves a live timer, accrued to at, onto goal g of the same
// agreement version, records the Change and returns it.
func retargetTimer(t *Timer, ct *compTarget, g *compGoal, how RetargetPolicy, at time.Time) Change {
	ch := Change{At: at, From: t.Goal, To: g.name, FromCalendar: t.Calendar, ToCalendar: g.calName,
		FromVersion: t.Version, ToVersion: t.Version, How: how}
	t.Goal, t.Within, t.Calendar = g.name, g.within, g.calName
	if how == RetargetRetroactive {
		recountTimer(t, ct, g, at, &ch)
	}
	t.Changes = append(t.Changes, ch)
	return ch
}

// recountTimer recounts every stretch of t's life up to at on goal g's
// calendar. What the recount puts behind the timer is skipped; what already
// fired stays fired. A breach the recount finds earlier than the recorded
// one (or where none was) becomes the breach, noted in ch with the one it
// replaces (zero for none), so that a report on an earlier period can undo
// it; a recorded breach the recount does not reach stays, as a breach
// never un-fires.
func recountTimer(t *Timer, ct *compTarget, g *compGoal, at time.Time, ch *Change) {
	stage, since := t.Stage, t.Since
	wasBreached, wasAt := t.Breached, t.BreachedAt
	t.Breached, t.BreachedAt = false, time.Time{}
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
	switch {
	case t.Breached && (!wasBreached || t.BreachedAt.Before(wasAt)):
		ch.BreachedAt, ch.PriorBreachedAt = t.BreachedAt, wasAt
	case wasBreached:
		t.Breached, t.BreachedAt = true, wasAt
	}
}

// migrateTimer moves a live timer, accrued to at, onto goal g of version
// ca, keeping what it consumed, and records the Change. Thresholds the new
// goal puts behind the timer are recorded as skipped; a breach is detected
// as the timer runs on.
func migrateTimer(t *Timer, ca *compAgreement, ct *compTarget, g *compGoal, at time.Time) {
	t.Changes = append(t.Changes, Change{At: at, From: t.Goal, To: g.name,
		FromCalendar: t.Calendar, ToCalendar: g.calName, FromVersion: t.Version, ToVersion: ca.version,
		How: RetargetKeepElapsed, Migrated: true})
	t.Version, t.Kind = ca.version, ca.kind
	t.Goal, t.Within, t.Calendar = g.name, g.within, g.calName
	for k := range ct.thresholds {
		if g.needs[k] <= t.BusinessElapsed && !t.hasMark(ct.thresholds[k].text) {
			t.Marks = append(t.Marks, Mark{Threshold: ct.thresholds[k].text, At: at, Skipped: true})
		}
	}
}

// canAttach reports whether a cycle of ct may attach now: in scope, start
// holds, and neither stop nor cancel does (stop beats start).
func canAttach(ca *compAgreement, ct *compTarget, o *Observation, m *condMemory) bool {
	return ca.scope.holds(o, m, true) && ct.start.holds(o, m, true) &&
		!ct.stop.holds(o, m, false) && !ct.cancel.holds(o, m, false)
}

// settled reports that the latest cycle cur of ct's target stays as it is
// whatever is observed: it is live, or completed under ca's version,
// whose reopen policy is ReopenNever (it ran under the latest version, whose
// policy applies whether or not that still has its goal). observe asks
// before attach, sparing the call for the targets of a record's live timers.
func settled(cur *Timer, ca *compAgreement, ct *compTarget) bool {
	return cur.Stage.Live() || cur.Stage == StageCompleted && cur.Version == ca.version && ct.reopen == ReopenNever
}

// attach attaches a new cycle of ct, or reopens a completed one, when its
// conditions hold. idx is the index of the latest cycle of ct's target in
// out.Timers (State.latest), -1 when there is none; that cycle is not
// settled (observe has skipped the target otherwise). room is at least 1 and counts the targets observe has
// still to attach, this one included: the timers and attached events it may
// yet add, for which the lists grow at once. It returns the goal of the
// timer it appends to out.Timers, nil when it appends none.
func (e *Engine) attach(out *State, ca *compAgreement, ct *compTarget, idx int, o *Observation, m *condMemory, evs *[]Event, room int) (*compGoal, error) {
	at := o.At
	cycle := 1
	if idx >= 0 {
		cur := &out.Timers[idx]
		cycle = cur.Cycle + 1
		if cur.Stage == StageCompleted {
			// A completed cycle reopens under the version it ran under; when
			// the engine no longer holds that version it moves onto the
			// latest, as a migration keeping what it consumed.
			cca, cct, moved := ca, ct, true
			if old := e.version(cur.Agreement, cur.Version); old != nil {
				if tg := old.target(cur.Metric); tg != nil && tg.goal(cur.Goal) != nil {
					cca, cct, moved = old, tg, false
				}
			}
			switch cct.reopen {
			case ReopenNever:
				return nil, nil
			case ReopenResume:
				if !canAttach(cca, cct, o, m) {
					return nil, nil
				}
				g := cct.match(o, m)
				if g == nil {
					return nil, nil
				}
				// Before the reopen changes its priority: a cycle completed
				// before decisions were recorded keeps its first one.
				decide(cur)
				cur.Segments = append(cur.Segments, Segment{Kind: SegmentStopped, From: cur.EndedAt, To: at})
				cur.Stage, cur.Since, cur.AsOf, cur.EndedAt, cur.Priority = StageRunning, at, at, time.Time{}, o.Priority
				if moved {
					migrateTimer(cur, cca, cct, g, at)
				}
				addEvent(evs, cur, EventResumed, at, "")
				e.goalAndPause(cur, cct, o, m, evs)
				return nil, nil
			}
		}
	}
	if !canAttach(ca, ct, o, m) {
		return nil, nil
	}
	g := ct.match(o, m)
	if g == nil {
		return nil, nil
	}
	// The timer is built where it will stay, at the end of the list (and
	// taken off again if its retroactive start fails).
	if len(out.Timers) == cap(out.Timers) {
		out.Timers = slices.Grow(out.Timers, room)
	}
	n := len(out.Timers)
	out.Timers = append(out.Timers, Timer{})
	t := &out.Timers[n]
	t.Record, t.Agreement, t.Version, t.Kind, t.Metric = out.Record, ca.id, ca.version, ca.kind, ct.metric
	t.Cycle, t.Priority, t.Goal, t.Within, t.Calendar = cycle, o.Priority, g.name, g.within, g.calName
	t.Stage, t.StartedAt, t.AttachedAt, t.AsOf, t.Since = StageRunning, at, at, at, at
	if ct.startFrom == StartFromOpened && cycle == 1 && o.Opened.Before(at) {
		t.StartedAt, t.AsOf, t.Since = o.Opened, o.Opened, o.Opened
		var none []Event
		if err := accrueTimer(t, ct, g, at, true, &none); err != nil {
			out.Timers = out.Timers[:n]
			return nil, err
		}
	}
	if len(*evs) == cap(*evs) {
		*evs = slices.Grow(*evs, room)
	}
	ev := addEvent(evs, t, EventAttached, at, "")
	if t.Breached {
		// Only a retroactive start attaches breached; its breach emitted
		// nothing, so the attached event carries it.
		ev.Breached, ev.BreachedAt = true, t.BreachedAt
	}
	if ct.pause.holds(o, m, false) {
		setTimerStage(t, StagePaused, at)
	}
	return g, nil
}

// Advance accrues the state's live timers up to now without a new
// observation (the record is as last observed) and returns the threshold
// and breach events passed on the way, sorted by instant. Hosts call it at
// State.NextEventAt. Like Observe it cancels live timers whose agreement
// version the engine no longer holds as "removed", and returns a state that
// shares no memory with st. Errors: a *itsm.ValidationError naming "now"
// (before the state's as_of, outside the years 1900 to 8999, or more than
// 100 years after a live timer started) or "timers[i].…"; an error wrapping
// a calendar's.
//
// Advance is a deep copy of st followed by AdvanceInPlace on the copy.
func (e *Engine) Advance(st State, now time.Time) (State, []Event, error) {
	now, normed, err := e.checkAdvance(&st, now)
	if err != nil {
		return State{}, nil, err
	}
	st = st.Clone()
	evs, err := e.advance(&st, now, normed)
	if err != nil {
		return State{}, nil, err
	}
	return st, evs, nil
}

// AdvanceInPlace is Advance advancing *st in place instead of returning a
// new state, with the results Advance gives. As for ObserveInPlace, the
// caller must own *st's Timers array exclusively and may share the rest
// under the copy-on-write rule of State.Detach; a *itsm.ValidationError
// leaves *st exactly as it was, while a calendar's own error leaves it
// partly advanced, to be discarded.
func (e *Engine) AdvanceInPlace(st *State, now time.Time) ([]Event, error) {
	now, normed, err := e.checkAdvance(st, now)
	if err != nil {
		return nil, err
	}
	return e.advance(st, now, normed)
}

// checkAdvance makes every check Advance makes on st and now, without
// modifying st, and returns now normalised and whether every instant of
// st is normalised already (stateFacts.normed).
func (e *Engine) checkAdvance(st *State, now time.Time) (time.Time, bool, error) {
	facts, err := checkTimerState(st)
	if err != nil {
		return time.Time{}, false, err
	}
	now = norm(now)
	var errs itsm.FieldErrors
	if checkInstant(&errs, "now", now) && now.Before(facts.asOf) {
		errs.Add("now", "is before the state's as_of")
	}
	if err := errs.Err(); err != nil {
		return time.Time{}, false, err
	}
	if err := e.checkLife(st, facts, now, "now"); err != nil {
		return time.Time{}, false, err
	}
	return now, facts.normed, nil
}

// advance accrues st, checked by checkAdvance and owned by the caller, to
// now in place; normed, as checkAdvance found it, spares normalizeState.
// On a calendar's error st is partly advanced.
func (e *Engine) advance(st *State, now time.Time, normed bool) ([]Event, error) {
	if !normed {
		normalizeState(st)
	}
	if len(st.Timers) == 0 {
		st.Timers = nil
	}
	var evs []Event
	var buf [4]timerDef
	defs := e.removeUndefined(st, &evs, buf[:0])
	if err := e.advanceAll(st, now, &evs, defs); err != nil {
		return nil, err
	}
	for i := range st.Timers {
		if d := &defs[i]; d.ct != nil {
			e.refreshWith(&st.Timers[i], d.ct, d.g)
		} else {
			e.refreshTimer(&st.Timers[i])
		}
	}
	sortEvents(evs)
	return evs, nil
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
	// breach is detected as usual. Every moved timer records a Change (with
	// Migrated set), even when its goal keeps its name.
	StrategyKeepConsumed
	// StrategyRecompute replays the record's whole history under the newest
	// versions, as if they had always been in force.
	StrategyRecompute
)

// Migrate applies a Strategy to a record's state. history is the record's
// observation history, oldest first; StrategyKeepConsumed needs only its
// last element (the record as it is now), StrategyRecompute all of it, and
// StrategyFrozen none.
//
// Under every strategy, live timers whose agreement version the engine no
// longer holds are first canceled as "removed" at st.AsOf without accruing
// anything: this is how an agreement is retired. Keep the old version
// loaded beside the new one to move its timers under StrategyKeepConsumed
// instead. StrategyKeepConsumed also cancels as "removed" the live timers
// whose metric the newest version dropped, and StrategyRecompute keeps the
// timers of agreements the engine holds in no version, which a replay would
// not produce. The result shares no memory with st.
//
// Errors: a *itsm.ValidationError naming "strategy" or "history", or
// Observe's errors.
func (e *Engine) Migrate(st State, history []Observation, s Strategy) (State, []Event, error) {
	switch s {
	case StrategyFrozen, StrategyKeepConsumed, StrategyRecompute:
	default:
		return State{}, nil, itsm.NewValidationError("strategy", fmt.Sprintf("%d is not a strategy", uint8(s)))
	}
	facts, err := checkTimerState(&st)
	if err != nil {
		return State{}, nil, err
	}
	out := st.Clone()
	normalizeState(&out)
	var evs []Event
	defs := e.removeUndefined(&out, &evs, nil)
	switch s {
	case StrategyFrozen:
		return out, evs, nil
	case StrategyRecompute:
		if len(history) == 0 {
			return State{}, nil, itsm.NewValidationError("history", "must not be empty to recompute")
		}
		re, all, err := e.Replay(st.Record, history)
		if err != nil {
			return State{}, nil, err
		}
		for _, t := range out.Timers {
			if e.latestOf(t.Agreement) == nil {
				re.Timers = append(re.Timers, t)
			}
		}
		evs = append(evs, all...)
		sortEvents(evs)
		return re, evs, nil
	}
	if len(history) == 0 {
		return State{}, nil, itsm.NewValidationError("history", "must hold the current observation")
	}
	now := history[len(history)-1]
	at := norm(now.At)
	var errs itsm.FieldErrors
	if checkInstant(&errs, "history", at) && at.Before(out.AsOf) {
		errs.Add("history", "last observation is before the state's as_of")
	}
	if err := errs.Err(); err != nil {
		return State{}, nil, err
	}
	// out's live timers are some of st's, started when they were.
	if err := e.checkLife(&out, facts, at, "history"); err != nil {
		return State{}, nil, err
	}
	if err := e.advanceAll(&out, at, &evs, defs); err != nil {
		return State{}, nil, err
	}
	now.At = at
	mem := condMemory{seen: st.Observed, values: st.Previous}
	for i := range out.Timers {
		t := &out.Timers[i]
		if !t.Stage.Live() {
			continue
		}
		ca := e.latestOf(t.Agreement)
		if ca == nil || ca.version == t.Version {
			continue
		}
		ct := ca.target(t.Metric)
		if ct == nil {
			finishTimer(t, StageCanceled, "removed", at, &evs)
			continue
		}
		g := ct.match(&now, &mem)
		if g == nil {
			finishTimer(t, StageCanceled, "no_goal", at, &evs)
			continue
		}
		migrateTimer(t, ca, ct, g, at)
	}
	// out is a copy of its own, Previous included.
	normed, err := e.checkObservation(&out, &now)
	if err != nil {
		return State{}, nil, err
	}
	more, err := e.observe(&out, &now, true, normed)
	if err != nil {
		return State{}, nil, err
	}
	evs = append(evs, more...)
	sortEvents(evs)
	return out, evs, nil
}

func (e *Engine) latestOf(id string) *compAgreement {
	i, ok := slices.BinarySearchFunc(e.latest, id, func(a *compAgreement, id string) int { return cmp.Compare(a.id, id) })
	if !ok {
		return nil
	}
	return e.latest[i]
}

// DueIfResumed answers "when would this timer breach if it resumed at
// now?": for a running timer its DueAt; for a paused one the due instant of
// its current goal as it would be if the timer resumed at now: the instant
// its remaining business time runs out counting from now; when none remains,
// the instant it reached the goal if it already breached (see Timer.DueAt),
// or now itself (it would breach as soon as it ran). Errors: a
// *itsm.ValidationError naming "stage" for a finished timer, "now" outside
// the years 1900 to 8999, or "calendar" for a calendar the engine cannot
// resolve; an error wrapping the calendar's.
func (e *Engine) DueIfResumed(t Timer, now time.Time) (time.Time, error) {
	switch t.Stage {
	case StageRunning:
		return t.DueAt, nil
	case StagePaused:
	default:
		return time.Time{}, itsm.NewValidationError("stage", "the timer is not live")
	}
	now = norm(now)
	var errs itsm.FieldErrors
	checkInstant(&errs, "now", now)
	if err := errs.Err(); err != nil {
		return time.Time{}, err
	}
	cal, ok := e.calendar(t.Calendar)
	if !ok {
		return time.Time{}, itsm.NewValidationError("calendar", fmt.Sprintf("%q is not a calendar the engine knows", t.Calendar))
	}
	if rem := t.Remaining(); rem > 0 {
		x, err := crossAt(cal, now, rem)
		if err != nil {
			return time.Time{}, fmt.Errorf("sla: calendar %q: %w", t.Calendar, err)
		}
		return x, nil
	}
	if t.Breached {
		return e.reachedAt(&t), nil
	}
	return now, nil
}

// sortEvents sorts evs by instant, stably. Events mostly come in order
// already (most observations yield at most one), and a stable sort leaves
// sorted events as they are: it runs only when two are out of order,
// sparing the copies of whole Events its comparisons make.
func sortEvents(evs []Event) {
	for i := 1; i < len(evs); i++ {
		if before(evs[i].At, evs[i-1].At) {
			slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
			return
		}
	}
}
