package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/itsmtest/faults"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// cmdbSetup is a wrapped memory store holding a server and an application
// that runs on it.
type cmdbSetup struct {
	inj       *faults.Injector
	repo      cmdb.Repository
	ids       *itsmtest.IDs
	host, app cmdb.Record
	rel       cmdb.Relationship
}

var cmdbAt = time.Date(2026, 5, 6, 8, 0, 0, 0, time.UTC)

func newCMDBSetup(t *testing.T) *cmdbSetup {
	s, inj := faults.Wrap(memory.New())
	repo, err := storage.CMDBRepository(s, nil)
	require.NoError(t, err)
	ids := itsmtest.NewIDs(61)
	ci := func(class cmdb.ClassName, name string, attrs map[string]cmdb.Value) cmdb.Record {
		u, err := ids.NewUUID()
		require.NoError(t, err)
		r := cmdb.Record{CI: cmdb.CI{ID: cmdb.IDFromUUID(u), Tenant: "acme", Class: class, Name: name,
			Status: cmdb.StatusInUse, Attributes: attrs, Created: cmdbAt, Updated: cmdbAt}}
		require.NoError(t, repo.CreateCI(context.Background(), r))
		r.Version = 1
		return r
	}
	c := &cmdbSetup{inj: inj, repo: repo, ids: ids}
	c.host = ci(cmdb.ClassServer, "web01", map[string]cmdb.Value{"hostname": cmdb.StringValue("web01")})
	c.app = ci(cmdb.ClassApplication, "shop", nil)
	u, err := ids.NewUUID()
	require.NoError(t, err)
	c.rel = cmdb.Relationship{ID: cmdb.RelationshipIDFromUUID(u), Tenant: "acme", Type: cmdb.RelRunsOn, From: c.app.ID, To: c.host.ID, Created: cmdbAt}
	require.NoError(t, repo.CreateRelationship(context.Background(), c.rel))
	return c
}

// Every CMDB method can be made to fail; a failed write writes nothing,
// and the next call goes through.
func TestFaultsOnTheCMDB(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		method faults.Method
		call   func(c *cmdbSetup) error
	}{
		{faults.CMDBCreateCI, func(c *cmdbSetup) error {
			r := c.app.Clone()
			r.ID, r.Version = cmdb.IDFromUUID(uuidOf(t, c.ids)), 0
			return c.repo.CreateCI(ctx, r)
		}},
		{faults.CMDBGetCI, func(c *cmdbSetup) error { _, err := c.repo.GetCI(ctx, "acme", c.host.ID); return err }},
		{faults.CMDBUpdateCI, func(c *cmdbSetup) error {
			r := c.app.Clone()
			r.Owner = "someone"
			return c.repo.UpdateCI(ctx, r)
		}},
		{faults.CMDBDeleteCI, func(c *cmdbSetup) error { _, err := c.repo.DeleteCI(ctx, "acme", c.app.ID, 1); return err }},
		{faults.CMDBListCIs, func(c *cmdbSetup) error {
			_, err := c.repo.ListCIs(ctx, "acme", cmdb.Filter{}, cmdb.Page{})
			return err
		}},
		{faults.CMDBCreateRelationship, func(c *cmdbSetup) error {
			return c.repo.CreateRelationship(ctx, cmdb.Relationship{ID: cmdb.RelationshipIDFromUUID(uuidOf(t, c.ids)),
				Tenant: "acme", Type: cmdb.RelDependsOn, From: c.app.ID, To: c.host.ID, Created: cmdbAt})
		}},
		{faults.CMDBGetRelationship, func(c *cmdbSetup) error { _, err := c.repo.GetRelationship(ctx, "acme", c.rel.ID); return err }},
		{faults.CMDBDeleteRelationship, func(c *cmdbSetup) error { return c.repo.DeleteRelationship(ctx, "acme", c.rel.ID) }},
		{faults.CMDBRelationshipsOf, func(c *cmdbSetup) error { _, err := c.repo.RelationshipsOf(ctx, "acme", c.host.ID); return err }},
		{faults.CMDBListRelationships, func(c *cmdbSetup) error {
			_, err := c.repo.ListRelationships(ctx, "acme", cmdb.RelationshipPage{})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.method), func(t *testing.T) {
			c := newCMDBSetup(t)
			require.NoError(t, c.inj.FailNth(tc.method, 1))
			require.ErrorIs(t, tc.call(c), faults.ErrInjected)
			assert.Equal(t, stateOf(t, c), stateOf(t, newCMDBSetup(t)), "the failed call wrote nothing")
			require.NoError(t, tc.call(c), "the fault is spent")
		})
	}
}

// A reconciliation whose second write fails inside cmdb.Atomic writes
// nothing at all.
func TestFaultMidReconciliationWritesNothing(t *testing.T) {
	ctx := context.Background()
	c := newCMDBSetup(t)
	before := stateOf(t, c)
	rc, err := cmdb.NewReconciler(cmdb.NewRegistry(), cmdb.DefaultRules())
	require.NoError(t, err)
	b := cmdb.Batch{Tenant: "acme", Source: "scan", At: cmdbAt.Add(time.Hour), Items: []cmdb.Item{
		{NativeID: "a", Class: cmdb.ClassServer, Name: "db01", Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue("db01")}},
		{NativeID: "b", Class: cmdb.ClassServer, Name: "db02", Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue("db02")}},
	}}
	require.NoError(t, c.inj.FailNth(faults.CMDBCreateCI, 2))
	_, err = rc.Reconcile(ctx, c.repo, c.ids, b)
	require.ErrorIs(t, err, faults.ErrInjected)
	assert.Equal(t, before, stateOf(t, c), "the first create was rolled back with the second")
	_, err = rc.Reconcile(ctx, c.repo, c.ids, b)
	require.NoError(t, err)
	assert.Len(t, stateOf(t, c).Records, 4)
}

func uuidOf(t *testing.T, ids *itsmtest.IDs) uuid.UUID {
	u, err := ids.NewUUID()
	require.NoError(t, err)
	return u
}

// cmdbState is what a tenant's CMDB holds.
type cmdbState struct {
	Records       []cmdb.Record
	Relationships []cmdb.Relationship
}

// stateOf reads the tenant's CMDB (with no fault planned).
func stateOf(t *testing.T, c *cmdbSetup) cmdbState {
	t.Helper()
	s, err := cmdb.LoadSnapshot(context.Background(), c.repo, "acme")
	require.NoError(t, err)
	return cmdbState{s.Records(), s.Relationships()}
}
