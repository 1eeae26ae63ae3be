package sla

import (
	"slices"
	"time"
)

// piece is a stretch [a, b) of one local day's wall time, in seconds from its
// midnight (0 <= a < b <= 86400). Overnight spans are split at midnight into
// a piece of each day; working time is the union of all pieces mapped onto
// the time line (each bound resolved on its own date, see zoneTable.resolve).
type piece struct{ a, b int32 }

// weekly is the compiled form of a weekly calendar (and of unions and
// intersections of weekly calendars in one zone).
//
// Days are numbered from 1970-01-01 in local wall time. Most days follow the
// weekly pattern; the others (holidays, exceptions, the day after them, and
// days touched by a change of offset) are "irregular" and listed with their
// own pieces. The working time before day D,
//
//	M(D) = P(D) + sum of (real - pattern) working time of irregular days < D,
//
// where P is the pattern's cumulative wall time, is one multiplication and two
// binary searches, so Between and Add cost the same at every span.
type weekly struct {
	zone zoneTable
	// week holds the pattern pieces, indexed from Monday (see monIndex).
	week       [7][]piece
	weekTotal  int64    // pattern working time of one week (ns)
	weekPrefix [8]int64 // pattern working time before each weekday (ns)
	empty      bool     // the pattern never works
	full       bool     // the pattern always works

	irrDay []int64   // sorted irregular days
	irrPcs [][]piece // their pieces
	irrCum []int64   // irrCum[i]: sum of deltas of irrDay[:i]; len(irrDay)+1
	// special lists the days whose pieces differ from the pattern's own
	// (holidays, exceptions, the days after them, composed days).
	special []int64

	firstDay, endDay int64     // horizon in local days [firstDay, endDay)
	start, end       int64     // horizon in instants (ns)
	startT, endT     time.Time // the same as times
	cumStart, cumEnd int64     // cumulative working time at start and end
}

// monIndex returns the Monday-based weekday index of day d (Monday = 0);
// day -3 (1969-12-29) was a Monday.
func monIndex(d int64) int { return int(floorMod(d+3, 7)) }

// monIndexOf converts a time.Weekday to a Monday-based index.
func monIndexOf(w time.Weekday) int { return (int(w) + 6) % 7 }

// normalizePieces sorts pieces and merges those that overlap or touch.
func normalizePieces(p []piece) []piece {
	p = slices.Clone(p)
	slices.SortFunc(p, func(x, y piece) int { return int(x.a) - int(y.a) })
	out := p[:0]
	for _, q := range p {
		if q.b <= q.a {
			continue
		}
		if n := len(out); n > 0 && q.a <= out[n-1].b {
			out[n-1].b = max(out[n-1].b, q.b)
			continue
		}
		out = append(out, q)
	}
	return slices.Clip(out)
}

// subtractPieces removes cuts from p (both normalized).
func subtractPieces(p, cuts []piece) []piece {
	var out []piece
	for _, q := range p {
		a := q.a
		for _, c := range cuts {
			if c.b <= a || c.a >= q.b {
				continue
			}
			if c.a > a {
				out = append(out, piece{a, c.a})
			}
			a = max(a, c.b)
		}
		if a < q.b {
			out = append(out, piece{a, q.b})
		}
	}
	return out
}

// intersectPieces returns the pieces common to p and q (both normalized).
func intersectPieces(p, q []piece) []piece {
	var out []piece
	i, j := 0, 0
	for i < len(p) && j < len(q) {
		a, b := max(p[i].a, q[j].a), min(p[i].b, q[j].b)
		if a < b {
			out = append(out, piece{a, b})
		}
		if p[i].b < q[j].b {
			i++
		} else {
			j++
		}
	}
	return out
}

// spanPieces splits owned spans (seconds from the owning day's midnight, end
// up to two days) into the pieces of that day and of the next.
func spanPieces(spans []Span) (today, tomorrow []piece) {
	for _, s := range spans {
		a, b := s.bounds()
		today = append(today, piece{int32(a), int32(min(b, secondsPerDay))})
		if b > secondsPerDay {
			tomorrow = append(tomorrow, piece{0, int32(b - secondsPerDay)})
		}
	}
	return today, tomorrow
}

// buildWeekly compiles a pattern and the pieces of irregular days. days must
// be sorted and unique; pcs(d) returns the normalized pieces of such a day.
func buildWeekly(loc *time.Location, week [7][]piece, days []int64, pcs func(int64) []piece) *weekly {
	c := &weekly{week: week, special: days}
	c.firstDay = daysFromCivil(HorizonStartYear, 1, 1)
	c.endDay = daysFromCivil(HorizonEndYear, 1, 1)
	c.zone = newZoneTable(loc, (c.firstDay-3)*nsPerDay, (c.endDay+3)*nsPerDay)
	c.full = true
	for i, ps := range week {
		var wall int64
		for _, p := range ps {
			wall += int64(p.b-p.a) * nsPerSecond
		}
		c.weekPrefix[i+1] = c.weekPrefix[i] + wall
		if len(ps) != 1 || ps[0] != (piece{0, secondsPerDay}) {
			c.full = false
		}
	}
	c.weekTotal = c.weekPrefix[7]
	c.empty = c.weekTotal == 0

	// Days touched by a change of offset resolve their bounds one by one.
	irr := slices.Clone(days)
	for k := range c.zone.at {
		for d := floorDiv(c.zone.wallLo[k], nsPerDay); d <= floorDiv(c.zone.wallHi[k], nsPerDay); d++ {
			irr = append(irr, d)
		}
	}
	slices.Sort(irr)
	irr = slices.Compact(irr)
	c.irrDay = irr
	c.irrPcs = make([][]piece, len(irr))
	c.irrCum = make([]int64, len(irr)+1)
	j := 0
	for i, d := range irr {
		if j < len(days) && days[j] == d {
			c.irrPcs[i] = pcs(d)
			j++
		} else {
			c.irrPcs[i] = c.week[monIndex(d)]
		}
		idx := monIndex(d)
		delta := c.measure(d, c.irrPcs[i]) - (c.weekPrefix[idx+1] - c.weekPrefix[idx])
		c.irrCum[i+1] = c.irrCum[i] + delta
	}

	c.start = c.zone.resolve(c.firstDay * nsPerDay)
	c.end = c.zone.resolve(c.endDay * nsPerDay)
	c.startT, c.endT = time.Unix(0, c.start).UTC(), time.Unix(0, c.end).UTC()
	c.cumStart, c.cumEnd = c.cumAt(c.start), c.cumAt(c.end)
	return c
}

// pattern returns the pattern's cumulative working time before day d.
func (c *weekly) pattern(d int64) int64 {
	return floorDiv(d+3, 7)*c.weekTotal + c.weekPrefix[monIndex(d)]
}

// lookup returns the irregular correction before day d and d's pieces.
func (c *weekly) lookup(d int64) (int64, []piece) {
	i := countLE(c.irrDay, d-1)
	if i < len(c.irrDay) && c.irrDay[i] == d {
		return c.irrCum[i], c.irrPcs[i]
	}
	return c.irrCum[i], c.week[monIndex(d)]
}

// bound returns the instant at which second s of day d begins, given the
// day's single offset when ok.
func (c *weekly) bound(d int64, s int32, off int64, ok bool) int64 {
	w := d*nsPerDay + int64(s)*nsPerSecond
	if ok {
		return w - off
	}
	return c.zone.resolve(w)
}

// partial returns the working time of day d's pieces that lies before x.
func (c *weekly) partial(d int64, pcs []piece, x int64) int64 {
	if len(pcs) == 0 {
		return 0
	}
	off, ok := c.zone.dayOffset(d)
	var sum int64
	for _, p := range pcs {
		ra := c.bound(d, p.a, off, ok)
		if ra >= x {
			break
		}
		sum += min(x, c.bound(d, p.b, off, ok)) - ra
	}
	return sum
}

// measure returns the real working time of day d's pieces.
func (c *weekly) measure(d int64, pcs []piece) int64 {
	off, ok := c.zone.dayOffset(d)
	var sum int64
	for _, p := range pcs {
		sum += c.bound(d, p.b, off, ok) - c.bound(d, p.a, off, ok)
	}
	return sum
}

// crossesIntoNext reports whether wall times shown twice around wall time w
// may belong to the next local day (a change of offset near midnight).
func (c *weekly) crossesIntoNext(w, d int64) bool {
	return c.zone.maxRepeat > 0 && floorDiv(w+c.zone.maxRepeat, nsPerDay) > d
}

// cumAt returns the working time from a fixed origin to instant x, which
// must lie within [start, end].
func (c *weekly) cumAt(x int64) int64 {
	w := c.zone.wall(x)
	d := floorDiv(w, nsPerDay)
	cum, pcs := c.lookup(d)
	f := c.pattern(d) + cum + c.partial(d, pcs, x)
	if c.crossesIntoNext(w, d) {
		_, next := c.lookup(d + 1)
		f += c.partial(d+1, next, x)
	}
	return f
}

func (c *weekly) working(x int64) bool {
	if x < c.start || x >= c.end {
		return false
	}
	w := c.zone.wall(x)
	d := floorDiv(w, nsPerDay)
	if c.inPieces(d, x) {
		return true
	}
	return c.crossesIntoNext(w, d) && c.inPieces(d+1, x)
}

func (c *weekly) inPieces(d, x int64) bool {
	_, pcs := c.lookup(d)
	if len(pcs) == 0 {
		return false
	}
	off, ok := c.zone.dayOffset(d)
	for _, p := range pcs {
		if c.bound(d, p.a, off, ok) > x {
			return false
		}
		if x < c.bound(d, p.b, off, ok) {
			return true
		}
	}
	return false
}

// clamp converts t to nanoseconds within the horizon [start, end].
func (c *weekly) clamp(t time.Time) int64 {
	switch {
	case t.Before(c.startT):
		return c.start
	case t.After(c.endT):
		return c.end
	}
	return t.UnixNano()
}

func (c *weekly) Between(a, b time.Time) time.Duration {
	x, y := c.clamp(a), c.clamp(b)
	if y <= x {
		return 0
	}
	return time.Duration(c.cumAt(y) - c.cumAt(x))
}

func (c *weekly) IsWorking(t time.Time) bool {
	if t.Before(c.startT) || !t.Before(c.endT) {
		return false
	}
	return c.working(t.UnixNano())
}

func (c *weekly) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, negativeDuration(d)
	}
	if !t.Before(c.endT) {
		return time.Time{}, noWorkingTimeAfter(t)
	}
	x := c.clamp(t)
	if d == 0 {
		if c.working(x) {
			return time.Unix(0, x).UTC(), nil
		}
		n, ok := c.next(x)
		if !ok {
			return time.Time{}, noWorkingTimeAfter(t)
		}
		return time.Unix(0, n).UTC(), nil
	}
	f := c.cumAt(x)
	if int64(d) > c.cumEnd-f {
		return time.Time{}, noWorkingTimeAfter(t)
	}
	target := f + int64(d)
	day := c.dayBefore(target)
	cum, pcs := c.lookup(day)
	rem := target - c.pattern(day) - cum
	off, ok := c.zone.dayOffset(day)
	for _, p := range pcs {
		ra, rb := c.bound(day, p.a, off, ok), c.bound(day, p.b, off, ok)
		if rem <= rb-ra {
			return time.Unix(0, ra+rem).UTC(), nil
		}
		rem -= rb - ra
	}
	// Unreachable when the tables are consistent; never loop or guess.
	return time.Time{}, noWorkingTimeAfter(t)
}

// dayBefore returns the last day D with M(D) < target: the day whose pieces
// hold the instant at which the cumulative working time reaches target.
func (c *weekly) dayBefore(target int64) int64 {
	// k irregular days have M < target (M is nondecreasing along them).
	lo, hi := 0, len(c.irrDay)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.pattern(c.irrDay[m])+c.irrCum[m] < target {
			lo = m + 1
		} else {
			hi = m
		}
	}
	k := lo
	if c.empty {
		// Only irregular days work; k >= 1 since target exceeds some M.
		return c.irrDay[max(k-1, 0)]
	}
	v := target - c.irrCum[k]
	q := floorDiv(v-1, c.weekTotal)
	r := v - q*c.weekTotal
	j := 0
	for j < 6 && c.weekPrefix[j+1] < r {
		j++
	}
	d := q*7 + int64(j) - 3
	if k > 0 && d <= c.irrDay[k-1] {
		return c.irrDay[k-1]
	}
	return d
}

func (c *weekly) NextTransition(t time.Time) (time.Time, bool) {
	if !t.Before(c.endT) {
		return time.Time{}, false
	}
	n, ok := c.next(c.clampBefore(t))
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}

// clampBefore maps an instant before the horizon to one nanosecond before
// its start (so that a working start counts as a transition).
func (c *weekly) clampBefore(t time.Time) int64 {
	if t.Before(c.startT) {
		return c.start - 1
	}
	return t.UnixNano()
}

// next returns the first instant after x at which working changes.
func (c *weekly) next(x int64) (int64, bool) {
	s := c.working(x)
	d := floorDiv(c.zone.wall(max(x, c.start)), nsPerDay)
	walked := 0
	for d <= c.endDay {
		_, pcs := c.lookup(d)
		off, ok := c.zone.dayOffset(d)
		for _, p := range pcs {
			for _, b := range [2]int32{p.a, p.b} {
				r := c.bound(d, b, off, ok)
				if r <= x {
					continue
				}
				if r >= c.end {
					return c.end, s
				}
				if c.working(r) != s {
					return r, true
				}
			}
		}
		d++
		walked++
		// A pattern that never changes state on its own: only special days
		// can (a change of offset cannot), so jump to the next one.
		if walked >= 8 && ((s && c.full) || (!s && c.empty)) {
			i := countLE(c.special, d-1)
			if i == len(c.special) {
				break
			}
			d = max(d, c.special[i])
		}
	}
	if s {
		return c.end, true
	}
	return 0, false
}
