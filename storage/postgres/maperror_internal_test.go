package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/itsmkit/itsmkit/itsm"
)

// A value out of its column's range that validation let through is bad
// input (itsm.ErrInvalid), the server's error kept in the message, never a
// bare driver error a caller cannot test for.
func TestMapErrorOutOfRange(t *testing.T) {
	for _, code := range []string{codeDatetimeFieldOverflow, codeNumericValueOutOfRange} {
		t.Run(code, func(t *testing.T) {
			pe := &pgconn.PgError{Code: code, Message: "out of range"}
			err := mapError(context.Background(), "create incident", fmt.Errorf("wrapped: %w", pe))
			assert.ErrorIs(t, err, itsm.ErrInvalid)
			var kept *pgconn.PgError
			assert.False(t, errors.As(err, &kept), "the driver's error is not part of the chain")
			assert.Contains(t, err.Error(), "out of range")
		})
	}
}
