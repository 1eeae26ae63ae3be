package itsm_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

type incidentRecord struct{}

func (incidentRecord) RecordKind() itsm.Kind { return itsm.KindIncident }

type incidentID = itsm.ID[incidentRecord]

func seqGen(start byte) itsm.IDGenerator {
	n := start
	return itsm.IDGeneratorFunc(func() (uuid.UUID, error) {
		n++
		var u uuid.UUID
		u[0], u[6], u[8], u[15] = 0x01, 0x70, 0x80, n
		return u, nil
	})
}

func TestIDs(t *testing.T) {
	gen := seqGen(0)
	a, err := itsm.NewID[incidentRecord](gen)
	require.NoError(t, err)
	b, err := itsm.NewID[incidentRecord](gen)
	require.NoError(t, err)
	assert.False(t, a.IsZero())
	assert.Equal(t, -1, a.Compare(b))
	assert.Equal(t, 1, b.Compare(a))
	assert.Equal(t, 0, a.Compare(a))
	assert.Equal(t, itsm.KindIncident, a.Kind())
	assert.Equal(t, itsm.Ref{Kind: itsm.KindIncident, ID: a.UUID()}, a.Ref())

	parsed, err := itsm.ParseID[incidentRecord](a.String())
	require.NoError(t, err)
	assert.Equal(t, a, parsed)

	var zero incidentID
	assert.True(t, zero.IsZero())
	assert.Equal(t, "", zero.String())
	v, err := zero.Value()
	require.NoError(t, err)
	assert.Nil(t, v)
	v, err = a.Value()
	require.NoError(t, err)
	assert.Equal(t, a.String(), v)

	type doc struct {
		ID     incidentID `json:"id"`
		Parent incidentID `json:"parent"`
	}
	raw, err := json.Marshal(doc{ID: a})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"`+a.String()+`","parent":""}`, string(raw))
	var back doc
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, doc{ID: a}, back)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"id":"not-a-uuid"}`), &back), itsm.ErrInvalid)
}

func TestNewIDGeneratorFailures(t *testing.T) {
	boom := errors.New("entropy exhausted")
	_, err := itsm.NewID[incidentRecord](itsm.IDGeneratorFunc(func() (uuid.UUID, error) { return uuid.Nil, boom }))
	assert.ErrorIs(t, err, boom)
	_, err = itsm.NewID[incidentRecord](itsm.IDGeneratorFunc(func() (uuid.UUID, error) { return uuid.Nil, nil }))
	assert.ErrorIs(t, err, itsm.ErrInvalid)
	_, err = itsm.NewID[incidentRecord](nil)
	assert.ErrorIs(t, err, itsm.ErrInvalid)
}

func TestUUIDv7GeneratorMakesVersion7(t *testing.T) {
	id, err := itsm.NewID[incidentRecord](itsm.UUIDv7Generator())
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(7), id.UUID().Version())
}

func TestTenantID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"acme", true},
		{"acme-eu_2.prod", true},
		{"0190a8c4-7d2e-7b6a-9f1e-3c4d5e6f7a8b", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"acme corp", false},
		{"acme/eu", false},
		{"ünï", false},
		{"\xff", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := itsm.ParseTenantID(tc.in)
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, tc.in, got.String())
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "tenant", ve.Field)
		})
	}
}

func TestActorValidate(t *testing.T) {
	tests := []struct {
		name   string
		actor  itsm.Actor
		fields []string
	}{
		{"valid human", itsm.Actor{ID: "u1", Name: "Ana", Groups: []string{"network"}, Roles: []string{"itil"}}, nil},
		{"valid system", itsm.Actor{ID: "scheduler", Kind: itsm.ActorSystem}, nil},
		{"missing id", itsm.Actor{Name: "Nobody"}, []string{"actor.id"}},
		{"long id", itsm.Actor{ID: strings.Repeat("a", 257)}, []string{"actor.id"}},
		{"bad kind and name", itsm.Actor{ID: "x", Kind: "robot", Name: "\xff"}, []string{"actor.kind", "actor.name"}},
		{"empty group and role", itsm.Actor{ID: "x", Groups: []string{""}, Roles: []string{""}}, []string{"actor.groups", "actor.roles"}},
		{"control characters", itsm.Actor{ID: "u1\x00", Name: "\x1b[2JAna"}, []string{"actor.id", "actor.name"}},
		{"control characters in group and role", itsm.Actor{ID: "x", Groups: []string{"net\nwork"}, Roles: []string{"itil\x7f"}}, []string{"actor.groups", "actor.roles"}},
		{"long name", itsm.Actor{ID: "x", Name: strings.Repeat("n", itsm.MaxActorNameLen+1)}, []string{"actor.name"}},
		{"longest name", itsm.Actor{ID: "x", Name: strings.Repeat("n", itsm.MaxActorNameLen)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.actor.Validate()
			if tc.fields == nil {
				require.NoError(t, err)
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.All(), len(tc.fields))
			for _, f := range tc.fields {
				assert.True(t, ve.Has(f), f)
			}
		})
	}
}

func TestActorHelpers(t *testing.T) {
	a := itsm.Actor{ID: "u1", Groups: []string{"network"}, Roles: []string{"itil_admin"}}
	assert.True(t, a.HasRole("itil_admin"))
	assert.False(t, a.HasRole("approver"))
	assert.True(t, a.InGroup("network"))
	assert.True(t, a.IsHuman())
	assert.False(t, itsm.Actor{ID: "bot", Kind: itsm.ActorIntegration}.IsHuman())
	c := a.Clone()
	c.Groups[0] = "changed"
	assert.Equal(t, "network", a.Groups[0], "Clone shares no slices")
}

func TestRef(t *testing.T) {
	u := uuid.MustParse("0190a8c4-7d2e-7b6a-9f1e-3c4d5e6f7a8b")
	r, err := itsm.ParseRef("incident:" + u.String())
	require.NoError(t, err)
	assert.Equal(t, itsm.Ref{Kind: itsm.KindIncident, ID: u}, r)
	assert.Equal(t, "incident:"+u.String(), r.String())
	assert.False(t, r.IsZero())
	assert.True(t, itsm.Ref{}.IsZero())

	for _, bad := range []string{"incident", "incident:xyz", "Incident:" + u.String(), ":" + u.String(), "incident:" + uuid.Nil.String(), "9lives:" + u.String()} {
		t.Run(bad, func(t *testing.T) {
			_, err := itsm.ParseRef(bad)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, strings.HasPrefix(ve.Field, "ref"), ve.Field)
		})
	}
	a := itsm.Ref{Kind: itsm.KindChange, ID: u}
	b := itsm.Ref{Kind: itsm.KindIncident, ID: uuid.Nil}
	assert.Equal(t, -1, a.Compare(b))
	assert.Equal(t, 1, b.Compare(a))

	raw, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"kind":"incident","id":"`+u.String()+`"}`, string(raw))
}

func TestClockAndNormalize(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	in := time.Date(2026, 3, 8, 3, 30, 0, 123456789, ny)
	got := itsm.Normalize(in)
	assert.Equal(t, time.UTC, got.Location())
	assert.Equal(t, 123456000, got.Nanosecond())
	assert.True(t, got.Equal(in.Truncate(time.Microsecond)))
	assert.True(t, itsm.IsNormalized(got))
	assert.False(t, itsm.IsNormalized(in))
	assert.False(t, itsm.IsNormalized(time.Now()), "a monotonic reading is not normalised")

	clock := itsm.Clock(func() time.Time { return in })
	assert.Equal(t, got, clock.Now())
	var nilClock itsm.Clock
	assert.True(t, nilClock.Now().IsZero())
	assert.False(t, itsm.SystemClock().Now().IsZero())
}

func TestEvent(t *testing.T) {
	at := time.Date(2026, 11, 21, 9, 0, 0, 999, time.UTC)
	subject := itsm.Ref{Kind: itsm.KindIncident, ID: uuid.MustParse("0190a8c4-7d2e-7b6a-9f1e-3c4d5e6f7a8b")}
	e, err := itsm.NewEvent(seqGen(0), itsm.EventInput{
		Type:    "incident.resolved",
		Tenant:  "acme",
		Subject: subject,
		Version: 4,
		At:      at,
		Actor:   itsm.Actor{ID: "u1"},
		Payload: map[string]string{"code": "fixed"},
	})
	require.NoError(t, err)
	assert.Equal(t, itsm.Normalize(at), e.At)
	var payload struct{ Code string }
	require.NoError(t, e.DecodePayload(&payload))
	assert.Equal(t, "fixed", payload.Code)

	raw, err := json.Marshal(e)
	require.NoError(t, err)
	var back itsm.Event
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, e, back)
	require.NoError(t, back.Validate())

	_, err = itsm.NewEvent(seqGen(0), itsm.EventInput{Type: "resolved", Tenant: "", Version: -1, Payload: []int{1}})
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"type", "tenant", "subject.kind", "subject.id", "version", "at", "actor.id", "payload"} {
		assert.True(t, ve.Has(f), "want a problem on %s in %v", f, err)
	}
	_, err = itsm.NewEvent(seqGen(0), itsm.EventInput{Type: "x.y", Payload: func() {}})
	assert.ErrorIs(t, err, itsm.ErrInvalid)
}

func TestEventTypeValidate(t *testing.T) {
	for in, ok := range map[itsm.EventType]bool{
		"incident.resolved": true, "sla.threshold_reached": true, "a.b": true,
		"incident": false, ".x": false, "x.": false, "a..b": false, "Incident.Resolved": false, "": false,
	} {
		t.Run(string(in), func(t *testing.T) {
			assert.Equal(t, ok, in.Validate() == nil)
		})
	}
}

func TestEventCloneSharesNothing(t *testing.T) {
	e := itsm.Event{Actor: itsm.Actor{ID: "a", Roles: []string{"r"}}, Payload: []byte(`{"a":1}`)}
	c := e.Clone()
	c.Actor.Roles[0] = "x"
	c.Payload[2] = 'b'
	assert.Equal(t, "r", e.Actor.Roles[0])
	assert.Equal(t, `{"a":1}`, string(e.Payload))
}

func TestEventPayloadMustBeAnObject(t *testing.T) {
	base := itsm.Event{
		ID: uuid.MustParse("0190a8c4-7d2e-7b6a-9f1e-3c4d5e6f7a8b"), Type: "incident.opened", Tenant: "acme",
		Subject: itsm.Ref{Kind: itsm.KindIncident, ID: uuid.MustParse("0190a8c4-7d2e-7b6a-9f1e-3c4d5e6f7a8b")},
		At:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Actor: itsm.Actor{ID: "a"},
	}
	for payload, ok := range map[string]bool{`{"a":1}`: true, ` { } `: true, `[1]`: false, `"x"`: false, `{"a":`: false, `{} {}`: false, `  `: false} {
		e := base
		e.Payload = []byte(payload)
		assert.Equal(t, ok, e.Validate() == nil, payload)
	}
}
