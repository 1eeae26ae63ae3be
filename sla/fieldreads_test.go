package sla_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

func TestEngineFieldReads(t *testing.T) {
	v1 := sla.Agreement{
		ID: "b", Version: 1, Kind: itsm.AgreementSLA,
		Scope: sla.AnyOf(sla.FieldIs("fields.custom.vip", "yes"), sla.Not(sla.FieldIs("category", "hr"))),
		Targets: []sla.Target{{
			Metric: "response",
			Stop:   sla.FieldIs("fields.responded", "true"),
			Goals:  []sla.Goal{{Name: "all", Within: time.Hour}},
		}},
	}
	v2 := v1
	v2.Version = 2
	v2.Scope = nil
	v2.Targets = []sla.Target{{
		Metric: "resolution",
		Reset:  sla.FieldChanged("fields.group"),
		Stop:   sla.AllOf(sla.StateIn(itsm.CategoryResolved), &sla.Condition{Field: "fields.reopens", Op: sla.OpLT, Values: []string{"2"}}),
		Goals:  []sla.Goal{{Name: "p1", When: sla.PriorityIn(1), Within: time.Hour}, {Name: "rest", Within: 2 * time.Hour}},
	}}
	a := sla.Agreement{
		ID: "a", Version: 1, Kind: itsm.AgreementOLA,
		Targets: []sla.Target{{Metric: "m", Start: sla.FieldIs("service", "service:x"), Goals: []sla.Goal{{Name: "g", Within: time.Hour}}}},
	}
	// Given out of order: the reads come by ID, then version.
	e, err := sla.NewEngine([]sla.Agreement{v2, a, v1}, nil)
	require.NoError(t, err)
	type read struct {
		where, field, name string
		op                 sla.Op
		values             []string
	}
	want := []read{
		{"a 1 targets[0].start", "service", "", sla.OpIn, []string{"service:x"}},
		{"b 1 scope.any[0]", "fields.custom.vip", "custom.vip", sla.OpIn, []string{"yes"}},
		{"b 1 scope.any[1].not", "category", "", sla.OpIn, []string{"hr"}},
		{"b 1 targets[0].stop", "fields.responded", "responded", sla.OpIn, []string{"true"}},
		{"b 2 targets[0].stop.all[0]", "state", "", sla.OpIn, []string{"resolved"}},
		{"b 2 targets[0].stop.all[1]", "fields.reopens", "reopens", sla.OpLT, []string{"2"}},
		{"b 2 targets[0].reset", "fields.group", "group", sla.OpChanged, nil},
		{"b 2 targets[0].goals[0].when", "priority", "", sla.OpIn, []string{"1"}},
	}
	var got []read
	for _, r := range e.FieldReads() {
		got = append(got, read{fmt.Sprintf("%s %d %s", r.Agreement, r.Version, r.Path), r.Field, r.Name, r.Op, r.Values})
	}
	assert.Equal(t, want, got)

	// The result is the caller's: changing it changes nothing in the engine.
	reads := e.FieldReads()
	reads[1].Values[0] = "no"
	assert.Equal(t, []string{"yes"}, e.FieldReads()[1].Values)
	// Every name FieldReads reports is one ReadsField knows, and back.
	for _, r := range e.FieldReads() {
		if r.Name != "" {
			assert.True(t, e.ReadsField(r.Name), r.Name)
		}
	}
	assert.False(t, e.ReadsField("vip"), "the name is the key of Observation.Fields, custom. included")
}

func TestFieldReadString(t *testing.T) {
	tests := []struct {
		name string
		r    sla.FieldRead
		want string
	}{
		{"with values", sla.FieldRead{Agreement: "vip", Version: 1, Path: "targets[0].stop", Field: "fields.vip", Name: "vip", Op: sla.OpIn, Values: []string{"yes"}},
			`agreement "vip" version 1, targets[0].stop: fields.vip in ["yes"]`},
		{"without", sla.FieldRead{Agreement: "a", Version: 3, Path: "scope", Field: "service", Op: sla.OpExists},
			`agreement "a" version 3, scope: service exists`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tc.r.String()) })
	}
}

// TestServiceIsComparesRefText checks that ServiceIs matches the service
// as itsm.Ref text and that a bare UUID does not: the mistake it exists to
// prevent.
func TestServiceIsComparesRefText(t *testing.T) {
	mail := itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a0b0-0000-7000-8000-00000000000a")}
	other := itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a0b0-0000-7000-8000-00000000000b")}
	tests := []struct {
		name    string
		cond    *sla.Condition
		service string
		want    bool
	}{
		{"ServiceIs matches the ref's text", sla.ServiceIs(other, mail), mail.String(), true},
		{"ServiceIs does not match another service", sla.ServiceIs(other), mail.String(), false},
		{"ServiceIs does not match a record without a service", sla.ServiceIs(mail), "", false},
		{"a bare UUID never matches ref text", sla.FieldIs("service", mail.ID.String()), mail.String(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.cond.Validate())
			e, err := sla.NewEngine([]sla.Agreement{{
				ID: "a", Version: 1, Kind: itsm.AgreementSLA, Scope: tc.cond,
				Targets: []sla.Target{{Metric: "m", Goals: []sla.Goal{{Name: "g", Within: time.Hour}}}},
			}}, nil)
			require.NoError(t, err)
			st, _, err := e.Observe(sla.State{Record: itsm.Ref{Kind: itsm.KindIncident, ID: uuid.New()}},
				sla.Observation{At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Priority: 2, Service: tc.service, State: itsm.CategoryNew})
			require.NoError(t, err)
			assert.Equal(t, tc.want, len(st.Timers) == 1)
		})
	}
	assert.Equal(t, &sla.Condition{Field: "service", Op: sla.OpIn, Values: []string{mail.String()}}, sla.ServiceIs(mail))
}

// ExampleEngine_FieldReads shows a host checking that the fields an
// engine's conditions read are ones its observations supply.
func ExampleEngine_FieldReads() {
	e, err := sla.NewEngine([]sla.Agreement{{
		ID: "vip", Version: 1, Kind: itsm.AgreementSLA,
		Scope: sla.FieldIs("fields.vip", "yes"),
		Targets: []sla.Target{{
			Metric: "response", Stop: sla.StateIn(itsm.CategoryResolved),
			Goals: []sla.Goal{{Name: "all", Within: time.Hour}},
		}},
	}}, nil)
	if err != nil {
		panic(err)
	}
	supplied := map[string]bool{"segment": true, "custom.vip": true}
	for _, r := range e.FieldReads() {
		if r.Name != "" && !supplied[r.Name] {
			fmt.Println("never supplied:", r)
		}
	}
	// Output: never supplied: agreement "vip" version 1, scope: fields.vip in ["yes"]
}

// ExampleServiceIs shows a condition on the record's service in the form
// the incident service supplies it.
func ExampleServiceIs() {
	mail := itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a0b0-0000-7000-8000-00000000000a")}
	c := sla.ServiceIs(mail)
	fmt.Println(c.Field, c.Op, c.Values)
	// Output: service in [service:0190a0b0-0000-7000-8000-00000000000a]
}
