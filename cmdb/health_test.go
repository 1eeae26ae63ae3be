package cmdb_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// healthCMDB builds a small CMDB with one of each problem health finds.
type healthCMDB struct {
	snap                                 *cmdb.Snapshot
	web, db, orphan, stale, dup, retired cmdb.ID
	dangling, disallowed                 cmdb.RelationshipID
}

func newHealthCMDB(t *testing.T) healthCMDB {
	t.Helper()
	reg := cmdb.NewRegistry()
	ids := itsmtest.NewIDs(42)
	now := rcT0
	rec := func(class cmdb.ClassName, name string, at time.Time, attrs map[string]cmdb.Value) cmdb.Record {
		c, err := reg.Make(ids, func() time.Time { return at }, cmdb.NewCI{Tenant: rcTenant, Class: class, Name: name, Attributes: attrs})
		require.NoError(t, err)
		return cmdb.Record{CI: c}
	}
	seen := func(r cmdb.Record, at time.Time) cmdb.Record {
		r.Sources = map[cmdb.SourceName]cmdb.SourceState{"scan": {NativeID: r.Name, LastSeen: at}}
		return r
	}
	// web: a server with every recommended attribute but serial_number.
	web := seen(rec(cmdb.ClassServer, "web01", now.Add(-time.Hour), map[string]cmdb.Value{
		"hostname": str("web01"), "ip_address": str("10.0.0.1"), "os": str("Linux"), "environment": str("production"),
	}), now.Add(-time.Hour))
	// stale: a server no source has seen for 61 days.
	stale := seen(rec(cmdb.ClassServer, "old01", now.Add(-90*24*time.Hour), map[string]cmdb.Value{"hostname": str("old01")}), now.Add(-61*24*time.Hour))
	db := seen(rec(cmdb.ClassDatabase, "pg", now.Add(-time.Hour), map[string]cmdb.Value{"engine": str("postgresql"), "version": str("17")}), now)
	// orphan: an application with no relationship at all.
	orphan := seen(rec(cmdb.ClassApplication, "lonely", now.Add(-time.Hour), nil), now)
	dup := seen(rec(cmdb.ClassDatabase, "pg-copy", now.Add(-time.Hour), map[string]cmdb.Value{"engine": str("postgresql")}), now)
	dup.DuplicateOf = db.ID
	retired := rec(cmdb.ClassApplication, "gone", now.Add(-400*24*time.Hour), nil)
	retired.Status = cmdb.StatusRetired

	rel := func(typ cmdb.RelTypeName, from, to cmdb.ID) cmdb.Relationship {
		u, _ := ids.NewUUID()
		return cmdb.Relationship{ID: cmdb.RelationshipIDFromUUID(u), Tenant: rcTenant, Type: typ, From: from, To: to, Created: now}
	}
	missing, _ := ids.NewUUID()
	rels := []cmdb.Relationship{
		rel(cmdb.RelRunsOn, db.ID, web.ID),
		rel(cmdb.RelRunsOn, dup.ID, web.ID),
		rel(cmdb.RelDependsOn, db.ID, cmdb.IDFromUUID(missing)), // dangling
		rel(cmdb.RelVirtualizedBy, db.ID, web.ID),               // a database is no VM
	}
	snap, err := cmdb.NewSnapshot(rcTenant, []cmdb.Record{web, stale, db, orphan, dup, retired}, rels)
	require.NoError(t, err)
	return healthCMDB{snap: snap, web: web.ID, db: db.ID, orphan: orphan.ID, stale: stale.ID, dup: dup.ID, retired: retired.ID,
		dangling: rels[2].ID, disallowed: rels[3].ID}
}

func pct(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestHealth(t *testing.T) {
	f := newHealthCMDB(t)
	reg := cmdb.NewRegistry()
	hasOwner := cmdb.Audit{Name: "servers have an owner", Class: cmdb.ClassServer, Check: func(c cmdb.CI) bool { return c.Owner != "" }}
	named := cmdb.Audit{Name: "names are short", Check: func(c cmdb.CI) bool { return len(c.Name) <= 5 }}
	h, err := reg.Health(f.snap, cmdb.HealthOptions{Now: rcT0, Audits: []cmdb.Audit{hasOwner, named}})
	require.NoError(t, err)

	assert.Equal(t, []cmdb.ID{f.orphan}, h.Orphans)
	assert.Equal(t, []cmdb.ID{f.stale}, h.Stale)
	assert.Equal(t, []cmdb.ID{f.dup}, h.Duplicates)
	assert.Equal(t, []cmdb.RelationshipID{f.dangling}, h.Relationships.Dangling)
	assert.Equal(t, []cmdb.RelationshipID{f.disallowed}, h.Relationships.Disallowed)
	assert.Equal(t, pct("50.00"), h.Relationships.Sound.Percent)

	server, ok := h.Class(cmdb.ClassServer)
	require.True(t, ok)
	assert.Equal(t, 2, server.CIs)
	// Server: required hostname (2/2); recommended environment, ip_address,
	// os, serial_number: web has 3 of 4, old01 none.
	assert.Equal(t, cmdb.Score{Good: 2, Total: 2, Percent: pct("100.00")}, server.Required)
	assert.Equal(t, cmdb.Score{Good: 3, Total: 8, Percent: pct("37.50")}, server.Recommended)
	assert.Equal(t, 1, server.Stale)
	assert.Equal(t, cmdb.Score{Good: 1, Total: 2, Percent: pct("50.00")}, server.Correct)
	assert.Equal(t, cmdb.Score{Good: 2, Total: 4, Percent: pct("50.00")}, server.Compliance, "no server has an owner; both names are short")

	app, ok := h.Class(cmdb.ClassApplication)
	require.True(t, ok)
	assert.Equal(t, 1, app.CIs, "retired CIs are left out")
	assert.Equal(t, 1, app.Orphans)

	database, ok := h.Class(cmdb.ClassDatabase)
	require.True(t, ok)
	assert.Equal(t, 1, database.Duplicates)
	assert.Equal(t, "50.00% (1/2)", database.Correct.String())

	assert.Equal(t, 5, h.Overall.CIs)
	assert.Equal(t, cmdb.Score{Good: 2, Total: 5, Percent: pct("40.00")}, h.Overall.Correct)
	// Checks: two servers × two audits, three others × one audit = 7;
	// passes: the names audit passes web01, old01 and pg.
	assert.Equal(t, cmdb.Score{Good: 3, Total: 7, Percent: pct("42.85")}, h.Overall.Compliance, "truncated, never rounded up")
	assert.Len(t, h.AuditFailures, 4)
	_, ok = h.Class(cmdb.ClassCluster)
	assert.False(t, ok, "classes without CIs are left out")

	t.Run("options", func(t *testing.T) {
		tests := []struct {
			name    string
			opts    cmdb.HealthOptions
			orphans int
			stale   int
		}{
			{"stale after 90 days", cmdb.HealthOptions{Now: rcT0, StaleAfter: 90 * 24 * time.Hour}, 1, 0},
			{"nothing expected", cmdb.HealthOptions{Now: rcT0, Expect: []cmdb.ClassName{}}, 0, 1},
			{"servers expected", cmdb.HealthOptions{Now: rcT0, Expect: []cmdb.ClassName{cmdb.ClassServer}}, 1, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				h, err := reg.Health(f.snap, tc.opts)
				require.NoError(t, err)
				assert.Len(t, h.Orphans, tc.orphans)
				assert.Len(t, h.Stale, tc.stale)
			})
		}
	})
}

func TestHealthRefusesBadOptions(t *testing.T) {
	f := newHealthCMDB(t)
	ok := func(cmdb.CI) bool { return true }
	tests := []struct {
		name  string
		opts  cmdb.HealthOptions
		field string
	}{
		{"no instant", cmdb.HealthOptions{}, "now"},
		{"negative staleness", cmdb.HealthOptions{Now: rcT0, StaleAfter: -time.Hour}, "stale_after"},
		{"unknown expected class", cmdb.HealthOptions{Now: rcT0, Expect: []cmdb.ClassName{"mainframe"}}, "expect[0]"},
		{"audit without name", cmdb.HealthOptions{Now: rcT0, Audits: []cmdb.Audit{{Check: ok}}}, "audits[0].name"},
		{"audit twice", cmdb.HealthOptions{Now: rcT0, Audits: []cmdb.Audit{{Name: "a", Check: ok}, {Name: "a", Check: ok}}}, "audits[1].name"},
		{"audit of an unknown class", cmdb.HealthOptions{Now: rcT0, Audits: []cmdb.Audit{{Name: "a", Class: "x", Check: ok}}}, "audits[0].class"},
		{"audit without check", cmdb.HealthOptions{Now: rcT0, Audits: []cmdb.Audit{{Name: "a"}}}, "audits[0].check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cmdb.NewRegistry().Health(f.snap, tc.opts)
			requireInvalid(t, err, tc.field)
		})
	}
}
