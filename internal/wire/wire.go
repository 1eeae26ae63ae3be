package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
)

// ErrCorrupt is wrapped by every error a Reader reports.
var ErrCorrupt = errors.New("wire: corrupt or truncated encoding")

// AppendUvarint appends v as an unsigned varint. Most values written are
// lengths and small numbers of one byte, handled inline by the caller.
func AppendUvarint(b []byte, v uint64) []byte {
	if v < 1<<7 {
		return append(b, byte(v))
	}
	return appendUvarintLong(b, v)
}

// appendUvarintLong writes the varints of two to five bytes (instants'
// headers and Unix seconds, durations) with one append each, without
// binary.AppendUvarint's loop of an append per byte; longer ones take it.
func appendUvarintLong(b []byte, v uint64) []byte {
	switch {
	case v < 1<<7:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v)|0x80, byte(v>>7))
	case v < 1<<21:
		return append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14))
	case v < 1<<28:
		return append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21))
	case v < 1<<35:
		return append(b, byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21)|0x80, byte(v>>28))
	}
	return binary.AppendUvarint(b, v)
}

// AppendVarint appends v as a zig-zag signed varint. Its loop, inlined,
// suits the small numbers it is used for; a value of several bytes is
// cheaper through AppendUvarint of its zig-zag form.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendBool appends v as one byte.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendString appends s with its length in front.
func AppendString(b []byte, s string) []byte {
	if len(s) == 0 {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendUUID appends the 16 bytes of u.
func AppendUUID(b []byte, u uuid.UUID) []byte { return append(b, u[:]...) }

// AppendTime appends an instant: one varint header, 0 for the zero
// time.Time; otherwise the microsecond of the second (doubled, plus one
// when nanoseconds below the microsecond follow), the Unix second, and
// those nanoseconds when present. The location is not kept: Reader.Time
// returns UTC. A normalised instant (UTC, whole microseconds) takes 8 or 9
// bytes today.
func AppendTime(b []byte, t time.Time) []byte {
	// Unix seconds and nanoseconds once each, the zero test from them:
	// t.IsZero would take the seconds apart a second time.
	sec, ns := t.Unix(), uint64(t.Nanosecond())
	micro := ns / 1000
	sub := ns - micro*1000
	zz := uint64(sec<<1 ^ sec>>63)
	// The zig-zag seconds take five bytes exactly when lo <= zz < hi:
	// from 1974 to 2514 (and 1425 to 1965). One unsigned comparison
	// tests both bounds.
	const lo, hi = 1 << 28, 1 << 35
	if sub == 0 && zz-lo < hi-lo {
		// A normalised instant of those years: a header of one to three
		// bytes and seconds of five, written with one append.
		s0, s1, s2, s3, s4 := byte(zz)|0x80, byte(zz>>7)|0x80, byte(zz>>14)|0x80, byte(zz>>21)|0x80, byte(zz>>28)
		switch h := micro<<1 + 1; {
		case h < 1<<7:
			return append(b, byte(h), s0, s1, s2, s3, s4)
		case h < 1<<14:
			return append(b, byte(h)|0x80, byte(h>>7), s0, s1, s2, s3, s4)
		default:
			return append(b, byte(h)|0x80, byte(h>>7)|0x80, byte(h>>14), s0, s1, s2, s3, s4)
		}
	}
	if sec == zeroUnix && ns == 0 {
		return append(b, 0)
	}
	if sub == 0 {
		b = AppendUvarint(b, micro<<1+1)
		return AppendUvarint(b, zz)
	}
	b = AppendUvarint(b, micro<<1+2)
	b = AppendUvarint(b, zz)
	return AppendUvarint(b, sub)
}

// zeroUnix is the Unix second of the zero time.Time: with no nanoseconds,
// the only instant t.IsZero reports.
const zeroUnix = -62135596800

// AppendLen appends the length of a list or map that may be nil: 0 for
// nil, n+1 otherwise, so that nil and empty both survive a round trip.
func AppendLen(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

// Reader reads what the Append functions wrote from an immutable string.
// Its zero value reads nothing; see the package documentation for errors.
type Reader struct {
	s     string
	off   int
	err   error
	field string
}

// NewReader returns a Reader of s.
func NewReader(s string) *Reader { return &Reader{s: s} }

// Reset makes r read s from the start, forgetting any error.
func (r *Reader) Reset(s string) { *r = Reader{s: s} }

// Field names what is being read, for the error should it fail.
func (r *Reader) Field(name string) { r.field = name }

// Err returns the first problem met, or nil.
func (r *Reader) Err() error { return r.err }

// Remaining returns how many bytes are left to read.
func (r *Reader) Remaining() int { return len(r.s) - r.off }

// Done fails the reader when bytes are left over, and returns its error.
func (r *Reader) Done() error {
	if r.err == nil && r.off != len(r.s) {
		r.fail(fmt.Sprintf("%d bytes left over", len(r.s)-r.off))
	}
	return r.err
}

// Fail records a problem the caller found in what it read (a format byte
// it does not know, a value out of range); the first problem sticks.
func (r *Reader) Fail(reason string) { r.fail(reason) }

func (r *Reader) fail(reason string) {
	if r.err != nil {
		return
	}
	if r.field != "" {
		r.err = fmt.Errorf("%w: %s: %s (at byte %d)", ErrCorrupt, r.field, reason, r.off)
	} else {
		r.err = fmt.Errorf("%w: %s (at byte %d)", ErrCorrupt, reason, r.off)
	}
	r.off = len(r.s)
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	// One byte is the common case (lengths, small numbers), kept small
	// enough to inline. After a failure off is at the end, so this never
	// reads past an error.
	if o := r.off; o < len(r.s) && r.s[o] < 0x80 {
		r.off = o + 1
		return uint64(r.s[o])
	}
	return r.uvarint()
}

func (r *Reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := UvarintString(r.s[r.off:])
	switch {
	case n == 0:
		r.fail("truncated varint")
		return 0
	case n < 0:
		r.fail("varint overflows 64 bits")
		return 0
	}
	r.off += n
	return v
}

// UvarintString is binary.Uvarint reading a string: the value and the
// number of bytes read, 0 when s ends first, negative when the value
// overflows 64 bits.
func UvarintString(s string) (uint64, int) {
	var v uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		if i == binary.MaxVarintLen64 {
			return 0, -(i + 1)
		}
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return v | uint64(c)<<shift, i + 1
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// Varint reads a zig-zag signed varint.
func (r *Reader) Varint() int64 {
	u := r.Uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// Int reads a signed varint that must fit an int.
func (r *Reader) Int() int {
	v := r.Varint()
	if v < math.MinInt || v > math.MaxInt {
		r.fail("integer out of range")
		return 0
	}
	return int(v)
}

// Bool reads one byte that must be 0 or 1.
func (r *Reader) Bool() bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.s) {
		r.fail("truncated bool")
		return false
	}
	c := r.s[r.off]
	r.off++
	if c > 1 {
		r.fail("bool byte is neither 0 nor 1")
		return false
	}
	return c == 1
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.s) {
		r.fail("truncated byte")
		return 0
	}
	c := r.s[r.off]
	r.off++
	return c
}

// String reads a length-prefixed string: a substring of the input.
func (r *Reader) String() string {
	// A length below 128 that the input holds is the common case.
	if o := r.off; o < len(r.s) {
		if n := int(r.s[o]); n < 0x80 && n < len(r.s)-o {
			r.off = o + 1 + n
			return r.s[o+1 : o+1+n]
		}
	}
	return r.string()
}

func (r *Reader) string() string {
	n := r.Uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)-r.off) {
		r.fail("string longer than the input left")
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// Raw reads the next n bytes, a substring of the input.
func (r *Reader) Raw(n int) string {
	if r.err != nil {
		return ""
	}
	if n < 0 || n > len(r.s)-r.off {
		r.fail("bytes beyond the input")
		return ""
	}
	s := r.s[r.off : r.off+n]
	r.off += n
	return s
}

// UUID reads 16 bytes.
func (r *Reader) UUID() uuid.UUID {
	var u uuid.UUID
	if r.err != nil {
		return u
	}
	if len(r.s)-r.off < len(u) {
		r.fail("truncated UUID")
		return u
	}
	copy(u[:], r.s[r.off:])
	r.off += len(u)
	return u
}

// Time reads an instant written by AppendTime, in UTC.
func (r *Reader) Time() time.Time {
	// What AppendTime writes with one append, a normalised instant of the
	// years whose seconds take five bytes (1974 to 2514), is read here
	// without a loop or a call per varint: an odd header (no nanoseconds
	// below the microsecond follow) of one to three bytes, then five bytes
	// of seconds. Anything else, errors included, is read by timeSlow,
	// which reads these the same way (a differential fuzz target checks
	// it). After a failure off is at the end, so this never reads past an
	// error.
	s, o := r.s, r.off
	if o < len(s) {
		h, n := uint64(s[o]), 1
		if h >= 0x80 && o+1 < len(s) {
			h, n = h&0x7f|uint64(s[o+1])<<7, 2
			if h >= 1<<14 && o+2 < len(s) {
				h, n = h&(1<<14-1)|uint64(s[o+2])<<14, 3
			}
		}
		// The header ended where its last byte read has the high bit
		// clear, which leaves h below 1<<(7n).
		if p := o + n; h < 1<<(7*n) && h&1 != 0 && h>>1 < 1_000_000 && p+5 <= len(s) &&
			s[p]&s[p+1]&s[p+2]&s[p+3] >= 0x80 && s[p+4] < 0x80 {
			zz := uint64(s[p]&0x7f) | uint64(s[p+1]&0x7f)<<7 | uint64(s[p+2]&0x7f)<<14 |
				uint64(s[p+3]&0x7f)<<21 | uint64(s[p+4])<<28
			sec := int64(zz >> 1)
			if zz&1 != 0 {
				sec = ^sec
			}
			r.off = p + 5
			// Seconds of five bytes are below 1<<34 in magnitude: never
			// the zero time's, so the zero test of timeSlow cannot fail.
			return time.Unix(sec, int64(h>>1)*1000).UTC()
		}
	}
	return r.timeSlow()
}

// timeSlow is Time for any encoding.
func (r *Reader) timeSlow() time.Time {
	h := r.Uvarint()
	if h == 0 || r.err != nil {
		return time.Time{}
	}
	h--
	micro := h >> 1
	if micro >= 1_000_000 {
		r.fail("microsecond out of range")
		return time.Time{}
	}
	sec := r.Varint()
	ns := int64(micro) * 1000
	if h&1 != 0 {
		extra := r.Uvarint()
		if extra == 0 || extra >= 1000 {
			r.fail("nanoseconds out of range")
			return time.Time{}
		}
		ns += int64(extra)
	}
	if r.err != nil {
		return time.Time{}
	}
	t := time.Unix(sec, ns).UTC()
	if t.IsZero() {
		// Only the zero time may encode as zero: an instant that lands on
		// it otherwise would not survive a second round trip.
		r.fail("non-zero encoding of the zero instant")
	}
	return t
}

// Len reads a length written by AppendLen: the length and whether the list
// is nil. Each element takes at least minSize bytes of input (at least
// 1), so a length the input cannot hold fails the reader instead of
// letting a caller allocate for it.
func (r *Reader) Len(minSize int) (n int, isNil bool) {
	v := r.Uvarint()
	if r.err != nil {
		return 0, true
	}
	if v == 0 {
		return 0, true
	}
	v--
	if minSize < 1 {
		minSize = 1
	}
	if v > uint64(len(r.s)-r.off)/uint64(minSize) {
		r.fail("list longer than the input left")
		return 0, true
	}
	return int(v), false
}
