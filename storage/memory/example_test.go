package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// opened returns a new incident as the service would open it.
func opened(id, number string) incident.Data {
	var iid incident.ID
	if err := iid.UnmarshalText([]byte(id)); err != nil {
		panic(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	by := itsm.ActorRef{ID: "agent-7"}
	return incident.Data{
		ID: iid, Tenant: "acme", Number: incident.Number(number),
		Title: "VPN drops every ten minutes", Caller: "caller-42",
		Impact: 2, Urgency: 2, Priority: 3,
		Status: incident.StatusNew, OpenedAt: at, UpdatedAt: at,
		Major: incident.Major{Status: incident.MajorNone},
		History: []incident.Entry{{Seq: 1, At: at, By: by, Command: "open",
			From: incident.StatusNew, To: incident.StatusNew}},
	}
}

// Two writers read the same version; the second to write gets
// itsm.ErrConflict and nothing of its write is stored.
func Example() {
	ctx := context.Background()
	repo := memory.New().Incidents()
	if err := repo.Create(ctx, opened("019c8a4e-0000-7000-8000-000000000001", "INC0000001")); err != nil {
		panic(err)
	}
	read, _ := repo.GetByNumber(ctx, "acme", "INC0000001")
	fmt.Println(read.Number, "is at version", read.Version)

	first := read.Clone()
	first.Assignee = "bob"
	fmt.Println("first write:", repo.Update(ctx, first))

	second := read.Clone()
	second.Assignee = "eve"
	err := repo.Update(ctx, second)
	fmt.Println("second write is a conflict:", errors.Is(err, itsm.ErrConflict))

	now, _ := repo.Get(ctx, "acme", read.ID)
	fmt.Println(now.Assignee, "at version", now.Version)
	// Output:
	// INC0000001 is at version 1
	// first write: <nil>
	// second write is a conflict: true
	// bob at version 2
}

// A transaction stores an incident and its event together; a relay claims
// the event under a lease and acknowledges it.
func ExampleStore_InTx() {
	ctx := context.Background()
	store := memory.New()
	err := store.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		n, err := tx.(storage.Sequences).Next(ctx, "acme", "incident")
		if err != nil {
			return err
		}
		d := opened("019c8a4e-0000-7000-8000-000000000002", string(incident.FormatNumber("INC", n)))
		if err := tx.Incidents().Create(ctx, d); err != nil {
			return err
		}
		return tx.(storage.Outbox).Append(ctx, itsm.Event{
			ID:      uuid.MustParse("019c8a4e-0000-7000-8000-0000000000e1"),
			Type:    "incident.opened",
			Tenant:  d.Tenant,
			Subject: d.ID.Ref(),
			Version: 1,
			At:      d.OpenedAt,
			Actor:   itsm.Actor{ID: "agent-7"},
			Payload: json.RawMessage(`{"number":"` + string(d.Number) + `"}`),
		})
	})
	fmt.Println("committed:", err)

	now := time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC)
	batch, _ := store.Claim(ctx, storage.ClaimRequest{Consumer: "relay", Now: now, Lease: time.Minute})
	for _, e := range batch.Events {
		fmt.Println(e.Type, string(e.Payload))
	}
	fmt.Println("acknowledged:", store.Ack(ctx, batch.Lease, batch.IDs()...))
	again, _ := store.Claim(ctx, storage.ClaimRequest{Consumer: "relay", Now: now.Add(time.Hour), Lease: time.Minute})
	fmt.Println("left:", len(again.Events))
	// Output:
	// committed: <nil>
	// incident.opened {"number":"INC0000001"}
	// acknowledged: <nil>
	// left: 0
}
