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
		n, _ := r.Len(1)
		r.off += n // the list's elements, one byte each
		if r.Err() != nil || r.off > len(r.s) {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		b := AppendTime(nil, tm)
		b = AppendString(b, s)
		b = AppendLen(b, n, false)
		b = append(b, make([]byte, n)...)
		r2 := NewReader(string(b))
		assert.Equal(t, tm, r2.Time())
		assert.Equal(t, s, r2.String())
		n2, _ := r2.Len(1)
		assert.Equal(t, n, n2)
		require.NoError(t, r2.Err())
	})
}
