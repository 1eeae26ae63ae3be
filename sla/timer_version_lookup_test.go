package sla

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// TestVersionLookup checks that Engine.version finds exactly what the map
// of every version holds, whether the engine scans its few versions or
// hashes into the map.
func TestVersionLookup(t *testing.T) {
	for _, n := range []int{1, 3, fewVersions - 1, fewVersions, fewVersions + 1, 40} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var as []Agreement
			for i := range n {
				// Two IDs, versions interleaved and not in order.
				id := []string{"gold", "silver"}[i%2]
				as = append(as, Agreement{ID: id, Version: 1 + (i*7)%n, Kind: itsm.AgreementSLA,
					Targets: []Target{{Metric: "m", Goals: []Goal{{Name: "g", Within: time.Hour}}}}})
			}
			e, err := NewEngine(as, nil)
			require.NoError(t, err)
			assert.Equal(t, n <= fewVersions, e.few != nil)
			if e.few != nil {
				assert.Len(t, e.few, len(e.all))
			}
			for _, id := range []string{"gold", "silver", "bronze", "gol", ""} {
				for v := -1; v <= n+2; v++ {
					assert.Same(t, e.all[versionKey{id, v}], e.version(id, v), "%s@%d", id, v)
				}
			}
		})
	}
}
