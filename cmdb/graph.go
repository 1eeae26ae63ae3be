package cmdb

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
)

// removedType marks a relationship removed since the last compaction. No
// registry holds this many types, so no analysis ever follows it.
const removedType = 0xFF

// status codes kept per node.
const (
	stPlanned uint8 = iota
	stInUse
	stMaintenance
	stRetired
)

func statusCode(s Status) uint8 {
	switch s {
	case StatusInUse:
		return stInUse
	case StatusInMaintenance:
		return stMaintenance
	case StatusRetired:
		return stRetired
	}
	return stPlanned
}

var statusOfCode = [...]Status{StatusPlanned, StatusInUse, StatusInMaintenance, StatusRetired}

// csr is the adjacency in compressed sparse row form, both directions in
// one run per node: node u's relationships from it (out) are the entries
// off[2u]..off[2u+1] and those to it (in) off[2u+1]..off[2u+2], each in the
// order they were added, so expanding a CI reads one pair of offsets and
// one run of entries. Each entry has its type beside it so a walk filters
// types with one table lookup. (Grouping entries by type would need
// per-type offsets per node, 15×4 bytes per node and direction, and save
// nothing: an impact analysis follows every type that carries impact
// anyway.)
type csr struct {
	off  []int32 // len 2×nodes+1 at the last compaction
	nbr  []int32 // neighbour node index
	typ  []uint8 // relationship type index, removedType once removed
	edge []int32 // edge number, into the Graph's edge columns
}

// span returns node u's entries in one direction (out: u is From); nodes
// added after the compaction have none.
func (c *csr) span(u int32, out bool) (int32, int32) {
	i := 2 * int(u)
	if i+2 >= len(c.off) {
		return 0, 0
	}
	if out {
		return c.off[i], c.off[i+1]
	}
	return c.off[i+1], c.off[i+2]
}

// nodeRec is what the graph keeps of a CI besides its state, in one
// record so reporting a CI costs one memory fetch.
type nodeRec struct {
	id    uuid.UUID
	name  string
	minUp int32
	class uint16
}

// nodeState is what an analysis reads of a CI on every step, kept apart
// from nodeRec in 4 bytes so a step costs one small random read: the
// status, and the class (a copy of nodeRec's) for the headline services.
// gone marks a removed CI's node (in the byte the alignment of class leaves
// free): it has no relationships and is not in the index, so no analysis
// reaches it; walks over every node skip it.
type nodeState struct {
	status uint8
	gone   bool
	class  uint16
}

// Graph is the relationship graph of one tenant, built for analysis. CIs are
// dense integer nodes; relationships are kept column-wise and indexed by
// one compressed adjacency (CSR) holding both directions and carrying the
// type, with no pointer or map per relationship. At 10^6 CIs and 3×10^6 relationships it
// holds well under 1 GiB (see docs/BENCHMARKS.md).
//
// Writes are incremental: a new relationship goes to an append buffer,
// chained per node by integer links, which analysis reads alongside the CSR
// arrays; relationships keep the order they were added whether merged or
// not, so merging never changes an answer. When the buffer outgrows half the compacted relationships (and at
// least 4096), the next write merges it into fresh CSR arrays, so merging
// costs amortised O(1) per write. Compact merges on demand. Removing a
// relationship marks it and leaves the slot until the next merge. Removing
// a CI (RemoveCI) removes its relationships and leaves its node as a
// tombstone, about 80 bytes and its name, that no merge reclaims: node
// numbers never change, so an Impact taken before still reads the CIs it
// reached. A graph through which many CIs have come and gone is best
// rebuilt (LoadGraph) now and then.
//
// A graph is a derived index of the CMDB, not a store: the host keeps it
// in step with its Repository, either by building it afresh (LoadGraph) or
// by applying each write the repository accepted to the graph too: CreateCI
// → AddCI, UpdateCI → UpdateCI, CreateRelationship → AddRelationship,
// DeleteRelationship → RemoveRelationship, DeleteCI → RemoveCI (which
// cascades, detaches and restricts as DeleteCI does, and returns the same
// CIs).
//
// Every write checks its input and refuses, with nothing changed: a CI that
// fails Registry.ValidateCI or belongs to another tenant; a relationship
// whose ends are not in the graph, whose classes the type does not allow,
// that repeats one already present, that breaks its type's cardinality, or
// that closes a cycle among hosting and containment types.
//
// Concurrency: any number of goroutines may query a Graph at once (queries
// only read it); a write must not run concurrently with anything else, so a
// host that writes while serving queries guards the Graph with a
// sync.RWMutex.
type Graph struct {
	reg    *Registry
	tenant itsm.TenantID

	// nodes, numbered in the order added and never renumbered, so an
	// Impact may keep node numbers and read names later; a removed CI
	// leaves its node behind (state.gone), out of the index
	nodes  []nodeRec
	gone   int // removed CIs' nodes
	index  map[uuid.UUID]int32
	state  []nodeState // apart from nodes: read on every step of an analysis
	outDeg []int32     // live relationships per node and direction
	inDeg  []int32

	// relationships, by edge number
	eID      []uuid.UUID
	eFrom    []int32
	eTo      []int32
	eType    []uint8
	eCreated []int64 // Unix microseconds
	removed  int

	// adjacency
	adj      csr
	base     int32   // edges below base are in the CSR arrays
	outHead  []int32 // per node, oldest pending edge from it, or -1
	inHead   []int32
	outTail  []int32 // per node, newest pending edge from it, or -1
	inTail   []int32
	outNext  []int32 // per pending edge (e-base), next newer pending edge
	inNext   []int32
	minMerge int

	scratch sync.Pool // *scratch for queries
}

// NewGraph returns an empty graph of tenant's CIs checked against reg. It
// returns a *itsm.ValidationError naming "tenant" or "registry".
func NewGraph(reg *Registry, tenant itsm.TenantID) (*Graph, error) {
	if reg == nil {
		return nil, itsm.NewValidationError("registry", "must not be nil")
	}
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	g := &Graph{reg: reg, tenant: tenant, index: map[uuid.UUID]int32{}, minMerge: 4096}
	g.adj.off = []int32{0}
	return g, nil
}

// Registry returns the registry the graph checks against.
func (g *Graph) Registry() *Registry { return g.reg }

// Tenant returns the tenant whose CIs the graph holds.
func (g *Graph) Tenant() itsm.TenantID { return g.tenant }

// Len returns how many CIs and live relationships the graph holds.
func (g *Graph) Len() (cis, relationships int) {
	return len(g.nodes) - g.gone, len(g.eFrom) - g.removed
}

// Pending returns how many relationships wait in the append buffer.
func (g *Graph) Pending() int { return len(g.eFrom) - int(g.base) }

// Node is what the graph keeps of a CI.
type Node struct {
	ID     ID
	Class  ClassName
	Name   string
	Status Status
	// MinUp is the CI's AttrMinUp (1 when absent).
	MinUp int
}

// Node returns what the graph keeps of CI id.
func (g *Graph) Node(id ID) (Node, bool) {
	u, ok := g.index[id.UUID()]
	if !ok {
		return Node{}, false
	}
	return g.node(u), true
}

func (g *Graph) node(u int32) Node {
	return Node{
		ID: IDFromUUID(g.nodes[u].id), Class: g.reg.classes[g.nodes[u].class].Name, Name: g.nodes[u].name,
		Status: statusOfCode[g.state[u].status], MinUp: int(g.nodes[u].minUp),
	}
}

// AddCI adds a CI. It returns a *itsm.ValidationError from
// Registry.ValidateCI or naming "tenant" for another tenant's CI, and an
// error wrapping itsm.ErrAlreadyExists when the ID is already in the graph.
func (g *Graph) AddCI(c CI) error {
	if err := g.checkCI(c); err != nil {
		return err
	}
	if _, dup := g.index[c.ID.UUID()]; dup {
		return fmt.Errorf("cmdb: CI %s: %w", c.ID, itsm.ErrAlreadyExists)
	}
	u := int32(len(g.nodes))
	g.index[c.ID.UUID()] = u
	class := uint16(g.reg.byName[c.Class])
	g.nodes = append(g.nodes, nodeRec{id: c.ID.UUID(), name: c.Name, minUp: minUp(c), class: class})
	g.state = append(g.state, nodeState{status: statusCode(c.Status), class: class})
	g.outDeg = append(g.outDeg, 0)
	g.inDeg = append(g.inDeg, 0)
	g.outHead = append(g.outHead, -1)
	g.inHead = append(g.inHead, -1)
	g.outTail = append(g.outTail, -1)
	g.inTail = append(g.inTail, -1)
	return nil
}

func (g *Graph) checkCI(c CI) error {
	if err := g.reg.ValidateCI(c); err != nil {
		return err
	}
	if c.Tenant != g.tenant {
		return itsm.NewValidationError("tenant", fmt.Sprintf("the graph holds tenant %s's CIs", g.tenant))
	}
	return nil
}

// UpdateCI replaces what the graph keeps of an existing CI: name, status and
// min_up. It returns the errors of AddCI, a *itsm.ValidationError naming
// "class" when the class changed (relationships were checked against it), and
// an error wrapping itsm.ErrNotFound for a CI not in the graph.
func (g *Graph) UpdateCI(c CI) error {
	if err := g.checkCI(c); err != nil {
		return err
	}
	u, ok := g.index[c.ID.UUID()]
	if !ok {
		return fmt.Errorf("cmdb: CI %s: %w", c.ID, itsm.ErrNotFound)
	}
	if g.reg.classes[g.nodes[u].class].Name != c.Class {
		return itsm.NewValidationError("class", "cannot change: relate a new CI instead")
	}
	g.state[u].status = statusCode(c.Status)
	g.nodes[u].minUp = minUp(c)
	g.nodes[u].name = c.Name
	return nil
}

// SetStatus changes the status of CI id. It returns a *itsm.ValidationError
// naming "status" for an unknown status and an error wrapping
// itsm.ErrNotFound for a CI not in the graph.
func (g *Graph) SetStatus(id ID, s Status) error {
	if !s.Valid() {
		return itsm.NewValidationError("status", fmt.Sprintf("%q is not planned, in_use, in_maintenance or retired", clip(string(s))))
	}
	u, ok := g.index[id.UUID()]
	if !ok {
		return fmt.Errorf("cmdb: CI %s: %w", id, itsm.ErrNotFound)
	}
	g.state[u].status = statusCode(s)
	return nil
}

// each calls f for every live relationship of node u in one direction (out:
// u is From), with the neighbour, type and edge number, in the order they
// were added (CSR entries, then pending ones). f returns false to stop.
func (g *Graph) each(u int32, out bool, f func(v int32, t uint8, e int32) bool) {
	c, head, next := &g.adj, g.inHead, g.inNext
	if out {
		head, next = g.outHead, g.outNext
	}
	lo, hi := c.span(u, out)
	for i := lo; i < hi; i++ {
		if c.typ[i] != removedType && !f(c.nbr[i], c.typ[i], c.edge[i]) {
			return
		}
	}
	for e := head[u]; e >= 0; e = next[e-g.base] {
		if g.eType[e] == removedType {
			continue
		}
		v := g.eFrom[e]
		if out {
			v = g.eTo[e]
		}
		if !f(v, g.eType[e], e) {
			return
		}
	}
}

// find returns the edge number of the live relationship from→to of type t,
// or -1.
func (g *Graph) find(from, to int32, t uint8) int32 {
	found := int32(-1)
	u, v, out := from, to, true
	if g.inDeg[to] < g.outDeg[from] {
		u, v, out = to, from, false
	}
	g.each(u, out, func(w int32, tt uint8, e int32) bool {
		if w == v && tt == t {
			found = e
			return false
		}
		return true
	})
	return found
}

// count returns how many live relationships of type t node u has in one
// direction.
func (g *Graph) count(u int32, out bool, t uint8) int {
	n := 0
	g.each(u, out, func(_ int32, tt uint8, _ int32) bool {
		if tt == t {
			n++
		}
		return true
	})
	return n
}

// AddRelationship adds a relationship between two CIs of the graph. It
// returns a *itsm.ValidationError naming the field: from Registry.
// ValidateRelationship; "tenant" for another tenant; "from" or "to" for a
// CI not in the graph (dangling); "type" for a class pair the type does not
// allow, a cardinality it breaks, or a hosting or containment cycle it would
// close. A relationship of the same type between the same CIs wraps
// itsm.ErrAlreadyExists. Relationship IDs are kept but not checked for
// uniqueness (storage does that).
func (g *Graph) AddRelationship(rel Relationship) error {
	if err := g.reg.ValidateRelationship(rel); err != nil {
		return err
	}
	var errs itsm.FieldErrors
	if rel.Tenant != g.tenant {
		errs.Addf("tenant", "the graph holds tenant %s's relationships", g.tenant)
	}
	from, okF := g.index[rel.From.UUID()]
	if !okF {
		errs.Addf("from", "CI %s is not in the graph", rel.From)
	}
	to, okT := g.index[rel.To.UUID()]
	if !okT {
		errs.Addf("to", "CI %s is not in the graph", rel.To)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	ti := g.reg.relByNm[rel.Type]
	rt := &g.reg.relTypes[ti]
	t := uint8(ti)
	if !g.reg.allows(ti, int(g.nodes[from].class), int(g.nodes[to].class)) {
		return itsm.NewValidationError("type", fmt.Sprintf("%s does not allow %s → %s", rel.Type,
			g.reg.classes[g.nodes[from].class].Name, g.reg.classes[g.nodes[to].class].Name))
	}
	if g.find(from, to, t) >= 0 {
		return fmt.Errorf("cmdb: %s %s %s: %w", rel.From, rel.Type, rel.To, itsm.ErrAlreadyExists)
	}
	if (rt.Cardinality == ManyToOne || rt.Cardinality == OneToOne) && g.count(from, true, t) > 0 {
		return itsm.NewValidationError("type", fmt.Sprintf("%s is %s: %s already has one", rel.Type, rt.Cardinality, rel.From))
	}
	if (rt.Cardinality == OneToMany || rt.Cardinality == OneToOne) && g.count(to, false, t) > 0 {
		return itsm.NewValidationError("type", fmt.Sprintf("%s is %s: %s already has one", rel.Type, rt.Cardinality, rel.To))
	}
	if rt.Kind.Acyclic() && g.closesCycle(from, to, rt) {
		return itsm.NewValidationError("type", fmt.Sprintf("%s %s %s would close a hosting or containment cycle", rel.From, rel.Type, rel.To))
	}
	if g.Pending() >= max(g.minMerge, int(g.base)/2) {
		g.Compact()
	}
	e := int32(len(g.eFrom))
	g.eID = append(g.eID, rel.ID.UUID())
	g.eFrom = append(g.eFrom, from)
	g.eTo = append(g.eTo, to)
	g.eType = append(g.eType, t)
	g.eCreated = append(g.eCreated, rel.Created.UnixMicro())
	g.outNext = append(g.outNext, -1)
	if g.outTail[from] < 0 {
		g.outHead[from] = e
	} else {
		g.outNext[g.outTail[from]-g.base] = e
	}
	g.outTail[from] = e
	g.inNext = append(g.inNext, -1)
	if g.inTail[to] < 0 {
		g.inHead[to] = e
	} else {
		g.inNext[g.inTail[to]-g.base] = e
	}
	g.inTail[to] = e
	g.outDeg[from]++
	g.inDeg[to]++
	return nil
}

// closesCycle reports whether adding from→to of acyclic type rt would close
// a cycle among acyclic types, followed the way impact flows. The new edge
// carries impact from p to q; a cycle exists when q already carries impact
// to p. The search walks from p against the flow (towards hosts and
// containers), where hosting types have at most one step per CI.
func (g *Graph) closesCycle(from, to int32, rt *RelType) bool {
	p, q := to, from // FlowToFrom
	if rt.Flow == FlowFromTo {
		p, q = from, to
	}
	seen := map[int32]bool{p: true}
	stack := []int32{p}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if u == q {
			return true
		}
		visit := func(v int32, t uint8, _ int32) bool {
			if !seen[v] {
				seen[v] = true
				stack = append(stack, v)
			}
			return true
		}
		// Against the flow: providers of u. For to→from types u is From and
		// the provider is To (out-edges); for from→to types the provider is
		// From (in-edges).
		g.each(u, true, func(v int32, t uint8, e int32) bool {
			if t2 := &g.reg.relTypes[t]; t2.Kind.Acyclic() && t2.Flow == FlowToFrom {
				return visit(v, t, e)
			}
			return true
		})
		g.each(u, false, func(v int32, t uint8, e int32) bool {
			if t2 := &g.reg.relTypes[t]; t2.Kind.Acyclic() && t2.Flow == FlowFromTo {
				return visit(v, t, e)
			}
			return true
		})
	}
	return false
}

// RemoveRelationship removes the relationship of type t from one CI to
// another. It returns an error wrapping itsm.ErrNotFound when there is none.
func (g *Graph) RemoveRelationship(from ID, t RelTypeName, to ID) error {
	u, ok1 := g.index[from.UUID()]
	v, ok2 := g.index[to.UUID()]
	ti, ok3 := g.reg.relByNm[t]
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("cmdb: %s %s %s: %w", from, t, to, itsm.ErrNotFound)
	}
	e := g.find(u, v, uint8(ti))
	if e < 0 {
		return fmt.Errorf("cmdb: %s %s %s: %w", from, t, to, itsm.ErrNotFound)
	}
	g.removeEdge(e)
	return nil
}

// removeEdge marks live relationship e removed. A merged one is marked in
// the CSR entries of both its ends too, found by binary search: a node's
// entries in one direction hold ascending edge numbers (buildCSR fills them
// in edge order).
func (g *Graph) removeEdge(e int32) {
	u, v := g.eFrom[e], g.eTo[e]
	g.eType[e] = removedType
	if e < g.base {
		c := &g.adj
		for _, end := range [...]struct {
			n   int32
			out bool
		}{{u, true}, {v, false}} {
			lo, hi := c.span(end.n, end.out)
			if i, ok := slices.BinarySearch(c.edge[lo:hi], e); ok {
				c.typ[lo+int32(i)] = removedType
			}
		}
	}
	g.removed++
	g.outDeg[u]--
	g.inDeg[v]--
}

// RemoveCI removes CI id the way Repository.DeleteCI deletes it, following
// the OnDelete behaviour of each of its relationships' types
// (Registry.DeleteClosure): detach removes the relationship; cascade also
// removes the dependent CI at the other end, recursively; restrict refuses
// while the CI is the independent end of such a relationship. Every
// relationship of a removed CI goes with it. It returns every removed CI,
// id first, then cascaded ones in ascending order — the CIs DeleteCI
// returns for the same data. It returns an error wrapping itsm.ErrNotFound
// when id is not in the graph and a *itsm.ValidationError naming "id" when
// a restrict relationship refuses; either way nothing changes.
//
// The removed CIs leave the index (Node, Relationships and queries no
// longer know them; AddCI may add one again, as a new CI) and keep a
// tombstone node, so an Impact taken before still reads them (see Graph).
// Like every write, it needs exclusive access.
func (g *Graph) RemoveCI(id ID) ([]ID, error) {
	if _, ok := g.index[id.UUID()]; !ok {
		return nil, fmt.Errorf("cmdb: CI %s: %w", id, itsm.ErrNotFound)
	}
	cis, _, err := g.reg.DeleteClosure(id, g.relationsOf)
	if err != nil {
		return nil, err
	}
	var edges []int32
	for _, c := range cis {
		u := g.index[c.UUID()]
		edges = edges[:0]
		collect := func(_ int32, _ uint8, e int32) bool {
			edges = append(edges, e)
			return true
		}
		g.each(u, true, collect)
		g.each(u, false, collect)
		for _, e := range edges {
			g.removeEdge(e) // each yields live ones, and none joins a CI to itself
		}
		delete(g.index, c.UUID())
		g.state[u].gone = true
		g.gone++
	}
	return cis, nil
}

// relationsOf returns every live relationship of CI id in either
// direction, unordered; none for a CI not in the graph.
func (g *Graph) relationsOf(id ID) []Relationship {
	u, ok := g.index[id.UUID()]
	if !ok {
		return nil
	}
	out := make([]Relationship, 0, g.outDeg[u]+g.inDeg[u])
	add := func(_ int32, _ uint8, e int32) bool {
		out = append(out, g.relationship(e))
		return true
	}
	g.each(u, true, add)
	g.each(u, false, add)
	return out
}

// Compact merges the append buffer into the CSR arrays and drops removed
// relationships. Writes call it when the buffer grows large; call it after a
// bulk load so analysis reads only the compact arrays.
func (g *Graph) Compact() {
	if g.removed > 0 {
		k := 0
		for e := range g.eFrom {
			if g.eType[e] == removedType {
				continue
			}
			g.eID[k], g.eFrom[k], g.eTo[k], g.eType[k], g.eCreated[k] = g.eID[e], g.eFrom[e], g.eTo[e], g.eType[e], g.eCreated[e]
			k++
		}
		g.eID, g.eFrom, g.eTo, g.eType, g.eCreated = g.eID[:k], g.eFrom[:k], g.eTo[:k], g.eType[:k], g.eCreated[:k]
		g.removed = 0
	}
	n := len(g.nodes)
	g.adj = buildCSR(n, g.eFrom, g.eTo, g.eType)
	g.base = int32(len(g.eFrom))
	for i := range g.outHead {
		g.outHead[i], g.inHead[i], g.outTail[i], g.inTail[i] = -1, -1, -1, -1
	}
	g.outNext, g.inNext = g.outNext[:0], g.inNext[:0]
}

// buildCSR indexes edges by both ends with a counting sort over buckets
// 2u (edges from u) and 2u+1 (edges to u), stable, so each node's entries
// keep the order the edges were added.
func buildCSR(n int, from, to []int32, typ []uint8) csr {
	m := len(from)
	c := csr{off: make([]int32, 2*n+1), nbr: make([]int32, 2*m), typ: make([]uint8, 2*m), edge: make([]int32, 2*m)}
	for e := range from {
		c.off[2*from[e]+1]++
		c.off[2*to[e]+2]++
	}
	for i := 0; i < 2*n; i++ {
		c.off[i+1] += c.off[i]
	}
	fill := slices.Clone(c.off[:2*n])
	for e := range from {
		o, i := fill[2*from[e]], fill[2*to[e]+1]
		fill[2*from[e]]++
		fill[2*to[e]+1]++
		c.edge[o], c.nbr[o], c.typ[o] = int32(e), to[e], typ[e]
		c.edge[i], c.nbr[i], c.typ[i] = int32(e), from[e], typ[e]
	}
	return c
}

// Relationships returns every live relationship of CI id, in either
// direction, ordered by type name, then From, then To.
func (g *Graph) Relationships(id ID) []Relationship {
	out := g.relationsOf(id)
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b Relationship) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), a.From.Compare(b.From), a.To.Compare(b.To))
	})
	return out
}

func (g *Graph) relationship(e int32) Relationship {
	return Relationship{
		ID: RelationshipIDFromUUID(g.eID[e]), Tenant: g.tenant, Type: g.reg.relTypes[g.eType[e]].Name,
		From: IDFromUUID(g.nodes[g.eFrom[e]].id), To: IDFromUUID(g.nodes[g.eTo[e]].id),
		Created: time.UnixMicro(g.eCreated[e]).UTC(),
	}
}

// EachCI calls f for every CI of the graph (removed ones excepted) in the
// order added until f returns false.
func (g *Graph) EachCI(f func(Node) bool) {
	for u := range g.nodes {
		if g.state[u].gone {
			continue
		}
		if !f(g.node(int32(u))) {
			return
		}
	}
}

// EachRelationship calls f for every live relationship in the order added
// (since the last compaction dropped removed ones) until f returns false.
func (g *Graph) EachRelationship(f func(Relationship) bool) {
	for e := range g.eFrom {
		if g.eType[e] != removedType && !f(g.relationship(int32(e))) {
			return
		}
	}
}
