package sla

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

var creditHundred = decimal.NewFromInt(100)

// Band is one tier of a service credit scheme: when the measured figure
// (attainment or availability, in percent) is below Below, the customer is
// credited Credit percent of the fee.
type Band struct {
	Below  decimal.Decimal `json:"below"`
	Credit decimal.Decimal `json:"credit"`
}

// CreditPolicy turns a measured percentage into a service credit: the most
// severe band the figure falls under applies (bands do not add up), then
// the cap.
type CreditPolicy struct {
	// Bands are the tiers, in any order; Below values are distinct, above 0
	// and at most 100, and a lower Below never credits less.
	Bands []Band `json:"bands"`
	// Cap is the most that can be credited, in percent of the fee, above 0
	// and at most 100. Zero means no cap beyond 100 %.
	Cap decimal.Decimal `json:"cap"`
	// Exclude waives the credit altogether for the period when set, e.g.
	// when the customer is in breach of the agreement or a force majeure
	// clause applies. The reason is echoed in the result.
	Exclude string `json:"exclude,omitempty"`
}

// Credit is the outcome of CreditPolicy.Apply.
type Credit struct {
	// Measured is the figure the policy was applied to.
	Measured decimal.Decimal `json:"measured"`
	// Band is the index in Bands of the band that applied, or -1.
	Band int `json:"band"`
	// Percent is the credit in percent of the fee, after the cap.
	Percent decimal.Decimal `json:"percent"`
	// Amount is Fee × Percent ÷ 100, exact (round it to the currency at
	// invoicing, not before).
	Amount decimal.Decimal `json:"amount"`
	// Capped reports that the cap lowered the credit.
	Capped bool `json:"capped,omitempty"`
	// Excluded echoes CreditPolicy.Exclude when the credit was waived.
	Excluded string `json:"excluded,omitempty"`
}

// Validate returns a *itsm.ValidationError naming "bands[i].below",
// "bands[i].credit" or "cap" when the policy is malformed.
func (p CreditPolicy) Validate() error {
	var errs itsm.FieldErrors
	if len(p.Bands) == 0 {
		errs.Add("bands", "must not be empty")
	}
	for i, b := range p.Bands {
		at := fmt.Sprintf("bands[%d]", i)
		if !b.Below.IsPositive() || b.Below.GreaterThan(creditHundred) {
			errs.Add(at+".below", "must be above 0 and at most 100")
		}
		if b.Credit.IsNegative() || b.Credit.GreaterThan(creditHundred) {
			errs.Add(at+".credit", "must be between 0 and 100")
		}
		for j, o := range p.Bands[:i] {
			switch {
			case o.Below.Equal(b.Below):
				errs.Addf(at+".below", "%s is also the threshold of bands[%d]", b.Below, j)
			case o.Below.LessThan(b.Below) && o.Credit.LessThan(b.Credit),
				b.Below.LessThan(o.Below) && b.Credit.LessThan(o.Credit):
				errs.Addf(at+".credit", "is not consistent with bands[%d]: a lower threshold must not credit less", j)
			}
		}
	}
	if p.Cap.IsNegative() || p.Cap.GreaterThan(creditHundred) {
		errs.Add("cap", "must be between 0 (no cap) and 100")
	}
	return errs.Err()
}

// Apply returns the credit owed for a measured attainment or availability
// percentage (e.g. ComplianceRow.Attainment, or an availability figure)
// against fee. A figure equal to a band's Below is not below it. Errors: a
// *itsm.ValidationError naming "measured" (outside 0–100), "fee" (negative)
// or a policy field.
func (p CreditPolicy) Apply(measured, fee decimal.Decimal) (Credit, error) {
	var errs itsm.FieldErrors
	errs.Merge("", p.Validate())
	if measured.IsNegative() || measured.GreaterThan(creditHundred) {
		errs.Add("measured", "must be between 0 and 100")
	}
	if fee.IsNegative() {
		errs.Add("fee", "must not be negative")
	}
	if err := errs.Err(); err != nil {
		return Credit{}, err
	}
	c := Credit{Measured: measured, Band: -1, Percent: decimal.Zero, Amount: decimal.Zero}
	if p.Exclude != "" {
		c.Excluded = p.Exclude
		return c, nil
	}
	for i, b := range p.Bands {
		if measured.LessThan(b.Below) && (c.Band < 0 || b.Below.LessThan(p.Bands[c.Band].Below)) {
			c.Band = i
		}
	}
	if c.Band < 0 {
		return c, nil
	}
	c.Percent = p.Bands[c.Band].Credit
	if p.Cap.IsPositive() && c.Percent.GreaterThan(p.Cap) {
		c.Percent, c.Capped = p.Cap, true
	}
	c.Amount = fee.Mul(c.Percent).Shift(-2)
	return c, nil
}
