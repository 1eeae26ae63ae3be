package jsonw

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAppendStringAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " backslash \ slash /`, "tab\tnew\nline\rret\bback\fform",
		"\x00\x01\x1f\x7f", "<html> & </html>", "é ü 中文 😀", "\u2028\u2029",
		"bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", "trailing \xe2\x82",
	} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendString(nil, s)), "%q", s)
		require.Equal(t, "x"+string(want), string(AppendString([]byte("x"), s)))
		require.Equal(t, "x"+string(want[1:len(want)-1]), string(AppendEscaped([]byte("x"), s)))
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("<a href=\"x\">\u2028\xff</a>")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendString(nil, s)))
		require.Equal(t, string(want[1:len(want)-1]), string(AppendEscaped(nil, s)))
	})
}

// appendTimeReference is what AppendTime must write: the standard
// library's RFC 3339 formatting between quotes.
func appendTimeReference(t time.Time) string {
	return `"` + t.Format(time.RFC3339Nano) + `"`
}

func TestAppendTimeAgreesWithTheStandardLibrary(t *testing.T) {
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, tm := range []time.Time{
		{}, base, base.Add(123 * time.Microsecond), base.Add(time.Nanosecond), base.Add(120 * time.Millisecond),
		base.Add(999999999), time.Unix(0, 0).UTC(), time.Unix(-1, 0).UTC(), time.Unix(-1, 1).UTC(),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2100, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(1600, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(400, 2, 29, 0, 0, 0, 0, time.UTC),
		base.In(time.FixedZone("X", 3600)), base.In(time.FixedZone("Z0", 0)), base.Local(), time.Now(),
	} {
		want := appendTimeReference(tm)
		require.Equal(t, want, string(AppendTime(nil, tm)), "%v", tm)
		require.Equal(t, "x"+want, string(AppendTime([]byte("x"), tm)))
		if y := tm.Year(); y >= 0 && y <= 9999 {
			js, err := tm.MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, string(js), string(AppendTime(nil, tm)), "%v", tm)
		}
	}
}

// Every day of the years around the edges of the range and of the
// centuries in use, and every 13th day between, at varying seconds and
// fractions, formats as the standard library does.
func TestAppendTimeAcrossTheCalendar(t *testing.T) {
	check := func(sec int64) {
		tm := time.Unix(sec, sec%1000*1000).UTC()
		if got, want := string(AppendTime(nil, tm)), appendTimeReference(tm); got != want {
			t.Fatalf("%d: got %s, want %s", sec, got, want)
		}
	}
	day := int64(86400)
	windows := [][2]int64{
		{unixYear0, time.Date(5, 1, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{time.Date(1896, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2104, 1, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{time.Date(9995, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), unixYear10000},
	}
	for _, w := range windows {
		for sec := w[0]; sec < w[1]; sec += day {
			check(sec + sec%(day-1))
		}
	}
	for sec := int64(unixYear0); sec < unixYear10000; sec += 13*day + 3607 {
		check(sec)
	}
}

func FuzzAppendTime(f *testing.F) {
	f.Add(int64(0), int64(0), int16(0))
	f.Add(int64(1795424400), int64(123000), int16(0))
	f.Add(int64(unixYear0), int64(1), int16(60))
	f.Add(int64(unixYear10000-1), int64(999999999), int16(-1))
	f.Fuzz(func(t *testing.T, sec, nsec int64, zone int16) {
		tm := time.Unix(sec, nsec).UTC()
		if zone != 0 {
			tm = tm.In(time.FixedZone("F", int(zone)*60))
		}
		want := appendTimeReference(tm)
		require.Equal(t, want, string(AppendTime(nil, tm)))
		if y := tm.Year(); y >= 0 && y <= 9999 {
			js, err := tm.MarshalJSON()
			require.NoError(t, err)
			require.Equal(t, string(js), string(AppendTime(nil, tm)))
		}
	})
}

// unsafe8 flags a word exactly when one of its bytes is not safe,
// wherever the byte sits among safe ones.
// FuzzAppendMarshalTime requires AppendMarshalTime to write what time.Time.MarshalJSON
// writes, or to fail where it fails, in UTC (the digit-by-digit path) and
// in other zones.
func FuzzAppendMarshalTime(f *testing.F) {
	for _, t := range []time.Time{
		time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 4, 9, 0, 0, 123456000, time.UTC), time.Date(2026, 11, 4, 9, 0, 0, 1, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 100, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 10, time.UTC),
	} {
		f.Add(t.Unix(), int64(t.Nanosecond()), uint8(0))
	}
	zones := []*time.Location{time.UTC, time.FixedZone("UTC", 0), time.FixedZone("east", 5*3600+1800)}
	f.Fuzz(func(t *testing.T, sec, nsec int64, zone uint8) {
		at := time.Unix(sec, nsec).In(zones[int(zone)%len(zones)])
		want, wantErr := at.MarshalJSON()
		got, err := AppendMarshalTime([]byte("x"), at)
		if wantErr != nil {
			require.Error(t, err)
			require.Equal(t, "x", string(got))
			return
		}
		require.NoError(t, err)
		require.Equal(t, "x"+string(want), string(got))
	})
}

func TestUnsafe8(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for _, fill := range []byte{'a', ' ', '~', 0x7f, 0x21, 0x3d, 0x27, 0x5b, 0x5d} {
				var w uint64
				for k := 0; k < 8; k++ {
					b := uint64(fill)
					if k == pos {
						b = uint64(c)
					}
					w |= b << (8 * k)
				}
				require.Equal(t, !safe[c], unsafe8(w) != 0, "byte %#x at %d among %q", c, pos, fill)
			}
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	for _, s := range []string{"ana", "incident.resolved", "resolution@desk-agreement/priority-2", "with <html> & \"quotes\" in it"} {
		b.Run(strconv.Itoa(len(s)), func(b *testing.B) {
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = AppendString(buf[:0], s)
			}
		})
	}
}

// TestPlain checks Plain, which tests eight bytes at a time, against what
// AppendString writes, with every byte value in every position of strings
// of up to 17 bytes.
func TestPlain(t *testing.T) {
	for c := range 256 {
		for n := 1; n <= 17; n++ {
			for at := range n {
				b := []byte(strings.Repeat("a", n))
				b[at] = byte(c)
				s := string(b)
				asIs := string(AppendString(nil, s)) == `"`+s+`"`
				require.Equal(t, asIs, Plain(s), "byte %#x at %d of %d", c, at, n)
			}
		}
	}
	require.True(t, Plain(""))
}

// TestPlainPrefix checks plainPrefix, which finds the first unsafe byte
// from a word's flags, against a byte-by-byte scan, and AppendEscaped,
// which copies words and bytes as it tests them, against encoding/json:
// every byte value at every position of strings of up to 19 bytes, alone
// and before a second unsafe byte, so that the word tests (whole,
// overlapping the end) and the byte loop must all stop at the first.
func TestPlainPrefix(t *testing.T) {
	scan := func(s string) int {
		i := 0
		for i < len(s) && safe[s[i]] {
			i++
		}
		return i
	}
	for c := range 256 {
		for n := 1; n <= 19; n++ {
			for at := range n {
				for _, later := range []byte{'a', 0, '"', 0xff, '<', 0x1f} {
					b := []byte(strings.Repeat("a", n))
					b[at] = byte(c)
					if at+1 < n {
						b[n-1] = later
					}
					s := string(b)
					require.Equal(t, scan(s), plainPrefix(s), "%q", s)
					want, err := json.Marshal(s)
					require.NoError(t, err)
					require.Equal(t, "x"+string(want[1:len(want)-1]), string(AppendEscaped([]byte("x"), s)), "%q", s)
				}
			}
		}
	}
	require.Equal(t, 0, plainPrefix(""))
}

// BenchmarkAppendTime measures an instant in UTC, whole and with a
// fraction, as payloads write them.
func BenchmarkAppendTime(b *testing.B) {
	base := time.Date(2026, 11, 23, 9, 41, 7, 0, time.UTC)
	for _, tc := range []struct {
		name string
		t    time.Time
	}{{"whole", base}, {"fraction", base.Add(123456 * time.Microsecond)}} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			for b.Loop() {
				buf = AppendTime(buf[:0], tc.t)
			}
		})
	}
}

func TestAppendInt(t *testing.T) {
	for _, v := range []int{0, 1, 9, 10, 42, 99, 100, 101, 999, 1000, 123456789, -1, -9, -10, -99, -100, 1<<63 - 1, -1 << 63} {
		require.Equal(t, "x"+strconv.Itoa(v), string(AppendInt([]byte("x"), v)), "%d", v)
	}
}
