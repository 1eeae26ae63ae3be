package itsm

import (
	"fmt"
	"strings"
)

// enumEntry is one value of a small closed vocabulary: a stable slug for
// storage and JSON ("deliver_and_support") and a display name ("Deliver and
// support").
type enumEntry struct {
	slug string
	name string
}

// enumTable holds a vocabulary whose values are 1..len(entries); 0 is "unset".
// Tables are package-level and never modified after initialisation.
type enumTable[T ~uint8] struct {
	field   string // field name used in validation errors
	entries []enumEntry
}

func (t *enumTable[T]) valid(v T) bool { return v >= 1 && int(v) <= len(t.entries) }

func (t *enumTable[T]) slug(v T) string {
	if !t.valid(v) {
		return fmt.Sprintf("%s(%d)", t.field, uint8(v))
	}
	return t.entries[v-1].slug
}

func (t *enumTable[T]) name(v T) string {
	if !t.valid(v) {
		return t.slug(v)
	}
	return t.entries[v-1].name
}

func (t *enumTable[T]) all() []T {
	out := make([]T, len(t.entries))
	for i := range out {
		out[i] = T(i + 1)
	}
	return out
}

// normalizeWord folds case and treats spaces, hyphens and underscores alike,
// so "Deliver and support", "deliver-and-support" and "DELIVER_AND_SUPPORT"
// are one word.
func normalizeWord(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

// parse accepts the slug or the display name, ignoring case and treating
// spaces, hyphens and underscores alike. Errors are *ValidationError naming the
// table's field.
func (t *enumTable[T]) parse(s string) (T, error) {
	n := normalizeWord(s)
	for i, e := range t.entries {
		if n == e.slug || n == normalizeWord(e.name) {
			return T(i + 1), nil
		}
	}
	return 0, NewValidationError(t.field, fmt.Sprintf("%q is not a known %s", clip(s), strings.ReplaceAll(t.field, "_", " ")))
}

func (t *enumTable[T]) marshal(v T) ([]byte, error) {
	if !t.valid(v) {
		return nil, NewValidationError(t.field, fmt.Sprintf("%d is not a known value", uint8(v)))
	}
	return []byte(t.entries[v-1].slug), nil
}

func (t *enumTable[T]) unmarshal(v *T, b []byte) error {
	p, err := t.parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
