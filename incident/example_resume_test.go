package incident_test

import (
	"context"
	"fmt"

	"github.com/itsmkit/itsmkit/incident"
)

// Resuming a parent resumes the children its hold put on hold, and leaves
// a child held on its own waiting.
func ExampleService_Resume() {
	svc, _ := exampleDesk(nil)
	ctx := context.Background()
	open := func(title string) incident.ID {
		res, _ := svc.Open(ctx, "acme", ana, incident.OpenInput{Title: title, Caller: "bob", Impact: 2, Urgency: 2, Group: "network"})
		return res.Incident.ID()
	}
	parent, follower, own := open("Core switch down"), open("No network on floor 2"), open("No network on floor 3")
	for _, child := range []incident.ID{follower, own} {
		_, _ = svc.LinkParent(ctx, "acme", child, parent, ana)
	}
	_, _ = svc.Hold(ctx, "acme", own, ana, incident.HoldAwaitingVendor, "")
	res, _ := svc.Hold(ctx, "acme", parent, ana, incident.HoldAwaitingVendor, "")
	for _, c := range res.Cascade {
		fmt.Println("hold:", c.Number, c.Outcome)
	}
	res, _ = svc.Resume(ctx, "acme", parent, ana, "The vendor shipped the line card")
	for _, c := range res.Cascade {
		got, _ := svc.Get(ctx, "acme", c.Child)
		fmt.Println("resume:", c.Number, c.Outcome, got.Status())
	}
	// Output:
	// hold: INC0000002 applied
	// hold: INC0000003 already
	// resume: INC0000002 applied in_progress
	// resume: INC0000003 skipped on_hold
}
