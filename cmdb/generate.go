package cmdb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
)

// GenerateOptions shapes a generated CMDB.
type GenerateOptions struct {
	// CIs is how many CIs to make; at least 100.
	CIs int
	// Seed makes the CMDB: the same seed and size give the same CIs, IDs and
	// relationships.
	Seed uint64
	// Tenant owns everything; empty means "demo".
	Tenant itsm.TenantID
	// At stamps Created and Updated; zero means 2026-01-01T00:00:00Z.
	At time.Time
}

// generator shares: parts per thousand of the CIs, by class.
var genShares = []struct {
	class ClassName
	per   int
}{
	{ClassLocation, 1}, {ClassGroup, 1}, {ClassBusinessService, 5}, {ClassServiceOffering, 5},
	{ClassApplicationService, 20}, {ClassApplication, 230}, {ClassDatabase, 40}, {ClassContainer, 120},
	{ClassVirtualMachine, 380}, {ClassServer, 150}, {ClassCluster, 19}, {ClassNetworkDevice, 24},
	{ClassStorageDevice, 5},
}

// Generate builds a realistic CMDB of about opts.CIs CIs and three
// relationships per CI into a new graph over reg, and compacts it:
// business services depend on offerings and application services, which
// depend on their own applications and databases; applications run on
// containers or virtual machines and mostly use applications of their own
// service; containers are hosted on virtual
// machines, which are virtualized by clusters of servers (min_up one fewer
// than the members) and depend on storage; servers of a cluster share an
// access switch, access switches depend on core switches, cores connect in
// a ring; everything sits in a location and services are owned by groups.
// It returns a *itsm.ValidationError naming "cis", "tenant" or "registry".
func Generate(reg *Registry, opts GenerateOptions) (*Graph, error) {
	if opts.CIs < 100 {
		return nil, itsm.NewValidationError("cis", "must be at least 100")
	}
	if opts.Tenant == "" {
		opts.Tenant = "demo"
	}
	if opts.At.IsZero() {
		opts.At = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	g, err := NewGraph(reg, opts.Tenant)
	if err != nil {
		return nil, err
	}
	gen := &genState{g: g, rnd: rand.New(rand.NewPCG(opts.Seed, 0x636d6462)), at: itsm.Normalize(opts.At), first: map[ClassName]int{}, count: map[ClassName]int{}}
	if err := gen.run(opts.CIs); err != nil {
		return nil, err
	}
	g.Compact()
	return g, nil
}

type genState struct {
	g     *Graph
	rnd   *rand.Rand
	at    time.Time
	first map[ClassName]int // node index of the first CI of a class
	count map[ClassName]int
}

// NewUUID draws a version 7 shaped UUID from the seeded source.
func (s *genState) NewUUID() (uuid.UUID, error) {
	var u uuid.UUID
	hi, lo := s.rnd.Uint64(), s.rnd.Uint64()
	for i := range 8 {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return u, nil
}

// id returns the ID of the k-th CI of class c.
func (s *genState) id(c ClassName, k int) ID {
	return IDFromUUID(s.g.nodes[s.first[c]+k%s.count[c]].id)
}

func (s *genState) pick(c ClassName) int { return s.rnd.IntN(s.count[c]) }

func (s *genState) relate(t RelTypeName, fc ClassName, fk int, tc ClassName, tk int) error {
	id, err := NewRelationshipID(s)
	if err != nil {
		return err
	}
	err = s.g.AddRelationship(Relationship{ID: id, Tenant: s.g.tenant, Type: t, From: s.id(fc, fk), To: s.id(tc, tk), Created: s.at})
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("cmdb: generating %s %s: %w", fc, t, err)
	}
	return nil
}

func (s *genState) run(n int) error {
	for _, sh := range genShares {
		s.count[sh.class] = max(1, n*sh.per/1000)
	}
	servers := s.count[ClassServer]
	clusters := s.count[ClassCluster]
	hyper := servers * 8 / 10 // servers that are cluster members; the rest host databases
	perCluster := max(1, hyper/clusters)
	for _, sh := range genShares {
		s.first[sh.class] = len(s.g.nodes)
		for k := range s.count[sh.class] {
			attrs := map[string]Value{"environment": StringValue("production")}
			switch sh.class {
			case ClassServer, ClassVirtualMachine:
				attrs["hostname"] = StringValue(fmt.Sprintf("%s-%07d.example", sh.class, k))
			case ClassDatabase:
				attrs["engine"] = StringValue("postgres")
			case ClassContainer:
				attrs["image"] = StringValue("registry.example/app:1")
			case ClassCluster:
				attrs[AttrMinUp] = IntValue(int64(max(1, perCluster-1)))
			}
			id, err := NewID(s)
			if err != nil {
				return err
			}
			c := CI{ID: id, Tenant: s.g.tenant, Class: sh.class, Name: fmt.Sprintf("%s-%07d", sh.class, k),
				Status: StatusInUse, Attributes: attrs, Created: s.at, Updated: s.at}
			if err := s.g.AddCI(c); err != nil {
				return err
			}
		}
	}
	nets := s.count[ClassNetworkDevice]
	cores := max(1, nets/20)
	var err error
	rel := func(t RelTypeName, fc ClassName, fk int, tc ClassName, tk int) {
		if err == nil {
			err = s.relate(t, fc, fk, tc, tk)
		}
	}
	for k := range s.count[ClassServiceOffering] {
		rel(RelDependsOn, ClassBusinessService, k, ClassServiceOffering, k)
	}
	for k := range s.count[ClassBusinessService] {
		rel(RelOwnedBy, ClassBusinessService, k, ClassGroup, s.pick(ClassGroup))
		for range 2 {
			rel(RelDependsOn, ClassBusinessService, k, ClassApplicationService, s.pick(ClassApplicationService))
		}
	}
	for k := range s.count[ClassApplicationService] {
		rel(RelDependsOn, ClassBusinessService, s.pick(ClassBusinessService), ClassApplicationService, k)
		rel(RelOwnedBy, ClassApplicationService, k, ClassGroup, s.pick(ClassGroup))
	}
	// Applications and databases belong to one application service each
	// (k modulo the services), depend on their own service's databases and
	// mostly use applications of their own service: services couple
	// through shared infrastructure, not through random application links.
	svcs := s.count[ClassApplicationService]
	local := func(c ClassName, svc int) int {
		per := max(1, s.count[c]/svcs)
		return (svc + svcs*s.rnd.IntN(per)) % s.count[c]
	}
	for k := range s.count[ClassApplication] {
		svc := k % svcs
		rel(RelDependsOn, ClassApplicationService, svc, ClassApplication, k)
		rel(RelDependsOn, ClassApplication, k, ClassDatabase, local(ClassDatabase, svc))
		o := local(ClassApplication, svc)
		if k%20 == 0 {
			o = s.pick(ClassApplication)
		}
		if o != k {
			rel(RelUses, ClassApplication, k, ClassApplication, o)
		}
		if k%2 == 0 {
			rel(RelRunsOn, ClassApplication, k, ClassContainer, s.pick(ClassContainer))
		} else {
			rel(RelRunsOn, ClassApplication, k, ClassVirtualMachine, s.pick(ClassVirtualMachine))
		}
		rel(RelOwnedBy, ClassApplication, k, ClassGroup, s.pick(ClassGroup))
	}
	for k := range s.count[ClassDatabase] {
		rel(RelDependsOn, ClassApplicationService, k%svcs, ClassDatabase, k)
		if k%10 < 7 || hyper == servers {
			rel(RelRunsOn, ClassDatabase, k, ClassVirtualMachine, s.pick(ClassVirtualMachine))
		} else {
			rel(RelRunsOn, ClassDatabase, k, ClassServer, hyper+s.rnd.IntN(servers-hyper))
		}
	}
	for k := range s.count[ClassContainer] {
		rel(RelHostedOn, ClassContainer, k, ClassVirtualMachine, s.pick(ClassVirtualMachine))
	}
	for k := range s.count[ClassVirtualMachine] {
		rel(RelVirtualizedBy, ClassVirtualMachine, k, ClassCluster, s.pick(ClassCluster))
		rel(RelDependsOn, ClassVirtualMachine, k, ClassStorageDevice, s.pick(ClassStorageDevice))
		rel(RelLocatedIn, ClassVirtualMachine, k, ClassLocation, s.pick(ClassLocation))
	}
	access := max(1, nets-cores)
	for k := range servers {
		cl := min(k/perCluster, clusters-1)
		if k < hyper {
			rel(RelMemberOf, ClassServer, k, ClassCluster, cl)
		}
		// A cluster's members share a rack and its access switch.
		sw := cores + (cl*7)%access
		if k >= hyper {
			sw = cores + k%access
		}
		rel(RelDependsOn, ClassServer, k, ClassNetworkDevice, sw)
		rel(RelLocatedIn, ClassServer, k, ClassLocation, cl%s.count[ClassLocation])
	}
	for k := range clusters {
		rel(RelDependsOn, ClassCluster, k, ClassStorageDevice, s.pick(ClassStorageDevice))
	}
	for k := cores; k < nets; k++ {
		rel(RelDependsOn, ClassNetworkDevice, k, ClassNetworkDevice, k%cores)
		rel(RelLocatedIn, ClassNetworkDevice, k, ClassLocation, k%s.count[ClassLocation])
	}
	for k := range cores {
		if cores > 1 {
			rel(RelConnectsTo, ClassNetworkDevice, k, ClassNetworkDevice, (k+1)%cores)
		}
	}
	for k := range s.count[ClassStorageDevice] {
		rel(RelLocatedIn, ClassStorageDevice, k, ClassLocation, k%s.count[ClassLocation])
	}
	return err
}

// isDuplicate reports a relationship the generator drew twice.
func isDuplicate(err error) bool { return errors.Is(err, itsm.ErrAlreadyExists) }
