package memory

import (
	"context"
	"fmt"
	"math"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// seqKey names one sequence of one tenant.
type seqKey struct {
	tenant itsm.TenantID
	name   string
}

// Next returns the next value of the tenant's sequence; see
// storage.Sequences. Sequences are outside transactions: a value drawn in a
// transaction that rolls back stays used. With the context of one of the
// store's transactions it still answers as a call of that transaction
// would: storage.ErrTxDone once it has ended, storage.ErrTxBusy while a
// nested transaction runs below the context's level.
func (s *Store) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return s.next(ctx, nil, tenant, name)
}

// next draws a value for a call made through t's Store (t is nil for the
// Store itself, which then looks for a transaction in ctx).
func (s *Store) next(ctx context.Context, t *tx, tenant itsm.TenantID, name string) (int64, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", storage.ValidateSequenceName(name))
	if err := errs.Err(); err != nil {
		return 0, err
	}
	if t == nil {
		t = s.txOf(ctx)
	}
	if t == nil {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return s.draw(tenant, name)
	}
	// The value is drawn while the transaction's calls are held off, so a
	// draw that passed the check cannot come after the transaction's end.
	// The transaction's own lock on the store is not needed: sequences
	// have a lock of their own.
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter(ctx); err != nil {
		return 0, err
	}
	return s.draw(tenant, name)
}

// draw hands out the next value of the tenant's sequence.
func (s *Store) draw(tenant itsm.TenantID, name string) (int64, error) {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	k := seqKey{tenant, name}
	v := s.seqs[k]
	if v == math.MaxInt64 {
		return 0, fmt.Errorf("memory: sequence %s of tenant %s is exhausted", name, tenant)
	}
	if s.seqs == nil {
		s.seqs = make(map[seqKey]int64)
	}
	s.seqs[k] = v + 1
	return v + 1, nil
}
