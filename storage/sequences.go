package storage

import (
	"context"
	"fmt"

	"github.com/itsmkit/itsmkit/itsm"
)

// Sequences hands out per-tenant counters for human-readable numbers such as
// INC0001234.
//
// Next returns the next value of the tenant's sequence called name: 1 the
// first time, then larger values. No two calls ever get the same value for
// the same tenant and name, however many run at once. Values may be skipped
// (gaps are allowed): a value drawn inside a transaction that rolls back is
// not handed out again, as with PostgreSQL's nextval. A call whose context is
// already done consumes nothing and returns ctx.Err().
//
// Although values are drawn outside transactions, a call made through a
// transaction's Store, or with its context, is refused like any other call
// of the transaction (see Transactor), drawing nothing: ErrTxDone once the
// transaction has ended, ErrTxBusy while a nested transaction runs below
// the level the context carries.
//
// Errors: *itsm.ValidationError naming "tenant" or "sequence" for bad input
// (see ValidateSequenceName); ErrTxDone; ErrTxBusy.
type Sequences interface {
	// Next returns the next value of the sequence; see the type's
	// documentation.
	Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error)
}

// MaxSequenceNameLen is the longest sequence name accepted.
const MaxSequenceNameLen = 64

// ValidateSequenceName returns a *itsm.ValidationError naming "sequence"
// unless name is 1 to 64 characters of lower-case ASCII letters, digits, '_',
// '.' and '-', starting with a letter (e.g. "incident").
func ValidateSequenceName(name string) error {
	if name == "" || len(name) > MaxSequenceNameLen {
		return itsm.NewValidationError("sequence", fmt.Sprintf("must be 1 to %d characters", MaxSequenceNameLen))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-')
		if !ok {
			return itsm.NewValidationError("sequence", fmt.Sprintf("%q must be lower-case letters, digits, '_', '.' and '-', starting with a letter", name))
		}
	}
	return nil
}
