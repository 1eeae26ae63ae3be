package cmdb_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
)

func TestGenerate(t *testing.T) {
	reg := cmdb.NewRegistry()
	a, err := cmdb.Generate(reg, cmdb.GenerateOptions{CIs: 5000, Seed: 7})
	require.NoError(t, err)
	cis, rels := a.Len()
	assert.InDelta(t, 5000, cis, 50)
	assert.InDelta(t, 3.0, float64(rels)/float64(cis), 0.4, "about three relationships per CI, got %d", rels)
	assert.Zero(t, a.Pending(), "compacted")

	b, err := cmdb.Generate(reg, cmdb.GenerateOptions{CIs: 5000, Seed: 7})
	require.NoError(t, err)
	var ra, rb []cmdb.Relationship
	a.EachRelationship(func(r cmdb.Relationship) bool { ra = append(ra, r); return true })
	b.EachRelationship(func(r cmdb.Relationship) bool { rb = append(rb, r); return true })
	assert.Equal(t, ra, rb, "same seed, same CMDB")

	c, err := cmdb.Generate(reg, cmdb.GenerateOptions{CIs: 5000, Seed: 8})
	require.NoError(t, err)
	var rc []cmdb.Relationship
	c.EachRelationship(func(r cmdb.Relationship) bool { rc = append(rc, r); return true })
	assert.NotEqual(t, ra, rc, "another seed, another CMDB")

	// A core switch failure reaches business services.
	var core cmdb.ID
	a.EachCI(func(n cmdb.Node) bool {
		if n.Class == cmdb.ClassNetworkDevice {
			core = n.ID
			return false
		}
		return true
	})
	r, err := a.Impact(cmdb.Query{Origins: []cmdb.ID{core}})
	require.NoError(t, err)
	assert.NotEmpty(t, r.Services)

	_, err = cmdb.Generate(reg, cmdb.GenerateOptions{CIs: 10})
	requireInvalid(t, err, "cis")
}

// TestGenerateMillion builds the 1,000,000-CI CMDB and checks its heap. It
// takes a while, so it runs only with ITSMKIT_BIG=1.
func TestGenerateMillion(t *testing.T) {
	if os.Getenv("ITSMKIT_BIG") != "1" {
		t.Skip("set ITSMKIT_BIG=1 to build the 1,000,000-CI CMDB")
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g, err := cmdb.Generate(cmdb.NewRegistry(), cmdb.GenerateOptions{CIs: 1_000_000, Seed: 1})
	require.NoError(t, err)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	cis, rels := g.Len()
	heap := after.HeapAlloc - before.HeapAlloc
	t.Logf("%d CIs, %d relationships, heap %.1f MiB", cis, rels, float64(heap)/(1<<20))
	assert.Equal(t, 1_000_000, cis)
	assert.Greater(t, rels, 2_700_000)
	assert.LessOrEqual(t, heap, uint64(1536)<<20, "heap must stay within 1.5 GiB")
	runtime.KeepAlive(g)
}
