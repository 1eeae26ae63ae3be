package cmdb_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
)

// builtinClassTable renders the built-in classes as doc.go lists them:
// the tree (abstract classes marked) with each class's required and
// recommended attributes, inherited ones included; and the attributes
// whose values are fixed, with those values.
func builtinClassTable() (classes, fixed string) {
	reg := cmdb.NewRegistry()
	depth := map[cmdb.ClassName]int{}
	var b strings.Builder
	fmt.Fprintf(&b, "//\t%-28s %-10s %s\n", "class", "required", "recommended")
	var f strings.Builder
	for _, n := range reg.Classes() {
		c, _ := reg.Class(n)
		if c.Parent != "" {
			depth[n] = depth[c.Parent] + 1
		}
		name := strings.Repeat("  ", depth[n]) + string(n)
		if c.Abstract {
			name += " (abstract)"
		}
		var req, rec []string
		for _, a := range reg.Attributes(n) {
			switch {
			case a.Required:
				req = append(req, a.Name)
			case a.Recommended:
				rec = append(rec, a.Name)
			}
		}
		for _, a := range c.Attributes {
			if len(a.Values) > 0 {
				fmt.Fprintf(&f, "//\t%s: %s\n", a.Name, strings.Join(a.Values, ", "))
			}
		}
		list := func(s []string) string {
			if len(s) == 0 {
				return "-"
			}
			return strings.Join(s, ", ")
		}
		fmt.Fprintf(&b, "//\t%-28s %-10s %s\n", name, list(req), list(rec))
	}
	return b.String(), f.String()
}

// TestDocListsBuiltinClasses keeps the package doc's table of built-in
// classes and their required attributes in step with the registry.
func TestDocListsBuiltinClasses(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	classes, fixed := builtinClassTable()
	assert.True(t, strings.Contains(string(doc), classes), "doc.go should list the built-in classes as the registry has them:\n%s", classes)
	assert.True(t, strings.Contains(string(doc), fixed), "doc.go should list the attributes of fixed values as the registry has them:\n%s", fixed)
}

// TestClassConstantsNameRequiredAttributes checks the required attributes
// the ClassName constants' doc names against the registry.
func TestClassConstantsNameRequiredAttributes(t *testing.T) {
	reg := cmdb.NewRegistry()
	want := map[cmdb.ClassName][]string{}
	for _, n := range reg.Classes() {
		if c, _ := reg.Class(n); c.Abstract {
			continue
		}
		for _, a := range reg.Attributes(n) {
			if a.Required {
				want[n] = append(want[n], a.Name)
			}
		}
	}
	assert.Equal(t, map[cmdb.ClassName][]string{
		cmdb.ClassDatabase: {"engine"}, cmdb.ClassContainer: {"image"},
		cmdb.ClassServer: {"hostname"}, cmdb.ClassVirtualMachine: {"hostname"},
	}, want, "class.go's doc of the ClassName constants names these")
}
