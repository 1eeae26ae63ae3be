package sla

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/internal/jsonw"
)

// AppendJSON appends ev's JSON encoding to b and returns the extended
// buffer. It writes exactly the bytes encoding/json writes for an Event by
// reflection (the struct tags, omitempty and omitzero included, strings
// escaped as json.Marshal escapes them, HTML characters too), without
// reflection and allocating nothing but for a threshold's decimal text.
// Threshold honours decimal.MarshalJSONWithoutQuotes and the other
// formatting switches of the decimal package as Decimal.MarshalJSON does.
//
// The error, wrapping time.Time's, is returned for an instant json.Marshal
// cannot encode either (a year outside 0 to 9999); b is then returned as
// given.
func (ev Event) AppendJSON(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, `{"key":`...)
	b = appendJSONString(b, ev.Key)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(ev.Kind))
	b = append(b, `,"at":`...)
	b, err := appendJSONTime(b, ev.At)
	if err != nil {
		return b[:start], fmt.Errorf("sla: encoding event %q: at: %w", ev.Key, err)
	}
	b = append(b, `,"record":{"kind":`...)
	b = appendJSONString(b, string(ev.Record.Kind))
	b = append(b, `,"id":"`...)
	b = appendUUID(b, ev.Record.ID)
	b = append(b, `"},"agreement":`...)
	b = appendJSONString(b, ev.Agreement)
	b = append(b, `,"metric":`...)
	b = appendJSONString(b, ev.Metric)
	b = append(b, `,"cycle":`...)
	b = strconv.AppendInt(b, int64(ev.Cycle), 10)
	b = append(b, `,"goal":`...)
	b = appendJSONString(b, ev.Goal)
	b = append(b, `,"threshold":`...)
	b = appendJSONDecimal(b, ev.Threshold)
	if ev.Breached {
		b = append(b, `,"breached":true`...)
	}
	if !ev.BreachedAt.IsZero() {
		b = append(b, `,"breached_at":`...)
		if b, err = appendJSONTime(b, ev.BreachedAt); err != nil {
			return b[:start], fmt.Errorf("sla: encoding event %q: breached_at: %w", ev.Key, err)
		}
	}
	return append(b, '}'), nil
}

// MarshalJSON returns ev.AppendJSON(nil): the encoding json.Marshal gave
// an Event by reflection, byte for byte. (An Encoder told not to escape
// HTML no longer affects it: '<', '>' and '&' in its strings stay escaped
// as \u003c, \u003e and \u0026, which decode the same.)
func (ev Event) MarshalJSON() ([]byte, error) {
	// The fixed parts, the longest instants and cycle, and the strings
	// unescaped: enough but for escapes and long thresholds.
	n := 280 + len(ev.Key) + len(ev.Kind) + len(ev.Record.Kind) + len(ev.Agreement) + len(ev.Metric) + len(ev.Goal)
	return ev.AppendJSON(make([]byte, 0, n))
}

// appendJSONTime appends t as time.Time.MarshalJSON does. Instants in UTC
// from year 1 to 9999, the only ones the engine makes, are written here
// digit by digit; any other goes through time.Time.AppendText.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if t.Location() == time.UTC {
		if y, mo, d := t.Date(); y >= 1 && y <= 9999 {
			h, mi, s := t.Clock()
			b = append(b, '"',
				byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
				byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
				byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
				byte('0'+s/10), byte('0'+s%10))
			b = appendFraction(b, t.Nanosecond())
			return append(b, 'Z', '"'), nil
		}
	}
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, err // AppendText returns nil then
	}
	return append(out, '"'), nil
}

// appendFraction appends ns nanoseconds as RFC 3339 with nanoseconds
// writes them: nothing for none, else a dot and up to nine digits without
// trailing zeros.
func appendFraction(b []byte, ns int) []byte {
	if ns == 0 {
		return b
	}
	n := 9
	for ns%10 == 0 {
		ns /= 10
		n--
	}
	var digits [9]byte
	for i := n - 1; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// appendJSONString appends s as a JSON string as encoding/json writes it
// (see jsonw.AppendString). A string that needs no escape, as keys and
// names mostly are, is checked and then copied whole.
func appendJSONString(b []byte, s string) []byte {
	if !jsonPlain(s) {
		return jsonw.AppendString(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonSpecial is 1 for the bytes encoding/json does not copy as they are
// into a string: control characters, '"', '\\', the HTML-sensitive '<',
// '>' and '&', and every byte of a multi-byte or invalid UTF-8 sequence.
var jsonSpecial = func() (t [256]uint8) {
	for c := range 256 {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			t[c] = 1
		}
	}
	return t
}()

// jsonPlain reports whether no byte of s is special (see jsonSpecial). It
// looks every byte up, eight at a time without a branch between them.
// (Word-wide tests of eight bytes at once took more instructions.)
func jsonPlain(s string) bool {
	var acc uint8
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := s[i : i+8]
		acc |= jsonSpecial[x[0]] | jsonSpecial[x[1]] | jsonSpecial[x[2]] | jsonSpecial[x[3]] |
			jsonSpecial[x[4]] | jsonSpecial[x[5]] | jsonSpecial[x[6]] | jsonSpecial[x[7]]
	}
	for ; i < len(s); i++ {
		acc |= jsonSpecial[s[i]]
	}
	return acc == 0
}

// appendJSONDecimal appends d as decimal.Decimal.MarshalJSON does.
func appendJSONDecimal(b []byte, d decimal.Decimal) []byte {
	var s string
	if d == (decimal.Decimal{}) {
		s = "0" // String of the zero Decimal, whatever the switches
	} else {
		s = d.String()
	}
	if decimal.MarshalJSONWithoutQuotes {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendUUID appends id in its canonical text form, as uuid.UUID.MarshalText
// writes it.
func appendUUID(b []byte, id [16]byte) []byte {
	var s [36]byte
	putHex(&s, 0, id[0])
	putHex(&s, 2, id[1])
	putHex(&s, 4, id[2])
	putHex(&s, 6, id[3])
	s[8] = '-'
	putHex(&s, 9, id[4])
	putHex(&s, 11, id[5])
	s[13] = '-'
	putHex(&s, 14, id[6])
	putHex(&s, 16, id[7])
	s[18] = '-'
	putHex(&s, 19, id[8])
	putHex(&s, 21, id[9])
	s[23] = '-'
	putHex(&s, 24, id[10])
	putHex(&s, 26, id[11])
	putHex(&s, 28, id[12])
	putHex(&s, 30, id[13])
	putHex(&s, 32, id[14])
	putHex(&s, 34, id[15])
	return append(b, s[:]...)
}

// hexPairs holds the two lowercase hex digits of each byte.
var hexPairs = func() (t [256][2]byte) {
	const hexDigits = "0123456789abcdef"
	for x := range t {
		t[x] = [2]byte{hexDigits[x>>4], hexDigits[x&0x0f]}
	}
	return t
}()

// putHex writes x as two lowercase hex digits at s[at:at+2].
func putHex(s *[36]byte, at int, x byte) {
	*(*[2]byte)(s[at : at+2]) = hexPairs[x]
}
