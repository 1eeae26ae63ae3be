package storage

import (
	"errors"
	"fmt"

	"github.com/itsmkit/itsmkit/incident"
)

// Store is the bundle of repositories one adapter hands out. It is frozen:
// repositories of later practices and optional capabilities are separate
// interfaces that a Store may also implement, found by type assertion.
//
// The repositories a Store returns are safe for concurrent use and may be
// kept; they stay bound to the Store (or to the transaction) that made them.
type Store interface {
	// Incidents returns the incident repository.
	Incidents() incident.Repository
}

// ErrTxDone reports a call on a transaction's Store (or with a transaction's
// context) after the transaction committed or rolled back.
var ErrTxDone = errors.New("storage: the transaction has already committed or rolled back")

// ErrTxBusy reports a call on a transaction made while a nested transaction
// (a savepoint) opened from the same level is still running: a second
// nested transaction beside it, or a call with the enclosing context, as
// from another goroutine. Nothing is written. Only calls made with the
// running nested transaction's context may use the transaction until it
// ends; see Transactor.
var ErrTxBusy = errors.New("storage: a nested transaction opened from this level is still running")

// Require returns s as the capability C, or an error wrapping
// errors.ErrUnsupported that names what s lacks, for services that need a
// capability and want to say so when they are built:
//
//	tx, err := storage.Require[storage.Transactor](store)
func Require[C any](s Store) (C, error) {
	if c, ok := s.(C); ok {
		return c, nil
	}
	var zero C
	return zero, fmt.Errorf("storage: %T does not implement %s: %w", s, capabilityName[C](), errors.ErrUnsupported)
}

// capabilityName names the interface C, e.g. "storage.Transactor".
func capabilityName[C any]() string {
	return fmt.Sprintf("%T", (*C)(nil))[1:]
}
