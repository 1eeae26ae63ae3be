package storagetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

func runIncidents(t *testing.T, open Opener) {
	t.Run("round trip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("create refuses", func(t *testing.T) { testCreateRefuses(t, open) })
	t.Run("missing", func(t *testing.T) { testMissing(t, open) })
	t.Run("update refuses", func(t *testing.T) { testUpdateRefuses(t, open) })
	t.Run("concurrent writers", func(t *testing.T) { testConcurrentWriters(t, open) })
	t.Run("no aliasing", func(t *testing.T) { testNoAliasing(t, open) })
	t.Run("list", func(t *testing.T) { testList(t, open) })
	t.Run("list under concurrent writes", func(t *testing.T) { testListUnderWrites(t, open) })
	t.Run("who, what and when filters", func(t *testing.T) { testWhoWhatWhenFilters(t, open) })
	t.Run("filter bounds", func(t *testing.T) { testFilterBounds(t, open) })
	t.Run("zones whose offset has seconds", func(t *testing.T) { testSecondsOffsetZones(t, open) })
	t.Run("bad filters", func(t *testing.T) { testBadFilters(t, open) })
	t.Run("children follow updates", func(t *testing.T) { testChildrenFollowUpdates(t, open) })
	t.Run("rich records", func(t *testing.T) { testRichRecords(t, open) })
	t.Run("nil and empty collections", func(t *testing.T) { testCollectionsAsGiven(t, open) })
	t.Run("SLA filters", func(t *testing.T) { testSLAFilters(t, open) })
	t.Run("same ID in two tenants", func(t *testing.T) { testSameIDTwoTenants(t, open) })
	t.Run("cancelled context", func(t *testing.T) { testCancelled(t, open) })
	t.Run("tenant isolation", func(t *testing.T) { testTenantIsolation(t, open) })
	t.Run("bad reads", func(t *testing.T) { testBadReads(t, open) })
	t.Run("text a database may refuse", func(t *testing.T) { testUnstorableText(t, open) })
	t.Run("lookups with text no record can hold", func(t *testing.T) { testUnstorableLookups(t, open) })
}

func testRoundTrip(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	d := e.data(tenantA)
	realistic(t, d)
	require.NoError(t, e.repo.Create(ctx, d))

	want := d.Clone()
	want.Version = 1
	got, err := e.repo.Get(ctx, tenantA, d.ID)
	require.NoError(t, err)
	assert.Equal(t, want, got, "Get returns what Create stored, at version 1")
	realistic(t, got)
	got, err = e.repo.GetByNumber(ctx, tenantA, d.Number)
	require.NoError(t, err)
	assert.Equal(t, want, got, "GetByNumber returns the same record")

	next := assign(got, "network", "bob")
	realistic(t, next)
	require.NoError(t, e.repo.Update(ctx, next))
	want = next.Clone()
	want.Version = 2
	got, err = e.repo.Get(ctx, tenantA, d.ID)
	require.NoError(t, err)
	assert.Equal(t, want, got, "Update stores the record at version+1")
	realistic(t, got)
}

func testCreateRefuses(t *testing.T, open Opener) {
	tests := []struct {
		name string
		// change turns a fresh incident into the one to create, given one
		// already stored in tenant A.
		change func(e *env, d *incident.Data, stored incident.Data)
		// field is the field a *itsm.ValidationError must name; empty
		// when want is another error.
		field string
		want  error
	}{
		{"same ID in the tenant", func(_ *env, d *incident.Data, s incident.Data) { d.ID = s.ID }, "", itsm.ErrAlreadyExists},
		{"same number in the tenant", func(_ *env, d *incident.Data, s incident.Data) { d.Number = s.Number }, "", itsm.ErrAlreadyExists},
		{"same number in another tenant", func(_ *env, d *incident.Data, s incident.Data) { d.Tenant, d.Number = tenantB, s.Number }, "", nil},
		{"same ID in another tenant", func(_ *env, d *incident.Data, s incident.Data) { d.Tenant, d.ID = tenantB, s.ID }, "", nil},
		{"zero ID", func(_ *env, d *incident.Data, _ incident.Data) { d.ID = incident.ID{} }, "id", itsm.ErrInvalid},
		{"no tenant", func(_ *env, d *incident.Data, _ incident.Data) { d.Tenant = "" }, "tenant", itsm.ErrInvalid},
		{"malformed tenant", func(_ *env, d *incident.Data, _ incident.Data) { d.Tenant = "acme corp" }, "tenant", itsm.ErrInvalid},
		{"no number", func(_ *env, d *incident.Data, _ incident.Data) { d.Number = "" }, "number", itsm.ErrInvalid},
		{"version set", func(_ *env, d *incident.Data, _ incident.Data) { d.Version = 1 }, "version", itsm.ErrInvalid},
		{"negative version", func(_ *env, d *incident.Data, _ incident.Data) { d.Version = -1 }, "version", itsm.ErrInvalid},
		{"priority beyond 32 bits", func(_ *env, d *incident.Data, _ incident.Data) { d.Priority = math.MaxInt32 + 1 }, "priority", itsm.ErrInvalid},
		{"priority below 32 bits", func(_ *env, d *incident.Data, _ incident.Data) { d.Priority = math.MinInt32 - 1 }, "priority", itsm.ErrInvalid},
		{"priority at the 32-bit bounds", func(_ *env, d *incident.Data, _ incident.Data) { d.Priority = math.MaxInt32 }, "", nil},
		// Instants outside the years every store keeps (itsm.InstantInRange):
		// year 10000 is beyond what JSON holds, year 9000 what every store
		// refuses alike, 1899 before it.
		{"opened in year 10000", func(_ *env, d *incident.Data, _ incident.Data) { d.OpenedAt = yearAt(10000) }, "opened_at", itsm.ErrInvalid},
		{"updated in year 9000", func(_ *env, d *incident.Data, _ incident.Data) { d.UpdatedAt = yearAt(9000) }, "updated_at", itsm.ErrInvalid},
		{"opened in 1899", func(_ *env, d *incident.Data, _ incident.Data) { d.OpenedAt = yearAt(1899) }, "opened_at", itsm.ErrInvalid},
		{"a history entry in year 10000", func(_ *env, d *incident.Data, _ incident.Data) { d.History[0].At = yearAt(10000) }, "history[0].at", itsm.ErrInvalid},
		{"a comment in year 9000", func(_ *env, d *incident.Data, _ incident.Data) { d.Comments[0].At = yearAt(9000) }, "comments[0].at", itsm.ErrInvalid},
		{"a review in year 10000", func(_ *env, d *incident.Data, _ incident.Data) { d.Major.ReviewedAt = yearAt(10000) }, "major.reviewed_at", itsm.ErrInvalid},
		{"instants at the years' bounds", func(_ *env, d *incident.Data, _ incident.Data) {
			first := time.Date(itsm.MinInstantYear, 1, 1, 0, 0, 0, 0, time.UTC)
			last := time.Date(itsm.MaxInstantYear, 12, 31, 23, 59, 59, 999999000, time.UTC)
			d.OpenedAt, d.History[0].At, d.Comments[0].At, d.UpdatedAt = first, first, first, last
		}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, open)
			ctx := context.Background()
			stored := e.create(tenantA)
			d := e.data(tenantA)
			tc.change(e, &d, stored)
			err := e.repo.Create(ctx, d)
			switch {
			case tc.want == nil:
				require.NoError(t, err)
				got, err := e.repo.Get(ctx, d.Tenant, d.ID)
				require.NoError(t, err)
				assert.Equal(t, d.Number, got.Number)
			case tc.field != "":
				validationField(t, err, tc.field)
			default:
				require.ErrorIs(t, err, tc.want)
			}
			if tc.want != nil {
				// Nothing of the refused incident was written.
				if !d.ID.IsZero() && d.ID != stored.ID && d.Tenant.Validate() == nil {
					_, err := e.repo.Get(ctx, d.Tenant, d.ID)
					require.ErrorIs(t, err, itsm.ErrNotFound)
				}
				if d.Number != "" && d.Number != stored.Number && d.Tenant.Validate() == nil {
					_, err := e.repo.GetByNumber(ctx, d.Tenant, d.Number)
					require.ErrorIs(t, err, itsm.ErrNotFound)
				}
			}
			got, err := e.repo.Get(ctx, tenantA, stored.ID)
			require.NoError(t, err)
			assert.Equal(t, stored, got, "the stored incident is untouched")
		})
	}
}

func testMissing(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	e.create(tenantA)
	absent := e.data(tenantA)

	_, err := e.repo.Get(ctx, tenantA, absent.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	_, err = e.repo.GetByNumber(ctx, tenantA, absent.Number)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	_, err = e.repo.Get(ctx, "nobody", absent.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "a tenant with nothing stored")

	absent.Version = 1
	require.ErrorIs(t, e.repo.Update(ctx, absent), itsm.ErrNotFound)
	_, err = e.repo.Get(ctx, tenantA, absent.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "Update never creates")
}

func testUpdateRefuses(t *testing.T, open Opener) {
	tests := []struct {
		name string
		// change turns the stored version-2 incident into the update to
		// try; read is the version-1 copy read before.
		change func(d *incident.Data, read incident.Data)
		field  string
		want   error
	}{
		{"stale version", func(d *incident.Data, read incident.Data) { *d = retitle(read, "stale") }, "", itsm.ErrConflict},
		{"version from the future", func(d *incident.Data, _ incident.Data) { *d = retitle(*d, "future"); d.Version = 7 }, "", itsm.ErrConflict},
		{"version 0", func(d *incident.Data, _ incident.Data) { d.Version = 0 }, "version", itsm.ErrInvalid},
		{"number changed", func(d *incident.Data, _ incident.Data) { d.Number = "INC7777777" }, "number", itsm.ErrInvalid},
		{"zero ID", func(d *incident.Data, _ incident.Data) { d.ID = incident.ID{} }, "id", itsm.ErrInvalid},
		{"no tenant", func(d *incident.Data, _ incident.Data) { d.Tenant = "" }, "tenant", itsm.ErrInvalid},
		{"priority beyond 32 bits", func(d *incident.Data, _ incident.Data) { d.Priority = math.MaxInt32 + 1 }, "priority", itsm.ErrInvalid},
		{"updated in year 10000", func(d *incident.Data, _ incident.Data) { d.UpdatedAt = yearAt(10000) }, "updated_at", itsm.ErrInvalid},
		{"resolved in year 9000", func(d *incident.Data, _ incident.Data) { d.ResolvedAt = yearAt(9000) }, "resolved_at", itsm.ErrInvalid},
		{"a new history entry in year 10000", func(d *incident.Data, _ incident.Data) { d.History[len(d.History)-1].At = yearAt(10000) }, "history[1].at", itsm.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, open)
			ctx := context.Background()
			read := e.create(tenantA)
			v2 := assign(read, "network", "bob")
			require.NoError(t, e.repo.Update(ctx, v2))
			v2.Version = 2

			d := v2.Clone()
			tc.change(&d, read)
			err := e.repo.Update(ctx, d)
			if tc.field != "" {
				validationField(t, err, tc.field)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			got, err := e.repo.Get(ctx, tenantA, read.ID)
			require.NoError(t, err)
			assert.Equal(t, v2, got, "a refused update writes nothing")
		})
	}
}

func testConcurrentWriters(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	read := e.create(tenantA)

	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			d := retitle(read, fmt.Sprintf("writer %d", i))
			<-start
			errs[i] = e.repo.Update(ctx, d)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "writers %d and %d both won", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, itsm.ErrConflict, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "exactly one writer wins")
	got, err := e.repo.Get(ctx, tenantA, read.ID)
	require.NoError(t, err)
	want := retitle(read, fmt.Sprintf("writer %d", winner))
	want.Version = 2
	assert.Equal(t, want, got, "the winner's write is stored whole")
}

// mutate changes every reference-typed part of d in place.
func mutate(d *incident.Data) {
	d.Title = "mutated"
	if len(d.CIs) > 0 {
		d.CIs[0].Kind = "mutated"
	}
	for k := range d.Custom {
		d.Custom[k] = "mutated"
	}
	d.Custom["added"] = "mutated"
	if len(d.Comments) > 0 {
		d.Comments[0].Text = "mutated"
	}
	if len(d.History) > 0 {
		d.History[0].Command = "mutated"
		if len(d.History[0].Changes) > 0 {
			d.History[0].Changes[0].To = "mutated"
		}
	}
	if d.Override != nil {
		d.Override.Reason = "mutated"
	}
	if d.Cancellation != nil {
		d.Cancellation.Notes = "mutated"
	}
	for k := range d.SLA.Previous {
		d.SLA.Previous[k] = "mutated"
	}
	for i := range d.SLA.Timers {
		tm := &d.SLA.Timers[i]
		tm.Metric = "mutated"
		if len(tm.Segments) > 0 {
			tm.Segments[0].Kind = "mutated"
		}
		if len(tm.Marks) > 0 {
			tm.Marks[0].Threshold = "mutated"
		}
		if len(tm.Changes) > 0 {
			tm.Changes[0].To = "mutated"
		}
	}
}

func testNoAliasing(t *testing.T, open Opener) {
	ctx := context.Background()
	type aliasCase struct {
		name string
		// act stores or reads the incident and mutates what it passed or
		// got; it returns the incident as it must still be stored.
		act func(t *testing.T, e *env) incident.Data
	}
	tests := []aliasCase{
		{"what Create was given", func(t *testing.T, e *env) incident.Data {
			d := e.data(tenantA)
			d.Override = &incident.Override{Priority: 1, Derived: 3, Reason: "VIP", By: agent, At: d.OpenedAt}
			d.Priority = 1
			want := d.Clone()
			want.Version = 1
			require.NoError(t, e.repo.Create(ctx, d))
			mutate(&d)
			return want
		}},
		{"what Get returned", func(t *testing.T, e *env) incident.Data {
			want := e.create(tenantA)
			got, err := e.repo.Get(ctx, tenantA, want.ID)
			require.NoError(t, err)
			mutate(&got)
			return want
		}},
		{"what GetByNumber returned", func(t *testing.T, e *env) incident.Data {
			want := e.create(tenantA)
			got, err := e.repo.GetByNumber(ctx, tenantA, want.Number)
			require.NoError(t, err)
			mutate(&got)
			return want
		}},
		{"what Update was given", func(t *testing.T, e *env) incident.Data {
			d := assign(e.create(tenantA), "network", "bob")
			want := d.Clone()
			want.Version = 2
			require.NoError(t, e.repo.Update(ctx, d))
			mutate(&d)
			return want
		}},
		{"what List returned", func(t *testing.T, e *env) incident.Data {
			want := e.create(tenantA)
			page, err := e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			mutate(&page.Items[0])
			return want
		}},
	}
	// A store may keep finished incidents differently from open ones
	// (the memory store keeps them encoded): the same holds for them.
	eng := engine(t)
	for _, done := range []struct {
		name string
		// pick chooses a finished record among the rich ones.
		pick int
	}{{"closed", 0}, {"canceled", 2}} {
		tests = append(tests,
			aliasCase{"what Create was given, " + done.name, func(t *testing.T, e *env) incident.Data {
				d := e.richRecords(tenantA, eng)[done.pick]
				want := withVersion(d, 1)
				require.NoError(t, e.repo.Create(ctx, d))
				mutate(&d)
				return want
			}},
			aliasCase{"what Get returned, " + done.name, func(t *testing.T, e *env) incident.Data {
				d := e.richRecords(tenantA, eng)[done.pick]
				require.NoError(t, e.repo.Create(ctx, d))
				want := withVersion(d, 1)
				got, err := e.repo.Get(ctx, tenantA, d.ID)
				require.NoError(t, err)
				mutate(&got)
				got, err = e.repo.GetByNumber(ctx, tenantA, d.Number)
				require.NoError(t, err)
				mutate(&got)
				page, err := e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{})
				require.NoError(t, err)
				require.Len(t, page.Items, 1)
				mutate(&page.Items[0])
				return want
			}},
			aliasCase{"what Update was given, " + done.name, func(t *testing.T, e *env) incident.Data {
				d := e.richRecords(tenantA, eng)[done.pick]
				require.NoError(t, e.repo.Create(ctx, d))
				next := retitle(withVersion(d, 1), "Renamed when done")
				want := withVersion(next, 2)
				require.NoError(t, e.repo.Update(ctx, next))
				mutate(&next)
				return want
			}},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, open)
			want := tc.act(t, e)
			got, err := e.repo.Get(ctx, tenantA, want.ID)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// resolve moves d to resolved at its last instant plus a minute.
func resolve(d incident.Data) incident.Data {
	d = d.Clone()
	at := d.UpdatedAt.Add(time.Minute)
	d.History = append(d.History, incident.Entry{
		Seq: len(d.History) + 1, At: at, By: agent, Command: "resolve",
		From: d.Status, To: incident.StatusResolved,
	})
	d.Status = incident.StatusResolved
	d.Resolution = incident.Resolution{Code: incident.ResolvedWorkaround, Notes: "Restarted the relay."}
	d.ResolvedAt = at
	d.UpdatedAt = at
	return d
}

// collect pages through a listing and returns every item, failing the test
// on a page that breaks the rules of pagination.
// matching returns the incidents of all that f matches, in order.
func matching(all []incident.Data, f incident.Filter) []incident.Data {
	var want []incident.Data
	for i := range all {
		if f.Matches(&all[i]) {
			want = append(want, all[i])
		}
	}
	return want
}

// listsAsMatches checks, in a subtest per page limit, that listing tenant
// A's incidents with f in pages of that limit gives exactly want: each
// matching incident once, in order, whole.
func listsAsMatches(t *testing.T, repo incident.Repository, name string, f incident.Filter, want []incident.Data, limits ...int) {
	t.Helper()
	for _, limit := range limits {
		t.Run(fmt.Sprintf("%s/limit=%d", name, limit), func(t *testing.T) {
			got := collect(t, repo, tenantA, f, limit)
			if len(want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, ids(want), ids(got), "matching incidents, by ID, each once")
			assert.Equal(t, want, got, "whole records")
		})
	}
}

func collect(t *testing.T, repo incident.Repository, tenant itsm.TenantID, f incident.Filter, limit int) []incident.Data {
	t.Helper()
	var all []incident.Data
	var after incident.ID
	want := limit
	if want == 0 {
		want = incident.DefaultPageLimit
	}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "pagination does not end")
		page, err := repo.List(context.Background(), tenant, f, incident.Page{After: after, Limit: limit})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Items), want, "a page holds at most the limit")
		all = append(all, page.Items...)
		if page.Next.IsZero() {
			return all
		}
		require.Len(t, page.Items, want, "only the last page may be short")
		require.Equal(t, page.Items[len(page.Items)-1].ID, page.Next, "Next is the last ID of the page")
		after = page.Next
	}
}

func ids(ds []incident.Data) []incident.ID {
	out := make([]incident.ID, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func testList(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	groups := []string{"service-desk", "network", "database"}
	var all []incident.Data // tenant A as stored
	var parent incident.ID
	for i := range 60 {
		d := e.create(tenantA, func(d *incident.Data) {
			d.Group = groups[i%3]
			// The default matrix's diagonal: 1/1 is 1, 2/2 is 3, 3/3 is 5.
			d.Impact = itsm.Impact(1 + i%3)
			d.Urgency = itsm.Urgency(1 + i%3)
			d.Priority = []itsm.Priority{1, 3, 5}[i%3]
			if i%5 == 1 {
				d.Parent = parent
			}
		})
		if i == 0 {
			parent = d.ID
		}
		if i%4 == 1 {
			next := assign(d, d.Group, []string{"bob", "eve"}[i%2])
			if i%8 == 1 {
				next = resolve(next)
			}
			require.NoError(t, e.repo.Update(ctx, next))
			next.Version = 2
			d = next
		}
		realistic(t, d)
		all = append(all, d)
	}
	for range 10 {
		e.create(tenantB, func(d *incident.Data) { d.Group = "network" })
	}
	slices.SortFunc(all, func(a, b incident.Data) int { return a.ID.Compare(b.ID) })
	cut := all[30].ResolvedAt
	if cut.IsZero() {
		cut = base.Add(24 * time.Hour)
	}

	filters := []struct {
		name string
		f    incident.Filter
	}{
		{"everything", incident.Filter{}},
		{"group", incident.Filter{Group: "network"}},
		{"statuses", incident.Filter{Statuses: []incident.Status{incident.StatusInProgress, incident.StatusResolved}}},
		{"priorities", incident.Filter{Priorities: []itsm.Priority{1, 5}}},
		{"assignee", incident.Filter{Assignee: "eve"}},
		{"parent", incident.Filter{Parent: parent}},
		{"major", incident.Filter{Major: []incident.MajorStatus{incident.MajorNone}}},
		{"major none matching", incident.Filter{Major: []incident.MajorStatus{incident.MajorAccepted}}},
		{"resolved before", incident.Filter{ResolvedBefore: cut}},
		{"all at once", incident.Filter{Group: "network", Statuses: []incident.Status{incident.StatusInProgress}, Assignee: "eve"}},
	}
	for _, fc := range filters {
		want := matching(all, fc.f)
		listsAsMatches(t, e.repo, fc.name, fc.f, want, 1, 7, 0, incident.MaxPageLimit)
	}

	t.Run("cursor between IDs", func(t *testing.T) {
		// A cursor need not be a stored ID: the page starts after it.
		page, err := e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{After: e.newID()})
		require.NoError(t, err)
		assert.Empty(t, page.Items, "every stored ID is smaller than a fresh one")
		assert.True(t, page.Next.IsZero())
		page, err = e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{After: all[9].ID, Limit: 3})
		require.NoError(t, err)
		assert.Equal(t, ids(all[10:13]), ids(page.Items))
	})
	t.Run("empty tenant", func(t *testing.T) {
		page, err := e.repo.List(ctx, "nobody", incident.Filter{}, incident.Page{})
		require.NoError(t, err)
		assert.Empty(t, page.Items)
		assert.True(t, page.Next.IsZero())
	})
	for _, limit := range []int{-1, incident.MaxPageLimit + 1} {
		t.Run(fmt.Sprintf("limit %d refused", limit), func(t *testing.T) {
			_, err := e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{Limit: limit})
			validationField(t, err, "page.limit")
		})
	}
}

func testListUnderWrites(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	const seeded, workers = 120, 4
	alpha := incident.Filter{Group: "alpha"}
	var seed []incident.Data
	want := map[incident.ID]bool{}
	for i := range seeded {
		d := e.create(tenantA, func(d *incident.Data) { d.Group = []string{"alpha", "beta"}[i%2] })
		seed = append(seed, d)
		if alpha.Matches(&d) {
			want[d.ID] = true
		}
	}

	// Writers add incidents of both groups to both tenants and rewrite
	// the seeded ones without changing whether they match.
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < seeded; i += workers {
				d, err := e.repo.Get(ctx, tenantA, seed[i].ID)
				if !assert.NoError(t, err) {
					return
				}
				if !assert.NoError(t, e.repo.Update(ctx, retitle(d, fmt.Sprintf("rewritten by %d", w)))) {
					return
				}
				group := []string{"alpha", "beta"}[i%2]
				tenant := []itsm.TenantID{tenantA, tenantB}[i%3%2]
				nd := e.data(tenant)
				nd.Group = group
				if !assert.NoError(t, e.repo.Create(ctx, nd)) {
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	check := func(got []incident.Data) {
		t.Helper()
		seen := map[incident.ID]bool{}
		for i, d := range got {
			require.False(t, seen[d.ID], "incident %s listed twice", d.ID)
			seen[d.ID] = true
			require.Equal(t, tenantA, d.Tenant)
			require.True(t, alpha.Matches(&d), "incident %s does not match the filter", d.ID)
			if i > 0 {
				require.Negative(t, got[i-1].ID.Compare(d.ID), "pages are ordered by ID")
			}
		}
		for id := range want {
			require.True(t, seen[id], "incident %s existed throughout but was skipped", id)
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more pass after the writers stop
		default:
		}
		check(collect(t, e.repo, tenantA, alpha, 7))
	}
}

func testCancelled(t *testing.T, open Opener) {
	deadline, stop := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer stop()
	contexts := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled(), context.Canceled},
		{"past its deadline", deadline, context.DeadlineExceeded},
	}
	ops := []struct {
		name string
		// op runs one call with ctx on a store holding stored; it returns
		// the call's error.
		op func(ctx context.Context, e *env, stored incident.Data) error
	}{
		{"Create", func(ctx context.Context, e *env, _ incident.Data) error {
			d := e.data(tenantA)
			err := e.repo.Create(ctx, d)
			_, gerr := e.repo.Get(context.Background(), tenantA, d.ID)
			require.ErrorIs(e.t, gerr, itsm.ErrNotFound, "nothing was created")
			return err
		}},
		{"Get", func(ctx context.Context, e *env, s incident.Data) error {
			_, err := e.repo.Get(ctx, tenantA, s.ID)
			return err
		}},
		{"GetByNumber", func(ctx context.Context, e *env, s incident.Data) error {
			_, err := e.repo.GetByNumber(ctx, tenantA, s.Number)
			return err
		}},
		{"Update", func(ctx context.Context, e *env, s incident.Data) error {
			return e.repo.Update(ctx, retitle(s, "never stored"))
		}},
		{"List", func(ctx context.Context, e *env, _ incident.Data) error {
			_, err := e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{})
			return err
		}},
	}
	for _, c := range contexts {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				e := newEnv(t, open)
				stored := e.create(tenantA)
				err := op.op(c.ctx, e, stored)
				require.ErrorIs(t, err, c.want)
				got, gerr := e.repo.Get(context.Background(), tenantA, stored.ID)
				require.NoError(t, gerr)
				assert.Equal(t, stored, got, "nothing was written")
			})
		}
	}
}

func testTenantIsolation(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	a := e.create(tenantA)

	_, err := e.repo.Get(ctx, tenantB, a.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "Get from another tenant")
	_, err = e.repo.GetByNumber(ctx, tenantB, a.Number)
	require.ErrorIs(t, err, itsm.ErrNotFound, "GetByNumber from another tenant")
	foreign := retitle(a, "written by another tenant")
	foreign.Tenant = tenantB
	require.ErrorIs(t, e.repo.Update(ctx, foreign), itsm.ErrNotFound, "Update from another tenant")
	page, err := e.repo.List(ctx, tenantB, incident.Filter{}, incident.Page{})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "List of another tenant")

	// Another tenant's record with the same number stays apart.
	b := e.create(tenantB, func(d *incident.Data) { d.Number = a.Number })
	got, err := e.repo.GetByNumber(ctx, tenantA, a.Number)
	require.NoError(t, err)
	assert.Equal(t, a, got, "tenant A's record is untouched")
	got, err = e.repo.GetByNumber(ctx, tenantB, a.Number)
	require.NoError(t, err)
	assert.Equal(t, b, got)
	page, err = e.repo.List(ctx, tenantA, incident.Filter{}, incident.Page{})
	require.NoError(t, err)
	assert.Equal(t, []incident.Data{a}, page.Items)
}

func testBadReads(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	stored := e.create(tenantA)
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"Get without tenant", func() error { _, err := e.repo.Get(ctx, "", stored.ID); return err }, "tenant"},
		{"Get with the zero ID", func() error { _, err := e.repo.Get(ctx, tenantA, incident.ID{}); return err }, "id"},
		{"GetByNumber without number", func() error { _, err := e.repo.GetByNumber(ctx, tenantA, ""); return err }, "number"},
		{"GetByNumber with a malformed tenant", func() error { _, err := e.repo.GetByNumber(ctx, "a/b", stored.Number); return err }, "tenant"},
		{"List without tenant", func() error {
			_, err := e.repo.List(ctx, "", incident.Filter{}, incident.Page{})
			return err
		}, "tenant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			validationField(t, err, tc.field)
			assert.False(t, errors.Is(err, itsm.ErrNotFound), "bad input is not a missing record")
		})
	}
}

// testChildrenFollowUpdates checks that listing a parent's children sees
// links made, moved and removed by updates, and none that a rolled-back
// transaction made.
func testChildrenFollowUpdates(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	p1, p2 := e.create(tenantA), e.create(tenantA)
	kid := e.create(tenantA)
	children := func(parent incident.ID) []incident.ID {
		return ids(collect(t, e.repo, tenantA, incident.Filter{Parent: parent}, 0))
	}
	update := func(d incident.Data, parent incident.ID) incident.Data {
		d.Parent = parent
		require.NoError(t, e.repo.Update(ctx, d))
		d.Version++
		return d
	}
	kid = update(kid, p1.ID)
	assert.Equal(t, []incident.ID{kid.ID}, children(p1.ID))
	kid = update(kid, p2.ID)
	assert.Empty(t, children(p1.ID), "moved away")
	assert.Equal(t, []incident.ID{kid.ID}, children(p2.ID))
	kid = update(kid, incident.ID{})
	assert.Empty(t, children(p2.ID), "unlinked")

	tr, ok := e.store.(storage.Transactor)
	if !ok {
		return
	}
	boom := errors.New("roll back")
	err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		d := kid
		d.Parent = p1.ID
		require.NoError(t, tx.Incidents().Update(ctx, d))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, children(p1.ID), "a rolled-back link is not listed")
}

// testUnstorableText checks what a store does with text that PostgreSQL
// cannot hold (a NUL byte, invalid UTF-8): it either stores it exactly, as
// the memory store does, or refuses the write with a *itsm.ValidationError
// naming the field and writes nothing. It never stores a changed value.
// The service itself never produces such text.
func testUnstorableText(t *testing.T, open Opener) {
	tests := []struct {
		name  string
		field string
		bad   func(d *incident.Data)
	}{
		{"NUL in the title", "title", func(d *incident.Data) { d.Title = "printer\x00 jam" }},
		{"invalid UTF-8 in the title", "title", func(d *incident.Data) { d.Title = "caf\xe9" }},
		{"NUL in a custom value", "custom.site", func(d *incident.Data) { d.Custom["site"] = "ly\x00on" }},
		{"invalid UTF-8 in a comment", "comments[0].text", func(d *incident.Data) { d.Comments[0].Text = "\xff\xfe" }},
		{"NUL in a history change", "history[0].changes[0].to", func(d *incident.Data) { d.History[0].Changes[0].To = "\x00" }},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name+"/create", func(t *testing.T) {
			e := newEnv(t, open)
			d := e.data(tenantA)
			tc.bad(&d)
			err := e.repo.Create(ctx, d)
			if err != nil {
				validationField(t, err, tc.field)
				e.absent(d)
				return
			}
			want := d.Clone()
			want.Version = 1
			e.present(want)
		})
		t.Run(tc.name+"/update", func(t *testing.T) {
			e := newEnv(t, open)
			stored := e.create(tenantA)
			d := stored.Clone()
			tc.bad(&d)
			err := e.repo.Update(ctx, d)
			if err != nil {
				validationField(t, err, tc.field)
				e.present(stored)
				return
			}
			want := d.Clone()
			want.Version = 2
			e.present(want)
		})
	}
}

// testUnstorableLookups checks reads by text that a store may refuse to
// store (a NUL byte, invalid UTF-8). Whether a store keeps such text or
// not, a lookup by it is no bad input: it names no record, or only
// records holding that very text. GetByNumber says itsm.ErrNotFound, and
// a filter value matches what Filter.Matches says, so a list filtering on
// such a value alone is an empty page. Inside a transaction such a lookup
// leaves the transaction usable.
func testUnstorableLookups(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	stored := e.create(tenantA)
	bad := []string{"INC\x00", "INC\xff", "\xc3\x28"}
	lookups := func(t *testing.T, ctx context.Context, repo incident.Repository) {
		for _, text := range bad {
			_, err := repo.GetByNumber(ctx, tenantA, incident.Number(text))
			require.ErrorIs(t, err, itsm.ErrNotFound, "GetByNumber(%q)", text)
			for _, f := range []incident.Filter{
				{Group: text},
				{Assignee: text},
				{Caller: text},
				{Category: text},
				{Statuses: []incident.Status{incident.Status(text)}},
				{Major: []incident.MajorStatus{incident.MajorStatus(text)}},
			} {
				page, err := repo.List(ctx, tenantA, f, incident.Page{})
				require.NoError(t, err, "List(%+v)", f)
				assert.Empty(t, page.Items, "List(%+v)", f)
				assert.True(t, page.Next.IsZero())
			}
			page, err := repo.List(ctx, tenantA, incident.Filter{Statuses: []incident.Status{incident.Status(text), stored.Status}}, incident.Page{})
			require.NoError(t, err)
			assert.Equal(t, []incident.ID{stored.ID}, ids(page.Items), "the other statuses of the list still match")
			page, err = repo.List(ctx, tenantA, incident.Filter{Major: []incident.MajorStatus{incident.MajorStatus(text), stored.Major.Status}}, incident.Page{})
			require.NoError(t, err)
			assert.Equal(t, []incident.ID{stored.ID}, ids(page.Items), "the other major statuses of the list still match")
		}
	}
	t.Run("on their own", func(t *testing.T) { lookups(t, ctx, e.repo) })
	tr, ok := e.store.(storage.Transactor)
	if !ok {
		return
	}
	t.Run("inside a transaction", func(t *testing.T) {
		d := e.data(tenantA)
		err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			lookups(t, ctx, tx.Incidents())
			lookups(t, ctx, e.repo)
			return tx.Incidents().Create(ctx, d)
		})
		require.NoError(t, err, "the transaction stays usable")
		e.present(withVersion(d, 1))
	})
}

// yearAt is noon UTC on the first of June of year y.
func yearAt(y int) time.Time { return time.Date(y, 6, 1, 12, 0, 0, 0, time.UTC) }

// whoWhatWhen stores incidents of several callers, categories and services
// over several days in tenant A, some of them updated later, and a few in
// tenant B with the same values; it returns tenant A's as stored, in ID
// order, and the two services used.
func whoWhatWhen(t *testing.T, e *env) ([]incident.Data, [2]itsm.Ref) {
	ctx := context.Background()
	services := [2]itsm.Ref{{Kind: itsm.KindService, ID: e.uuid()}, {Kind: itsm.KindService, ID: e.uuid()}}
	fill := func(d *incident.Data, i int) {
		d.Caller = []string{"ana", "bob", "carol"}[i%3]
		d.Category = []string{"email", "network", "", "hardware"}[i%4]
		d.Service = []itsm.Ref{services[0], services[1], {}}[i%5%3]
		// One incident every seven hours, from base on.
		at := base.Add(time.Duration(i) * 7 * time.Hour)
		d.OpenedAt, d.UpdatedAt = at, at
		d.History[0].At, d.Comments[0].At = at, at
	}
	var all []incident.Data
	for i := range 36 {
		d := e.create(tenantA, func(d *incident.Data) { fill(d, i) })
		if i%3 == 0 {
			// Updated a day and a half later, and resolved for some:
			// UpdatedAt moves on, OpenedAt stays.
			next := retitle(d, "followed up")
			next.UpdatedAt = next.UpdatedAt.Add(36 * time.Hour)
			next.History[len(next.History)-1].At = next.UpdatedAt
			if i%2 == 0 {
				next = resolve(next)
			}
			require.NoError(t, e.repo.Update(ctx, next))
			d = withVersion(next, 2)
		}
		realistic(t, d)
		all = append(all, d)
	}
	for i := range 6 {
		e.create(tenantB, func(d *incident.Data) { fill(d, i) })
	}
	slices.SortFunc(all, func(a, b incident.Data) int { return a.ID.Compare(b.ID) })
	return all, services
}

// testWhoWhatWhenFilters checks the filters on who reported an incident
// (Caller), what it is about (Category, Service) and when it was opened
// or last changed (OpenedFrom, OpenedBefore, UpdatedSince), alone and
// combined, against Filter.Matches and through pages of several sizes.
func testWhoWhatWhenFilters(t *testing.T, open Opener) {
	e := newEnv(t, open)
	all, services := whoWhatWhen(t, e)
	day := func(n int) time.Time { return base.Add(time.Duration(n) * 24 * time.Hour) }
	filters := []struct {
		name string
		f    incident.Filter
		// least is the fewest incidents the filter must select, so that
		// the suite's data keeps exercising it.
		least int
	}{
		{"caller", incident.Filter{Caller: "bob"}, 12},
		{"caller nobody is", incident.Filter{Caller: "Bob"}, 0},
		{"category", incident.Filter{Category: "network"}, 9},
		{"service", incident.Filter{Service: services[1]}, 6},
		{"service of another kind with the same ID", incident.Filter{Service: itsm.Ref{Kind: itsm.KindCI, ID: services[1].ID}}, 0},
		{"opened from", incident.Filter{OpenedFrom: day(4)}, 20},
		{"opened before", incident.Filter{OpenedBefore: day(2)}, 6},
		{"opened in a period", incident.Filter{OpenedFrom: day(2), OpenedBefore: day(5)}, 10},
		{"updated since", incident.Filter{UpdatedSince: day(6)}, 10},
		{"my tickets this week", incident.Filter{Caller: "ana", OpenedFrom: day(0), OpenedBefore: day(7)}, 8},
		{"a service's open network incidents", incident.Filter{Service: services[0], Category: "network",
			Statuses: []incident.Status{incident.StatusNew}}, 1},
		{"changed since, of one caller", incident.Filter{UpdatedSince: day(3), Caller: "carol"}, 4},
		{"opened and resolved in a period", incident.Filter{OpenedFrom: day(1), OpenedBefore: day(9), ResolvedBefore: day(12)}, 2},
	}
	for _, fc := range filters {
		want := matching(all, fc.f)
		require.GreaterOrEqual(t, len(want), fc.least, "%s: the suite's data must exercise the filter", fc.name)
		listsAsMatches(t, e.repo, fc.name, fc.f, want, 1, 4, 0)
	}
}

// testFilterBounds pins the bounds of the instant filters: OpenedFrom and
// UpdatedSince include their instant, OpenedBefore and ResolvedBefore
// exclude it, SLANextBefore includes it; a bound between two
// microseconds, or in another zone, is the instant it names; a period that
// ends where or before it starts is empty; and a bound outside the years
// itsm.InstantInRange accepts (even one no database column holds) is
// compared like any other, selecting what Filter.Matches says.
func testFilterBounds(t *testing.T, open Opener) {
	e := newEnv(t, open)
	all, _ := whoWhatWhen(t, e)
	eng := engine(t)
	for _, d := range e.richRecords(tenantA, eng) {
		require.NoError(t, e.repo.Create(context.Background(), d))
		all = append(all, withVersion(d, 1))
	}
	slices.SortFunc(all, func(a, b incident.Data) int { return a.ID.Compare(b.ID) })
	// One incident's instants, taken as bounds.
	var pick incident.Data
	for _, d := range all {
		if !d.ResolvedAt.IsZero() && d.UpdatedAt.After(d.OpenedAt) {
			pick = d
			break
		}
	}
	require.False(t, pick.ID.IsZero(), "the suite's data has a resolved incident updated after it opened")
	opened, updated, resolved := pick.OpenedAt, pick.UpdatedAt, pick.ResolvedAt
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	far := []time.Time{
		time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), // just after the zero time
		yearAt(1800), yearAt(10000), yearAt(300000),
		time.Date(1_000_000_000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	type boundCase struct {
		name string
		f    incident.Filter
		// has says whether pick must be selected; nil when only agreement
		// with Filter.Matches is checked.
		has *bool
	}
	yes, no := true, false
	tests := []boundCase{
		{"opened from its instant", incident.Filter{OpenedFrom: opened}, &yes},
		{"opened from a nanosecond later", incident.Filter{OpenedFrom: opened.Add(time.Nanosecond)}, &no},
		{"opened from a nanosecond earlier", incident.Filter{OpenedFrom: opened.Add(-time.Nanosecond)}, &yes},
		{"opened before its instant", incident.Filter{OpenedBefore: opened}, &no},
		{"opened before a nanosecond later", incident.Filter{OpenedBefore: opened.Add(time.Nanosecond)}, &yes},
		{"opened in its own instant's zone shifted", incident.Filter{OpenedFrom: opened.In(zone), OpenedBefore: opened.Add(time.Microsecond).In(zone)}, &yes},
		{"updated since its instant", incident.Filter{UpdatedSince: updated}, &yes},
		{"updated since a nanosecond later", incident.Filter{UpdatedSince: updated.Add(time.Nanosecond)}, &no},
		{"updated since, in another zone", incident.Filter{UpdatedSince: updated.In(zone)}, &yes},
		{"resolved before its instant", incident.Filter{ResolvedBefore: resolved}, &no},
		{"resolved before a nanosecond later", incident.Filter{ResolvedBefore: resolved.Add(time.Nanosecond)}, &yes},
		{"an empty period", incident.Filter{OpenedFrom: opened, OpenedBefore: opened}, &no},
		{"a period that ends before it starts", incident.Filter{OpenedFrom: opened.Add(time.Hour), OpenedBefore: opened.Add(-time.Hour)}, &no},
	}
	for _, at := range far {
		y := at.Year()
		tests = append(tests,
			boundCase{fmt.Sprintf("opened from year %d", y), incident.Filter{OpenedFrom: at}, nil},
			boundCase{fmt.Sprintf("opened before year %d", y), incident.Filter{OpenedBefore: at}, nil},
			boundCase{fmt.Sprintf("updated since year %d", y), incident.Filter{UpdatedSince: at}, nil},
			boundCase{fmt.Sprintf("resolved before year %d", y), incident.Filter{ResolvedBefore: at}, nil},
			boundCase{fmt.Sprintf("SLA due by year %d", y), incident.Filter{SLANextBefore: at}, nil},
			boundCase{fmt.Sprintf("opened from year %d to a real instant", y), incident.Filter{OpenedFrom: at, OpenedBefore: opened.Add(time.Hour)}, nil},
		)
	}
	selected := map[bool]int{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []incident.ID
			for i := range all {
				if tc.f.Matches(&all[i]) {
					want = append(want, all[i].ID)
				}
			}
			if tc.has != nil {
				require.Equal(t, *tc.has, slices.Contains(want, pick.ID), "Filter.Matches itself")
			}
			selected[len(want) > 0]++
			got := ids(collect(t, e.repo, tenantA, tc.f, 5))
			if len(want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, want, got)
		})
	}
	assert.Positive(t, selected[true], "some bounds select incidents")
	assert.Positive(t, selected[false], "some select none")
}

// testBadFilters checks that a filter naming a service by an invalid
// reference is refused, naming the field, rather than matching nothing.
func testBadFilters(t *testing.T, open Opener) {
	e := newEnv(t, open)
	e.create(tenantA)
	tests := []struct {
		name    string
		service itsm.Ref
		field   string
	}{
		{"a kind without an ID", itsm.Ref{Kind: itsm.KindService}, "filter.service.id"},
		{"an ID without a kind", itsm.Ref{ID: e.uuid()}, "filter.service.kind"},
		{"a malformed kind", itsm.Ref{Kind: "Business Service", ID: e.uuid()}, "filter.service.kind"},
		{"a kind holding a NUL byte", itsm.Ref{Kind: "service\x00", ID: e.uuid()}, "filter.service.kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.repo.List(context.Background(), tenantA, incident.Filter{Service: tc.service}, incident.Page{})
			validationField(t, err, tc.field)
		})
	}
}

// testSecondsOffsetZones updates records whose every instant is in a zone
// whose UTC offset has seconds, which JSON's time format cannot write (it
// keeps whole minutes of an offset): a 59-second fixed zone, and
// Africa/Monrovia in 1960 (-0:44:30 until 1972). Each record reads back
// with every instant Equal to the one written (in any zone: instants may
// come back in UTC), and lists by its instants as Filter.Matches says.
func testSecondsOffsetZones(t *testing.T, open Opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	monrovia, err := time.LoadLocation("Africa/Monrovia")
	if err != nil {
		monrovia = time.FixedZone("MMT", -(44*60 + 30)) // the same offset, without tzdata
	}
	lmt := time.FixedZone("LMT", 59)
	var all []incident.Data
	for i, d := range e.richRecords(tenantA, engine(t)) {
		require.NoError(t, e.repo.Create(ctx, d), "record %d", i)
		next := withVersion(d, 1)
		if i%2 == 0 {
			eachInstant(&next, func(at time.Time) time.Time { return at.In(lmt) })
		} else {
			// Back to 1960, by whole seconds, keeping the record's order.
			by := time.Date(1960, 3, 1, 10, 0, 0, 0, monrovia).Sub(d.OpenedAt.Truncate(time.Second))
			eachInstant(&next, func(at time.Time) time.Time { return at.Add(by).In(monrovia) })
		}
		require.NoError(t, e.repo.Update(ctx, next), "record %d", i)
		got, err := e.repo.Get(ctx, tenantA, d.ID)
		require.NoError(t, err)
		want := withVersion(next, 2)
		inUTC := withVersion(got, 2)
		eachInstant(&want, time.Time.UTC)
		eachInstant(&inUTC, time.Time.UTC)
		require.Equal(t, want, inUTC, "record %d reads back with the instants written", i)
		all = append(all, got)
	}
	slices.SortFunc(all, func(a, b incident.Data) int { return a.ID.Compare(b.ID) })
	for i, d := range all {
		zone := d.OpenedAt.Location()
		for _, by := range []time.Duration{-time.Minute, -59 * time.Second, -30 * time.Second, -time.Second, 0,
			time.Second, 30 * time.Second, 59 * time.Second, time.Minute} {
			filters := map[string]incident.Filter{
				"opened from":   {OpenedFrom: d.OpenedAt.Add(by).In(zone)},
				"opened before": {OpenedBefore: d.OpenedAt.Add(by).In(zone)},
				"updated since": {UpdatedSince: d.UpdatedAt.Add(by).In(zone)},
			}
			if !d.ResolvedAt.IsZero() {
				filters["resolved before"] = incident.Filter{ResolvedBefore: d.ResolvedAt.Add(by).In(zone)}
			}
			if next, ok := d.SLANextAt(); ok {
				filters["SLA next before"] = incident.Filter{SLANextBefore: next.Add(by).In(zone)}
			}
			for name, f := range filters {
				listsAsMatches(t, e.repo, fmt.Sprintf("record %d/%s %v", i, name, by), f, matching(all, f), 0)
			}
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// eachInstant replaces every set instant of *d, wherever it is (the SLA
// state's included), with f's result. It finds them by reflection, so that
// an instant added to the record's types is covered without a change here.
// *d's lists must be its own (a clone's).
func eachInstant(d *incident.Data, f func(time.Time) time.Time) {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch {
		case v.Type() == timeType:
			if at := v.Interface().(time.Time); !at.IsZero() {
				v.Set(reflect.ValueOf(f(at)))
			}
		case v.Kind() == reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(d).Elem())
}
