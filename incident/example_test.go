package incident_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// exampleDesk builds a service on the embedded store with a clock that
// ticks one minute per reading.
func exampleDesk(engine *sla.Engine) (*incident.Service, *itsmtest.Clock) {
	cfg, err := storage.IncidentConfig(memory.New())
	if err != nil {
		panic(err)
	}
	clock := itsmtest.NewSteppingClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), time.Minute)
	cfg.Clock, cfg.IDs, cfg.SLA = clock.Func(), itsmtest.NewIDs(1), engine
	svc, err := incident.NewService(cfg)
	if err != nil {
		panic(err)
	}
	return svc, clock
}

var (
	ana = itsm.Actor{ID: "ana", Name: "Ana", Roles: []string{incident.DefaultOverrideRole, incident.DefaultMajorRole}}
	bob = itsm.Actor{ID: "bob", Name: "Bob"}
)

// Opening and classifying: priority comes from impact and urgency, and
// follows them when they change.
func ExampleService_Open() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	res, err := svc.Open(ctx, "acme", ana, incident.OpenInput{
		Title: "VPN drops every hour", Caller: "bob", Impact: 2, Urgency: 2, Group: "network",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	inc := res.Incident
	fmt.Println(inc.Number(), inc.Status(), "priority", inc.Priority(), res.Events[0].Type)

	urgent := itsm.Urgency(1)
	res, _ = svc.Update(ctx, "acme", inc.ID(), ana, incident.Update{Urgency: &urgent})
	fmt.Println("after urgency 1: priority", res.Incident.Priority())

	_, err = svc.Open(ctx, "acme", ana, incident.OpenInput{Caller: "bob", Impact: 7, Urgency: 1})
	var ve *itsm.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.All() {
			fmt.Println("refused:", f)
		}
	}
	// Output:
	// INC0000001 new priority 3 incident.opened
	// after urgency 1: priority 2
	// refused: title: must not be empty
	// refused: impact: 7 is not one of 1, 2, 3
}

// Assignment and escalation: a functional escalation hands the incident to
// another group and counts as a reassignment.
func ExampleService_Escalate() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: "ERP is slow", Caller: "bob", Impact: 2, Urgency: 2, Group: "service-desk"})
	id := res.Incident.ID()
	res, _ = svc.Assign(ctx, "acme", id, ana, "", "ana", "")
	fmt.Println(res.Incident.Status())
	res, _ = svc.Escalate(ctx, "acme", id, ana, incident.EscalateFunctional, "database", "query plans regressed")
	d := res.Incident.Data()
	fmt.Println(d.Group, "reassignments:", d.Reassignments, "escalations:", d.Escalations)
	// Output:
	// in_progress
	// database reassignments: 1 escalations: 1
}

// Holding for the caller: the question is a comment the caller sees, and
// the caller's reply resumes the incident.
func ExampleService_Hold() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: "Cannot print", Caller: "bob", Impact: 3, Urgency: 3})
	id := res.Incident.ID()
	_, _ = svc.Assign(ctx, "acme", id, ana, "workplace", "ana", "")
	res, _ = svc.Hold(ctx, "acme", id, ana, incident.HoldAwaitingCaller, "Which printer?")
	fmt.Println(res.Incident.Status(), res.Incident.Data().HoldReason)
	res, _ = svc.Comment(ctx, "acme", id, bob, "The one by the lifts", incident.CallerComment)
	fmt.Println(res.Incident.Status())
	for _, ev := range res.Events {
		fmt.Println(ev.Type)
	}
	// Output:
	// on_hold awaiting_caller
	// in_progress
	// incident.resumed
	// incident.commented
}

// Resolving, reopening and closing; a closed incident is final under the
// default policy.
func ExampleService_Resolve() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: "Wi-Fi down in room 4", Caller: "bob", Impact: 3, Urgency: 2})
	id := res.Incident.ID()
	_, err := svc.Resolve(ctx, "acme", id, ana, incident.ResolvedPermanently, "")
	fmt.Println(err)
	_, _ = svc.Resolve(ctx, "acme", id, ana, incident.ResolvedPermanently, "Replaced the access point")
	res, _ = svc.Reopen(ctx, "acme", id, bob, "Down again after lunch")
	fmt.Println(res.Incident.Status(), "reopens:", res.Incident.Data().Reopens)
	_, _ = svc.Resolve(ctx, "acme", id, ana, incident.ResolvedPermanently, "Second access point replaced")
	res, _ = svc.Close(ctx, "acme", id, ana, "")
	fmt.Println(res.Incident.Status())
	_, err = svc.Reopen(ctx, "acme", id, bob, "again?")
	fmt.Println(errors.Is(err, itsm.ErrInvalidTransition))
	// Output:
	// invalid resolution.notes: must not be empty
	// in_progress reopens: 1
	// closed
	// true
}

// The major-incident track: proposed by anyone, accepted by a major
// incident manager, closed only after its review.
func ExampleService_AcceptMajor() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: "Payments failing", Caller: "bob", Impact: 1, Urgency: 1})
	id := res.Incident.ID()
	_, _ = svc.ProposeMajor(ctx, "acme", id, bob, "all shops affected")
	_, err := svc.AcceptMajor(ctx, "acme", id, bob, "bob")
	fmt.Println(errors.Is(err, itsm.ErrForbidden))
	res, _ = svc.AcceptMajor(ctx, "acme", id, ana, "carol")
	fmt.Println(res.Incident.Major().Status, res.Incident.Major().Owner)
	_, _ = svc.Resolve(ctx, "acme", id, ana, incident.ResolvedByChange, "Rolled back the gateway release")
	_, err = svc.Close(ctx, "acme", id, ana, "")
	fmt.Println(err)
	_, _ = svc.ReviewMajor(ctx, "acme", id, ana, "Release lacked a canary stage")
	res, _ = svc.Close(ctx, "acme", id, ana, "")
	fmt.Println(res.Incident.Status())
	// Output:
	// true
	// accepted carol
	// incident: cannot close from resolved: an accepted major incident needs its post-incident review before it closes
	// closed
}

// Parents and cascades: resolving a parent resolves its open children;
// an incident cannot become its own ancestor.
func ExampleService_LinkParent() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	open := func(title string) incident.ID {
		res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: title, Caller: "bob", Impact: 2, Urgency: 2})
		return res.Incident.ID()
	}
	parent, child := open("Core switch down"), open("No network on floor 2")
	_, _ = svc.LinkParent(ctx, "acme", child, parent, ana)
	_, err := svc.LinkParent(ctx, "acme", parent, child, ana)
	var ve *itsm.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	res, _ := svc.Resolve(ctx, "acme", parent, ana, incident.ResolvedPermanently, "Switch replaced")
	for _, c := range res.Cascade {
		got, _ := svc.Get(ctx, "acme", c.Child)
		fmt.Println(c.Number, c.Outcome, got.Status())
	}
	// Output:
	// true parent
	// INC0000002 applied resolved
}

// SLA timers attach on open, and a host's scheduler asks when to look
// again: AdvanceSLA then records the thresholds and the breach due by now.
func ExampleService_AdvanceSLA() {
	engine, _ := sla.NewEngine([]sla.Agreement{{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{{
			Metric: "resolution",
			Pause:  sla.StateIn(itsm.CategoryWaiting),
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals:  []sla.Goal{{Name: "all", Within: 2 * time.Hour}},
		}},
	}}, nil)
	svc, clock := exampleDesk(engine)
	ctx := context.Background()
	res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: "Laptop will not boot", Caller: "bob", Impact: 3, Urgency: 3})
	id := res.Incident.ID()
	d := res.Incident.Data()
	next, _ := d.SLANextAt()
	fmt.Println("look again at", next.Format("15:04"))

	clock.Set(time.Date(2026, 11, 23, 11, 30, 0, 0, time.UTC))
	res, _ = svc.AdvanceSLA(ctx, "acme", id, itsmtest.System())
	for _, ev := range res.Events {
		fmt.Println(ev.Type, ev.At.Format("15:04"))
	}
	// Output:
	// look again at 10:00
	// sla.threshold 10:00
	// sla.threshold 10:30
	// sla.threshold 11:00
	// sla.breached 11:00
}

// Queries: by state and group, and what auto-close may close now.
func ExampleService_DueForAutoClose() {
	svc, clock := exampleDesk(nil)
	ctx := context.Background()
	for i, title := range []string{"Password expired", "Monitor flickers", "Mouse broken"} {
		res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: title, Caller: "bob", Impact: 3, Urgency: 3, Group: "workplace"})
		if i < 2 {
			_, _ = svc.Resolve(ctx, "acme", res.Incident.ID(), ana, incident.ResolvedPermanently, "done")
		}
	}
	page, _ := svc.List(ctx, "acme", incident.Filter{Statuses: []incident.Status{incident.StatusResolved}, Group: "workplace"}, incident.Page{})
	fmt.Println("resolved:", len(page.Items))

	rule := incident.AutoClose{Days: 2, Calendar: sla.Always(time.UTC), Location: time.UTC}
	clock.Set(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	due, _ := svc.DueForAutoClose(ctx, "acme", clock.Peek(), rule)
	fmt.Println("closable on Wednesday:", len(due))
	clock.Set(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	due, _ = svc.DueForAutoClose(ctx, "acme", clock.Peek(), rule)
	for _, d := range due {
		res, _ := svc.Close(ctx, "acme", d.ID, itsmtest.System(), "auto-closed")
		fmt.Println(res.Incident.Number(), res.Incident.Status())
	}
	// Output:
	// resolved: 2
	// closable on Wednesday: 0
	// INC0000001 closed
	// INC0000002 closed
}
