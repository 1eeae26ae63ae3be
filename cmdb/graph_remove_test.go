package cmdb_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
)

// ciNames returns the names of the graph's CIs, sorted.
func ciNames(g *cmdb.Graph) []string {
	var out []string
	g.EachCI(func(n cmdb.Node) bool { out = append(out, n.Name); return true })
	slices.Sort(out)
	return out
}

// relTriples returns the graph's relationships as "from type to" by name,
// sorted.
func relTriples(g *cmdb.Graph) []string {
	var out []string
	g.EachRelationship(func(r cmdb.Relationship) bool {
		from, _ := g.Node(r.From)
		to, _ := g.Node(r.To)
		out = append(out, from.Name+" "+string(r.Type)+" "+to.Name)
		return true
	})
	slices.Sort(out)
	return out
}

// TestGraphRemoveCI removes a CI from the graph and the same CI from a
// memory store holding the same data: both take the same CIs with it, or
// refuse alike, and keep the same relationships.
func TestGraphRemoveCI(t *testing.T) {
	tests := []struct {
		name    string
		remove  string
		removed []string // names, removed CI first, then the cascaded ones
		field   string   // a refusal naming this field; "missing" for ErrNotFound
	}{
		{name: "detach: the switch goes, its servers and the core stay", remove: "sw", removed: []string{"sw"}},
		{name: "cascade: the server takes the database running on it", remove: "srv3", removed: []string{"srv3", "db"}},
		{name: "cascade: the VM takes its application; the cluster is not dependent", remove: "vm", removed: []string{"vm", "app"}},
		{name: "cascade recursively: VM, the container hosted on it, the application running in that", remove: "vm2", removed: []string{"vm2", "ctr", "app2"}},
		{name: "detach from the dependent side: the application alone", remove: "app", removed: []string{"app"}},
		{name: "restrict: the cluster still virtualizes a VM", remove: "cl", field: "id"},
		{name: "restrict through a cascade: the chassis would take its server, which virtualizes a VM", remove: "chassis", field: "id"},
		{name: "member of detaches: a cluster member goes, the cluster stays", remove: "srv1", removed: []string{"srv1"}},
		{name: "not in the graph", remove: "ghost", field: "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStoreFixture(t)
			buildServiceStack(f)
			f.ci("vm2", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
			f.ci("ctr", cmdb.ClassContainer, cmdb.StatusInUse)
			f.ci("app2", cmdb.ClassApplication, cmdb.StatusInUse)
			f.must("ctr", cmdb.RelHostedOn, "vm2")
			f.must("app2", cmdb.RelRunsOn, "ctr")
			f.must("vm2", cmdb.RelVirtualizedBy, "cl")
			f.must("checkout", cmdb.RelDependsOn, "app2")
			f.ci("chassis", cmdb.ClassStorageDevice, cmdb.StatusInUse)
			f.ci("vm3", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
			f.must("chassis", cmdb.RelContains, "srv2")
			f.must("vm3", cmdb.RelVirtualizedBy, "srv2")
			id, ok := f.ids[tc.remove]
			if !ok {
				id = cmdb.IDFromUUID(itsmTestUUID(t))
			}
			beforeCIs, beforeRels := ciNames(f.g), relTriples(f.g)

			got, err := f.g.RemoveCI(id)
			stored, serr := f.repo.DeleteCI(context.Background(), "acme", id, 1)
			switch tc.field {
			case "":
				require.NoError(t, err)
				require.NoError(t, serr)
				var want []cmdb.ID
				for _, n := range tc.removed {
					want = append(want, f.ids[n])
				}
				slices.SortFunc(want[1:], cmdb.ID.Compare)
				assert.Equal(t, want, got)
				assert.Equal(t, stored, got, "the store deletes the same CIs")
			case "missing":
				require.ErrorIs(t, err, itsm.ErrNotFound)
				require.ErrorIs(t, serr, itsm.ErrNotFound)
			default:
				requireInvalid(t, err, tc.field)
				requireInvalid(t, serr, tc.field)
				assert.Nil(t, got)
				assert.Equal(t, beforeCIs, ciNames(f.g), "a refusal changes nothing")
				assert.Equal(t, beforeRels, relTriples(f.g))
			}

			for _, n := range tc.removed {
				_, ok := f.g.Node(f.ids[n])
				assert.False(t, ok, "%s is gone", n)
				assert.Empty(t, f.g.Relationships(f.ids[n]))
			}
			// What remains matches the store, CI for CI and relationship
			// for relationship.
			list, err := f.repo.ListCIs(context.Background(), "acme", cmdb.Filter{}, cmdb.Page{Limit: cmdb.MaxPageLimit})
			require.NoError(t, err)
			var want []string
			for _, r := range list.Items {
				want = append(want, r.Name)
			}
			slices.Sort(want)
			assert.Equal(t, want, ciNames(f.g))
			cis, rels := f.g.Len()
			assert.Len(t, list.Items, cis)
			stRels, err := f.repo.ListRelationships(context.Background(), "acme", cmdb.RelationshipPage{Limit: cmdb.MaxPageLimit})
			require.NoError(t, err)
			assert.Len(t, stRels.Items, rels)
			for _, r := range stRels.Items {
				_, okF := f.g.Node(r.From)
				_, okT := f.g.Node(r.To)
				assert.True(t, okF && okT, "the graph keeps both ends of %s", r.ID)
				assert.Contains(t, f.g.Relationships(r.From), r)
			}
		})
	}
}

func TestGraphRemoveCIThenWrite(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	_, err := f.g.RemoveCI(f.ids["db"])
	require.NoError(t, err)

	_, err = f.g.RemoveCI(f.ids["db"])
	require.ErrorIs(t, err, itsm.ErrNotFound, "removed once")
	require.ErrorIs(t, f.g.SetStatus(f.ids["db"], cmdb.StatusInUse), itsm.ErrNotFound)
	require.ErrorIs(t, f.g.UpdateCI(f.cis["db"]), itsm.ErrNotFound)
	requireInvalid(t, f.relate("db", cmdb.RelRunsOn, "srv3"), "from")
	requireInvalid(t, f.relate("checkout", cmdb.RelDependsOn, "db"), "to")
	_, err = f.g.Neighbourhood([]cmdb.ID{f.ids["db"]}, 1, 0)
	requireInvalid(t, err, "ids[0]")

	// The same CI may come back, as a new CI without its old relationships.
	cis, _ := f.g.Len()
	require.NoError(t, f.g.AddCI(f.cis["db"]))
	n, ok := f.g.Node(f.ids["db"])
	require.True(t, ok)
	assert.Equal(t, "db", n.Name)
	assert.Empty(t, f.g.Relationships(f.ids["db"]))
	after, _ := f.g.Len()
	assert.Equal(t, cis+1, after)
	f.must("db", cmdb.RelRunsOn, "srv3")
	assert.Len(t, f.g.Relationships(f.ids["db"]), 1)
}

// TestGraphRemoveCIImpact checks analyses after a removal: a removed
// cluster member no longer counts as up, and an Impact taken before still
// reads the CIs it reached.
func TestGraphRemoveCIImpact(t *testing.T) {
	for _, merge := range []struct {
		name      string
		threshold int
		compact   bool
	}{{"merged as it goes", 1, false}, {"all pending", 1 << 30, false}, {"compacted after the removal", 1 << 30, true}} {
		t.Run(merge.name, func(t *testing.T) {
			f := newFixture(t)
			f.g.SetMergeThreshold(merge.threshold)
			buildServiceStack(f)
			q := cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"]}}
			before, err := f.g.Impact(q)
			require.NoError(t, err)
			assert.Equal(t, []string{"srv1"}, names(before), "two of three members up: the cluster (min_up 2) holds")
			fromSwitch, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}})
			require.NoError(t, err)
			wantSwitch := names(fromSwitch)
			require.Contains(t, wantSwitch, "srv3")

			removed, err := f.g.RemoveCI(f.ids["srv3"])
			require.NoError(t, err)
			require.Len(t, removed, 2, "srv3 and the database running on it")
			if merge.compact {
				f.g.Compact()
				assert.Zero(t, f.g.Pending())
			}

			after, err := f.g.Impact(q)
			require.NoError(t, err)
			assert.Equal(t, []string{"srv1", "cl", "vm", "app", "checkout", "shop"}, names(after),
				"one member left up of two: the cluster falls")
			assert.Equal(t, []string{"shop"}, serviceNames(after))

			assert.Equal(t, wantSwitch, names(fromSwitch), "an earlier Impact still reads the removed CIs")
			_, err = f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["srv3"]}})
			requireInvalid(t, err, "origins[0]")
			up, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["checkout"]}, Direction: cmdb.Upstream})
			require.NoError(t, err)
			assert.NotContains(t, names(up), "db")
			assert.NotContains(t, names(up), "srv3")

			svc, err := f.g.ImpactedServices([]itsm.Ref{f.ids["srv3"].Ref(), f.ids["srv1"].Ref()})
			require.NoError(t, err)
			assert.Equal(t, []itsm.Ref{f.ids["shop"].Ref()}, svc, "a removed CI is ignored like any unknown one")
		})
	}
}
