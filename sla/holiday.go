package sla

import (
	"strconv"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

const secondsPerDay = 86400

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's well-known formula).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) Date {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{Year: int(y), Month: time.Month(m), Day: int(d)}
}

// weekdayOf returns the weekday of a day number (1970-01-01 was a Thursday).
func weekdayOf(days int64) time.Weekday { return time.Weekday(floorMod(days+4, 7)) }

func daysIn(year int, m time.Month) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// easter returns the day number of Western Easter Sunday in year y
// (anonymous Gregorian algorithm).
func easter(y int) int64 {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return daysFromCivil(int64(y), int64(month), int64(day))
}

// On returns the day number on which the rule falls in year (before any
// observance), and false when it does not occur that year.
func (r YearlyRule) on(year int) (int64, bool) {
	if (r.FirstYear != 0 && year < r.FirstYear) || (r.LastYear != 0 && year > r.LastYear) {
		return 0, false
	}
	var day int64
	switch {
	case r.Easter:
		day = easter(year)
	case r.Nth > 0:
		first := daysFromCivil(int64(year), int64(r.Month), 1)
		day = first + floorMod(int64(r.Weekday)-int64(weekdayOf(first)), 7) + int64(r.Nth-1)*7
		if civilFromDays(day).Month != r.Month {
			return 0, false // a fifth weekday that this month lacks
		}
	case r.Nth == -1:
		last := daysFromCivil(int64(year), int64(r.Month), int64(daysIn(year, r.Month)))
		day = last - floorMod(int64(weekdayOf(last))-int64(r.Weekday), 7)
	default:
		if r.Day > daysIn(year, r.Month) {
			return 0, false // February 29 outside leap years
		}
		day = daysFromCivil(int64(year), int64(r.Month), int64(r.Day))
	}
	return day + int64(r.Offset), true
}

// observe moves a day number according to the observance rule.
func (o Observance) observe(day int64) int64 {
	switch weekdayOf(day) {
	case time.Saturday:
		switch o {
		case ObserveNearestWeekday:
			return day - 1
		case ObserveNextWeekday:
			return day + 2
		}
	case time.Sunday:
		if o == ObserveNearestWeekday || o == ObserveNextWeekday {
			return day + 1
		}
	}
	return day
}

// Dates returns the observed day numbers of the holiday whose observed date
// lies in [fromDay, toDay).
func (h Holiday) dates(fromDay, toDay int64) []int64 {
	var out []int64
	add := func(day int64) {
		day = h.Observed.observe(day)
		if day >= fromDay && day < toDay {
			out = append(out, day)
		}
	}
	if h.Yearly == nil {
		add(h.Date.days())
		return out
	}
	// One year of slack on both sides: observance and offsets can move a
	// date across the new year.
	y0, y1 := civilFromDays(fromDay).Year-1, civilFromDays(toDay).Year+1
	for y := y0; y <= y1; y++ {
		if day, ok := h.Yearly.on(y); ok {
			add(day)
		}
	}
	return out
}

// ObservedIn returns the dates on which the holiday is observed in year, in
// order (none, one, or for a rule moved across the new year, possibly two).
func (h Holiday) ObservedIn(year int) []Date {
	from := daysFromCivil(int64(year), 1, 1)
	to := daysFromCivil(int64(year)+1, 1, 1)
	var out []Date
	for _, d := range h.dates(from, to) {
		out = append(out, civilFromDays(d))
	}
	return out
}

func validateHoliday(errs *itsm.FieldErrors, field string, h Holiday) {
	switch {
	case h.Yearly == nil && h.Date.IsZero():
		errs.Add(field, "needs a date or a yearly rule")
	case h.Yearly != nil && !h.Date.IsZero():
		errs.Add(field, "has both a date and a yearly rule")
	case h.Yearly == nil && !h.Date.Valid():
		errs.Addf(field+".date", "%s is not a valid date", h.Date)
	case h.Yearly != nil:
		validateRule(errs, field+".yearly", *h.Yearly)
	}
	switch h.Observed {
	case ObserveActual, ObserveNearestWeekday, ObserveNextWeekday:
	default:
		errs.Addf(field+".observed", "%q is not an observance (want %q, %q or empty)", h.Observed, ObserveNearestWeekday, ObserveNextWeekday)
	}
	validateSpans(errs, field+".closed", h.Closed)
}

func validateRule(errs *itsm.FieldErrors, field string, r YearlyRule) {
	if r.Offset < -366 || r.Offset > 366 {
		errs.Add(field+".offset", "must be within a year (-366 to 366 days)")
	}
	if r.FirstYear != 0 && r.LastYear != 0 && r.LastYear < r.FirstYear {
		errs.Add(field+".last_year", "must not be before first_year")
	}
	if r.Easter {
		// A weekday is only caught when it is not Sunday, whose number is
		// the zero value.
		if r.Month != 0 || r.Day != 0 || r.Nth != 0 || r.Weekday != 0 {
			errs.Add(field+".easter", "an Easter rule takes no month, day, nth or weekday")
		}
		return
	}
	if r.Month < time.January || r.Month > time.December {
		errs.Addf(field+".month", "%d is not a month 1-12", int(r.Month))
		return
	}
	switch {
	case r.Nth != 0:
		if r.Nth < -1 || r.Nth > 5 {
			errs.Addf(field+".nth", "%d is not 1-5 or -1 (last)", r.Nth)
		}
		if r.Weekday < time.Sunday || r.Weekday > time.Saturday {
			errs.Addf(field+".weekday", "%d is not a weekday 0-6", int(r.Weekday))
		}
		if r.Day != 0 {
			errs.Add(field+".day", "an nth-weekday rule takes no day")
		}
	default:
		if r.Day < 1 || r.Day > daysIn(2000, r.Month) {
			errs.Addf(field+".day", "%d is not a day of %s", r.Day, r.Month)
		}
		if r.Weekday != 0 {
			errs.Add(field+".weekday", "a fixed-date rule takes no weekday (set nth for the nth weekday of the month)")
		}
	}
}

// validateSpans checks each span and that no two spans of one day overlap
// (overnight spans included).
func validateSpans(errs *itsm.FieldErrors, field string, spans []Span) {
	for i, s := range spans {
		if !validateSpan(errs, fieldIndex(field, i), s) {
			return
		}
	}
	for i := range spans {
		for j := range i {
			if overlapsDay(spans[i], spans[j]) {
				errs.Addf(fieldIndex(field, i), "%s overlaps %s (%s)", spans[i], fieldIndex(field, j), spans[j])
			}
		}
	}
}

func overlapsDay(a, b Span) bool {
	as, ae := a.bounds()
	bs, be := b.bounds()
	return as < be && bs < ae
}

func fieldIndex(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
