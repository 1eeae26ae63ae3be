package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// runCMDB checks the storage.CMDB capability; stores without it skip.
func runCMDB(t *testing.T, open Opener) {
	t.Run("round trip", func(t *testing.T) { testCMDBRoundTrip(t, open) })
	t.Run("create refuses", func(t *testing.T) { testCMDBCreateRefuses(t, open) })
	t.Run("missing", func(t *testing.T) { testCMDBMissing(t, open) })
	t.Run("update refuses", func(t *testing.T) { testCMDBUpdateRefuses(t, open) })
	t.Run("concurrent writers", func(t *testing.T) { testCMDBConcurrentWriters(t, open) })
	t.Run("no aliasing", func(t *testing.T) { testCMDBNoAliasing(t, open) })
	t.Run("nil and empty maps", func(t *testing.T) { testCMDBMapsAsGiven(t, open) })
	t.Run("list", func(t *testing.T) { testCMDBList(t, open) })
	t.Run("tenant isolation", func(t *testing.T) { testCMDBTenantIsolation(t, open) })
	t.Run("lookups with text no record can hold", func(t *testing.T) { testCMDBUnstorableLookups(t, open) })
	t.Run("relationship integrity", func(t *testing.T) { testCMDBRelationships(t, open) })
	t.Run("delete behaviour", func(t *testing.T) { testCMDBDelete(t, open) })
	t.Run("cancelled context", func(t *testing.T) { testCMDBCancelled(t, open) })
	t.Run("rolled back", func(t *testing.T) { testCMDBRollback(t, open) })
	runCMDBNativeKeys(t, open)
}

// cmdbEnv is one CMDB test's repository and the means to fill it.
type cmdbEnv struct {
	t     *testing.T
	store storage.Store
	reg   *cmdb.Registry
	repo  cmdb.Repository
	ids   *itsmtest.IDs
	n     int
	mu    sync.Mutex
}

func newCMDBEnv(t *testing.T, open Opener) *cmdbEnv {
	t.Helper()
	s := open(t)
	require.NotNil(t, s, "the opener returned no store")
	c := capability[storage.CMDB](t, s)
	reg := cmdb.NewRegistry()
	repo := c.CMDB(reg)
	require.NotNil(t, repo, "the store returned no CMDB repository")
	return &cmdbEnv{t: t, store: s, reg: reg, repo: repo, ids: itsmtest.NewIDs(20260506)}
}

func (e *cmdbEnv) ciID() cmdb.ID {
	u, err := e.ids.NewUUID()
	require.NoError(e.t, err)
	return cmdb.IDFromUUID(u)
}

func (e *cmdbEnv) relID() cmdb.RelationshipID {
	u, err := e.ids.NewUUID()
	require.NoError(e.t, err)
	return cmdb.RelationshipIDFromUUID(u)
}

// record returns a new, valid record of class in tenant, version 0, with
// reconciliation data filled in.
func (e *cmdbEnv) record(tenant itsm.TenantID, class cmdb.ClassName) cmdb.Record {
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	at := base.Add(time.Duration(n) * time.Minute)
	name := fmt.Sprintf("%s-%03d", class, n)
	attrs := map[string]cmdb.Value{}
	switch {
	case e.reg.IsA(class, cmdb.ClassComputer):
		attrs["hostname"] = cmdb.StringValue(name)
		attrs["cpu_count"] = cmdb.IntValue(8)
	case class == cmdb.ClassDatabase:
		attrs["engine"] = cmdb.StringValue("postgresql")
	case class == cmdb.ClassContainer:
		attrs["image"] = cmdb.StringValue("nginx:1.27")
	}
	attrs["environment"] = cmdb.StringValue("production")
	return cmdb.Record{
		CI: cmdb.CI{
			ID: e.ciID(), Tenant: tenant, Class: class, Name: name, Status: cmdb.StatusInUse,
			Owner: "owner-1", SupportGroup: "infra", Attributes: attrs, Created: at, Updated: at,
		},
		Sources: map[cmdb.SourceName]cmdb.SourceState{"scan": {
			NativeID: "n-" + name, LastSeen: at,
			Claims: map[string]cmdb.Claim{cmdb.NameKey: {Value: cmdb.StringValue(name), At: at}, "environment": {Value: cmdb.StringValue("production"), At: at}},
		}},
		Provenance: map[string]cmdb.Provenance{cmdb.NameKey: {Source: "scan", At: at}, "environment": {Source: "scan", At: at}},
	}
}

// create stores a new record and returns it as stored (version 1).
func (e *cmdbEnv) create(tenant itsm.TenantID, class cmdb.ClassName, mods ...func(*cmdb.Record)) cmdb.Record {
	e.t.Helper()
	r := e.record(tenant, class)
	for _, m := range mods {
		m(&r)
	}
	require.NoError(e.t, e.reg.ValidateRecord(r), "the suite's own records must be valid")
	require.NoError(e.t, e.repo.CreateCI(context.Background(), r))
	r.Version = 1
	return r
}

// relate stores a relationship and returns it.
func (e *cmdbEnv) relate(t cmdb.RelTypeName, from, to cmdb.Record) cmdb.Relationship {
	e.t.Helper()
	rel := cmdb.Relationship{ID: e.relID(), Tenant: from.Tenant, Type: t, From: from.ID, To: to.ID, Created: base}
	require.NoError(e.t, e.repo.CreateRelationship(context.Background(), rel))
	return rel
}

func (e *cmdbEnv) get(tenant itsm.TenantID, id cmdb.ID) cmdb.Record {
	e.t.Helper()
	r, err := e.repo.GetCI(context.Background(), tenant, id)
	require.NoError(e.t, err)
	return r
}

// touch changes r's attributes the way reconciliation would.
func touch(r cmdb.Record, desc string) cmdb.Record {
	r = r.Clone()
	at := r.Updated.Add(time.Second)
	r.Attributes["description"] = cmdb.StringValue(desc)
	r.Updated = at
	st := r.Sources["scan"]
	st.LastSeen = at
	st.Claims["description"] = cmdb.Claim{Value: cmdb.StringValue(desc), At: at}
	r.Sources["scan"] = st
	r.Provenance["description"] = cmdb.Provenance{Source: "scan", At: at}
	return r
}

func testCMDBRoundTrip(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	ctx := context.Background()
	r := e.record(tenantA, cmdb.ClassServer)
	require.NoError(t, e.repo.CreateCI(ctx, r))
	want := r.Clone()
	want.Version = 1
	assert.Equal(t, want, e.get(tenantA, r.ID), "GetCI returns what CreateCI stored, at version 1")

	next := touch(want, "Linux")
	require.NoError(t, e.repo.UpdateCI(ctx, next))
	want = next.Clone()
	want.Version = 2
	assert.Equal(t, want, e.get(tenantA, r.ID), "UpdateCI stores the record at version+1")

	other := e.create(tenantA, cmdb.ClassApplication)
	rel := e.relate(cmdb.RelRunsOn, other, want)
	got, err := e.repo.GetRelationship(ctx, tenantA, rel.ID)
	require.NoError(t, err)
	assert.Equal(t, rel, got)
	of, err := e.repo.RelationshipsOf(ctx, tenantA, want.ID)
	require.NoError(t, err)
	assert.Equal(t, []cmdb.Relationship{rel}, of)
	require.NoError(t, e.repo.DeleteRelationship(ctx, tenantA, rel.ID))
	_, err = e.repo.GetRelationship(ctx, tenantA, rel.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
}

// A record's nil maps come back nil and its empty ones empty, through
// CreateCI, UpdateCI, GetCI and ListCIs: a store stores what it is given
// exactly.
func testCMDBMapsAsGiven(t *testing.T, open Opener) {
	set := func(r *cmdb.Record, empty bool) {
		if !empty {
			r.Attributes, r.Provenance = nil, nil
			st := r.Sources["scan"]
			st.Claims = nil
			r.Sources["scan"] = st
			return
		}
		r.Attributes, r.Provenance = map[string]cmdb.Value{}, map[string]cmdb.Provenance{}
		st := r.Sources["scan"]
		st.Claims = map[string]cmdb.Claim{}
		r.Sources["scan"] = st
	}
	ctx := context.Background()
	for _, empty := range []bool{false, true} {
		for _, noSources := range []bool{false, true} {
			t.Run(fmt.Sprintf("empty=%t/no sources=%t", empty, noSources), func(t *testing.T) {
				e := newCMDBEnv(t, open)
				r := e.record(tenantA, cmdb.ClassApplication)
				set(&r, empty)
				if noSources {
					r.Sources = nil
					if empty {
						r.Sources = map[cmdb.SourceName]cmdb.SourceState{}
					}
				}
				require.NoError(t, e.repo.CreateCI(ctx, r))
				want := r.Clone()
				want.Version = 1
				assert.Equal(t, want, e.get(tenantA, r.ID), "GetCI")
				page, err := e.repo.ListCIs(ctx, tenantA, cmdb.Filter{}, cmdb.Page{})
				require.NoError(t, err)
				assert.Equal(t, []cmdb.Record{want}, page.Items, "ListCIs")

				next := want.Clone()
				next.Name += "-renamed"
				next.Updated = next.Updated.Add(time.Second)
				require.NoError(t, e.repo.UpdateCI(ctx, next))
				next.Version = 2
				assert.Equal(t, next, e.get(tenantA, r.ID), "after UpdateCI")
			})
		}
	}
}

func testCMDBCreateRefuses(t *testing.T, open Opener) {
	tests := []struct {
		name   string
		change func(e *cmdbEnv, r *cmdb.Record, stored cmdb.Record)
		field  string
		want   error
	}{
		{"same ID in the tenant", func(_ *cmdbEnv, r *cmdb.Record, s cmdb.Record) { r.ID = s.ID }, "", itsm.ErrAlreadyExists},
		{"same ID in another tenant", func(_ *cmdbEnv, r *cmdb.Record, s cmdb.Record) { r.ID, r.Tenant = s.ID, tenantB }, "", nil},
		{"version set", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.Version = 1 }, "version", itsm.ErrInvalid},
		{"zero ID", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.ID = cmdb.ID{} }, "id", itsm.ErrInvalid},
		{"no tenant", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.Tenant = "" }, "tenant", itsm.ErrInvalid},
		{"missing required attribute", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { delete(r.Attributes, "hostname") }, "attributes.hostname", itsm.ErrInvalid},
		{"bad claim", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) {
			r.Sources["scan"].Claims["cpu_count"] = cmdb.Claim{Value: cmdb.StringValue("8"), At: base}
		}, "sources.scan.claims.cpu_count.value", itsm.ErrInvalid},
		{"duplicate of itself", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.DuplicateOf = r.ID }, "duplicate_of", itsm.ErrInvalid},
		{"duplicate of a missing CI", func(e *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.DuplicateOf = e.ciID() }, "duplicate_of", itsm.ErrInvalid},
		{"duplicate of a duplicate", func(e *cmdbEnv, r *cmdb.Record, s cmdb.Record) {
			d := e.create(tenantA, cmdb.ClassServer, func(d *cmdb.Record) { d.DuplicateOf = s.ID })
			r.DuplicateOf = d.ID
		}, "duplicate_of", itsm.ErrInvalid},
		{"duplicate of an original", func(_ *cmdbEnv, r *cmdb.Record, s cmdb.Record) { r.DuplicateOf = s.ID }, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCMDBEnv(t, open)
			ctx := context.Background()
			stored := e.create(tenantA, cmdb.ClassServer)
			r := e.record(tenantA, cmdb.ClassServer)
			tc.change(e, &r, stored)
			err := e.repo.CreateCI(ctx, r)
			switch {
			case tc.want == nil:
				require.NoError(t, err)
				want := r.Clone()
				want.Version = 1
				assert.Equal(t, want, e.get(r.Tenant, r.ID))
			case tc.field != "":
				validationField(t, err, tc.field)
			default:
				require.ErrorIs(t, err, tc.want)
			}
			if tc.want != nil && !r.ID.IsZero() && r.ID != stored.ID && r.Tenant.Validate() == nil {
				_, err := e.repo.GetCI(ctx, r.Tenant, r.ID)
				require.ErrorIs(t, err, itsm.ErrNotFound, "nothing of the refused record was written")
			}
			assert.Equal(t, stored, e.get(tenantA, stored.ID), "the stored record is untouched")
		})
	}
}

func testCMDBMissing(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	ctx := context.Background()
	stored := e.create(tenantA, cmdb.ClassServer)
	absent := e.record(tenantA, cmdb.ClassServer)
	_, err := e.repo.GetCI(ctx, tenantA, absent.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	_, err = e.repo.GetCI(ctx, "nobody", stored.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "a tenant with nothing stored")
	absent.Version = 1
	require.ErrorIs(t, e.repo.UpdateCI(ctx, absent), itsm.ErrNotFound)
	_, err = e.repo.GetCI(ctx, tenantA, absent.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "UpdateCI never creates")
	_, err = e.repo.DeleteCI(ctx, tenantA, absent.ID, 1)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	_, err = e.repo.GetRelationship(ctx, tenantA, e.relID())
	require.ErrorIs(t, err, itsm.ErrNotFound)
	require.ErrorIs(t, e.repo.DeleteRelationship(ctx, tenantA, e.relID()), itsm.ErrNotFound)
	rels, err := e.repo.RelationshipsOf(ctx, tenantA, absent.ID)
	require.NoError(t, err)
	assert.Empty(t, rels)
}

func testCMDBUpdateRefuses(t *testing.T, open Opener) {
	tests := []struct {
		name   string
		change func(e *cmdbEnv, r *cmdb.Record, read cmdb.Record)
		field  string
		want   error
	}{
		{"stale version", func(_ *cmdbEnv, r *cmdb.Record, read cmdb.Record) { *r = touch(read, "stale") }, "", itsm.ErrConflict},
		{"version from the future", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { *r = touch(*r, "future"); r.Version = 9 }, "", itsm.ErrConflict},
		{"version 0", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.Version = 0 }, "version", itsm.ErrInvalid},
		{"class changed", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) {
			r.Class = cmdb.ClassVirtualMachine
			r.Sources["scan"].Claims["cpu_count"] = cmdb.Claim{Value: cmdb.IntValue(2), At: base}
		}, "class", itsm.ErrInvalid},
		{"invalid record", func(_ *cmdbEnv, r *cmdb.Record, _ cmdb.Record) { r.Name = "" }, "name", itsm.ErrInvalid},
		{"duplicate of a duplicate", func(e *cmdbEnv, r *cmdb.Record, _ cmdb.Record) {
			orig := e.create(tenantA, cmdb.ClassServer)
			d := e.create(tenantA, cmdb.ClassServer, func(d *cmdb.Record) { d.DuplicateOf = orig.ID })
			r.DuplicateOf = d.ID
		}, "duplicate_of", itsm.ErrInvalid},
		{"a CI others duplicate becomes a duplicate", func(e *cmdbEnv, r *cmdb.Record, _ cmdb.Record) {
			e.create(tenantA, cmdb.ClassServer, func(d *cmdb.Record) { d.DuplicateOf = r.ID })
			r.DuplicateOf = e.create(tenantA, cmdb.ClassServer).ID
		}, "duplicate_of", itsm.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCMDBEnv(t, open)
			ctx := context.Background()
			read := e.create(tenantA, cmdb.ClassServer)
			v2 := touch(read, "Linux")
			require.NoError(t, e.repo.UpdateCI(ctx, v2))
			v2.Version = 2
			r := v2.Clone()
			tc.change(e, &r, read)
			err := e.repo.UpdateCI(ctx, r)
			if tc.field != "" {
				validationField(t, err, tc.field)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, v2, e.get(tenantA, read.ID), "a refused update writes nothing")
		})
	}
}

func testCMDBConcurrentWriters(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	read := e.create(tenantA, cmdb.ClassServer)
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			r := touch(read, fmt.Sprintf("writer %d", i))
			<-start
			errs[i] = e.repo.UpdateCI(context.Background(), r)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "writers %d and %d both won", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, itsm.ErrConflict, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "exactly one writer wins")
	want := touch(read, fmt.Sprintf("writer %d", winner))
	want.Version = 2
	assert.Equal(t, want, e.get(tenantA, read.ID))
}

// mutateRecord changes every reference-typed part of r in place.
func mutateRecord(r *cmdb.Record) {
	r.Name = "mutated"
	for k := range r.Attributes {
		r.Attributes[k] = cmdb.StringValue("mutated")
	}
	r.Attributes["added"] = cmdb.IntValue(1)
	for k, s := range r.Sources {
		for c := range s.Claims {
			s.Claims[c] = cmdb.Claim{Value: cmdb.StringValue("mutated"), At: base}
		}
		s.Claims["added"] = cmdb.Claim{}
		r.Sources[k] = s
	}
	r.Sources["added"] = cmdb.SourceState{}
	for k := range r.Provenance {
		r.Provenance[k] = cmdb.Provenance{Source: "mutated"}
	}
}

func testCMDBNoAliasing(t *testing.T, open Opener) {
	ctx := context.Background()
	tests := []struct {
		name string
		act  func(t *testing.T, e *cmdbEnv) cmdb.Record
	}{
		{"what CreateCI was given", func(t *testing.T, e *cmdbEnv) cmdb.Record {
			r := e.record(tenantA, cmdb.ClassServer)
			want := r.Clone()
			want.Version = 1
			require.NoError(t, e.repo.CreateCI(ctx, r))
			mutateRecord(&r)
			return want
		}},
		{"what GetCI returned", func(t *testing.T, e *cmdbEnv) cmdb.Record {
			want := e.create(tenantA, cmdb.ClassServer)
			got := e.get(tenantA, want.ID)
			mutateRecord(&got)
			return want
		}},
		{"what UpdateCI was given", func(t *testing.T, e *cmdbEnv) cmdb.Record {
			r := touch(e.create(tenantA, cmdb.ClassServer), "Linux")
			want := r.Clone()
			want.Version = 2
			require.NoError(t, e.repo.UpdateCI(ctx, r))
			mutateRecord(&r)
			return want
		}},
		{"what ListCIs returned", func(t *testing.T, e *cmdbEnv) cmdb.Record {
			want := e.create(tenantA, cmdb.ClassServer)
			page, err := e.repo.ListCIs(ctx, tenantA, cmdb.Filter{}, cmdb.Page{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			mutateRecord(&page.Items[0])
			return want
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCMDBEnv(t, open)
			want := tc.act(t, e)
			assert.Equal(t, want, e.get(tenantA, want.ID))
		})
	}
}

// collectCIs pages through a listing, checking the rules of pagination.
func collectCIs(t *testing.T, repo cmdb.Repository, tenant itsm.TenantID, f cmdb.Filter, limit int) []cmdb.Record {
	t.Helper()
	var all []cmdb.Record
	var after cmdb.ID
	want := cmdb.Page{Limit: limit}.EffectiveLimit()
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10000, "pagination does not end")
		page, err := repo.ListCIs(context.Background(), tenant, f, cmdb.Page{After: after, Limit: limit})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Items), want)
		all = append(all, page.Items...)
		if page.Next.IsZero() {
			return all
		}
		require.Len(t, page.Items, want, "only the last page may be short")
		require.Equal(t, page.Items[len(page.Items)-1].ID, page.Next)
		after = page.Next
	}
}

func testCMDBList(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	ctx := context.Background()
	classes := []cmdb.ClassName{cmdb.ClassServer, cmdb.ClassVirtualMachine, cmdb.ClassApplication}
	var all []cmdb.Record
	for i := range 45 {
		r := e.create(tenantA, classes[i%3], func(r *cmdb.Record) {
			if i%4 == 0 {
				r.Status = cmdb.StatusRetired
			}
			if i%5 == 0 {
				r.Sources = nil
				r.Provenance = nil
			}
			if i%7 == 1 {
				r.DuplicateOf = all[0].ID
			}
		})
		all = append(all, r)
	}
	for range 5 {
		e.create(tenantB, cmdb.ClassServer)
	}
	yes := true
	filters := []struct {
		name string
		f    cmdb.Filter
	}{
		{"everything", cmdb.Filter{}},
		{"classes", cmdb.Filter{Classes: []cmdb.ClassName{cmdb.ClassServer, cmdb.ClassApplication}}},
		{"statuses", cmdb.Filter{Statuses: []cmdb.Status{cmdb.StatusRetired}}},
		{"source", cmdb.Filter{Source: "scan"}},
		{"duplicates", cmdb.Filter{Duplicates: &yes}},
		{"all at once", cmdb.Filter{Classes: []cmdb.ClassName{cmdb.ClassServer}, Statuses: []cmdb.Status{cmdb.StatusInUse}, Source: "scan"}},
	}
	for _, fc := range filters {
		var want []cmdb.Record
		for i := range all {
			if fc.f.Matches(&all[i]) {
				want = append(want, all[i])
			}
		}
		for _, limit := range []int{1, 7, 0, cmdb.MaxPageLimit} {
			t.Run(fmt.Sprintf("%s/limit=%d", fc.name, limit), func(t *testing.T) {
				got := collectCIs(t, e.repo, tenantA, fc.f, limit)
				if len(want) == 0 {
					assert.Empty(t, got)
					return
				}
				assert.Equal(t, want, got)
			})
		}
	}
	t.Run("relationships", func(t *testing.T) {
		var rels []cmdb.Relationship
		for i := 2; i < 45; i += 3 { // applications depend on the server before them
			rels = append(rels, e.relate(cmdb.RelDependsOn, all[i], all[i-2]))
		}
		for _, limit := range []int{1, 4, 0} {
			var got []cmdb.Relationship
			var after cmdb.RelationshipID
			for {
				page, err := e.repo.ListRelationships(ctx, tenantA, cmdb.RelationshipPage{After: after, Limit: limit})
				require.NoError(t, err)
				got = append(got, page.Items...)
				if page.Next.IsZero() {
					break
				}
				require.Len(t, page.Items, cmdb.RelationshipPage{Limit: limit}.EffectiveLimit())
				after = page.Next
			}
			assert.Equal(t, rels, got, "limit %d", limit)
		}
		page, err := e.repo.ListRelationships(ctx, tenantB, cmdb.RelationshipPage{})
		require.NoError(t, err)
		assert.Empty(t, page.Items)
	})
	for _, limit := range []int{-1, cmdb.MaxPageLimit + 1} {
		t.Run(fmt.Sprintf("limit %d refused", limit), func(t *testing.T) {
			_, err := e.repo.ListCIs(ctx, tenantA, cmdb.Filter{}, cmdb.Page{Limit: limit})
			validationField(t, err, "page.limit")
			_, err = e.repo.ListRelationships(ctx, tenantA, cmdb.RelationshipPage{Limit: limit})
			validationField(t, err, "page.limit")
		})
	}
}

// A CI list filtering on text a store may refuse to store (a NUL byte,
// invalid UTF-8) matches what Filter.Matches says: nothing, for that value
// alone; the list's other values still match.
func testCMDBUnstorableLookups(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	ctx := context.Background()
	stored := e.create(tenantA, cmdb.ClassApplication)
	for _, text := range []string{"app\x00", "app\xff"} {
		for _, f := range []cmdb.Filter{
			{Classes: []cmdb.ClassName{cmdb.ClassName(text)}},
			{Statuses: []cmdb.Status{cmdb.Status(text)}},
			{Source: cmdb.SourceName(text)},
		} {
			page, err := e.repo.ListCIs(ctx, tenantA, f, cmdb.Page{})
			require.NoError(t, err, "ListCIs(%+v)", f)
			assert.Empty(t, page.Items, "ListCIs(%+v)", f)
		}
		f := cmdb.Filter{Classes: []cmdb.ClassName{cmdb.ClassName(text), stored.Class}, Statuses: []cmdb.Status{cmdb.Status(text), stored.Status}}
		assert.Equal(t, []cmdb.Record{stored}, collectCIs(t, e.repo, tenantA, f, 0), "the other values of the lists still match")
	}
}

func testCMDBTenantIsolation(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	ctx := context.Background()
	a := e.create(tenantA, cmdb.ClassServer)
	app := e.create(tenantA, cmdb.ClassApplication)
	rel := e.relate(cmdb.RelRunsOn, app, a)
	b := e.create(tenantB, cmdb.ClassApplication)

	_, err := e.repo.GetCI(ctx, tenantB, a.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "GetCI from another tenant")
	foreign := touch(a, "foreign")
	foreign.Tenant = tenantB
	require.ErrorIs(t, e.repo.UpdateCI(ctx, foreign), itsm.ErrNotFound, "UpdateCI from another tenant")
	_, err = e.repo.DeleteCI(ctx, tenantB, a.ID, 1)
	require.ErrorIs(t, err, itsm.ErrNotFound, "DeleteCI from another tenant")
	_, err = e.repo.GetRelationship(ctx, tenantB, rel.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	require.ErrorIs(t, e.repo.DeleteRelationship(ctx, tenantB, rel.ID), itsm.ErrNotFound)
	of, err := e.repo.RelationshipsOf(ctx, tenantB, a.ID)
	require.NoError(t, err)
	assert.Empty(t, of)
	cross := cmdb.Relationship{ID: e.relID(), Tenant: tenantB, Type: cmdb.RelRunsOn, From: b.ID, To: a.ID, Created: base}
	validationField(t, e.repo.CreateRelationship(ctx, cross), "to")

	got := collectCIs(t, e.repo, tenantB, cmdb.Filter{}, 0)
	assert.Equal(t, []cmdb.Record{b}, got)
	assert.Equal(t, a, e.get(tenantA, a.ID), "tenant A's record is untouched")
}

func testCMDBRelationships(t *testing.T, open Opener) {
	tests := []struct {
		name string
		// make builds the relationship to try from a host, an application
		// and a VM already stored (the application runs on the host, the
		// VM is virtualized by it).
		make  func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship
		field string
		want  error
	}{
		{"allowed", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelDependsOn, From: app.ID, To: vm.ID}
		}, "", nil},
		{"dangling from", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelDependsOn, From: e.ciID(), To: vm.ID}
		}, "from", itsm.ErrInvalid},
		{"dangling to", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelDependsOn, From: app.ID, To: e.ciID()}
		}, "to", itsm.ErrInvalid},
		{"unknown type", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: "loves", From: app.ID, To: vm.ID}
		}, "type", itsm.ErrInvalid},
		{"pair not allowed", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelVirtualizedBy, From: app.ID, To: host.ID}
		}, "type", itsm.ErrInvalid},
		{"to itself", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelDependsOn, From: app.ID, To: app.ID}
		}, "to", itsm.ErrInvalid},
		{"same type between the same CIs", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelRunsOn, From: app.ID, To: host.ID}
		}, "", itsm.ErrAlreadyExists},
		{"N:1 broken", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelRunsOn, From: app.ID, To: vm.ID}
		}, "from", itsm.ErrInvalid},
		{"containment cycle", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			dev := e.create(tenantA, cmdb.ClassStorageDevice)
			e.relate(cmdb.RelContains, host, dev)
			return cmdb.Relationship{Type: cmdb.RelContains, From: dev.ID, To: host.ID}
		}, "to", itsm.ErrInvalid},
		{"1:N broken", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			dev := e.create(tenantA, cmdb.ClassStorageDevice)
			e.relate(cmdb.RelContains, host, dev)
			return cmdb.Relationship{Type: cmdb.RelContains, From: e.create(tenantA, cmdb.ClassServer).ID, To: dev.ID}
		}, "to", itsm.ErrInvalid},
		{"a second VM on the host", func(e *cmdbEnv, host, app, vm cmdb.Record) cmdb.Relationship {
			return cmdb.Relationship{Type: cmdb.RelVirtualizedBy, From: e.create(tenantA, cmdb.ClassVirtualMachine).ID, To: host.ID}
		}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCMDBEnv(t, open)
			ctx := context.Background()
			host := e.create(tenantA, cmdb.ClassServer)
			app := e.create(tenantA, cmdb.ClassApplication)
			vm := e.create(tenantA, cmdb.ClassVirtualMachine)
			e.relate(cmdb.RelRunsOn, app, host)
			e.relate(cmdb.RelVirtualizedBy, vm, host)
			rel := tc.make(e, host, app, vm)
			rel.ID, rel.Tenant, rel.Created = e.relID(), tenantA, base
			err := e.repo.CreateRelationship(ctx, rel)
			switch {
			case tc.want == nil:
				require.NoError(t, err)
				got, err := e.repo.GetRelationship(ctx, tenantA, rel.ID)
				require.NoError(t, err)
				assert.Equal(t, rel, got)
				return
			case tc.field != "":
				validationField(t, err, tc.field)
			default:
				require.ErrorIs(t, err, tc.want)
			}
			_, err = e.repo.GetRelationship(ctx, tenantA, rel.ID)
			require.ErrorIs(t, err, itsm.ErrNotFound, "nothing was stored")
		})
	}
}

func testCMDBDelete(t *testing.T, open Opener) {
	ctx := context.Background()
	t.Run("detach, cascade and pointers", func(t *testing.T) {
		e := newCMDBEnv(t, open)
		host := e.create(tenantA, cmdb.ClassServer)
		app := e.create(tenantA, cmdb.ClassApplication)
		dbase := e.create(tenantA, cmdb.ClassDatabase)
		svc := e.create(tenantA, cmdb.ClassBusinessService)
		dup := e.create(tenantA, cmdb.ClassApplication, func(r *cmdb.Record) { r.DuplicateOf = app.ID })
		e.relate(cmdb.RelRunsOn, app, host)     // cascade: app goes with the host
		e.relate(cmdb.RelRunsOn, dbase, host)   // and so does the database
		e.relate(cmdb.RelDependsOn, svc, app)   // detach: the service stays
		e.relate(cmdb.RelDependsOn, app, dbase) // between two doomed CIs

		_, err := e.repo.DeleteCI(ctx, tenantA, host.ID, 7)
		require.ErrorIs(t, err, itsm.ErrConflict, "a stale version deletes nothing")
		assert.Equal(t, app, e.get(tenantA, app.ID))

		deleted, err := e.repo.DeleteCI(ctx, tenantA, host.ID, 1)
		require.NoError(t, err)
		want := []cmdb.ID{app.ID, dbase.ID}
		if dbase.ID.Compare(app.ID) < 0 {
			want = []cmdb.ID{dbase.ID, app.ID}
		}
		assert.Equal(t, append([]cmdb.ID{host.ID}, want...), deleted)
		for _, id := range deleted {
			_, err := e.repo.GetCI(ctx, tenantA, id)
			require.ErrorIs(t, err, itsm.ErrNotFound)
		}
		assert.Equal(t, svc, e.get(tenantA, svc.ID))
		rels, err := e.repo.RelationshipsOf(ctx, tenantA, svc.ID)
		require.NoError(t, err)
		assert.Empty(t, rels, "detached")
		page, err := e.repo.ListRelationships(ctx, tenantA, cmdb.RelationshipPage{})
		require.NoError(t, err)
		assert.Empty(t, page.Items, "no relationship dangles")
		left := e.get(tenantA, dup.ID)
		assert.True(t, left.DuplicateOf.IsZero(), "a pointer to a deleted CI is cleared")
		assert.Equal(t, int64(2), left.Version)
	})
	t.Run("restrict", func(t *testing.T) {
		e := newCMDBEnv(t, open)
		host := e.create(tenantA, cmdb.ClassServer)
		vm := e.create(tenantA, cmdb.ClassVirtualMachine)
		rel := e.relate(cmdb.RelVirtualizedBy, vm, host)
		_, err := e.repo.DeleteCI(ctx, tenantA, host.ID, 1)
		validationField(t, err, "id")
		assert.Equal(t, host, e.get(tenantA, host.ID))
		got, err := e.repo.GetRelationship(ctx, tenantA, rel.ID)
		require.NoError(t, err)
		assert.Equal(t, rel, got)
		// The dependent end may go: its relationship goes with it.
		deleted, err := e.repo.DeleteCI(ctx, tenantA, vm.ID, 1)
		require.NoError(t, err)
		assert.Equal(t, []cmdb.ID{vm.ID}, deleted)
		_, err = e.repo.DeleteCI(ctx, tenantA, host.ID, 1)
		require.NoError(t, err)
	})
}

func testCMDBCancelled(t *testing.T, open Opener) {
	ops := []struct {
		name string
		op   func(ctx context.Context, e *cmdbEnv, host, app cmdb.Record, rel cmdb.Relationship) error
	}{
		{"CreateCI", func(ctx context.Context, e *cmdbEnv, _, _ cmdb.Record, _ cmdb.Relationship) error {
			r := e.record(tenantA, cmdb.ClassServer)
			err := e.repo.CreateCI(ctx, r)
			_, gerr := e.repo.GetCI(context.Background(), tenantA, r.ID)
			require.ErrorIs(e.t, gerr, itsm.ErrNotFound, "nothing was created")
			return err
		}},
		{"GetCI", func(ctx context.Context, e *cmdbEnv, h, _ cmdb.Record, _ cmdb.Relationship) error {
			_, err := e.repo.GetCI(ctx, tenantA, h.ID)
			return err
		}},
		{"UpdateCI", func(ctx context.Context, e *cmdbEnv, h, _ cmdb.Record, _ cmdb.Relationship) error {
			return e.repo.UpdateCI(ctx, touch(h, "never"))
		}},
		{"DeleteCI", func(ctx context.Context, e *cmdbEnv, h, _ cmdb.Record, _ cmdb.Relationship) error {
			_, err := e.repo.DeleteCI(ctx, tenantA, h.ID, h.Version)
			return err
		}},
		{"ListCIs", func(ctx context.Context, e *cmdbEnv, _, _ cmdb.Record, _ cmdb.Relationship) error {
			_, err := e.repo.ListCIs(ctx, tenantA, cmdb.Filter{}, cmdb.Page{})
			return err
		}},
		{"CreateRelationship", func(ctx context.Context, e *cmdbEnv, h, a cmdb.Record, _ cmdb.Relationship) error {
			return e.repo.CreateRelationship(ctx, cmdb.Relationship{ID: e.relID(), Tenant: tenantA, Type: cmdb.RelDependsOn, From: h.ID, To: a.ID, Created: base})
		}},
		{"GetRelationship", func(ctx context.Context, e *cmdbEnv, _, _ cmdb.Record, rel cmdb.Relationship) error {
			_, err := e.repo.GetRelationship(ctx, tenantA, rel.ID)
			return err
		}},
		{"DeleteRelationship", func(ctx context.Context, e *cmdbEnv, _, _ cmdb.Record, rel cmdb.Relationship) error {
			return e.repo.DeleteRelationship(ctx, tenantA, rel.ID)
		}},
		{"RelationshipsOf", func(ctx context.Context, e *cmdbEnv, h, _ cmdb.Record, _ cmdb.Relationship) error {
			_, err := e.repo.RelationshipsOf(ctx, tenantA, h.ID)
			return err
		}},
		{"ListRelationships", func(ctx context.Context, e *cmdbEnv, _, _ cmdb.Record, _ cmdb.Relationship) error {
			_, err := e.repo.ListRelationships(ctx, tenantA, cmdb.RelationshipPage{})
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			e := newCMDBEnv(t, open)
			host := e.create(tenantA, cmdb.ClassServer)
			app := e.create(tenantA, cmdb.ClassApplication)
			rel := e.relate(cmdb.RelRunsOn, app, host)
			err := op.op(cancelled(), e, host, app, rel)
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, host, e.get(tenantA, host.ID), "nothing was written")
			of, err := e.repo.RelationshipsOf(context.Background(), tenantA, host.ID)
			require.NoError(t, err)
			assert.Equal(t, []cmdb.Relationship{rel}, of)
		})
	}
}

func testCMDBRollback(t *testing.T, open Opener) {
	e := newCMDBEnv(t, open)
	tr, ok := e.store.(storage.Transactor)
	if !ok {
		t.Skip("the store has no transactions")
	}
	ctx := context.Background()
	host := e.create(tenantA, cmdb.ClassServer)
	app := e.create(tenantA, cmdb.ClassApplication)
	rel := e.relate(cmdb.RelRunsOn, app, host)
	fresh := e.record(tenantA, cmdb.ClassServer)
	boom := errors.New("roll back")
	err := tr.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		repo := tx.(storage.CMDB).CMDB(e.reg)
		require.NoError(t, repo.CreateCI(ctx, fresh))
		require.NoError(t, repo.UpdateCI(ctx, touch(app, "in tx")))
		require.NoError(t, repo.DeleteRelationship(ctx, tenantA, rel.ID))
		_, err := repo.DeleteCI(ctx, tenantA, host.ID, 1)
		require.NoError(t, err)
		// A call through the plain repository with the transaction's
		// context joins it.
		_, err = e.repo.GetCI(ctx, tenantA, host.ID)
		require.ErrorIs(t, err, itsm.ErrNotFound, "the transaction sees its own writes")
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = e.repo.GetCI(ctx, tenantA, fresh.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	assert.Equal(t, app, e.get(tenantA, app.ID))
	assert.Equal(t, host, e.get(tenantA, host.ID))
	of, err := e.repo.RelationshipsOf(ctx, tenantA, host.ID)
	require.NoError(t, err)
	assert.Equal(t, []cmdb.Relationship{rel}, of)
}
