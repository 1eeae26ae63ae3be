package layering

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/itsmkit/itsmkit"

// pkg is what `go list -json` says about one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// layers says, for each package of the module (by path relative to the
// module root), which other packages of the module it may import directly.
// A trailing "/..." matches a package and everything below it.
var layers = map[string][]string{
	"internal/fsmx":       {},
	"internal/layering":   {},
	"internal/wire":       {},
	"internal/jsonw":      {},
	"itsm":                {"internal/fsmx"},
	"sla":                 {"itsm", "internal/wire", "internal/jsonw"},
	"cmdb":                {"itsm"},
	"itsmtest":            {"itsm"},
	"incident":            {"sla", "itsm", "internal/wire", "internal/jsonw"},
	"change":              {"cmdb", "sla", "itsm"},
	"problem":             {"incident", "sla", "itsm"},
	"storage":             {"itsm", "sla", "cmdb", "incident", "problem", "change"},
	"storage/memory":      {"storage", "itsm", "sla", "cmdb", "incident", "problem", "change", "internal/wire"},
	"storage/postgres":    {"storage", "itsm", "sla", "cmdb", "incident", "problem", "change"},
	"storage/storagetest": {"storage", "itsmtest", "itsm", "sla", "cmdb", "incident", "problem", "change"},
	"itsmtest/faults":     {"storage", "incident", "cmdb", "itsm"},
	"itsmtest/incidents":  {"incident", "sla", "itsmtest", "itsm"},
	"examples/...":        {"..."},
}

// domain lists the packages that hold rules and must stay free of
// infrastructure.
var domain = []string{"itsm", "internal/fsmx", "internal/wire", "internal/jsonw", "sla", "cmdb", "incident", "problem", "change"}

// forbiddenDeps may not appear anywhere in a domain package's dependencies.
var forbiddenDeps = []string{
	module + "/storage/...",
	"net/http/...",
	"database/sql",
	"github.com/jackc/...",
	"github.com/lib/pq/...",
	"github.com/go-sql-driver/...",
}

// forbiddenImports may not be imported directly by a domain package.
var forbiddenImports = []string{"log", "log/slog"}

const looplab = "github.com/looplab/fsm"

// matches reports whether path is pattern or, for "x/...", lies under x.
func matches(pattern, path string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func rel(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func layerOf(r string) ([]string, bool) {
	if allowed, ok := layers[r]; ok {
		return allowed, true
	}
	for pattern, allowed := range layers {
		if strings.HasSuffix(pattern, "/...") && matches(pattern, r) {
			return allowed, true
		}
	}
	return nil, false
}

// check returns every rule the packages break, sorted.
func check(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		r, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		allowed, known := layerOf(r)
		if !known {
			out = append(out, fmt.Sprintf("%s: not in the layering table; give it a layer in internal/layering", r))
		}
		for _, imp := range p.Imports {
			if imp == looplab && r != "internal/fsmx" {
				out = append(out, fmt.Sprintf("%s imports %s: only internal/fsmx may", r, looplab))
			}
			ir, internal := rel(imp)
			if !internal || !known {
				continue
			}
			okImport := false
			for _, a := range allowed {
				if matches(a, ir) {
					okImport = true
				}
			}
			if !okImport {
				out = append(out, fmt.Sprintf("%s imports %s: not allowed by its layer", r, ir))
			}
		}
		isDomain := false
		for _, d := range domain {
			isDomain = isDomain || d == r
		}
		if !isDomain {
			continue
		}
		for _, dep := range p.Deps {
			for _, f := range forbiddenDeps {
				if matches(f, dep) {
					out = append(out, fmt.Sprintf("%s depends on %s: domain packages stay free of storage, drivers and HTTP", r, dep))
				}
			}
		}
		for _, imp := range p.Imports {
			for _, f := range forbiddenImports {
				if imp == f {
					out = append(out, fmt.Sprintf("%s imports %s: domain packages do not log; they return errors and events", r, imp))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestModuleFollowsTheLayers(t *testing.T) {
	pkgs := listPackages(t)
	require.NotEmpty(t, pkgs)
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.ImportPath] = true
	}
	require.True(t, seen[module+"/itsm"], "go list must see the kernel")
	assert.Empty(t, check(pkgs))
}

// The checker must catch each kind of violation; otherwise the test above
// could pass while checking nothing.
func TestCheckCatchesViolations(t *testing.T) {
	tests := []struct {
		name string
		pkg  pkg
		want string
	}{
		{"domain importing storage", pkg{ImportPath: module + "/incident", Imports: []string{module + "/storage"}, Deps: []string{module + "/storage"}}, "incident depends on " + module + "/storage"},
		{"domain reaching net/http", pkg{ImportPath: module + "/sla", Deps: []string{"net/http"}}, "sla depends on net/http"},
		{"domain reaching a driver", pkg{ImportPath: module + "/cmdb", Deps: []string{"github.com/jackc/pgx/v5"}}, "cmdb depends on github.com/jackc/pgx/v5"},
		{"domain logging", pkg{ImportPath: module + "/change", Imports: []string{"log/slog"}}, "change imports log/slog"},
		{"looplab outside fsmx", pkg{ImportPath: module + "/itsm", Imports: []string{looplab}}, "itsm imports github.com/looplab/fsm"},
		{"upward import", pkg{ImportPath: module + "/incident", Imports: []string{module + "/problem"}}, "incident imports problem: not allowed"},
		{"kernel importing a practice", pkg{ImportPath: module + "/itsm", Imports: []string{module + "/sla"}}, "itsm imports sla"},
		{"package without a layer", pkg{ImportPath: module + "/util"}, "util: not in the layering table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := check([]pkg{tc.pkg})
			require.NotEmpty(t, got)
			assert.Contains(t, strings.Join(got, "\n"), tc.want)
		})
	}
	assert.Empty(t, check([]pkg{
		{ImportPath: module + "/incident", Imports: []string{module + "/sla", module + "/itsm", "fmt"}},
		{ImportPath: module + "/internal/fsmx", Imports: []string{looplab}},
		{ImportPath: module + "/examples/servicedesk", Imports: []string{module + "/storage/memory"}},
		{ImportPath: "example.com/other", Imports: []string{looplab}},
	}), "allowed imports are not flagged")
}
