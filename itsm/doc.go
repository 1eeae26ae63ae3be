// Package itsm is the kernel of itsmkit: the vocabulary every practice
// package (incident, problem, change, sla, cmdb) shares.
//
// # What lives here
//
//   - Identity: typed IDs (ID[T], UUIDv7 from an injectable IDGenerator),
//     TenantID, Actor (who did it) and Ref (a typed link to another record).
//   - Classification: Impact, Urgency and Priority, and the PriorityMatrix
//     that derives priority from impact and urgency. Any size of matrix, any
//     numbering direction, validated on construction; DefaultPriorityMatrix
//     is the common 3×3.
//   - Lifecycles: Lifecycle[S, A], a validated, immutable transition table
//     with a Category per state (new, active, waiting, resolved, closed,
//     canceled), an initial state and terminal states. Rules and SLA pause
//     conditions key off categories, so desks may rename or add states.
//   - Events: Event, the shape of every domain event.
//   - Errors: the sentinels and the typed errors described below.
//   - Time: Clock and Normalize. The library never reads the system clock by
//     itself; every instant it records is UTC truncated to the microsecond.
//   - ITIL 4 terms: the four dimensions, the six value chain activities and
//     value streams, the 34 practices in three groups, the seven guiding
//     principles, the continual improvement model, and agreement kinds (SLA,
//     OLA, UC).
//
// # Lifecycles
//
// A lifecycle is declared as data (LifecycleSpec) and checked once by
// NewLifecycle, which rejects unknown states, duplicate (state, action)
// edges, states that cannot be reached, non-terminal dead ends, states from
// which no terminal state can be reached, and transitions out of terminal
// states. Can and Next answer from a precomputed index without allocating
// (Actions returns a fresh sorted copy of the actions); NewLifecycle drives every transition of the table through
// github.com/looplab/fsm once (see internal/fsmx) and refuses a table looplab
// reads differently. Guards that depend on a record's
// data run in the practice package before Next; effects run after it.
// A six-state table (the one this package's tests use, with a reassign edge
// that package incident's default lifecycle does without) renders with
// Mermaid as:
//
//	stateDiagram-v2
//	    [*] --> new
//	    new --> in_progress : assign
//	    new --> on_hold : hold
//	    in_progress --> on_hold : hold
//	    in_progress --> in_progress : reassign
//	    on_hold --> in_progress : resume
//	    new --> resolved : resolve
//	    in_progress --> resolved : resolve
//	    on_hold --> resolved : resolve
//	    resolved --> in_progress : reopen
//	    resolved --> closed : close
//	    new --> canceled : cancel
//	    in_progress --> canceled : cancel
//	    on_hold --> canceled : cancel
//	    closed --> [*]
//	    canceled --> [*]
//
// A desk may supply its own lifecycle; Lifecycle.Require tells it which
// categories or paths a service needs that the lifecycle lacks.
//
// # Errors
//
// Errors are tested with errors.Is and errors.As, never by message:
//
//   - ErrNotFound, ErrAlreadyExists, ErrConflict: storage outcomes. A record
//     of another tenant is ErrNotFound.
//   - ErrInvalid: bad input. The concrete error is *ValidationError, which
//     names the first offending field and lists every other problem found in
//     the same pass (build one with FieldErrors).
//   - ErrInvalidTransition: a lifecycle or guard refused an action. The
//     concrete error is *TransitionError, with the lifecycle, state, action,
//     reason and the actions that were allowed.
//   - ErrForbidden: an authorizer refused the actor.
//
// # Concurrency
//
// Every type here is a value or is immutable after construction
// (PriorityMatrix, Lifecycle), and safe for concurrent use. The package has
// no goroutines, timers or mutable globals.
package itsm
