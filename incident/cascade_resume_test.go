package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
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
	// holdChild is a step that holds the child by hand.
	holdChild := func(reason incident.HoldReason, comment string) func(*testing.T, *desk, incident.ID) {
		return func(t *testing.T, d *desk, child incident.ID) {
			_, err := d.svc.Hold(ctx, tenant, child, agent, reason, comment)
			require.NoError(t, err)
		}
	}
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
			name:   "held on its own for the same reason before the parent",
			before: holdChild(incident.HoldAwaitingVendor, ""),
			want:   incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingVendor,
		},
		{
			name:   "held on its own for another reason before the parent",
			before: holdChild(incident.HoldAwaitingProblem, ""),
			// The hold cascade gave it the parent's reason; the hold is
			// still its own.
			want: incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingVendor,
		},
		{
			name:   "waiting for its own caller",
			before: holdChild(incident.HoldAwaitingCaller, "Which floor?"),
			want:   incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingCaller,
		},
		{
			name:  "held again by hand for another reason since",
			after: holdChild(incident.HoldAwaitingProblem, ""),
			want:  incident.CascadeSkipped, status: incident.StatusOnHold, reason: incident.HoldAwaitingProblem,
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

// A hold cascade passes through a child waiting for its own caller to the
// grandchild below; when the caller replies, that child's resume ends the
// grandchild's hold, though its own wait was for the caller alone. A hand
// Resume of the middle child does the same.
func TestServiceResumeAfterACallerWaitResumesWhatPassedThrough(t *testing.T) {
	for _, how := range []string{"the caller replies", "resumed by hand"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			d := newDesk(t, false)
			root, kids := d.family(t, 1)
			mid := kids[0]
			gc := d.open(t)
			_, err := d.svc.LinkParent(ctx, tenant, gc.ID(), mid.ID(), agent)
			require.NoError(t, err)
			_, err = d.svc.Assign(ctx, tenant, gc.ID(), agent, "network", "ana", "")
			require.NoError(t, err)
			_, err = d.svc.Hold(ctx, tenant, mid.ID(), agent, incident.HoldAwaitingCaller, "Which floor?")
			require.NoError(t, err)
			res, err := d.svc.Hold(ctx, tenant, root.ID(), agent, incident.HoldAwaitingVendor, "")
			require.NoError(t, err)
			require.Equal(t, map[incident.ID]incident.CascadeOutcome{mid.ID(): incident.CascadeAlready, gc.ID(): incident.CascadeApplied}, outcomesOf(t, res))
			res, err = d.svc.Resume(ctx, tenant, root.ID(), agent, "vendor shipped")
			require.NoError(t, err)
			assert.Equal(t, map[incident.ID]incident.CascadeOutcome{mid.ID(): incident.CascadeSkipped}, outcomesOf(t, res),
				"the middle child waits for its own caller")

			if how == "the caller replies" {
				res, err = d.svc.Comment(ctx, tenant, mid.ID(), caller, "Floor 3", incident.CallerComment)
			} else {
				res, err = d.svc.Resume(ctx, tenant, mid.ID(), agent, "")
			}
			require.NoError(t, err)
			require.Equal(t, incident.StatusInProgress, res.Incident.Status())
			assert.Equal(t, map[incident.ID]incident.CascadeOutcome{gc.ID(): incident.CascadeApplied}, outcomesOf(t, res))
			got := d.get(t, gc.ID())
			assert.Equal(t, incident.StatusInProgress, got.Status())
			assert.NotEqual(t, sla.StagePaused, resolutionStage(t, got))
		})
	}
}

// A wait for the caller alone held no child: the resume lists the children
// and leaves one waiting on its own hold as it is.
func TestServiceResumeAfterACallerWaitLeavesOwnHolds(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent, kids := d.family(t, 1)
	_, err := d.svc.Hold(ctx, tenant, kids[0].ID(), agent, incident.HoldAwaitingCaller, "Which floor?")
	require.NoError(t, err)
	_, err = d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingCaller, "Since when?")
	require.NoError(t, err)
	res, err := d.svc.Resume(ctx, tenant, parent.ID(), agent, "")
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeSkipped}, outcomesOf(t, res))
	assert.Equal(t, incident.StatusOnHold, d.get(t, kids[0].ID()).Status())
}

// hookRepo runs hook once, before the first List it serves: a command of
// someone else's landing between a resume's save and its cascade.
type hookRepo struct {
	incident.Repository
	hook func()
}

func (r *hookRepo) List(ctx context.Context, tn itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	if h := r.hook; h != nil {
		r.hook = nil
		h()
	}
	return r.Repository.List(ctx, tn, f, p)
}

// A hold that lands on the parent after its resume, before the resume's
// cascade reaches the children, is the parent's latest word: the stale
// resume leaves the children it holds waiting, and a re-run of the cascade
// finds them where the hold put them.
func TestServiceResumeCascadeYieldsToALaterHold(t *testing.T) {
	ctx := context.Background()
	var hr *hookRepo
	d := newDesk(t, false, func(c *incident.Config) { hr = &hookRepo{Repository: c.Repository}; c.Repository = hr })
	root, kids := d.family(t, 1)
	_, err := d.svc.Hold(ctx, tenant, root.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	hr.hook = func() {
		_, err := d.svc.Hold(ctx, tenant, root.ID(), agent, incident.HoldAwaitingChange, "")
		require.NoError(t, err)
	}
	res, err := d.svc.Resume(ctx, tenant, root.ID(), agent, "vendor shipped")
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeSkipped}, outcomesOf(t, res))
	child := d.get(t, kids[0].ID())
	assert.Equal(t, incident.StatusOnHold, child.Status())
	assert.Equal(t, incident.HoldAwaitingChange, child.Data().HoldReason)

	res, err = d.svc.Cascade(ctx, tenant, root.ID(), agent)
	require.NoError(t, err)
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{kids[0].ID(): incident.CascadeAlready}, outcomesOf(t, res))
	assert.Equal(t, incident.StatusOnHold, d.get(t, kids[0].ID()).Status())
}

// A child its parent's cascade held while it was new, and resumed with the
// parent, goes into work with no first response recorded: nobody answered
// its caller, and its response timer keeps running.
func TestServiceCascadedResumeIsNoResponse(t *testing.T) {
	engine, err := sla.NewEngine([]sla.Agreement{respondedAgreement()}, nil)
	require.NoError(t, err)
	d := newDesk(t, false, func(c *incident.Config) { c.SLA = engine })
	ctx := context.Background()
	parent, child := d.open(t), d.open(t)
	_, err = d.svc.LinkParent(ctx, tenant, child.ID(), parent.ID(), agent)
	require.NoError(t, err)
	_, err = d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	d.clock.Advance(30 * time.Minute)
	res, err := d.svc.Resume(ctx, tenant, parent.ID(), agent, "vendor shipped")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 1)
	got := d.get(t, child.ID())
	assert.Equal(t, incident.StatusInProgress, got.Status())
	assert.True(t, got.Data().FirstResponseAt.IsZero(), "no first response recorded")
	assert.Equal(t, sla.StageRunning, responseTimer(t, got).Stage)
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
