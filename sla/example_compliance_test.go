package sla_test

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// A monthly compliance report with a service credit: ten P1 incidents in
// March, two of them resolved late, and the credit the contract's bands give
// for the resulting attainment.
func Example_monthlyComplianceWithServiceCredit() {
	gold := sla.Agreement{
		ID: "gold", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{{
			Metric: "resolution",
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals:  []sla.Goal{{Name: "p1", When: sla.PriorityIn(1), Within: 4 * time.Hour}},
		}},
	}
	engine, err := sla.NewEngine([]sla.Agreement{gold}, nil)
	if err != nil {
		panic(err)
	}
	// How long each incident took to resolve; the one at exactly 4h is met.
	took := []time.Duration{
		time.Hour, 90 * time.Minute, 2 * time.Hour, 2 * time.Hour, 150 * time.Minute,
		3 * time.Hour, 210 * time.Minute, 4 * time.Hour, 5 * time.Hour, 6 * time.Hour,
	}
	var timers []sla.Timer
	for i, d := range took {
		opened := time.Date(2025, 3, 3+2*i, 10, 0, 0, 0, time.UTC)
		st, _, err := engine.Replay(itsm.Ref{Kind: "incident", ID: uuid.UUID{15: byte(i + 1)}}, []sla.Observation{
			{At: opened, Priority: 1, State: itsm.CategoryActive},
			{At: opened.Add(d), Priority: 1, State: itsm.CategoryResolved},
		})
		if err != nil {
			panic(err)
		}
		timers = append(timers, st.Timers...)
	}

	rows, err := sla.Compliance(timers, sla.ComplianceOptions{Period: sla.ReportPeriod{
		From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
	}})
	if err != nil {
		panic(err)
	}
	for _, r := range rows {
		fmt.Printf("%s %s P%d: met %d, breached %d, attainment %s%%\n", r.Agreement, r.Metric, r.Priority, r.Met, r.Breached, r.Attainment)
		for _, p := range r.BusinessElapsed {
			fmt.Printf("  p%d %s\n", p.Rank, p.Value)
		}
	}

	d := decimal.RequireFromString
	policy := sla.CreditPolicy{
		Bands: []sla.Band{
			{Below: d("95"), Credit: d("5")},
			{Below: d("90"), Credit: d("10")},
			{Below: d("85"), Credit: d("15")},
		},
		Cap: d("12.5"),
	}
	credit, err := policy.Apply(rows[0].Attainment, d("8000.00"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("credit: %s%% of the fee (capped %v) = %s\n", credit.Percent, credit.Capped, credit.Amount.StringFixed(2))

	// Output:
	// gold resolution P1: met 8, breached 2, attainment 80%
	//   p50 2h30m0s
	//   p90 5h0m0s
	//   p95 6h0m0s
	// credit: 12.5% of the fee (capped true) = 1000.00
}
