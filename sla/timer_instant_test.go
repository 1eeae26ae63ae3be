package sla

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// tmInstants returns instants of every kind the engine may be handed: in
// and out of its years, in UTC and other zones, whole microseconds or not,
// with a monotonic reading or not, and the zero time in a zone.
func tmInstants() []time.Time {
	r := rand.New(rand.NewPCG(7, 11))
	zones := []*time.Location{time.UTC, time.FixedZone("UTC", 0), time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -11*3600)}
	out := []time.Time{{}, time.Time{}.In(zones[2]), time.Now(), time.Now().Add(time.Hour),
		time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1),
		time.Date(maxYear, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(maxYear, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1),
		time.Date(minYear, 1, 1, 0, 0, 0, 0, zones[2]), time.Date(maxYear-1, 12, 31, 23, 0, 0, 0, zones[3]),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(292277026596, 12, 4, 15, 30, 7, 0, time.UTC)}
	for range 2000 {
		sec := r.Int64N(2*maxUnix) - maxUnix
		if r.IntN(4) == 0 {
			sec = r.Int64()
		}
		ns := r.Int64N(1e9)
		if r.IntN(2) == 0 {
			ns -= ns % 1000
		}
		out = append(out, time.Unix(sec, ns).In(zones[r.IntN(len(zones))]))
	}
	return out
}

// TestInstantHelpers requires norm and normAll to equal itsm.Normalize,
// sub to equal Sub on normalised instants, and inWindow to read the year
// of any instant as Year does.
func TestInstantHelpers(t *testing.T) {
	ts := tmInstants()
	for i, a := range ts {
		want := itsm.Normalize(a)
		require.Equal(t, want, norm(a), "norm(%v)", a)
		got := a
		normAll(&got)
		require.Equal(t, want, got, "normAll(%v)", a)
		y := a.Year()
		require.Equal(t, y >= minYear && y < maxYear, inWindow(a), "inWindow(%v)", a)
		for _, b := range []time.Time{ts[(i+1)%len(ts)], ts[(i*7+3)%len(ts)], a.Add(time.Duration(i) * time.Hour)} {
			na, nb := itsm.Normalize(a), itsm.Normalize(b)
			require.Equal(t, na.Sub(nb), sub(na, nb), "sub(%v, %v)", na, nb)
		}
	}
}

// TestTimerNorm requires timerNorm to report exactly whether
// normalizeTimer would leave a timer as it is, on timers whose instants
// are drawn from a few normalised instants and denormalised forms of them
// (another zone, a monotonic reading, a stray nanosecond), so that equal
// instants, which timerNorm recognises by ==, are frequent.
func TestTimerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	base := []time.Time{{}, tmDay(3, 9, 0), tmDay(3, 9, 30), tmDay(4, 12, 0).Add(7 * time.Microsecond)}
	pool := slices.Clone(base)
	for _, b := range base[1:] {
		pool = append(pool, b.In(time.FixedZone("east", 3600)), b.Add(time.Nanosecond),
			time.Now().Add(b.Sub(time.Now())), b.In(time.FixedZone("UTC", 0)))
	}
	pick := func() time.Time {
		if r.IntN(4) > 0 {
			return base[r.IntN(len(base))]
		}
		return pool[r.IntN(len(pool))]
	}
	for i := range 20000 {
		var tm Timer
		for _, p := range []*time.Time{&tm.BreachedAt, &tm.StartedAt, &tm.AttachedAt, &tm.EndedAt, &tm.AsOf, &tm.Since, &tm.DueAt, &tm.NextAt} {
			*p = pick()
		}
		for range r.IntN(3) {
			tm.Marks = append(tm.Marks, Mark{Threshold: "50", At: pick()})
		}
		for range r.IntN(4) {
			tm.Segments = append(tm.Segments, Segment{Kind: SegmentRunning, From: pick(), To: pick()})
		}
		for range r.IntN(2) {
			tm.Changes = append(tm.Changes, Change{At: pick(), BreachedAt: pick()})
		}
		asOf := base[r.IntN(len(base))]
		if r.IntN(3) == 0 {
			// A live timer is accrued to the state's as_of.
			tm.AsOf = asOf
		}
		want := tm.Clone()
		normalizeTimer(&want)
		require.Equal(t, reflect.DeepEqual(tm, want), timerNorm(&tm, asOf), "case %d: %+v", i, tm)
	}
}

// TestOwnKind requires the kinds ownKind lets checkTimerState accept
// without Kind.Validate to be valid, and ownKind to refuse the others.
func TestOwnKind(t *testing.T) {
	for _, k := range []itsm.Kind{itsm.KindIncident, itsm.KindChange, itsm.KindProblem, itsm.KindRequest} {
		require.True(t, ownKind(k), k)
		require.NoError(t, k.Validate(), k)
	}
	for _, k := range []itsm.Kind{"", "Incident", "incident ", "incidents", "ci", "service", "chang", "9problem", "request\x00"} {
		require.False(t, ownKind(k), k)
	}
}
