package cmdb_test

import (
	"context"
	"fmt"
	"time"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// Two discovery sources report the same server. SCCM is authoritative for
// the operating system for a week; vCenter is the fallback. Each attribute
// records which source its value came from.
func ExampleReconciler_Reconcile() {
	reg := cmdb.NewRegistry()
	rules := cmdb.DefaultRules()
	rules.Authority = map[cmdb.ClassName]map[string][]cmdb.Authority{
		cmdb.ClassComputer: {"os": {{Source: "sccm", Staleness: 7 * 24 * time.Hour}, {Source: "vcenter"}}},
	}
	rc, err := cmdb.NewReconciler(reg, rules)
	if err != nil {
		panic(err)
	}
	repo, err := storage.CMDBRepository(memory.New(), reg)
	if err != nil {
		panic(err)
	}
	ids, ctx := itsmtest.NewIDs(1), context.Background()
	at := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	report := func(src cmdb.SourceName, at time.Time, native string, attrs map[string]cmdb.Value) *cmdb.Plan {
		p, err := rc.Reconcile(ctx, repo, ids, cmdb.Batch{Tenant: "acme", Source: src, At: at, Items: []cmdb.Item{
			{NativeID: native, Class: cmdb.ClassServer, Name: "web01", Attributes: attrs},
		}})
		if err != nil {
			panic(err)
		}
		return p
	}
	s := cmdb.StringValue
	report("vcenter", at, "vm-17", map[string]cmdb.Value{"hostname": s("web01"), "serial_number": s("CZ123"), "os": s("Windows"), "ip_address": s("10.0.0.5")})
	p := report("sccm", at.Add(time.Hour), "A-0042", map[string]cmdb.Value{"hostname": s("web01"), "serial_number": s("CZ123"), "os": s("Windows Server 2022")})
	fmt.Println("sccm matched by", p.Outcomes[0].MatchedBy)
	for _, c := range p.Updates[0].Changes {
		fmt.Printf("  %s: %q → %q (from %s)\n", c.Field, c.From, c.To, c.Source)
	}

	snap, err := cmdb.LoadSnapshot(ctx, repo, "acme")
	if err != nil {
		panic(err)
	}
	r := snap.Records()[0]
	for _, a := range []string{"os", "ip_address", "serial_number"} {
		pv := r.Provenance[a]
		fmt.Printf("%s = %s (%s, %s)\n", a, r.Attributes[a], pv.Source, pv.At.Format("Jan 2 15:04"))
	}

	// Eight days on, sccm has gone quiet: vCenter's value takes over.
	p = report("vcenter", at.Add(8*24*time.Hour+time.Hour), "vm-17", map[string]cmdb.Value{"os": s("Windows 11")})
	c := p.Updates[0].Changes[0]
	fmt.Printf("after sccm went stale: %s %q → %q (from %s)\n", c.Field, c.From, c.To, c.Source)
	// Output:
	// sccm matched by rule 0 (serial_number)
	//   os: "Windows" → "Windows Server 2022" (from sccm)
	// os = Windows Server 2022 (sccm, May 4 09:00)
	// ip_address = 10.0.0.5 (vcenter, May 4 08:00)
	// serial_number = CZ123 (sccm, May 4 09:00)
	// after sccm went stale: os "Windows Server 2022" → "Windows 11" (from vcenter)
}

// A source that suddenly reports nothing trips the mass-delete guard
// instead of retiring everything it reported before.
func ExampleReconciler_Plan_massDeleteGuard() {
	reg := cmdb.NewRegistry()
	rc, _ := cmdb.NewReconciler(reg, cmdb.DefaultRules())
	ids := itsmtest.NewIDs(2)
	at := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	var items []cmdb.Item
	for i := range 4 {
		name := fmt.Sprint("srv", i)
		items = append(items, cmdb.Item{NativeID: name, Class: cmdb.ClassServer, Name: name, Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue(name)}})
	}
	empty, _ := cmdb.NewSnapshot("acme", nil, nil)
	first, _ := rc.Plan(empty, cmdb.Batch{Tenant: "acme", Source: "scan", At: at, Complete: true, Items: items}, ids)
	snap, _ := empty.Apply(first)

	silent, _ := rc.Plan(snap, cmdb.Batch{Tenant: "acme", Source: "scan", At: at.Add(24 * time.Hour), Complete: true}, ids)
	fmt.Printf("guard: known %d, reported %d, missing %d; retirements %d\n",
		silent.Guard.Known, silent.Guard.Reported, silent.Guard.Missing, len(silent.Retirements))

	oneGone, _ := rc.Plan(snap, cmdb.Batch{Tenant: "acme", Source: "scan", At: at.Add(24 * time.Hour), Complete: true, Items: items[:3]}, ids)
	fmt.Printf("one missing: guard %v, retirements %d\n", oneGone.Guard != nil, len(oneGone.Retirements))
	// Output:
	// guard: known 4, reported 0, missing 4; retirements 0
	// one missing: guard false, retirements 1
}

// Health reports completeness, correctness and compliance per class.
func ExampleRegistry_Health() {
	reg := cmdb.NewRegistry()
	ids := itsmtest.NewIDs(3)
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	mk := func(class cmdb.ClassName, name, owner string, attrs map[string]cmdb.Value, seen time.Time) cmdb.Record {
		c, err := reg.Make(ids, func() time.Time { return seen }, cmdb.NewCI{Tenant: "acme", Class: class, Name: name, Owner: owner, Attributes: attrs})
		if err != nil {
			panic(err)
		}
		return cmdb.Record{CI: c}
	}
	s := cmdb.StringValue
	web := mk(cmdb.ClassServer, "web01", "ops", map[string]cmdb.Value{"hostname": s("web01"), "os": s("Linux"), "ip_address": s("10.0.0.1")}, now)
	old := mk(cmdb.ClassServer, "old01", "", map[string]cmdb.Value{"hostname": s("old01")}, now.Add(-90*24*time.Hour))
	app := mk(cmdb.ClassApplication, "shop", "ops", map[string]cmdb.Value{"version": s("2.1")}, now)
	snap, _ := cmdb.NewSnapshot("acme", []cmdb.Record{web, old, app}, nil)

	h, err := reg.Health(snap, cmdb.HealthOptions{Now: now, Audits: []cmdb.Audit{
		{Name: "owned", Check: func(c cmdb.CI) bool { return c.Owner != "" }},
	}})
	if err != nil {
		panic(err)
	}
	for _, c := range append(h.Classes, h.Overall) {
		name := string(c.Class)
		if name == "" {
			name = "overall"
		}
		fmt.Printf("%-12s recommended %-16s correct %-15s compliance %s\n", name, c.Recommended, c.Correct, c.Compliance)
	}
	fmt.Println("orphans:", len(h.Orphans), "stale:", len(h.Stale))
	// Output:
	// application  recommended 50.00% (1/2)     correct 0.00% (0/1)     compliance 100.00% (1/1)
	// server       recommended 25.00% (2/8)     correct 50.00% (1/2)    compliance 50.00% (1/2)
	// overall      recommended 30.00% (3/10)    correct 33.33% (1/3)    compliance 66.66% (2/3)
	// orphans: 1 stale: 1
}
