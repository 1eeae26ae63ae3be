package sla

import (
	"math"
	"testing"

	"github.com/itsmkit/itsmkit/itsm"
)

// TestConditionTables checks that a condition compileCondition tabulates on
// the state or the priority holds, through holds, exactly where eval says it
// does, for every state category and priorities inside and outside the table.
func TestConditionTables(t *testing.T) {
	leaves := []*Condition{
		StateIn(itsm.CategoryWaiting),
		StateIn(itsm.CategoryActive, itsm.CategoryResolved, itsm.CategoryClosed),
		{Field: "state", Op: OpNotIn, Values: []string{"new", "canceled"}},
		{Field: "state", Op: OpExists},
		{Field: "state", Op: OpMissing},
		{Field: "state", Op: OpLT, Values: []string{"3"}},
		PriorityIn(1),
		PriorityIn(2, 3, 4, 5),
		{Field: "priority", Op: OpNotIn, Values: []string{"1", "63", "64"}},
		{Field: "priority", Op: OpLE, Values: []string{"2"}},
		{Field: "priority", Op: OpGT, Values: []string{"62"}},
		{Field: "priority", Op: OpGE, Values: []string{"-1"}},
		{Field: "priority", Op: OpExists},
		{Field: "priority", Op: OpMissing},
		FieldChanged("state"),
		FieldChanged("priority"),
	}
	var conds []*Condition
	for i, a := range leaves {
		conds = append(conds, a, Not(a))
		for _, b := range leaves[i:] {
			conds = append(conds, AllOf(a, b), AnyOf(a, Not(b)), Not(AnyOf(a, b)))
		}
	}
	prios := []itsm.Priority{math.MinInt, -1, 64, 65, 1000, math.MaxInt}
	for p := range 64 {
		prios = append(prios, itsm.Priority(p))
	}
	tabulated := 0
	for _, c := range conds {
		p, err := compileCondition(c)
		if err != nil {
			t.Fatal(err)
		}
		if p.byState != nil || p.tabulated {
			tabulated++
		}
		for _, seen := range []bool{false, true} {
			m := condMemory{seen: seen, values: map[string]string{"state": "new", "priority": "2"}}
			for s := range 256 {
				for _, pr := range prios {
					o := Observation{State: itsm.Category(s), Priority: pr}
					if got, want := p.holds(&o, &m, false), p.eval(&o, &m); got != want {
						t.Fatalf("%+v at state %d, priority %d: holds %v, eval %v", c, s, pr, got, want)
					}
				}
			}
		}
	}
	if tabulated == 0 {
		t.Fatal("no condition was tabulated")
	}
}
