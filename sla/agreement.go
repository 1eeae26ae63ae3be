package sla

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// Always24x7 is the calendar name that means "every instant is working
// time". It is built in: a Calendars resolver is never asked for it. An
// agreement whose Calendar is empty runs on it.
const Always24x7 = "24x7"

// Agreement is a versioned SLA, OLA or underpinning contract: which records
// it covers and the targets it promises for them. Agreements are plain data
// and round-trip through JSON; an Engine compiles them.
//
// Versions never rewrite live timers silently: a timer keeps evaluating
// under the version it attached with until the host migrates it (see
// Engine.Migrate). A calendar is part of an agreement's definition by name,
// so to change a calendar under live timers, publish the new calendar under
// a new name and a new agreement version that references it.
type Agreement struct {
	// ID identifies the agreement across versions: 1 to 64 letters, digits,
	// '-', '_' or '.'.
	ID string `json:"id"`
	// Version is 1 or more; an Engine attaches new timers to the highest
	// version it holds of each ID.
	Version int `json:"version"`
	// Kind says who the agreement is with.
	Kind itsm.AgreementKind `json:"kind"`
	// Name is a display name.
	Name string `json:"name,omitempty"`
	// Scope selects the records the agreement covers; nil covers all. A
	// live timer whose record leaves the scope is canceled.
	Scope *Condition `json:"scope,omitempty"`
	// Calendar names the working time goals count in unless they name
	// their own; empty means Always24x7. NewEngine resolves it when a goal
	// counts in it, and reports a name it cannot resolve once, as
	// "agreements[i].calendar".
	Calendar string `json:"calendar,omitempty"`
	// Targets lists what is promised, one per metric.
	Targets []Target `json:"targets"`
}

// StartFrom says where a target's first cycle starts.
type StartFrom string

// The start points.
const (
	// StartFromObserved starts a cycle at the observation at which its start
	// condition first holds. The zero value means this.
	StartFromObserved StartFrom = "observed"
	// StartFromOpened starts the first cycle at Observation.Opened
	// (retroactive start). The span before the attaching observation counts
	// as running time; thresholds and a breach that fall in it are recorded
	// as skipped and emit no event.
	StartFromOpened StartFrom = "opened"
)

// ReopenPolicy says what a target does when its start condition holds again
// after its latest cycle completed (the record was reopened).
type ReopenPolicy string

// The reopen policies.
const (
	// ReopenNever keeps the completed cycle as it is and never attaches
	// again: the first response, the first resolution. The zero value means
	// this.
	ReopenNever ReopenPolicy = "never"
	// ReopenResume resumes the completed cycle: it keeps its elapsed time,
	// pauses, thresholds and breach, and keeps counting (total resolution
	// time). The stretch between completion and reopening is excluded.
	ReopenResume ReopenPolicy = "resume"
	// ReopenNewCycle attaches a new cycle from zero and keeps every earlier
	// one (multi-cycle targets).
	ReopenNewCycle ReopenPolicy = "new_cycle"
)

// RetargetPolicy says what a live timer does when a different goal matches
// its record (typically after a priority change).
type RetargetPolicy string

// The retarget policies.
const (
	// RetargetKeepElapsed switches to the new goal keeping business and
	// actual elapsed time and pause as accrued; only time from the change
	// on counts on the new goal's calendar. Thresholds that the new goal puts
	// behind the timer fire (once). The zero value means this.
	RetargetKeepElapsed RetargetPolicy = "keep_elapsed"
	// RetargetRetroactive reattaches the new goal from the timer's start:
	// every recorded interval is recounted on the new goal's calendar.
	// Thresholds and a breach that the recount puts in the past are
	// recorded as skipped and emit no event; one that already fired never
	// fires again.
	RetargetRetroactive RetargetPolicy = "retroactive"
)

// Target is what an agreement promises for one metric: when a timer starts,
// pauses, stops, is canceled or reset, and the goals it is measured against.
//
// Conditions are evaluated on every observation with this precedence:
// stop, then cancel (the cancel condition, leaving the scope, or the start
// condition failing as described below), then reset, then goal re-match
// (a live cycle whose record now matches another goal is retargeted, see
// Retarget; one that matches no goal is canceled with EndReason
// "no_goal"), then pause. So stop beats start, and a start condition
// contained in the stop condition never attaches.
//
// A pause condition that excludes the start condition cancels instead of
// pausing. This is detected per observation: when the pause condition holds
// and the start condition does not, the live cycle is canceled with
// EndReason "start_failed" rather than paused. A pause condition that holds
// together with the start condition (e.g. start "not resolved", pause
// "waiting") pauses as usual. CancelWhenStartFails goes further and cancels
// whenever the start condition stops holding, paused or not.
type Target struct {
	// Metric names what is measured: "response", "resolution", or a
	// user-defined metric such as "update". Unique within the agreement;
	// 1 to 64 lower-case letters, digits, '-' or '_'.
	Metric string `json:"metric"`
	// Start must hold for a cycle to attach; nil always holds.
	Start *Condition `json:"start,omitempty"`
	// Pause pauses a live cycle while it holds; nil never holds.
	Pause *Condition `json:"pause,omitempty"`
	// Stop completes a live cycle; nil never holds.
	Stop *Condition `json:"stop,omitempty"`
	// Cancel cancels a live cycle; nil never holds. Canceled cycles count
	// neither as met nor as breached.
	Cancel *Condition `json:"cancel,omitempty"`
	// Reset cancels the live cycle and attaches a new one at once when the
	// start condition allows; nil never holds. Reset is evaluated on every
	// observation, so it is usually an OpChanged condition.
	Reset *Condition `json:"reset,omitempty"`
	// CancelWhenStartFails cancels a live cycle whenever its start condition
	// no longer holds (and stop does not), even while the pause condition
	// does not hold. Without it only a pause outside the start condition
	// cancels; a record that merely leaves the start condition keeps its
	// cycle running.
	CancelWhenStartFails bool `json:"cancel_when_start_fails,omitempty"`
	// StartFrom says where the first cycle starts.
	StartFrom StartFrom `json:"start_from,omitempty"`
	// Reopen says what happens when the record is reopened.
	Reopen ReopenPolicy `json:"reopen,omitempty"`
	// Retarget says what happens when a different goal starts to match.
	Retarget RetargetPolicy `json:"retarget,omitempty"`
	// Goals are tried in order; the first whose When holds measures the
	// cycle. A cycle whose record matches no goal does not attach, and a
	// live one is canceled.
	Goals []Goal `json:"goals"`
	// Thresholds are warning points in percent of the goal, each above 0
	// and at most 1000, distinct. Empty means DefaultThresholds.
	Thresholds []decimal.Decimal `json:"thresholds,omitempty"`
}

// DefaultThresholds returns 50, 75 and 100 percent.
func DefaultThresholds() []decimal.Decimal {
	return []decimal.Decimal{decimal.NewFromInt(50), decimal.NewFromInt(75), decimal.NewFromInt(100)}
}

// Goal is one duration a target promises, for the records its When selects.
type Goal struct {
	// Name identifies the goal within its target, e.g. "p1".
	Name string `json:"name"`
	// When selects the records; nil selects all.
	When *Condition `json:"when,omitempty"`
	// Within is the promised duration of working time; at least one
	// microsecond, a whole number of microseconds. JSON writes it as Go
	// duration text ("4h0m0s") and reads that or a number of nanoseconds.
	Within time.Duration `json:"within"`
	// Calendar names the working time Within counts in; empty means the
	// agreement's calendar.
	Calendar string `json:"calendar,omitempty"`
}

type goalJSON struct {
	Name     string          `json:"name"`
	When     *Condition      `json:"when,omitempty"`
	Within   json.RawMessage `json:"within"`
	Calendar string          `json:"calendar,omitempty"`
}

// MarshalJSON writes Within as duration text.
func (g Goal) MarshalJSON() ([]byte, error) {
	w, _ := json.Marshal(g.Within.String())
	return json.Marshal(goalJSON{Name: g.Name, When: g.When, Within: w, Calendar: g.Calendar})
}

// UnmarshalJSON reads Within as duration text or nanoseconds; a null or
// absent Within leaves it zero (which Validate then rejects). Errors are
// *itsm.ValidationError naming "within" when it is neither; decoded inside
// an Agreement the path is complete ("targets[0].goals[1].within").
func (g *Goal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var raw goalJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := Goal{Name: raw.Name, When: raw.When, Calendar: raw.Calendar}
	if len(raw.Within) > 0 && string(raw.Within) != "null" {
		var s string
		var n int64
		switch {
		case json.Unmarshal(raw.Within, &s) == nil:
			d, err := time.ParseDuration(s)
			if err != nil {
				return itsm.NewValidationError("within", fmt.Sprintf("%q is not a duration", s))
			}
			out.Within = d
		case json.Unmarshal(raw.Within, &n) == nil:
			out.Within = time.Duration(n)
		default:
			return itsm.NewValidationError("within", "is neither duration text nor a whole number of nanoseconds")
		}
	}
	*g = out
	return nil
}

// UnmarshalJSON reads an agreement. Every part that cannot be read is
// reported in one *itsm.ValidationError naming its full path, e.g.
// "targets[0].goals[1].within" or "targets[0].thresholds[2]"; syntax
// errors are returned as encoding/json reports them. It does not validate:
// call Validate (or NewEngine) on the result.
func (a *Agreement) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	type plain Agreement // without this method
	var out Agreement
	raw := struct {
		*plain
		Kind    *string           `json:"kind"`
		Targets []json.RawMessage `json:"targets"`
	}{plain: (*plain)(&out)}
	if err := json.Unmarshal(b, &raw); err != nil {
		return decodeError("", err)
	}
	var errs itsm.FieldErrors
	if raw.Kind != nil {
		if err := out.Kind.UnmarshalText([]byte(*raw.Kind)); err != nil {
			errs.Addf("kind", "%q is not sla, ola or uc", *raw.Kind)
		}
	}
	if raw.Targets != nil {
		out.Targets = make([]Target, len(raw.Targets))
		for i, tb := range raw.Targets {
			decodeTarget(&errs, fmt.Sprintf("targets[%d]", i), tb, &out.Targets[i])
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	*a = out
	return nil
}

// decodeTarget decodes one target of an agreement into t, recording what
// cannot be read in errs under the path at.
func decodeTarget(errs *itsm.FieldErrors, at string, b []byte, t *Target) {
	type plain Target
	raw := struct {
		*plain
		Goals      []json.RawMessage `json:"goals"`
		Thresholds []json.RawMessage `json:"thresholds,omitempty"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &raw); err != nil {
		errs.Merge("", decodeError(at, err))
		return
	}
	if raw.Goals != nil {
		t.Goals = make([]Goal, len(raw.Goals))
		for j, gb := range raw.Goals {
			if err := json.Unmarshal(gb, &t.Goals[j]); err != nil {
				errs.Merge("", decodeError(fmt.Sprintf("%s.goals[%d]", at, j), err))
			}
		}
	}
	if raw.Thresholds != nil {
		t.Thresholds = make([]decimal.Decimal, len(raw.Thresholds))
		for k, tb := range raw.Thresholds {
			if err := t.Thresholds[k].UnmarshalJSON(tb); err != nil {
				errs.Addf(fmt.Sprintf("%s.thresholds[%d]", at, k), "%s is not a decimal number", tb)
			}
		}
	}
}

// decodeError turns an error met while decoding the part at path at into a
// *itsm.ValidationError with a full path; a syntax error stays as it is.
func decodeError(at string, err error) error {
	var errs itsm.FieldErrors
	if !recordDecodeError(&errs, "agreement", at, err) {
		return err
	}
	return errs.Err()
}

var (
	agreementIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	metricPattern      = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
)

// maxThreshold is the highest warning threshold accepted, in percent.
var maxThreshold = decimal.NewFromInt(1000)

// Validate checks the agreement on its own (calendar names are checked when
// an Engine resolves them). It returns a *itsm.ValidationError listing every
// problem with its field path, e.g. "targets[1].goals[0].within".
func (a Agreement) Validate() error {
	var errs itsm.FieldErrors
	a.validate(&errs)
	return errs.Err()
}

func (a Agreement) validate(errs *itsm.FieldErrors) {
	if !agreementIDPattern.MatchString(a.ID) {
		errs.Add("id", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if a.Version < 1 {
		errs.Add("version", "must be 1 or more")
	}
	if !a.Kind.Valid() {
		errs.Add("kind", "must be sla, ola or uc")
	}
	if a.Scope != nil {
		a.Scope.check(errs, "scope")
	}
	if len(a.Targets) == 0 {
		errs.Add("targets", "must not be empty")
	}
	seen := map[string]bool{}
	for i, t := range a.Targets {
		at := fmt.Sprintf("targets[%d]", i)
		if seen[t.Metric] {
			errs.Addf(at+".metric", "%q is used by an earlier target", t.Metric)
		}
		seen[t.Metric] = true
		t.validate(errs, at)
	}
}

func (t Target) validate(errs *itsm.FieldErrors, at string) {
	if !metricPattern.MatchString(t.Metric) {
		errs.Add(at+".metric", "must be 1 to 64 lower-case letters, digits, '_' or '-'")
	}
	for _, c := range []struct {
		name string
		c    *Condition
	}{{"start", t.Start}, {"pause", t.Pause}, {"stop", t.Stop}, {"cancel", t.Cancel}, {"reset", t.Reset}} {
		if c.c != nil {
			c.c.check(errs, at+"."+c.name)
		}
	}
	switch t.StartFrom {
	case "", StartFromObserved, StartFromOpened:
	default:
		errs.Addf(at+".start_from", "%q is not observed or opened", t.StartFrom)
	}
	switch t.Reopen {
	case "", ReopenNever, ReopenResume, ReopenNewCycle:
	default:
		errs.Addf(at+".reopen", "%q is not never, resume or new_cycle", t.Reopen)
	}
	switch t.Retarget {
	case "", RetargetKeepElapsed, RetargetRetroactive:
	default:
		errs.Addf(at+".retarget", "%q is not keep_elapsed or retroactive", t.Retarget)
	}
	if len(t.Goals) == 0 {
		errs.Add(at+".goals", "must not be empty")
	}
	names := map[string]bool{}
	for i, g := range t.Goals {
		gat := fmt.Sprintf("%s.goals[%d]", at, i)
		if !agreementIDPattern.MatchString(g.Name) {
			errs.Add(gat+".name", "must be 1 to 64 letters, digits, '.', '_' or '-'")
		} else if names[g.Name] {
			errs.Addf(gat+".name", "%q is used by an earlier goal", g.Name)
		}
		names[g.Name] = true
		switch {
		case g.Within < time.Microsecond:
			errs.Add(gat+".within", "must be at least 1µs")
		case g.Within > maxWithin:
			errs.Add(gat+".within", "must be at most 20 years")
		case g.Within%time.Microsecond != 0:
			errs.Add(gat+".within", "must be a whole number of microseconds")
		}
		if g.When != nil {
			g.When.check(errs, gat+".when")
		}
	}
	for i, p := range t.Thresholds {
		tat := fmt.Sprintf("%s.thresholds[%d]", at, i)
		if !p.IsPositive() || p.GreaterThan(maxThreshold) {
			errs.Add(tat, "must be above 0 and at most 1000 percent")
		}
		for _, q := range t.Thresholds[:i] {
			if q.Equal(p) {
				errs.Addf(tat, "%s is listed twice", p)
				break
			}
		}
	}
}

// goalCalendars resolves the calendars of one agreement's goals while it is
// compiled. A name that cannot be resolved is reported once, where it is
// written: under the goal's "calendar" when the goal names it, under the
// agreement's "calendar" when goals inherit it (however many do), so one
// wrong name reads as one error.
type goalCalendars struct {
	cals Calendars
	at   string // the agreement's path, e.g. "agreements[0]"
	name string // the agreement's calendar name
	// The agreement's calendar, resolved when the first goal inherits it.
	resolved bool
	cal      Calendar
}

func newGoalCalendars(at string, a Agreement, cals Calendars) *goalCalendars {
	return &goalCalendars{cals: cals, at: at, name: cmp.Or(a.Calendar, Always24x7)}
}

// resolve returns the name of the calendar goal g, at path gat, counts in
// and the calendar, or nil after recording why it cannot be resolved (for an
// inherited name, only the first time).
func (r *goalCalendars) resolve(errs *itsm.FieldErrors, gat string, g Goal) (string, Calendar) {
	if g.Calendar != "" {
		return g.Calendar, resolveCalendar(errs, gat+".calendar", g.Calendar, r.cals)
	}
	if !r.resolved {
		r.resolved = true
		r.cal = resolveCalendar(errs, joinPath(r.at, "calendar"), r.name, r.cals)
	}
	return r.name, r.cal
}

// resolveCalendar resolves name through cals, recording under field why it
// cannot be, and returning nil then.
func resolveCalendar(errs *itsm.FieldErrors, field, name string, cals Calendars) Calendar {
	if name == Always24x7 {
		return continuousTime{}
	}
	if cals == nil {
		errs.Addf(field, "%q cannot be resolved: no calendars given", name)
		return nil
	}
	c, ok := cals.Calendar(name)
	switch {
	case !ok:
		errs.Addf(field, "%q is not a known calendar", name)
	case !Usable(c):
		errs.Addf(field, "%q resolves to a nil calendar", name)
	default:
		return c
	}
	return nil
}
