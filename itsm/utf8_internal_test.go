package itsm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// printable must agree with its rune-by-rune definition on every string:
// ASCII of every length around its eight-byte steps, with a control
// character, a DEL, a C1 control or a bad sequence at every position.
func TestPrintable(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"empty", "", true},
		{"short name", "Ana", true},
		{"long name", "Ana María Fernández-Ruiz", true},
		{"every printable ASCII byte", func() string {
			var b strings.Builder
			for c := byte(0x20); c < 0x7f; c++ {
				b.WriteByte(c)
			}
			return b.String()
		}(), true},
		{"NUL", "ana\x00", false},
		{"escape sequence", "\x1b[31mroot", false},
		{"newline", "ana\nbob", false},
		{"DEL", "ana\x7f", false},
		{"C1 control", "ana\u0085bob", false},
		{"invalid byte", "ana\xff", false},
		{"line separator is not a control", "ana\u2028", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, printable(tt.s))
			assert.Equal(t, tt.want, printableSlow(tt.s))
		})
	}
	for n := 0; n <= 25; n++ {
		ascii := strings.Repeat("a", n)
		assert.True(t, printable(ascii), "ASCII of %d bytes", n)
		for i := 0; i < n; i++ {
			for _, bad := range []string{"\x00", "\x1f", " ", "~", "\x7f", "\x80", "\u0085", "é", "\xff"} {
				s := ascii[:i] + bad + ascii[i+1:]
				assert.Equal(t, printableSlow(s), printable(s), "%q", s)
			}
		}
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"", "ana", "major_incident_manager", "Zoë", "ana\x00bob", "abcdefg\x7f", "\u0085", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := printable(s), printableSlow(s); got != want {
			t.Fatalf("printable(%q) = %v, rune by rune %v", s, got, want)
		}
	})
}
