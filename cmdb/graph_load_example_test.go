package cmdb_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// The CMDB lives in a store; its graph is an index the host derives from
// it: LoadGraph builds it, and each later write the store accepts is
// applied to the graph too — here a deletion, which cascades alike in both.
func ExampleLoadGraph() {
	ctx := context.Background()
	reg := cmdb.NewRegistry()
	repo, _ := storage.CMDBRepository(memory.New(), reg)
	gen := itsmtest.NewIDs(1)
	clock := itsm.Clock(func() time.Time { return time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC) })
	cis := map[string]cmdb.CI{}
	names := map[cmdb.ID]string{}
	add := func(name string, class cmdb.ClassName, attrs map[string]cmdb.Value) {
		c, _ := reg.Make(gen, clock, cmdb.NewCI{Tenant: "acme", Class: class, Name: name, Attributes: attrs})
		if err := repo.CreateCI(ctx, cmdb.Record{CI: c}); err != nil {
			fmt.Println(err)
		}
		cis[name] = c
		names[c.ID] = name
	}
	relate := func(from string, t cmdb.RelTypeName, to string) {
		rel, _ := reg.Relate(gen, clock, t, cis[from], cis[to])
		if err := repo.CreateRelationship(ctx, rel); err != nil {
			fmt.Println(err)
		}
	}
	add("shop", cmdb.ClassBusinessService, nil)
	add("orders-db", cmdb.ClassDatabase, map[string]cmdb.Value{"engine": cmdb.StringValue("postgres")})
	add("db-host", cmdb.ClassServer, map[string]cmdb.Value{"hostname": cmdb.StringValue("db-host")})
	relate("shop", cmdb.RelDependsOn, "orders-db")
	relate("orders-db", cmdb.RelRunsOn, "db-host")

	g, err := cmdb.LoadGraph(ctx, repo, reg, "acme")
	if err != nil {
		fmt.Println(err)
		return
	}
	services := func() {
		refs, _ := g.ImpactedServices([]itsm.Ref{cis["db-host"].ID.Ref()})
		fmt.Println("db-host failing impacts", len(refs), "service(s)")
	}
	services()

	// Decommission the host: the store deletes the database running on it
	// too, and the graph removes the same CIs.
	stored, _ := repo.DeleteCI(ctx, "acme", cis["db-host"].ID, 1)
	removed, _ := g.RemoveCI(cis["db-host"].ID)
	for _, id := range removed {
		fmt.Println("removed", names[id])
	}
	fmt.Println("same as the store:", fmt.Sprint(stored) == fmt.Sprint(removed))
	n, rels := g.Len()
	fmt.Println(n, "CI,", rels, "relationships")
	// Output:
	// db-host failing impacts 1 service(s)
	// removed db-host
	// removed orders-db
	// same as the store: true
	// 1 CI, 0 relationships
}

// Removing CIs follows their relationships' delete behaviours: the cluster
// cannot go while it virtualizes a VM (restrict); the VM takes the
// application running on it (cascade).
func ExampleGraph_RemoveCI() {
	g, ids := smallCMDB()
	_, err := g.RemoveCI(ids["esx-cluster"])
	var ve *itsm.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	removed, _ := g.RemoveCI(ids["vm-cart"])
	for _, id := range removed {
		fmt.Println("removed", id == ids["vm-cart"], id == ids["cart-api"])
	}
	r, _ := g.Impact(cmdb.Query{Origins: []cmdb.ID{ids["tor-switch"]}})
	fmt.Println("the switch now reaches", r.Len()-1, "CIs and", len(r.Services), "services")
	// Output:
	// true id
	// removed true false
	// removed false true
	// the switch now reaches 2 CIs and 0 services
}

// A snapshot, as reconciliation and health read it, gives the same graph
// as LoadGraph would from the store it came from.
func ExampleSnapshot_Graph() {
	ctx := context.Background()
	reg := cmdb.NewRegistry()
	repo, _ := storage.CMDBRepository(memory.New(), reg)
	gen := itsmtest.NewIDs(2)
	clock := itsm.Clock(func() time.Time { return time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC) })
	app, _ := reg.Make(gen, clock, cmdb.NewCI{Tenant: "acme", Class: cmdb.ClassApplication, Name: "cart-api"})
	vm, _ := reg.Make(gen, clock, cmdb.NewCI{Tenant: "acme", Class: cmdb.ClassVirtualMachine, Name: "vm-cart",
		Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue("vm-cart")}})
	rel, _ := reg.Relate(gen, clock, cmdb.RelRunsOn, app, vm)
	_ = repo.CreateCI(ctx, cmdb.Record{CI: app})
	_ = repo.CreateCI(ctx, cmdb.Record{CI: vm})
	_ = repo.CreateRelationship(ctx, rel)

	snap, _ := cmdb.LoadSnapshot(ctx, repo, "acme")
	g, err := snap.Graph(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ := g.Impact(cmdb.Query{Origins: []cmdb.ID{vm.ID}})
	for _, n := range r.All() {
		fmt.Printf("%s at depth %d\n", n.Name, n.Depth)
	}
	// Output:
	// vm-cart at depth 0
	// cart-api at depth 1
}
