package cmdb

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
)

// LoadGraph builds the graph of tenant's CMDB from repo, checked against
// reg (the registry repo enforces): every CI, then every relationship, read
// page by page (ListCIs, ListRelationships, MaxPageLimit at a time) and
// added in ID order, so two loads of the same data give the same graph and
// the same answers. It keeps one page at a time besides the graph, merges
// the relationships into the compact arrays once, at the end, and returns
// the graph compacted.
//
// Without a transaction around it the pages may mix instants: a
// relationship may arrive whose end was created after the CI listing went
// past it, or that breaks a rule only together with one deleted meanwhile.
// Such a relationship, which the graph refuses (dangling end, duplicate,
// cardinality, cycle), is an error wrapping itsm.ErrConflict and the graph's
// refusal: read again. To read one state, call LoadGraph with the
// Repository that Atomic.Atomically hands its function, where the
// adapter's transactions see one.
//
// Other errors: repo's (ctx's end among them); a *itsm.ValidationError
// naming "tenant" or "registry" as NewGraph does; a CI or relationship reg
// refuses on its own — a class, attribute or relationship type it does not
// know, a class pair it does not allow: not the registry repo enforces —
// as a *itsm.ValidationError wrapped with the record's ID.
func LoadGraph(ctx context.Context, repo Repository, reg *Registry, tenant itsm.TenantID) (*Graph, error) {
	g, err := NewGraph(reg, tenant)
	if err != nil {
		return nil, err
	}
	for after := (ID{}); ; {
		page, err := repo.ListCIs(ctx, tenant, Filter{}, Page{After: after, Limit: MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			if err := g.loadCI(&page.Items[i].CI); err != nil {
				return nil, err
			}
		}
		if page.Next.IsZero() {
			break
		}
		after = page.Next
	}
	merge := g.minMerge
	g.minMerge = math.MaxInt // one merge, at the end
	defer func() { g.minMerge = merge }()
	for after := (RelationshipID{}); ; {
		page, err := repo.ListRelationships(ctx, tenant, RelationshipPage{After: after, Limit: MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for _, rel := range page.Items {
			if err := g.loadRelationship(rel, true); err != nil {
				return nil, err
			}
		}
		if page.Next.IsZero() {
			break
		}
		after = page.Next
	}
	g.Compact()
	return g, nil
}

// Graph builds the graph of the snapshot's CIs and relationships, checked
// against reg, in ID order (the graph LoadGraph builds from a repository
// holding the same data), sized for them up front, and compacted. A
// snapshot may hold what a graph refuses, such as a dangling relationship
// (Registry.Health reports those): it returns the graph's refusal
// (AddCI's or AddRelationship's errors, a *itsm.ValidationError or one
// wrapping itsm.ErrAlreadyExists) wrapped with the record's ID, and a
// *itsm.ValidationError naming "registry" when reg is nil.
func (s *Snapshot) Graph(reg *Registry) (*Graph, error) {
	g, err := NewGraph(reg, s.tenant)
	if err != nil {
		return nil, err
	}
	g.reserve(len(s.order), len(s.rels))
	for _, id := range s.order {
		if err := g.loadCI(&s.recs[id].CI); err != nil {
			return nil, err
		}
	}
	merge := g.minMerge
	g.minMerge = math.MaxInt // one merge, at the end
	rels := slices.SortedFunc(maps.Values(s.rels), func(a, b *Relationship) int { return a.ID.Compare(b.ID) })
	for _, rel := range rels {
		if err := g.loadRelationship(*rel, false); err != nil {
			return nil, err
		}
	}
	g.minMerge = merge
	g.Compact()
	return g, nil
}

// loadCI adds a CI read from a store, naming it in the error.
func (g *Graph) loadCI(c *CI) error {
	if err := g.AddCI(*c); err != nil {
		return fmt.Errorf("cmdb: loading CI %s: %w", c.ID, err)
	}
	return nil
}

// loadRelationship adds a relationship read from a store, naming it in the
// error. With live set (pages of a store that may change meanwhile), a
// refusal that only concurrent writes can explain wraps itsm.ErrConflict:
// every one but the relationship's own faults (Registry.
// ValidateRelationship) and a class pair the type does not allow, which
// two states of one store cannot produce.
func (g *Graph) loadRelationship(rel Relationship, live bool) error {
	err := g.AddRelationship(rel)
	if err == nil {
		return nil
	}
	if live && g.reg.ValidateRelationship(rel) == nil && rel.Tenant == g.tenant {
		from, okF := g.Node(rel.From)
		to, okT := g.Node(rel.To)
		if !okF || !okT || g.reg.Allows(rel.Type, from.Class, to.Class) {
			return fmt.Errorf("cmdb: loading relationship %s: the CMDB changed while it was read (%w): %w", rel.ID, err, itsm.ErrConflict)
		}
	}
	return fmt.Errorf("cmdb: loading relationship %s: %w", rel.ID, err)
}

// reserve makes room for cis more CIs and rels more relationships, so a
// bulk load of known size grows nothing.
func (g *Graph) reserve(cis, rels int) {
	if len(g.index) == 0 {
		g.index = make(map[uuid.UUID]int32, cis)
	}
	g.nodes = slices.Grow(g.nodes, cis)
	g.state = slices.Grow(g.state, cis)
	for _, s := range []*[]int32{&g.outDeg, &g.inDeg, &g.outHead, &g.inHead, &g.outTail, &g.inTail} {
		*s = slices.Grow(*s, cis)
	}
	g.eID = slices.Grow(g.eID, rels)
	g.eType = slices.Grow(g.eType, rels)
	g.eCreated = slices.Grow(g.eCreated, rels)
	for _, s := range []*[]int32{&g.eFrom, &g.eTo, &g.outNext, &g.inNext} {
		*s = slices.Grow(*s, rels)
	}
}
