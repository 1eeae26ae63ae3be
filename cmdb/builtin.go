package cmdb

// builtinClasses returns the built-in class tree, parents first.
func builtinClasses() []Class {
	str := func(name string) Attribute { return Attribute{Name: name, Type: TypeString} }
	rec := func(a Attribute) Attribute { a.Recommended = true; return a }
	req := func(a Attribute) Attribute { a.Required = true; return a }
	typed := func(name string, t AttrType) Attribute { return Attribute{Name: name, Type: t} }
	return []Class{
		{Name: ClassCI, Label: "Configuration item", Abstract: true, Attributes: []Attribute{
			str("description"),
			rec(Attribute{Name: "environment", Type: TypeString, Values: []string{"production", "staging", "test", "development"}}),
		}},
		{Name: ClassService, Parent: ClassCI, Label: "Service", Abstract: true, Attributes: []Attribute{
			rec(Attribute{Name: "criticality", Type: TypeString, Values: []string{"critical", "high", "medium", "low"}}),
			typed("agreement", TypeRef),
		}},
		{Name: ClassBusinessService, Parent: ClassService, Label: "Business service", Attributes: []Attribute{
			str("business_unit"),
		}},
		{Name: ClassApplicationService, Parent: ClassService, Label: "Application service", Attributes: []Attribute{
			rec(str("url")),
		}},
		{Name: ClassServiceOffering, Parent: ClassService, Label: "Service offering", Attributes: []Attribute{
			rec(str("service_hours")),
			typed("price", TypeDecimal),
		}},
		{Name: ClassSoftware, Parent: ClassCI, Label: "Software", Abstract: true, Attributes: []Attribute{
			rec(str("version")),
			str("vendor"),
		}},
		{Name: ClassApplication, Parent: ClassSoftware, Label: "Application", Attributes: []Attribute{
			str("language"),
		}},
		{Name: ClassDatabase, Parent: ClassSoftware, Label: "Database", Attributes: []Attribute{
			req(str("engine")),
			typed("port", TypeInt),
		}},
		{Name: ClassContainer, Parent: ClassSoftware, Label: "Container", Attributes: []Attribute{
			req(str("image")),
		}},
		{Name: ClassComputer, Parent: ClassCI, Label: "Computer", Abstract: true, Attributes: []Attribute{
			req(str("hostname")),
			rec(str("ip_address")),
			rec(str("os")),
			typed("cpu_count", TypeInt),
			typed("ram_mb", TypeInt),
		}},
		{Name: ClassServer, Parent: ClassComputer, Label: "Server", Attributes: []Attribute{
			rec(str("serial_number")),
			typed("commissioned_at", TypeTime),
		}},
		{Name: ClassVirtualMachine, Parent: ClassComputer, Label: "Virtual machine", Attributes: []Attribute{
			str("vm_uuid"),
		}},
		{Name: ClassDevice, Parent: ClassCI, Label: "Device", Abstract: true, Attributes: []Attribute{
			rec(str("serial_number")),
			str("manufacturer"),
			str("model"),
		}},
		{Name: ClassNetworkDevice, Parent: ClassDevice, Label: "Network device", Attributes: []Attribute{
			typed("ports", TypeInt),
			rec(str("management_ip")),
		}},
		{Name: ClassStorageDevice, Parent: ClassDevice, Label: "Storage device", Attributes: []Attribute{
			rec(typed("capacity_gb", TypeDecimal)),
		}},
		{Name: ClassGroup, Parent: ClassCI, Label: "Group", Attributes: []Attribute{
			rec(typed(AttrMinUp, TypeInt)),
		}},
		{Name: ClassCluster, Parent: ClassGroup, Label: "Cluster", Attributes: []Attribute{
			str("cluster_type"),
			typed("ha_enabled", TypeBool),
		}},
		{Name: ClassLocation, Parent: ClassCI, Label: "Location", Attributes: []Attribute{
			str("address"),
			str("city"),
			rec(str("country")),
		}},
	}
}

// builtinRelTypes returns the relationship types of DOMAIN.md §7.
func builtinRelTypes() []RelType {
	any2any := []ClassPair{{ClassCI, ClassCI}}
	return []RelType{
		{Name: RelDependsOn, Parent: "Depends on", Child: "Used by", Kind: KindDependency,
			Flow: FlowToFrom, Cardinality: ManyToMany, OnDelete: DeleteDetach, Allowed: any2any},
		{Name: RelRunsOn, Parent: "Runs on", Child: "Runs", Kind: KindHosting,
			Flow: FlowToFrom, Dependent: SideFrom, Cardinality: ManyToOne, OnDelete: DeleteCascade,
			Allowed: []ClassPair{{ClassSoftware, ClassComputer}, {ClassApplication, ClassContainer}, {ClassDatabase, ClassContainer}, {ClassSoftware, ClassCluster}}},
		{Name: RelHostedOn, Parent: "Hosted on", Child: "Hosts", Kind: KindHosting,
			Flow: FlowToFrom, Dependent: SideFrom, Cardinality: ManyToOne, OnDelete: DeleteCascade,
			Allowed: []ClassPair{{ClassSoftware, ClassComputer}, {ClassSoftware, ClassCluster}, {ClassService, ClassComputer}}},
		{Name: RelContains, Parent: "Contains", Child: "Contained by", Kind: KindContainment,
			Flow: FlowToFrom, Dependent: SideTo, Cardinality: OneToMany, OnDelete: DeleteCascade,
			Allowed: []ClassPair{{ClassLocation, ClassLocation}, {ClassDevice, ClassDevice}, {ClassDevice, ClassServer}, {ClassServer, ClassDevice}}},
		{Name: RelMemberOf, Parent: "Member of", Child: "Members", Kind: KindMembership,
			Flow: FlowFromTo, Redundant: true, Cardinality: ManyToMany, OnDelete: DeleteDetach,
			Allowed: []ClassPair{{ClassCI, ClassGroup}}},
		{Name: RelPowers, Parent: "Powers", Child: "Powered by", Kind: KindPower,
			Flow: FlowFromTo, Redundant: true, Cardinality: ManyToMany, OnDelete: DeleteDetach,
			Allowed: []ClassPair{{ClassDevice, ClassDevice}, {ClassDevice, ClassComputer}, {ClassDevice, ClassCluster}}},
		{Name: RelConnectsTo, Parent: "Connects to", Child: "Connected by", Kind: KindConnection,
			Flow: FlowBoth, OffByDefault: true, Cardinality: ManyToMany, OnDelete: DeleteDetach,
			Allowed: []ClassPair{{ClassComputer, ClassComputer}, {ClassComputer, ClassDevice}, {ClassDevice, ClassComputer}, {ClassDevice, ClassDevice}}},
		{Name: RelUses, Parent: "Uses", Child: "Used by", Kind: KindUsage,
			Flow: FlowToFrom, Cardinality: ManyToMany, OnDelete: DeleteDetach, Allowed: any2any},
		{Name: RelProvides, Parent: "Provides", Child: "Provided by", Kind: KindUsage,
			Flow: FlowFromTo, Cardinality: ManyToMany, OnDelete: DeleteDetach, Allowed: any2any},
		{Name: RelVirtualizedBy, Parent: "Virtualized by", Child: "Virtualizes", Kind: KindHosting,
			Flow: FlowToFrom, Dependent: SideFrom, Cardinality: ManyToOne, OnDelete: DeleteRestrict,
			Allowed: []ClassPair{{ClassVirtualMachine, ClassComputer}, {ClassVirtualMachine, ClassCluster}}},
		{Name: RelManages, Parent: "Manages", Child: "Managed by", Kind: KindReference,
			Flow: FlowNone, Cardinality: ManyToMany, OnDelete: DeleteDetach, Allowed: any2any},
		{Name: RelOwnedBy, Parent: "Owned by", Child: "Owns", Kind: KindReference,
			Flow: FlowNone, Cardinality: ManyToMany, OnDelete: DeleteDetach, Allowed: any2any},
		{Name: RelLocatedIn, Parent: "Located in", Child: "Houses", Kind: KindReference,
			Flow: FlowNone, Cardinality: ManyToMany, OnDelete: DeleteDetach,
			Allowed: []ClassPair{{ClassCI, ClassLocation}}},
	}
}
