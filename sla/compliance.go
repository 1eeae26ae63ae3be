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

// ComplianceRow is one agreement, metric and priority over a period
// [from, to). A report on a past period gives the same figures whenever it
// is run, given timers that have since moved on:
//
//   - Met and Breached count the cycles decided in the period: those whose
//     first completion lies in it, in the row of the priority they had
//     then. The first completion is the start of the cycle's first
//     stopped stretch when a reopen resumed it (ReopenResume), else
//     EndedAt. A cycle is breached when it had breached by then: the
//     engine records that, with the priority, when the cycle first
//     completes (Timer.Decided), so neither a later retroactive retarget
//     that finds an earlier breach nor a reopen at another priority moves
//     it. A resumed cycle therefore stays decided in the period and row it
//     first completed in; its later course (a breach after the reopen
//     included) shows only as in flight in later periods and is never
//     decided twice. A completed timer without a recorded decision (one
//     completed before the engine recorded them, or built by hand) is
//     judged as it stands: breached when BreachedAt lies before its first
//     completion, in the row of its current Priority.
//   - InFlight counts the cycles not decided in the period that started
//     before to and were live at to: still live (as of their AsOf; advance
//     states to the period's end or later first), or ended at or after to,
//     and not inside a stopped stretch then. InFlightBreached counts those
//     of them breached before to, as the timer stood then: the retroactive
//     recounts made at or after to are undone (Change.PriorBreachedAt), so
//     a recount in the next period that finds an earlier breach does not
//     count here. They sit in the row of the record's latest priority,
//     since the timer does not record the priority it had at to: a cycle
//     in flight may move to another row when the record's priority
//     changes later, though its figures do not.
//   - Canceled counts the cycles canceled in the period that were neither
//     decided nor in flight, in the row of their latest priority; they
//     never affect attainment.
//
// Migrate with StrategyRecompute replays a record's whole history under
// new definitions, and rewrites its cycles' decisions with everything else.
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
	// elapsed time of the cycles decided in the period, as the timers
	// stand (a resumed cycle's includes its time after the reopen); empty
	// when none was decided.
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
		decidedAt, decided := firstCompletion(t)
		decided = decided && in(decidedAt)
		inFlight := !decided && liveAt(t, to)
		canceled := !decided && !inFlight && t.Stage == StageCanceled && in(t.EndedAt)
		if !decided && !inFlight && !canceled {
			continue
		}
		prio := t.Priority
		if decided && t.Decided {
			prio = t.DecidedPriority
		}
		k := key{t.Agreement, t.Metric, prio}
		g := groups[k]
		if g == nil {
			g = &group{row: ComplianceRow{Agreement: t.Agreement, Kind: t.Kind, Metric: t.Metric, Priority: prio}}
			groups[k] = g
		}
		r := &g.row
		switch {
		case slices.Contains(opts.Exclude, t.Record):
			r.Excluded++
		case canceled:
			r.Canceled++
		case inFlight:
			r.InFlight++
			if breachedAsOf(t, to) {
				r.InFlightBreached++
			}
		case t.Decided && t.DecidedBreached, !t.Decided && breachedBefore(t, decidedAt):
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

// firstCompletion returns the instant t's cycle first completed: the start
// of its first stopped stretch (a reopen resumed it), or EndedAt of a
// completed timer; false when it never completed.
func firstCompletion(t *Timer) (time.Time, bool) {
	for _, s := range t.Segments {
		if s.Kind == SegmentStopped {
			return s.From, true
		}
	}
	return t.EndedAt, t.Stage == StageCompleted
}

// liveAt reports whether t was live just before x: started before it, not
// ended before it, and not completed in a stretch a reopen later resumed.
func liveAt(t *Timer, x time.Time) bool {
	if !t.StartedAt.Before(x) {
		return false
	}
	switch t.Stage {
	case StageRunning, StagePaused:
	case StageCompleted, StageCanceled:
		if t.EndedAt.Before(x) {
			return false
		}
	default:
		return false
	}
	for _, s := range t.Segments {
		if s.Kind == SegmentStopped && s.From.Before(x) && !s.To.Before(x) {
			return false
		}
	}
	return true
}

// breachedBefore reports whether t had breached before x. A breached timer
// without a breach instant (written by hand) counts as breached.
func breachedBefore(t *Timer, x time.Time) bool {
	return t.Breached && (t.BreachedAt.IsZero() || t.BreachedAt.Before(x))
}

// breachedAsOf reports whether t had breached before x as it stood then:
// it undoes, newest first, the changes made at or after x that moved its
// breach (a retroactive recount), each restoring the breach instant it
// replaced, and asks breachedBefore of what is left. Other breaches need
// no undoing: the engine records one only as the timer runs past it, at
// the instant it did, so one from after x lies after x.
func breachedAsOf(t *Timer, x time.Time) bool {
	breached, at := t.Breached, t.BreachedAt
	for i := len(t.Changes) - 1; i >= 0 && !t.Changes[i].At.Before(x); i-- {
		if c := &t.Changes[i]; !c.BreachedAt.IsZero() {
			breached, at = !c.PriorBreachedAt.IsZero(), c.PriorBreachedAt
		}
	}
	return breached && (at.IsZero() || at.Before(x))
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
