package faults_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest/faults"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// The next update meets a conflict; the one after goes through.
func Example() {
	store, inj := faults.Wrap(memory.New())
	repo := store.Incidents()
	ctx := context.Background()

	var id incident.ID
	_ = id.UnmarshalText([]byte("019c8a4e-0000-7000-8000-000000000001"))
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := incident.Data{ID: id, Tenant: "acme", Number: "INC0000001", Title: "Printer jammed",
		Status: incident.StatusNew, OpenedAt: at, UpdatedAt: at}
	_ = repo.Create(ctx, d)

	_ = inj.ConflictNext(1)
	d.Version, d.Title = 1, "Printer on floor 3 jammed"
	err := repo.Update(ctx, d)
	fmt.Println(err)
	fmt.Println(errors.Is(err, itsm.ErrConflict))
	fmt.Println(repo.Update(ctx, d))
	// Output:
	// faults: injected conflict on Incidents.Update call 1: itsm: conflict
	// true
	// <nil>
}
