package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/sla"
)

// The desk's response target stops when the incident records its first
// response, not when it merely waits: a child put on hold by its parent's
// cascade has had no response yet (it once counted as one).
func TestDeskResponseWaitsForTheFirstResponse(t *testing.T) {
	ctx := context.Background()
	s, err := newSim(simConfig{Seed: 1, Incidents: 1, Days: 1, Start: time.Date(2026, time.January, 5, 8, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	response := func(inc *incident.Incident) sla.Timer {
		t.Helper()
		for _, tm := range inc.SLA().Timers {
			if tm.Metric == "response" {
				return tm
			}
		}
		t.Fatalf("%s has no response timer", inc.Number())
		return sla.Timer{}
	}
	in := incident.OpenInput{Title: "Mail is down", Caller: "bob", Impact: 3, Urgency: 3, Group: "workplace"}
	parent, err := s.svc.Open(ctx, s.tenant, dispatcher, in)
	require.NoError(t, err)
	child, err := s.svc.Open(ctx, s.tenant, dispatcher, in)
	require.NoError(t, err)
	_, err = s.svc.LinkParent(ctx, s.tenant, child.Incident.ID(), parent.Incident.ID(), dispatcher)
	require.NoError(t, err)

	s.now = s.now.Add(10 * time.Minute)
	held, err := s.svc.Hold(ctx, s.tenant, parent.Incident.ID(), dispatcher, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	require.Len(t, held.Cascade, 1)
	assert.Equal(t, incident.CascadeApplied, held.Cascade[0].Outcome)
	assert.Equal(t, sla.StageRunning, response(held.Incident).Stage, "the parent's hold is no response either")
	got, err := s.svc.Get(ctx, s.tenant, child.Incident.ID())
	require.NoError(t, err)
	assert.Equal(t, incident.StatusOnHold, got.Status())
	assert.Equal(t, sla.StageRunning, response(got).Stage)

	s.now = s.now.Add(10 * time.Minute)
	answered, err := s.svc.Comment(ctx, s.tenant, child.Incident.ID(), dispatcher, "Waiting on the mail vendor", incident.AgentComment)
	require.NoError(t, err)
	tm := response(answered.Incident)
	assert.Equal(t, sla.StageCompleted, tm.Stage)
	assert.Equal(t, s.now, tm.EndedAt)
	assert.False(t, tm.Breached)
}
