// Package fsmx is the one place in itsmkit that imports github.com/looplab/fsm.
//
// It turns a validated transition table into a Machine that answers "where does
// this action lead from that state" by running the event through a looplab FSM,
// and maps looplab's errors onto plain results. The kernel's itsm.Lifecycle
// validates tables and answers Can, Actions and Next from its own precomputed
// index; Check runs each new table through looplab once, so that the index and
// looplab never disagree. Next used to come here on every transition, at about
// 0.4 µs and 5 allocations each (a tenth of an incident command's budget),
// against a few nanoseconds for the index.
//
// looplab/fsm v1.0.3 has traits this package designs around:
//   - an FSM holds mutexes and its current state, so it is never stored in an
//     aggregate; a Machine keeps a pool of FSMs and sets the state on each call;
//   - building an FSM costs about 1.6 µs and 13 allocations, reusing one about
//     0.4 µs and 5, so FSMs are pooled rather than built per call;
//   - SetState accepts any string, so callers validate the state first;
//   - a self-transition returns NoTransitionError, which here is a success;
//   - callbacks are never registered (no side effects run inside the FSM, and a
//     mistyped callback key would be ignored silently anyway);
//   - errors are value types, matched with errors.As on value targets.
package fsmx
