// Package cmdb is the configuration management database of itsmkit (ITIL 4
// service configuration management; ISO/IEC 20000-1 clause 8.2.6): CI
// classes, configuration items, typed relationships with propagation
// semantics, a relationship graph built for analysis at a million CIs, and
// impact analysis that explains its answer.
//
// # Classes and CIs
//
// A Registry holds the class tree and the relationship types. NewRegistry
// starts with the built-in classes (business and application services,
// service offerings, applications, databases, containers, servers, virtual
// machines, network and storage devices, groups, clusters, locations) and
// the built-in relationship types of DOMAIN.md §7; hosts add their own with
// AddClass, AddAttributes and AddRelType. A class inherits its ancestors'
// attributes; a relationship type's allowed class pairs apply to every class
// below them. A CI has typed attribute values (Value) checked against its
// class by Registry.ValidateCI, an operational status (planned, in use, in
// maintenance, retired), an owner and a support group.
//
// The built-in classes, and the attributes a CI of each must carry
// (required: ValidateCI refuses a CI without them, naming
// "attributes.NAME") or should (recommended: Registry.Health counts them
// for completeness), inherited ones included; Registry.Attributes lists a
// class's attributes with their types. A test keeps this table in step
// with the registry.
//
//	class                        required   recommended
//	ci (abstract)                -          environment
//	  service (abstract)         -          environment, criticality
//	    business_service         -          environment, criticality
//	    application_service      -          environment, criticality, url
//	    service_offering         -          environment, criticality, service_hours
//	  software (abstract)        -          environment, version
//	    application              -          environment, version
//	    database                 engine     environment, version
//	    container                image      environment, version
//	  computer (abstract)        hostname   environment, ip_address, os
//	    server                   hostname   environment, ip_address, os, serial_number
//	    virtual_machine          hostname   environment, ip_address, os
//	  device (abstract)          -          environment, serial_number
//	    network_device           -          environment, serial_number, management_ip
//	    storage_device           -          environment, serial_number, capacity_gb
//	  group                      -          environment, min_up
//	    cluster                  -          environment, min_up
//	  location                   -          environment, country
//
// Attributes whose values are fixed, with the values they take:
//
//	environment: production, staging, test, development
//	criticality: critical, high, medium, low
//
// # Relationship types
//
//	type             parent::child               flow      dependent  card.  on delete
//	depends_on       Depends on::Used by          to→from   -          N:N    detach
//	runs_on          Runs on::Runs                to→from   from       N:1    cascade
//	hosted_on        Hosted on::Hosts             to→from   from       N:1    cascade
//	contains         Contains::Contained by       to→from   to         1:N    cascade
//	member_of        Member of::Members           from→to*  -          N:N    detach
//	powers           Powers::Powered by           from→to*  -          N:N    detach
//	connects_to      Connects to::Connected by    both (off by default)  N:N  detach
//	uses             Uses::Used by                to→from   -          N:N    detach
//	provides         Provides::Provided by        from→to   -          N:N    detach
//	virtualized_by   Virtualized by::Virtualizes  to→from   from       N:1    restrict
//	manages, owned_by, located_in                 none      -          N:N    detach
//
// A relationship reads From, parent name, To ("app runs on vm"); "to→from"
// means the To CI's failure impacts the From CI. Types marked * are
// redundant: the receiving CI is impacted only when fewer than its min_up
// providers of that type remain up. Hosting (runs on, hosted on, virtualized
// by) and containment types are acyclic together.
//
// # The graph
//
// A Graph holds one tenant's CIs and relationships for analysis: dense
// integer nodes and one compressed adjacency (CSR) holding both directions,
// each CI's relationships from it then those to it in one run, no pointer
// or map per relationship (about 300 MiB for 10^6 CIs and 3×10^6
// relationships). Writes refuse dangling relationships, class pairs the type
// does not allow, duplicates, cardinality breaks and hosting or containment
// cycles; new relationships wait in an append buffer merged into the arrays
// at amortised O(1) cost. Generate builds a realistic, seeded CMDB of any
// size.
//
// A graph is a derived index of the CMDB, not a second store: the
// Repository is the record, and the host keeps each tenant's graph in step
// with it. LoadGraph builds one from a repository page by page (and
// Snapshot.Graph from a snapshot); after that the host applies every write
// the repository accepted to the graph as well — CreateCI/AddCI,
// UpdateCI/UpdateCI, CreateRelationship/AddRelationship,
// DeleteRelationship/RemoveRelationship, DeleteCI/RemoveCI (which cascades,
// detaches and restricts as DeleteCI does and removes the same CIs) — or
// loads the graph afresh. A graph that missed writes answers from the
// CMDB as it was.
//
// # Impact analysis
//
// Graph.Impact answers "what does the failure of these CIs impact"
// (Downstream) or "what do they depend on" (Upstream): each type carries
// impact its own way; redundancy groups are impacted only when fewer than
// their min_up providers remain up; CIs in maintenance are reported but stop
// propagation; planned and retired CIs are absent; exclusions, depth, node
// and fan-out caps (with the reasons for truncation) bound the walk. Every
// CI reached comes with the first shortest path that reached it
// (Impact.Path) and the business services reached are the headline
// (Impact.Services). Results are deterministic. Impact.DOT and Impact.Mermaid
// draw an analysis; Graph.Neighbourhood returns a Subgraph to draw.
//
// # Identification, reconciliation and health
//
// Stores keep CIs as Records: the CI plus what each discovery source last
// said about it (claims per attribute, with instants), per-attribute
// provenance and a duplicate-of pointer. A Reconciler built from Rules
// (identifier rules per class, inherited; ranked sources per attribute with
// staleness windows; the mass-delete guard's threshold) turns a Batch from
// one source into a Plan over a Snapshot — pure decision logic, the dry
// run — and Plan.Apply writes it through a Repository; Reconcile does both
// with bounded retries on conflicts. Runs of the same source may overlap:
// a Repository lets one CI carry a native key at most, so of two runs
// creating the CI of one new item the second fails (itsm.ErrAlreadyExists,
// which Apply reports as itsm.ErrConflict), re-plans and updates the CI
// the first created. Registry.Health measures completeness,
// correctness, compliance and relationship health of a Snapshot.
//
// # Errors
//
// Bad input is a *itsm.ValidationError naming the field, never a panic;
// duplicates wrap itsm.ErrAlreadyExists and missing records itsm.ErrNotFound.
//
// # Concurrency
//
// A Registry is configured once and then read from any goroutine. A Graph
// serves concurrent analyses; its writes need exclusive access (a
// sync.RWMutex in the host). Values returned by the package share no memory
// with its internals, except that an Impact reads the Graph it came from
// when asked for the CIs it reached (Impact.At, Path, DOT, …): like a query,
// that is safe alongside other queries but not alongside the Graph's writes.
package cmdb
