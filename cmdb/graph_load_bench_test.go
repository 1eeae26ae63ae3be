package cmdb_test

import (
	"context"
	"slices"
	"testing"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
)

// pagedRepo serves listings from sorted slices, as a store would (each
// page a fresh slice), and nothing else: it measures what LoadGraph itself
// costs, apart from a store's reading and decoding.
type pagedRepo struct {
	cmdb.Repository
	recs []cmdb.Record
	rels []cmdb.Relationship
}

func (p *pagedRepo) ListCIs(_ context.Context, _ itsm.TenantID, _ cmdb.Filter, pg cmdb.Page) (cmdb.CIPage, error) {
	i, found := slices.BinarySearchFunc(p.recs, pg.After, func(r cmdb.Record, id cmdb.ID) int { return r.ID.Compare(id) })
	if found {
		i++
	}
	j := min(len(p.recs), i+pg.EffectiveLimit())
	out := cmdb.CIPage{Items: slices.Clone(p.recs[i:j])}
	if j < len(p.recs) {
		out.Next = p.recs[j-1].ID
	}
	return out, nil
}

func (p *pagedRepo) ListRelationships(_ context.Context, _ itsm.TenantID, pg cmdb.RelationshipPage) (cmdb.RelationshipList, error) {
	i, found := slices.BinarySearchFunc(p.rels, pg.After, func(r cmdb.Relationship, id cmdb.RelationshipID) int { return r.ID.Compare(id) })
	if found {
		i++
	}
	j := min(len(p.rels), i+pg.EffectiveLimit())
	out := cmdb.RelationshipList{Items: slices.Clone(p.rels[i:j])}
	if j < len(p.rels) {
		out.Next = p.rels[j-1].ID
	}
	return out, nil
}

// BenchmarkLoadGraph builds the graph of a generated 100,000-CI CMDB (about
// 300,000 relationships), as a host does at start-up: LoadGraph reading
// pages of MaxPageLimit, and Snapshot.Graph. It reports CIs per second.
func BenchmarkLoadGraph(b *testing.B) {
	const n = 100_000
	reg := cmdb.NewRegistry()
	_, recs, rels := generated(b, reg, n)
	slices.SortFunc(recs, func(a, b cmdb.Record) int { return a.ID.Compare(b.ID) })
	slices.SortFunc(rels, func(a, b cmdb.Relationship) int { return a.ID.Compare(b.ID) })
	repo := &pagedRepo{recs: recs, rels: rels}
	snap, err := cmdb.NewSnapshot("acme", recs, rels)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		load func() (*cmdb.Graph, error)
	}{
		{"from=pages", func() (*cmdb.Graph, error) { return cmdb.LoadGraph(ctx, repo, reg, "acme") }},
		{"from=snapshot", func() (*cmdb.Graph, error) { return snap.Graph(reg) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, err := tc.load()
				if err != nil {
					b.Fatal(err)
				}
				if cis, _ := g.Len(); cis != len(recs) {
					b.Fatalf("%d CIs, want %d", cis, len(recs))
				}
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "CIs/s")
		})
	}
}
