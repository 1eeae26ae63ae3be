package cmdb

import (
	"fmt"
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
	// In redundancy groups they count as up. CIs not in the graph are ignored.
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

// Impacted is one CI an analysis reached.
type Impacted struct {
	Node
	// Depth is the number of relationships from the nearest origin; 0 for
	// origins.
	Depth int
	// Parent is the index in Impact.Nodes of the CI that reached this one
	// (the previous step of its path); -1 for an origin.
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

// Impact is the answer of an analysis.
type Impact struct {
	// Direction is the direction analysed.
	Direction Direction
	// Nodes lists every CI reached, origins first (in the order given),
	// then breadth-first: by depth, and within a depth in the order the
	// traversal found them (a CI's outgoing relationships, then its
	// incoming ones, each in the order they were added to the graph). The
	// same graph loaded in the same order always gives the same answer;
	// loaded in another order, the CIs reached are the same but their order
	// and first paths may differ. Each CI appears once, reached by its first
	// shortest path.
	Nodes []Impacted
	// Services indexes the CIs of Nodes of the query's service class that
	// are not suppressed: the headline answer, ordered as Nodes.
	Services []int
	// Truncated reports that a cap stopped the analysis; Reasons says
	// which, in the order of the constants.
	Truncated bool
	Reasons   []Truncation
}

// Path returns the CIs from an origin to Nodes[i] and the relationship types
// between them (one fewer). It returns nil, nil for an index out of range or
// a chain of parents that does not reach an origin.
func (r *Impact) Path(i int) ([]ID, []RelTypeName) {
	if i < 0 || i >= len(r.Nodes) {
		return nil, nil
	}
	// Walk the parents first, so that a result that does not hold together
	// (decoded or built by hand) gives nil rather than a panic.
	var chain []int
	for j := i; ; j = r.Nodes[j].Parent {
		if j < 0 || j >= len(r.Nodes) || len(chain) > len(r.Nodes) {
			return nil, nil
		}
		chain = append(chain, j)
		if r.Nodes[j].Parent < 0 {
			break
		}
	}
	ids := make([]ID, len(chain))
	via := make([]RelTypeName, len(chain)-1)
	for k, j := range chain {
		ids[len(chain)-1-k] = r.Nodes[j].ID
		if k < len(chain)-1 {
			via[len(chain)-2-k] = r.Nodes[j].Via
		}
	}
	return ids, via
}

// ServiceNodes returns the headline CIs themselves.
func (r *Impact) ServiceNodes() []Impacted {
	out := make([]Impacted, len(r.Services))
	for k, i := range r.Services {
		out[k] = r.Nodes[i]
	}
	return out
}

// scratch is per-query working memory sized to the graph, pooled so a
// query touches only the nodes it reaches.
type scratch struct {
	mark []mark // per node
	gen  uint32
	// buffers reused from query to query
	visits []visit
	order  []int32
	gates  []gate
	at     []int32
}

// mark says what a query knows of a node: when stamp is the query's
// generation, slot is its visit index or slotExcluded.
type mark struct {
	stamp uint32
	slot  int32
}

const slotExcluded = -1

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

// visit is a CI the query touched: reached, or gated and counting.
type visit struct {
	node     int32
	parent   int32 // visit index, -1 for origins
	depth    int32
	gates    int32 // first gate in run.gates, -1 if none
	via      uint8
	impacted bool
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
	run := impactRun{g: g, p: &p, mark: s.mark, gen: s.gen, visits: s.visits[:0], order: s.order[:0], gates: s.gates[:0]}
	for _, id := range q.Exclude {
		if u, ok := g.index[id.UUID()]; ok {
			run.mark[u] = mark{stamp: run.gen, slot: slotExcluded}
		}
	}
	for _, u := range origins {
		run.mark[u] = mark{stamp: run.gen, slot: int32(len(run.visits))}
		run.order = append(run.order, int32(len(run.visits)))
		run.visits = append(run.visits, visit{node: u, parent: -1, impacted: true, gates: -1})
	}
	run.walkAll()
	visits, order, reasons := run.visits, run.order, run.reasons
	s.visits, s.order, s.gates = visits, order, run.gates

	res := &Impact{Direction: Downstream, Nodes: make([]Impacted, len(order))}
	if !p.down {
		res.Direction = Upstream
	}
	// visits are appended in BFS order except gated ones touched early;
	// map visit index -> position in order.
	at := slices.Grow(s.at[:0], len(visits))[:len(visits)]
	s.at = at
	for i, vi := range order {
		at[vi] = int32(i)
	}
	for i, vi := range order {
		v := &visits[vi]
		rec := &g.nodes[v.node]
		// Filled in place: copying a built value into the array costs a
		// write barrier per pointer field under a running collector.
		n := &res.Nodes[i]
		n.ID = IDFromUUID(rec.id)
		n.Class = g.reg.classes[rec.class].Name
		n.Name = rec.name
		n.Status = statusOfCode[g.status[v.node]]
		n.MinUp = int(rec.minUp)
		n.Depth = int(v.depth)
		n.Parent = -1
		n.Origin = v.parent < 0
		if v.parent >= 0 {
			n.Parent = int(at[v.parent])
			n.Via = g.reg.relTypes[v.via].Name
			n.Suppressed = p.down && g.status[v.node] == stMaintenance
		}
		if !n.Suppressed && p.service[rec.class] {
			res.Services = append(res.Services, i)
		}
	}
	for k, r := range [...]Truncation{TruncDepth, TruncNodes, TruncFanOut} {
		if reasons[k] {
			res.Truncated = true
			res.Reasons = append(res.Reasons, r)
		}
	}
	return res, nil
}

// impactRun is one analysis in progress.
type impactRun struct {
	g       *Graph
	p       *plan
	mark    []mark
	gen     uint32
	visits  []visit
	order   []int32 // impacted visits in breadth-first order
	gates   []gate
	reasons [3]bool
	reached int
	stop    bool
	// the CI being expanded
	cur     int32
	curUp   bool
	fan     int
	curDeep int32
}

// walkAll runs the breadth-first analysis over run.order.
func (r *impactRun) walkAll() {
	g, p := r.g, r.p
	for head := 0; head < len(r.order) && !r.stop; head++ {
		vi := r.order[head]
		u := r.visits[vi].node
		if p.down && g.status[u] == stMaintenance && r.visits[vi].parent >= 0 {
			continue // suppressed
		}
		r.cur, r.curDeep, r.fan = vi, r.visits[vi].depth, 0
		r.curUp = g.status[u] == stInUse
		if p.maxDepth > 0 && int(r.curDeep) >= p.maxDepth {
			if !r.reasons[0] && r.hasFrontier(u) {
				r.reasons[0] = true
			}
			continue
		}
		r.expand(u, false)
	}
}

// expand steps from u along every relationship the plan follows, out-edges
// then in-edges, in the order added; probe only looks for a CI that would
// be reached and reports it.
func (r *impactRun) expand(u int32, probe bool) bool {
	g, p := r.g, r.p
	// With nothing waiting in the append buffer, the per-node chains are all
	// empty: skip reading their heads, two cache misses per CI otherwise.
	pending := int(g.base) < len(g.eFrom)
	for dir := 0; dir < 2; dir++ {
		c, head, next, mask := &g.out, g.outHead, g.outNext, &p.outMask
		if dir == 1 {
			c, head, next, mask = &g.in, g.inHead, g.inNext, &p.inMask
		}
		lo, hi := c.span(u)
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

// eligible reports whether v may be reached at all.
func (r *impactRun) eligible(v int32) bool {
	if m := r.mark[v]; m.stamp == r.gen && m.slot == slotExcluded {
		return false
	}
	st := r.g.status[v]
	return st == stInUse || st == stMaintenance
}

// fresh reports whether v is eligible and not yet reached.
func (r *impactRun) fresh(v int32) bool {
	if !r.eligible(v) {
		return false
	}
	m := r.mark[v]
	return m.stamp != r.gen || !r.visits[m.slot].impacted
}

// step carries impact from the CI being expanded to v along type t. It
// returns false to stop expanding that CI.
func (r *impactRun) step(v int32, t uint8) bool {
	if !r.eligible(v) {
		return true
	}
	p := r.p
	var vv int32 = -1
	if m := r.mark[v]; m.stamp == r.gen {
		vv = m.slot
		if r.visits[vv].impacted {
			return true
		}
	}
	if p.redundant[t] {
		if vv < 0 {
			vv = r.touch(v)
		}
		gi := r.visits[vv].gates
		for gi >= 0 && r.gates[gi].typ != t {
			gi = r.gates[gi].next
		}
		if gi < 0 {
			gi = int32(len(r.gates))
			r.gates = append(r.gates, gate{typ: t, up: r.g.upProviders(v, t, p), next: r.visits[vv].gates})
			r.visits[vv].gates = gi
		}
		if r.curUp {
			r.gates[gi].up--
		}
		if r.gates[gi].up >= r.g.nodes[v].minUp {
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
	if vv < 0 {
		vv = r.touch(v)
	}
	x := &r.visits[vv]
	x.impacted, x.parent, x.depth, x.via = true, r.cur, r.curDeep+1, t
	r.order = append(r.order, vv)
	r.fan++
	r.reached++
	return true
}

// touch gives v a visit record.
func (r *impactRun) touch(v int32) int32 {
	vv := int32(len(r.visits))
	r.mark[v] = mark{stamp: r.gen, slot: vv}
	r.visits = append(r.visits, visit{node: v, parent: -1, gates: -1})
	return vv
}

// wouldReach reports whether stepping from the CI being expanded to v along
// t would impact v: v is eligible and not yet reached, and, behind a
// redundancy gate, the step would leave fewer than v's min_up providers up.
func (r *impactRun) wouldReach(v int32, t uint8) bool {
	if !r.fresh(v) {
		return false
	}
	if !r.p.redundant[t] {
		return true
	}
	up := int32(-1)
	if m := r.mark[v]; m.stamp == r.gen {
		for gi := r.visits[m.slot].gates; gi >= 0; gi = r.gates[gi].next {
			if r.gates[gi].typ == t {
				up = r.gates[gi].up
				break
			}
		}
	}
	if up < 0 {
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
		if tt == t && g.status[w] == stInUse {
			n++
		}
		return true
	})
	return n
}
