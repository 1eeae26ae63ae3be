package bench

import (
	"slices"
	"sync"
	"testing"

	"gonum.org/v1/gonum/graph/simple"

	"github.com/itsmkit/itsmkit/cmdb"
)

// bigCMDB is the generated 1,000,000-CI CMDB with its gonum copy and a query
// reaching about 10,000 CIs, built once per process and only by a benchmark
// that needs it.
var bigCMDB = sync.OnceValue(func() *bigSetup {
	g, err := cmdb.Generate(cmdb.NewRegistry(), cmdb.GenerateOptions{CIs: 1_000_000, Seed: 1})
	if err != nil {
		panic(err)
	}
	dg, pos := gonumGraph(g, carriesImpact)
	s := &bigSetup{g: g, dg: dg}
	// Origins: network devices in the order added (core switches first),
	// added until the itsmkit analysis reaches about 10,000 CIs.
	var nets []cmdb.ID
	g.EachCI(func(n cmdb.Node) bool {
		if n.Class == cmdb.ClassNetworkDevice {
			nets = append(nets, n.ID)
		}
		return len(nets) < 2000
	})
	for _, id := range nets {
		q := cmdb.Query{Origins: append(slices.Clone(s.query.Origins), id)}
		r, err := g.Impact(q)
		if err != nil {
			panic(err)
		}
		s.query, s.reached = q, r.Len()
		if s.reached >= 10_000 {
			break
		}
	}
	for _, id := range s.query.Origins {
		s.origins = append(s.origins, pos[id])
	}
	s.gonumReached = gonumReach(dg, s.origins)
	return s
})

type bigSetup struct {
	g            *cmdb.Graph
	dg           *simple.DirectedGraph
	query        cmdb.Query
	origins      []int64
	reached      int
	gonumReached int
}

// BenchmarkImpact runs the same downstream question on the 1,000,000-CI
// CMDB: itsmkit's typed analysis (flow per type, redundancy gates,
// maintenance, paths) against an untyped gonum breadth-first traversal of
// the same relationships pointed the way impact flows.
func BenchmarkImpact(b *testing.B) {
	s := bigCMDB()
	b.Run("impl=itsmkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.g.Impact(s.query); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(s.reached), "CIs")
		b.ReportMetric(float64(len(s.query.Origins)), "origins")
	})
	b.Run("impl=gonum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			gonumReach(s.dg, s.origins)
		}
		b.ReportMetric(float64(s.gonumReached), "CIs")
		b.ReportMetric(float64(len(s.origins)), "origins")
	})
}
