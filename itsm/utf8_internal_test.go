package itsm

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// validUTF8 must agree with utf8.ValidString on every string: on ASCII of
// every length around its eight-byte steps, and with a bad or multi-byte
// sequence at every position of them.
func TestValidUTF8(t *testing.T) {
	tests := []struct {
		name string
		s    string
	}{
		{"empty", ""},
		{"short ASCII", "ana"},
		{"eight ASCII", "abcdefgh"},
		{"long ASCII", "major_incident_manager"},
		{"two-byte rune", "Zoë"},
		{"three-byte rune", "€uro"},
		{"four-byte rune", "x𝄞"},
		{"lone continuation", "ab\x80"},
		{"truncated rune", "abcdefgh\xe2\x82"},
		{"overlong", "\xc0\xaf"},
		{"surrogate", "\xed\xa0\x80"},
		{"invalid byte", "\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, utf8.ValidString(tt.s), validUTF8(tt.s))
		})
	}
	for n := 0; n <= 25; n++ {
		ascii := strings.Repeat("a", n)
		assert.True(t, validUTF8(ascii), "ASCII of %d bytes", n)
		for i := 0; i < n; i++ {
			for _, bad := range []string{"\x80", "\xff", "é", "\xe2\x82"} {
				s := ascii[:i] + bad + ascii[i+1:]
				assert.Equal(t, utf8.ValidString(s), validUTF8(s), "%q", s)
			}
		}
	}
}

func FuzzValidUTF8(f *testing.F) {
	for _, s := range []string{"", "ana", "major_incident_manager", "Zoë", "abcdefgh\xe2\x82", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validUTF8(s), utf8.ValidString(s); got != want {
			t.Fatalf("validUTF8(%q) = %v, utf8.ValidString says %v", s, got, want)
		}
	})
}
