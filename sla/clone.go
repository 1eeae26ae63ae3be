package sla

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of the timer: its marks, segments and changes
// are copied, so the copy shares nothing with t.
func (t Timer) Clone() Timer {
	t.Marks = slices.Clone(t.Marks)
	t.Segments = slices.Clone(t.Segments)
	t.Changes = slices.Clone(t.Changes)
	return t
}

// Clone returns a deep copy of the state, for storage adapters and callers
// that must not share memory with a stored record.
func (s State) Clone() State {
	s.Previous = maps.Clone(s.Previous)
	if s.Timers != nil {
		timers := make([]Timer, len(s.Timers))
		for i, t := range s.Timers {
			timers[i] = t.Clone()
		}
		s.Timers = timers
	}
	return s
}
