package sla

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzCase draws a random calendar and a starting minute from the fuzz input.
func fuzzCase(t *testing.T, seed uint64, year uint16) (*Schedule, *refCalendar, *rand.Rand, time.Time) {
	rng := rand.New(rand.NewPCG(seed, uint64(year)))
	y := 2000 + int(year%36)
	spec, ok := randomCalendar(rng, y)
	if !ok {
		t.Skip("no valid calendar drawn")
	}
	s, err := NewSchedule(spec)
	require.NoError(t, err)
	return s, newRef(spec), rng, randomInstant(rng, s, y)
}

// maxRefMinutes bounds the reference's minute stepping (two weeks).
const maxRefMinutes = 14 * 24 * 60

func FuzzCalendarBetween(f *testing.F) {
	for i := range uint64(12) {
		f.Add(i*7919, uint16(i*3), uint32(i*1000))
	}
	f.Fuzz(func(t *testing.T, seed uint64, year uint16, span uint32) {
		s, ref, _, a := fuzzCase(t, seed, year)
		b := a.Add(time.Duration(span%(10*24*60)) * time.Minute)
		got := s.Between(a, b)
		require.Equal(t, ref.Between(a, b), got, "Between(%s, %s) of %s", a, b, s)
		require.Zero(t, s.Between(b, a), "Between of a reversed range")
		// Additive over a split point.
		mid := a.Add(b.Sub(a) / 3)
		require.Equal(t, got, s.Between(a, mid)+s.Between(mid, b))
		require.Equal(t, ref.IsWorking(a), s.IsWorking(a), "IsWorking(%s)", a)
		if n, ok := s.NextTransition(a); ok && n.Before(b) {
			require.NotEqual(t, ref.IsWorking(a), ref.IsWorking(n), "NextTransition(%s) = %s", a, n)
			if n.Sub(a) > time.Minute {
				require.Equal(t, ref.IsWorking(a), ref.IsWorking(n.Add(-time.Minute)), "a change before NextTransition(%s) = %s", a, n)
			}
		}
	})
}

func FuzzCalendarAdd(f *testing.F) {
	for i := range uint64(12) {
		f.Add(i*104729, uint16(i*5), uint32(i*600))
	}
	f.Fuzz(func(t *testing.T, seed uint64, year uint16, amount uint32) {
		s, ref, rng, start := fuzzCase(t, seed, year)
		d := time.Duration(amount%(3*24*60)) * time.Minute
		got, err := s.Add(start, d)
		if errors.Is(err, ErrNoWorkingTime) {
			// Sparse calendars (an intersection that meets on exception days
			// only) may run out; the reference must not find the time either.
			_, ok := ref.Add(start, d, maxRefMinutes)
			require.False(t, ok, "Add(%s, %s) of %s: %v", start, d, s, err)
			return
		}
		require.NoError(t, err)
		if want, ok := ref.Add(start, d, maxRefMinutes); ok {
			require.Equal(t, want, got, "Add(%s, %s) of %s", start, d, s)
		}
		require.Equal(t, d, s.Between(start, got), "Between(t, Add(t, d))")
		require.False(t, got.Before(start))
		if d > 0 || !s.IsWorking(start) {
			// The result ends working time that was counted, or opens it.
			require.True(t, d == 0 || s.Between(got.Add(-time.Nanosecond), got) == time.Nanosecond)
		}
		// Monotonic in d, also off whole minutes.
		d2 := d + time.Duration(rng.Int64N(int64(8*time.Hour)))
		got2, err := s.Add(start, d2)
		if errors.Is(err, ErrNoWorkingTime) {
			_, ok := ref.Add(start, d2.Truncate(time.Minute), maxRefMinutes)
			require.False(t, ok, "Add(%s, %s) of %s: %v", start, d2, s, err)
			return
		}
		require.NoError(t, err)
		require.False(t, got2.Before(got), "Add(t, %s) = %s before Add(t, %s) = %s", d2, got2, d, got)
		require.Equal(t, d2, s.Between(start, got2))
		// Add from a working instant is exact for sub-minute amounts too.
		if s.IsWorking(got2) {
			odd := time.Duration(rng.Int64N(int64(time.Hour)))
			got3, err := s.Add(got2, odd)
			require.NoError(t, err)
			require.Equal(t, odd, s.Between(got2, got3))
		}
	})
}
