package sla

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// TimeOfDay is a local wall-clock time as minutes since midnight, from 0
// ("00:00") to 1440 ("24:00"). Its text form is "HH:MM".
type TimeOfDay int

// Midnight and EndOfDay are the two ends of a local day.
const (
	Midnight TimeOfDay = 0
	EndOfDay TimeOfDay = 24 * 60
)

// At returns the time of day hour:minute. It does not validate; a calendar
// spec that holds an out-of-range value is rejected by NewSchedule.
func At(hour, minute int) TimeOfDay { return TimeOfDay(hour*60 + minute) }

// ParseTimeOfDay parses "HH:MM" (00:00 to 24:00). Bad input returns a
// *itsm.ValidationError for field "time".
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil ||
		hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, itsm.NewValidationError("time", fmt.Sprintf("%q is not a time of day HH:MM between 00:00 and 24:00", s))
	}
	return TimeOfDay(hh*60 + mm), nil
}

// Valid reports whether t is between 00:00 and 24:00.
func (t TimeOfDay) Valid() bool { return t >= Midnight && t <= EndOfDay }

// String returns "HH:MM".
func (t TimeOfDay) String() string {
	if !t.Valid() {
		return fmt.Sprintf("TimeOfDay(%d)", int(t))
	}
	return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60)
}

// MarshalText returns "HH:MM".
func (t TimeOfDay) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, itsm.NewValidationError("time", fmt.Sprintf("%d minutes is not a time of day", int(t)))
	}
	return []byte(t.String()), nil
}

// UnmarshalText parses "HH:MM".
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := ParseTimeOfDay(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Span is a half-open interval [Start, End) of local wall-clock time within a
// day. End "24:00" ends at the next midnight. An End at or before Start makes
// an overnight span that runs into the next day and belongs to the day it
// starts on (a holiday on that day removes all of it; a holiday on the next
// day removes none of it). Start and End must differ.
type Span struct {
	Start TimeOfDay `json:"start"`
	End   TimeOfDay `json:"end"`
}

// Hours is shorthand for Span{Start: start, End: end}.
func Hours(start, end TimeOfDay) Span { return Span{Start: start, End: end} }

// Overnight reports whether the span runs past midnight into the next day.
func (s Span) Overnight() bool { return s.End <= s.Start && s.End != EndOfDay }

// Length returns the wall-clock length of the span (a DST change inside it
// makes the real length differ; see Schedule).
func (s Span) Length() time.Duration {
	start, end := s.bounds()
	return time.Duration(end-start) * time.Second
}

// bounds returns the span in seconds from the local midnight that starts its
// day; end may exceed one day for overnight spans.
func (s Span) bounds() (int64, int64) {
	start, end := int64(s.Start)*60, int64(s.End)*60
	if s.Overnight() {
		end += secondsPerDay
	}
	return start, end
}

// String renders the span as "09:00-17:00".
func (s Span) String() string { return s.Start.String() + "-" + s.End.String() }

func validateSpan(errs *itsm.FieldErrors, field string, s Span) bool {
	ok := true
	if s.Start < Midnight || s.Start >= EndOfDay {
		errs.Addf(field+".start", "%d minutes is not a start time between 00:00 and 23:59", int(s.Start))
		ok = false
	}
	if !s.End.Valid() {
		errs.Addf(field+".end", "%d minutes is not an end time between 00:00 and 24:00", int(s.End))
		ok = false
	}
	if ok && s.Start == s.End {
		errs.Add(field+".end", "must differ from start (use 00:00-24:00 for a whole day)")
		ok = false
	}
	return ok
}

// Week holds the working spans of each weekday, indexed by time.Weekday:
//
//	sla.Week{time.Monday: {sla.Hours(sla.At(9, 0), sla.At(17, 0))}}
//
// Its JSON form is an object keyed by lower-case English weekday names.
type Week [7][]Span

// Weekdays returns a Week with the same spans on Monday to Friday.
func Weekdays(spans ...Span) Week {
	var w Week
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = append([]Span(nil), spans...)
	}
	return w
}

// EveryDay returns a Week with the same spans on all seven days.
func EveryDay(spans ...Span) Week {
	var w Week
	for d := range w {
		w[d] = append([]Span(nil), spans...)
	}
	return w
}

func (w Week) empty() bool {
	for _, spans := range w {
		if len(spans) > 0 {
			return false
		}
	}
	return true
}

func weekdayKey(d time.Weekday) string { return strings.ToLower(d.String()) }

// MarshalJSON writes {"monday":[...],...}, leaving out days without spans.
func (w Week) MarshalJSON() ([]byte, error) {
	m := make(map[string][]Span, 7)
	for d, spans := range w {
		if len(spans) > 0 {
			m[weekdayKey(time.Weekday(d))] = spans
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the form MarshalJSON writes. Day names match in any
// case. What cannot be read is a *itsm.ValidationError naming its path
// under "week": "week" for a value that is not an object, an unknown day
// name or one day named twice ("monday" and "Monday"),
// "week.monday[0].start" for a bad span. On error w is left unchanged.
func (w *Week) UnmarshalJSON(b []byte) error {
	var errs itsm.FieldErrors
	var out Week
	decodeWeek(&errs, "week", b, &out)
	if err := errs.Err(); err != nil {
		return err
	}
	*w = out
	return nil
}

// Date is a calendar date in the calendar's zone. Its text form is
// "YYYY-MM-DD".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the local date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a real day of the Gregorian calendar.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return weekdayOf(d.days()) }

// String returns "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText returns "YYYY-MM-DD".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses "YYYY-MM-DD". Bad input is a *itsm.ValidationError for
// field "date".
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, string(b))
	if err != nil {
		return itsm.NewValidationError("date", fmt.Sprintf("%q is not a date YYYY-MM-DD", string(b)))
	}
	*d = Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	return nil
}

// days returns the number of days from 1970-01-01 to d.
func (d Date) days() int64 {
	return daysFromCivil(int64(d.Year), int64(d.Month), int64(d.Day))
}

// Observance moves a holiday that falls on a weekend to the day on which it
// is observed. The holiday then applies on the observed day only.
type Observance string

// Observance rules.
const (
	// ObserveActual keeps the holiday on its own date.
	ObserveActual Observance = ""
	// ObserveNearestWeekday moves Saturday to the Friday before and Sunday to
	// the Monday after (the United States federal rule).
	ObserveNearestWeekday Observance = "nearest-weekday"
	// ObserveNextWeekday moves Saturday and Sunday to the Monday after.
	ObserveNextWeekday Observance = "next-weekday"
)

// YearlyRule says on which date a recurring holiday falls in a given year.
// Exactly one form is used:
//   - fixed date: Month and Day (e.g. December 25);
//   - nth weekday: Month, Weekday and Nth (1 to 5, or -1 for the last), e.g.
//     the fourth Thursday of November;
//   - Easter: Easter true (Western, Gregorian computus).
//
// Offset then moves the date by whole days (e.g. Easter with Offset -2 is
// Good Friday; the fourth Thursday of November with Offset 1 is the day after
// Thanksgiving). A fixed February 29 occurs in leap years only.
type YearlyRule struct {
	Month   time.Month   `json:"month,omitempty"`
	Day     int          `json:"day,omitempty"`
	Weekday time.Weekday `json:"weekday,omitempty"`
	Nth     int          `json:"nth,omitempty"`
	Easter  bool         `json:"easter,omitempty"`
	Offset  int          `json:"offset,omitempty"`
	// FirstYear and LastYear bound the years in which the holiday exists
	// (0: unbounded), e.g. Juneteenth from 2021.
	FirstYear int `json:"first_year,omitempty"`
	LastYear  int `json:"last_year,omitempty"`
}

// Holiday closes a date, wholly or in part. It is either a one-off Date or a
// Yearly rule. Closed lists the wall-clock spans of that date that are closed
// (overnight spans run into the next day); empty closes every span that
// starts on the date.
type Holiday struct {
	Name     string      `json:"name,omitempty"`
	Date     Date        `json:"date,omitzero"`
	Yearly   *YearlyRule `json:"yearly,omitempty"`
	Observed Observance  `json:"observed,omitempty"`
	Closed   []Span      `json:"closed,omitempty"`
}

// Exception replaces the weekly hours of one date: Hours are the spans that
// start on that date (extra hours on a weekend, shorter hours on an eve); no
// Hours closes the date. An exception wins over a holiday on the same date,
// whole-day or partial: that holiday's closed spans cut nothing.
// Its hours are merged with any overnight span of the day before.
type Exception struct {
	Name  string `json:"name,omitempty"`
	Date  Date   `json:"date"`
	Hours []Span `json:"hours,omitempty"`
}

// CalendarKind says how a CalendarSpec builds working time.
type CalendarKind string

// Calendar kinds.
const (
	// CalendarWeekly is a weekly schedule in a zone with holidays and
	// exceptions. It is the kind assumed when Kind is empty.
	CalendarWeekly CalendarKind = "weekly"
	// CalendarAlways is working time around the clock (24×7).
	CalendarAlways CalendarKind = "always"
	// CalendarUnion works whenever any of its parts works.
	CalendarUnion CalendarKind = "union"
	// CalendarIntersection works whenever all of its parts work.
	CalendarIntersection CalendarKind = "intersection"
)

// CalendarSpec is the stored form of a calendar: hosts keep it as JSON and
// build a *Schedule from it with NewSchedule. Zones are IANA names
// ("Europe/London") and compare by name.
type CalendarSpec struct {
	Kind CalendarKind `json:"kind,omitempty"`
	// Name is a free label for people.
	Name string `json:"name,omitempty"`
	// Zone is the IANA zone of a weekly calendar (required) or of a 24×7
	// calendar (optional, UTC when empty). Unions and intersections have no
	// zone of their own.
	Zone       string         `json:"zone,omitempty"`
	Week       Week           `json:"week,omitzero"`
	Holidays   []Holiday      `json:"holidays,omitempty"`
	Exceptions []Exception    `json:"exceptions,omitempty"`
	Parts      []CalendarSpec `json:"parts,omitempty"`
}

func (k CalendarKind) orDefault() CalendarKind {
	if k == "" {
		return CalendarWeekly
	}
	return k
}
