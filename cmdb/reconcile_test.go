package cmdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

const rcTenant itsm.TenantID = "acme"

// rcEnv is a memory store, a registry, a reconciler and an ID generator.
type rcEnv struct {
	t    *testing.T
	reg  *cmdb.Registry
	rc   *cmdb.Reconciler
	repo cmdb.Repository
	ids  *itsmtest.IDs
}

func newRCEnv(t *testing.T, rules cmdb.Rules) *rcEnv {
	t.Helper()
	reg := cmdb.NewRegistry()
	rc, err := cmdb.NewReconciler(reg, rules)
	require.NoError(t, err)
	repo, err := storage.CMDBRepository(memory.New(), reg)
	require.NoError(t, err)
	return &rcEnv{t: t, reg: reg, rc: rc, repo: repo, ids: itsmtest.NewIDs(6)}
}

// run reconciles a batch and returns the applied plan.
func (e *rcEnv) run(b cmdb.Batch) *cmdb.Plan {
	e.t.Helper()
	if b.Tenant == "" {
		b.Tenant = rcTenant
	}
	p, err := e.rc.Reconcile(context.Background(), e.repo, e.ids, b)
	require.NoError(e.t, err)
	return p
}

func (e *rcEnv) snapshot() *cmdb.Snapshot {
	e.t.Helper()
	s, err := cmdb.LoadSnapshot(context.Background(), e.repo, rcTenant)
	require.NoError(e.t, err)
	return s
}

// record returns the record the source knows by native ID.
func (e *rcEnv) record(src cmdb.SourceName, native string) cmdb.Record {
	e.t.Helper()
	s := e.snapshot()
	id, ok := s.Find(src, native)
	require.True(e.t, ok, "%s knows no %q", src, native)
	r, _ := s.Record(id)
	return r
}

func str(s string) cmdb.Value { return cmdb.StringValue(s) }

func server(native, name, serial string, attrs ...string) cmdb.Item {
	it := cmdb.Item{NativeID: native, Class: cmdb.ClassServer, Name: name, Attributes: map[string]cmdb.Value{"hostname": str(name)}}
	if serial != "" {
		it.Attributes["serial_number"] = str(serial)
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		it.Attributes[attrs[i]] = str(attrs[i+1])
	}
	return it
}

var rcT0 = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

func TestReconcileConflictingSources(t *testing.T) {
	rules := cmdb.DefaultRules()
	rules.Authority = map[cmdb.ClassName]map[string][]cmdb.Authority{
		cmdb.ClassComputer: {"os": {{Source: "sccm", Staleness: 7 * 24 * time.Hour}, {Source: "vcenter"}}},
	}
	e := newRCEnv(t, rules)
	e.run(cmdb.Batch{Source: "vcenter", At: rcT0, Items: []cmdb.Item{server("vm-1", "web01", "SN1", "os", "Windows", "ip_address", "10.0.0.1")}})
	e.run(cmdb.Batch{Source: "sccm", At: rcT0.Add(time.Hour), Items: []cmdb.Item{server("A-77", "web01", "SN1", "os", "Windows Server 2022")}})

	r := e.record("sccm", "A-77")
	assert.Equal(t, r.ID, e.record("vcenter", "vm-1").ID, "one CI for both sources, by serial number")
	assert.Equal(t, "Windows Server 2022", r.Attributes["os"].Str(), "sccm outranks vcenter for os")
	assert.Equal(t, cmdb.Provenance{Source: "sccm", At: rcT0.Add(time.Hour)}, r.Provenance["os"])
	assert.Equal(t, "10.0.0.1", r.Attributes["ip_address"].Str(), "sccm did not report the address: vcenter's stands")
	assert.Equal(t, cmdb.SourceName("vcenter"), r.Provenance["ip_address"].Source)

	// vcenter reports a different os while sccm is fresh: sccm still wins.
	p := e.run(cmdb.Batch{Source: "vcenter", At: rcT0.Add(24 * time.Hour), Items: []cmdb.Item{server("vm-1", "web01", "SN1", "os", "Windows 11")}})
	require.Len(t, p.Updates, 1)
	assert.Empty(t, p.Updates[0].Changes, "nothing the CI shows changes")
	assert.Equal(t, cmdb.ActionUnchanged, p.Outcomes[0].Action)
	assert.Equal(t, "Windows Server 2022", e.record("vcenter", "vm-1").Attributes["os"].Str())

	// Eight days after sccm's report, sccm is stale: vcenter's value wins.
	p = e.run(cmdb.Batch{Source: "vcenter", At: rcT0.Add(8*24*time.Hour + 2*time.Hour), Items: []cmdb.Item{server("vm-1", "web01", "SN1", "os", "Windows 11")}})
	require.Len(t, p.Updates, 1)
	assert.Equal(t, []cmdb.Change{{Field: "os", From: str("Windows Server 2022"), To: str("Windows 11"), Source: "vcenter"}}, p.Updates[0].Changes)
	assert.Equal(t, cmdb.ActionUpdate, p.Outcomes[0].Action)

	// sccm comes back: fresh again, it wins again.
	e.run(cmdb.Batch{Source: "sccm", At: rcT0.Add(9 * 24 * time.Hour), Items: []cmdb.Item{server("A-77", "web01", "SN1", "os", "Windows Server 2025")}})
	r = e.record("sccm", "A-77")
	assert.Equal(t, "Windows Server 2025", r.Attributes["os"].Str())
	assert.Equal(t, cmdb.SourceName("sccm"), r.Provenance["os"].Source)
}

func TestReconcileIdentification(t *testing.T) {
	tests := []struct {
		name string
		// first is reconciled before second; same says whether the two
		// items end up as one CI.
		first, second cmdb.Item
		src2          cmdb.SourceName
		same          bool
		matchedBy     string
	}{
		{"native key beats a changed serial", server("n1", "db01", "SN1"), server("n1", "db01", "SN2"), "sccm", true, "native key"},
		{"serial number rule", server("n1", "db01", "SN1"), server("x9", "db-01", "SN1"), "other", true, "rule 0 (serial_number)"},
		{"hostname rule inherited from computer", server("n1", "db01", ""), server("x9", "db01", ""), "other", true, "rule 1 (hostname)"},
		{"serial differs, hostname equal: the hostname rule still applies", server("n1", "db01", "SN1"), server("x9", "db01", "SN2"), "other", true, "rule 1 (hostname)"},
		{"nothing in common", server("n1", "db01", "SN1"), server("x9", "db02", "SN2"), "other", false, ""},
		{"same source, new native key: a distinct CI", server("n1", "db01", "SN1"), server("n2", "db01", "SN1"), "sccm", false, ""},
		{"other class", server("n1", "db01", "SN1"), cmdb.Item{NativeID: "x9", Class: cmdb.ClassVirtualMachine, Name: "db01", Attributes: map[string]cmdb.Value{"hostname": str("db01")}}, "other", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newRCEnv(t, cmdb.DefaultRules())
			e.run(cmdb.Batch{Source: "sccm", At: rcT0, Items: []cmdb.Item{tc.first}})
			p := e.run(cmdb.Batch{Source: tc.src2, At: rcT0.Add(time.Hour), Items: []cmdb.Item{tc.second}})
			assert.Equal(t, tc.matchedBy, p.Outcomes[0].MatchedBy)
			a, b := e.record("sccm", tc.first.NativeID), e.record(tc.src2, tc.second.NativeID)
			assert.Equal(t, tc.same, a.ID == b.ID)
			assert.Equal(t, map[bool]int{true: 1, false: 2}[tc.same], e.snapshot().Len())
		})
	}
}

func TestReconcilePartialPayload(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	e.run(cmdb.Batch{Source: "sccm", At: rcT0, Items: []cmdb.Item{server("n1", "web01", "SN1", "os", "Linux", "ip_address", "10.0.0.9")}})
	p := e.run(cmdb.Batch{Source: "sccm", At: rcT0.Add(time.Hour), Items: []cmdb.Item{{NativeID: "n1", Class: cmdb.ClassServer, Name: "web01", Attributes: map[string]cmdb.Value{"os": str("Linux 6")}}}})
	require.Len(t, p.Updates, 1)
	assert.Equal(t, []cmdb.Change{{Field: "os", From: str("Linux"), To: str("Linux 6"), Source: "sccm"}}, p.Updates[0].Changes)
	r := e.record("sccm", "n1")
	assert.Equal(t, "10.0.0.9", r.Attributes["ip_address"].Str(), "an attribute left out keeps its value")
	assert.Equal(t, rcT0, r.Provenance["ip_address"].At, "and its provenance: when it was last reported")
	assert.Equal(t, rcT0.Add(time.Hour), r.Provenance["os"].At)
}

func TestReconcileDuplicates(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	// Two sources each create a server; they share a serial number but
	// differ in host name, and neither knows the other's.
	e.run(cmdb.Batch{Source: "a", At: rcT0, Items: []cmdb.Item{server("a1", "web01", "SN1")}})
	e.run(cmdb.Batch{Source: "b", At: rcT0.Add(time.Minute), Items: []cmdb.Item{server("b1", "web01.lan", "SN9")}})
	e.run(cmdb.Batch{Source: "b", At: rcT0.Add(2 * time.Minute), Items: []cmdb.Item{server("b1", "web01.lan", "SN1")}})
	older, newer := e.record("a", "a1"), e.record("b", "b1")
	require.NotEqual(t, older.ID, newer.ID, "b's own native key keeps its CI")

	// A third source reports the serial: both match; the oldest wins.
	p := e.run(cmdb.Batch{Source: "c", At: rcT0.Add(3 * time.Minute), Items: []cmdb.Item{server("c1", "web01", "SN1")}})
	assert.Equal(t, []cmdb.Duplicate{{CI: newer.ID, Of: older.ID}}, p.Duplicates)
	assert.Equal(t, older.ID, p.Outcomes[0].CI)
	assert.Equal(t, older.ID, e.record("b", "b1").DuplicateOf)
	assert.True(t, e.record("a", "a1").DuplicateOf.IsZero())

	// b reports again through its native key: its key moves to the survivor.
	p = e.run(cmdb.Batch{Source: "b", At: rcT0.Add(4 * time.Minute), Items: []cmdb.Item{server("b1", "web01.lan", "SN1")}})
	assert.Equal(t, older.ID, p.Outcomes[0].CI)
	assert.Equal(t, older.ID, e.record("b", "b1").ID)
	dup, ok := e.snapshot().Record(newer.ID)
	require.True(t, ok)
	assert.Equal(t, older.ID, dup.DuplicateOf)
	assert.Empty(t, dup.Sources, "the duplicate no longer answers to b's key")
}

func TestReconcileDuplicatesNeverChain(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	ctx := context.Background()
	mk := func(name, serial string, at time.Time) cmdb.Record {
		c, err := e.reg.Make(e.ids, func() time.Time { return at }, cmdb.NewCI{Tenant: rcTenant, Class: cmdb.ClassServer, Name: name,
			Attributes: map[string]cmdb.Value{"hostname": str(name), "serial_number": str(serial)}})
		require.NoError(t, err)
		r := cmdb.Record{CI: c}
		require.NoError(t, e.repo.CreateCI(ctx, r))
		return r
	}
	// oldest and middle share a serial; young duplicates middle already.
	oldest := mk("h1", "S", rcT0)
	middle := mk("h2", "S", rcT0.Add(time.Hour))
	young := mk("h3", "T", rcT0.Add(2*time.Hour))
	young.DuplicateOf = middle.ID
	young.Version = 1
	require.NoError(t, e.repo.UpdateCI(ctx, young))

	p := e.run(cmdb.Batch{Source: "scan", At: rcT0.Add(3 * time.Hour), Items: []cmdb.Item{server("s1", "h9", "S")}})
	assert.Equal(t, []cmdb.Duplicate{{CI: middle.ID, Of: oldest.ID}}, p.Duplicates)
	s := e.snapshot()
	for _, r := range s.Records() {
		if r.DuplicateOf.IsZero() {
			continue
		}
		assert.NotEqual(t, r.ID, r.DuplicateOf, "never self")
		target, ok := s.Record(r.DuplicateOf)
		require.True(t, ok)
		assert.True(t, target.DuplicateOf.IsZero(), "never a chain: %s → %s → %s", r.ID, target.ID, target.DuplicateOf)
		assert.Equal(t, oldest.ID, r.DuplicateOf)
	}
	// The re-pointing update comes before the one that makes middle a duplicate.
	require.Len(t, p.Updates, 3)
	assert.Equal(t, middle.ID, p.Updates[2].After.ID)
}

func TestReconcileDependentCIs(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	app := func(native, host string) cmdb.Item {
		return cmdb.Item{NativeID: native, Class: cmdb.ClassApplication, Name: "nginx", Attributes: map[string]cmdb.Value{"version": str("1.27")},
			Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: host}}}
	}
	p := e.run(cmdb.Batch{Source: "scan", At: rcT0, Items: []cmdb.Item{app("a1", "h1"), app("a2", "h2"), server("h1", "web01", "S1"), server("h2", "web02", "S2")}})
	require.Len(t, p.Creates, 4, "nginx on web01 and nginx on web02 are two CIs")
	assert.Len(t, p.AddRelationships, 2)
	assert.Equal(t, p.Creates[0].Name, "web01", "hosts are created before what they host")

	// Another source sees nginx on web02 only: identified in web02's context.
	p = e.run(cmdb.Batch{Source: "agent", At: rcT0.Add(time.Hour), Items: []cmdb.Item{
		server("w2", "web02", "S2"), app("x", "w2"),
	}})
	assert.Empty(t, p.Creates)
	assert.Equal(t, e.record("scan", "a2").ID, p.Outcomes[1].CI)
	assert.Contains(t, p.Outcomes[1].MatchedBy, "host")
	assert.Empty(t, p.AddRelationships, "the relationship exists already")

	// The application moves to web01 according to scan: runs_on is N:1,
	// so the old relationship is replaced.
	p = e.run(cmdb.Batch{Source: "scan", At: rcT0.Add(2 * time.Hour), Items: []cmdb.Item{app("a2", "h1")}})
	require.Len(t, p.RemoveRelationships, 1)
	require.Len(t, p.AddRelationships, 1)
	assert.Equal(t, e.record("scan", "h1").ID, p.AddRelationships[0].To)
	rels := e.snapshot().RelationshipsOf(e.record("scan", "a2").ID)
	require.Len(t, rels, 1)
	assert.Equal(t, e.record("scan", "h1").ID, rels[0].To)
}

func TestReconcileSilentSource(t *testing.T) {
	fleet := func(n int) []cmdb.Item {
		var out []cmdb.Item
		for i := range n {
			out = append(out, server(fmt.Sprint("n", i), fmt.Sprint("host", i), fmt.Sprint("SN", i)))
		}
		return out
	}
	tests := []struct {
		name    string
		batch   cmdb.Batch
		tripped bool
		retired int
	}{
		{"reports nothing", cmdb.Batch{Items: nil}, true, 0},
		{"reports far fewer", cmdb.Batch{Items: fleet(3)}, true, 0},
		{"drops a few", cmdb.Batch{Items: fleet(8)}, false, 2},
		{"drops exactly half", cmdb.Batch{Items: fleet(5)}, false, 5},
		{"reports nothing, allowed", cmdb.Batch{AllowMassRetire: true}, false, 10},
		{"incomplete batch retires nothing", cmdb.Batch{Items: fleet(1)}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newRCEnv(t, cmdb.DefaultRules())
			e.run(cmdb.Batch{Source: "scan", At: rcT0, Complete: true, Items: fleet(10)})
			b := tc.batch
			b.Source, b.At, b.Complete = "scan", rcT0.Add(time.Hour), tc.name != "incomplete batch retires nothing"
			p := e.run(b)
			assert.Equal(t, tc.tripped, p.Guard != nil)
			if tc.tripped {
				assert.Equal(t, 10, p.Guard.Known)
				assert.Equal(t, 10-len(b.Items), p.Guard.Missing)
				assert.Empty(t, p.Gone)
			}
			assert.Len(t, p.Retirements, tc.retired)
			retired := 0
			for _, r := range e.snapshot().Records() {
				if r.Status == cmdb.StatusRetired {
					retired++
					assert.False(t, r.Sources["scan"].Present())
				}
			}
			assert.Equal(t, tc.retired, retired)
		})
	}

	t.Run("still listed by another source", func(t *testing.T) {
		e := newRCEnv(t, cmdb.DefaultRules())
		e.run(cmdb.Batch{Source: "scan", At: rcT0, Complete: true, Items: fleet(4)})
		e.run(cmdb.Batch{Source: "cmdbuild", At: rcT0, Items: []cmdb.Item{server("x", "host0", "SN0")}})
		p := e.run(cmdb.Batch{Source: "scan", At: rcT0.Add(time.Hour), Complete: true, Items: fleet(4)[1:]})
		assert.Equal(t, []cmdb.ID{e.record("scan", "n0").ID}, p.Gone)
		assert.Empty(t, p.Retirements, "cmdbuild still lists it")
	})
	t.Run("a retired CI reported again comes back", func(t *testing.T) {
		e := newRCEnv(t, cmdb.DefaultRules())
		e.run(cmdb.Batch{Source: "scan", At: rcT0, Complete: true, Items: fleet(4)})
		e.run(cmdb.Batch{Source: "scan", At: rcT0.Add(time.Hour), Complete: true, Items: fleet(3)})
		require.Equal(t, cmdb.StatusRetired, e.record("scan", "n3").Status)
		p := e.run(cmdb.Batch{Source: "scan", At: rcT0.Add(2 * time.Hour), Complete: true, Items: fleet(4)})
		assert.Equal(t, cmdb.ActionUpdate, p.Outcomes[3].Action)
		r := e.record("scan", "n3")
		assert.Equal(t, cmdb.StatusInUse, r.Status)
		assert.True(t, r.Sources["scan"].Present())
	})
}

func TestReconcileDryRunChangesNothing(t *testing.T) {
	e := newRCEnv(t, cmdb.DefaultRules())
	e.run(cmdb.Batch{Source: "scan", At: rcT0, Complete: true, Items: []cmdb.Item{server("n1", "a", "S1"), server("n2", "b", "S2")}})
	before := e.snapshot()
	p, err := e.rc.DryRun(context.Background(), e.repo, e.ids, cmdb.Batch{Tenant: rcTenant, Source: "scan", At: rcT0.Add(time.Hour), Complete: true,
		Items: []cmdb.Item{server("n1", "a", "S1", "os", "Linux"), server("n3", "c", "S3")}})
	require.NoError(t, err)
	assert.Len(t, p.Creates, 1)
	assert.Len(t, p.Retirements, 1)
	require.NotEmpty(t, p.Updates)
	assert.Equal(t, before.Records(), e.snapshot().Records(), "a dry run writes nothing")

	predicted, err := before.Apply(p)
	require.NoError(t, err)
	require.NoError(t, p.Apply(context.Background(), e.repo))
	assert.Equal(t, predicted.Records(), e.snapshot().Records(), "applying the plan gives the predicted state")
	assert.Equal(t, predicted.Relationships(), e.snapshot().Relationships())

	_, err = before.Apply(p)
	require.NoError(t, err, "a plan applies to the snapshot it was made from")
	err = p.Apply(context.Background(), e.repo)
	require.ErrorIs(t, err, itsm.ErrConflict, "but not twice to the store")
}

// flakyRepo fails the first n updates with a conflict, as a concurrent
// writer would.
type flakyRepo struct {
	cmdb.Repository
	n int
}

func (f *flakyRepo) UpdateCI(ctx context.Context, r cmdb.Record) error {
	if f.n > 0 {
		f.n--
		return fmt.Errorf("flaky: %w", itsm.ErrConflict)
	}
	return f.Repository.UpdateCI(ctx, r)
}

func TestReconcileRetriesConflicts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int
		ok       bool
	}{{"one conflict", 1, true}, {"persistent conflicts", cmdb.MaxReconcileAttempts, false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRCEnv(t, cmdb.DefaultRules())
			e.run(cmdb.Batch{Source: "scan", At: rcT0, Items: []cmdb.Item{server("n1", "a", "S1")}})
			e.repo = &flakyRepo{Repository: e.repo, n: tc.failures}
			_, err := e.rc.Reconcile(context.Background(), e.repo, e.ids, cmdb.Batch{Tenant: rcTenant, Source: "scan", At: rcT0.Add(time.Hour),
				Items: []cmdb.Item{server("n1", "a", "S1", "os", "BSD")}})
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, "BSD", e.record("scan", "n1").Attributes["os"].Str())
				return
			}
			require.ErrorIs(t, err, itsm.ErrConflict)
			assert.NotContains(t, e.record("scan", "n1").Attributes, "os")
		})
	}
}

func TestReconcileRefusesBadInput(t *testing.T) {
	good := func() cmdb.Batch {
		return cmdb.Batch{Tenant: rcTenant, Source: "scan", At: rcT0.Add(time.Hour), Items: []cmdb.Item{
			server("n1", "web01", "S1"),
			{NativeID: "a1", Class: cmdb.ClassApplication, Name: "nginx", Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: "n1"}}},
		}}
	}
	tests := []struct {
		name   string
		change func(b *cmdb.Batch)
		field  string
	}{
		{"valid", func(*cmdb.Batch) {}, ""},
		{"no tenant", func(b *cmdb.Batch) { b.Tenant = "" }, "tenant"},
		{"bad source", func(b *cmdb.Batch) { b.Source = "Scan!" }, "source"},
		{"no instant", func(b *cmdb.Batch) { b.At = time.Time{} }, "at"},
		{"older than the previous batch", func(b *cmdb.Batch) { b.At = rcT0.Add(-time.Hour) }, "at"},
		{"no native id", func(b *cmdb.Batch) { b.Items[0].NativeID = "" }, "items[0].native_id"},
		{"repeated native id", func(b *cmdb.Batch) { b.Items[1].NativeID = "n1"; b.Items[1].Links = nil }, "items[1].native_id"},
		{"unknown class", func(b *cmdb.Batch) { b.Items[0].Class = "mainframe" }, "items[0].class"},
		{"abstract class", func(b *cmdb.Batch) { b.Items[0].Class = cmdb.ClassComputer }, "items[0].class"},
		{"class differs from before", func(b *cmdb.Batch) {
			b.Items[0].NativeID = "old"
			b.Items[1].Links[0].Target = "old"
			b.Items[0].Class = cmdb.ClassVirtualMachine
			delete(b.Items[0].Attributes, "serial_number")
		}, "items[0].class"},
		{"no name", func(b *cmdb.Batch) { b.Items[0].Name = "" }, "items[0].name"},
		{"unknown attribute", func(b *cmdb.Batch) { b.Items[0].Attributes["colour"] = str("red") }, "items[0].attributes.colour"},
		{"reserved key as attribute", func(b *cmdb.Batch) { b.Items[0].Attributes[cmdb.NameKey] = str("x") }, "items[0].attributes.@name"},
		{"wrong attribute type", func(b *cmdb.Batch) { b.Items[0].Attributes["cpu_count"] = str("four") }, "items[0].attributes.cpu_count"},
		{"value not allowed", func(b *cmdb.Batch) { b.Items[0].Attributes["environment"] = str("prod") }, "items[0].attributes.environment"},
		{"untyped value", func(b *cmdb.Batch) { b.Items[0].Attributes["os"] = cmdb.Value{} }, "items[0].attributes.os"},
		{"missing required attribute on a new CI", func(b *cmdb.Batch) { delete(b.Items[0].Attributes, "hostname") }, "items[0].attributes.hostname"},
		{"unknown link type", func(b *cmdb.Batch) { b.Items[1].Links[0].Type = "loves" }, "items[1].links[0].type"},
		{"unknown target", func(b *cmdb.Batch) { b.Items[1].Links[0].Target = "nowhere" }, "items[1].links[0].target"},
		{"link to itself", func(b *cmdb.Batch) { b.Items[1].Links[0].Target = "a1" }, "items[1].links[0].target"},
		{"pair not allowed", func(b *cmdb.Batch) { b.Items[1].Links[0].Type = cmdb.RelVirtualizedBy }, "items[1].links[0].type"},
		{"two hosts", func(b *cmdb.Batch) {
			b.Items = append(b.Items, server("n2", "web02", "S2"))
			b.Items[1].Links = append(b.Items[1].Links, cmdb.Link{Type: cmdb.RelHostedOn, Target: "n2"})
		}, "items[1].links[1]"},
		{"hosting cycle", func(b *cmdb.Batch) {
			b.Items = append(b.Items, cmdb.Item{NativeID: "c1", Class: cmdb.ClassContainer, Name: "c", Attributes: map[string]cmdb.Value{"image": str("x")},
				Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: "a2"}}},
				cmdb.Item{NativeID: "a2", Class: cmdb.ClassApplication, Name: "app", Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: "c1"}}})
		}, "items[3].links[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newRCEnv(t, cmdb.DefaultRules())
			e.run(cmdb.Batch{Source: "scan", At: rcT0, Items: []cmdb.Item{server("old", "legacy", "S0")}})
			before := e.snapshot()
			b := good()
			tc.change(&b)
			p, err := e.rc.Reconcile(context.Background(), e.repo, e.ids, b)
			if tc.field == "" {
				require.NoError(t, err)
				assert.Len(t, p.Creates, 2)
				return
			}
			requireInvalid(t, err, tc.field)
			assert.Nil(t, p)
			assert.Equal(t, before.Records(), e.snapshot().Records(), "nothing written")
		})
	}
}

func TestNewReconcilerRefusesBadRules(t *testing.T) {
	tests := []struct {
		name  string
		rules cmdb.Rules
		field string
	}{
		{"unknown class", cmdb.Rules{Identify: map[cmdb.ClassName][]cmdb.IdentifierRule{"mainframe": {{Name: true}}}}, "identify.mainframe"},
		{"empty rule", cmdb.Rules{Identify: map[cmdb.ClassName][]cmdb.IdentifierRule{cmdb.ClassServer: {{}}}}, "identify.server[0]"},
		{"attribute of a subclass", cmdb.Rules{Identify: map[cmdb.ClassName][]cmdb.IdentifierRule{cmdb.ClassComputer: {{Attributes: []string{"vm_uuid"}}}}}, "identify.computer[0].attributes[0]"},
		{"bad source", cmdb.Rules{Authority: map[cmdb.ClassName]map[string][]cmdb.Authority{cmdb.ClassServer: {"os": {{Source: ""}}}}}, "authority.server.os[0].source"},
		{"source twice", cmdb.Rules{Authority: map[cmdb.ClassName]map[string][]cmdb.Authority{cmdb.ClassServer: {"os": {{Source: "a"}, {Source: "a"}}}}}, "authority.server.os[1].source"},
		{"negative staleness", cmdb.Rules{Authority: map[cmdb.ClassName]map[string][]cmdb.Authority{cmdb.ClassServer: {"os": {{Source: "a", Staleness: -1}}}}}, "authority.server.os[0].staleness"},
		{"unknown attribute", cmdb.Rules{Authority: map[cmdb.ClassName]map[string][]cmdb.Authority{cmdb.ClassServer: {"colour": {{Source: "a"}}}}}, "authority.server.colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cmdb.NewReconciler(cmdb.NewRegistry(), tc.rules)
			requireInvalid(t, err, tc.field)
		})
	}
	rc, err := cmdb.NewReconciler(cmdb.NewRegistry(), cmdb.DefaultRules())
	require.NoError(t, err)
	assert.Equal(t, []cmdb.IdentifierRule{{Attributes: []string{"serial_number"}}, {Attributes: []string{"hostname"}}}, rc.IdentifierRules(cmdb.ClassServer), "own rules, then inherited ones")
	_, err = cmdb.NewReconciler(nil, cmdb.DefaultRules())
	requireInvalid(t, err, "registry")
	assert.True(t, errors.Is(err, itsm.ErrInvalid))
}
