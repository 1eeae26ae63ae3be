package itsm

import (
	"fmt"
	"unicode/utf8"
)

// TenantID names the tenant a record belongs to. Every record belongs to
// exactly one tenant and every storage call is scoped by one. A TenantID is 1
// to 64 characters of ASCII letters, digits, '-', '_' and '.', which admits
// slugs ("acme-eu") and UUIDs alike.
type TenantID string

// MaxTenantIDLen is the longest TenantID accepted.
const MaxTenantIDLen = 64

// ParseTenantID validates s and returns it as a TenantID, or a
// *ValidationError naming "tenant".
func ParseTenantID(s string) (TenantID, error) {
	t := TenantID(s)
	if err := t.Validate(); err != nil {
		return "", err
	}
	return t, nil
}

// Validate returns a *ValidationError naming "tenant" when t is not a valid
// tenant ID.
func (t TenantID) Validate() error {
	if t == "" {
		return NewValidationError("tenant", "must not be empty")
	}
	if len(t) > MaxTenantIDLen {
		return NewValidationError("tenant", fmt.Sprintf("must be at most %d characters, got %d", MaxTenantIDLen, len(t)))
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			continue
		}
		shown := string(t)
		if !utf8.ValidString(shown) {
			shown = fmt.Sprintf("%q", shown)
		}
		return NewValidationError("tenant", fmt.Sprintf("character %d of %s is not a letter, digit, '-', '_' or '.'", i+1, shown))
	}
	return nil
}

// String returns the tenant ID as text.
func (t TenantID) String() string { return string(t) }
