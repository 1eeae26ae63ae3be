package sla

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// ReportPeriod is the half-open reporting window [From, To).
type ReportPeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ComplianceOptions says what a compliance report covers.
type ComplianceOptions struct {
	// Period is the reporting window; required.
	Period ReportPeriod `json:"period"`
	// Percentiles lists the business-elapsed percentiles to report, each 1
	// to 100; empty means 50, 90 and 95.
	Percentiles []int `json:"percentiles,omitempty"`
	// Exclude lists records the agreement excludes from measurement (for
	// example, delays the customer caused); their timers are counted in
	// Excluded only.
	Exclude []itsm.Ref `json:"exclude,omitempty"`
}

// Percentile is one nearest-rank percentile: the smallest value such that
// at least Rank percent of the values are at most it. It is always one of
// the measured values, never an interpolation.
type Percentile struct {
	Rank  int           `json:"rank"`
	Value time.Duration `json:"value"`
}

// ComplianceRow is one agreement, metric and priority over a period.
//
// A cycle counts in the period in which it completed: as Met, or as
// Breached when it ran past its breach instant. Cycles still live (as of
// their AsOf; advance states to the period's end first) that started before
// the period's end are InFlight, and InFlightBreached of those are already
// breached. Canceled cycles ended in the period are counted apart and never
// affect attainment.
type ComplianceRow struct {
	Agreement string             `json:"agreement"`
	Kind      itsm.AgreementKind `json:"kind"`
	Metric    string             `json:"metric"`
	Priority  itsm.Priority      `json:"priority"`

	Met              int `json:"met"`
	Breached         int `json:"breached"`
	InFlight         int `json:"in_flight"`
	InFlightBreached int `json:"in_flight_breached"`
	Canceled         int `json:"canceled"`
	Excluded         int `json:"excluded"`

	// Attainment is Met ÷ (Met + Breached) × 100, truncated (never rounded
	// up) to six decimal places; 100 when no cycle completed.
	Attainment decimal.Decimal `json:"attainment"`
	// BusinessElapsed holds the requested percentiles of the business
	// elapsed time of the completed cycles; empty when none completed.
	BusinessElapsed []Percentile `json:"business_elapsed,omitempty"`
}

// Compliance reports attainment per agreement, metric and priority over
// a period, from timers of any number of records. Rows are sorted by
// agreement, metric and priority. Errors: a *itsm.ValidationError naming
// "period.from", "period.to" or "percentiles[i]".
func Compliance(timers []Timer, opts ComplianceOptions) ([]ComplianceRow, error) {
	var errs itsm.FieldErrors
	from, to := itsm.Normalize(opts.Period.From), itsm.Normalize(opts.Period.To)
	if opts.Period.From.IsZero() {
		errs.Add("period.from", "must be set")
	}
	if opts.Period.To.IsZero() {
		errs.Add("period.to", "must be set")
	} else if !to.After(from) {
		errs.Add("period.to", "must be after period.from")
	}
	ranks := opts.Percentiles
	if len(ranks) == 0 {
		ranks = []int{50, 90, 95}
	}
	for i, r := range ranks {
		if r < 1 || r > 100 {
			errs.Addf(fmt.Sprintf("percentiles[%d]", i), "%d is not between 1 and 100", r)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	type group struct {
		row     ComplianceRow
		elapsed []time.Duration
	}
	type key struct {
		agreement, metric string
		priority          itsm.Priority
	}
	groups := map[key]*group{}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for i := range timers {
		t := &timers[i]
		var counts bool
		switch t.Stage {
		case StageCompleted, StageCanceled:
			counts = in(t.EndedAt)
		case StageRunning, StagePaused:
			counts = t.StartedAt.Before(to)
		}
		if !counts {
			continue
		}
		k := key{t.Agreement, t.Metric, t.Priority}
		g := groups[k]
		if g == nil {
			g = &group{row: ComplianceRow{Agreement: t.Agreement, Kind: t.Kind, Metric: t.Metric, Priority: t.Priority}}
			groups[k] = g
		}
		r := &g.row
		switch {
		case slices.Contains(opts.Exclude, t.Record):
			r.Excluded++
		case t.Stage == StageCanceled:
			r.Canceled++
		case t.Stage.Live():
			r.InFlight++
			if t.Breached {
				r.InFlightBreached++
			}
		case t.Breached:
			r.Breached++
			g.elapsed = append(g.elapsed, t.BusinessElapsed)
		default:
			r.Met++
			g.elapsed = append(g.elapsed, t.BusinessElapsed)
		}
	}
	rows := make([]ComplianceRow, 0, len(groups))
	for _, g := range groups {
		r := g.row
		r.Attainment = attainmentOf(r.Met, r.Met+r.Breached)
		if len(g.elapsed) > 0 {
			slices.Sort(g.elapsed)
			for _, rank := range ranks {
				r.BusinessElapsed = append(r.BusinessElapsed, Percentile{Rank: rank, Value: nearestRank(g.elapsed, rank)})
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b ComplianceRow) int {
		return cmp.Or(cmp.Compare(a.Agreement, b.Agreement), cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Priority, b.Priority))
	})
	return rows, nil
}

// attainmentOf returns met ÷ decided × 100 truncated to six places, or 100
// when nothing was decided.
func attainmentOf(met, decided int) decimal.Decimal {
	if decided == 0 {
		return decimal.NewFromInt(100)
	}
	q, _ := decimal.NewFromInt(int64(met)*100).QuoRem(decimal.NewFromInt(int64(decided)), percentPlaces)
	return q
}

// nearestRank returns the rank-th percentile of sorted values by the
// nearest-rank method: the value at position ⌈rank/100 × n⌉.
func nearestRank(sorted []time.Duration, rank int) time.Duration {
	n := len(sorted)
	pos := (rank*n + 99) / 100
	return sorted[max(pos, 1)-1]
}
