package sla

import "slices"

// ReadsField reports whether a condition of some agreement the engine
// holds reads the custom field name (written "fields.<name>" in
// conditions). A host that builds Observation.Fields for every command can
// leave out the fields no condition reads: the engine's answers do not
// change, and an engine that reads no field at all needs no map.
func (e *Engine) ReadsField(name string) bool {
	_, found := slices.BinarySearch(e.fields, name)
	return found
}

// fieldNames appends the custom field names p reads.
func (p *condPred) fieldNames(dst []string) []string {
	if p == nil {
		return dst
	}
	if p.kind == condLeaf && p.field == condFieldCustom && !slices.Contains(dst, p.name) {
		dst = append(dst, p.name)
	}
	for i := range p.children {
		dst = p.children[i].fieldNames(dst)
	}
	return dst
}
