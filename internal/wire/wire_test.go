package wire

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	u := uuid.MustParse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	times := []time.Time{
		{},
		time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 21, 9, 30, 0, 123456000, time.UTC),
		time.Date(2026, 11, 21, 9, 30, 0, 123456789, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	var b []byte
	b = AppendUvarint(b, math.MaxUint64)
	b = AppendVarint(b, math.MinInt64)
	b = AppendVarint(b, -1)
	b = AppendBool(b, true)
	b = AppendBool(b, false)
	b = AppendString(b, "")
	b = AppendString(b, "héllo\x00")
	b = AppendUUID(b, u)
	for _, tm := range times {
		b = AppendTime(b, tm)
	}
	b = AppendLen(b, 0, true)
	b = AppendLen(b, 0, false)
	b = AppendLen(b, 2, false)
	b = append(b, 7, 8)

	r := NewReader(string(b))
	assert.Equal(t, uint64(math.MaxUint64), r.Uvarint())
	assert.Equal(t, int64(math.MinInt64), r.Varint())
	assert.Equal(t, -1, r.Int())
	assert.True(t, r.Bool())
	assert.False(t, r.Bool())
	assert.Equal(t, "", r.String())
	assert.Equal(t, "héllo\x00", r.String())
	assert.Equal(t, u, r.UUID())
	for _, tm := range times {
		assert.Equal(t, tm, r.Time())
	}
	n, isNil := r.Len(1)
	assert.True(t, isNil)
	assert.Zero(t, n)
	n, isNil = r.Len(1)
	assert.False(t, isNil)
	assert.Zero(t, n)
	n, isNil = r.Len(1)
	assert.False(t, isNil)
	assert.Equal(t, 2, n)
	assert.Equal(t, byte(7), r.Byte())
	assert.Equal(t, byte(8), r.Byte())
	require.NoError(t, r.Done())
}

func TestTimeDropsLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	in := time.Date(2026, 3, 8, 1, 59, 0, 0, ny)
	r := NewReader(string(AppendTime(nil, in)))
	out := r.Time()
	require.NoError(t, r.Done())
	assert.True(t, out.Equal(in))
	assert.Equal(t, time.UTC, out.Location())
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(r *Reader)
		want string
	}{
		{"empty uvarint", nil, func(r *Reader) { r.Uvarint() }, "truncated varint"},
		{"overlong varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, func(r *Reader) { r.Uvarint() }, "overflows"},
		{"bool 2", []byte{2}, func(r *Reader) { r.Bool() }, "neither 0 nor 1"},
		{"string too long", []byte{5, 'a'}, func(r *Reader) { _ = r.String() }, "longer than the input"},
		{"short uuid", []byte{1, 2, 3}, func(r *Reader) { r.UUID() }, "truncated UUID"},
		{"micro out of range", AppendUvarint(nil, 2_000_001), func(r *Reader) { r.Time() }, "microsecond"},
		{"zero nanos flagged", []byte{2, 0, 0}, func(r *Reader) { r.Time() }, "nanoseconds"},
		{"zero instant encoded", append(AppendUvarint(nil, 1), AppendVarint(nil, time.Time{}.Unix())...), func(r *Reader) { r.Time() }, "zero instant"},
		{"list too long", []byte{200, 1}, func(r *Reader) { r.Len(1) }, "longer than the input"},
		{"left over", []byte{1, 2}, func(r *Reader) { r.Byte() }, "left over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(string(tt.in))
			r.Field("thing")
			tt.read(r)
			err := r.Done()
			require.ErrorIs(t, err, ErrCorrupt)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "thing")
			// Every later read is a zero value.
			assert.Zero(t, r.Uvarint())
			assert.Equal(t, "", r.String())
		})
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{0})
	f.Add(AppendTime(nil, time.Date(2026, 11, 21, 9, 30, 0, 123456789, time.UTC)))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(string(in))
		tm := r.Time()
		s := r.String()
		n, isNil := r.Len(1)
		r.off += n // the list's elements, one byte each
		if r.Err() != nil || r.off > len(r.s) {
			return
		}
		// What decodes re-encodes to something that decodes the same, a
		// nil list staying nil and an empty one empty.
		b := AppendTime(nil, tm)
		b = AppendString(b, s)
		b = AppendLen(b, n, isNil)
		b = append(b, make([]byte, n)...)
		r2 := NewReader(string(b))
		assert.Equal(t, tm, r2.Time())
		assert.Equal(t, s, r2.String())
		n2, isNil2 := r2.Len(1)
		assert.Equal(t, n, n2)
		assert.Equal(t, isNil, isNil2, "nil or empty")
		require.NoError(t, r2.Err())
	})
}

// timeReads reads an instant from in with read and reports what a caller
// sees: the instant, the bytes left and the error.
func timeReads(in []byte, read func(r *Reader) time.Time) (time.Time, int, error) {
	r := NewReader(string(in))
	r.Field("at")
	tm := read(r)
	return tm, r.Remaining(), r.Err()
}

// TestTimeFastPath pins Time's inline reading of the usual instant against
// timeSlow, the general reader, on encodings at and around the edges of
// what it takes: headers of one to three bytes, seconds of four to six
// bytes, sub-microsecond nanoseconds, and truncations of each.
func TestTimeFastPath(t *testing.T) {
	var ins [][]byte
	for _, tm := range []time.Time{
		time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 2, 9, 0, 0, 63_000, time.UTC),      // header of one byte
		time.Date(2026, 3, 2, 9, 0, 0, 64_000, time.UTC),      // of two bytes
		time.Date(2026, 3, 2, 9, 0, 0, 8_191_000, time.UTC),   // the last of two bytes
		time.Date(2026, 3, 2, 9, 0, 0, 8_192_000, time.UTC),   // of three bytes
		time.Date(2026, 3, 2, 9, 0, 0, 999_999_000, time.UTC), // the greatest microsecond
		time.Date(2026, 3, 2, 9, 0, 0, 999_999_999, time.UTC), // nanoseconds follow
		time.Date(1974, 1, 1, 0, 0, 0, 0, time.UTC),           // around 1<<28 seconds
		time.Unix(1<<27, 0).UTC(),                             // the first of five bytes
		time.Unix(1<<27-1, 0).UTC(),                           // four bytes
		time.Unix(1<<34-1, 0).UTC(),                           // the last of five bytes
		time.Unix(1<<34, 0).UTC(),                             // six bytes
		time.Unix(-1<<27-1, 0).UTC(),                          // five bytes, negative
		time.Date(1500, 6, 1, 0, 0, 0, 0, time.UTC),           // negative, five bytes
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),              // the zero instant
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),           // one byte of seconds
		time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("x", 3600)),
	} {
		b := AppendTime(nil, tm)
		ins = append(ins, b, append(b, 0xaa))
		for n := range len(b) {
			ins = append(ins, b[:n])
		}
	}
	ins = append(ins,
		[]byte{0x81, 0x00, 0x80, 0x80, 0x80, 0x80, 0x01},             // an overlong header
		[]byte{0x81, 0x80, 0x80, 0x80, 0x80, 0x00},                   // overlong seconds
		[]byte{0x81, 0x89, 0x7a, 0x80, 0x80, 0x80, 0x80, 0x01},       // micro of 1,000,000
		[]byte{0xff, 0xff, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x01},       // beyond it
		[]byte{0x80, 0x80, 0x80, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01}, // a header of four bytes
		[]byte{0x02, 0x80, 0x80, 0x80, 0x80, 0x01, 0x05},             // nanoseconds flagged
	)
	for _, in := range ins {
		wantT, wantLeft, wantErr := timeReads(in, (*Reader).timeSlow)
		gotT, gotLeft, gotErr := timeReads(in, (*Reader).Time)
		assert.Equal(t, wantT, gotT, "% x", in)
		assert.Equal(t, wantLeft, gotLeft, "% x", in)
		assert.Equal(t, wantErr, gotErr, "% x", in)
	}
}

// FuzzTime checks Time against timeSlow on any input.
func FuzzTime(f *testing.F) {
	f.Add(AppendTime(nil, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	f.Add(AppendTime(nil, time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)))
	f.Add(AppendTime(nil, time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)))
	f.Add(AppendTime(nil, time.Date(1500, 3, 2, 9, 0, 0, 0, time.UTC)))
	f.Fuzz(func(t *testing.T, in []byte) {
		wantT, wantLeft, wantErr := timeReads(in, (*Reader).timeSlow)
		gotT, gotLeft, gotErr := timeReads(in, (*Reader).Time)
		assert.Equal(t, wantT, gotT)
		assert.Equal(t, wantLeft, gotLeft)
		assert.Equal(t, wantErr, gotErr)
	})
}
