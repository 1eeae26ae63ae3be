package fsmx

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/looplab/fsm"
)

// Edge is one transition: from a state, an action leads to a state.
type Edge struct {
	From, Action, To string
}

// Outcome classifies the result of Machine.Fire.
type Outcome int

const (
	// Moved means the action is allowed and leads to the returned state
	// (which may equal the source state for a self-transition).
	Moved Outcome = iota
	// NotAllowed means the action exists in the table but not from this state.
	NotAllowed
	// UnknownAction means no edge in the table carries the action.
	UnknownAction
	// Failed means looplab reported something it should never report for a
	// table without callbacks; the error is returned alongside.
	Failed
)

// Machine runs actions through looplab FSMs built from one table. It is safe
// for concurrent use: each call borrows an FSM from a pool.
type Machine struct {
	initial string
	events  []fsm.EventDesc
	pool    sync.Pool
}

// New builds a Machine over edges. The table must already be validated (every
// state declared, no duplicate (from, action) pair); New does not check it.
func New(initial string, edges []Edge) *Machine {
	m := &Machine{initial: initial, events: make([]fsm.EventDesc, len(edges))}
	for i, e := range edges {
		m.events[i] = fsm.EventDesc{Name: e.Action, Src: []string{e.From}, Dst: e.To}
	}
	m.pool.New = func() any { return fsm.NewFSM(m.initial, m.events, nil) }
	return m
}

// Fire applies action in state from. The caller guarantees from is a declared
// state of the table (looplab's SetState would accept anything).
func (m *Machine) Fire(from, action string) (string, Outcome, error) {
	f := m.pool.Get().(*fsm.FSM)
	f.SetState(from)
	err := f.Event(context.Background(), action)
	to := f.Current()
	if err == nil {
		m.pool.Put(f)
		return to, Moved, nil
	}
	var (
		noTransition fsm.NoTransitionError
		invalid      fsm.InvalidEventError
		unknown      fsm.UnknownEventError
	)
	switch {
	case errors.As(err, &noTransition) && noTransition.Err == nil:
		m.pool.Put(f)
		return from, Moved, nil
	case errors.As(err, &invalid):
		m.pool.Put(f)
		return from, NotAllowed, nil
	case errors.As(err, &unknown):
		m.pool.Put(f)
		return from, UnknownAction, nil
	default:
		// Do not return an FSM in an unknown condition to the pool.
		return from, Failed, err
	}
}

// Check drives every edge of the table through one looplab FSM and returns an
// error naming the first edge where looplab does not land on the edge's
// target, and then, for each state in states, fires one action the table does
// not allow from it (when there is one) and returns an error when looplab
// accepts it. Tables are answered from their own index at run time; Check is
// how a table and looplab are kept in agreement, run once per table.
func Check(initial string, edges []Edge, states []string) error {
	m := New(initial, edges)
	out := make(map[string]map[string]bool, len(states))
	for _, e := range edges {
		if out[e.From] == nil {
			out[e.From] = make(map[string]bool)
		}
		out[e.From][e.Action] = true
	}
	for _, e := range edges {
		to, outcome, err := m.Fire(e.From, e.Action)
		if outcome != Moved || to != e.To {
			return fmt.Errorf("looplab/fsm takes %q from %q to %q (outcome %d, %v), the table to %q", e.Action, e.From, to, outcome, err, e.To)
		}
	}
	for _, s := range states {
		for _, e := range edges {
			if out[s][e.Action] {
				continue
			}
			if to, outcome, _ := m.Fire(s, e.Action); outcome == Moved {
				return fmt.Errorf("looplab/fsm takes %q from %q to %q, which the table does not allow", e.Action, s, to)
			}
			break
		}
	}
	return nil
}
