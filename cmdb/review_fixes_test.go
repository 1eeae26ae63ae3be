package cmdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage/memory"
)

type failingRepo struct {
	cmdb.Repository
	updates, failAt int
}

func (f *failingRepo) UpdateCI(ctx context.Context, r cmdb.Record) error {
	f.updates++
	if f.updates == f.failAt {
		return errors.New("disk full")
	}
	return f.Repository.UpdateCI(ctx, r)
}

// A store that accepted two records with one native key does not stop the
// tenant's reconciliation.
func TestSnapshotToleratesARepeatedNativeKey(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	ctx := context.Background()
	mk := func(name string, at time.Duration) cmdb.Record {
		id, _ := cmdb.NewID(e.ids)
		return cmdb.Record{CI: cmdb.CI{ID: id, Tenant: rcTenant, Class: cmdb.ClassLocation, Name: name, Status: cmdb.StatusInUse, Created: rcT0.Add(at), Updated: rcT0.Add(at)},
			Sources: map[cmdb.SourceName]cmdb.SourceState{"imp": {NativeID: "same", LastSeen: rcT0}}}
	}
	require.NoError(t, e.repo.CreateCI(ctx, mk("a", 0)))
	if err := e.repo.CreateCI(ctx, mk("b", time.Minute)); err != nil {
		t.Skip("this store refuses a repeated native key")
	}
	_, err := e.rc.Reconcile(ctx, e.repo, e.ids, cmdb.Batch{Tenant: rcTenant, Source: "other", At: rcT0.Add(time.Hour), Items: []cmdb.Item{{NativeID: "q", Class: cmdb.ClassLocation, Name: "q"}}})
	require.NoError(t, err)
}

// A new group with min_up 0 is refused by the dry run as by apply.
func TestReconcileRefusesMinUpBelowOneInTheDryRun(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	b := cmdb.Batch{Tenant: rcTenant, Source: "disc", At: rcT0, Items: []cmdb.Item{
		{NativeID: "g1", Class: cmdb.ClassCluster, Name: "c1", Attributes: map[string]cmdb.Value{cmdb.AttrMinUp: cmdb.IntValue(0)}},
	}}
	_, dryErr := e.rc.DryRun(context.Background(), e.repo, e.ids, b)
	_, err := e.rc.Reconcile(context.Background(), e.repo, e.ids, b)
	require.Error(t, dryErr, "the dry run refuses what apply would refuse")
	assert.ErrorIs(t, err, itsm.ErrInvalid)
}

// An empty serial number identifies nothing: servers reported with one stay apart.
func TestEmptyIdentifierValuesIdentifyNothing(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	e.run(cmdb.Batch{Source: "sccm", At: rcT0, Items: []cmdb.Item{
		server("a", "web01", "", "serial_number", ""),
		server("b", "web02", "", "serial_number", ""),
		server("c", "web03", "", "serial_number", ""),
	}})
	p := e.run(cmdb.Batch{Source: "vcenter", At: rcT0.Add(time.Hour), Items: []cmdb.Item{
		server("x", "db99", "", "serial_number", ""),
	}})
	assert.Empty(t, p.Duplicates, "web01..03 are distinct servers; an empty serial identifies nothing")
	assert.Equal(t, "", p.Outcomes[0].MatchedBy, "db99 should be a new CI")
}

// A zero Registry is usable (empty).
func TestZeroRegistryDoesNotPanic(t *testing.T) {
	var r cmdb.Registry
	assert.NotPanics(t, func() { _ = r.AddClass(cmdb.Class{Name: "ci"}) })
	assert.NotPanics(t, func() {
		_ = r.AddRelType(cmdb.RelType{Name: "x", Parent: "X", Child: "Y", Kind: cmdb.KindUsage, Flow: cmdb.FlowNone, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach, Allowed: []cmdb.ClassPair{{"ci", "ci"}}})
	})
}

// What Class and Attributes return shares nothing with the registry.
func TestRegistryAccessorsShareNothing(t *testing.T) {
	reg := cmdb.NewRegistry()
	c, _ := reg.Class(cmdb.ClassCI)
	for i := range c.Attributes {
		if len(c.Attributes[i].Values) > 0 {
			c.Attributes[i].Values[0] = "hacked"
		}
	}
	as := reg.Attributes(cmdb.ClassService)
	for i := range as {
		if len(as[i].Values) > 0 {
			as[i].Values[0] = "hacked2"
		}
	}
	c2, _ := reg.Class(cmdb.ClassCI)
	assert.Equal(t, "production", c2.Attributes[1].Values[0])
	a2 := reg.Attributes(cmdb.ClassService)
	for _, a := range a2 {
		if a.Name == "criticality" {
			assert.Equal(t, "critical", a.Values[0])
		}
	}
}

// The accessors of a result answer nothing, without panicking, for a
// position out of range or a zero Impact.
func TestImpactAccessorsOutOfRange(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	r, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}})
	require.NoError(t, err)
	var zero cmdb.Impact
	for _, tc := range []struct {
		name string
		r    *cmdb.Impact
		i    int
	}{
		{"negative", r, -1},
		{"past the end", r, r.Len()},
		{"zero impact", &zero, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, via := tc.r.Path(tc.i)
			assert.Nil(t, ids)
			assert.Nil(t, via)
			n, ok := tc.r.At(tc.i)
			assert.False(t, ok)
			assert.Equal(t, cmdb.Impacted{}, n)
			assert.Equal(t, cmdb.ID{}, tc.r.ID(tc.i))
		})
	}
	assert.NotPanics(t, func() { _ = zero.DOT() })
	assert.Zero(t, zero.Len())
	assert.Empty(t, zero.ServiceNodes())
}

// A key move cut short between its two writes, on a store without
// transactions, is completed by running the batch again.
func TestKeyMoveCutShortIsCompletedByARerun(t *testing.T) {
	reg := cmdb.NewRegistry()
	rc, err := cmdb.NewReconciler(reg, cmdb.DefaultRules())
	require.NoError(t, err)
	repo := &failingRepo{Repository: memory.New().CMDB(reg)}
	ids := itsmtest.NewIDs(9)
	ctx := context.Background()
	run := func(src cmdb.SourceName, at time.Duration, items ...cmdb.Item) (*cmdb.Plan, error) {
		return rc.Reconcile(ctx, repo, ids, cmdb.Batch{Tenant: rcTenant, Source: src, At: rcT0.Add(at), Items: items})
	}
	_, err = run("a", 0, server("sa", "h1", "SN1"))
	require.NoError(t, err)
	_, err = run("c", time.Hour, server("k", "h2", "SN2"))
	require.NoError(t, err)
	_, err = run("c", 2*time.Hour, server("k", "h2", "SN1"))
	require.NoError(t, err)
	p, err := run("b", 3*time.Hour, server("sb", "h9", "SN1"))
	require.NoError(t, err)
	require.Len(t, p.Duplicates, 1)
	repo.updates, repo.failAt = 0, 2
	_, err = run("c", 4*time.Hour, server("k", "h2", "SN1"))
	require.Error(t, err)
	repo.failAt = 0
	_, err = run("c", 4*time.Hour, server("k", "h2", "SN1"))
	require.NoError(t, err, "the doc promises that running the batch again completes the work")
}

// Software reported without its host is no candidate for the same software
// on particular hosts: nginx on web01 and nginx on web02 stay apart.
func TestHostlessReportDoesNotMergeHostedSoftware(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	app := func(native, host string) cmdb.Item {
		return cmdb.Item{NativeID: native, Class: cmdb.ClassApplication, Name: "nginx", Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: host}}}
	}
	e.run(cmdb.Batch{Source: "scan", At: rcT0, Items: []cmdb.Item{server("h1", "web01", "S1"), server("h2", "web02", "S2"), app("a1", "h1"), app("a2", "h2")}})
	p := e.run(cmdb.Batch{Source: "cmdbimport", At: rcT0.Add(time.Hour), Items: []cmdb.Item{
		{NativeID: "z", Class: cmdb.ClassApplication, Name: "nginx"},
	}})
	assert.Empty(t, p.Duplicates)
	assert.Len(t, p.Creates, 1, "a host-less nginx is a CI of its own")
}

// A depth cap reports truncation only when it cut something: here the next
// step would meet a redundancy group that stays up, so nothing was cut.
func TestDepthCapReportsOnlyRealTruncation(t *testing.T) {
	f := newFixture(t)
	f.ci("srv", cmdb.ClassServer, cmdb.StatusInUse)
	f.ci("app", cmdb.ClassApplication, cmdb.StatusInUse)
	f.ci("other", cmdb.ClassApplication, cmdb.StatusInUse)
	f.ci("grp", cmdb.ClassGroup, cmdb.StatusInUse)
	f.must("app", cmdb.RelRunsOn, "srv")
	f.must("app", cmdb.RelMemberOf, "grp")
	f.must("other", cmdb.RelMemberOf, "grp")
	full, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["srv"]}})
	require.NoError(t, err)
	capped, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["srv"]}, MaxDepth: 1})
	require.NoError(t, err)
	assert.Equal(t, names(full), names(capped))
	assert.False(t, capped.Truncated, "reasons %v", capped.Reasons)

	// With the other member down, the group would fall: now the cap did cut.
	f2 := newFixture(t)
	f2.ci("srv", cmdb.ClassServer, cmdb.StatusInUse)
	f2.ci("app", cmdb.ClassApplication, cmdb.StatusInUse)
	f2.ci("grp", cmdb.ClassGroup, cmdb.StatusInUse)
	f2.must("app", cmdb.RelRunsOn, "srv")
	f2.must("app", cmdb.RelMemberOf, "grp")
	capped, err = f2.g.Impact(cmdb.Query{Origins: []cmdb.ID{f2.ids["srv"]}, MaxDepth: 1})
	require.NoError(t, err)
	assert.True(t, capped.Truncated)
	assert.Equal(t, []cmdb.Truncation{cmdb.TruncDepth}, capped.Reasons)
}
