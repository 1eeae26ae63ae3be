package cmdb_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

func TestGraphRelationshipRules(t *testing.T) {
	type rel struct {
		from string
		typ  cmdb.RelTypeName
		to   string
	}
	tests := []struct {
		name  string
		setup []rel
		add   rel
		field string // "" accepted; "exists" for ErrAlreadyExists
	}{
		{"app runs on vm", nil, rel{"app", cmdb.RelRunsOn, "vm1"}, ""},
		{"dangling from", nil, rel{"ghost", cmdb.RelDependsOn, "app"}, "from"},
		{"dangling to", nil, rel{"app", cmdb.RelDependsOn, "ghost"}, "to"},
		{"class pair not allowed", nil, rel{"vm1", cmdb.RelRunsOn, "app"}, "type"},
		{"pair inherited down the tree: container hosted on server", nil, rel{"ctr", cmdb.RelHostedOn, "srv1"}, ""},
		{"member of needs a group", nil, rel{"srv1", cmdb.RelMemberOf, "vm1"}, "type"},
		{"member of a cluster (a group)", nil, rel{"srv1", cmdb.RelMemberOf, "cl"}, ""},
		{"located in a location only", nil, rel{"srv1", cmdb.RelLocatedIn, "vm1"}, "type"},
		{"unknown type", nil, rel{"app", "hugs", "vm1"}, "type"},
		{"self", nil, rel{"app", cmdb.RelDependsOn, "app"}, "to"},
		{"duplicate", []rel{{"app", cmdb.RelDependsOn, "db"}}, rel{"app", cmdb.RelDependsOn, "db"}, "exists"},
		{"same ends, other type", []rel{{"app", cmdb.RelDependsOn, "db"}}, rel{"app", cmdb.RelUses, "db"}, ""},
		{"N:1 runs on a second host", []rel{{"app", cmdb.RelRunsOn, "vm1"}}, rel{"app", cmdb.RelRunsOn, "vm2"}, "type"},
		{"N:1 many on one host", []rel{{"app", cmdb.RelRunsOn, "vm1"}}, rel{"db", cmdb.RelRunsOn, "vm1"}, ""},
		{"1:N contained twice", []rel{{"loc1", cmdb.RelContains, "loc3"}}, rel{"loc2", cmdb.RelContains, "loc3"}, "type"},
		{"1:N container holds many", []rel{{"loc1", cmdb.RelContains, "loc2"}}, rel{"loc1", cmdb.RelContains, "loc3"}, ""},
		{"N:N depends on cycle allowed", []rel{{"app", cmdb.RelDependsOn, "db"}}, rel{"db", cmdb.RelDependsOn, "app"}, ""},
		{"virtualization cycle of two", []rel{{"vm1", cmdb.RelVirtualizedBy, "vm2"}}, rel{"vm2", cmdb.RelVirtualizedBy, "vm1"}, "type"},
		{"virtualization cycle of three", []rel{{"vm1", cmdb.RelVirtualizedBy, "vm2"}, {"vm2", cmdb.RelVirtualizedBy, "vm3"}}, rel{"vm3", cmdb.RelVirtualizedBy, "vm1"}, "type"},
		{"virtualization chain without cycle", []rel{{"vm1", cmdb.RelVirtualizedBy, "vm2"}}, rel{"vm2", cmdb.RelVirtualizedBy, "srv1"}, ""},
		{"containment cycle", []rel{{"loc1", cmdb.RelContains, "loc2"}, {"loc2", cmdb.RelContains, "loc3"}}, rel{"loc3", cmdb.RelContains, "loc1"}, "type"},
		{"containment across devices and servers", []rel{{"dev1", cmdb.RelContains, "srv1"}, {"srv1", cmdb.RelContains, "dev2"}}, rel{"dev2", cmdb.RelContains, "dev1"}, "type"},
		{"hosting cycle through runs on and hosted on", []rel{{"ctr", cmdb.RelHostedOn, "vm1"}, {"app", cmdb.RelRunsOn, "ctr"}}, rel{"vm1", cmdb.RelVirtualizedBy, "vm2"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.ci("app", cmdb.ClassApplication, cmdb.StatusInUse)
			f.ci("db", cmdb.ClassDatabase, cmdb.StatusInUse)
			f.ci("ctr", cmdb.ClassContainer, cmdb.StatusInUse)
			f.ci("vm1", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
			f.ci("vm2", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
			f.ci("vm3", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
			f.ci("srv1", cmdb.ClassServer, cmdb.StatusInUse)
			f.ci("cl", cmdb.ClassCluster, cmdb.StatusInUse)
			f.ci("dev1", cmdb.ClassNetworkDevice, cmdb.StatusInUse)
			f.ci("dev2", cmdb.ClassStorageDevice, cmdb.StatusInUse)
			for _, l := range []string{"loc1", "loc2", "loc3"} {
				f.ci(l, cmdb.ClassLocation, cmdb.StatusInUse)
			}
			for _, r := range tc.setup {
				f.must(r.from, r.typ, r.to)
			}
			_, before := f.g.Len()
			err := f.relate(tc.add.from, tc.add.typ, tc.add.to)
			_, after := f.g.Len()
			switch tc.field {
			case "":
				require.NoError(t, err)
				assert.Equal(t, before+1, after)
			case "exists":
				require.ErrorIs(t, err, itsm.ErrAlreadyExists)
				assert.Equal(t, before, after)
			default:
				requireInvalid(t, err, tc.field)
				assert.Equal(t, before, after, "a refused relationship leaves the graph as it was")
			}
		})
	}
}

func TestGraphUserDefinedHostingTypeJoinsCycleCheck(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.reg.AddRelType(cmdb.RelType{Name: "nested_in", Parent: "Nested in", Child: "Nests",
		Kind: cmdb.KindHosting, Flow: cmdb.FlowToFrom, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
		Allowed: []cmdb.ClassPair{{From: cmdb.ClassDevice, To: cmdb.ClassVirtualMachine}}}))
	f.ci("dev", cmdb.ClassNetworkDevice, cmdb.StatusInUse)
	f.ci("vm", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
	f.ci("srv", cmdb.ClassServer, cmdb.StatusInUse)
	f.must("dev", "nested_in", "vm")                // impact vm → dev
	f.must("vm", cmdb.RelVirtualizedBy, "srv")      // impact srv → vm
	err := f.relate("srv", cmdb.RelContains, "dev") // impact dev → srv closes the cycle
	requireInvalid(t, err, "type")
}

func TestGraphWrites(t *testing.T) {
	f := newFixture(t)
	app := f.ci("app", cmdb.ClassApplication, cmdb.StatusInUse)
	f.ci("db", cmdb.ClassDatabase, cmdb.StatusInUse)

	t.Run("duplicate CI", func(t *testing.T) {
		require.ErrorIs(t, f.g.AddCI(f.cis["app"]), itsm.ErrAlreadyExists)
	})
	t.Run("CI of another tenant", func(t *testing.T) {
		c := f.cis["app"].Clone()
		c.Tenant = "other"
		c.ID = cmdb.IDFromUUID(itsmTestUUID(t))
		requireInvalid(t, f.g.AddCI(c), "tenant")
	})
	t.Run("invalid CI", func(t *testing.T) {
		c := f.cis["app"].Clone()
		c.Name = ""
		requireInvalid(t, f.g.AddCI(c), "name")
	})
	t.Run("relationship of another tenant", func(t *testing.T) {
		id, err := cmdb.NewRelationshipID(f.gen)
		require.NoError(t, err)
		err = f.g.AddRelationship(cmdb.Relationship{ID: id, Tenant: "other", Type: cmdb.RelDependsOn, From: app, To: f.ids["db"], Created: t0})
		requireInvalid(t, err, "tenant")
	})
	t.Run("update keeps class", func(t *testing.T) {
		c := f.cis["app"].Clone()
		c.Class = cmdb.ClassDatabase
		c.Attributes = required(cmdb.ClassDatabase, "x")
		requireInvalid(t, f.g.UpdateCI(c), "class")
	})
	t.Run("update status and name", func(t *testing.T) {
		c := f.cis["app"].Clone()
		c.Name = "app-renamed"
		c.Status = cmdb.StatusInMaintenance
		require.NoError(t, f.g.UpdateCI(c))
		n, ok := f.g.Node(app)
		require.True(t, ok)
		assert.Equal(t, "app-renamed", n.Name)
		assert.Equal(t, cmdb.StatusInMaintenance, n.Status)
	})
	t.Run("set status", func(t *testing.T) {
		require.NoError(t, f.g.SetStatus(app, cmdb.StatusInUse))
		requireInvalid(t, f.g.SetStatus(app, "gone"), "status")
		require.ErrorIs(t, f.g.SetStatus(cmdb.IDFromUUID(itsmTestUUID(t)), cmdb.StatusInUse), itsm.ErrNotFound)
	})
	t.Run("remove and re-add", func(t *testing.T) {
		f.must("app", cmdb.RelDependsOn, "db")
		require.Len(t, f.g.Relationships(app), 1)
		require.NoError(t, f.g.RemoveRelationship(app, cmdb.RelDependsOn, f.ids["db"]))
		require.ErrorIs(t, f.g.RemoveRelationship(app, cmdb.RelDependsOn, f.ids["db"]), itsm.ErrNotFound)
		assert.Empty(t, f.g.Relationships(app))
		f.must("app", cmdb.RelDependsOn, "db")
		_, n := f.g.Len()
		assert.Equal(t, 1, n)
	})
}

func itsmTestUUID(t *testing.T) [16]byte {
	id, err := cmdb.NewID(itsmtest.NewIDs(777))
	require.NoError(t, err)
	return id.UUID()
}

// TestGraphCompactionKeepsAnswers builds the same graph with the append
// buffer merged after every write and never, with removals in between, and
// checks both give the same relationships and the same analysis.
func TestGraphCompactionKeepsAnswers(t *testing.T) {
	build := func(threshold int) (*fixture, *cmdb.Impact) {
		f := newFixture(t)
		f.g.SetMergeThreshold(threshold)
		buildServiceStack(f)
		require.NoError(t, f.g.RemoveRelationship(f.ids["srv2"], cmdb.RelDependsOn, f.ids["sw"]))
		f.must("srv2", cmdb.RelDependsOn, "sw")
		r, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}})
		require.NoError(t, err)
		return f, r
	}
	fa, a := build(1)
	fb, b := build(1 << 30)
	_, rels := fa.g.Len()
	assert.Less(t, fa.g.Pending(), rels, "merged as it went")
	assert.Equal(t, rels+1, fb.g.Pending(), "never merged: every relationship, and the removed one, pending")
	assert.Equal(t, names(a), names(b))
	var ra, rb []cmdb.Relationship
	fa.g.EachRelationship(func(r cmdb.Relationship) bool { ra = append(ra, r); return true })
	fb.g.EachRelationship(func(r cmdb.Relationship) bool { rb = append(rb, r); return true })
	assert.ElementsMatch(t, ra, rb)
	fb.g.Compact()
	assert.Zero(t, fb.g.Pending())
	c, err := fb.g.Impact(cmdb.Query{Origins: []cmdb.ID{fb.ids["sw"]}})
	require.NoError(t, err)
	assert.Equal(t, names(b), names(c))
}
