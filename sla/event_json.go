package sla

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
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

// appendJSONTime appends t as time.Time.MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, err // AppendText returns nil then
	}
	return append(out, '"'), nil
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
	const hexDigits = "0123456789abcdef"
	for i, x := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0x0f])
	}
	return b
}

// appendJSONString appends s as a JSON string exactly as encoding/json's
// Marshal writes it: '"' and '\\' escaped with a backslash; \b, \f, \n, \r
// and \t by name; other control characters and the HTML-sensitive '<',
// '>' and '&' as \u00XX; each byte of invalid UTF-8 as \ufffd; U+2028 and
// U+2029 as \u2028 and \u2029.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
