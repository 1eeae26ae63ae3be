package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

// The conformance suite's CMDB group skips a store without the capability;
// this keeps it from silently doing so here.
func TestCMDBCapabilityIsOffered(t *testing.T) {
	s, _ := openStore(t)
	reg := cmdb.NewRegistry()
	_, err := storage.Require[storage.CMDB](s)
	require.NoError(t, err, "the store")
	repo, err := storage.CMDBRepository(s, reg)
	require.NoError(t, err)
	_, atomic := repo.(cmdb.Atomic)
	assert.True(t, atomic, "with transactions the repository is cmdb.Atomic")
	require.NoError(t, s.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
		_, err := storage.Require[storage.CMDB](tx)
		return err
	}), "the transaction's store")
}

// cmdbFixture makes valid records for the PostgreSQL-only CMDB tests.
type cmdbFixture struct {
	t      *testing.T
	repo   cmdb.Repository
	ids    *itsmtest.IDs
	tenant itsm.TenantID
	mu     sync.Mutex
	n      int
}

var cmdbAt = time.Date(2026, 5, 6, 8, 0, 0, 0, time.UTC)

// relBackedUpBy is a user-defined N:1 type that is neither hosting nor
// containment, so that only the end locks keep its cardinality.
const relBackedUpBy cmdb.RelTypeName = "backed_up_by"

func newCMDBFixture(t *testing.T) (*cmdbFixture, *postgres.Store) {
	s, _ := openStore(t)
	reg := cmdb.NewRegistry()
	require.NoError(t, reg.AddRelType(cmdb.RelType{
		Name: relBackedUpBy, Parent: "Backed up by", Child: "Backs up", Kind: cmdb.KindUsage,
		Flow: cmdb.FlowToFrom, Cardinality: cmdb.ManyToOne, OnDelete: cmdb.DeleteDetach,
		Allowed: []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}},
	}))
	return &cmdbFixture{t: t, repo: s.CMDB(reg), ids: itsmtest.NewIDs(6), tenant: "acme"}, s
}

func (f *cmdbFixture) uuid() uuid.UUID {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.ids.NewUUID()
	require.NoError(f.t, err)
	return u
}

// record returns a new, valid record of class in the fixture's tenant.
func (f *cmdbFixture) record(class cmdb.ClassName) cmdb.Record {
	f.mu.Lock()
	f.n++
	name := fmt.Sprintf("%s-%02d", class, f.n)
	f.mu.Unlock()
	attrs := map[string]cmdb.Value{}
	if class == cmdb.ClassServer || class == cmdb.ClassVirtualMachine {
		attrs["hostname"] = cmdb.StringValue(name)
	}
	return cmdb.Record{
		CI: cmdb.CI{
			ID: cmdb.IDFromUUID(f.uuid()), Tenant: f.tenant, Class: class, Name: name,
			Status: cmdb.StatusInUse, Attributes: attrs, Created: cmdbAt, Updated: cmdbAt,
		},
		Sources: map[cmdb.SourceName]cmdb.SourceState{"scan": {
			NativeID: "n-" + name, LastSeen: cmdbAt,
			Claims: map[string]cmdb.Claim{cmdb.NameKey: {Value: cmdb.StringValue(name), At: cmdbAt}},
		}},
	}
}

func (f *cmdbFixture) create(class cmdb.ClassName) cmdb.Record {
	f.t.Helper()
	r := f.record(class)
	require.NoError(f.t, f.repo.CreateCI(context.Background(), r))
	r.Version = 1
	return r
}

func (f *cmdbFixture) rel(t cmdb.RelTypeName, from, to cmdb.Record) cmdb.Relationship {
	return cmdb.Relationship{ID: cmdb.RelationshipIDFromUUID(f.uuid()), Tenant: f.tenant, Type: t, From: from.ID, To: to.ID, Created: cmdbAt}
}

func (f *cmdbFixture) relate(t cmdb.RelTypeName, from, to cmdb.Record) {
	f.t.Helper()
	require.NoError(f.t, f.repo.CreateRelationship(context.Background(), f.rel(t, from, to)))
}

// allRelationships lists the tenant's relationships.
func (f *cmdbFixture) allRelationships() []cmdb.Relationship {
	f.t.Helper()
	page, err := f.repo.ListRelationships(context.Background(), f.tenant, cmdb.RelationshipPage{Limit: cmdb.MaxPageLimit})
	require.NoError(f.t, err)
	require.True(f.t, page.Next.IsZero())
	return page.Items
}

// allRecords lists the tenant's records.
func (f *cmdbFixture) allRecords() []cmdb.Record {
	f.t.Helper()
	page, err := f.repo.ListCIs(context.Background(), f.tenant, cmdb.Filter{}, cmdb.Page{Limit: cmdb.MaxPageLimit})
	require.NoError(f.t, err)
	require.True(f.t, page.Next.IsZero())
	return page.Items
}

// Writers that each pass the integrity checks on their own but together
// would break an invariant: the locks must let at most the permitted
// number through, and the loser hears a validation error or a conflict.
func TestCMDBIntegrityHoldsUnderConcurrentWriters(t *testing.T) {
	const rounds = 5
	tests := []struct {
		name string
		// prepare stores what the round needs and returns the racing
		// writes.
		prepare func(f *cmdbFixture) []func(ctx context.Context) error
		// check asserts the invariant on the outcome (nil: the write won).
		check func(t *testing.T, f *cmdbFixture, errs []error)
	}{
		{"an N:1 end gains one relationship (hosting)", func(f *cmdbFixture) []func(context.Context) error {
			app := f.create(cmdb.ClassApplication)
			var ws []func(context.Context) error
			for range 6 {
				rel := f.rel(cmdb.RelRunsOn, app, f.create(cmdb.ClassServer))
				ws = append(ws, func(ctx context.Context) error { return f.repo.CreateRelationship(ctx, rel) })
			}
			return ws
		}, func(t *testing.T, f *cmdbFixture, errs []error) {
			assert.Equal(t, 1, wins(errs), "exactly one")
			assert.Len(t, f.allRelationships(), 1)
		}},
		{"an N:1 end gains one relationship (usage)", func(f *cmdbFixture) []func(context.Context) error {
			app := f.create(cmdb.ClassApplication)
			var ws []func(context.Context) error
			for range 6 {
				rel := f.rel(relBackedUpBy, app, f.create(cmdb.ClassServer))
				ws = append(ws, func(ctx context.Context) error { return f.repo.CreateRelationship(ctx, rel) })
			}
			return ws
		}, func(t *testing.T, f *cmdbFixture, errs []error) {
			assert.Equal(t, 1, wins(errs), "exactly one")
			assert.Len(t, f.allRelationships(), 1)
		}},
		{"two edges with no common end close a containment cycle", func(f *cmdbFixture) []func(context.Context) error {
			s1, s2 := f.create(cmdb.ClassServer), f.create(cmdb.ClassServer)
			d1, d2 := f.create(cmdb.ClassStorageDevice), f.create(cmdb.ClassStorageDevice)
			f.relate(cmdb.RelContains, s1, d1)
			f.relate(cmdb.RelContains, s2, d2)
			// s1 ⊃ d1 ⊃ s2 ⊃ d2 ⊃ s1: each new edge alone is fine.
			a, b := f.rel(cmdb.RelContains, d1, s2), f.rel(cmdb.RelContains, d2, s1)
			return []func(context.Context) error{
				func(ctx context.Context) error { return f.repo.CreateRelationship(ctx, a) },
				func(ctx context.Context) error { return f.repo.CreateRelationship(ctx, b) },
			}
		}, func(t *testing.T, f *cmdbFixture, errs []error) {
			assert.Equal(t, 1, wins(errs), "one edge is stored, the other would close the cycle")
			assert.Len(t, f.allRelationships(), 3)
		}},
		{"two pointers make a duplicate chain", func(f *cmdbFixture) []func(context.Context) error {
			a, b, c := f.create(cmdb.ClassServer), f.create(cmdb.ClassServer), f.create(cmdb.ClassServer)
			a.DuplicateOf, b.DuplicateOf = b.ID, c.ID // a → b and b → c
			return []func(context.Context) error{
				func(ctx context.Context) error { return f.repo.UpdateCI(ctx, a) },
				func(ctx context.Context) error { return f.repo.UpdateCI(ctx, b) },
			}
		}, func(t *testing.T, f *cmdbFixture, errs []error) {
			assert.Equal(t, 1, wins(errs))
			noChains(t, f.allRecords())
		}},
		{"a new duplicate of a CI becoming a duplicate", func(f *cmdbFixture) []func(context.Context) error {
			b, c := f.create(cmdb.ClassServer), f.create(cmdb.ClassServer)
			a := f.record(cmdb.ClassServer)
			a.DuplicateOf, b.DuplicateOf = b.ID, c.ID
			return []func(context.Context) error{
				func(ctx context.Context) error { return f.repo.CreateCI(ctx, a) },
				func(ctx context.Context) error { return f.repo.UpdateCI(ctx, b) },
			}
		}, func(t *testing.T, f *cmdbFixture, errs []error) {
			assert.Equal(t, 1, wins(errs))
			noChains(t, f.allRecords())
		}},
		{"relationships to a CI being deleted", func(f *cmdbFixture) []func(context.Context) error {
			host := f.create(cmdb.ClassServer)
			ws := []func(context.Context) error{func(ctx context.Context) error {
				_, err := f.repo.DeleteCI(ctx, f.tenant, host.ID, host.Version)
				return err
			}}
			for range 4 {
				rel := f.rel(cmdb.RelDependsOn, f.create(cmdb.ClassApplication), host)
				ws = append(ws, func(ctx context.Context) error { return f.repo.CreateRelationship(ctx, rel) })
			}
			return ws
		}, func(t *testing.T, f *cmdbFixture, errs []error) {
			require.NoError(t, errs[0], "depends on detaches, so the deletion always succeeds")
			alive := map[cmdb.ID]bool{}
			for _, r := range f.allRecords() {
				alive[r.ID] = true
			}
			for _, rel := range f.allRelationships() {
				assert.True(t, alive[rel.From] && alive[rel.To], "relationship %s dangles", rel.ID)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newCMDBFixture(t)
			for round := range rounds {
				// Each round in a tenant of its own.
				f.tenant = itsm.TenantID(fmt.Sprintf("round-%d", round))
				writes := tc.prepare(f)
				errs := make([]error, len(writes))
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, w := range writes {
					wg.Go(func() {
						<-start
						errs[i] = w(context.Background())
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err == nil || errors.Is(err, itsm.ErrConflict) {
						continue
					}
					var ve *itsm.ValidationError
					require.ErrorAs(t, err, &ve, "round %d, write %d: a loser hears a validation error or a conflict", round, i)
				}
				tc.check(t, f, errs)
			}
		})
	}
}

func wins(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

// noChains asserts that no record points at a duplicate.
func noChains(t *testing.T, recs []cmdb.Record) {
	t.Helper()
	dup := map[cmdb.ID]bool{}
	for _, r := range recs {
		dup[r.ID] = !r.DuplicateOf.IsZero()
	}
	for _, r := range recs {
		if !r.DuplicateOf.IsZero() {
			assert.False(t, dup[r.DuplicateOf], "%s → %s → … is a chain", r.ID, r.DuplicateOf)
		}
	}
}

func TestCMDBTextPostgreSQLCannotHold(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *cmdb.Record)
		field  string // "" when the text is stored exactly
	}{
		{"NUL in the name", func(r *cmdb.Record) { r.Name = "web\x0001" }, "name"},
		{"NUL in the owner", func(r *cmdb.Record) { r.Owner = "ops\x00" }, "owner"},
		{"NUL in an attribute", func(r *cmdb.Record) { r.Attributes["os"] = cmdb.StringValue("Linux\x00") }, "attributes.os"},
		{"NUL in a native ID", func(r *cmdb.Record) {
			st := r.Sources["scan"]
			st.NativeID = "n\x00"
			r.Sources["scan"] = st
		}, "sources.scan.native_id"},
		{"NUL in a claim", func(r *cmdb.Record) {
			r.Sources["scan"].Claims["os"] = cmdb.Claim{Value: cmdb.StringValue("\x00"), At: cmdbAt}
		}, "sources.scan.claims.os.value"},
		{"SQL in the name", func(r *cmdb.Record) { r.Name = `web'); DROP TABLE cmdb_cis; --` }, ""},
		{"an escaped NUL as text", func(r *cmdb.Record) { r.Name = `web\u0000` }, ""},
	}
	f, _ := newCMDBFixture(t)
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.record(cmdb.ClassServer)
			tc.change(&r)
			err := f.repo.CreateCI(ctx, r)
			if tc.field == "" {
				require.NoError(t, err)
				got, err := f.repo.GetCI(ctx, "acme", r.ID)
				require.NoError(t, err)
				r.Version = 1
				assert.Equal(t, r, got, "stored exactly")
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "the error names %q: %v", tc.field, err)
			_, err = f.repo.GetCI(ctx, "acme", r.ID)
			require.ErrorIs(t, err, itsm.ErrNotFound, "nothing was written")

			// An update is refused the same way.
			stored := f.create(cmdb.ClassServer)
			u := stored.Clone()
			tc.change(&u)
			err = f.repo.UpdateCI(ctx, u)
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "the error names %q: %v", tc.field, err)
			got, err := f.repo.GetCI(ctx, "acme", stored.ID)
			require.NoError(t, err)
			assert.Equal(t, stored, got)
		})
	}
}

// The reconciliation planner works on the PostgreSQL repository exactly as
// on the memory store: the same batches from two sources, with a dry run
// before each apply, leave both stores in the same state, the state the
// dry run predicted.
func TestCMDBReconciliationMatchesTheMemoryStore(t *testing.T) {
	ctx := context.Background()
	reg := cmdb.NewRegistry()
	rules := cmdb.DefaultRules()
	rules.Authority = map[cmdb.ClassName]map[string][]cmdb.Authority{
		cmdb.ClassComputer: {"os": {{Source: "sccm", Staleness: 7 * 24 * time.Hour}, {Source: "vcenter"}}},
	}
	rc, err := cmdb.NewReconciler(reg, rules)
	require.NoError(t, err)
	s, _ := openStore(t)
	pg, err := storage.CMDBRepository(s, reg)
	require.NoError(t, err)
	mem, err := storage.CMDBRepository(memory.New(), reg)
	require.NoError(t, err)
	pgIDs, memIDs := itsmtest.NewIDs(66), itsmtest.NewIDs(66)

	str := cmdb.StringValue
	server := func(native, name, serial, os string) cmdb.Item {
		attrs := map[string]cmdb.Value{"hostname": str(name), "serial_number": str(serial)}
		if os != "" {
			attrs["os"] = str(os)
		}
		return cmdb.Item{NativeID: native, Class: cmdb.ClassServer, Name: name, Attributes: attrs}
	}
	batches := []struct {
		name  string
		batch cmdb.Batch
		check func(t *testing.T, p *cmdb.Plan)
	}{
		{"vcenter reports three servers, a VM and an application", cmdb.Batch{Source: "vcenter", Complete: true, Items: []cmdb.Item{
			server("h-1", "web01", "CZ1", "Linux"),
			server("h-2", "web02", "CZ2", ""),
			server("h-3", "web03", "CZ3", ""),
			{NativeID: "vm-1", Class: cmdb.ClassVirtualMachine, Name: "shop-vm", Attributes: map[string]cmdb.Value{"hostname": str("shop-vm")},
				Links: []cmdb.Link{{Type: cmdb.RelVirtualizedBy, Target: "h-1"}}},
			{NativeID: "app-1", Class: cmdb.ClassApplication, Name: "shop", Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: "vm-1"}}},
		}}, func(t *testing.T, p *cmdb.Plan) {
			assert.Len(t, p.Creates, 5)
			assert.Len(t, p.AddRelationships, 2)
		}},
		{"sccm matches two of them by serial and overrides the OS", cmdb.Batch{Source: "sccm", Complete: true, Items: []cmdb.Item{
			server("A-1", "web01", "CZ1", "Windows Server 2022"),
			server("A-2", "WEB02", "CZ2", "Windows Server 2019"),
		}}, func(t *testing.T, p *cmdb.Plan) {
			assert.Empty(t, p.Creates)
			require.Len(t, p.Outcomes, 2)
			for _, o := range p.Outcomes {
				assert.Contains(t, o.MatchedBy, "serial_number")
			}
		}},
		{"vcenter moves the VM and stops listing web03", cmdb.Batch{Source: "vcenter", Complete: true, Items: []cmdb.Item{
			server("h-1", "web01", "CZ1", "Linux"),
			server("h-2", "web02", "CZ2", ""),
			{NativeID: "vm-1", Class: cmdb.ClassVirtualMachine, Name: "shop-vm", Attributes: map[string]cmdb.Value{"hostname": str("shop-vm")},
				Links: []cmdb.Link{{Type: cmdb.RelVirtualizedBy, Target: "h-2"}}},
			{NativeID: "app-1", Class: cmdb.ClassApplication, Name: "shop", Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: "vm-1"}}},
		}}, func(t *testing.T, p *cmdb.Plan) {
			assert.Len(t, p.Retirements, 1, "web03: no source lists it any more")
			assert.Len(t, p.RemoveRelationships, 1, "the VM's old host")
			assert.Len(t, p.AddRelationships, 1, "the VM's new host")
		}},
	}
	for i, b := range batches {
		b.batch.Tenant = "acme"
		b.batch.At = cmdbAt.Add(time.Duration(i) * time.Hour)
		ok := t.Run(b.name, func(t *testing.T) {
			before, err := cmdb.LoadSnapshot(ctx, pg, "acme")
			require.NoError(t, err)
			plan, err := rc.DryRun(ctx, pg, pgIDs, b.batch)
			require.NoError(t, err)
			b.check(t, plan)
			after, err := cmdb.LoadSnapshot(ctx, pg, "acme")
			require.NoError(t, err)
			assert.Equal(t, before.Records(), after.Records(), "a dry run writes nothing")
			predicted, err := before.Apply(plan)
			require.NoError(t, err)

			require.NoError(t, plan.Apply(ctx, pg))
			_, err = rc.Reconcile(ctx, mem, memIDs, b.batch)
			require.NoError(t, err)

			got, err := cmdb.LoadSnapshot(ctx, pg, "acme")
			require.NoError(t, err)
			want, err := cmdb.LoadSnapshot(ctx, mem, "acme")
			require.NoError(t, err)
			sameJSON(t, want.Records(), got.Records(), "PostgreSQL and memory agree")
			sameJSON(t, want.Relationships(), got.Relationships(), "PostgreSQL and memory agree")
			sameJSON(t, predicted.Records(), got.Records(), "the dry run predicted the result")
			sameJSON(t, predicted.Relationships(), got.Relationships(), "the dry run predicted the result")
		})
		if !ok {
			return
		}
	}
	t.Run("the last batch again changes nothing", func(t *testing.T) {
		last := batches[len(batches)-1].batch
		last.Tenant, last.At = "acme", cmdbAt.Add(time.Duration(len(batches))*time.Hour)
		p, err := rc.DryRun(ctx, pg, pgIDs, last)
		require.NoError(t, err)
		for _, u := range p.Updates {
			assert.Empty(t, u.Changes, "CI %s: only reconciliation data moves on", u.Before.ID)
		}
		assert.Empty(t, p.Creates)
		assert.Empty(t, p.AddRelationships)
		assert.Empty(t, p.RemoveRelationships)
		assert.Empty(t, p.Retirements)
	})
}

// sameJSON compares what the stores hold as their JSON: a store may hand
// back an empty map as nil (JSON cannot tell them apart), nothing else.
func sameJSON(t *testing.T, want, got any, msg string) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g), msg)
}
