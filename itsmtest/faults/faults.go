package faults

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/itsmkit/itsmkit/itsm"
)

// Method names a method of the wrapped store, as "<part>.<method>".
type Method string

// The methods faults can target. Any matches every call.
const (
	Any                  Method = ""
	IncidentsCreate      Method = "Incidents.Create"
	IncidentsGet         Method = "Incidents.Get"
	IncidentsGetByNumber Method = "Incidents.GetByNumber"
	IncidentsUpdate      Method = "Incidents.Update"
	IncidentsList        Method = "Incidents.List"
	InTx                 Method = "InTx"
	OutboxAppend         Method = "Outbox.Append"
	OutboxClaim          Method = "Outbox.Claim"
	OutboxAck            Method = "Outbox.Ack"
	SequencesNext        Method = "Sequences.Next"

	CMDBCreateCI           Method = "CMDB.CreateCI"
	CMDBGetCI              Method = "CMDB.GetCI"
	CMDBUpdateCI           Method = "CMDB.UpdateCI"
	CMDBDeleteCI           Method = "CMDB.DeleteCI"
	CMDBListCIs            Method = "CMDB.ListCIs"
	CMDBCreateRelationship Method = "CMDB.CreateRelationship"
	CMDBGetRelationship    Method = "CMDB.GetRelationship"
	CMDBDeleteRelationship Method = "CMDB.DeleteRelationship"
	CMDBRelationshipsOf    Method = "CMDB.RelationshipsOf"
	CMDBListRelationships  Method = "CMDB.ListRelationships"
)

var methods = []Method{
	IncidentsCreate, IncidentsGet, IncidentsGetByNumber, IncidentsUpdate, IncidentsList,
	InTx, OutboxAppend, OutboxClaim, OutboxAck, SequencesNext,
	CMDBCreateCI, CMDBGetCI, CMDBUpdateCI, CMDBDeleteCI, CMDBListCIs,
	CMDBCreateRelationship, CMDBGetRelationship, CMDBDeleteRelationship, CMDBRelationshipsOf, CMDBListRelationships,
}

// Kind is what a fault does to a call.
type Kind int

// The kinds of fault.
const (
	// Fail returns an error wrapping Fault.Err (ErrInjected when nil)
	// without calling the inner store.
	Fail Kind = iota + 1
	// Conflict returns itsm.ErrConflict without calling the inner store.
	Conflict
	// Timeout returns context.DeadlineExceeded without calling the inner
	// store.
	Timeout
	// TimeoutAfterWrite calls the inner store and, when the call
	// succeeded, returns context.DeadlineExceeded anyway: the write took
	// effect but the caller is told it timed out. A call that failed
	// returns its own error.
	TimeoutAfterWrite
)

// String names the kind as error messages do.
func (k Kind) String() string {
	switch k {
	case Fail:
		return "failure"
	case Conflict:
		return "conflict"
	case Timeout:
		return "timeout"
	case TimeoutAfterWrite:
		return "timeout after the write"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ErrInjected is what every injected error unwraps to, besides the error
// it stands for.
var ErrInjected = errors.New("faults: injected failure")

// Error is an injected error.
type Error struct {
	// Method is the method whose call failed.
	Method Method
	// Call is the call's number among the calls of Method since Wrap,
	// from 1.
	Call int
	// Kind is the fault injected.
	Kind Kind
	// Err is the error the fault stands for: ErrInjected or the error
	// given to Fail, itsm.ErrConflict, or context.DeadlineExceeded.
	Err error
}

// Error reads like "faults: injected failure on Incidents.Update call 3:
// <the error it stands for>".
func (e *Error) Error() string {
	msg := fmt.Sprintf("faults: injected %s on %s call %d", e.Kind, e.Method, e.Call)
	if e.Err != nil && e.Err != ErrInjected {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInjected and the error the fault stands for, so that
// errors.Is matches both.
func (e *Error) Unwrap() []error { return []error{ErrInjected, e.Err} }

// Fault is one planned fault.
type Fault struct {
	// Method is the method whose calls count; Any counts every call.
	Method Method
	// Nth is the first call to fault, counted from when the fault is
	// planned: 1 is the next matching call. Required, at most 2^40.
	Nth int
	// Times is how many consecutive matching calls to fault; 0 means 1,
	// math.MaxInt every call from the nth on. Where the calls of two
	// planned faults overlap, the one planned first faults the shared
	// calls, and they count as used for both.
	Times int
	// Kind is what to do. Required.
	Kind Kind
	// Err is the error a Fail stands for; nil means ErrInjected. Ignored
	// by the other kinds.
	Err error
}

// planned is a fault with its window of calls [from, to).
type planned struct {
	Fault
	from, to int
}

// Injector plans the faults of a wrapped store and counts its calls. It is
// safe for concurrent use.
type Injector struct {
	mu     sync.Mutex
	calls  map[Method]int // by method; Any holds the total
	faults []*planned
}

// Inject plans f. It returns a *itsm.ValidationError naming "method",
// "nth", "times" or "kind" when f is malformed.
func (inj *Injector) Inject(f Fault) error {
	var errs itsm.FieldErrors
	if f.Method != Any && !known(f.Method) {
		errs.Addf("method", "%q is not a method of the store", string(f.Method))
	}
	if f.Nth < 1 || f.Nth > maxNth {
		errs.Addf("nth", "must be between 1 and %d", maxNth)
	}
	if f.Times < 0 {
		errs.Add("times", "must not be negative")
	}
	if f.Kind < Fail || f.Kind > TimeoutAfterWrite {
		errs.Addf("kind", "%d is not a kind of fault", int(f.Kind))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if f.Times == 0 {
		f.Times = 1
	}
	inj.mu.Lock()
	defer inj.mu.Unlock()
	from := inj.calls[f.Method] + f.Nth
	to := math.MaxInt // Times as large as math.MaxInt: every call from the nth on
	if f.Times < math.MaxInt-from {
		to = from + f.Times
	}
	inj.faults = append(inj.faults, &planned{Fault: f, from: from, to: to})
	return nil
}

// maxNth bounds Fault.Nth, so that counting calls up to it cannot overflow.
const maxNth = 1 << 40

func known(m Method) bool {
	for _, k := range methods {
		if k == m {
			return true
		}
	}
	return false
}

// FailNth makes the nth call of m from now fail with ErrInjected.
func (inj *Injector) FailNth(m Method, nth int) error {
	return inj.Inject(Fault{Method: m, Nth: nth, Kind: Fail})
}

// ConflictNext makes the next k calls of Incidents.Update return
// itsm.ErrConflict, writing nothing.
func (inj *Injector) ConflictNext(k int) error {
	if k < 1 {
		return itsm.NewValidationError("k", "must be 1 or more")
	}
	return inj.Inject(Fault{Method: IncidentsUpdate, Nth: 1, Times: k, Kind: Conflict})
}

// TimeoutNth makes the nth call of m from now return
// context.DeadlineExceeded without reaching the store.
func (inj *Injector) TimeoutNth(m Method, nth int) error {
	return inj.Inject(Fault{Method: m, Nth: nth, Kind: Timeout})
}

// TimeoutAfterWriteNth makes the nth call of m from now take effect and
// then return context.DeadlineExceeded.
func (inj *Injector) TimeoutAfterWriteNth(m Method, nth int) error {
	return inj.Inject(Fault{Method: m, Nth: nth, Kind: TimeoutAfterWrite})
}

// Calls returns how many calls of m the wrapped store has received since
// Wrap, faulted or not; Calls(Any) counts every call.
func (inj *Injector) Calls(m Method) int {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	return inj.calls[m]
}

// Pending returns how many planned faults still have calls to fault.
func (inj *Injector) Pending() int {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	return len(inj.faults) // a fault leaves the plan on its last call
}

// Clear drops every planned fault; call counts carry on.
func (inj *Injector) Clear() {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	inj.faults = nil
}

// decide counts a call of m and returns the fault to inject, if any, with
// the call's number among calls of m.
func (inj *Injector) decide(m Method) (*planned, int) {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.calls == nil {
		inj.calls = make(map[Method]int)
	}
	inj.calls[m]++
	inj.calls[Any]++
	n := inj.calls[m]
	// The first planned fault whose window holds the call is injected.
	// Every fault whose window ends with this call leaves the plan, the
	// ones the first one hid included: two faults planned for one call
	// fault it once, and Pending does not count the other forever.
	var chosen *planned
	kept := inj.faults[:0]
	for _, f := range inj.faults {
		if f.Method != Any && f.Method != m {
			kept = append(kept, f)
			continue
		}
		c := inj.calls[f.Method]
		if c >= f.from && c < f.to && chosen == nil {
			chosen = f
		}
		if c < f.to-1 {
			kept = append(kept, f)
		}
	}
	clear(inj.faults[len(kept):])
	inj.faults = kept
	return chosen, n
}

// call runs do as call m, unless a fault says otherwise.
func call[T any](inj *Injector, m Method, do func() (T, error)) (T, error) {
	f, n := inj.decide(m)
	if f == nil {
		return do()
	}
	var zero T
	e := &Error{Method: m, Call: n, Kind: f.Kind}
	switch f.Kind {
	case Fail:
		e.Err = f.Err
		if e.Err == nil {
			e.Err = ErrInjected
		}
	case Conflict:
		e.Err = itsm.ErrConflict
	case Timeout:
		e.Err = context.DeadlineExceeded
	case TimeoutAfterWrite:
		if _, err := do(); err != nil {
			return zero, err
		}
		e.Err = context.DeadlineExceeded
	}
	return zero, e
}

// call0 is call for methods that return only an error.
func call0(inj *Injector, m Method, do func() error) error {
	_, err := call(inj, m, func() (struct{}, error) { return struct{}{}, do() })
	return err
}
