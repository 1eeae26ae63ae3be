package itsm_test

import (
	"errors"
	"fmt"

	"github.com/itsmkit/itsmkit/itsm"
)

func ExamplePriorityMatrix() {
	m := itsm.DefaultPriorityMatrix()
	p, _ := m.Lookup(2, 1) // impact 2 - Medium, urgency 1 - High
	level, _ := m.PriorityLevel(p)
	fmt.Println("priority:", level)

	// Exports from other tools carry labelled values; both forms parse.
	u, _ := m.ParseUrgency("3 - Low")
	i, _ := m.ParseImpact("High")
	p, _ = m.Lookup(i, u)
	level, _ = m.PriorityLevel(p)
	fmt.Println("priority:", level)

	_, err := m.Lookup(4, 1)
	var ve *itsm.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field+":", ve.Reason)
	}
	// Output:
	// priority: 2 - High
	// priority: 3 - Moderate
	// impact: 4 is not one of 1, 2, 3
}

func ExampleNewPriorityMatrix() {
	// A desk that grades impact on four levels and urgency on two.
	m, err := itsm.NewPriorityMatrix(itsm.MatrixSpec{
		Impacts:    []itsm.Level{{1, "Enterprise"}, {2, "Site"}, {3, "Team"}, {4, "Person"}},
		Urgencies:  []itsm.Level{{1, "Now"}, {2, "Soon"}},
		Priorities: []itsm.Level{{1, "P1"}, {2, "P2"}, {3, "P3"}, {4, "P4"}},
		Cells:      [][]itsm.Priority{{1, 2}, {2, 3}, {3, 4}, {3, 4}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(m)

	_, err = itsm.NewPriorityMatrix(itsm.MatrixSpec{
		Impacts:    []itsm.Level{{1, "High"}, {2, "Low"}},
		Urgencies:  []itsm.Level{{1, "High"}},
		Priorities: []itsm.Level{{1, "P1"}},
		Cells:      [][]itsm.Priority{{1}, {2}},
	})
	fmt.Println(err)
	// Output:
	// impact \ urgency   1 - Now   2 - Soon
	// 1 - Enterprise     1 - P1    2 - P2
	// 2 - Site           2 - P2    3 - P3
	// 3 - Team           3 - P3    4 - P4
	// 4 - Person         3 - P3    4 - P4
	// invalid cells[1][0]: priority 2 is not one of the declared priorities
}

type Status string
type Action string

func ExampleNewLifecycle() {
	lc, err := itsm.NewLifecycle(itsm.LifecycleSpec[Status, Action]{
		Name:    "request",
		Initial: "submitted",
		States: []itsm.StateDef[Status]{
			{State: "submitted", Category: itsm.CategoryNew},
			{State: "fulfilling", Category: itsm.CategoryActive},
			{State: "awaiting_user", Category: itsm.CategoryWaiting},
			{State: "fulfilled", Category: itsm.CategoryClosed, Terminal: true},
			{State: "withdrawn", Category: itsm.CategoryCanceled, Terminal: true},
		},
		Transitions: []itsm.Transition[Status, Action]{
			{From: "submitted", Action: "start", To: "fulfilling"},
			{From: "fulfilling", Action: "ask", To: "awaiting_user"},
			{From: "awaiting_user", Action: "answer", To: "fulfilling"},
			{From: "fulfilling", Action: "fulfil", To: "fulfilled"},
			{From: "submitted", Action: "withdraw", To: "withdrawn"},
			{From: "awaiting_user", Action: "withdraw", To: "withdrawn"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := lc.Next("submitted", "start")
	cat, _ := lc.Category(s)
	fmt.Println("after start:", s, "("+cat.String()+")")
	fmt.Println("from fulfilling:", lc.Actions("fulfilling"))

	_, err = lc.Next("fulfilled", "withdraw")
	fmt.Println(errors.Is(err, itsm.ErrInvalidTransition), err)

	// A service checks that a desk's own lifecycle has what it relies on.
	err = lc.Require(itsm.Requirements{For: "request.Service", Categories: []itsm.Category{itsm.CategoryResolved}})
	fmt.Println(err)
	// Output:
	// after start: fulfilling (active)
	// from fulfilling: [ask fulfil]
	// true request: cannot withdraw from fulfilled: fulfilled is terminal
	// invalid states: request.Service needs a state in category resolved; lifecycle "request" has none
}

func ExampleLifecycle_Mermaid() {
	lc, _ := itsm.NewLifecycle(itsm.LifecycleSpec[Status, Action]{
		Name:    "approval",
		Initial: "requested",
		States: []itsm.StateDef[Status]{
			{State: "requested", Category: itsm.CategoryNew},
			{State: "approved", Category: itsm.CategoryClosed, Terminal: true},
			{State: "rejected", Category: itsm.CategoryCanceled, Terminal: true},
		},
		Transitions: []itsm.Transition[Status, Action]{
			{From: "requested", Action: "approve", To: "approved"},
			{From: "requested", Action: "reject", To: "rejected"},
		},
	})
	fmt.Print(lc.Mermaid())
	// Output:
	// stateDiagram-v2
	//     [*] --> requested
	//     requested --> approved : approve
	//     requested --> rejected : reject
	//     approved --> [*]
	//     rejected --> [*]
	//     classDef new fill:#e3f2fd
	//     class requested new
	//     classDef closed fill:#eeeeee
	//     class approved closed
	//     classDef canceled fill:#f5f5f5
	//     class rejected canceled
}

func ExampleFieldErrors() {
	validate := func(title string, impact itsm.Impact) error {
		var errs itsm.FieldErrors
		if title == "" {
			errs.Add("title", "must not be empty")
		}
		if impact < 1 || impact > 3 {
			errs.Addf("impact", "%d is not between 1 and 3", impact)
		}
		return errs.Err()
	}
	err := validate("", 7)
	fmt.Println(errors.Is(err, itsm.ErrInvalid))
	var ve *itsm.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.All() {
			fmt.Println(f)
		}
	}
	// Output:
	// true
	// title: must not be empty
	// impact: 7 is not between 1 and 3
}

func ExamplePractice() {
	p, _ := itsm.ParsePractice("Service level management")
	fmt.Println(p.Name(), "|", p.Group().Name(), "| ISO/IEC 20000-1", p.ISOClause())
	fmt.Println(p.Purpose())
	fmt.Println(p.Activities())
	fmt.Println(itsm.RestoreServiceStream())
	// Output:
	// Service level management | Service management practices | ISO/IEC 20000-1 8.3.3
	// Agree business-based targets for service levels, then measure, report and manage against them.
	// [plan engage improve]
	// Restore a service: engage → deliver_and_support → improve
}
