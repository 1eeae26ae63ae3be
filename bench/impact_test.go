package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/traverse"

	"github.com/itsmkit/itsmkit/cmdb"
)

// gonumGraph copies the relationships of g whose type passes keep into a
// gonum directed graph, untyped, each edge pointing the way impact flows
// downstream. Node i is the i-th CI added to g; pos maps CI IDs to it.
func gonumGraph(g *cmdb.Graph, keep func(cmdb.RelType) bool) (*simple.DirectedGraph, map[cmdb.ID]int64) {
	reg := g.Registry()
	dg := simple.NewDirectedGraph()
	pos := map[cmdb.ID]int64{}
	g.EachCI(func(n cmdb.Node) bool {
		id := int64(len(pos))
		pos[n.ID] = id
		dg.AddNode(simple.Node(id))
		return true
	})
	types := map[cmdb.RelTypeName]cmdb.RelType{}
	for _, name := range reg.RelTypes() {
		t, _ := reg.RelType(name)
		types[name] = t
	}
	g.EachRelationship(func(r cmdb.Relationship) bool {
		t := types[r.Type]
		if !keep(t) {
			return true
		}
		from, to := pos[r.From], pos[r.To]
		if t.Flow == cmdb.FlowToFrom {
			from, to = to, from
		}
		dg.SetEdge(dg.NewEdge(dg.Node(from), dg.Node(to)))
		return true
	})
	return dg, pos
}

// carriesImpact keeps the types an itsmkit analysis follows by default.
func carriesImpact(t cmdb.RelType) bool {
	return t.Flow != cmdb.FlowNone && !t.OffByDefault && t.Flow != cmdb.FlowBoth
}

// gonumReach walks breadth-first from every origin and returns how many
// nodes it visited (origins included).
func gonumReach(dg graph.Graph, origins []int64) int {
	var bf traverse.BreadthFirst
	n := 0
	bf.Visit = func(graph.Node) { n++ }
	for _, o := range origins {
		if bf.Visited(dg.Node(o)) {
			continue
		}
		bf.Walk(dg, dg.Node(o), nil)
	}
	return n
}

// TestImpactAgreesWithGonum checks, on a small generated CMDB with every CI
// in use, that itsmkit's downstream analysis restricted to the types without
// redundancy gates reaches exactly the CIs a gonum breadth-first traversal
// of the same edges reaches.
func TestImpactAgreesWithGonum(t *testing.T) {
	g, err := cmdb.Generate(cmdb.NewRegistry(), cmdb.GenerateOptions{CIs: 3000, Seed: 3})
	require.NoError(t, err)
	plain := func(rt cmdb.RelType) bool { return carriesImpact(rt) && !rt.Redundant }
	dg, pos := gonumGraph(g, plain)
	var types []cmdb.RelTypeName
	for _, name := range g.Registry().RelTypes() {
		if rt, _ := g.Registry().RelType(name); plain(rt) {
			types = append(types, name)
		}
	}
	checked, total := 0, 0
	g.EachCI(func(n cmdb.Node) bool {
		if n.Class != cmdb.ClassNetworkDevice && n.Class != cmdb.ClassVirtualMachine && n.Class != cmdb.ClassStorageDevice {
			return true
		}
		r, err := g.Impact(cmdb.Query{Origins: []cmdb.ID{n.ID}, Types: types})
		require.NoError(t, err)
		want := map[int64]bool{}
		var bf traverse.BreadthFirst
		bf.Visit = func(v graph.Node) { want[v.ID()] = true }
		bf.Walk(dg, dg.Node(pos[n.ID]), nil)
		got := map[int64]bool{}
		for _, node := range r.All() {
			got[pos[node.ID]] = true
		}
		require.Equal(t, want, got, "reach of %s", n.Name)
		checked++
		total += len(got)
		return checked < 200
	})
	require.Equal(t, 200, checked)
	require.Greater(t, total, 5*checked, "the origins reach well beyond themselves")
}
