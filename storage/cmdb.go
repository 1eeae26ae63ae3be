package storage

import (
	"context"
	"fmt"

	"github.com/itsmkit/itsmkit/cmdb"
)

// CMDB is implemented by stores that keep a CMDB: CI records and their
// relationships (see cmdb.Repository). It is a separate interface because
// Store is frozen; find it with Require[CMDB] or CMDBRepository.
//
// CMDB returns the repository bound to reg, whose relationship types it
// enforces (class pairs, cardinality, hosting cycles, delete behaviour);
// nil means the built-in registry. Bind every repository of one store to
// the same registry, or a superset of it: a stored relationship whose type
// the registry does not know restricts deleting its CIs.
type CMDB interface {
	// CMDB returns the CMDB repository; see the type's documentation.
	CMDB(reg *cmdb.Registry) cmdb.Repository
}

// CMDBRepository returns s's CMDB repository bound to reg. When s also
// offers transactions, the repository implements cmdb.Atomic, so that
// reconciliation reads and writes a batch in one transaction. It returns an
// error wrapping errors.ErrUnsupported when s has no CMDB.
func CMDBRepository(s Store, reg *cmdb.Registry) (cmdb.Repository, error) {
	c, err := Require[CMDB](s)
	if err != nil {
		return nil, fmt.Errorf("storage: cmdb: %w", err)
	}
	repo := c.CMDB(reg)
	if tx, ok := s.(Transactor); ok {
		return atomicCMDB{Repository: repo, tx: tx, reg: reg}, nil
	}
	return repo, nil
}

// atomicCMDB bridges a store's transactions to cmdb.Atomic.
type atomicCMDB struct {
	cmdb.Repository
	tx  Transactor
	reg *cmdb.Registry
}

// Atomically runs fn in a transaction of the store.
func (a atomicCMDB) Atomically(ctx context.Context, fn func(ctx context.Context, repo cmdb.Repository) error) error {
	return a.tx.InTx(ctx, func(ctx context.Context, s Store) error {
		c, ok := s.(CMDB)
		if !ok {
			return fmt.Errorf("storage: the transaction's store %T has no CMDB", s)
		}
		return fn(ctx, c.CMDB(a.reg))
	})
}
