package memory_test

import (
	"testing"

	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
	"github.com/itsmkit/itsmkit/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memory.New() })
}

func TestZeroStoreIsUsable(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return new(memory.Store) })
}
