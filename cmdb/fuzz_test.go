package cmdb_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// fuzzTypes are the relationship types of the random graphs, one per way
// impact can flow.
var fuzzTypes = []cmdb.RelType{
	{Name: "f_dep", Flow: cmdb.FlowToFrom},
	{Name: "f_prov", Flow: cmdb.FlowFromTo},
	{Name: "f_both", Flow: cmdb.FlowBoth},
	{Name: "f_none", Flow: cmdb.FlowNone},
	{Name: "f_red", Flow: cmdb.FlowFromTo, Redundant: true},
}

type fuzzEdge struct {
	from, to int
	t        int // index into fuzzTypes
}

var fuzzStatuses = []cmdb.Status{cmdb.StatusInUse, cmdb.StatusInUse, cmdb.StatusInUse, cmdb.StatusInMaintenance, cmdb.StatusRetired, cmdb.StatusPlanned}

// reference computes downstream or upstream impact the plain way: a
// breadth-first fixpoint over the whole edge list, re-scanned until nothing
// changes, with no indexes and no scratch memory. It returns the set
// reached.
func reference(n int, status []cmdb.Status, minUp []int, edges []fuzzEdge, origins []int, excluded []bool, down bool) map[int]bool {
	in := map[int]bool{}
	for _, o := range origins {
		in[o] = true
	}
	isOrigin := func(w int) bool { return slices.Contains(origins, w) }
	eligible := func(v int) bool {
		return !excluded[v] && (status[v] == cmdb.StatusInUse || status[v] == cmdb.StatusInMaintenance)
	}
	propagates := func(w int) bool { return isOrigin(w) || !down || status[w] == cmdb.StatusInUse }
	// flows reports whether e carries impact from w to v in the analysed direction.
	flows := func(e fuzzEdge, w, v int) bool {
		f := fuzzTypes[e.t].Flow
		fwd := e.from == w && e.to == v // along the edge
		bwd := e.from == v && e.to == w
		if !down {
			fwd, bwd = bwd, fwd
		}
		switch f {
		case cmdb.FlowFromTo:
			return fwd
		case cmdb.FlowToFrom:
			return bwd
		case cmdb.FlowBoth:
			return fwd || bwd
		}
		return false
	}
	for changed := true; changed; {
		changed = false
		for v := range n {
			if in[v] || !eligible(v) {
				continue
			}
			for _, e := range edges {
				w := e.from
				if w == v {
					w = e.to
				}
				if (e.from != v && e.to != v) || !in[w] || !propagates(w) || !flows(e, w, v) {
					continue
				}
				if down && fuzzTypes[e.t].Redundant {
					up := 0
					for _, p := range edges {
						if p.t == e.t && p.to == v && status[p.from] == cmdb.StatusInUse && !in[p.from] {
							up++
						}
					}
					if up >= minUp[v] {
						continue
					}
				}
				in[v] = true
				changed = true
				break
			}
		}
	}
	return in
}

func FuzzImpact(f *testing.F) {
	f.Add([]byte{8, 0, 1, 0, 1, 2, 1, 2, 3, 4, 3, 4, 2})
	f.Add([]byte{12, 3, 0, 4, 4, 1, 4, 4, 2, 4, 5, 3, 0, 5, 6, 1, 6, 7, 2, 0x81, 9})
	f.Add([]byte{30, 7, 200, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 || len(data) > 400 {
			return
		}
		reg := cmdb.NewRegistry()
		for _, ft := range fuzzTypes {
			ft.Parent, ft.Child, ft.Kind, ft.Cardinality, ft.OnDelete = "p", "c", cmdb.KindDependency, cmdb.ManyToMany, cmdb.DeleteDetach
			ft.Allowed = []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}}
			require.NoError(t, reg.AddRelType(ft))
		}
		g, err := cmdb.NewGraph(reg, "fuzz")
		require.NoError(t, err)
		g.SetMergeThreshold(int(data[1]%8) + 1) // exercise the append buffer and merges

		n := 2 + int(data[0])%30
		flags := data[2]
		down := flags&1 == 0
		gen := itsmtest.NewIDs(uint64(len(data)))
		ids := make([]cmdb.ID, n)
		status := make([]cmdb.Status, n)
		minUp := make([]int, n)
		rest := data[3:]
		for v := range n {
			var b byte
			if v < len(rest) {
				b = rest[v]
			}
			status[v] = fuzzStatuses[int(b)%len(fuzzStatuses)]
			minUp[v] = 1 + int(b>>4)%3
			c, err := reg.Make(gen, fixedClock(), cmdb.NewCI{Tenant: "fuzz", Class: cmdb.ClassGroup, Name: fmt.Sprint("n", v),
				Status: status[v], Attributes: map[string]cmdb.Value{cmdb.AttrMinUp: cmdb.IntValue(int64(minUp[v]))}})
			require.NoError(t, err)
			require.NoError(t, g.AddCI(c))
			ids[v] = c.ID
		}
		var edges []fuzzEdge
		for i := 0; i+2 < len(rest); i += 3 {
			e := fuzzEdge{from: int(rest[i]) % n, to: int(rest[i+1]) % n, t: int(rest[i+2]) % len(fuzzTypes)}
			if e.from == e.to || slices.Contains(edges, e) {
				continue
			}
			id, err := cmdb.NewRelationshipID(gen)
			require.NoError(t, err)
			require.NoError(t, g.AddRelationship(cmdb.Relationship{ID: id, Tenant: "fuzz", Type: fuzzTypes[e.t].Name,
				From: ids[e.from], To: ids[e.to], Created: t0}))
			edges = append(edges, e)
		}
		origins := []int{int(data[1]) % n}
		if o := int(flags>>1) % n; flags&0x10 != 0 && o != origins[0] {
			origins = append(origins, o)
		}
		excluded := make([]bool, n)
		q := cmdb.Query{Direction: cmdb.Downstream, Types: []cmdb.RelTypeName{"f_dep", "f_prov", "f_both", "f_none", "f_red"}}
		if !down {
			q.Direction = cmdb.Upstream
		}
		for _, o := range origins {
			q.Origins = append(q.Origins, ids[o])
		}
		if x := int(flags>>5) % n; flags&0x80 != 0 && !slices.Contains(origins, x) {
			excluded[x] = true
			q.Exclude = []cmdb.ID{ids[x]}
		}

		r, err := g.Impact(q)
		require.NoError(t, err)
		want := reference(n, status, minUp, edges, origins, excluded, down)
		pos := map[cmdb.ID]int{}
		for v, id := range ids {
			pos[id] = v
		}
		got := map[int]bool{}
		for i, node := range r.All() {
			v := pos[node.ID]
			require.False(t, got[v], "CI n%d reported twice", v)
			got[v] = true
			path, via := r.Path(i)
			require.Len(t, path, node.Depth+1)
			require.Equal(t, node.Origin, slices.Contains(origins, v))
			for k := range via {
				a, b := pos[path[k]], pos[path[k+1]]
				ok := slices.ContainsFunc(edges, func(e fuzzEdge) bool {
					if fuzzTypes[e.t].Name != via[k] {
						return false
					}
					f := fuzzTypes[e.t].Flow
					along := e.from == a && e.to == b
					against := e.from == b && e.to == a
					if !down {
						along, against = against, along
					}
					return f == cmdb.FlowBoth && (along || against) || f == cmdb.FlowFromTo && along || f == cmdb.FlowToFrom && against
				})
				require.True(t, ok, "step n%d -%s-> n%d of the path to n%d is not a relationship carrying impact", a, via[k], b, v)
			}
			if k := len(path) - 2; k >= 0 {
				require.Equal(t, path[k], r.ID(node.Parent))
			}
		}
		require.Equal(t, want, got, "reached set differs from the reference")
		require.False(t, r.Truncated)

		// A node cap keeps a subset and says so when it cut something.
		capN := int(flags>>2)%4 + 1
		q.MaxNodes = capN
		rc, err := g.Impact(q)
		require.NoError(t, err)
		require.LessOrEqual(t, rc.Len(), len(origins)+capN)
		for _, node := range rc.All() {
			require.True(t, got[pos[node.ID]])
		}
		if len(got) > len(origins)+capN {
			require.True(t, rc.Truncated)
		}
	})
}
