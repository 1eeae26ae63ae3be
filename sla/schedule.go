package sla

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Schedule is a Calendar built from a CalendarSpec: a weekly schedule, a 24×7
// calendar, or a union or intersection of those. It is immutable and safe for
// concurrent use; build it once and share it.
//
// Semantics (see the package documentation for the DST rules):
//   - Add(t, 0) at a non-working instant returns the next opening, so a
//     timer started at night starts counting when work starts; at a working
//     instant it returns t. For d > 0, Add returns the earliest instant at
//     which d of working time has passed, which may be the end of a working
//     span (Add(09:00, 8h) on a 09:00-17:00 day is 17:00 the same day).
//     Between(t, Add(t, d)) == d always holds.
//   - Results are in UTC and keep t's sub-microsecond part; normalize them
//     with itsm.Normalize at your storage boundary.
//   - A weekly calendar works only on local dates from 1970-01-01 up to (not
//     including) 2200-01-01 (HorizonStartYear, HorizonEndYear). Add returns
//     ErrNoWorkingTime when the answer would lie beyond; Between counts
//     nothing outside.
//
// Cost: for weekly calendars and for unions and intersections of weekly
// calendars in one zone, Add, Between and IsWorking cost a few binary
// searches whatever the span (the weekly pattern is summed once and holidays,
// exceptions and DST days are indexed at build). Unions and intersections
// across zones walk the parts' transitions inside the span.
type Schedule struct {
	spec CalendarSpec
	loc  *time.Location
	eng  Calendar
	wk   *weekly // eng when it is a compiled weekly table
}

var _ Calendar = (*Schedule)(nil)

// NewSchedule validates spec and builds the calendar. Bad input returns a
// *itsm.ValidationError (errors.Is(err, itsm.ErrInvalid)) naming every
// offending field, e.g. "week.monday[1]" for overlapping spans, "zone" for an
// unknown zone, "holidays[2].yearly.nth", or "week" for a weekly calendar
// without any working time.
func NewSchedule(spec CalendarSpec) (*Schedule, error) {
	var errs itsm.FieldErrors
	s := build(&errs, "", spec)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseSchedule builds a calendar from the JSON form of a CalendarSpec.
// Malformed JSON or an invalid spec returns a *itsm.ValidationError naming
// the offending fields with the paths NewSchedule uses, whether the value
// cannot be read ("week.monday[0].start" for "9:00", "holidays[2].date" for
// "2026-12-32", "holidays[0].yearly.day" for a string) or breaks a rule; a
// JSON syntax error, or a value that is not an object, is reported as
// "calendar". A spec that cannot be read is not validated further. It reads
// the spec as ParseCalendarSpec does.
func ParseSchedule(data []byte) (*Schedule, error) {
	spec, err := ParseCalendarSpec(data)
	if err != nil {
		var ve *itsm.ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, itsm.NewValidationError("calendar", err.Error())
	}
	return NewSchedule(spec)
}

// Always returns a 24×7 calendar: every instant is working time, Add(t, d) is
// t+d, Between(a, b) is b-a (so a day across a DST change counts 23 h or
// 25 h), and there is no transition. loc is kept as its zone for display and
// storage; nil means UTC.
func Always(loc *time.Location) *Schedule {
	if loc == nil {
		loc = time.UTC
	}
	return &Schedule{spec: CalendarSpec{Kind: CalendarAlways, Zone: loc.String()}, loc: loc, eng: always{}}
}

// Union returns a calendar that works whenever any part works. Parts in one
// zone are compiled into a single table; parts in different zones are walked.
// No parts is a *itsm.ValidationError for field "parts".
func Union(parts ...*Schedule) (*Schedule, error) { return combine(CalendarUnion, parts) }

// Intersection returns a calendar that works whenever every part works
// (customer coverage ∩ team hours). An intersection that leaves no working
// time, in one zone or across zones, is a *itsm.ValidationError for field
// "parts".
func Intersection(parts ...*Schedule) (*Schedule, error) {
	return combine(CalendarIntersection, parts)
}

func combine(kind CalendarKind, parts []*Schedule) (*Schedule, error) {
	spec := CalendarSpec{Kind: kind}
	for i, p := range parts {
		if p == nil {
			return nil, itsm.NewValidationError(fieldIndex("parts", i), "must not be nil")
		}
		spec.Parts = append(spec.Parts, p.Spec())
	}
	return NewSchedule(spec)
}

// Spec returns a copy of the spec the calendar was built from.
func (s *Schedule) Spec() CalendarSpec { return cloneSpec(s.spec) }

// Location returns the calendar's zone; nil for a union or intersection of
// calendars in different zones.
func (s *Schedule) Location() *time.Location { return s.loc }

// Add returns the instant after exactly d of working time from t. A negative
// d is a *itsm.ValidationError for field "d"; ErrNoWorkingTime when the
// calendar has not that much working time left before its horizon.
func (s *Schedule) Add(t time.Time, d time.Duration) (time.Time, error) { return s.eng.Add(t, d) }

// Between returns the working time inside [a, b); 0 when b <= a.
func (s *Schedule) Between(a, b time.Time) time.Duration { return s.eng.Between(a, b) }

// IsWorking reports whether t lies inside working time.
func (s *Schedule) IsWorking(t time.Time) bool { return s.eng.IsWorking(t) }

// NextTransition returns the first instant after t at which IsWorking
// changes, and false when there is none: a 24×7 calendar never changes, and a
// weekly calendar does not after the end of its horizon (the end of its last
// working span before the horizon end is its last transition).
func (s *Schedule) NextTransition(t time.Time) (time.Time, bool) { return s.eng.NextTransition(t) }

// MarshalJSON writes the calendar's CalendarSpec.
func (s *Schedule) MarshalJSON() ([]byte, error) { return json.Marshal(s.spec) }

// UnmarshalJSON reads a CalendarSpec and builds the calendar from it; an
// invalid spec is a *itsm.ValidationError and leaves s unchanged.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	n, err := ParseSchedule(b)
	if err != nil {
		return err
	}
	*s = *n
	return nil
}

// String returns the calendar's kind, name and zone, e.g.
// "weekly \"service desk\" America/New_York".
func (s *Schedule) String() string {
	out := string(s.spec.Kind.orDefault())
	if s.spec.Name != "" {
		out += fmt.Sprintf(" %q", s.spec.Name)
	}
	if s.loc != nil {
		out += " " + s.loc.String()
	}
	return out
}

func cloneSpec(s CalendarSpec) CalendarSpec {
	out := s
	for d := range out.Week {
		out.Week[d] = slices.Clone(s.Week[d])
	}
	out.Holidays = slices.Clone(s.Holidays)
	for i, h := range out.Holidays {
		out.Holidays[i].Closed = slices.Clone(h.Closed)
		if h.Yearly != nil {
			r := *h.Yearly
			out.Holidays[i].Yearly = &r
		}
	}
	out.Exceptions = slices.Clone(s.Exceptions)
	for i, e := range out.Exceptions {
		out.Exceptions[i].Hours = slices.Clone(e.Hours)
	}
	if s.Parts != nil {
		out.Parts = make([]CalendarSpec, len(s.Parts))
		for i, p := range s.Parts {
			out.Parts[i] = cloneSpec(p)
		}
	}
	return out
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// build validates and compiles spec, recording problems under prefix. It
// returns nil when anything was wrong.
func build(errs *itsm.FieldErrors, prefix string, spec CalendarSpec) *Schedule {
	before := errs.Len()
	spec = cloneSpec(spec)
	kind := spec.Kind.orDefault()
	if kind != CalendarWeekly {
		if !spec.Week.empty() {
			errs.Addf(join(prefix, "week"), "a %s calendar takes no week", kind)
		}
		if len(spec.Holidays) > 0 {
			errs.Addf(join(prefix, "holidays"), "a %s calendar takes no holidays (use a weekly calendar)", kind)
		}
		if len(spec.Exceptions) > 0 {
			errs.Addf(join(prefix, "exceptions"), "a %s calendar takes no exceptions (use a weekly calendar)", kind)
		}
	}
	switch kind {
	case CalendarAlways:
		if len(spec.Parts) > 0 {
			errs.Add(join(prefix, "parts"), "a 24×7 calendar has no parts")
		}
		loc := time.UTC
		if spec.Zone != "" {
			loc = loadZone(errs, join(prefix, "zone"), spec.Zone)
		}
		if errs.Len() > before {
			return nil
		}
		return &Schedule{spec: spec, loc: loc, eng: always{}}
	case CalendarWeekly:
		return buildWeeklySpec(errs, prefix, spec)
	case CalendarUnion, CalendarIntersection:
		return buildCombined(errs, prefix, spec, kind)
	default:
		errs.Addf(join(prefix, "kind"), "%q is not a calendar kind (want %q, %q, %q or %q)", spec.Kind,
			CalendarWeekly, CalendarAlways, CalendarUnion, CalendarIntersection)
		return nil
	}
}

func loadZone(errs *itsm.FieldErrors, field, name string) *time.Location {
	if name == "" {
		errs.Add(field, "must name an IANA zone, e.g. Europe/London")
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		errs.Addf(field, "%q is not a known IANA zone", name)
		return nil
	}
	return loc
}

func buildWeeklySpec(errs *itsm.FieldErrors, prefix string, spec CalendarSpec) *Schedule {
	before := errs.Len()
	loc := loadZone(errs, join(prefix, "zone"), spec.Zone)
	if len(spec.Parts) > 0 {
		errs.Add(join(prefix, "parts"), "a weekly calendar has no parts")
	}
	validateWeek(errs, join(prefix, "week"), spec.Week)
	for i, h := range spec.Holidays {
		validateHoliday(errs, fieldIndex(join(prefix, "holidays"), i), h)
	}
	seen := map[Date]int{}
	for i, e := range spec.Exceptions {
		f := fieldIndex(join(prefix, "exceptions"), i)
		if !e.Date.Valid() {
			errs.Addf(f+".date", "%s is not a valid date", e.Date)
		} else if j, dup := seen[e.Date]; dup {
			errs.Addf(f+".date", "%s is already set by %s", e.Date, fieldIndex(join(prefix, "exceptions"), j))
		} else {
			seen[e.Date] = i
		}
		validateSpans(errs, f+".hours", e.Hours)
	}
	if errs.Len() > before {
		return nil
	}
	wk := compileWeekly(loc, spec)
	if wk.cumEnd == wk.cumStart {
		errs.Add(join(prefix, "week"), "the calendar has no working time")
		return nil
	}
	return &Schedule{spec: spec, loc: loc, eng: wk, wk: wk}
}

// validateWeek checks the spans of each day and that no two spans overlap,
// overnight spans and the week's wrap from Saturday to Sunday included.
func validateWeek(errs *itsm.FieldErrors, field string, w Week) {
	type owned struct {
		name       string
		span       Span
		start, end int64
	}
	var all []owned
	for d := time.Sunday; d <= time.Saturday; d++ {
		for i, s := range w[d] {
			f := fieldIndex(field+"."+weekdayKey(d), i)
			if !validateSpan(errs, f, s) {
				continue
			}
			a, b := s.bounds()
			base := int64(d) * secondsPerDay
			all = append(all, owned{f, s, base + a, base + b})
		}
	}
	const week = 7 * secondsPerDay
	for i := range all {
		for j := range i {
			x, y := all[i], all[j]
			for _, shift := range [3]int64{-week, 0, week} {
				if x.start < y.end+shift && y.start+shift < x.end {
					errs.Addf(x.name, "%s overlaps %s (%s)", x.span, y.name, y.span)
					break
				}
			}
		}
	}
}

// compileWeekly turns a valid weekly spec into tables.
func compileWeekly(loc *time.Location, spec CalendarSpec) *weekly {
	// Owned spans per time.Weekday and the pattern pieces per Monday index.
	var week [7][]piece
	for d := time.Sunday; d <= time.Saturday; d++ {
		today, tomorrow := spanPieces(spec.Week[d])
		i := monIndexOf(d)
		week[i] = append(week[i], today...)
		week[(i+1)%7] = append(week[(i+1)%7], tomorrow...)
	}
	for i := range week {
		week[i] = normalizePieces(week[i])
	}

	first := daysFromCivil(HorizonStartYear, 1, 1) - 1
	end := daysFromCivil(HorizonEndYear, 1, 1) + 1
	exceptions := map[int64][]Span{}
	for _, e := range spec.Exceptions {
		if d := e.Date.days(); d >= first && d < end {
			exceptions[d] = e.Hours
		}
	}
	closedAll := map[int64]bool{}
	closedSpans := map[int64][]Span{}
	for _, h := range spec.Holidays {
		for _, d := range h.dates(first, end) {
			if len(h.Closed) == 0 {
				closedAll[d] = true
			} else {
				closedSpans[d] = append(closedSpans[d], h.Closed...)
			}
		}
	}
	owned := func(d int64) []Span {
		if hours, ok := exceptions[d]; ok {
			return hours
		}
		if closedAll[d] {
			return nil
		}
		return spec.Week[weekdayOf(d)]
	}
	var days []int64
	for _, m := range []map[int64][]Span{exceptions, closedSpans} {
		for d := range m {
			days = append(days, d, d+1)
		}
	}
	for d := range closedAll {
		days = append(days, d, d+1)
	}
	slices.Sort(days)
	days = slices.Compact(days)
	// cut returns a holiday's closed spans on date d, none when an
	// exception names d: the exception wins over a holiday, partial or not.
	cut := func(d int64) []Span {
		if _, ok := exceptions[d]; ok {
			return nil
		}
		return closedSpans[d]
	}
	pcs := func(d int64) []piece {
		today, _ := spanPieces(owned(d))
		_, spill := spanPieces(owned(d - 1))
		cutToday, _ := spanPieces(cut(d))
		_, cutSpill := spanPieces(cut(d - 1))
		p := normalizePieces(append(today, spill...))
		return subtractPieces(p, normalizePieces(append(cutToday, cutSpill...)))
	}
	return buildWeekly(loc, week, days, pcs)
}

// hasWorkingTime reports whether c works at some instant of the weekly
// horizon. For an intersection of parts in different zones with nothing in
// common this walks every transition of the horizon, tens of milliseconds,
// paid once when the calendar is built.
func hasWorkingTime(c Calendar) bool {
	t := time.Date(HorizonStartYear-1, time.December, 30, 0, 0, 0, 0, time.UTC)
	if c.IsWorking(t) {
		return true
	}
	_, ok := c.NextTransition(t)
	return ok
}

// MaxCalendarDepth is how deeply unions and intersections may nest: the
// parts of a calendar are one level down, their parts two, and a part more
// than MaxCalendarDepth levels down is refused (field "...parts"), by
// NewSchedule and when a CalendarSpec is read from JSON. Real calendars
// nest two or three levels; the bound keeps the work of reading and
// building one in proportion to its size.
const MaxCalendarDepth = 16

// partsDepth is how many levels down the calendar at prefix is: the number
// of parts it sits in.
func partsDepth(prefix string) int { return strings.Count(prefix, "parts[") }

func buildCombined(errs *itsm.FieldErrors, prefix string, spec CalendarSpec, kind CalendarKind) *Schedule {
	before := errs.Len()
	if spec.Zone != "" {
		errs.Addf(join(prefix, "zone"), "a %s takes its zones from its parts", kind)
	}
	if len(spec.Parts) == 0 {
		errs.Add(join(prefix, "parts"), "needs at least one part")
	}
	if partsDepth(prefix) >= MaxCalendarDepth && len(spec.Parts) > 0 {
		errs.Addf(join(prefix, "parts"), "nests calendars more than %d levels deep", MaxCalendarDepth)
		return nil
	}
	parts := make([]*Schedule, len(spec.Parts))
	for i, p := range spec.Parts {
		parts[i] = build(errs, fieldIndex(join(prefix, "parts"), i), p)
	}
	if errs.Len() > before {
		return nil
	}
	out := &Schedule{spec: spec}

	// 24×7 parts: a union with one is 24×7; an intersection ignores them.
	var rest []*Schedule
	for _, p := range parts {
		if _, ok := p.eng.(always); ok {
			if kind == CalendarUnion {
				out.loc, out.eng = p.loc, always{}
				return out
			}
			continue
		}
		rest = append(rest, p)
	}
	if len(rest) == 0 {
		out.loc, out.eng = parts[0].loc, always{}
		return out
	}
	if len(rest) == 1 {
		out.loc, out.eng, out.wk = rest[0].loc, rest[0].eng, rest[0].wk
		return out
	}

	sameZone := true
	for _, p := range rest {
		if p.wk == nil || p.loc == nil || p.loc.String() != rest[0].loc.String() {
			sameZone = false
		}
	}
	if !sameZone {
		cs := make([]Calendar, len(rest))
		out.loc = rest[0].loc
		for i, p := range rest {
			cs[i] = p
			if p.loc == nil || out.loc == nil || p.loc.String() != out.loc.String() {
				out.loc = nil
			}
		}
		out.eng = &combined{parts: cs, all: kind == CalendarIntersection}
		if kind == CalendarIntersection && !hasWorkingTime(out.eng) {
			// Caught here, once, rather than by every Add that would
			// walk the whole horizon before giving up.
			errs.Add(join(prefix, "parts"), "the parts share no working time")
			return nil
		}
		return out
	}

	op := func(pcs [][]piece) []piece {
		acc := pcs[0]
		for _, p := range pcs[1:] {
			if kind == CalendarUnion {
				acc = normalizePieces(append(slices.Clone(acc), p...))
			} else {
				acc = intersectPieces(acc, p)
			}
		}
		return acc
	}
	var week [7][]piece
	for i := range week {
		var each [][]piece
		for _, p := range rest {
			each = append(each, p.wk.week[i])
		}
		week[i] = op(each)
	}
	var days []int64
	for _, p := range rest {
		days = append(days, p.wk.irrDay...)
	}
	slices.Sort(days)
	days = slices.Compact(days)
	pcs := func(d int64) []piece {
		var each [][]piece
		for _, p := range rest {
			_, ps := p.wk.lookup(d)
			each = append(each, ps)
		}
		return op(each)
	}
	wk := buildWeekly(rest[0].loc, week, days, pcs)
	if wk.cumEnd == wk.cumStart {
		errs.Add(join(prefix, "parts"), "the parts share no working time")
		return nil
	}
	out.loc, out.eng, out.wk = rest[0].loc, wk, wk
	return out
}
