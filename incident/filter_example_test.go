package incident_test

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
)

// Lists by caller, category, service and period, and an incremental
// export that asks only for what changed since its last look.
func ExampleFilter() {
	svc, clock := exampleDesk(nil)
	ctx := context.Background()
	mail := itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a5c4-0000-7000-8000-000000000001")}
	for _, in := range []incident.OpenInput{
		{Title: "Mail is slow", Caller: "bob", Category: "email", Service: mail},
		{Title: "VPN drops", Caller: "eve", Category: "network"},
		{Title: "Mail bounces", Caller: "bob", Category: "email", Service: mail},
	} {
		in.Impact, in.Urgency = 3, 3
		if _, err := svc.Open(ctx, "acme", ana, in); err != nil {
			fmt.Println(err)
			return
		}
	}
	show := func(what string, f incident.Filter) {
		page, err := svc.List(ctx, "acme", f, incident.Page{})
		if err != nil {
			fmt.Println(what, err)
			return
		}
		fmt.Print(what, ":")
		for _, d := range page.Items {
			fmt.Print(" ", d.Number)
		}
		fmt.Println()
	}
	show("bob's tickets", incident.Filter{Caller: "bob"})
	show("on the mail service", incident.Filter{Service: mail})
	show("network", incident.Filter{Category: "network"})
	page, _ := svc.List(ctx, "acme", incident.Filter{}, incident.Page{})
	first := page.Items[0].OpenedAt
	show("opened in the first two minutes", incident.Filter{OpenedFrom: first, OpenedBefore: first.Add(2 * time.Minute)})

	// An export remembers the latest UpdatedAt it saw and asks again from
	// there (inclusive), skipping what it already has by ID and version.
	// With concurrent writers it asks from a margin earlier: see the
	// package documentation, "Incremental export".
	seen := page.Items[len(page.Items)-1].UpdatedAt
	clock.Set(seen.Add(time.Hour))
	_, _ = svc.Comment(ctx, "acme", page.Items[1].ID, bob, "Works again", incident.AgentComment)
	show("changed since the last export", incident.Filter{UpdatedSince: seen})

	_, err := svc.List(ctx, "acme", incident.Filter{Service: itsm.Ref{Kind: itsm.KindService}}, incident.Page{})
	fmt.Println(err)
	// Output:
	// bob's tickets: INC0000001 INC0000003
	// on the mail service: INC0000001 INC0000003
	// network: INC0000002
	// opened in the first two minutes: INC0000001 INC0000002
	// changed since the last export: INC0000002 INC0000003
	// invalid filter.service.id: must not be the nil UUID
}
