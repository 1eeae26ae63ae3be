package cmdb

import (
	"encoding/json"
	"fmt"
	"iter"
	"slices"

	"github.com/itsmkit/itsmkit/itsm"
)

// Direction says which way an impact analysis walks.
type Direction string

// The directions.
const (
	// Downstream answers "what does the failure of these CIs impact": it
	// follows each relationship type the way its impact flows.
	Downstream Direction = "downstream"
	// Upstream answers "what do these CIs depend on": it walks against the
	// flow, with no redundancy gating and no maintenance suppression.
	Upstream Direction = "upstream"
)

// Truncation says why an analysis stopped short.
type Truncation string

// The truncation reasons.
const (
	// TruncDepth: CIs at MaxDepth had further CIs to reach.
	TruncDepth Truncation = "depth"
	// TruncNodes: MaxNodes CIs were reached and more would have been.
	TruncNodes Truncation = "nodes"
	// TruncFanOut: a CI had more than MaxFanOut CIs to reach.
	TruncFanOut Truncation = "fan_out"
)

// Query asks for an impact analysis.
type Query struct {
	// Origins are the CIs the analysis starts from (the failed CIs
	// downstream); at least one, each in the graph. Origins propagate
	// whatever their status: the question is "what if they fail".
	Origins []ID
	// Direction is Downstream or Upstream; empty means Downstream.
	Direction Direction
	// Types, when not empty, restricts the analysis to these relationship
	// types (off-by-default ones included if listed); otherwise every type
	// that carries impact and is not off by default is followed.
	Types []RelTypeName
	// Include adds off-by-default types (connects_to) to the default set.
	Include []RelTypeName
	// Exclude lists CIs the analysis must neither report nor pass through.
	// In redundancy groups an excluded CI counts by its status: up when in
	// use, down when in maintenance (excluding it hides it from the answer,
	// it does not bring it back into service). CIs not in the graph are
	// ignored.
	Exclude []ID
	// MaxDepth caps the number of relationships from an origin; 0 means no cap.
	MaxDepth int
	// MaxNodes caps the CIs reported besides the origins; 0 means no cap.
	MaxNodes int
	// MaxFanOut caps the CIs reached from any one CI; 0 means no cap.
	MaxFanOut int
	// ServiceClass is the class whose CIs (and those below it) make the
	// headline; empty means business_service.
	ServiceClass ClassName
}

// Impacted is one CI an analysis reached, as Impact.At returns it.
type Impacted struct {
	// Node is what the graph keeps of the CI. Status is the CI's status
	// during the analysis; Name and MinUp are read from the graph when At is
	// called.
	Node
	// Depth is the number of relationships from the nearest origin; 0 for
	// origins.
	Depth int
	// Parent is the position (for Impact.At) of the CI that reached this
	// one, the previous step of its path; -1 for an origin.
	Parent int
	// Via is the type of the relationship that reached it; empty for an
	// origin.
	Via RelTypeName
	// Origin marks the CIs the analysis started from.
	Origin bool
	// Suppressed marks a CI in maintenance reached downstream: reported,
	// but impact does not propagate through it.
	Suppressed bool
}

// Impact is the answer of an analysis: the CIs reached, each at a position
// from 0 to Len()-1 (At, Path), origins first (in the order given), then
// breadth-first: by depth, and within a depth in the order the traversal
// found them (a CI's outgoing relationships, then its incoming ones, each
// in the order they were added to the graph). The same graph loaded in the
// same order always gives the same answer; loaded in another order, the CIs
// reached are the same but their order and first paths may differ. Each CI
// appears once, reached by its first shortest path.
//
// An Impact keeps, per CI, its node number in the graph and what the
// analysis found (16 bytes, no pointer), and reads IDs, names and classes
// from the graph it came from when asked (At, Path, ServiceNodes, DOT,
// Mermaid): those calls are queries of that graph, safe alongside other
// queries but not alongside its writes, and report names as the graph holds
// them when called. The zero Impact is empty.
type Impact struct {
	// Direction is the direction analysed.
	Direction Direction
	// Services holds the positions of the CIs reached of the query's
	// service class that are not suppressed: the headline answer, in
	// increasing order.
	Services []int
	// Truncated reports that a cap stopped the analysis; Reasons says
	// which, in the order of the constants.
	Truncated bool
	Reasons   []Truncation

	g    *Graph
	hits []hit
}

// hit is one CI an analysis reached.
type hit struct {
	node   int32
	parent int32 // position of the CI that reached it, -1 for an origin
	depth  int32
	via    uint8 // relationship type index; unused for an origin
	flags  uint8 // status code (hitStatus bits), hitOrigin, hitSuppressed
}

const (
	hitStatus     uint8 = 3
	hitOrigin     uint8 = 1 << 2
	hitSuppressed uint8 = 1 << 3
)

// Len returns how many CIs the analysis reached, origins included.
func (r *Impact) Len() int { return len(r.hits) }

// At returns the CI reached at position i, and false (with a zero Impacted)
// when i is out of range.
func (r *Impact) At(i int) (Impacted, bool) {
	if i < 0 || i >= len(r.hits) {
		return Impacted{}, false
	}
	h := &r.hits[i]
	n := Impacted{Node: r.g.node(h.node), Depth: int(h.depth), Parent: int(h.parent),
		Origin: h.flags&hitOrigin != 0, Suppressed: h.flags&hitSuppressed != 0}
	n.Status = statusOfCode[h.flags&hitStatus]
	if !n.Origin {
		n.Via = r.g.reg.relTypes[h.via].Name
	}
	return n, true
}

// All yields every CI reached with its position, in order.
func (r *Impact) All() iter.Seq2[int, Impacted] {
	return func(yield func(int, Impacted) bool) {
		for i := range r.hits {
			if n, _ := r.At(i); !yield(i, n) {
				return
			}
		}
	}
}

// ID returns the ID of the CI reached at position i, and the zero ID when
// i is out of range.
func (r *Impact) ID(i int) ID {
	if i < 0 || i >= len(r.hits) {
		return ID{}
	}
	return IDFromUUID(r.g.nodes[r.hits[i].node].id)
}

// Path returns the CIs from an origin to the CI at position i and the
// relationship types between them (one fewer). It returns nil, nil for a
// position out of range.
func (r *Impact) Path(i int) ([]ID, []RelTypeName) {
	if i < 0 || i >= len(r.hits) {
		return nil, nil
	}
	n := int(r.hits[i].depth) + 1
	ids := make([]ID, n)
	via := make([]RelTypeName, n-1)
	// Parents lie at lower positions, one step shallower each: checking it
	// keeps the walk bounded whatever the hits say.
	for k, j := n-1, i; k >= 0; k-- {
		if j < 0 || j >= len(r.hits) || int(r.hits[j].depth) != k {
			return nil, nil
		}
		h := &r.hits[j]
		ids[k] = IDFromUUID(r.g.nodes[h.node].id)
		if k > 0 {
			via[k-1] = r.g.reg.relTypes[h.via].Name
		}
		j = int(h.parent)
	}
	return ids, via
}

// ServiceNodes returns the headline CIs themselves, in the order of
// Services.
func (r *Impact) ServiceNodes() []Impacted {
	out := make([]Impacted, 0, len(r.Services))
	for _, i := range r.Services {
		if n, ok := r.At(i); ok {
			out = append(out, n)
		}
	}
	return out
}

// scratch is per-query working memory sized to the graph, pooled so a
// query touches only the nodes it reaches.
type scratch struct {
	mark []mark // per node
	gen  uint32
	// buffers reused from query to query
	hits     []hit
	gates    []gate
	services []int
}

// mark says what a query knows of a node when stamp is the query's
// generation: slot is its position among the hits when reached,
// slotExcluded, or gateSlot(gi) while it waits behind redundancy gates
// whose chain starts at gates[gi].
type mark struct {
	stamp uint32
	slot  int32
}

const slotExcluded = -1

// gateSlot encodes a gate chain in a mark's slot, and back.
func gateSlot(gi int32) int32 { return -2 - gi }

func (g *Graph) getScratch() *scratch {
	n := len(g.nodes)
	s, _ := g.scratch.Get().(*scratch)
	if s == nil || len(s.mark) < n {
		s = &scratch{mark: make([]mark, n+n/8)}
	}
	s.gen++
	if s.gen == 0 {
		clear(s.mark)
		s.gen = 1
	}
	return s
}

// gate counts the up providers of a CI of one redundant type.
type gate struct {
	typ  uint8
	up   int32
	next int32
}

// plan is a validated query.
type plan struct {
	down              bool
	outMask, inMask   [256]bool // types to follow along out- and in-edges
	redundant         [256]bool
	maxDepth, maxNode int
	maxFan            int
	service           []bool // per class index: part of the headline
}

func (g *Graph) plan(q Query) (plan, []int32, error) {
	var p plan
	var errs itsm.FieldErrors
	switch q.Direction {
	case "", Downstream:
		p.down = true
	case Upstream:
	default:
		errs.Addf("direction", "%q is not downstream or upstream", clip(string(q.Direction)))
	}
	if len(q.Origins) == 0 {
		errs.Add("origins", "must name at least one CI")
	}
	origins := make([]int32, 0, len(q.Origins))
	for i, id := range q.Origins {
		u, ok := g.index[id.UUID()]
		if !ok {
			errs.Addf(fmt.Sprintf("origins[%d]", i), "CI %s is not in the graph", id)
			continue
		}
		if !slices.Contains(origins, u) {
			origins = append(origins, u)
		}
	}
	for i, id := range q.Exclude {
		if slices.Contains(q.Origins, id) {
			errs.Addf(fmt.Sprintf("exclude[%d]", i), "CI %s is an origin", id)
		}
	}
	var use [256]bool
	if len(q.Types) > 0 {
		for i, t := range q.Types {
			k, ok := g.reg.relByNm[t]
			if !ok {
				errs.Addf(fmt.Sprintf("types[%d]", i), "relationship type %q does not exist", clip(string(t)))
				continue
			}
			use[k] = true
		}
	} else {
		for k := range g.reg.relTypes {
			use[k] = !g.reg.relTypes[k].OffByDefault
		}
	}
	for i, t := range q.Include {
		k, ok := g.reg.relByNm[t]
		if !ok {
			errs.Addf(fmt.Sprintf("include[%d]", i), "relationship type %q does not exist", clip(string(t)))
			continue
		}
		use[k] = true
	}
	for _, c := range [...]struct {
		field string
		v     int
	}{{"max_depth", q.MaxDepth}, {"max_nodes", q.MaxNodes}, {"max_fan_out", q.MaxFanOut}} {
		if c.v < 0 {
			errs.Add(c.field, "must not be negative")
		}
	}
	sc := q.ServiceClass
	if sc == "" {
		sc = ClassBusinessService
	}
	svc, ok := g.reg.byName[sc]
	if !ok {
		errs.Addf("service_class", "class %q does not exist", clip(string(sc)))
	}
	if err := errs.Err(); err != nil {
		return p, nil, err
	}
	p.service = make([]bool, len(g.reg.classes))
	for k := range p.service {
		p.service[k] = g.reg.descends(k, svc)
	}
	p.maxDepth, p.maxNode, p.maxFan = q.MaxDepth, q.MaxNodes, q.MaxFanOut
	for k := range g.reg.relTypes {
		if !use[k] {
			continue
		}
		t := &g.reg.relTypes[k]
		// Downstream, impact leaves u along out-edges of types flowing
		// from→to and along in-edges of types flowing to→from; upstream,
		// the other way round.
		fwd, bwd := t.flowsForward(), t.flowsBackward()
		if p.down {
			p.outMask[k], p.inMask[k] = fwd, bwd
			p.redundant[k] = t.Redundant
		} else {
			p.outMask[k], p.inMask[k] = bwd, fwd
		}
	}
	return p, origins, nil
}

// Impact runs an impact analysis. It returns a *itsm.ValidationError naming
// the field for a query that is malformed or names an origin not in the
// graph.
//
// Downstream, a CI is reached when a reached CI carries impact to it along a
// followed relationship type. Planned and retired CIs are treated as absent.
// A CI in maintenance is reported (Suppressed) but impact does not pass
// through it. Through a redundant type (member of, powers) the receiving CI
// is reached only once fewer than its min_up providers of that type remain
// up; a provider is up when it is in use and not reached. Upstream walks the
// same relationships against the flow, reporting everything depended on.
func (g *Graph) Impact(q Query) (*Impact, error) {
	p, origins, err := g.plan(q)
	if err != nil {
		return nil, err
	}
	s := g.getScratch()
	defer g.scratch.Put(s)
	run := impactRun{g: g, p: &p, mark: s.mark, gen: s.gen, hits: s.hits[:0], gates: s.gates[:0], services: s.services[:0]}
	for _, id := range q.Exclude {
		if u, ok := g.index[id.UUID()]; ok {
			run.mark[u] = mark{stamp: run.gen, slot: slotExcluded}
		}
	}
	for _, u := range origins {
		st := g.state[u]
		if p.service[st.class] {
			run.services = append(run.services, len(run.hits))
		}
		run.mark[u] = mark{stamp: run.gen, slot: int32(len(run.hits))}
		run.hits = append(run.hits, hit{node: u, parent: -1, flags: st.status | hitOrigin})
	}
	run.walkAll()
	s.hits, s.gates, s.services = run.hits, run.gates, run.services

	// The hits are pointer-free: one copy, no write barriers, nothing for
	// the collector to scan.
	res := &Impact{Direction: Downstream, g: g, hits: slices.Clone(run.hits)}
	if !p.down {
		res.Direction = Upstream
	}
	if len(run.services) > 0 {
		res.Services = slices.Clone(run.services)
	}
	for k, r := range [...]Truncation{TruncDepth, TruncNodes, TruncFanOut} {
		if run.reasons[k] {
			res.Truncated = true
			res.Reasons = append(res.Reasons, r)
		}
	}
	return res, nil
}

// impactRun is one analysis in progress. hits is both the answer and the
// breadth-first queue.
type impactRun struct {
	g        *Graph
	p        *plan
	mark     []mark
	gen      uint32
	hits     []hit
	gates    []gate
	services []int
	reasons  [3]bool
	reached  int
	stop     bool
	touched  int32 // keeps the loads of walkAll's look-ahead
	// the CI being expanded
	cur     int32
	curUp   bool
	fan     int
	curDeep int32
}

// walkAll runs the breadth-first analysis over run.hits.
func (r *impactRun) walkAll() {
	g, p := r.g, r.p
	var touched int32
	for head := 0; head < len(r.hits) && !r.stop; head++ {
		// Touch the adjacency of CIs further down the queue: the loads miss
		// the cache, but nothing waits for them, so by the time the walk
		// gets there their lines are in.
		if k := head + prefetchFar; k < len(r.hits) {
			if w := 2 * int(r.hits[k].node); w < len(g.adj.off) {
				touched += g.adj.off[w]
			}
		}
		if k := head + prefetchNear; k < len(r.hits) {
			if w := 2 * int(r.hits[k].node); w < len(g.adj.off) {
				if i := g.adj.off[w]; int(i) < len(g.adj.nbr) {
					touched += g.adj.nbr[i] + int32(g.adj.typ[i])
				}
			}
		}
		h := r.hits[head]
		if h.flags&hitSuppressed != 0 {
			continue
		}
		r.cur, r.curDeep, r.fan = int32(head), h.depth, 0
		r.curUp = h.flags&hitStatus == stInUse
		if p.maxDepth > 0 && int(r.curDeep) >= p.maxDepth {
			if !r.reasons[0] && r.hasFrontier(h.node) {
				r.reasons[0] = true
			}
			continue
		}
		r.expand(h.node, false)
	}
	r.touched = touched
}

// How far ahead of the walk walkAll touches adjacency: offsets first, then
// the entries they point to.
const (
	prefetchFar  = 16
	prefetchNear = 8
)

// expand steps from u along every relationship the plan follows, out-edges
// then in-edges, in the order added; probe only looks for a CI that would
// be reached and reports it.
func (r *impactRun) expand(u int32, probe bool) bool {
	g, p := r.g, r.p
	// With nothing waiting in the append buffer, the per-node chains are all
	// empty: skip reading their heads, two cache misses per CI otherwise.
	pending := int(g.base) < len(g.eFrom)
	for dir := 0; dir < 2; dir++ {
		c, head, next, mask := &g.adj, g.outHead, g.outNext, &p.outMask
		if dir == 1 {
			head, next, mask = g.inHead, g.inNext, &p.inMask
		}
		lo, hi := c.span(u, dir == 0)
		for i := lo; i < hi; i++ {
			if t := c.typ[i]; mask[t] {
				if probe {
					if r.wouldReach(c.nbr[i], t) {
						return true
					}
				} else if !r.step(c.nbr[i], t) {
					return false
				}
			}
		}
		if !pending {
			continue
		}
		for e := head[u]; e >= 0; e = next[e-g.base] {
			t := g.eType[e]
			if t == removedType || !mask[t] {
				continue
			}
			v := g.eTo[e]
			if dir == 1 {
				v = g.eFrom[e]
			}
			if probe {
				if r.wouldReach(v, t) {
					return true
				}
			} else if !r.step(v, t) {
				return false
			}
		}
	}
	return false
}

// reachable reports whether v may be reached at all: in use or in
// maintenance (state st), and not excluded.
func reachable(st nodeState, m mark, gen uint32) bool {
	if st.status != stInUse && st.status != stMaintenance {
		return false
	}
	return m.stamp != gen || m.slot != slotExcluded
}

// gateOf returns the gate of type t counting v's providers in this query,
// or -1 when there is none yet; m is v's mark.
func (r *impactRun) gateOf(m mark, t uint8) int32 {
	if m.stamp != r.gen || m.slot > gateSlot(0) {
		return -1
	}
	gi := gateSlot(m.slot)
	for gi >= 0 && r.gates[gi].typ != t {
		gi = r.gates[gi].next
	}
	return gi
}

// step carries impact from the CI being expanded to v along type t. It
// returns false to stop expanding that CI.
func (r *impactRun) step(v int32, t uint8) bool {
	g, p := r.g, r.p
	st, m := g.state[v], r.mark[v]
	if !reachable(st, m, r.gen) || m.stamp == r.gen && m.slot >= 0 {
		return true // absent, excluded or reached already
	}
	if p.redundant[t] {
		gi := r.gateOf(m, t)
		if gi < 0 {
			next := int32(-1)
			if m.stamp == r.gen {
				next = gateSlot(m.slot)
			}
			gi = int32(len(r.gates))
			r.gates = append(r.gates, gate{typ: t, up: g.upProviders(v, t, p), next: next})
			r.mark[v] = mark{stamp: r.gen, slot: gateSlot(gi)}
		}
		if r.curUp {
			r.gates[gi].up--
		}
		if r.gates[gi].up >= g.nodes[v].minUp {
			return true
		}
	}
	if p.maxFan > 0 && r.fan >= p.maxFan {
		r.reasons[2] = true
		return false
	}
	if p.maxNode > 0 && r.reached >= p.maxNode {
		r.reasons[1] = true
		r.stop = true
		return false
	}
	pos := int32(len(r.hits))
	flags := st.status
	if p.down && st.status == stMaintenance {
		flags |= hitSuppressed
	} else if p.service[st.class] {
		r.services = append(r.services, int(pos))
	}
	r.mark[v] = mark{stamp: r.gen, slot: pos}
	r.hits = append(r.hits, hit{node: v, parent: r.cur, depth: r.curDeep + 1, via: t, flags: flags})
	r.fan++
	r.reached++
	return true
}

// wouldReach reports whether stepping from the CI being expanded to v along
// t would impact v: v is eligible and not yet reached, and, behind a
// redundancy gate, the step would leave fewer than v's min_up providers up.
func (r *impactRun) wouldReach(v int32, t uint8) bool {
	st, m := r.g.state[v], r.mark[v]
	if !reachable(st, m, r.gen) || m.stamp == r.gen && m.slot >= 0 {
		return false
	}
	if !r.p.redundant[t] {
		return true
	}
	var up int32
	if gi := r.gateOf(m, t); gi >= 0 {
		up = r.gates[gi].up
	} else {
		up = r.g.upProviders(v, t, r.p)
	}
	if r.curUp {
		up--
	}
	return up < r.g.nodes[v].minUp
}

// hasFrontier reports whether u has a followed relationship to a CI the
// next step would impact: evidence that a depth cap cut something.
func (r *impactRun) hasFrontier(u int32) bool { return r.expand(u, true) }

// upProviders counts the providers of v along redundant type t that are in
// use: the CIs whose failure would flow into v along t.
func (g *Graph) upProviders(v int32, t uint8, p *plan) int32 {
	var n int32
	// A provider w reaches v along out-edges of w when t flows from→to, so
	// from v it is an in-edge; and the reverse.
	out := p.inMask[t]
	g.each(v, out, func(w int32, tt uint8, _ int32) bool {
		if tt == t && g.state[w].status == stInUse {
			n++
		}
		return true
	})
	return n
}

// MarshalJSON writes the analysis with every CI it reached, read from the
// graph now (see Impact): {"direction", "nodes": [...], "services":
// [positions], "truncated", "reasons"}, each node with its ID, class, name,
// status, min_up, depth, parent position, via, origin and suppressed.
func (r Impact) MarshalJSON() ([]byte, error) {
	type node struct {
		ID         ID          `json:"id"`
		Class      ClassName   `json:"class"`
		Name       string      `json:"name"`
		Status     Status      `json:"status"`
		MinUp      int         `json:"min_up"`
		Depth      int         `json:"depth"`
		Parent     int         `json:"parent"`
		Via        RelTypeName `json:"via,omitempty"`
		Origin     bool        `json:"origin,omitempty"`
		Suppressed bool        `json:"suppressed,omitempty"`
	}
	out := struct {
		Direction Direction    `json:"direction"`
		Nodes     []node       `json:"nodes"`
		Services  []int        `json:"services"`
		Truncated bool         `json:"truncated"`
		Reasons   []Truncation `json:"reasons,omitempty"`
	}{Direction: r.Direction, Nodes: make([]node, 0, r.Len()), Services: r.Services, Truncated: r.Truncated, Reasons: r.Reasons}
	if out.Services == nil {
		out.Services = []int{}
	}
	for _, n := range r.All() {
		out.Nodes = append(out.Nodes, node{ID: n.ID, Class: n.Class, Name: n.Name, Status: n.Status, MinUp: n.MinUp,
			Depth: n.Depth, Parent: n.Parent, Via: n.Via, Origin: n.Origin, Suppressed: n.Suppressed})
	}
	return json.Marshal(out)
}
