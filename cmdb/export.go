package cmdb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/itsmkit/itsmkit/itsm"
)

// Subgraph is a set of CIs and the relationships among them, e.g. a CI's
// neighbourhood, ready to draw.
type Subgraph struct {
	Nodes []Node
	Edges []Relationship
}

// Neighbourhood returns the CIs within depth relationships of the given CIs,
// in either direction and of any type, and every relationship among them;
// at most maxNodes CIs (0: no cap), found breadth-first. Nodes are in the
// order found, edges ordered by From, type and To. It returns a
// *itsm.ValidationError naming "ids[i]" for a CI not in the graph or "depth"
// / "max_nodes" when negative.
func (g *Graph) Neighbourhood(ids []ID, depth, maxNodes int) (Subgraph, error) {
	var errs itsm.FieldErrors
	if depth < 0 {
		errs.Add("depth", "must not be negative")
	}
	if maxNodes < 0 {
		errs.Add("max_nodes", "must not be negative")
	}
	seen := map[int32]int32{} // node -> depth
	var order []int32
	for i, id := range ids {
		u, ok := g.index[id.UUID()]
		if !ok {
			errs.Addf(fmt.Sprintf("ids[%d]", i), "CI %s is not in the graph", id)
			continue
		}
		if _, dup := seen[u]; !dup && (maxNodes == 0 || len(order) < maxNodes) {
			seen[u] = 0
			order = append(order, u)
		}
	}
	if err := errs.Err(); err != nil {
		return Subgraph{}, err
	}
	for head := 0; head < len(order); head++ {
		u := order[head]
		if int(seen[u]) >= depth {
			continue
		}
		for _, out := range []bool{true, false} {
			g.each(u, out, func(v int32, _ uint8, _ int32) bool {
				if _, ok := seen[v]; ok {
					return true
				}
				if maxNodes > 0 && len(order) >= maxNodes {
					return false
				}
				seen[v] = seen[u] + 1
				order = append(order, v)
				return true
			})
		}
	}
	sub := Subgraph{Nodes: make([]Node, len(order))}
	for i, u := range order {
		sub.Nodes[i] = g.node(u)
		g.each(u, true, func(v int32, _ uint8, e int32) bool {
			if _, ok := seen[v]; ok {
				sub.Edges = append(sub.Edges, g.relationship(e))
			}
			return true
		})
	}
	slices.SortFunc(sub.Edges, func(a, b Relationship) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		if a.Type != b.Type {
			return strings.Compare(string(a.Type), string(b.Type))
		}
		return a.To.Compare(b.To)
	})
	return sub, nil
}

// diagramEdge is one arrow of a diagram, between node positions.
type diagramEdge struct {
	from, to int
	label    string
}

// label is what a diagram shows of a node.
func label(n Node) string { return n.Name + " (" + string(n.Class) + ")" }

func (r *Impact) diagram() ([]string, []diagramEdge, []string) {
	labels := make([]string, r.Len())
	styles := make([]string, r.Len())
	var edges []diagramEdge
	for i := range r.Len() {
		n, _ := r.At(i)
		labels[i] = label(n.Node)
		switch {
		case n.Origin:
			styles[i] = "origin"
		case n.Suppressed:
			styles[i] = "suppressed"
		case slices.Contains(r.Services, i):
			styles[i] = "service"
		}
		if n.Parent >= 0 {
			edges = append(edges, diagramEdge{from: n.Parent, to: i, label: string(n.Via)})
		}
	}
	return labels, edges, styles
}

// DOT renders the analysis as a Graphviz digraph: one node per CI reached,
// an arrow along each first shortest path labelled with its relationship
// type, origins red, headline services bold, suppressed CIs dashed.
func (r *Impact) DOT() string {
	labels, edges, styles := r.diagram()
	return dot("impact", labels, edges, styles)
}

// Mermaid renders the analysis as a Mermaid flowchart, styled as DOT.
func (r *Impact) Mermaid() string {
	labels, edges, styles := r.diagram()
	return mermaid(labels, edges, styles)
}

func (s Subgraph) diagram() ([]string, []diagramEdge) {
	labels := make([]string, len(s.Nodes))
	pos := make(map[ID]int, len(s.Nodes))
	for i, n := range s.Nodes {
		labels[i] = label(n)
		pos[n.ID] = i
	}
	edges := make([]diagramEdge, 0, len(s.Edges))
	for _, e := range s.Edges {
		edges = append(edges, diagramEdge{from: pos[e.From], to: pos[e.To], label: string(e.Type)})
	}
	return labels, edges
}

// DOT renders the subgraph as a Graphviz digraph, arrows from From to To.
func (s Subgraph) DOT() string {
	labels, edges := s.diagram()
	return dot("neighbourhood", labels, edges, nil)
}

// Mermaid renders the subgraph as a Mermaid flowchart.
func (s Subgraph) Mermaid() string {
	labels, edges := s.diagram()
	return mermaid(labels, edges, nil)
}

func dot(name string, labels []string, edges []diagramEdge, styles []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n  rankdir=LR;\n  node [shape=box];\n", name)
	for i, l := range labels {
		attr := ""
		if styles != nil {
			switch styles[i] {
			case "origin":
				attr = ", color=red"
			case "service":
				attr = ", style=bold"
			case "suppressed":
				attr = ", style=dashed"
			}
		}
		fmt.Fprintf(&b, "  n%d [label=%s%s];\n", i, dotQuote(l), attr)
	}
	for _, e := range edges {
		fmt.Fprintf(&b, "  n%d -> n%d [label=%s];\n", e.from, e.to, dotQuote(e.label))
	}
	b.WriteString("}\n")
	return b.String()
}

func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func mermaid(labels []string, edges []diagramEdge, styles []string) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, l := range labels {
		fmt.Fprintf(&b, "    n%d[\"%s\"]\n", i, mermaidEscape(l))
	}
	for _, e := range edges {
		fmt.Fprintf(&b, "    n%d -->|%s| n%d\n", e.from, mermaidEscape(e.label), e.to)
	}
	for _, class := range []string{"origin", "service", "suppressed"} {
		var ids []string
		for i, s := range styles {
			if s == class {
				ids = append(ids, fmt.Sprintf("n%d", i))
			}
		}
		if len(ids) > 0 {
			fmt.Fprintf(&b, "    class %s %s\n", strings.Join(ids, ","), class)
		}
	}
	if styles != nil {
		b.WriteString("    classDef origin stroke:#c00,stroke-width:2px\n")
		b.WriteString("    classDef service font-weight:bold\n")
		b.WriteString("    classDef suppressed stroke-dasharray:4\n")
	}
	return b.String()
}

// mermaidEscape replaces the characters Mermaid labels cannot hold with
// their HTML entities.
func mermaidEscape(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;", "\n", " ", "<", "#lt;", ">", "#gt;").Replace(s)
}
