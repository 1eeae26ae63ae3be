package itsm

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Ref is a typed link to another record: its kind and its ID. Links between
// practices (an incident's problem, a change's CIs) are Refs so that packages
// need not import one another. The text form is "kind:uuid".
type Ref struct {
	Kind Kind      `json:"kind"`
	ID   uuid.UUID `json:"id"`
}

// ParseRef parses the "kind:uuid" form. Errors are *ValidationError naming
// "ref".
func ParseRef(s string) (Ref, error) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok {
		return Ref{}, NewValidationError("ref", fmt.Sprintf("%q is not of the form kind:uuid", s))
	}
	r := Ref{Kind: Kind(kind)}
	u, err := uuid.Parse(id)
	if err != nil {
		return Ref{}, NewValidationError("ref", fmt.Sprintf("%q does not end in a UUID", s))
	}
	r.ID = u
	if err := r.Validate(); err != nil {
		var errs FieldErrors
		errs.Merge("ref", err)
		return Ref{}, errs.Err()
	}
	return r, nil
}

// IsZero reports whether r is the zero Ref ("no link").
func (r Ref) IsZero() bool { return r.Kind == "" && r.ID == uuid.Nil }

// Validate returns a *ValidationError naming "kind" or "id" when the kind is
// not valid or the ID is the nil UUID. Callers that validate a Ref field
// prefix the names with FieldErrors.Merge ("parent.kind").
func (r Ref) Validate() error {
	var errs FieldErrors
	errs.Merge("", r.Kind.Validate())
	if r.ID == uuid.Nil {
		errs.Add("id", "must not be the nil UUID")
	}
	return errs.Err()
}

// String returns "kind:uuid".
func (r Ref) String() string { return string(r.Kind) + ":" + r.ID.String() }

// Compare orders Refs by kind, then by ID. It returns -1, 0 or +1.
func (r Ref) Compare(o Ref) int {
	if c := strings.Compare(string(r.Kind), string(o.Kind)); c != 0 {
		return c
	}
	return compareUUID(r.ID, o.ID)
}
