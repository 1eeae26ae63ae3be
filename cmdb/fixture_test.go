package cmdb_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// fixture builds a small graph by short names.
type fixture struct {
	t   testing.TB
	reg *cmdb.Registry
	g   *cmdb.Graph
	gen itsm.IDGenerator
	ids map[string]cmdb.ID
	cis map[string]cmdb.CI
	// repo, when set, gets every CI and relationship the graph accepts.
	repo cmdb.Repository
}

func newFixture(t testing.TB) *fixture {
	reg := cmdb.NewRegistry()
	g, err := cmdb.NewGraph(reg, "acme")
	require.NoError(t, err)
	return &fixture{t: t, reg: reg, g: g, gen: itsmtest.NewIDs(42), ids: map[string]cmdb.ID{}, cis: map[string]cmdb.CI{}}
}

// newStoreFixture is newFixture with a memory store that receives the
// same writes as the graph.
func newStoreFixture(t testing.TB) *fixture {
	f := newFixture(t)
	repo, err := storage.CMDBRepository(memory.New(), f.reg)
	require.NoError(t, err)
	f.repo = repo
	return f
}

// required fills the required attributes of a class with placeholders.
func required(class cmdb.ClassName, name string) map[string]cmdb.Value {
	switch class {
	case cmdb.ClassServer, cmdb.ClassVirtualMachine:
		return map[string]cmdb.Value{"hostname": cmdb.StringValue(name)}
	case cmdb.ClassDatabase:
		return map[string]cmdb.Value{"engine": cmdb.StringValue("postgres")}
	case cmdb.ClassContainer:
		return map[string]cmdb.Value{"image": cmdb.StringValue("img")}
	}
	return nil
}

// ci adds a CI of class; extra attributes may be given.
func (f *fixture) ci(name string, class cmdb.ClassName, status cmdb.Status, extra ...any) cmdb.ID {
	f.t.Helper()
	attrs := required(class, name)
	for i := 0; i+1 < len(extra); i += 2 {
		if attrs == nil {
			attrs = map[string]cmdb.Value{}
		}
		attrs[extra[i].(string)] = extra[i+1].(cmdb.Value)
	}
	c, err := f.reg.Make(f.gen, fixedClock(), cmdb.NewCI{Tenant: "acme", Class: class, Name: name, Status: status, Attributes: attrs})
	require.NoError(f.t, err)
	require.NoError(f.t, f.g.AddCI(c))
	if f.repo != nil {
		require.NoError(f.t, f.repo.CreateCI(context.Background(), cmdb.Record{CI: c}))
	}
	f.ids[name] = c.ID
	f.cis[name] = c
	return c.ID
}

// relate adds a relationship and returns the graph's verdict.
func (f *fixture) relate(from string, t cmdb.RelTypeName, to string) error {
	id, err := cmdb.NewRelationshipID(f.gen)
	require.NoError(f.t, err)
	fromID, ok := f.ids[from]
	if !ok { // a CI that is not in the graph
		fromID, err = cmdb.NewID(f.gen)
		require.NoError(f.t, err)
	}
	toID, ok := f.ids[to]
	if !ok {
		toID, err = cmdb.NewID(f.gen)
		require.NoError(f.t, err)
	}
	rel := cmdb.Relationship{ID: id, Tenant: "acme", Type: t, From: fromID, To: toID, Created: t0}
	if err := f.g.AddRelationship(rel); err != nil || f.repo == nil {
		return err
	}
	require.NoError(f.t, f.repo.CreateRelationship(context.Background(), rel))
	return nil
}

func (f *fixture) must(from string, t cmdb.RelTypeName, to string) {
	f.t.Helper()
	require.NoError(f.t, f.relate(from, t, to), "%s %s %s", from, t, to)
}

// names returns the names of every node of r.
func names(r *cmdb.Impact) []string {
	var out []string
	for _, n := range r.All() {
		out = append(out, n.Name)
	}
	return out
}

// serviceNames returns the names of the headline services of r.
func serviceNames(r *cmdb.Impact) []string {
	var out []string
	for _, i := range r.Services {
		n, _ := r.At(i)
		out = append(out, n.Name)
	}
	return out
}
