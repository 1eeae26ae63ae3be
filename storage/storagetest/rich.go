package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage"
)

// engine is a 24×7 agreement with a response and a resolution target, so
// the suite's records carry real SLA timers: segments, marks, breaches.
func engine(t *testing.T) *sla.Engine {
	t.Helper()
	e, err := sla.NewEngine([]sla.Agreement{{
		ID: "suite", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{
			{
				Metric: "response",
				Stop:   sla.StateIn(itsm.CategoryActive, itsm.CategoryWaiting, itsm.CategoryResolved, itsm.CategoryClosed),
				Goals:  []sla.Goal{{Name: "all", Within: 30 * time.Minute}},
			},
			{
				Metric: "resolution",
				Pause:  sla.StateIn(itsm.CategoryWaiting),
				Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
				Goals:  []sla.Goal{{Name: "all", Within: 4 * time.Hour}},
			},
		},
	}}, nil)
	require.NoError(t, err)
	return e
}

// replayed builds a record the incident package's own rules produce, by
// replaying states at the given minutes after base; then extra fills in
// what a replay leaves empty.
func (e *env) replayed(tenant itsm.TenantID, eng *sla.Engine, steps []incident.Recorded, extra func(*incident.Data)) incident.Data {
	e.t.Helper()
	n := e.n.Add(1)
	states := map[string]incident.Status{}
	for _, st := range incident.DefaultLifecycle().States() {
		states[string(st)] = st
	}
	start := base.Add(time.Duration(n) * time.Minute)
	history := []incident.Recorded{{At: start, State: "new", By: itsm.Actor{ID: agent.ID, Name: agent.Name}}}
	for _, s := range steps {
		s.At = start.Add(s.At.Sub(time.Time{}))
		history = append(history, s)
	}
	res, err := incident.Replay(incident.DefaultPolicy(), eng, e.newID(), tenant, incident.FormatNumber("INC", n),
		incident.OpenInput{
			Title: "Quotes ' \" ; -- /* and émoji 🚒 in a title", Description: "line one\nline two\ttabbed",
			Caller: "caller-7", Channel: incident.ChannelPhone, Category: "network", Subcategory: "wan",
			Service: itsm.Ref{Kind: itsm.KindService, ID: e.uuid()},
			CIs:     []itsm.Ref{{Kind: itsm.KindCI, ID: e.uuid()}},
			Impact:  1, Urgency: 2, Group: "network",
			Custom: map[string]string{"site": "O'Brien; DROP TABLE incidents; --", "floor": "3"},
		}, history, incident.Mapping{States: states, HoldReasons: map[string]incident.HoldReason{"vendor": incident.HoldAwaitingVendor}})
	require.NoError(e.t, err)
	require.Empty(e.t, res.Refused)
	d := res.Incident.Data()
	if extra != nil {
		extra(&d)
	}
	realistic(e.t, d)
	return d
}

// after is a Recorded at minute m after the record opens.
func after(m int, state string) incident.Recorded {
	return incident.Recorded{At: time.Time{}.Add(time.Duration(m) * time.Minute), State: state}
}

// richRecords returns records that between them fill every field of
// incident.Data: SLA timers (running, paused, completed, breached), an
// override, a cancellation, problem and change links, counters, a hold
// reason, the major-incident track, comments and custom fields.
func (e *env) richRecords(tenant itsm.TenantID, eng *sla.Engine) []incident.Data {
	hold := after(40, "on_hold")
	hold.HoldReason = "vendor"
	return []incident.Data{
		e.replayed(tenant, eng, []incident.Recorded{after(10, "in_progress"), after(300, "resolved"), after(400, "closed")}, func(d *incident.Data) {
			d.Problem = itsm.Ref{Kind: itsm.KindProblem, ID: e.uuid()}
			d.Change = itsm.Ref{Kind: itsm.KindChange, ID: e.uuid()}
			d.Reassignments, d.Escalations, d.Reopens = 2, 1, 1
			d.Major = incident.Major{Status: incident.MajorAccepted, Owner: "carol", Reason: "all sites", ReviewedAt: d.ClosedAt, ReviewNotes: "add a canary"}
			d.Comments = append(d.Comments, incident.Comment{At: d.ClosedAt, By: agent, Text: "Closing; thanks.", FromCaller: false})
		}),
		e.replayed(tenant, eng, []incident.Recorded{after(5, "in_progress"), hold}, func(d *incident.Data) {
			d.Override = &incident.Override{Priority: 1, Derived: d.Priority, Reason: "board meeting", By: agent, At: d.OpenedAt}
			d.Priority = 1
		}),
		e.replayed(tenant, eng, []incident.Recorded{after(2, "canceled")}, nil),
		e.replayed(tenant, eng, nil, nil), // still new: the response timer runs
	}
}

// testRichRecords round-trips records that use every field, and checks that
// no part of them, the SLA timers included, is shared with the store.
func testRichRecords(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	eng := engine(t)
	for i, d := range e.richRecords(tenantA, eng) {
		require.NoError(t, e.repo.Create(ctx, d), "record %d", i)
		want := d.Clone()
		want.Version = 1
		mutate(&d)
		got, err := e.repo.Get(ctx, tenantA, want.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "record %d comes back whole", i)
		mutate(&got)
		again, err := e.repo.Get(ctx, tenantA, want.ID)
		require.NoError(t, err)
		assert.Equal(t, want, again, "record %d: what Get returned is not shared", i)

		next := retitle(want, "Renamed, with 'quotes' -- and ; semicolons")
		require.NoError(t, e.repo.Update(ctx, next), "record %d", i)
		next.Version = 2
		mutate(&want) // the copy the test passed to Update must not matter either
		got, err = e.repo.Get(ctx, tenantA, next.ID)
		require.NoError(t, err)
		assert.Equal(t, next, got, "record %d after Update", i)
	}
}

// testSLAFilters checks the filters a scheduler depends on.
func testSLAFilters(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	eng := engine(t)
	var all []incident.Data
	for range 3 {
		for _, d := range e.richRecords(tenantA, eng) {
			require.NoError(t, e.repo.Create(ctx, d))
			d.Version = 1
			all = append(all, d)
		}
	}
	yes, no := true, false
	filters := []struct {
		name string
		f    incident.Filter
	}{
		{"breached", incident.Filter{SLABreached: &yes}},
		{"not breached", incident.Filter{SLABreached: &no}},
		{"running timers", incident.Filter{SLAStages: []sla.Stage{sla.StageRunning}}},
		{"paused or completed", incident.Filter{SLAStages: []sla.Stage{sla.StagePaused, sla.StageCompleted}}},
		{"due soon", incident.Filter{SLANextBefore: base.Add(time.Hour)}},
		{"due by next year", incident.Filter{SLANextBefore: base.Add(365 * 24 * time.Hour)}},
		{"combined", incident.Filter{SLABreached: &no, Group: "network", SLAStages: []sla.Stage{sla.StageRunning}}},
	}
	nonEmpty := 0
	for _, fc := range filters {
		t.Run(fc.name, func(t *testing.T) {
			var want []incident.ID
			for i := range all {
				if fc.f.Matches(&all[i]) {
					want = append(want, all[i].ID)
				}
			}
			got := ids(collect(t, e.repo, tenantA, fc.f, 2))
			if len(want) == 0 {
				assert.Empty(t, got)
				return
			}
			nonEmpty++
			assert.Equal(t, want, got)
		})
	}
	assert.GreaterOrEqual(t, nonEmpty, 5, "the suite's records must exercise the SLA filters")
}

// testSameIDTwoTenants stores one ID in two tenants and updates one: the
// other must not change (an UPDATE that forgot the tenant would hit both,
// since both start at version 1).
func testSameIDTwoTenants(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	a := e.create(tenantA)
	b := e.create(tenantB, func(d *incident.Data) { d.ID = a.ID })
	next := retitle(b, "tenant B's own title")
	require.NoError(t, e.repo.Update(ctx, next))
	got, err := e.repo.Get(ctx, tenantA, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, got, "tenant A's record is untouched")
	got, err = e.repo.Get(ctx, tenantB, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "tenant B's own title", got.Title)

	tr, ok := e.store.(storage.Transactor)
	if !ok {
		return
	}
	// A rolled-back create of a child leaves no trace in the children index.
	boom := errors.New("roll back")
	err = tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		child := e.data(tenantA)
		child.Parent = a.ID
		require.NoError(t, tx.Incidents().Create(ctx, child))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, collect(t, e.repo, tenantA, incident.Filter{Parent: a.ID}, 0))
}

// collections sets every list and map of d, the SLA timers' included, to
// nil or to an empty non-nil value.
func collections(d *incident.Data, empty bool) {
	if !empty {
		d.CIs, d.ImpactedServices, d.Custom, d.Comments = nil, nil, nil, nil
		d.History[0].Changes = nil
		d.SLA.Previous = nil
		for i := range d.SLA.Timers {
			tm := &d.SLA.Timers[i]
			tm.Marks, tm.Segments, tm.Changes = nil, nil, nil
		}
		return
	}
	d.CIs, d.ImpactedServices = []itsm.Ref{}, []itsm.Ref{}
	d.Custom, d.Comments = map[string]string{}, []incident.Comment{}
	d.History[0].Changes = []incident.FieldChange{}
	d.SLA.Previous = map[string]string{}
	for i := range d.SLA.Timers {
		tm := &d.SLA.Timers[i]
		tm.Marks, tm.Segments, tm.Changes = []sla.Mark{}, []sla.Segment{}, []sla.Change{}
	}
}

// testCollectionsAsGiven checks that a store keeps nil lists and maps nil
// and empty ones empty, open or closed (a store may keep the two kinds
// differently), through Create, Update, Get and List: a store stores what
// it is given exactly.
func testCollectionsAsGiven(t *testing.T, open Opener) {
	eng := engine(t)
	records := []struct {
		name string
		// make returns the record to store, before its collections are set.
		make func(e *env) incident.Data
	}{
		{"open, without timers", func(e *env) incident.Data {
			d := e.data(tenantA)
			d.SLA = sla.State{Record: d.ID.Ref(), AsOf: d.OpenedAt, Timers: []sla.Timer{}}
			return d
		}},
		{"open, without a timer list", func(e *env) incident.Data {
			d := e.data(tenantA)
			d.SLA = sla.State{Record: d.ID.Ref(), AsOf: d.OpenedAt}
			return d
		}},
		{"closed, with timers", func(e *env) incident.Data { return e.richRecords(tenantA, eng)[0] }},
		{"open, with timers", func(e *env) incident.Data { return e.richRecords(tenantA, eng)[3] }},
	}
	ctx := context.Background()
	for _, rec := range records {
		for _, empty := range []bool{false, true} {
			name := rec.name + "/nil"
			if empty {
				name = rec.name + "/empty"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, open)
				d := rec.make(e)
				collections(&d, empty)
				require.NoError(t, e.repo.Create(ctx, d))
				want := withVersion(d, 1)
				e.present(want)
				got, err := e.repo.GetByNumber(ctx, tenantA, d.Number)
				require.NoError(t, err)
				assert.Equal(t, want, got, "GetByNumber")
				page, err := e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{})
				require.NoError(t, err)
				assert.Equal(t, []incident.Data{want}, page.Items, "List")

				next := want.Clone()
				next.Title = "Renamed"
				collections(&next, !empty)
				require.NoError(t, e.repo.Update(ctx, next))
				e.present(withVersion(next, 2))
				next = withVersion(next, 2)
				collections(&next, empty)
				require.NoError(t, e.repo.Update(ctx, next))
				e.present(withVersion(next, 3))
			})
		}
	}
}
