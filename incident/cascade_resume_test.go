package incident_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsmtest/faults"
	"github.com/itsmkit/itsmkit/sla"
)

// family opens a parent and n children linked to it, each child assigned
// (in work).
func (d *desk) family(t *testing.T, n int) (*incident.Incident, []*incident.Incident) {
	t.Helper()
	ctx := context.Background()
	parent := d.open(t)
	kids := make([]*incident.Incident, n)
	for i := range kids {
		kids[i] = d.open(t)
		_, err := d.svc.LinkParent(ctx, tenant, kids[i].ID(), parent.ID(), agent)
		require.NoError(t, err)
		_, err = d.svc.Assign(ctx, tenant, kids[i].ID(), agent, "network", "ana", "")
		require.NoError(t, err)
	}
	return parent, kids
}

func outcomesOf(t *testing.T, res incident.Result) map[incident.ID]incident.CascadeOutcome {
	t.Helper()
	out := map[incident.ID]incident.CascadeOutcome{}
	for _, c := range res.Cascade {
		require.NoError(t, c.Err)
		out[c.Child] = c.Outcome
	}
	return out
}

// resolutionStage returns the stage of the incident's resolution timer.
func resolutionStage(t *testing.T, inc *incident.Incident) sla.Stage {
	t.Helper()
	for _, tm := range inc.SLA().Timers {
		if tm.Metric == "resolution" {
			return tm.Stage
		}
	}
	t.Fatalf("%s has no resolution timer", inc.Number())
	return 0
}

// The review's case: a parent held awaiting a vendor takes both children
// along; one child is resumed by hand; resuming the parent resumes the
// other, whose resolution clock runs again.
func TestServiceResumeCascadesToTheChildrenItsHoldHeld(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent, kids := d.family(t, 2)
	res, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeApplied, kids[1].ID(): incident.CascadeApplied}, outcomesOf(t, res))
	_, err = d.svc.Resume(ctx, tenant, kids[0].ID(), agent, "a local workaround needs no vendor")
	require.NoError(t, err)
	require.Equal(t, sla.StagePaused, resolutionStage(t, d.get(t, kids[1].ID())))

	res, err = d.svc.Resume(ctx, tenant, parent.ID(), agent, "the vendor shipped the part")
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeAlready, kids[1].ID(): incident.CascadeApplied}, outcomesOf(t, res))
	for _, c := range res.Cascade {
		if c.Child == kids[1].ID() {
			assert.Contains(t, eventTypes(c.Events), "incident.resumed")
		}
	}
	other := d.get(t, kids[1].ID())
	assert.Equal(t, incident.StatusInProgress, other.Status())
	assert.Empty(t, other.HoldReason())
	assert.NotEqual(t, sla.StagePaused, resolutionStage(t, other), "the resolution clock runs again")
	h := other.History()
	last := h[len(h)-1]
	assert.Equal(t, "resume", last.Command)
	assert.Equal(t, "Resumed with parent "+string(parent.Number()), last.Reason)
	assert.Contains(t, last.Changes, incident.FieldChange{Field: "hold_parent", From: parent.ID().String()})

	// Idempotent: a re-run finds nothing left to do.
	res, err = d.svc.Cascade(ctx, tenant, parent.ID(), agent)
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeAlready, kids[1].ID(): incident.CascadeAlready}, outcomesOf(t, res))
	for _, c := range res.Cascade {
		assert.Empty(t, c.Events)
	}
}

// A hold made by the cascade names the parent on the child's entry.
func TestServiceHoldCascadeMarksTheChildsHold(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent, kids := d.family(t, 1)
	_, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	_, err = d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingChange, "")
	require.NoError(t, err)
	h := d.get(t, kids[0].ID()).History()
	for _, e := range h[len(h)-2:] {
		assert.Equal(t, "hold", e.Command)
		assert.Contains(t, e.Changes, incident.FieldChange{Field: "hold_parent", To: parent.ID().String()}, "the move on hold and the change of reason")
	}
}

// Children the parent's hold did not put on hold, or that someone has set
// apart since, are left as they are.
func TestServiceResumeCascadeLeavesOtherHoldsAlone(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// before runs before the parent's hold, after between the hold and
		// the parent's resume.
		before, after func(t *testing.T, d *desk, child incident.ID)
		want          incident.CascadeOutcome
		status        incident.Status
		reason        incident.HoldReason
	}{
		{
			name: "held on its own for the same reason before the parent",
			before: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Hold(ctx, tenant, child, agent, incident.HoldAwaitingVendor, "")
				require.NoError(t, err)
			},
			want: incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingVendor,
		},
		{
			name: "held on its own for another reason before the parent",
			before: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Hold(ctx, tenant, child, agent, incident.HoldAwaitingProblem, "")
				require.NoError(t, err)
			},
			// The hold cascade gave it the parent's reason; the hold is
			// still its own.
			want: incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingVendor,
		},
		{
			name: "waiting for its own caller",
			before: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Hold(ctx, tenant, child, agent, incident.HoldAwaitingCaller, "Which floor?")
				require.NoError(t, err)
			},
			want: incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingCaller,
		},
		{
			name: "held again by hand for another reason since",
			after: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Hold(ctx, tenant, child, agent, incident.HoldAwaitingProblem, "")
				require.NoError(t, err)
			},
			want: incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingProblem,
		},
		{
			name: "resumed and held again by hand since",
			after: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Resume(ctx, tenant, child, agent, "back to it")
				require.NoError(t, err)
				_, err = d.svc.Hold(ctx, tenant, child, agent, incident.HoldAwaitingVendor, "")
				require.NoError(t, err)
			},
			want: incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingVendor,
		},
		{
			name: "resolved since",
			after: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Resolve(ctx, tenant, child, agent, incident.ResolvedWorkaround, "local fix")
				require.NoError(t, err)
			},
			want: incident.CascadeAlready, status: incident.StatusResolved,
		},
		{
			name: "canceled since",
			after: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Cancel(ctx, tenant, child, agent, incident.Cancellation{Reason: incident.CancelRaisedInError})
				require.NoError(t, err)
			},
			want: incident.CascadeAlready, status: incident.StatusCanceled,
		},
		{
			name: "closed since",
			after: func(t *testing.T, d *desk, child incident.ID) {
				_, err := d.svc.Resolve(ctx, tenant, child, agent, incident.ResolvedWorkaround, "local fix")
				require.NoError(t, err)
				_, err = d.svc.Close(ctx, tenant, child, agent, "")
				require.NoError(t, err)
			},
			want: incident.CascadeAlready, status: incident.StatusClosed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, false)
			parent, kids := d.family(t, 2)
			child, follower := kids[0].ID(), kids[1].ID()
			if tc.before != nil {
				tc.before(t, d, child)
			}
			_, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
			require.NoError(t, err)
			if tc.after != nil {
				tc.after(t, d, child)
			}
			res, err := d.svc.Resume(ctx, tenant, parent.ID(), agent, "")
			require.NoError(t, err)
			assert.Equal(t, map[incident.ID]incident.CascadeOutcome{child: tc.want, follower: incident.CascadeApplied}, outcomesOf(t, res))
			got := d.get(t, child)
			assert.Equal(t, tc.status, got.Status())
			assert.Equal(t, tc.reason, got.HoldReason())
			assert.Equal(t, incident.StatusInProgress, d.get(t, follower).Status())
		})
	}
}

// A child unlinked from its parent, or moved to another, is not the
// parent's to resume.
func TestServiceResumeCascadeIgnoresChildrenMovedAway(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent, kids := d.family(t, 2)
	other := d.open(t)
	_, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	_, err = d.svc.UnlinkParent(ctx, tenant, kids[0].ID(), agent)
	require.NoError(t, err)
	_, err = d.svc.LinkParent(ctx, tenant, kids[1].ID(), other.ID(), agent)
	require.NoError(t, err)

	res, err := d.svc.Resume(ctx, tenant, parent.ID(), agent, "")
	require.NoError(t, err)
	assert.Empty(t, res.Cascade)
	// The new parent never held the child: its cascade leaves it waiting.
	res, err = d.svc.Cascade(ctx, tenant, other.ID(), agent)
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[1].ID(): incident.CascadeSkipped}, outcomesOf(t, res))
	for _, k := range kids {
		assert.Equal(t, incident.StatusOnHold, d.get(t, k.ID()).Status())
	}
}

// Grandchildren held through their parent are resumed through it.
func TestServiceResumeCascadeReachesGrandchildren(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	root, kids := d.family(t, 1)
	grandchild := d.open(t)
	_, err := d.svc.LinkParent(ctx, tenant, grandchild.ID(), kids[0].ID(), agent)
	require.NoError(t, err)
	res, err := d.svc.Hold(ctx, tenant, root.ID(), agent, incident.HoldAwaitingChange, "")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 2)

	res, err = d.svc.Resume(ctx, tenant, root.ID(), agent, "")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 2)
	assert.Equal(t, kids[0].ID(), res.Cascade[1].Parent)
	for _, c := range res.Cascade {
		assert.Equal(t, incident.CascadeApplied, c.Outcome)
	}
	gc := d.get(t, grandchild.ID())
	assert.Equal(t, incident.StatusInProgress, gc.Status())
	h := gc.History()
	assert.Equal(t, "Resumed with parent "+string(kids[0].Number()), h[len(h)-1].Reason)
}

// The caller's reply resumes a parent whose wait moved from a vendor to
// its caller; the children its vendor hold held are resumed with it.
func TestServiceCallerReplyCascadesTheResume(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent, kids := d.family(t, 2)
	_, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	_, err = d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingCaller, "Can you try the new firmware?")
	require.NoError(t, err)

	res, err := d.svc.Comment(ctx, tenant, parent.ID(), caller, "Yes, it works now", incident.CallerComment)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusInProgress, res.Incident.Status())
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeApplied, kids[1].ID(): incident.CascadeApplied}, outcomesOf(t, res))
	for _, k := range kids {
		assert.Equal(t, incident.StatusInProgress, d.get(t, k.ID()).Status())
	}

	// A comment that resumes nothing cascades nothing.
	res, err = d.svc.Comment(ctx, tenant, parent.ID(), caller, "Thanks", incident.CallerComment)
	require.NoError(t, err)
	assert.Empty(t, res.Cascade)
}

// A wait for the caller alone never held a child: the resume lists none.
func TestServiceResumeAfterACallerWaitDoesNotCascade(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, true)
	parent, kids := d.family(t, 1)
	_, err := d.svc.Hold(ctx, tenant, kids[0].ID(), agent, incident.HoldAwaitingCaller, "Which floor?")
	require.NoError(t, err)
	_, err = d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingCaller, "Since when?")
	require.NoError(t, err)
	require.NoError(t, d.inj.FailNth(faults.IncidentsList, 1))
	res, err := d.svc.Resume(ctx, tenant, parent.ID(), agent, "")
	require.NoError(t, err)
	assert.Empty(t, res.Cascade, "a listing would have failed and been reported")
}

// A child whose save failed is resumed by Service.Cascade later.
func TestServiceCascadeCompletesAFailedResume(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, true)
	parent, kids := d.family(t, 1)
	_, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingProblem, "")
	require.NoError(t, err)

	require.NoError(t, d.inj.FailNth(faults.IncidentsUpdate, 2)) // the parent, then the child
	res, err := d.svc.Resume(ctx, tenant, parent.ID(), agent, "")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 1)
	require.Error(t, res.Cascade[0].Err)
	assert.Equal(t, incident.StatusOnHold, d.get(t, kids[0].ID()).Status())

	res, err = d.svc.Cascade(ctx, tenant, parent.ID(), agent)
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeApplied}, outcomesOf(t, res))
	assert.Equal(t, incident.StatusInProgress, d.get(t, kids[0].ID()).Status())
}
