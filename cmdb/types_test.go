package cmdb_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func fixedClock() itsm.Clock { return func() time.Time { return t0 } }

// requireInvalid asserts err is a *itsm.ValidationError naming field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *itsm.ValidationError
	require.True(t, errors.As(err, &ve), "want *itsm.ValidationError, got %v", err)
	assert.True(t, ve.Has(field), "want a problem with %q, got %v", field, err)
	assert.ErrorIs(t, err, itsm.ErrInvalid)
}

func TestRegistryBuiltins(t *testing.T) {
	reg := cmdb.NewRegistry()
	for _, c := range []cmdb.ClassName{
		cmdb.ClassBusinessService, cmdb.ClassApplicationService, cmdb.ClassServiceOffering,
		cmdb.ClassApplication, cmdb.ClassDatabase, cmdb.ClassServer, cmdb.ClassVirtualMachine,
		cmdb.ClassContainer, cmdb.ClassCluster, cmdb.ClassNetworkDevice, cmdb.ClassStorageDevice,
		cmdb.ClassLocation, cmdb.ClassGroup,
	} {
		_, ok := reg.Class(c)
		assert.True(t, ok, "built-in class %s", c)
		assert.True(t, reg.IsA(c, cmdb.ClassCI), "%s descends from ci", c)
	}
	assert.True(t, reg.IsA(cmdb.ClassCluster, cmdb.ClassGroup))
	assert.Equal(t, []cmdb.ClassName{cmdb.ClassComputer, cmdb.ClassCI}, reg.Ancestors(cmdb.ClassServer))
	assert.Len(t, reg.RelTypes(), 13)

	names := func(as []cmdb.Attribute) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	attrs := names(reg.Attributes(cmdb.ClassServer))
	assert.Equal(t, []string{"description", "environment", "hostname", "ip_address", "os", "cpu_count", "ram_mb", "serial_number", "commissioned_at"}, attrs, "inherited first")
	assert.Contains(t, names(reg.Attributes(cmdb.ClassCluster)), cmdb.AttrMinUp, "clusters inherit min_up from group")
}

func TestRegistryExtend(t *testing.T) {
	tests := []struct {
		name  string
		do    func(*cmdb.Registry) error
		field string // "" means accepted
	}{
		{"new class below server", func(r *cmdb.Registry) error {
			return r.AddClass(cmdb.Class{Name: "blade", Parent: cmdb.ClassServer, Attributes: []cmdb.Attribute{{Name: "slot", Type: cmdb.TypeInt, Required: true}}})
		}, ""},
		{"unknown parent", func(r *cmdb.Registry) error { return r.AddClass(cmdb.Class{Name: "x", Parent: "nope"}) }, "parent"},
		{"no parent", func(r *cmdb.Registry) error { return r.AddClass(cmdb.Class{Name: "x"}) }, "parent"},
		{"duplicate class", func(r *cmdb.Registry) error {
			return r.AddClass(cmdb.Class{Name: cmdb.ClassServer, Parent: cmdb.ClassCI})
		}, "name"},
		{"bad class name", func(r *cmdb.Registry) error { return r.AddClass(cmdb.Class{Name: "Blade", Parent: cmdb.ClassCI}) }, "name"},
		{"attribute repeats inherited", func(r *cmdb.Registry) error {
			return r.AddClass(cmdb.Class{Name: "blade", Parent: cmdb.ClassServer, Attributes: []cmdb.Attribute{{Name: "hostname", Type: cmdb.TypeString}}})
		}, "attributes[0].name"},
		{"bad attribute type", func(r *cmdb.Registry) error {
			return r.AddClass(cmdb.Class{Name: "blade", Parent: cmdb.ClassServer, Attributes: []cmdb.Attribute{{Name: "slot", Type: "float"}}})
		}, "attributes[0].type"},
		{"values on an int", func(r *cmdb.Registry) error {
			return r.AddAttributes(cmdb.ClassServer, cmdb.Attribute{Name: "slot", Type: cmdb.TypeInt, Values: []string{"1"}})
		}, "attributes[0].values"},
		{"attribute clashing with a descendant", func(r *cmdb.Registry) error {
			return r.AddAttributes(cmdb.ClassComputer, cmdb.Attribute{Name: "serial_number", Type: cmdb.TypeString})
		}, "attributes[0].name"},
		{"attributes of unknown class", func(r *cmdb.Registry) error {
			return r.AddAttributes("nope", cmdb.Attribute{Name: "a", Type: cmdb.TypeString})
		}, "class"},
		{"user relationship type", func(r *cmdb.Registry) error {
			return r.AddRelType(cmdb.RelType{Name: "backs_up", Parent: "Backs up", Child: "Backed up by", Kind: cmdb.KindUsage,
				Flow: cmdb.FlowNone, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
				Allowed: []cmdb.ClassPair{{From: cmdb.ClassStorageDevice, To: cmdb.ClassDatabase}}})
		}, ""},
		{"relationship type with unknown class", func(r *cmdb.Registry) error {
			return r.AddRelType(cmdb.RelType{Name: "backs_up", Parent: "Backs up", Child: "Backed up by", Kind: cmdb.KindUsage,
				Flow: cmdb.FlowNone, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
				Allowed: []cmdb.ClassPair{{From: "tape", To: cmdb.ClassDatabase}}})
		}, "allowed[0].from"},
		{"duplicate relationship type", func(r *cmdb.Registry) error {
			return r.AddRelType(cmdb.RelType{Name: cmdb.RelRunsOn, Parent: "a", Child: "b", Kind: cmdb.KindUsage,
				Flow: cmdb.FlowNone, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
				Allowed: []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}}})
		}, "name"},
		{"hosting type flowing both ways", func(r *cmdb.Registry) error {
			return r.AddRelType(cmdb.RelType{Name: "nested_in", Parent: "a", Child: "b", Kind: cmdb.KindHosting,
				Flow: cmdb.FlowBoth, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach,
				Allowed: []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}}})
		}, "flow"},
		{"cascade without dependent", func(r *cmdb.Registry) error {
			return r.AddRelType(cmdb.RelType{Name: "x", Parent: "a", Child: "b", Kind: cmdb.KindUsage,
				Flow: cmdb.FlowNone, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteCascade,
				Allowed: []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}}})
		}, "on_delete"},
		{"no allowed pairs", func(r *cmdb.Registry) error {
			return r.AddRelType(cmdb.RelType{Name: "x", Parent: "a", Child: "b", Kind: cmdb.KindUsage,
				Flow: cmdb.FlowNone, Cardinality: cmdb.ManyToMany, OnDelete: cmdb.DeleteDetach})
		}, "allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(cmdb.NewRegistry())
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			requireInvalid(t, err, tc.field)
		})
	}
}

func TestAttributesInheritAfterAddAttributes(t *testing.T) {
	reg := cmdb.NewRegistry()
	require.NoError(t, reg.AddAttributes(cmdb.ClassComputer, cmdb.Attribute{Name: "rack", Type: cmdb.TypeString, Required: true}))
	has := false
	for _, a := range reg.Attributes(cmdb.ClassVirtualMachine) {
		has = has || a.Name == "rack" && a.Required
	}
	assert.True(t, has, "virtual_machine inherits a later attribute of computer")
}

func validServer(t *testing.T) cmdb.CI {
	t.Helper()
	reg := cmdb.NewRegistry()
	c, err := reg.Make(itsmtest.NewIDs(1), fixedClock(), cmdb.NewCI{
		Tenant: "acme", Class: cmdb.ClassServer, Name: "srv01",
		Attributes: map[string]cmdb.Value{"hostname": cmdb.StringValue("srv01.acme.example")},
	})
	require.NoError(t, err)
	return c
}

func TestValidateCI(t *testing.T) {
	reg := cmdb.NewRegistry()
	tests := []struct {
		name   string
		change func(*cmdb.CI)
		field  string
	}{
		{"valid", func(*cmdb.CI) {}, ""},
		{"zero id", func(c *cmdb.CI) { c.ID = cmdb.ID{} }, "id"},
		{"bad tenant", func(c *cmdb.CI) { c.Tenant = "a b" }, "tenant"},
		{"unknown class", func(c *cmdb.CI) { c.Class = "mainframe" }, "class"},
		{"abstract class", func(c *cmdb.CI) { c.Class = cmdb.ClassComputer }, "class"},
		{"empty name", func(c *cmdb.CI) { c.Name = "" }, "name"},
		{"bad status", func(c *cmdb.CI) { c.Status = "broken" }, "status"},
		{"missing required attribute", func(c *cmdb.CI) { delete(c.Attributes, "hostname") }, "attributes.hostname"},
		{"wrong type", func(c *cmdb.CI) { c.Attributes["cpu_count"] = cmdb.StringValue("4") }, "attributes.cpu_count"},
		{"untyped value", func(c *cmdb.CI) { c.Attributes["os"] = cmdb.Value{} }, "attributes.os"},
		{"undeclared attribute", func(c *cmdb.CI) { c.Attributes["colour"] = cmdb.StringValue("red") }, "attributes.colour"},
		{"value not listed", func(c *cmdb.CI) { c.Attributes["environment"] = cmdb.StringValue("prod") }, "attributes.environment"},
		{"zero time value", func(c *cmdb.CI) { c.Attributes["commissioned_at"] = cmdb.TimeValue(time.Time{}) }, "attributes.commissioned_at"},
		{"unnormalised created", func(c *cmdb.CI) { c.Created = t0.Add(time.Nanosecond) }, "created"},
		{"updated before created", func(c *cmdb.CI) { c.Updated = t0.Add(-time.Hour) }, "updated"},
		{"negative version", func(c *cmdb.CI) { c.Version = -1 }, "version"},
		{"min_up below one", func(c *cmdb.CI) {
			c.Class = cmdb.ClassCluster
			c.Attributes = map[string]cmdb.Value{cmdb.AttrMinUp: cmdb.IntValue(0)}
		}, "attributes.min_up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validServer(t).Clone()
			tc.change(&c)
			err := reg.ValidateCI(c)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			requireInvalid(t, err, tc.field)
		})
	}
}

func TestMissingRecommended(t *testing.T) {
	reg := cmdb.NewRegistry()
	c := validServer(t)
	assert.Equal(t, []string{"environment", "ip_address", "os", "serial_number"}, reg.MissingRecommended(c))
}

func TestValueJSONRoundTrip(t *testing.T) {
	id, err := cmdb.NewID(itsmtest.NewIDs(3))
	require.NoError(t, err)
	ref := id.Ref()
	for _, v := range []cmdb.Value{
		cmdb.StringValue("x"), cmdb.IntValue(-7), cmdb.BoolValue(true), cmdb.BoolValue(false),
		cmdb.TimeValue(t0), cmdb.DecimalValue(decimal.RequireFromString("12.50")), cmdb.RefValue(ref),
	} {
		t.Run(string(v.Type()), func(t *testing.T) {
			b, err := json.Marshal(v)
			require.NoError(t, err)
			var back cmdb.Value
			require.NoError(t, json.Unmarshal(b, &back))
			assert.True(t, v.Equal(back), "%s round-trips, got %s", v, back)
		})
	}
	var v cmdb.Value
	requireInvalid(t, json.Unmarshal([]byte(`{"type":"float","value":1}`), &v), "value")
	requireInvalid(t, json.Unmarshal([]byte(`{"type":"int","value":"x"}`), &v), "value")
}

func TestRelate(t *testing.T) {
	reg := cmdb.NewRegistry()
	gen := itsmtest.NewIDs(9)
	mk := func(class cmdb.ClassName, attrs map[string]cmdb.Value) cmdb.CI {
		c, err := reg.Make(gen, fixedClock(), cmdb.NewCI{Tenant: "acme", Class: class, Name: string(class), Attributes: attrs})
		require.NoError(t, err)
		return c
	}
	app := mk(cmdb.ClassApplication, nil)
	vm := mk(cmdb.ClassVirtualMachine, map[string]cmdb.Value{"hostname": cmdb.StringValue("vm")})
	loc := mk(cmdb.ClassLocation, nil)
	tests := []struct {
		name     string
		typ      cmdb.RelTypeName
		from, to cmdb.CI
		field    string
	}{
		{"app runs on vm", cmdb.RelRunsOn, app, vm, ""},
		{"vm runs on app is not a class pair", cmdb.RelRunsOn, vm, app, "type"},
		{"app located in location", cmdb.RelLocatedIn, app, loc, ""},
		{"unknown type", "hugs", app, vm, "type"},
		{"self", cmdb.RelDependsOn, app, app, "to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := reg.Relate(gen, fixedClock(), tc.typ, tc.from, tc.to)
			if tc.field == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.from.ID, rel.From)
				assert.Equal(t, t0, rel.Created)
				return
			}
			requireInvalid(t, err, tc.field)
		})
	}
}
