package postgres_test

import (
	"testing"

	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/storagetest"
)

func TestConformance(t *testing.T) {
	serverURL(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, _ := openStore(t)
		return s
	})
}
