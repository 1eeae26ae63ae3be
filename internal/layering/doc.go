// Package layering holds the test that keeps itsmkit's import graph in the
// shape docs/DESIGN.md draws: imports point down only, domain packages never
// reach storage, database drivers, net/http or loggers, and only
// internal/fsmx imports github.com/looplab/fsm.
//
// The package has no code of its own; the rules live in layering_test.go.
// A new package must be added to the table there, so that its place in the
// layers is a decision rather than an accident. docs_test.go holds the
// companion check that every exported name is documented and every package
// has a doc.go.
package layering
