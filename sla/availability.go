package sla

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// Outage is a stretch [Start, End) of real time during which a service was
// down (or, in AvailabilityInput.Excluded, a window excluded from agreed
// service time, such as agreed maintenance).
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AvailabilityInput is what Availability measures: a service's agreed
// service hours (Calendar) over the period [From, To), the outages seen, and
// windows excluded from agreed service time. Outages and exclusions may
// overlap each other and stick out of the period; they are merged and
// clipped.
type AvailabilityInput struct {
	Calendar Calendar  `json:"-"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Outages  []Outage  `json:"outages,omitempty"`
	Excluded []Outage  `json:"excluded,omitempty"`
}

// AvailabilityReport is the availability of a service over a period,
// following ITIL's definitions, all counted in agreed service time:
//
//	availability = (agreed service time - downtime) / agreed service time
//	MTRS         = downtime / breaks
//	MTBF         = (agreed service time - downtime) / breaks
//
// A break is one merged outage that overlaps agreed service time; outages
// only at night (outside the calendar) are not breaks.
type AvailabilityReport struct {
	// Agreed is the agreed service time in the period, exclusions removed.
	Agreed time.Duration `json:"agreed"`
	// Downtime is the agreed service time covered by outages.
	Downtime time.Duration `json:"downtime"`
	// Uptime is Agreed - Downtime.
	Uptime time.Duration `json:"uptime"`
	// Breaks counts the outages (merged) that cost agreed service time.
	Breaks int `json:"breaks"`
	// Percent is 100 × Uptime / Agreed, exact when it has at most AvailabilityScale
	// decimals and otherwise cut (never rounded up) after AvailabilityScale decimals.
	// Decide compliance with Meets, which is exact.
	Percent decimal.Decimal `json:"percent"`
	// MTRS is the mean time to restore service; 0 when there was no break.
	MTRS time.Duration `json:"mtrs"`
	// MTBF is the mean time between failures; 0 when there was no break.
	MTBF time.Duration `json:"mtbf"`
}

// AvailabilityScale is the number of decimals kept in AvailabilityReport.Percent.
const AvailabilityScale = 9

// Meets reports exactly whether the availability is at least target percent
// (e.g. decimal.RequireFromString("99.9")), with no rounding: 99.95 % does
// not meet 99.96 %, and a Percent shown cut does not decide.
func (r AvailabilityReport) Meets(target decimal.Decimal) bool {
	up := decimal.NewFromInt(int64(r.Uptime)).Mul(decimal.NewFromInt(100))
	return up.GreaterThanOrEqual(target.Mul(decimal.NewFromInt(int64(r.Agreed))))
}

// Availability measures the availability of a service from outage intervals
// over its agreed service hours. It is a pure function of its input.
//
// Errors: a *itsm.ValidationError (errors.Is(err, itsm.ErrInvalid)) for a
// nil calendar ("calendar"), To not after From ("to"), or an outage or
// exclusion whose end is not after its start ("outages[i].end",
// "excluded[i].end"); ErrNoWorkingTime when the period holds no agreed
// service time.
func Availability(in AvailabilityInput) (AvailabilityReport, error) {
	var errs itsm.FieldErrors
	if !Usable(in.Calendar) {
		errs.Add("calendar", "must not be nil")
	}
	if !in.To.After(in.From) {
		errs.Add("to", "must be after from")
	}
	check := func(field string, list []Outage) {
		for i, o := range list {
			if !o.End.After(o.Start) {
				errs.Add(fieldIndex(field, i)+".end", "must be after start")
			}
		}
	}
	check("outages", in.Outages)
	check("excluded", in.Excluded)
	if err := errs.Err(); err != nil {
		return AvailabilityReport{}, err
	}

	excluded := mergeOutages(in.Excluded, in.From, in.To)
	var r AvailabilityReport
	r.Agreed = in.Calendar.Between(in.From, in.To)
	for _, x := range excluded {
		r.Agreed -= in.Calendar.Between(x.Start, x.End)
	}
	if r.Agreed <= 0 {
		return AvailabilityReport{}, fmt.Errorf("%w: no agreed service time in [%s, %s)", ErrNoWorkingTime,
			in.From.UTC().Format(time.RFC3339), in.To.UTC().Format(time.RFC3339))
	}
	for _, o := range mergeOutages(in.Outages, in.From, in.To) {
		var down time.Duration
		for _, part := range subtractOutages(o, excluded) {
			down += in.Calendar.Between(part.Start, part.End)
		}
		if down > 0 {
			r.Downtime += down
			r.Breaks++
		}
	}
	r.Uptime = r.Agreed - r.Downtime
	r.Percent, _ = decimal.NewFromInt(int64(r.Uptime)).Mul(decimal.NewFromInt(100)).
		QuoRem(decimal.NewFromInt(int64(r.Agreed)), AvailabilityScale)
	if r.Breaks > 0 {
		r.MTRS = r.Downtime / time.Duration(r.Breaks)
		r.MTBF = r.Uptime / time.Duration(r.Breaks)
	}
	return r, nil
}

// mergeOutages clips outages to [from, to), sorts and merges overlapping or
// touching ones.
func mergeOutages(list []Outage, from, to time.Time) []Outage {
	var out []Outage
	for _, o := range list {
		if o.Start.Before(from) {
			o.Start = from
		}
		if o.End.After(to) {
			o.End = to
		}
		if o.End.After(o.Start) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Outage) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, o := range out {
		if n := len(merged); n > 0 && !o.Start.After(merged[n-1].End) {
			if o.End.After(merged[n-1].End) {
				merged[n-1].End = o.End
			}
			continue
		}
		merged = append(merged, o)
	}
	return merged
}

// subtractOutages returns the parts of o outside the merged cuts.
func subtractOutages(o Outage, cuts []Outage) []Outage {
	var out []Outage
	start := o.Start
	for _, c := range cuts {
		if !c.End.After(start) || !c.Start.Before(o.End) {
			continue
		}
		if c.Start.After(start) {
			out = append(out, Outage{start, c.Start})
		}
		if c.End.After(start) {
			start = c.End
		}
	}
	if o.End.After(start) {
		out = append(out, Outage{start, o.End})
	}
	return out
}
