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
	p.leaves(func(l *condPred) {
		if l.field == condFieldCustom && !slices.Contains(dst, l.name) {
			dst = append(dst, l.name)
		}
	})
	return dst
}
