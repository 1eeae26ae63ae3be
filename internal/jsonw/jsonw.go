package jsonw

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// safe marks the bytes AppendString copies as they are: printable ASCII
// other than '"', '\\', '<', '>' and '&'. Control characters and every
// byte of a multi-byte sequence are not safe, and go the slow way.
var safe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendString appends s as a JSON string exactly as encoding/json's
// Marshal writes it: '"' and '\\' escaped with a backslash; \b, \f, \n, \r
// and \t by name; other control characters and the HTML-sensitive '<',
// '>' and '&' as \u00XX; each byte of invalid UTF-8 as \ufffd; U+2028 and
// U+2029 as \u2028 and \u2029.
func AppendString(b []byte, s string) []byte {
	return append(AppendEscaped(append(b, '"'), s), '"')
}

// AppendEscaped appends s as AppendString writes it, but without the
// quotes around it: for a writer that puts the quotes into the constant
// text on either side (`,"to":"` before the string, `","reason":"` after
// it), which saves two appends a string.
func AppendEscaped(b []byte, s string) []byte {
	// Each word or byte is stored as it is tested, into room made once:
	// for the short strings of payloads, cheaper than a scan followed by
	// a copy. The first unsafe byte ends the fast path; the bytes before
	// it are written already, and appendEscaped goes on from it.
	n := len(b)
	b = slices.Grow(b, len(s))
	w := b[n : n+len(s)]
	i := 0
	if len(s) >= 8 {
		for ; i+8 <= len(s); i += 8 {
			x := load8(s[i : i+8])
			binary.LittleEndian.PutUint64(w[i:i+8], x)
			if t := unsafe8(x); t != 0 {
				i += bits.TrailingZeros64(t) / 8
				return appendEscaped(b[:n+i], s[i:], 0)
			}
		}
		if i < len(s) {
			// The last eight bytes, overlapping bytes written already.
			j := len(s) - 8
			x := load8(s[j:])
			binary.LittleEndian.PutUint64(w[j:], x)
			if t := unsafe8(x); t != 0 {
				i = j + bits.TrailingZeros64(t)/8
				return appendEscaped(b[:n+i], s[i:], 0)
			}
		}
		return b[:n+len(s)]
	}
	for ; i < len(s); i++ {
		c := s[i]
		if !safe[c] {
			return appendEscaped(b[:n+i], s[i:], 0)
		}
		w[i] = c
	}
	return b[:n+len(s)]
}

// Plain reports whether AppendString writes s as it is, between quotes:
// whether no byte of s needs an escape.
func Plain(s string) bool { return plainPrefix(s) == len(s) }

// plainPrefix returns the length of the longest prefix of s whose bytes
// need no escape. It tests eight bytes at a time while it can, the first
// unsafe byte of a word being the lowest unsafe8 flags, and the last one
// to seven bytes of s one by one.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if t := unsafe8(load8(s[i : i+8])); t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	for i < len(s) && safe[s[i]] {
		i++
	}
	return i
}

// load8 returns the first eight bytes of s as a little-endian word.
func load8(s string) uint64 {
	t := s[:8]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// Bytes repeated across a word, for unsafe8.
const (
	ones8 = 0x0101010101010101
	high8 = 0x8080808080808080
)

// unsafe8 sets the high bit of exactly those bytes of w that are not
// safe: from 0x80 on, below 0x20, '\\', '<' or '>' (which differ in one
// bit), '"' or '&' (likewise). Each test works on the low seven bits of
// the bytes, where adding at most 0x7f never carries into the next byte,
// and leaves a byte's high bit set when the byte passes; so no byte's
// answer depends on its neighbours.
func unsafe8(w uint64) uint64 {
	x := w &^ high8
	ok := x + (0x80-0x20)*ones8                       // not below 0x20
	ok &= (x ^ '\\'*ones8) + 0x7f*ones8               // not '\\'
	ok &= ((x | 0x02*ones8) ^ '>'*ones8) + 0x7f*ones8 // not '<' (0x3c) or '>' (0x3e)
	ok &= ((x | 0x04*ones8) ^ '&'*ones8) + 0x7f*ones8 // not '"' (0x22) or '&' (0x26)
	return ^(ok &^ w) & high8                         // and ASCII
}

// appendEscaped appends s escaped, without quotes, s[:i] needing no
// escape: AppendEscaped's loop from the first byte that may.
func appendEscaped(b []byte, s string, i int) []byte {
	const hexDigits = "0123456789abcdef"
	start := 0
	for i < len(s) {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
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
	return append(b, s[start:]...)
}

// AppendInt appends v in decimal, as strconv.AppendInt does. The
// sequence numbers and cycles of payloads are mostly below 100, which it
// writes from the digit-pair table without strconv's general path.
func AppendInt(b []byte, v int) []byte {
	switch {
	case uint(v) < 10:
		return append(b, byte('0'+v))
	case uint(v) < 100:
		p := digitPairs[v]
		return append(b, p[0], p[1])
	}
	return strconv.AppendInt(b, int64(v), 10)
}

// The seconds since 1970 of the first instant of year 0 and of year
// 10000: the years time.Time.MarshalJSON writes.
const (
	unixYear0     = -62167219200
	unixYear10000 = 253402300800
)

// AppendTime appends t as a JSON string in RFC 3339 with as many digits of
// the second's fraction as it needs, exactly as t.AppendFormat with
// time.RFC3339Nano writes it between quotes (which, for the years 0 to
// 9999, is what time.Time.MarshalJSON writes). Instants in UTC are written
// directly, without the general formatter's work; others go through it.
func AppendTime(b []byte, t time.Time) []byte {
	return appendTime(b, t)
}

// AppendMarshalTime appends t exactly as time.Time.MarshalJSON writes it,
// and refuses, as it does, an instant whose year lies outside 0 to 9999 (b
// comes back unchanged then).
func AppendMarshalTime(b []byte, t time.Time) ([]byte, error) {
	if sec := t.Unix(); t.Location() == time.UTC && sec >= unixYear0 && sec < unixYear10000 {
		return appendTime(b, t), nil
	}
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, err
	}
	return append(out, '"'), nil
}

// appendTime writes an instant in UTC as digits into a window of the
// buffer grown once, so that the twenty-odd bytes cost one capacity check
// rather than one per append, and takes two-digit groups from a table
// rather than dividing for each digit.
func appendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if t.Location() != time.UTC || sec < unixYear0 || sec >= unixYear10000 {
		b = t.AppendFormat(append(b, '"'), time.RFC3339Nano)
		return append(b, '"')
	}
	// Seconds since the first instant of year 0, which is a whole number
	// of days: the day and the second of the day, both non-negative.
	abs := uint64(sec - unixYear0)
	year, month, day := civil(abs / 86400)
	sod := uint(abs % 86400)
	// The quote, "YYYY-MM-DDThh:mm:ss", the ".fffffffff" the fraction
	// may need, "Z" and the quote.
	b = slices.Grow(b, 32)
	n := len(b)
	w := (*[20]byte)(b[n : n+20])
	w[0] = '"'
	putPair(w[1:3], year/100)
	putPair(w[3:5], year%100)
	w[5] = '-'
	putPair(w[6:8], month)
	w[8] = '-'
	putPair(w[9:11], day)
	w[11] = 'T'
	putPair(w[12:14], sod/3600)
	w[14] = ':'
	putPair(w[15:17], sod/60%60)
	w[17] = ':'
	putPair(w[18:20], sod%60)
	b = b[:n+20]
	if ns := uint(t.Nanosecond()); ns != 0 {
		// Nine digits of fraction, trailing zeros dropped.
		f := (*[10]byte)(b[n+20 : n+30])
		f[0] = '.'
		putPair(f[1:3], ns/10_000_000)
		putPair(f[3:5], ns/100_000%100)
		putPair(f[5:7], ns/1000%100)
		putPair(f[7:9], ns/10%100)
		f[9] = byte('0' + ns%10)
		k := 10
		for f[k-1] == '0' {
			k--
		}
		b = b[:n+20+k]
	}
	return append(b, 'Z', '"')
}

// digitPairs holds the two decimal digits of each number below 100.
var digitPairs = func() (t [100][2]byte) {
	for v := range t {
		t[v] = [2]byte{byte('0' + v/10), byte('0' + v%10)}
	}
	return t
}()

// putPair writes v, below 100, as two decimal digits into p.
func putPair(p []byte, v uint) { *(*[2]byte)(p) = digitPairs[v] }

// civil turns days since 0000-01-01 into a proleptic Gregorian date,
// counting in 400-year eras from March 1 (so that the leap day ends a
// year). Unsigned arithmetic lets every division by a constant be a
// multiplication without sign fix-ups.
func civil(days uint64) (year, month, day uint) {
	// Days since -0400-03-01: one era before 0000-03-01 (which is day
	// 60 of year 0, a leap year), so that every count is positive.
	z := uint(days) + 146097 - 60
	era := z / 146097
	doe := z - era*146097                                  // day of the era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of the era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from March 1, [0, 365]
	mp := (5*doy + 2) / 153                                // month from March, [0, 11]
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400 - 400
	if month <= 2 {
		year++
	}
	return year, month, day
}
