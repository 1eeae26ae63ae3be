package sla

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of the timer: its marks, segments and changes
// are copied, so the copy shares nothing with t.
func (t Timer) Clone() Timer {
	// Clip so that an append to one copy never writes into the other.
	if t.Marks != nil {
		t.Marks = append(make([]Mark, 0, len(t.Marks)), t.Marks...)
	}
	if t.Segments != nil {
		t.Segments = append(make([]Segment, 0, len(t.Segments)), t.Segments...)
	}
	if t.Changes != nil {
		t.Changes = append(make([]Change, 0, len(t.Changes)), t.Changes...)
	}
	return t
}

// Clone returns a deep copy of the state, for storage adapters and callers
// that must not share memory with a stored record. The copy's timers keep
// their lists in one fresh backing array per kind of list, each timer's
// list clipped to its length, so appending to one timer's list never writes
// into another's.
func (s State) Clone() State {
	s.Previous = maps.Clone(s.Previous)
	s.Timers = cloneTimers(s.Timers, 0)
	return s
}

// cloneTimers deep-copies ts in five allocations whatever its length,
// leaving room for spare more timers.
func cloneTimers(ts []Timer, spare int) []Timer {
	if ts == nil {
		return nil
	}
	var nm, ns, nc int
	for i := range ts {
		nm += len(ts[i].Marks)
		ns += len(ts[i].Segments)
		nc += len(ts[i].Changes)
	}
	out := make([]Timer, len(ts), len(ts)+spare)
	marks := make([]Mark, 0, nm)
	segs := make([]Segment, 0, ns)
	changes := make([]Change, 0, nc)
	for i := range ts {
		t := ts[i]
		if t.Marks != nil {
			k := len(marks)
			marks = append(marks, t.Marks...)
			t.Marks = marks[k:len(marks):len(marks)]
		}
		if t.Segments != nil {
			k := len(segs)
			segs = append(segs, t.Segments...)
			t.Segments = segs[k:len(segs):len(segs)]
		}
		if t.Changes != nil {
			k := len(changes)
			changes = append(changes, t.Changes...)
			t.Changes = changes[k:len(changes):len(changes)]
		}
		out[i] = t
	}
	return out
}

// Detach prepares *s, which may share memory with other states (a copy
// made by assignment, or a state a store lends to every reader), for
// Engine.ObserveInPlace and Engine.AdvanceInPlace: afterwards nothing they
// do to *s changes what another state sees. It copies the Timers array, in
// one allocation and without spare capacity, and clips each timer's Marks,
// Segments and Changes to their length; the lists' elements and the
// Previous map stay shared.
//
// That is enough because the in-place methods follow a copy-on-write rule.
// They write the State's own fields (AsOf, Observed, Previous, Timers) and
// the fields of each Timer in the Timers array, and nothing else: they
// never write into an existing element of a timer's Marks, Segments or
// Changes, only append to them (which reallocates a clipped list) or
// replace them with new lists; they never write into the Previous map,
// only keep it or replace it with a new one; and they grow the Timers array
// by append, which reallocates the copy. Writing the value already there
// counts as a write (the race detector sees it), so they normalise an
// instant only when it is not normalised already.
//
// Detach does not make *s safe for the caller's own changes to the lists'
// elements or the map; use Clone for that.
func (s *State) Detach() { s.DetachInto(nil) }

// DetachInto is Detach, with the new timers array taken from buf when buf
// has room for every timer (a new one is allocated otherwise). A host that
// allocates the record holding the state with room for its usual number of
// timers saves an allocation per change. buf must not be shared with
// anything else; DetachInto overwrites its first len(s.Timers) elements.
func (s *State) DetachInto(buf []Timer) {
	if s.Timers == nil {
		return
	}
	var ts []Timer
	if n := len(s.Timers); n > 0 && cap(buf) >= n {
		ts = buf[:n:n]
	} else {
		ts = make([]Timer, n) // not nil, even when empty
	}
	copy(ts, s.Timers)
	for i := range ts {
		t := &ts[i]
		t.Marks = slices.Clip(t.Marks)
		t.Segments = slices.Clip(t.Segments)
		t.Changes = slices.Clip(t.Changes)
	}
	s.Timers = ts
}
