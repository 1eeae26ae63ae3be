// Package itsmtest helps test code that uses itsmkit, in users' suites and in
// itsmkit's own: a controllable clock, deterministic ID generators, and small
// helpers that take a testing.TB and fail the test on error instead of
// returning it.
//
// Everything here is deterministic: the same calls in the same order produce
// the same instants and IDs on every run, so tests can compare whole records
// and golden outputs. Clock and IDs are safe for concurrent use.
//
// Its subpackages add the rest: itsmtest/incidents builds valid incidents in
// any state, and itsmtest/faults wraps a store to fail, conflict or time out
// on the call a test chooses.
package itsmtest
