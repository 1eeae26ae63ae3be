package itsm

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by itsmkit that belongs to one of these
// classes unwraps to the sentinel, so callers test with errors.Is and never by
// comparing messages.
var (
	// ErrNotFound reports that a record does not exist in the caller's tenant.
	// A record of another tenant is reported the same way.
	ErrNotFound = errors.New("itsm: not found")
	// ErrAlreadyExists reports a create of a record whose identity is taken.
	ErrAlreadyExists = errors.New("itsm: already exists")
	// ErrConflict reports an optimistic-concurrency conflict: the record changed
	// since it was read. Nothing was written; re-read and decide again.
	ErrConflict = errors.New("itsm: conflict")
	// ErrInvalid reports input that breaks a rule. The concrete error is a
	// *ValidationError naming the field.
	ErrInvalid = errors.New("itsm: invalid")
	// ErrInvalidTransition reports an action that the lifecycle does not allow
	// from the record's current state, or a guard that refused it. The concrete
	// error is a *TransitionError.
	ErrInvalidTransition = errors.New("itsm: invalid transition")
	// ErrForbidden reports that an authorizer refused the actor.
	ErrForbidden = errors.New("itsm: forbidden")
)

// FieldError is one field that failed validation and why.
type FieldError struct {
	// Field is the path of the offending field, e.g. "title" or
	// "transitions[2].to".
	Field string `json:"field"`
	// Reason says what is wrong in plain words, e.g. "must not be empty".
	Reason string `json:"reason"`
}

// String returns "field: reason".
func (f FieldError) String() string { return f.Field + ": " + f.Reason }

// ValidationError reports input that breaks one or more rules. Field and Reason
// describe the first problem found; Others lists any further problems found in
// the same pass, so a caller can show every problem at once. It unwraps to
// ErrInvalid.
type ValidationError struct {
	// Field is the path of the first offending field.
	Field string `json:"field"`
	// Reason says what is wrong with Field.
	Reason string `json:"reason"`
	// Others holds the further problems found in the same pass, in the order
	// they were found. Empty when there was only one.
	Others []FieldError `json:"others,omitempty"`
}

// NewValidationError returns a *ValidationError for a single field.
func NewValidationError(field, reason string) *ValidationError {
	return &ValidationError{Field: field, Reason: reason}
}

// Error lists every problem: "invalid title: must not be empty; invalid impact:
// 7 is not a level of the matrix".
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, f := range e.All() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString("invalid ")
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Reason)
	}
	return b.String()
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// All returns every problem, the first one included, in the order found.
func (e *ValidationError) All() []FieldError {
	out := make([]FieldError, 0, 1+len(e.Others))
	out = append(out, FieldError{Field: e.Field, Reason: e.Reason})
	return append(out, e.Others...)
}

// Has reports whether any problem concerns field.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.All() {
		if f.Field == field {
			return true
		}
	}
	return false
}

// FieldErrors collects validation problems during one pass over some input and
// turns them into a single *ValidationError. The zero value is ready to use.
//
//	var errs itsm.FieldErrors
//	if title == "" {
//		errs.Add("title", "must not be empty")
//	}
//	return errs.Err()
type FieldErrors struct {
	list []FieldError
}

// Add records that field is invalid for reason.
func (c *FieldErrors) Add(field, reason string) {
	c.list = append(c.list, FieldError{Field: field, Reason: reason})
}

// Addf records that field is invalid, with a formatted reason.
func (c *FieldErrors) Addf(field, format string, args ...any) {
	c.Add(field, fmt.Sprintf(format, args...))
}

// Merge adds the problems of err under prefix when err is a *ValidationError
// (prefix "" keeps the field names; prefix "matrix" turns "cells[0]" into
// "matrix.cells[0]"). Any other non-nil error is recorded against prefix with
// its message. A nil err adds nothing.
func (c *FieldErrors) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		c.Add(prefix, err.Error())
		return
	}
	for _, f := range ve.All() {
		name := f.Field
		switch {
		case prefix == "":
		case name == "":
			name = prefix
		case strings.HasPrefix(name, "["):
			name = prefix + name
		default:
			name = prefix + "." + name
		}
		c.Add(name, f.Reason)
	}
}

// Len returns how many problems were recorded.
func (c *FieldErrors) Len() int { return len(c.list) }

// Err returns nil when nothing was recorded, or a *ValidationError holding every
// problem in the order recorded.
func (c *FieldErrors) Err() error {
	if len(c.list) == 0 {
		return nil // inlined: the usual answer costs no call
	}
	return c.err()
}

// err is Err for a collector holding errors.
func (c *FieldErrors) err() error {
	e := &ValidationError{Field: c.list[0].Field, Reason: c.list[0].Reason}
	if len(c.list) > 1 {
		e.Others = append([]FieldError(nil), c.list[1:]...)
	}
	return e
}

// TransitionError reports that a lifecycle refused an action. It unwraps to
// ErrInvalidTransition.
type TransitionError struct {
	// Lifecycle is the name of the lifecycle that refused, e.g. "incident".
	Lifecycle string `json:"lifecycle"`
	// From is the state the record was in.
	From string `json:"from"`
	// Action is the action that was refused.
	Action string `json:"action"`
	// Reason says why: the action is not allowed from From, From is terminal,
	// From is not a declared state, or a guard's own words.
	Reason string `json:"reason"`
	// Allowed lists the actions that From does allow, sorted, so a caller can
	// say what would have worked.
	Allowed []string `json:"allowed,omitempty"`
}

// Error reads like "incident: cannot resolve from closed: closed is terminal".
func (e *TransitionError) Error() string {
	var b strings.Builder
	if e.Lifecycle != "" {
		b.WriteString(e.Lifecycle)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "cannot %s from %s", e.Action, e.From)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if len(e.Allowed) > 0 {
		b.WriteString(" (allowed: ")
		b.WriteString(strings.Join(e.Allowed, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }
