package itsm

import (
	"database/sql/driver"
	"fmt"

	"github.com/google/uuid"
)

// Kind names a kind of record, e.g. "incident" or "ci". It is the first half
// of a Ref and appears in events and error messages.
type Kind string

// The kinds of record itsmkit itself defines. Hosts may define their own.
const (
	KindIncident    Kind = "incident"
	KindProblem     Kind = "problem"
	KindKnownError  Kind = "known_error"
	KindChange      Kind = "change"
	KindRequest     Kind = "request"
	KindCI          Kind = "ci"
	KindService     Kind = "service"
	KindAgreement   Kind = "agreement"
	KindImprovement Kind = "improvement"
)

// Validate reports whether k is a usable kind: 1 to 64 characters, lower-case
// ASCII letters, digits and underscores, starting with a letter.
func (k Kind) Validate() error {
	if len(k) == 0 || len(k) > 64 {
		return NewValidationError("kind", "must be 1 to 64 characters")
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		ok := c >= 'a' && c <= 'z' || c == '_' && i > 0 || c >= '0' && c <= '9' && i > 0
		if !ok {
			return NewValidationError("kind", fmt.Sprintf("%q must be lower-case letters, digits and underscores, starting with a letter", string(k)))
		}
	}
	return nil
}

// Kinded is implemented by the marker types that parameterise ID. A domain
// package declares one empty marker type per aggregate:
//
//	type record struct{}
//	func (record) RecordKind() itsm.Kind { return itsm.KindIncident }
//	type ID = itsm.ID[record]
//
// so that an incident ID and a change ID are different types that cannot be
// mixed up, at no run-time cost.
type Kinded interface {
	RecordKind() Kind
}

// ID is a typed identifier backed by a UUID (version 7 when made by
// UUIDv7Generator, so IDs sort by creation time). The zero ID is "no ID".
// IDs marshal as the canonical UUID text.
type ID[T Kinded] struct {
	u uuid.UUID
}

// NewID draws a fresh ID from gen.
//
// It returns the generator's error unchanged when it fails, and an
// *ValidationError when the generator returns the nil UUID.
func NewID[T Kinded](gen IDGenerator) (ID[T], error) {
	if gen == nil {
		return ID[T]{}, NewValidationError("id_generator", "must not be nil")
	}
	u, err := gen.NewUUID()
	if err != nil {
		return ID[T]{}, err
	}
	if u == uuid.Nil {
		return ID[T]{}, NewValidationError("id", "generator returned the nil UUID")
	}
	return ID[T]{u: u}, nil
}

// IDFromUUID wraps an existing UUID as a typed ID.
func IDFromUUID[T Kinded](u uuid.UUID) ID[T] { return ID[T]{u: u} }

// ParseID parses the canonical text form of a UUID into a typed ID. The nil
// UUID parses to the zero ID. Bad text gives a *ValidationError naming "id".
func ParseID[T Kinded](s string) (ID[T], error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return ID[T]{}, NewValidationError("id", fmt.Sprintf("%q is not a UUID", s))
	}
	return ID[T]{u: u}, nil
}

// UUID returns the underlying UUID.
func (id ID[T]) UUID() uuid.UUID { return id.u }

// IsZero reports whether id is the zero ("no") ID.
func (id ID[T]) IsZero() bool { return id.u == uuid.Nil }

// Kind returns the kind of record the ID names.
func (id ID[T]) Kind() Kind {
	var t T
	return t.RecordKind()
}

// Ref returns a Ref to the record this ID names.
func (id ID[T]) Ref() Ref { return Ref{Kind: id.Kind(), ID: id.u} }

// String returns the canonical UUID text, or "" for the zero ID.
func (id ID[T]) String() string {
	if id.IsZero() {
		return ""
	}
	return id.u.String()
}

// Compare orders IDs by their bytes (for UUIDv7, by creation time first). It
// returns -1, 0 or +1.
func (id ID[T]) Compare(other ID[T]) int { return compareUUID(id.u, other.u) }

// MarshalText returns the canonical UUID text; the zero ID marshals as "".
func (id ID[T]) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses canonical UUID text; "" gives the zero ID.
func (id *ID[T]) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = ID[T]{}
		return nil
	}
	v, err := ParseID[T](string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Value implements driver.Valuer so IDs can be stored by database/sql-style
// drivers; the zero ID is stored as NULL.
func (id ID[T]) Value() (driver.Value, error) {
	if id.IsZero() {
		return nil, nil
	}
	return id.u.String(), nil
}

func compareUUID(a, b uuid.UUID) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// IDGenerator makes fresh UUIDs. Production code uses UUIDv7Generator; tests
// use a deterministic one from itsmtest.
type IDGenerator interface {
	NewUUID() (uuid.UUID, error)
}

// IDGeneratorFunc adapts a function to IDGenerator.
type IDGeneratorFunc func() (uuid.UUID, error)

// NewUUID calls f.
func (f IDGeneratorFunc) NewUUID() (uuid.UUID, error) { return f() }

// UUIDv7Generator returns a generator of random, time-ordered version 7 UUIDs
// (RFC 9562) drawn from the system's clock and random source.
func UUIDv7Generator() IDGenerator { return IDGeneratorFunc(uuid.NewV7) }
