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
// transaction that rolls back stays used.
func (s *Store) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", storage.ValidateSequenceName(name))
	if err := errs.Err(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
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
