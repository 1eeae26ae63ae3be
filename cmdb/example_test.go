package cmdb_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// smallCMDB builds a web shop: the shop service depends on a checkout
// application service, which depends on an application running on a VM in
// a two-server cluster that needs both servers, behind one switch.
func smallCMDB() (*cmdb.Graph, map[string]cmdb.ID) {
	reg := cmdb.NewRegistry()
	g, _ := cmdb.NewGraph(reg, "acme")
	gen := itsmtest.NewIDs(1)
	clock := itsm.Clock(func() time.Time { return time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC) })
	ids := map[string]cmdb.ID{}
	add := func(name string, class cmdb.ClassName, attrs map[string]cmdb.Value) {
		c, err := reg.Make(gen, clock, cmdb.NewCI{Tenant: "acme", Class: class, Name: name, Attributes: attrs})
		if err != nil {
			panic(err)
		}
		_ = g.AddCI(c)
		ids[name] = c.ID
	}
	host := func(n string) map[string]cmdb.Value { return map[string]cmdb.Value{"hostname": cmdb.StringValue(n)} }
	add("shop", cmdb.ClassBusinessService, nil)
	add("checkout", cmdb.ClassApplicationService, nil)
	add("cart-api", cmdb.ClassApplication, nil)
	add("vm-cart", cmdb.ClassVirtualMachine, host("vm-cart"))
	add("esx-cluster", cmdb.ClassCluster, map[string]cmdb.Value{cmdb.AttrMinUp: cmdb.IntValue(2)})
	add("esx1", cmdb.ClassServer, host("esx1"))
	add("esx2", cmdb.ClassServer, host("esx2"))
	add("tor-switch", cmdb.ClassNetworkDevice, nil)
	relate := func(from string, t cmdb.RelTypeName, to string) {
		id, _ := cmdb.NewRelationshipID(gen)
		if err := g.AddRelationship(cmdb.Relationship{ID: id, Tenant: "acme", Type: t, From: ids[from], To: ids[to], Created: clock.Now()}); err != nil {
			panic(err)
		}
	}
	relate("shop", cmdb.RelDependsOn, "checkout")
	relate("checkout", cmdb.RelDependsOn, "cart-api")
	relate("cart-api", cmdb.RelRunsOn, "vm-cart")
	relate("vm-cart", cmdb.RelVirtualizedBy, "esx-cluster")
	relate("esx1", cmdb.RelMemberOf, "esx-cluster")
	relate("esx2", cmdb.RelMemberOf, "esx-cluster")
	relate("esx1", cmdb.RelDependsOn, "tor-switch")
	return g, ids
}

// A switch fails: which business services does it take down, and how?
func ExampleGraph_Impact() {
	g, ids := smallCMDB()
	r, err := g.Impact(cmdb.Query{Origins: []cmdb.ID{ids["tor-switch"]}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, i := range r.Services {
		path, via := r.Path(i)
		var b strings.Builder
		for k, id := range path {
			n, _ := g.Node(id)
			if k > 0 {
				fmt.Fprintf(&b, " -[%s]-> ", via[k-1])
			}
			b.WriteString(n.Name)
		}
		n, _ := r.At(i)
		fmt.Printf("%s is impacted: %s\n", n.Name, b.String())
	}
	fmt.Println("CIs reached:", r.Len())
	// Output:
	// shop is impacted: tor-switch -[depends_on]-> esx1 -[member_of]-> esx-cluster -[virtualized_by]-> vm-cart -[runs_on]-> cart-api -[depends_on]-> checkout -[depends_on]-> shop
	// CIs reached: 7
}

// The same analysis drawn as a Mermaid flowchart.
func ExampleImpact_Mermaid() {
	g, ids := smallCMDB()
	r, _ := g.Impact(cmdb.Query{Origins: []cmdb.ID{ids["vm-cart"]}})
	fmt.Print(r.Mermaid())
	// Output:
	// flowchart LR
	//     n0["vm-cart (virtual_machine)"]
	//     n1["cart-api (application)"]
	//     n2["checkout (application_service)"]
	//     n3["shop (business_service)"]
	//     n0 -->|runs_on| n1
	//     n1 -->|depends_on| n2
	//     n2 -->|depends_on| n3
	//     class n0 origin
	//     class n3 service
	//     classDef origin stroke:#c00,stroke-width:2px
	//     classDef service font-weight:bold
	//     classDef suppressed stroke-dasharray:4
}

// A server in maintenance: the other one alone is below the cluster's
// min_up, but nothing propagates through the CI under planned work.
func ExampleQuery_maintenance() {
	g, ids := smallCMDB()
	_ = g.SetStatus(ids["vm-cart"], cmdb.StatusInMaintenance)
	r, _ := g.Impact(cmdb.Query{Origins: []cmdb.ID{ids["esx2"]}})
	for _, n := range r.All() {
		fmt.Printf("%s depth=%d suppressed=%v\n", n.Name, n.Depth, n.Suppressed)
	}
	fmt.Println("services:", len(r.Services))
	// Output:
	// esx2 depth=0 suppressed=false
	// esx-cluster depth=1 suppressed=false
	// vm-cart depth=2 suppressed=true
	// services: 0
}

// A neighbourhood drawn for Graphviz.
func ExampleSubgraph_DOT() {
	g, ids := smallCMDB()
	sub, _ := g.Neighbourhood([]cmdb.ID{ids["esx-cluster"]}, 1, 0)
	fmt.Print(sub.DOT())
	// Output:
	// digraph neighbourhood {
	//   rankdir=LR;
	//   node [shape=box];
	//   n0 [label="esx-cluster (cluster)"];
	//   n1 [label="vm-cart (virtual_machine)"];
	//   n2 [label="esx1 (server)"];
	//   n3 [label="esx2 (server)"];
	//   n1 -> n0 [label="virtualized_by"];
	//   n2 -> n0 [label="member_of"];
	//   n3 -> n0 [label="member_of"];
	// }
}

// An incident on the switch: the services it reaches, as the incident
// service asks through incident.Config.Impact.
func ExampleGraph_ImpactedServices() {
	g, ids := smallCMDB()
	refs, _ := g.ImpactedServices([]itsm.Ref{ids["tor-switch"].Ref(), {Kind: itsm.KindCI, ID: ids["shop"].UUID()}})
	for _, r := range refs {
		id := cmdb.IDFromUUID(r.ID)
		n, _ := g.Node(id)
		fmt.Println(r.Kind, n.Name)
	}
	none, _ := g.ImpactedServices([]itsm.Ref{{Kind: itsm.KindService, ID: ids["shop"].UUID()}})
	fmt.Println(len(none))
	// Output:
	// ci shop
	// 0
}
