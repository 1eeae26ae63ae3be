package itsm

import (
	"fmt"
	"strings"
)

// mermaidKeywords are words Mermaid's state diagram grammar reserves; a state
// with one of these names gets a generated identifier.
var mermaidKeywords = map[string]bool{
	"state": true, "note": true, "end": true, "direction": true, "classDef": true,
	"class": true, "as": true, "left": true, "right": true, "of": true, "over": true,
	"stateDiagram": true, "default": true,
}

// mermaidIDs gives each state an identifier Mermaid accepts: the state name
// when it is a plain identifier, s<index> otherwise, with underscores added
// while that is another state's name (states "s1" and "end" must not both
// be drawn as s1).
func (l *Lifecycle[S, A]) mermaidIDs() map[S]string {
	ids := make(map[S]string, len(l.spec.States))
	taken := make(map[string]bool, len(l.spec.States))
	for _, st := range l.spec.States {
		if name := string(st.State); isPlainIdent(name) && !mermaidKeywords[name] {
			ids[st.State] = name
			taken[name] = true
		}
	}
	for i, st := range l.spec.States {
		if _, ok := ids[st.State]; ok {
			continue
		}
		id := fmt.Sprintf("s%d", i)
		for taken[id] {
			id += "_"
		}
		ids[st.State] = id
		taken[id] = true
	}
	return ids
}

func isPlainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// mermaidText makes a label safe inside a Mermaid state description or
// transition label.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", ":", "#colon;", ";", "#59;", "#", "#35;")
	return r.Replace(s)
}

// categoryStyle colours states by category in both diagram formats.
var categoryStyle = map[Category]string{
	CategoryNew:      "#e3f2fd",
	CategoryActive:   "#fff8e1",
	CategoryWaiting:  "#fce4ec",
	CategoryResolved: "#e8f5e9",
	CategoryClosed:   "#eeeeee",
	CategoryCanceled: "#f5f5f5",
}

// Mermaid renders the lifecycle as a Mermaid state diagram
// (stateDiagram-v2): states in declaration order with their labels, the
// initial and terminal markers, one arrow per transition labelled with its
// action, and a class per category. The output is deterministic, so it can be
// kept as a golden file and embedded in documentation.
func (l *Lifecycle[S, A]) Mermaid() string {
	ids := l.mermaidIDs()
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, st := range l.spec.States {
		id := ids[st.State]
		label := l.Label(st.State)
		if label != id {
			fmt.Fprintf(&b, "    state \"%s\" as %s\n", mermaidText(label), id)
		}
	}
	fmt.Fprintf(&b, "    [*] --> %s\n", ids[l.spec.Initial])
	for _, tr := range l.spec.Transitions {
		fmt.Fprintf(&b, "    %s --> %s : %s\n", ids[tr.From], ids[tr.To], mermaidText(string(tr.Action)))
	}
	for _, st := range l.spec.States {
		if st.Terminal {
			fmt.Fprintf(&b, "    %s --> [*]\n", ids[st.State])
		}
	}
	for _, c := range Categories() {
		var members []string
		for _, st := range l.spec.States {
			if st.Category == c {
				members = append(members, ids[st.State])
			}
		}
		if len(members) == 0 {
			continue
		}
		fmt.Fprintf(&b, "    classDef %s fill:%s\n", c, categoryStyle[c])
		fmt.Fprintf(&b, "    class %s %s\n", strings.Join(members, ","), c)
	}
	return b.String()
}

// dotQuote quotes s as a Graphviz ID.
func dotQuote(s string) string { return `"` + dotEscape(s) + `"` }

func dotEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// DOT renders the lifecycle as a Graphviz digraph: an entry point into the
// initial state, one node per state labelled with its label and category
// (terminal states drawn with a double border), one edge per transition
// labelled with its action. The output is deterministic.
func (l *Lifecycle[S, A]) DOT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(l.spec.Name))
	b.WriteString("    rankdir=LR;\n")
	b.WriteString("    node [shape=box, style=\"rounded,filled\"];\n")
	// The start point is a node of its own, named apart from every state.
	start := "__start__"
	for l.Has(S(start)) {
		start += "_"
	}
	fmt.Fprintf(&b, "    %s [shape=point, label=\"\"];\n", dotQuote(start))
	for _, st := range l.spec.States {
		extra := ""
		if st.Terminal {
			extra = ", peripheries=2"
		}
		fmt.Fprintf(&b, "    %s [label=%s, fillcolor=%s%s];\n",
			dotQuote(string(st.State)), `"`+dotEscape(l.Label(st.State))+`\n(`+st.Category.String()+`)"`,
			dotQuote(categoryStyle[st.Category]), extra)
	}
	fmt.Fprintf(&b, "    %s -> %s;\n", dotQuote(start), dotQuote(string(l.spec.Initial)))
	for _, tr := range l.spec.Transitions {
		fmt.Fprintf(&b, "    %s -> %s [label=%s];\n", dotQuote(string(tr.From)), dotQuote(string(tr.To)), dotQuote(string(tr.Action)))
	}
	b.WriteString("}\n")
	return b.String()
}
