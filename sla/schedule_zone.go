package sla

import "time"

const (
	nsPerSecond = int64(time.Second)
	nsPerDay    = secondsPerDay * nsPerSecond
)

// zoneTable is a zone's offset changes over the horizon, precomputed so that
// converting between instants and local wall time is a binary search.
//
// Wall time is counted in nanoseconds from 1970-01-01T00:00 local; an instant
// is counted in nanoseconds from the Unix epoch. At a change at instant T from
// offset before to offset after, wall times in [T+min, T+max) are special:
// skipped when the clocks go forward (a gap), shown twice when they go back
// (ambiguous).
type zoneTable struct {
	first  int64   // offset (ns) before the first change
	at     []int64 // instants of the changes
	before []int64 // offsets before each change
	after  []int64 // offsets after each change
	wallLo []int64 // at + min(before, after)
	wallHi []int64 // at + max(before, after)
	// maxRepeat is the longest stretch of wall time shown twice.
	maxRepeat int64
}

func newZoneTable(loc *time.Location, from, to int64) zoneTable {
	offsetAt := func(x int64) int64 {
		_, o := time.Unix(0, x).In(loc).Zone()
		return int64(o) * nsPerSecond
	}
	var z zoneTable
	z.first = offsetAt(from)
	prev := z.first
	record := func(at, next int64) {
		z.at = append(z.at, at)
		z.before = append(z.before, prev)
		z.after = append(z.after, next)
		z.wallLo = append(z.wallLo, at+min(prev, next))
		z.wallHi = append(z.wallHi, at+max(prev, next))
		z.maxRepeat = max(z.maxRepeat, prev-next)
		prev = next
	}
	const step = 12 * int64(time.Hour)
	for x := from; x < to; {
		_, end := time.Unix(0, x).In(loc).ZoneBounds()
		if end.IsZero() {
			break // the offset never changes again
		}
		next := end.UnixNano()
		if next <= x {
			// The standard library can report a period that ends where it
			// starts near some year ends of a zone's extended rule.
			next = x + step
		}
		next = min(next, to)
		if offsetAt(next-1) != prev {
			// A change inside (x, next) that the bounds missed: find it.
			lo, hi := x, next-1 // offset(lo) == prev, offset(hi) != prev
			for hi-lo > 1 {
				m := lo + (hi-lo)/2
				if offsetAt(m) == prev {
					lo = m
				} else {
					hi = m
				}
			}
			record(hi, offsetAt(hi))
			x = hi
			continue
		}
		if o := offsetAt(next); o != prev {
			record(next, o)
		}
		x = next
	}
	return z
}

// countLE returns how many elements of the sorted xs are <= v.
func countLE(xs []int64, v int64) int {
	lo, hi := 0, len(xs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if xs[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// offset returns the zone offset in force at instant x.
func (z *zoneTable) offset(x int64) int64 {
	i := countLE(z.at, x)
	if i == 0 {
		return z.first
	}
	return z.after[i-1]
}

// wall returns the local wall time shown at instant x.
func (z *zoneTable) wall(x int64) int64 { return x + z.offset(x) }

// resolve returns the instant at which local wall time w begins: in a gap,
// the instant the clocks jumped (the bound moves forward); when w is shown
// twice, its first occurrence.
func (z *zoneTable) resolve(w int64) int64 {
	i := countLE(z.wallLo, w)
	if i == 0 {
		return w - z.first
	}
	k := i - 1
	if w < z.wallHi[k] {
		if z.after[k] > z.before[k] {
			return z.at[k] // inside a gap
		}
		return w - z.before[k] // ambiguous: first occurrence
	}
	return w - z.after[k]
}

// dayOffset returns the one offset that resolves every wall time of local day
// d, and false when a change touches the day (then use resolve per bound).
func (z *zoneTable) dayOffset(d int64) (int64, bool) {
	lo := d * nsPerDay
	i := countLE(z.wallLo, lo)
	var off int64
	if i == 0 {
		off = z.first
	} else {
		if lo < z.wallHi[i-1] {
			return 0, false
		}
		off = z.after[i-1]
	}
	if i < len(z.wallLo) && z.wallLo[i] <= lo+nsPerDay {
		return 0, false
	}
	return off, true
}
