package sla

import (
	"cmp"
	"fmt"
	"slices"
)

// ReadsField reports whether a condition of some agreement the engine
// holds reads the key name of Observation.Fields (written "fields.<name>"
// in conditions: ReadsField("custom.vip") for a condition on
// "fields.custom.vip"). A host that builds Observation.Fields for every
// command can leave out the fields no condition reads: the engine's answers
// do not change, and an engine that reads no field at all needs no map.
func (e *Engine) ReadsField(name string) bool {
	_, found := slices.BinarySearch(e.fields, name)
	return found
}

// FieldRead is one comparison a condition of an engine's agreements makes:
// the field it reads, how, and where the condition is. A host uses
// Engine.FieldReads to check that every field the conditions read is one
// its observations supply, since a condition on a field that is never
// supplied is valid but never sees a value (FieldIs on it never holds).
type FieldRead struct {
	// Agreement and Version name the agreement holding the condition.
	Agreement string
	Version   int
	// Path is where the comparison sits in the agreement, in the
	// agreement's JSON names: "scope", "targets[1].stop.any[0]",
	// "targets[0].goals[2].when.not".
	Path string
	// Field is the field as the condition names it: "priority",
	// "service", "category", "state" or "fields.<name>".
	Field string
	// Name is the key of Observation.Fields the comparison reads ("vip"
	// for "fields.vip"), or "" when Field is one of the others.
	Name string
	// Op and Values are the comparison's operator and operands (a copy).
	Op     Op
	Values []string
}

// String describes where the comparison is and what it reads, e.g.
// `agreement "vip" version 1, targets[0].stop: fields.vip in [yes]`.
func (r FieldRead) String() string {
	s := fmt.Sprintf("agreement %q version %d, %s: %s %s", r.Agreement, r.Version, r.Path, r.Field, r.Op)
	if len(r.Values) > 0 {
		s += fmt.Sprintf(" %q", r.Values)
	}
	return s
}

// FieldReads lists every comparison the conditions of the engine's
// agreements make, every loaded version included (timers attached under an
// older version still evaluate its conditions): one per leaf condition,
// ordered by agreement ID, then version, then place in the agreement
// (scope, then each target's start, pause, stop, cancel and reset
// conditions and its goals' conditions, each depth first). The result is
// the caller's to keep. It is meant for checks when a host starts, not for
// every observation: it allocates.
func (e *Engine) FieldReads() []FieldRead {
	all := make([]*compAgreement, 0, len(e.all))
	for _, ca := range e.all {
		all = append(all, ca)
	}
	slices.SortFunc(all, func(a, b *compAgreement) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.version, b.version))
	})
	var out []FieldRead
	for _, ca := range all {
		add := func(path string, p *condPred) {
			out = p.reads(out, ca, path)
		}
		add("scope", ca.scope)
		for i, ct := range ca.targets {
			at := fmt.Sprintf("targets[%d]", i)
			add(at+".start", ct.start)
			add(at+".pause", ct.pause)
			add(at+".stop", ct.stop)
			add(at+".cancel", ct.cancel)
			add(at+".reset", ct.reset)
			for j, g := range ct.goals {
				add(fmt.Sprintf("%s.goals[%d].when", at, j), g.when)
			}
		}
	}
	return out
}

// reads appends the comparisons of p, found at path in ca, depth first.
func (p *condPred) reads(dst []FieldRead, ca *compAgreement, path string) []FieldRead {
	if p == nil {
		return dst
	}
	switch p.kind {
	case condAll, condAny:
		name := "all"
		if p.kind == condAny {
			name = "any"
		}
		for i := range p.children {
			dst = p.children[i].reads(dst, ca, fmt.Sprintf("%s.%s[%d]", path, name, i))
		}
		return dst
	case condNot:
		return p.children[0].reads(dst, ca, path+".not")
	}
	return append(dst, FieldRead{
		Agreement: ca.id, Version: ca.version, Path: path,
		Field: p.path, Name: p.name, Op: p.op, Values: slices.Clone(p.values),
	})
}

// fieldNames appends the custom field names p reads.
func (p *condPred) fieldNames(dst []string) []string {
	p.leaves(func(l *condPred) {
		if l.field == condFieldCustom && !slices.Contains(dst, l.name) {
			dst = append(dst, l.name)
		}
	})
	return dst
}
