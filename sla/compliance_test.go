package sla

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func tmCompleted(record int, p itsm.Priority, elapsed time.Duration, breached bool, ended time.Time) Timer {
	return Timer{
		Record: itsm.Ref{Kind: "incident", ID: uuid.UUID{15: byte(record)}}, Agreement: "gold", Kind: itsm.AgreementSLA,
		Metric: "resolution", Cycle: 1, Priority: p, Within: 4 * time.Hour, Stage: StageCompleted,
		Breached: breached, BusinessElapsed: elapsed, StartedAt: ended.Add(-elapsed), EndedAt: ended, AsOf: ended,
	}
}

func TestCompliance(t *testing.T) {
	march := ReportPeriod{From: tmDay(1, 0, 0), To: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)}
	live := tmCompleted(9, 1, time.Hour, false, tmDay(20, 0, 0))
	live.Stage, live.EndedAt = StageRunning, time.Time{}
	liveBreached := live
	liveBreached.Record.ID[15], liveBreached.Breached = 10, true
	canceled := tmCompleted(11, 1, time.Hour, false, tmDay(21, 0, 0))
	canceled.Stage = StageCanceled
	timers := []Timer{
		tmCompleted(1, 1, 1*time.Hour, false, tmDay(3, 12, 0)),
		tmCompleted(2, 1, 2*time.Hour, false, tmDay(4, 12, 0)),
		tmCompleted(3, 1, 3*time.Hour, false, tmDay(5, 12, 0)),
		tmCompleted(4, 1, 5*time.Hour, true, tmDay(6, 12, 0)),
		tmCompleted(5, 1, 7*time.Hour, true, tmDay(31, 23, 59)),
		tmCompleted(6, 1, 9*time.Hour, true, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)), // ended in April: in flight, breached, at the end of March
		tmCompleted(7, 2, 1*time.Hour, false, tmDay(7, 12, 0)),
		tmCompleted(8, 1, 8*time.Hour, true, tmDay(8, 12, 0)), // excluded by agreement
		live, liveBreached, canceled,
	}
	rows, err := Compliance(timers, ComplianceOptions{
		Period:      march,
		Percentiles: []int{50, 90, 100},
		Exclude:     []itsm.Ref{{Kind: "incident", ID: uuid.UUID{15: 8}}},
	})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	p1, p2 := rows[0], rows[1]
	assert.Equal(t, itsm.Priority(1), p1.Priority)
	assert.Equal(t, 3, p1.Met)
	assert.Equal(t, 2, p1.Breached)
	assert.Equal(t, 3, p1.InFlight)
	assert.Equal(t, 2, p1.InFlightBreached)
	assert.Equal(t, 1, p1.Canceled)
	assert.Equal(t, 1, p1.Excluded)
	assert.Equal(t, "60", p1.Attainment.String())
	assert.Equal(t, []Percentile{{50, 3 * time.Hour}, {90, 7 * time.Hour}, {100, 7 * time.Hour}}, p1.BusinessElapsed)
	assert.Equal(t, "100", p2.Attainment.String())
	assert.Equal(t, 1, p2.Met)

	t.Run("attainment is truncated, never rounded up", func(t *testing.T) {
		var ts []Timer
		for i := range 3 {
			ts = append(ts, tmCompleted(i, 1, time.Hour, i == 0, tmDay(3, 12, 0)))
		}
		rows, err := Compliance(ts, ComplianceOptions{Period: march})
		require.NoError(t, err)
		assert.Equal(t, "66.666666", rows[0].Attainment.String())
	})
	t.Run("nothing decided is full attainment", func(t *testing.T) {
		rows, err := Compliance([]Timer{live}, ComplianceOptions{Period: march})
		require.NoError(t, err)
		assert.True(t, decimal.NewFromInt(100).Equal(rows[0].Attainment))
		assert.Empty(t, rows[0].BusinessElapsed)
	})
}

func TestComplianceErrors(t *testing.T) {
	tests := []struct {
		name  string
		opts  ComplianceOptions
		field string
	}{
		{"no period", ComplianceOptions{}, "period.from"},
		{"empty period", ComplianceOptions{Period: ReportPeriod{From: tmDay(3, 0, 0), To: tmDay(3, 0, 0)}}, "period.to"},
		{"percentile out of range", ComplianceOptions{Period: ReportPeriod{From: tmDay(3, 0, 0), To: tmDay(4, 0, 0)}, Percentiles: []int{0}}, "percentiles[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compliance(nil, tc.opts)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
}

func TestCredit(t *testing.T) {
	d := decimal.RequireFromString
	policy := CreditPolicy{
		Bands: []Band{
			{Below: d("95"), Credit: d("25")},
			{Below: d("99.9"), Credit: d("5")},
			{Below: d("99"), Credit: d("10")},
		},
		Cap: d("20"),
	}
	fee := d("12000.00")
	tests := []struct {
		name     string
		policy   CreditPolicy
		measured string
		band     int
		percent  string
		amount   string
		capped   bool
		excluded string
	}{
		{"above every band", policy, "99.95", -1, "0", "0", false, ""},
		{"exactly at a band is not below it", policy, "99.9", -1, "0", "0", false, ""},
		{"just below the first band", policy, "99.899999", 1, "5", "600", false, ""},
		{"most severe band applies", policy, "98.5", 2, "10", "1200", false, ""},
		{"cap", policy, "90", 0, "20", "2400", true, ""},
		{"no cap", CreditPolicy{Bands: policy.Bands}, "90", 0, "25", "3000", false, ""},
		{"excluded", CreditPolicy{Bands: policy.Bands, Exclude: "force majeure"}, "10", -1, "0", "0", false, "force majeure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.policy.Apply(d(tc.measured), fee)
			require.NoError(t, err)
			assert.Equal(t, tc.band, c.Band)
			assert.Equal(t, tc.percent, c.Percent.String())
			assert.Equal(t, tc.amount, c.Amount.String())
			assert.Equal(t, tc.capped, c.Capped)
			assert.Equal(t, tc.excluded, c.Excluded)
		})
	}
}

func TestCreditErrors(t *testing.T) {
	d := decimal.RequireFromString
	ok := []Band{{Below: d("99"), Credit: d("10")}}
	tests := []struct {
		name     string
		policy   CreditPolicy
		measured string
		fee      string
		field    string
	}{
		{"no bands", CreditPolicy{}, "99", "1", "bands"},
		{"band above 100", CreditPolicy{Bands: []Band{{Below: d("101"), Credit: d("1")}}}, "99", "1", "bands[0].below"},
		{"negative credit", CreditPolicy{Bands: []Band{{Below: d("99"), Credit: d("-1")}}}, "99", "1", "bands[0].credit"},
		{"duplicate band", CreditPolicy{Bands: append(ok, ok[0])}, "99", "1", "bands[1].below"},
		{"lower band credits less", CreditPolicy{Bands: append(ok, Band{Below: d("95"), Credit: d("5")})}, "99", "1", "bands[1].credit"},
		{"cap above 100", CreditPolicy{Bands: ok, Cap: d("150")}, "99", "1", "cap"},
		{"measured above 100", CreditPolicy{Bands: ok}, "100.1", "1", "measured"},
		{"negative fee", CreditPolicy{Bands: ok}, "99", "-1", "fee"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.policy.Apply(d(tc.measured), d(tc.fee))
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "got %v", err)
		})
	}
}

func TestComplianceOfAPastPeriodDoesNotDependOnWhenItIsRun(t *testing.T) {
	e := tmEngine(t, "", tmResolution())
	apr := func(d, hh int) time.Time { return time.Date(2025, 4, d, hh, 0, 0, 0, time.UTC) }
	march := ReportPeriod{From: tmDay(1, 0, 0), To: apr(1, 0)}
	april := ReportPeriod{From: apr(1, 0), To: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
	record := func(n byte) State { return State{Record: itsm.Ref{Kind: "incident", ID: uuid.UUID{15: n}}} }

	// Straddling: opened on 31 March at 22:00 as P1 (4h), breached on 1
	// April at 02:00, resolved at 03:00.
	straddling := []Observation{tmObs(tmDay(31, 22, 0), 1, itsm.CategoryActive), tmObs(apr(1, 3), 1, itsm.CategoryResolved)}
	// Reopened: met on 10 March within its 16h, reopened on 2 April and
	// resolved a day later, so the resumed cycle breaches in April.
	reopened := []Observation{
		tmObs(tmDay(10, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(10, 10, 0), 3, itsm.CategoryResolved),
		tmObs(apr(2, 9), 3, itsm.CategoryActive), tmObs(apr(3, 9), 3, itsm.CategoryResolved),
	}
	// timersAsOf returns both records' timers as a host would hold them at
	// the instant at.
	timersAsOf := func(at time.Time) []Timer {
		var out []Timer
		for i, hist := range [][]Observation{straddling, reopened} {
			st := record(byte(i + 1))
			for _, o := range hist {
				if o.At.After(at) {
					break
				}
				st, _ = tmFeed(t, e, st, o)
			}
			st, _, err := e.Advance(st, at)
			require.NoError(t, err)
			out = append(out, st.Timers...)
		}
		return out
	}
	type figures struct{ met, breached, inFlight, inFlightBreached int }
	report := func(ts []Timer, p ReportPeriod) figures {
		rows, err := Compliance(ts, ComplianceOptions{Period: p})
		require.NoError(t, err)
		var f figures
		for _, r := range rows {
			f.met += r.Met
			f.breached += r.Breached
			f.inFlight += r.InFlight
			f.inFlightBreached += r.InFlightBreached
		}
		return f
	}
	tests := []struct {
		name   string
		period ReportPeriod
		runAt  time.Time
		want   figures
	}{
		{"march, run at its end", march, apr(1, 0), figures{met: 1, inFlight: 1}},
		{"march, run after the reopen", march, apr(2, 12), figures{met: 1, inFlight: 1}},
		{"march, run in may", march, time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC), figures{met: 1, inFlight: 1}},
		{"april, run in may", april, time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC), figures{breached: 1}},
		{"april, run while the reopened cycle is live", april, apr(2, 12), figures{breached: 1, inFlight: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, report(timersAsOf(tc.runAt), tc.period))
		})
	}
	t.Run("in flight at the end is breached only if it breached before the end", func(t *testing.T) {
		ts := timersAsOf(apr(1, 3))
		rows, err := Compliance(ts, ComplianceOptions{Period: ReportPeriod{From: tmDay(1, 0, 0), To: apr(1, 1)}})
		require.NoError(t, err)
		var inFlight, breached int
		for _, r := range rows {
			inFlight += r.InFlight
			breached += r.InFlightBreached
		}
		assert.Equal(t, 1, inFlight)
		assert.Zero(t, breached, "it breached at 02:00, after the period")
	})
}

// TestComplianceOfAPastPeriodSurvivesLaterRetargets runs a report on a
// past period at several instants, the record's timers moving on in
// between (reopens, retroactive retargets onto shorter goals, priority
// changes), and requires the same figures each time.
func TestComplianceOfAPastPeriodSurvivesLaterRetargets(t *testing.T) {
	target := func(retarget RetargetPolicy) Target {
		return Target{
			Metric: "resolution", Stop: tmDone, Reopen: ReopenResume, Retarget: retarget,
			Goals: []Goal{
				{Name: "p1", When: PriorityIn(1), Within: time.Hour},
				{Name: "p2", When: PriorityIn(2), Within: 2 * time.Hour},
				{Name: "other", Within: 4 * time.Hour},
			},
		}
	}
	apr := func(d, hh, mm int) time.Time { return time.Date(2025, 4, d, hh, mm, 0, 0, time.UTC) }
	march := ReportPeriod{From: tmDay(1, 0, 0), To: apr(1, 0, 0)}
	// endsAt2330 ends half an hour before midnight, so that a cycle
	// started on the 31st at 21:00 is in flight at its end.
	endsAt2330 := ReportPeriod{From: tmDay(1, 0, 0), To: tmDay(31, 23, 30)}
	type figures struct {
		met, breached, inFlight, inFlightBreached int
	}
	tests := []struct {
		name     string
		retarget RetargetPolicy
		history  []Observation
		period   ReportPeriod
		// runAt lists when the report is run (the timers advanced to
		// then), the period's end first.
		runAt []time.Time
		// want holds the figures per priority row; an in-flight cycle's
		// row follows the record's latest priority, so those cases sum
		// every row into the zero priority.
		want map[itsm.Priority]figures
	}{
		{
			name: "met in march, recounted after a reopen at p1 to a breach in march", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(10, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(10, 12, 0), 3, itsm.CategoryResolved), // 3h of 4h
				tmObs(apr(2, 9, 0), 3, itsm.CategoryActive),
				tmObs(apr(2, 10, 0), 1, itsm.CategoryActive), // 1h, recounted: breached on 10 March at 10:00
				tmObs(apr(2, 11, 0), 1, itsm.CategoryResolved),
			},
			period: march, runAt: []time.Time{apr(1, 0, 0), apr(2, 9, 30), apr(2, 10, 30), apr(3, 0, 0)},
			want: map[itsm.Priority]figures{3: {met: 1}},
		},
		{
			name: "met in march at p3, reopened at p1", retarget: RetargetKeepElapsed,
			history: []Observation{
				tmObs(tmDay(10, 9, 0), 3, itsm.CategoryActive), tmObs(tmDay(10, 10, 0), 3, itsm.CategoryResolved),
				tmObs(apr(2, 9, 0), 1, itsm.CategoryActive),
				tmObs(apr(2, 12, 0), 1, itsm.CategoryResolved),
			},
			period: march, runAt: []time.Time{apr(1, 0, 0), apr(2, 9, 30), apr(3, 0, 0)},
			want: map[itsm.Priority]figures{3: {met: 1}},
		},
		{
			name: "breached in march, reopened and recounted to an earlier breach", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(10, 9, 0), 2, itsm.CategoryActive), tmObs(tmDay(10, 12, 0), 2, itsm.CategoryResolved), // 3h of 2h
				tmObs(apr(2, 9, 0), 1, itsm.CategoryActive),
				tmObs(apr(2, 9, 30), 1, itsm.CategoryResolved),
			},
			period: march, runAt: []time.Time{apr(1, 0, 0), apr(2, 9, 10), apr(3, 0, 0)},
			want: map[itsm.Priority]figures{2: {breached: 1}},
		},
		{
			name: "in flight at the end, recounted afterwards to a breach before it", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(31, 21, 0), 3, itsm.CategoryActive),
				tmObs(apr(1, 0, 30), 1, itsm.CategoryActive), // breached at 22:00 on the 31st
			},
			period: endsAt2330, runAt: []time.Time{tmDay(31, 23, 30), apr(1, 0, 30), apr(2, 0, 0)},
			want: map[itsm.Priority]figures{0: {inFlight: 1}},
		},
		{
			name: "in flight at the end, recounted twice afterwards", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(31, 21, 0), 3, itsm.CategoryActive),
				tmObs(apr(1, 0, 0), 2, itsm.CategoryActive),  // breached at 23:00 on the 31st
				tmObs(apr(1, 0, 10), 1, itsm.CategoryActive), // moved back to 22:00
			},
			period: endsAt2330, runAt: []time.Time{tmDay(31, 23, 30), apr(1, 0, 5), apr(1, 0, 10), apr(2, 0, 0)},
			want: map[itsm.Priority]figures{0: {inFlight: 1}},
		},
		{
			name: "breached before the end, the breach moved back afterwards", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(31, 21, 0), 2, itsm.CategoryActive), // breaches at 23:00
				tmObs(apr(1, 0, 0), 1, itsm.CategoryActive),     // moved back to 22:00
			},
			period: endsAt2330, runAt: []time.Time{tmDay(31, 23, 30), apr(1, 0, 0), apr(2, 0, 0)},
			want: map[itsm.Priority]figures{0: {inFlight: 1, inFlightBreached: 1}},
		},
		{
			name: "recounted at the period's end itself", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(31, 21, 0), 3, itsm.CategoryActive),
				tmObs(tmDay(31, 23, 30), 1, itsm.CategoryActive), // at the end: belongs to the next period
			},
			period: endsAt2330, runAt: []time.Time{tmDay(31, 23, 30), apr(2, 0, 0)},
			want: map[itsm.Priority]figures{0: {inFlight: 1}},
		},
		{
			name: "in flight at the end, retargeted to a longer goal afterwards", retarget: RetargetRetroactive,
			history: []Observation{
				tmObs(tmDay(31, 21, 0), 1, itsm.CategoryActive), // breaches at 22:00
				tmObs(apr(1, 0, 0), 3, itsm.CategoryActive),     // 4h: a breach never un-fires
			},
			period: endsAt2330, runAt: []time.Time{tmDay(31, 23, 30), apr(2, 0, 0)},
			want: map[itsm.Priority]figures{0: {inFlight: 1, inFlightBreached: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tmEngine(t, "", target(tc.retarget))
			for _, at := range tc.runAt {
				st := State{Record: tmRecord}
				for _, o := range tc.history {
					if o.At.After(at) {
						break
					}
					st, _ = tmFeed(t, e, st, o)
				}
				st, _, err := e.Advance(st, at)
				require.NoError(t, err)
				rows, err := Compliance(st.Timers, ComplianceOptions{Period: tc.period})
				require.NoError(t, err)
				got := map[itsm.Priority]figures{}
				_, summed := tc.want[0]
				for _, r := range rows {
					p := r.Priority
					if summed {
						p = 0
					}
					f := got[p]
					f.met, f.breached = f.met+r.Met, f.breached+r.Breached
					f.inFlight, f.inFlightBreached = f.inFlight+r.InFlight, f.inFlightBreached+r.InFlightBreached
					got[p] = f
				}
				assert.Equal(t, tc.want, got, "run at %v", at)
			}
		})
	}
}

// TestComplianceReadsTheDecision checks that a decided cycle is counted
// by its recorded decision, and one without (completed before decisions
// were recorded, or built by hand) as it stands.
func TestComplianceReadsTheDecision(t *testing.T) {
	march := ReportPeriod{From: tmDay(1, 0, 0), To: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)}
	decided := func(tm Timer, breached bool, p itsm.Priority) Timer {
		tm.Decided, tm.DecidedBreached, tm.DecidedPriority = true, breached, p
		return tm
	}
	// recounted is a cycle met on the 10th whose breach a recount after a
	// reopen later put on the 10th at 10:00.
	recounted := tmCompleted(1, 1, 5*time.Hour, true, tmDay(10, 12, 0))
	recounted.BreachedAt = tmDay(10, 10, 0)
	type row struct {
		priority       itsm.Priority
		met, breached  int
		inFlight, late int
	}
	tests := []struct {
		name  string
		timer Timer
		want  row
	}{
		{"decided met, breached since", decided(recounted, false, 3), row{priority: 3, met: 1}},
		{"decided breached", decided(tmCompleted(1, 2, 5*time.Hour, true, tmDay(10, 12, 0)), true, 2), row{priority: 2, breached: 1}},
		{"decided at priority zero", decided(tmCompleted(1, 4, time.Hour, false, tmDay(10, 12, 0)), false, 0), row{priority: 0, met: 1}},
		{"no decision: as it stands", recounted, row{priority: 1, breached: 1}},
		{"decided in april: in flight at march's end, by its latest priority", decided(tmCompleted(1, 1, time.Hour, false,
			time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)), false, 3), row{priority: 1, inFlight: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Compliance([]Timer{tc.timer}, ComplianceOptions{Period: march})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			r := rows[0]
			assert.Equal(t, tc.want, row{r.Priority, r.Met, r.Breached, r.InFlight, r.InFlightBreached})
		})
	}
}
