package sla

import (
	"math/rand/v2"
	"time"
)

// refCalendar is the slow, obvious reference the fuzz targets compare with.
// It knows nothing of tables, days numbers or bound resolution: it decides
// whether one instant works by looking at the local wall clock the way a
// person would, and counts minutes one by one.
//
// Pointwise rule (equivalent to resolving every bound on its own date with
// gaps moving forward and repeated wall time taking its first occurrence):
// an instant works when its wall-clock time lies in a working span; during
// the second pass of a repeated hour it works when the wall clock was working
// just before the clocks went back.
type refCalendar struct {
	spec CalendarSpec
	loc  *time.Location
	// parts and all describe a union (all false) or intersection.
	parts []*refCalendar
	all   bool
}

func newRef(spec CalendarSpec) *refCalendar {
	switch spec.Kind.orDefault() {
	case CalendarUnion, CalendarIntersection:
		r := &refCalendar{all: spec.Kind == CalendarIntersection}
		for _, p := range spec.Parts {
			r.parts = append(r.parts, newRef(p))
		}
		return r
	}
	loc, err := time.LoadLocation(spec.Zone)
	if err != nil {
		panic(err)
	}
	return &refCalendar{spec: spec, loc: loc}
}

func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ruleOn reports whether a yearly rule (before observance) falls on date c,
// checked naively from the calendar fields of c.
func ruleOn(r YearlyRule, c time.Time) bool {
	c = c.AddDate(0, 0, -r.Offset)
	if (r.FirstYear != 0 && c.Year() < r.FirstYear) || (r.LastYear != 0 && c.Year() > r.LastYear) {
		return false
	}
	switch {
	case r.Easter:
		e := civilFromDays(easter(c.Year()))
		return c.Month() == e.Month && c.Day() == e.Day
	case r.Nth == -1:
		return c.Month() == r.Month && c.Weekday() == r.Weekday && c.AddDate(0, 0, 7).Month() != r.Month
	case r.Nth > 0:
		return c.Month() == r.Month && c.Weekday() == r.Weekday && (c.Day()-1)/7+1 == r.Nth
	}
	return c.Month() == r.Month && c.Day() == r.Day
}

func (r *refCalendar) observedOn(h Holiday, date time.Time) bool {
	for _, back := range []int{0, 1, -1, -2} {
		c := date.AddDate(0, 0, back)
		var falls bool
		if h.Yearly != nil {
			falls = ruleOn(*h.Yearly, c)
		} else {
			falls = h.Date.Year == c.Year() && h.Date.Month == c.Month() && h.Date.Day == c.Day()
		}
		if !falls {
			continue
		}
		obs := c
		switch {
		case c.Weekday() == time.Saturday && h.Observed == ObserveNearestWeekday:
			obs = c.AddDate(0, 0, -1)
		case c.Weekday() == time.Saturday && h.Observed == ObserveNextWeekday:
			obs = c.AddDate(0, 0, 2)
		case c.Weekday() == time.Sunday && h.Observed != ObserveActual:
			obs = c.AddDate(0, 0, 1)
		}
		if obs.Equal(date) {
			return true
		}
	}
	return false
}

// owned returns the spans that start on date.
func (r *refCalendar) owned(date time.Time) []Span {
	for _, e := range r.spec.Exceptions {
		if e.Date.Year == date.Year() && e.Date.Month == date.Month() && e.Date.Day == date.Day() {
			return e.Hours
		}
	}
	for _, h := range r.spec.Holidays {
		if len(h.Closed) == 0 && r.observedOn(h, date) {
			return nil
		}
	}
	return r.spec.Week[date.Weekday()]
}

func within(s Span, sec int, nextDay bool) bool {
	start, end := int(s.Start)*60, int(s.End)*60
	if s.End <= s.Start && s.End != EndOfDay {
		end += secondsPerDay
	}
	if nextDay {
		sec += secondsPerDay
	}
	return start <= sec && sec < end
}

// excepted reports whether an exception names date.
func (r *refCalendar) excepted(date time.Time) bool {
	for _, e := range r.spec.Exceptions {
		if e.Date.Year == date.Year() && e.Date.Month == date.Month() && e.Date.Day == date.Day() {
			return true
		}
	}
	return false
}

// wallWorks reports whether second sec of local date works. A holiday's
// closed spans cut the hours of its date unless an exception names that
// date: the exception wins.
func (r *refCalendar) wallWorks(date time.Time, sec int) bool {
	prev := date.AddDate(0, 0, -1)
	for _, h := range r.spec.Holidays {
		if len(h.Closed) == 0 {
			continue
		}
		for _, s := range h.Closed {
			if (!r.excepted(date) && r.observedOn(h, date) && within(s, sec, false)) ||
				(!r.excepted(prev) && r.observedOn(h, prev) && within(s, sec, true)) {
				return false
			}
		}
	}
	for _, s := range r.owned(date) {
		if within(s, sec, false) {
			return true
		}
	}
	for _, s := range r.owned(prev) {
		if within(s, sec, true) {
			return true
		}
	}
	return false
}

func offsetAt(t time.Time, loc *time.Location) time.Duration {
	_, o := t.In(loc).Zone()
	return time.Duration(o) * time.Second
}

func (r *refCalendar) IsWorking(t time.Time) bool {
	if r.parts != nil {
		for _, p := range r.parts {
			if p.IsWorking(t) != r.all {
				return !r.all
			}
		}
		return r.all
	}
	if r.spec.Kind == CalendarAlways {
		return true
	}
	local := t.In(r.loc)
	if local.Year() < HorizonStartYear || local.Year() >= HorizonEndYear {
		return false
	}
	o := offsetAt(t, r.loc)
	early := t.Add(-3 * time.Hour)
	if old := offsetAt(early, r.loc); old > o && offsetAt(t.Add(-(old-o)), r.loc) == old {
		// Second pass of a repeated hour: find the change and look at the
		// wall clock just before it.
		lo, hi := early, t
		for hi.Sub(lo) > 1 {
			m := lo.Add(hi.Sub(lo) / 2)
			if offsetAt(m, r.loc) == old {
				lo = m
			} else {
				hi = m
			}
		}
		local = lo.In(r.loc)
	}
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	return r.wallWorks(civil(local), sec)
}

// Between counts working minutes in [a, b); a and b on whole minutes.
func (r *refCalendar) Between(a, b time.Time) time.Duration {
	var sum time.Duration
	for m := a; m.Before(b); m = m.Add(time.Minute) {
		if r.IsWorking(m) {
			sum += time.Minute
		}
	}
	return sum
}

// Add steps minute by minute; false when more than limit minutes are needed.
func (r *refCalendar) Add(t time.Time, d time.Duration, limit int) (time.Time, bool) {
	var acc time.Duration
	m := t
	for i := 0; i < limit; i++ {
		w := r.IsWorking(m)
		if d == 0 && w {
			return m, true
		}
		m = m.Add(time.Minute)
		if w {
			acc += time.Minute
			if acc == d {
				return m, true
			}
		}
	}
	return time.Time{}, false
}

var fuzzZones = []string{
	"America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
	"Africa/Cairo", "America/Santiago", "Pacific/Chatham", "UTC", "Europe/Berlin",
}

// randomSpans returns up to n non-overlapping spans on half-hour marks, the
// last one sometimes overnight.
func randomSpans(rng *rand.Rand, n int) []Span {
	k := rng.IntN(n + 1)
	marks := map[int]bool{}
	for len(marks) < 2*k {
		marks[rng.IntN(49)*30] = true
	}
	var pts []int
	for m := 0; m <= 1440; m += 30 {
		if marks[m] {
			pts = append(pts, m)
		}
	}
	var out []Span
	for i := 0; i+1 < len(pts); i += 2 {
		out = append(out, Span{Start: TimeOfDay(pts[i]), End: TimeOfDay(pts[i+1])})
	}
	if len(out) > 0 && rng.IntN(4) == 0 {
		last := &out[len(out)-1]
		if last.Start < EndOfDay {
			last.End = TimeOfDay(rng.IntN(int(last.Start)/30+1) * 30)
			if last.End == last.Start {
				last.End = EndOfDay
			}
		}
	}
	for i := range out {
		if out[i].Start == EndOfDay {
			out = out[:i]
			break
		}
	}
	return out
}

func randomDate(rng *rand.Rand, year int) Date {
	d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
	return Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}
}

// randomWeekly returns a valid weekly spec, or false after too many tries.
func randomWeekly(rng *rand.Rand, zone string, year int) (CalendarSpec, bool) {
	for try := 0; try < 50; try++ {
		spec := CalendarSpec{Kind: CalendarWeekly, Zone: zone}
		switch rng.IntN(5) {
		case 0:
			spec.Week = EveryDay(Hours(Midnight, EndOfDay))
		case 1:
			spec.Week = Weekdays(Hours(At(9, 0), At(17, 0)))
		default:
			for d := range spec.Week {
				spec.Week[d] = randomSpans(rng, 3)
			}
		}
		for range rng.IntN(4) {
			h := Holiday{Observed: []Observance{ObserveActual, ObserveNearestWeekday, ObserveNextWeekday}[rng.IntN(3)]}
			switch rng.IntN(4) {
			case 0:
				h.Date = randomDate(rng, year)
			case 1:
				h.Yearly = &YearlyRule{Month: time.Month(rng.IntN(12) + 1), Day: rng.IntN(28) + 1}
			case 2:
				h.Yearly = &YearlyRule{Month: time.Month(rng.IntN(12) + 1), Weekday: time.Weekday(rng.IntN(7)), Nth: []int{1, 2, 4, 5, -1}[rng.IntN(5)], Offset: rng.IntN(3) - 1}
			default:
				h.Yearly = &YearlyRule{Easter: true, Offset: rng.IntN(5) - 2}
			}
			if rng.IntN(3) == 0 {
				h.Closed = randomSpans(rng, 2)
			}
			spec.Holidays = append(spec.Holidays, h)
		}
		for range rng.IntN(3) {
			spec.Exceptions = append(spec.Exceptions, Exception{Date: randomDate(rng, year), Hours: randomSpans(rng, 2)})
		}
		if _, err := NewSchedule(spec); err == nil {
			return spec, true
		}
	}
	return CalendarSpec{}, false
}

// randomCalendar returns a random spec (weekly, or a union or intersection of
// two weekly calendars in the same or in different zones).
func randomCalendar(rng *rand.Rand, year int) (CalendarSpec, bool) {
	zone := fuzzZones[rng.IntN(len(fuzzZones))]
	a, ok := randomWeekly(rng, zone, year)
	if !ok || rng.IntN(4) != 0 {
		return a, ok
	}
	if rng.IntN(2) == 0 {
		zone = fuzzZones[rng.IntN(len(fuzzZones))]
	}
	b, ok := randomWeekly(rng, zone, year)
	if !ok {
		return a, true
	}
	kind := []CalendarKind{CalendarUnion, CalendarIntersection}[rng.IntN(2)]
	spec := CalendarSpec{Kind: kind, Parts: []CalendarSpec{a, b}}
	if _, err := NewSchedule(spec); err != nil {
		return a, true
	}
	return spec, true
}

// randomInstant returns a whole minute in year, near a change of offset of
// cal's first zone half of the time.
func randomInstant(rng *rand.Rand, s *Schedule, year int) time.Time {
	base := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	if wk := s.wk; wk != nil && len(wk.zone.at) > 0 && rng.IntN(2) == 0 {
		var near []int64
		for _, at := range wk.zone.at {
			if time.Unix(0, at).Year() == year {
				near = append(near, at)
			}
		}
		if len(near) > 0 {
			at := time.Unix(0, near[rng.IntN(len(near))]).UTC()
			return at.Add(time.Duration(rng.IntN(4*24*60)-3*24*60) * time.Minute)
		}
	}
	return base.Add(time.Duration(rng.IntN(365*24*60)) * time.Minute)
}
