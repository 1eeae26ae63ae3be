package itsm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// oldNormalize is Normalize's original definition, the reference the fast
// path must match exactly, representation included.
func oldNormalize(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func TestNormalizeMatchesTruncate(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	base := time.Date(2025, 3, 30, 0, 59, 59, 0, time.UTC)
	tests := []struct {
		name string
		in   time.Time
	}{
		{"zero", time.Time{}},
		{"zero in a zone", time.Time{}.In(paris)},
		{"whole second UTC", base},
		{"whole microsecond UTC", base.Add(123456 * time.Microsecond)},
		{"nanoseconds UTC", base.Add(123456789)},
		{"one nanosecond", base.Add(1)},
		{"999 nanoseconds", base.Add(999)},
		{"in a zone", base.In(paris)},
		{"in a zone with nanoseconds", base.Add(7).In(paris)},
		{"fixed zone", base.In(time.FixedZone("x", -3600))},
		{"Local", base.Add(1500).Local()},
		{"monotonic reading", time.Now()},
		{"monotonic reading, rounded", time.Now().Round(time.Microsecond)},
		{"monotonic reading moved", time.Now().Add(time.Hour)},
		{"before the epoch", time.Date(1901, 1, 1, 0, 0, 0, 500, time.UTC)},
		{"before year 1", time.Date(-5, 1, 1, 0, 0, 0, 1500, time.UTC)},
		{"far future", time.Date(8999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"unix zero", time.Unix(0, 0)},
		{"unix negative nanos", time.Unix(-1, 999_999_001)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := oldNormalize(tc.in)
			got := itsm.Normalize(tc.in)
			// == compares the representation: wall, ext and location.
			assert.True(t, want == got, "want %#v, got %#v", want, got)
			assert.True(t, itsm.IsNormalized(got))
			assert.Equal(t, got, itsm.Normalize(got), "idempotent")
		})
	}
}

func TestNormalizeMatchesTruncateOnRandomInstants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("a", 5*3600+1800), time.FixedZone("b", -7*3600)}
	mono := time.Now()
	for range 100_000 {
		sec := r.Int64N(400*365*86400) - 100*365*86400
		nsec := r.Int64N(1e9)
		if r.IntN(2) == 0 {
			nsec -= nsec % 1000
		}
		in := time.Unix(sec, nsec).In(zones[r.IntN(len(zones))])
		if r.IntN(4) == 0 {
			in = mono.Add(time.Duration(r.Int64N(1e15)))
		}
		want, got := oldNormalize(in), itsm.Normalize(in)
		require.True(t, want == got, "%v: want %#v, got %#v", in, want, got)
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   time.Time
	}{
		{"normalised", time.Date(2025, 3, 3, 9, 0, 0, 123000, time.UTC)},
		{"nanoseconds", time.Date(2025, 3, 3, 9, 0, 0, 123456, time.UTC)},
		{"monotonic", time.Now()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var sink time.Time
			for b.Loop() {
				sink = itsm.Normalize(bc.in)
			}
			_ = sink
		})
	}
}

func TestInstantInRange(t *testing.T) {
	first := time.Date(itsm.MinInstantYear, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(itsm.MaxInstantYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   time.Time
		want bool
	}{
		{"first instant", first, true},
		{"just before", first.Add(-time.Microsecond), false},
		{"last instant", end.Add(-time.Nanosecond), true},
		{"first year refused", end, false},
		{"in a zone, UTC inside", first.In(time.FixedZone("w", -3600)), true},
		{"in a zone, UTC outside", first.Add(-time.Second).In(time.FixedZone("e", 3600)), false},
		{"zero", time.Time{}, false},
		{"now-ish", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), true},
		{"far future", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, itsm.InstantInRange(tc.in))
		})
	}
	assert.Contains(t, itsm.InstantRangeReason, fmt.Sprintf("%d to %d", itsm.MinInstantYear, itsm.MaxInstantYear),
		"the reason names the years the check uses")
}
