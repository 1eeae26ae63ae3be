package storagetest_test

import (
	"testing"

	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
	"github.com/itsmkit/itsmkit/storage/storagetest"
)

// An adapter runs the whole suite from one test function, handing it a way
// to open a fresh, empty store for every subtest (an adapter with
// connections registers their closing with t.Cleanup there). The example
// only compiles: Run needs the *testing.T of a real test, as in testing's
// own example of RunParallel.
func ExampleRun() {
	conformance := func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Store { return memory.New() })
	}
	_ = conformance // in a _test.go file: func TestConformance(t *testing.T) { conformance(t) }
}
