package sla

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func tmAgreement() Agreement {
	return Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Name: "Gold", Calendar: "office",
		Scope: FieldIs("service", "email"), Targets: []Target{tmResponse(), tmResolution()}}
}

func TestAgreementJSONRoundTrip(t *testing.T) {
	a := tmAgreement()
	a.Targets[1].Thresholds = []decimal.Decimal{decimal.RequireFromString("87.5"), decimal.NewFromInt(100)}
	b, err := json.Marshal(a)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"within":"4h0m0s"`)
	var back Agreement
	require.NoError(t, json.Unmarshal(b, &back))
	b2, err := json.Marshal(back)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(b2))
	require.NoError(t, back.Validate())

	t.Run("within as nanoseconds", func(t *testing.T) {
		var g Goal
		require.NoError(t, json.Unmarshal([]byte(`{"name":"x","within":3600000000000}`), &g))
		assert.Equal(t, time.Hour, g.Within)
	})
	t.Run("within as bad text", func(t *testing.T) {
		var g Goal
		err := json.Unmarshal([]byte(`{"name":"x","within":"soon"}`), &g)
		require.ErrorIs(t, err, itsm.ErrInvalid)
	})
}

func TestAgreementValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Agreement)
		field  string
	}{
		{"bad id", func(a *Agreement) { a.ID = "has space" }, "id"},
		{"version zero", func(a *Agreement) { a.Version = 0 }, "version"},
		{"no kind", func(a *Agreement) { a.Kind = 0 }, "kind"},
		{"bad scope", func(a *Agreement) { a.Scope = &Condition{Field: "colour", Op: OpIn, Values: []string{"x"}} }, "scope.field"},
		{"no targets", func(a *Agreement) { a.Targets = nil }, "targets"},
		{"duplicate metric", func(a *Agreement) { a.Targets[1].Metric = "response" }, "targets[1].metric"},
		{"bad metric", func(a *Agreement) { a.Targets[0].Metric = "First Response" }, "targets[0].metric"},
		{"bad pause", func(a *Agreement) { a.Targets[1].Pause = &Condition{} }, "targets[1].pause"},
		{"bad start_from", func(a *Agreement) { a.Targets[0].StartFrom = "yesterday" }, "targets[0].start_from"},
		{"bad reopen", func(a *Agreement) { a.Targets[0].Reopen = "sometimes" }, "targets[0].reopen"},
		{"bad retarget", func(a *Agreement) { a.Targets[0].Retarget = "forget" }, "targets[0].retarget"},
		{"no goals", func(a *Agreement) { a.Targets[0].Goals = nil }, "targets[0].goals"},
		{"zero within", func(a *Agreement) { a.Targets[0].Goals[0].Within = 0 }, "targets[0].goals[0].within"},
		{"sub-microsecond within", func(a *Agreement) { a.Targets[0].Goals[0].Within = time.Hour + 1 }, "targets[0].goals[0].within"},
		{"duplicate goal", func(a *Agreement) { a.Targets[0].Goals[1].Name = "p1" }, "targets[0].goals[1].name"},
		{"bad when", func(a *Agreement) {
			a.Targets[0].Goals[0].When = &Condition{Field: "priority", Op: OpIn, Values: []string{"high"}}
		}, "targets[0].goals[0].when.values[0]"},
		{"zero threshold", func(a *Agreement) { a.Targets[0].Thresholds = []decimal.Decimal{decimal.Zero} }, "targets[0].thresholds[0]"},
		{"duplicate threshold", func(a *Agreement) {
			a.Targets[0].Thresholds = []decimal.Decimal{decimal.NewFromInt(50), decimal.RequireFromString("50.0")}
		}, "targets[0].thresholds[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tmAgreement()
			tc.change(&a)
			err := a.Validate()
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
}

func TestNewEngineErrors(t *testing.T) {
	good := tmAgreement()
	long := tmAgreement()
	long.Targets[0].Goals[0].Within = 30 * 365 * 24 * time.Hour
	withGoalCal := tmAgreement()
	withGoalCal.Targets[1].Goals[0].Calendar = "desk"
	tests := []struct {
		name  string
		as    []Agreement
		cals  Calendars
		field string
	}{
		{"no agreements", nil, nil, "agreements"},
		{"invalid agreement", []Agreement{{ID: "x"}}, nil, "agreements[0].version"},
		{"unknown calendar", []Agreement{good}, CalendarMap{}, "agreements[0].calendar"},
		{"no calendars at all", []Agreement{good}, nil, "agreements[0].calendar"},
		// What a host holds after ignoring NewSchedule's error.
		{"a nil schedule", []Agreement{good}, CalendarMap{"office": (*Schedule)(nil)}, "agreements[0].calendar"},
		{"a zero schedule", []Agreement{good}, CalendarMap{"office": &Schedule{}}, "agreements[0].calendar"},
		{"a resolver answering nil", []Agreement{good}, nilCalendars{}, "agreements[0].calendar"},
		{"unknown calendar of a goal", []Agreement{withGoalCal}, CalendarMap{"office": testWeekdayCal{}}, "agreements[0].targets[1].goals[0].calendar"},
		{"same version twice", []Agreement{good, good}, CalendarMap{"office": testWeekdayCal{}}, "agreements[1].version"},
		{"goal too long", []Agreement{long}, CalendarMap{"office": testWeekdayCal{}}, "agreements[0].targets[0].goals[0].within"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEngine(tc.as, tc.cals)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
	t.Run("versions are listed", func(t *testing.T) {
		v2 := good
		v2.Version = 2
		e, err := NewEngine([]Agreement{v2, good}, CalendarMap{"office": testWeekdayCal{}})
		require.NoError(t, err)
		assert.Equal(t, []string{"gold@1", "gold@2"}, e.Agreements())
	})
}

// TestNewEngineReportsACalendarWhereItIsNamed checks that a calendar name
// that cannot be resolved is reported once per place it is written, not
// once per goal that counts in it.
func TestNewEngineReportsACalendarWhereItIsNamed(t *testing.T) {
	goals := func(names ...string) []Goal {
		var out []Goal
		for i, cal := range names {
			out = append(out, Goal{Name: fmt.Sprintf("p%d", i+1), When: PriorityIn(itsm.Priority(i + 1)), Within: time.Hour, Calendar: cal})
		}
		return out
	}
	agreement := func(cal string, targets ...[]Goal) Agreement {
		a := Agreement{ID: "gold", Version: 1, Kind: itsm.AgreementSLA, Calendar: cal}
		for i, gs := range targets {
			a.Targets = append(a.Targets, Target{Metric: fmt.Sprintf("m%d", i), Goals: gs})
		}
		return a
	}
	known := CalendarMap{"office": testWeekdayCal{}}
	tests := []struct {
		name string
		as   []Agreement
		cals Calendars
		want []string
	}{
		{"agreement's calendar inherited by ten goals",
			[]Agreement{agreement("desk", goals("", "", "", "", ""), goals("", "", "", "", ""))}, known,
			[]string{`agreements[0].calendar: "desk" is not a known calendar`}},
		{"no resolver, agreement's calendar",
			[]Agreement{agreement("desk", goals("", ""), goals(""))}, nil,
			[]string{`agreements[0].calendar: "desk" cannot be resolved: no calendars given`}},
		{"each agreement once",
			[]Agreement{agreement("desk", goals("", "")), agreement("desk", goals("", "")), agreement("office", goals(""))}, known,
			[]string{`agreements[0].calendar: "desk" is not a known calendar`, `agreements[1].calendar: "desk" is not a known calendar`}},
		{"goals that name their own are reported each",
			[]Agreement{agreement("office", goals("desk", "", "desk"), goals("", "night"))}, known,
			[]string{
				`agreements[0].targets[0].goals[0].calendar: "desk" is not a known calendar`,
				`agreements[0].targets[0].goals[2].calendar: "desk" is not a known calendar`,
				`agreements[0].targets[1].goals[1].calendar: "night" is not a known calendar`,
			}},
		{"both levels",
			[]Agreement{agreement("desk", goals("", "night", ""))}, known,
			[]string{
				`agreements[0].calendar: "desk" is not a known calendar`,
				`agreements[0].targets[0].goals[1].calendar: "night" is not a known calendar`,
			}},
		{"an agreement calendar no goal uses is not resolved",
			[]Agreement{agreement("desk", goals("office", "24x7"))}, known, nil},
		{"a nil schedule inherited",
			[]Agreement{agreement("office", goals("", ""))}, CalendarMap{"office": (*Schedule)(nil)},
			[]string{`agreements[0].calendar: "office" resolves to a nil calendar`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEngine(tc.as, tc.cals)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			var got []string
			for _, f := range ve.All() {
				got = append(got, f.String())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// nilCalendars claims to know every calendar and answers each with a nil
// *Schedule.
type nilCalendars struct{}

func (nilCalendars) Calendar(string) (Calendar, bool) { return (*Schedule)(nil), true }

func TestUsable(t *testing.T) {
	sched := mustSchedule(t, CalendarSpec{Zone: "UTC", Week: nineToFive()})
	var nilMap nilMapCalendar
	tests := []struct {
		name string
		cal  Calendar
		want bool
	}{
		{"nil interface", nil, false},
		{"nil schedule", (*Schedule)(nil), false},
		{"zero schedule", &Schedule{}, false},
		{"built schedule", sched, true},
		{"24x7", Always(time.UTC), true},
		{"a host's value type", testWeekdayCal{}, true},
		{"a host's nil map type", nilMap, false},
		{"a host's non-nil map type", nilMapCalendar{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Usable(tc.cal))
		})
	}
}

// nilMapCalendar is a Calendar whose nil value cannot answer.
type nilMapCalendar map[int]bool

func (nilMapCalendar) Add(t time.Time, d time.Duration) (time.Time, error) { return t.Add(d), nil }
func (nilMapCalendar) Between(a, b time.Time) time.Duration                { return max(b.Sub(a), 0) }
func (nilMapCalendar) IsWorking(time.Time) bool                            { return true }
func (nilMapCalendar) NextTransition(time.Time) (time.Time, bool)          { return time.Time{}, false }

func TestConditions(t *testing.T) {
	o := Observation{At: tmDay(3, 9, 0), Priority: 2, Service: "email", Category: "network", State: itsm.CategoryWaiting,
		Fields: map[string]string{"vip": "yes", "impact_users": "250", "note": ""}}
	prev := condMemory{seen: true, values: map[string]string{"fields.vip": "no", "state": "waiting"}}
	tests := []struct {
		name string
		c    *Condition
		want bool
	}{
		{"state in", StateIn(itsm.CategoryWaiting), true},
		{"state not in", &Condition{Field: "state", Op: OpNotIn, Values: []string{"waiting"}}, false},
		{"priority in", PriorityIn(1, 2), true},
		{"priority le", &Condition{Field: "priority", Op: OpLE, Values: []string{"1"}}, false},
		{"priority gt", &Condition{Field: "priority", Op: OpGT, Values: []string{"1"}}, true},
		{"service", FieldIs("service", "email", "web"), true},
		{"category", FieldIs("category", "hardware"), false},
		{"custom field", FieldIs("fields.vip", "yes"), true},
		{"custom field ge", &Condition{Field: "fields.impact_users", Op: OpGE, Values: []string{"100"}}, true},
		{"custom field lt on text", &Condition{Field: "fields.vip", Op: OpLT, Values: []string{"100"}}, false},
		{"absent field not in", &Condition{Field: "fields.absent", Op: OpNotIn, Values: []string{"x"}}, true},
		{"exists", &Condition{Field: "fields.vip", Op: OpExists}, true},
		{"empty is missing", &Condition{Field: "fields.note", Op: OpMissing}, true},
		{"changed", FieldChanged("fields.vip"), true},
		{"unchanged", FieldChanged("state"), false},
		{"all", AllOf(StateIn(itsm.CategoryWaiting), PriorityIn(2)), true},
		{"any", AnyOf(StateIn(itsm.CategoryNew), PriorityIn(3)), false},
		{"not", Not(PriorityIn(3)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := compileCondition(tc.c)
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.holds(&o, &prev, !tc.want))
		})
	}
	t.Run("a field the previous observation did not record has not changed", func(t *testing.T) {
		p, err := compileCondition(FieldChanged("service"))
		require.NoError(t, err)
		assert.False(t, p.holds(&o, &prev, true), "first sight is not a change")
	})
	t.Run("a field recorded as absent that appears has changed", func(t *testing.T) {
		p, err := compileCondition(FieldChanged("fields.vip"))
		require.NoError(t, err)
		assert.True(t, p.holds(&o, &condMemory{seen: true, values: map[string]string{"fields.vip": ""}}, false))
	})
	t.Run("changed needs a previous observation", func(t *testing.T) {
		p, err := compileCondition(FieldChanged("fields.vip"))
		require.NoError(t, err)
		assert.False(t, p.holds(&o, &condMemory{}, true))
	})
}

func TestConditionValidate(t *testing.T) {
	tests := []struct {
		name  string
		c     Condition
		field string
	}{
		{"empty", Condition{}, "condition"},
		{"two shapes", Condition{Field: "state", Op: OpIn, Values: []string{"new"}, Not: StateIn(itsm.CategoryNew)}, "condition"},
		{"empty all", Condition{All: []Condition{}}, "all"},
		{"bad child", Condition{Any: []Condition{{Field: "state", Op: "like", Values: []string{"x"}}}}, "any[0].op"},
		{"bad state", Condition{Field: "state", Op: OpIn, Values: []string{"pending"}}, "values[0]"},
		{"in without values", Condition{Field: "service", Op: OpIn}, "values"},
		{"ordering needs one value", Condition{Field: "priority", Op: OpLT, Values: []string{"1", "2"}}, "values"},
		{"exists takes no values", Condition{Field: "service", Op: OpExists, Values: []string{"x"}}, "values"},
		{"unknown field", Condition{Field: "fields.", Op: OpExists}, "field"},
		{"nested not", Condition{Not: &Condition{Field: "priority", Op: OpIn, Values: []string{"p1"}}}, "not.values[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
}

func TestAgreementJSONErrorsNameTheField(t *testing.T) {
	wrap := func(target string) string {
		return `{"id":"a","version":1,"kind":"sla","targets":[{"metric":"r","goals":[{"name":"g","within":"4h"}]},` + target + `]}`
	}
	tests := []struct {
		name  string
		json  string
		field string
	}{
		{"within as bad text", wrap(`{"metric":"s","goals":[{"name":"g","within":"4h"},{"name":"h","within":"4 hours"}]}`), "targets[1].goals[1].within"},
		{"within as a fraction", wrap(`{"metric":"s","goals":[{"name":"g","within":1.5}]}`), "targets[1].goals[0].within"},
		{"threshold not a number", wrap(`{"metric":"s","thresholds":[50,"x"],"goals":[{"name":"g","within":"4h"}]}`), "targets[1].thresholds[1]"},
		{"metric of the wrong type", wrap(`{"metric":5,"goals":[{"name":"g","within":"4h"}]}`), "targets[1].metric"},
		{"goal name of the wrong type", wrap(`{"metric":"s","goals":[{"name":7,"within":"4h"}]}`), "targets[1].goals[0].name"},
		{"unknown kind", `{"id":"a","version":1,"kind":"bogus","targets":[]}`, "kind"},
		{"version as text", `{"id":"a","version":"1","kind":"sla","targets":[]}`, "version"},
		{"not an object", `[1]`, "agreement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a Agreement
			err := json.Unmarshal([]byte(tc.json), &a)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
	t.Run("null within clears it and Validate says so", func(t *testing.T) {
		var a Agreement
		require.NoError(t, json.Unmarshal([]byte(wrap(`{"metric":"s","goals":[{"name":"g","within":null}]}`)), &a))
		assert.Zero(t, a.Targets[1].Goals[0].Within)
		var ve *itsm.ValidationError
		require.ErrorAs(t, a.Validate(), &ve)
		assert.True(t, ve.Has("targets[1].goals[0].within"))
	})
	t.Run("Validate enforces the engine's longest goal", func(t *testing.T) {
		var a Agreement
		require.NoError(t, json.Unmarshal([]byte(wrap(`{"metric":"s","goals":[{"name":"g","within":"200000h"}]}`)), &a))
		var ve *itsm.ValidationError
		require.ErrorAs(t, a.Validate(), &ve)
		assert.True(t, ve.Has("targets[1].goals[0].within"), "got %v", ve)
	})
	t.Run("a syntax error is encoding/json's", func(t *testing.T) {
		var a Agreement
		var syn *json.SyntaxError
		require.ErrorAs(t, json.Unmarshal([]byte(`{"id":`), &a), &syn)
	})
}
