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
	items, next := pageOf(p.recs, func(r cmdb.Record) cmdb.ID { return r.ID }, pg.After, pg.EffectiveLimit())
	return cmdb.CIPage{Items: items, Next: next}, nil
}

func (p *pagedRepo) ListRelationships(_ context.Context, _ itsm.TenantID, pg cmdb.RelationshipPage) (cmdb.RelationshipList, error) {
	items, next := pageOf(p.rels, func(r cmdb.Relationship) cmdb.RelationshipID { return r.ID }, pg.After, pg.EffectiveLimit())
	return cmdb.RelationshipList{Items: items, Next: next}, nil
}

// pageOf returns a copy of the page of items (sorted by id) after the ID
// after, at most limit of them, and the cursor of the next page (the zero
// K on the last).
func pageOf[T any, K interface{ Compare(K) int }](items []T, id func(T) K, after K, limit int) ([]T, K) {
	i, found := slices.BinarySearchFunc(items, after, func(t T, k K) int { return id(t).Compare(k) })
	if found {
		i++
	}
	j := min(len(items), i+limit)
	var next K
	if j < len(items) {
		next = id(items[j-1])
	}
	return slices.Clone(items[i:j]), next
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
