package cmdb_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// generated generates a CMDB of n CIs: the graph, and its CIs (as records)
// and relationships.
func generated(tb testing.TB, reg *cmdb.Registry, n int) (*cmdb.Graph, []cmdb.Record, []cmdb.Relationship) {
	tb.Helper()
	g, err := cmdb.Generate(reg, cmdb.GenerateOptions{CIs: n, Seed: 3, Tenant: "acme"})
	require.NoError(tb, err)
	var recs []cmdb.Record
	g.EachCI(func(nd cmdb.Node) bool {
		attrs := required(nd.Class, nd.Name)
		if nd.Class == cmdb.ClassCluster {
			attrs = map[string]cmdb.Value{cmdb.AttrMinUp: cmdb.IntValue(int64(nd.MinUp))}
		}
		recs = append(recs, cmdb.Record{CI: cmdb.CI{ID: nd.ID, Tenant: "acme", Class: nd.Class, Name: nd.Name, Status: nd.Status,
			Attributes: attrs, Created: t0, Updated: t0}})
		return true
	})
	var rels []cmdb.Relationship
	g.EachRelationship(func(r cmdb.Relationship) bool { rels = append(rels, r); return true })
	return g, recs, rels
}

// storeGenerated generates a CMDB of n CIs and writes it into a new memory
// store: the graph, and the store with the same CIs and relationships.
func storeGenerated(tb testing.TB, reg *cmdb.Registry, n int) (*cmdb.Graph, cmdb.Repository) {
	tb.Helper()
	g, recs, rels := generated(tb, reg, n)
	repo, err := storage.CMDBRepository(memory.New(), reg)
	require.NoError(tb, err)
	ctx := context.Background()
	for _, r := range recs {
		require.NoError(tb, repo.CreateCI(ctx, r))
	}
	for _, r := range rels {
		require.NoError(tb, repo.CreateRelationship(ctx, r))
	}
	return g, repo
}

// contents returns the graph's CIs and relationships, sorted by ID.
func contents(g *cmdb.Graph) ([]cmdb.Node, []cmdb.Relationship) {
	var nodes []cmdb.Node
	g.EachCI(func(n cmdb.Node) bool { nodes = append(nodes, n); return true })
	slices.SortFunc(nodes, func(a, b cmdb.Node) int { return a.ID.Compare(b.ID) })
	var rels []cmdb.Relationship
	g.EachRelationship(func(r cmdb.Relationship) bool { rels = append(rels, r); return true })
	slices.SortFunc(rels, func(a, b cmdb.Relationship) int { return a.ID.Compare(b.ID) })
	return nodes, rels
}

// reached returns the IDs an analysis reached, sorted, and its services'.
func reached(t *testing.T, g *cmdb.Graph, q cmdb.Query) ([]cmdb.ID, []cmdb.ID) {
	t.Helper()
	r, err := g.Impact(q)
	require.NoError(t, err)
	var all, svc []cmdb.ID
	for i := range r.Len() {
		all = append(all, r.ID(i))
	}
	for _, i := range r.Services {
		svc = append(svc, r.ID(i))
	}
	slices.SortFunc(all, cmdb.ID.Compare)
	slices.SortFunc(svc, cmdb.ID.Compare)
	return all, svc
}

// sameGraph checks that two graphs hold the same CIs and relationships and
// answer analyses from every tenth CI alike.
func sameGraph(t *testing.T, want, got *cmdb.Graph) {
	t.Helper()
	wn, wr := want.Len()
	gn, gr := got.Len()
	require.Equal(t, wn, gn, "CIs")
	require.Equal(t, wr, gr, "relationships")
	wNodes, wRels := contents(want)
	gNodes, gRels := contents(got)
	require.Equal(t, wNodes, gNodes)
	require.Equal(t, wRels, gRels)
	for i := 0; i < len(wNodes); i += 10 {
		for _, dir := range []cmdb.Direction{cmdb.Downstream, cmdb.Upstream} {
			q := cmdb.Query{Origins: []cmdb.ID{wNodes[i].ID}, Direction: dir}
			wa, ws := reached(t, want, q)
			ga, gs := reached(t, got, q)
			require.Equal(t, wa, ga, "%s from %s", dir, wNodes[i].Name)
			require.Equal(t, ws, gs, "%s services from %s", dir, wNodes[i].Name)
		}
	}
}

func TestLoadGraph(t *testing.T) {
	reg := cmdb.NewRegistry()
	want, repo := storeGenerated(t, reg, 2500) // several pages of CIs and of relationships
	ctx := context.Background()

	g, err := cmdb.LoadGraph(ctx, repo, reg, "acme")
	require.NoError(t, err)
	assert.Zero(t, g.Pending(), "compacted")
	assert.Equal(t, itsm.TenantID("acme"), g.Tenant())
	_, rels := g.Len()
	assert.Greater(t, rels, 2*cmdb.MaxPageLimit)
	sameGraph(t, want, g)

	t.Run("from a snapshot: the same graph, in the same order", func(t *testing.T) {
		snap, err := cmdb.LoadSnapshot(ctx, repo, "acme")
		require.NoError(t, err)
		fromSnap, err := snap.Graph(reg)
		require.NoError(t, err)
		assert.Zero(t, fromSnap.Pending())
		sameGraph(t, g, fromSnap)
		var a, b []cmdb.Relationship
		g.EachRelationship(func(r cmdb.Relationship) bool { a = append(a, r); return true })
		fromSnap.EachRelationship(func(r cmdb.Relationship) bool { b = append(b, r); return true })
		assert.Equal(t, a, b, "added in the same order")
		var origin cmdb.ID
		g.EachCI(func(n cmdb.Node) bool { origin = n.ID; return n.Class != cmdb.ClassNetworkDevice })
		ra, err := g.Impact(cmdb.Query{Origins: []cmdb.ID{origin}})
		require.NoError(t, err)
		rb, err := fromSnap.Impact(cmdb.Query{Origins: []cmdb.ID{origin}})
		require.NoError(t, err)
		assert.Greater(t, ra.Len(), 1)
		assert.Equal(t, names(ra), names(rb), "same order, same answer")
	})

	t.Run("an empty tenant", func(t *testing.T) {
		g, err := cmdb.LoadGraph(ctx, repo, reg, "nobody")
		require.NoError(t, err)
		cis, rels := g.Len()
		assert.Zero(t, cis+rels)
	})
}

// TestLoadGraphAfterDeletes deletes CIs from the store and removes them
// from a graph loaded before: the graph kept in step equals the graph
// loaded afresh.
func TestLoadGraphAfterDeletes(t *testing.T) {
	reg := cmdb.NewRegistry()
	_, repo := storeGenerated(t, reg, 1500)
	ctx := context.Background()
	g, err := cmdb.LoadGraph(ctx, repo, reg, "acme")
	require.NoError(t, err)
	g.SetMergeThreshold(64) // merge now and then between the removals
	nodes, _ := contents(g)
	rnd := rand.New(rand.NewPCG(1, 2))
	deleted, refused := 0, 0
	for range 150 {
		n := nodes[rnd.IntN(len(nodes))]
		cur, err := repo.GetCI(ctx, "acme", n.ID)
		if errors.Is(err, itsm.ErrNotFound) {
			_, gerr := g.RemoveCI(n.ID)
			require.ErrorIs(t, gerr, itsm.ErrNotFound, "gone from both")
			continue
		}
		require.NoError(t, err)
		want, serr := repo.DeleteCI(ctx, "acme", n.ID, cur.Version)
		got, gerr := g.RemoveCI(n.ID)
		if serr != nil {
			var ve *itsm.ValidationError
			require.ErrorAs(t, serr, &ve)
			requireInvalid(t, gerr, "id")
			refused++
			continue
		}
		require.NoError(t, gerr)
		require.Equal(t, want, got)
		deleted += len(got)
		if rnd.IntN(3) == 0 { // and a relationship now and then
			rels, err := repo.RelationshipsOf(ctx, "acme", nodes[rnd.IntN(len(nodes))].ID)
			require.NoError(t, err)
			if len(rels) > 0 {
				r := rels[0]
				require.NoError(t, repo.DeleteRelationship(ctx, "acme", r.ID))
				require.NoError(t, g.RemoveRelationship(r.From, r.Type, r.To))
			}
		}
	}
	assert.Greater(t, deleted, 100)
	assert.Positive(t, refused, "some CIs are restricted")
	fresh, err := cmdb.LoadGraph(ctx, repo, reg, "acme")
	require.NoError(t, err)
	sameGraph(t, fresh, g)
	g.Compact()
	sameGraph(t, fresh, g)
}

// mixedRepo serves listings that do not fit together, as pages read while
// the store changes may: CIs left out, relationships added.
type mixedRepo struct {
	cmdb.Repository
	skip  cmdb.ID
	extra []cmdb.Relationship
}

func (m *mixedRepo) ListCIs(ctx context.Context, tenant itsm.TenantID, f cmdb.Filter, p cmdb.Page) (cmdb.CIPage, error) {
	page, err := m.Repository.ListCIs(ctx, tenant, f, p)
	page.Items = slices.DeleteFunc(page.Items, func(r cmdb.Record) bool { return r.ID == m.skip })
	return page, err
}

func (m *mixedRepo) ListRelationships(ctx context.Context, tenant itsm.TenantID, p cmdb.RelationshipPage) (cmdb.RelationshipList, error) {
	page, err := m.Repository.ListRelationships(ctx, tenant, p)
	if page.Next.IsZero() {
		page.Items = append(page.Items, m.extra...)
	}
	return page, err
}

func TestLoadGraphErrors(t *testing.T) {
	ctx := context.Background()
	f := newStoreFixture(t)
	buildServiceStack(f)
	f.ci("vm2", cmdb.ClassVirtualMachine, cmdb.StatusInUse)
	rel := func(from string, typ cmdb.RelTypeName, to string) cmdb.Relationship {
		id, err := cmdb.NewRelationshipID(f.gen)
		require.NoError(t, err)
		return cmdb.Relationship{ID: id, Tenant: "acme", Type: typ, From: f.ids[from], To: f.ids[to], Created: t0}
	}
	other := cmdb.NewRegistry()
	require.NoError(t, other.AddRelType(cmdb.RelType{Name: "feeds", Parent: "Feeds", Child: "Fed by", Kind: cmdb.KindUsage,
		Flow: cmdb.FlowFromTo, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
		Allowed: []cmdb.ClassPair{{From: cmdb.ClassDevice, To: cmdb.ClassDevice}}}))
	withFeeds := cmdb.NewRegistry()
	require.NoError(t, withFeeds.AddRelType(cmdb.RelType{Name: "feeds", Parent: "Feeds", Child: "Fed by", Kind: cmdb.KindUsage,
		Flow: cmdb.FlowFromTo, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
		Allowed: []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}}}))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name     string
		repo     cmdb.Repository
		reg      *cmdb.Registry
		tenant   itsm.TenantID
		ctx      context.Context
		conflict bool
		field    string // a *itsm.ValidationError naming it
		is       error
	}{
		{name: "a CI created behind the listing: dangling end", repo: &mixedRepo{Repository: f.repo, skip: f.ids["db"]},
			conflict: true, field: "from"},
		{name: "a second host, the first deleted meanwhile: cardinality", repo: &mixedRepo{Repository: f.repo,
			extra: []cmdb.Relationship{rel("app", cmdb.RelRunsOn, "vm2")}}, conflict: true, field: "type"},
		{name: "a relationship listed twice", repo: &mixedRepo{Repository: f.repo,
			extra: []cmdb.Relationship{rel("shop", cmdb.RelDependsOn, "checkout")}}, conflict: true, is: itsm.ErrAlreadyExists},
		{name: "a class pair the registry does not allow: another registry", reg: other,
			repo: &mixedRepo{Repository: f.repo, extra: []cmdb.Relationship{rel("app", "feeds", "db")}}, field: "type"},
		{name: "a type the registry does not know", repo: &mixedRepo{Repository: f.repo,
			extra: []cmdb.Relationship{rel("app", "feeds", "db")}}, field: "type"},
		{name: "the registry's class pairs, on the store's side", reg: withFeeds,
			repo: &mixedRepo{Repository: f.repo, extra: []cmdb.Relationship{rel("app", "feeds", "db")}}},
		{name: "no registry", reg: nil, field: "registry"},
		{name: "bad tenant", tenant: "a b", field: "tenant"},
		{name: "cancelled", ctx: cancelled, is: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo, reg, tenant, c := tc.repo, tc.reg, tc.tenant, tc.ctx
			if repo == nil {
				repo = f.repo
			}
			if reg == nil && tc.field != "registry" {
				reg = f.reg
			}
			if tenant == "" {
				tenant = "acme"
			}
			if c == nil {
				c = ctx
			}
			g, err := cmdb.LoadGraph(c, repo, reg, tenant)
			if !tc.conflict && tc.field == "" && tc.is == nil {
				require.NoError(t, err)
				assert.NotNil(t, g)
				return
			}
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Equal(t, tc.conflict, errors.Is(err, itsm.ErrConflict), "conflict: %v", err)
			if tc.field != "" {
				requireInvalid(t, err, tc.field)
			}
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}

	t.Run("a snapshot with a dangling relationship", func(t *testing.T) {
		snap, err := cmdb.LoadSnapshot(ctx, f.repo, "acme")
		require.NoError(t, err)
		recs := slices.DeleteFunc(snap.Records(), func(r cmdb.Record) bool { return r.ID == f.ids["db"] })
		bad, err := cmdb.NewSnapshot("acme", recs, snap.Relationships())
		require.NoError(t, err, "a snapshot keeps dangling relationships")
		_, err = bad.Graph(f.reg)
		requireInvalid(t, err, "from")
		assert.NotErrorIs(t, err, itsm.ErrConflict, "a snapshot does not change while read")
		_, err = snap.Graph(nil)
		requireInvalid(t, err, "registry")
	})
}
