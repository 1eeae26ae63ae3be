// Command servicedesk is itsmkit's main example: a service desk built on the
// library's embedded defaults. It grows with the library; today it shows the
// kernel at work: the priority matrix a desk classifies with, the incident
// lifecycle it enforces (as a Mermaid diagram), a short incident walked
// through that lifecycle with its history, and the ITIL 4 practices the
// library models.
//
//	go run ./examples/servicedesk
//	go run ./examples/servicedesk -format dot
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Status and Action are the incident lifecycle's states and actions. The
// incident package will own them; until then the example declares the
// baseline of DOMAIN.md §3 itself.
type (
	Status string
	Action string
)

func incidentLifecycle() (*itsm.Lifecycle[Status, Action], error) {
	return itsm.NewLifecycle(itsm.LifecycleSpec[Status, Action]{
		Name:    "incident",
		Initial: "new",
		States: []itsm.StateDef[Status]{
			{State: "new", Category: itsm.CategoryNew, Label: "New"},
			{State: "in_progress", Category: itsm.CategoryActive, Label: "In Progress"},
			{State: "on_hold", Category: itsm.CategoryWaiting, Label: "On Hold"},
			{State: "resolved", Category: itsm.CategoryResolved, Label: "Resolved"},
			{State: "closed", Category: itsm.CategoryClosed, Terminal: true, Label: "Closed"},
			{State: "canceled", Category: itsm.CategoryCanceled, Terminal: true, Label: "Canceled"},
		},
		Transitions: []itsm.Transition[Status, Action]{
			{From: "new", Action: "assign", To: "in_progress"},
			{From: "in_progress", Action: "reassign", To: "in_progress"},
			{From: "new", Action: "hold", To: "on_hold"},
			{From: "in_progress", Action: "hold", To: "on_hold"},
			{From: "on_hold", Action: "resume", To: "in_progress"},
			{From: "new", Action: "resolve", To: "resolved"},
			{From: "in_progress", Action: "resolve", To: "resolved"},
			{From: "on_hold", Action: "resolve", To: "resolved"},
			{From: "resolved", Action: "reopen", To: "in_progress"},
			{From: "resolved", Action: "close", To: "closed"},
			{From: "new", Action: "cancel", To: "canceled"},
			{From: "in_progress", Action: "cancel", To: "canceled"},
			{From: "on_hold", Action: "cancel", To: "canceled"},
		},
	})
}

func main() {
	format := flag.String("format", "mermaid", "diagram format for lifecycles: mermaid or dot")
	flag.Parse()
	if err := run(os.Stdout, *format); err != nil {
		fmt.Fprintln(os.Stderr, "servicedesk:", err)
		os.Exit(1)
	}
}

// historyEntry is one line of an incident's audit trail.
type historyEntry struct {
	from, to Status
	action   Action
	actor    string
	at       time.Time
}

func run(w io.Writer, format string) error {
	if format != "mermaid" && format != "dot" {
		return itsm.NewValidationError("format", fmt.Sprintf("%q is not mermaid or dot", format))
	}
	matrix := itsm.DefaultPriorityMatrix()
	lc, err := incidentLifecycle()
	if err != nil {
		return err
	}

	section(w, "Priority matrix (impact × urgency)")
	fmt.Fprint(w, matrix)

	section(w, "Incident lifecycle")
	if format == "dot" {
		fmt.Fprint(w, lc.DOT())
	} else {
		fmt.Fprint(w, lc.Mermaid())
	}

	section(w, "An incident walked through the lifecycle")
	impact, _ := matrix.ParseImpact("2 - Medium")
	urgency, _ := matrix.ParseUrgency("High")
	p, err := matrix.Lookup(impact, urgency)
	if err != nil {
		return err
	}
	level, _ := matrix.PriorityLevel(p)
	fmt.Fprintf(w, "opened with impact %d, urgency %d: priority %s\n", impact, urgency, level)

	// A fixed clock that ticks a few minutes per step keeps the output stable.
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := itsm.Clock(func() time.Time { now = now.Add(7 * time.Minute); return now })
	status := lc.Initial()
	steps := []struct {
		action Action
		actor  string
	}{
		{"assign", "dispatcher"}, {"hold", "ana"}, {"resume", "ana"},
		{"resolve", "ana"}, {"close", "caller"}, {"reopen", "caller"},
	}
	for _, s := range steps {
		next, err := lc.Next(status, s.action)
		if err != nil {
			fmt.Fprintf(w, "       refused: %v\n", err)
			continue
		}
		h := historyEntry{from: status, to: next, action: s.action, actor: s.actor, at: clock.Now()}
		fmt.Fprintf(w, "%s  %-8s %-11s -> %-11s by %s\n", h.at.Format("15:04"), h.action, h.from, h.to, h.actor)
		status = next
	}
	cat, _ := lc.Category(status)
	fmt.Fprintf(w, "final state: %s (%s)\n", status, cat)

	section(w, "ITIL 4 practices")
	for _, g := range itsm.PracticeGroups() {
		names := []string{}
		for _, pr := range itsm.PracticesIn(g) {
			names = append(names, pr.Name())
		}
		fmt.Fprintf(w, "%s (%d): %s\n", g.Name(), len(names), strings.Join(names, ", "))
	}
	fmt.Fprintln(w, itsm.RestoreServiceStream())
	return nil
}

func section(w io.Writer, title string) {
	fmt.Fprintf(w, "\n== %s ==\n", title)
}
