package cmdb_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
)

// buildServiceStack builds:
//
//	shop (business service) depends on checkout (application service)
//	checkout depends on app; app runs on vm; vm virtualized by cl (cluster, min_up 2)
//	srv1, srv2, srv3 member of cl; each depends on sw (network switch)
//	db runs on srv3; checkout depends on db
//	sw2 connects to sw; app located in dc; ops manages app
func buildServiceStack(f *fixture) {
	f.ci("shop", cmdb.ClassBusinessService, cmdb.StatusInUse)
	f.ci("checkout", cmdb.ClassApplicationService, cmdb.StatusInUse)
	f.ci("app", cmdb.ClassApplication, cmdb.StatusInUse)
	f.ci("vm", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
	f.ci("cl", cmdb.ClassCluster, cmdb.StatusInUse, cmdb.AttrMinUp, cmdb.IntValue(2))
	for _, s := range []string{"srv1", "srv2", "srv3"} {
		f.ci(s, cmdb.ClassServer, cmdb.StatusInUse)
	}
	f.ci("sw", cmdb.ClassNetworkDevice, cmdb.StatusInUse)
	f.ci("sw2", cmdb.ClassNetworkDevice, cmdb.StatusInUse)
	f.ci("db", cmdb.ClassDatabase, cmdb.StatusInUse)
	f.ci("dc", cmdb.ClassLocation, cmdb.StatusInUse)
	f.ci("ops", cmdb.ClassGroup, cmdb.StatusInUse)

	f.must("shop", cmdb.RelDependsOn, "checkout")
	f.must("checkout", cmdb.RelDependsOn, "app")
	f.must("app", cmdb.RelRunsOn, "vm")
	f.must("vm", cmdb.RelVirtualizedBy, "cl")
	for _, s := range []string{"srv1", "srv2", "srv3"} {
		f.must(s, cmdb.RelMemberOf, "cl")
		f.must(s, cmdb.RelDependsOn, "sw")
	}
	f.must("db", cmdb.RelRunsOn, "srv3")
	f.must("checkout", cmdb.RelDependsOn, "db")
	f.must("sw2", cmdb.RelConnectsTo, "sw")
	f.must("app", cmdb.RelLocatedIn, "dc")
	f.must("ops", cmdb.RelManages, "app")
}

func TestImpact(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(f *fixture)
		query    func(f *fixture) cmdb.Query
		nodes    []string // names in result order, origins first
		services []string
		reasons  []cmdb.Truncation
	}{
		{
			name:     "switch failure takes every server, so the cluster and the shop",
			query:    func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}} },
			nodes:    []string{"sw", "srv1", "srv2", "srv3", "cl", "db", "vm", "checkout", "app", "shop"},
			services: []string{"shop"},
		},
		{
			name:  "one server down leaves the cluster above min_up",
			query: func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"]}} },
			nodes: []string{"srv1"},
		},
		{
			name: "two servers down drop the cluster below min_up",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"], f.ids["srv2"]}}
			},
			nodes:    []string{"srv1", "srv2", "cl", "vm", "app", "checkout", "shop"},
			services: []string{"shop"},
		},
		{
			name:     "a member in maintenance already counts as down",
			prepare:  func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["srv2"], cmdb.StatusInMaintenance)) },
			query:    func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"]}} },
			nodes:    []string{"srv1", "cl", "vm", "app", "checkout", "shop"},
			services: []string{"shop"},
		},
		{
			name:    "a retired member no longer counts",
			prepare: func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["srv3"], cmdb.StatusRetired)) },
			query:   func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"]}} },
			// two members in use, min_up 2: one down is enough
			nodes:    []string{"srv1", "cl", "vm", "app", "checkout", "shop"},
			services: []string{"shop"},
		},
		{
			name:    "a CI in maintenance is reported but suppresses propagation",
			prepare: func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["vm"], cmdb.StatusInMaintenance)) },
			query:   func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["cl"]}} },
			nodes:   []string{"cl", "vm"},
		},
		{
			name:     "an origin in maintenance still propagates",
			prepare:  func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["app"], cmdb.StatusInMaintenance)) },
			query:    func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["app"]}} },
			nodes:    []string{"app", "checkout", "shop"},
			services: []string{"shop"},
		},
		{
			name:    "a retired CI is not reached",
			prepare: func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["checkout"], cmdb.StatusRetired)) },
			query:   func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["app"]}} },
			nodes:   []string{"app"},
		},
		{
			name: "exclusions are neither reported nor passed through",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}, Exclude: []cmdb.ID{f.ids["cl"], f.ids["db"]}}
			},
			nodes: []string{"sw", "srv1", "srv2", "srv3"},
		},
		{
			name: "an excluded member in use still counts as up",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"]}, Exclude: []cmdb.ID{f.ids["srv2"]}}
			},
			nodes: []string{"srv1"},
		},
		{
			name:    "an excluded member in maintenance still counts as down",
			prepare: func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["srv2"], cmdb.StatusInMaintenance)) },
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["srv1"]}, Exclude: []cmdb.ID{f.ids["srv2"]}}
			},
			nodes:    []string{"srv1", "cl", "vm", "app", "checkout", "shop"},
			services: []string{"shop"},
		},
		{
			name:  "connects to is off by default",
			query: func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["sw2"]}} },
			nodes: []string{"sw2"},
		},
		{
			name: "connects to flows both ways when included",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["sw2"]}, Include: []cmdb.RelTypeName{cmdb.RelConnectsTo}, MaxDepth: 2}
			},
			nodes:   []string{"sw2", "sw", "srv1", "srv2", "srv3"},
			reasons: []cmdb.Truncation{cmdb.TruncDepth},
		},
		{
			name: "manages, owned by and located in never carry impact",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["dc"], f.ids["ops"]},
					Types: []cmdb.RelTypeName{cmdb.RelLocatedIn, cmdb.RelManages, cmdb.RelOwnedBy}}
			},
			nodes: []string{"dc", "ops"},
		},
		{
			name: "types restrict the walk",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}, Types: []cmdb.RelTypeName{cmdb.RelDependsOn}}
			},
			nodes: []string{"sw", "srv1", "srv2", "srv3"},
		},
		{
			name:    "depth cap",
			query:   func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}, MaxDepth: 2} },
			nodes:   []string{"sw", "srv1", "srv2", "srv3", "cl", "db"},
			reasons: []cmdb.Truncation{cmdb.TruncDepth},
		},
		{
			name:  "depth cap that cuts nothing is not a truncation",
			query: func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["checkout"]}, MaxDepth: 1} },
			nodes: []string{"checkout", "shop"}, services: []string{"shop"},
		},
		{
			name:    "node cap",
			query:   func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}, MaxNodes: 2} },
			nodes:   []string{"sw", "srv1", "srv2"},
			reasons: []cmdb.Truncation{cmdb.TruncNodes},
		},
		{
			name:    "fan-out cap",
			query:   func(f *fixture) cmdb.Query { return cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}, MaxFanOut: 1} },
			nodes:   []string{"sw", "srv1"},
			reasons: []cmdb.Truncation{cmdb.TruncFanOut},
		},
		{
			name: "upstream: what the shop depends on, redundancy ignored",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["shop"]}, Direction: cmdb.Upstream}
			},
			nodes: []string{"shop", "checkout", "app", "db", "vm", "srv3", "cl", "sw", "srv1", "srv2"},
			// the origin is a business service itself
			services: []string{"shop"},
		},
		{
			name:    "upstream ignores maintenance",
			prepare: func(f *fixture) { require.NoError(f.t, f.g.SetStatus(f.ids["app"], cmdb.StatusInMaintenance)) },
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["checkout"]}, Direction: cmdb.Upstream, MaxDepth: 2}
			},
			nodes:   []string{"checkout", "app", "db", "vm", "srv3"},
			reasons: []cmdb.Truncation{cmdb.TruncDepth},
		},
		{
			name: "service class can be widened",
			query: func(f *fixture) cmdb.Query {
				return cmdb.Query{Origins: []cmdb.ID{f.ids["app"]}, ServiceClass: cmdb.ClassService}
			},
			nodes:    []string{"app", "checkout", "shop"},
			services: []string{"checkout", "shop"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			buildServiceStack(f)
			if tc.prepare != nil {
				tc.prepare(f)
			}
			r, err := f.g.Impact(tc.query(f))
			require.NoError(t, err)
			assert.Equal(t, tc.nodes, names(r))
			assert.Equal(t, tc.services, serviceNames(r))
			assert.Equal(t, tc.reasons, r.Reasons)
			assert.Equal(t, len(tc.reasons) > 0, r.Truncated)
			for i, n := range r.All() {
				ids, via := r.Path(i)
				require.Len(t, ids, n.Depth+1)
				require.Len(t, via, n.Depth)
				assert.Equal(t, n.ID, ids[len(ids)-1])
				assert.Equal(t, n.ID, r.ID(i))
			}
		})
	}
}

func TestImpactPathAndSuppressedFlag(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	r, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["sw"]}})
	require.NoError(t, err)
	require.Len(t, r.Services, 1)
	ids, via := r.Path(r.Services[0])
	var got []string
	for _, id := range ids {
		n, ok := f.g.Node(id)
		require.True(t, ok)
		got = append(got, n.Name)
	}
	// The shortest way runs through the database on srv3, not the cluster.
	assert.Equal(t, []string{"sw", "srv3", "db", "checkout", "shop"}, got)
	assert.Equal(t, []cmdb.RelTypeName{cmdb.RelDependsOn, cmdb.RelRunsOn, cmdb.RelDependsOn, cmdb.RelDependsOn}, via)

	// Through the cluster, the member that took it below min_up 2 (the
	// second one down, srv2) is on the path.
	i := slices.Index(names(r), "vm")
	ids, via = r.Path(i)
	got = got[:0]
	for _, id := range ids {
		n, _ := f.g.Node(id)
		got = append(got, n.Name)
	}
	assert.Equal(t, []string{"sw", "srv2", "cl", "vm"}, got)
	assert.Equal(t, []cmdb.RelTypeName{cmdb.RelDependsOn, cmdb.RelMemberOf, cmdb.RelVirtualizedBy}, via)
	first, _ := r.At(0)
	assert.True(t, first.Origin)

	require.NoError(t, f.g.SetStatus(f.ids["app"], cmdb.StatusInMaintenance))
	r, err = f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["vm"]}})
	require.NoError(t, err)
	require.Equal(t, []string{"vm", "app"}, names(r))
	second, _ := r.At(1)
	assert.True(t, second.Suppressed)
	assert.Empty(t, r.Services)
}

func TestImpactIsDeterministic(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	q := cmdb.Query{Origins: []cmdb.ID{f.ids["sw"], f.ids["db"]}}
	a, err := f.g.Impact(q)
	require.NoError(t, err)
	for range 5 {
		b, err := f.g.Impact(q)
		require.NoError(t, err)
		assert.Equal(t, a, b)
	}
}

func TestImpactRejectsBadQueries(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	ghost, err := cmdb.NewID(f.gen)
	require.NoError(t, err)
	sw := f.ids["sw"]
	tests := []struct {
		name  string
		q     cmdb.Query
		field string
	}{
		{"no origins", cmdb.Query{}, "origins"},
		{"unknown origin", cmdb.Query{Origins: []cmdb.ID{sw, ghost}}, "origins[1]"},
		{"bad direction", cmdb.Query{Origins: []cmdb.ID{sw}, Direction: "sideways"}, "direction"},
		{"unknown type", cmdb.Query{Origins: []cmdb.ID{sw}, Types: []cmdb.RelTypeName{"hugs"}}, "types[0]"},
		{"unknown include", cmdb.Query{Origins: []cmdb.ID{sw}, Include: []cmdb.RelTypeName{"hugs"}}, "include[0]"},
		{"negative depth", cmdb.Query{Origins: []cmdb.ID{sw}, MaxDepth: -1}, "max_depth"},
		{"negative nodes", cmdb.Query{Origins: []cmdb.ID{sw}, MaxNodes: -1}, "max_nodes"},
		{"negative fan-out", cmdb.Query{Origins: []cmdb.ID{sw}, MaxFanOut: -1}, "max_fan_out"},
		{"excluded origin", cmdb.Query{Origins: []cmdb.ID{sw}, Exclude: []cmdb.ID{sw}}, "exclude[0]"},
		{"unknown service class", cmdb.Query{Origins: []cmdb.ID{sw}, ServiceClass: "nope"}, "service_class"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.g.Impact(tc.q)
			assert.Nil(t, r)
			requireInvalid(t, err, tc.field)
		})
	}
}

// A result keeps the status each CI had during the analysis and what it
// found, and reads names from the graph when asked.
func TestImpactReadsNamesWhenAsked(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	r, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["vm"]}})
	require.NoError(t, err)
	i := slices.Index(names(r), "app")
	require.Positive(t, i)
	before, ok := r.At(i)
	require.True(t, ok)

	c := f.cis["app"].Clone()
	c.Name = "app-renamed"
	c.Status = cmdb.StatusInMaintenance
	require.NoError(t, f.g.UpdateCI(c))

	after, ok := r.At(i)
	require.True(t, ok)
	assert.Equal(t, "app-renamed", after.Name)
	assert.Equal(t, before.Status, after.Status, "the status during the analysis")
	assert.False(t, after.Suppressed)
	before.Name = after.Name
	assert.Equal(t, before, after)
	for k, n := range r.All() {
		if k == 1 {
			break // All stops when asked
		}
		assert.True(t, n.Origin)
	}
}

// An Impact marshals to JSON with every CI it reached.
func TestImpactMarshalJSON(t *testing.T) {
	f := newFixture(t)
	buildServiceStack(f)
	r, err := f.g.Impact(cmdb.Query{Origins: []cmdb.ID{f.ids["vm"]}})
	require.NoError(t, err)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var got struct {
		Direction string `json:"direction"`
		Nodes     []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Depth  int    `json:"depth"`
			Parent int    `json:"parent"`
			Via    string `json:"via"`
			Origin bool   `json:"origin"`
		} `json:"nodes"`
		Services  []int `json:"services"`
		Truncated bool  `json:"truncated"`
	}
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Len(t, got.Nodes, r.Len())
	for i, n := range r.All() {
		assert.Equal(t, n.ID.String(), got.Nodes[i].ID)
		assert.Equal(t, n.Name, got.Nodes[i].Name)
		assert.Equal(t, n.Depth, got.Nodes[i].Depth)
		assert.Equal(t, n.Parent, got.Nodes[i].Parent)
		assert.Equal(t, string(n.Via), got.Nodes[i].Via)
		assert.Equal(t, n.Origin, got.Nodes[i].Origin)
	}
	assert.Equal(t, r.Services, got.Services)
	assert.True(t, got.Nodes[0].Origin)

	empty, err := json.Marshal(cmdb.Impact{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"direction":"","nodes":[],"services":[],"truncated":false}`, string(empty))
}
