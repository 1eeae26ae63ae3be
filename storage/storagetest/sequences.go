package storagetest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

func runSequences(t *testing.T, open Opener) {
	t.Run("counts from 1 per tenant and name", func(t *testing.T) {
		seq := capability[storage.Sequences](t, newEnv(t, open).store)
		ctx := context.Background()
		steps := []struct {
			tenant itsm.TenantID
			name   string
			want   int64
		}{
			{tenantA, "incident", 1},
			{tenantA, "incident", 2},
			{tenantA, "problem", 1},
			{tenantB, "incident", 1},
			{tenantA, "incident", 3},
			{tenantB, "incident", 2},
		}
		for _, s := range steps {
			v, err := seq.Next(ctx, s.tenant, s.name)
			require.NoError(t, err)
			assert.Equal(t, s.want, v, "%s/%s", s.tenant, s.name)
		}
	})
	t.Run("unique under concurrency", func(t *testing.T) {
		seq := capability[storage.Sequences](t, newEnv(t, open).store)
		ctx := context.Background()
		const perWriter = 50
		type key struct {
			tenant itsm.TenantID
			name   string
		}
		keys := []key{{tenantA, "incident"}, {tenantB, "incident"}, {tenantA, "change"}}
		got := make([][]int64, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					k := keys[(w+i)%len(keys)]
					v, err := seq.Next(ctx, k.tenant, k.name)
					if !assert.NoError(t, err) {
						return
					}
					got[w] = append(got[w], v)
				}
			})
		}
		wg.Wait()
		seen := map[key]map[int64]bool{}
		for w, list := range got {
			require.Len(t, list, perWriter)
			for i, v := range list {
				k := keys[(w+i)%len(keys)]
				if seen[k] == nil {
					seen[k] = map[int64]bool{}
				}
				require.Positive(t, v)
				require.False(t, seen[k][v], "%s/%s handed out %d twice", k.tenant, k.name, v)
				seen[k][v] = true
			}
		}
		total := 0
		for _, vs := range seen {
			total += len(vs)
		}
		assert.Equal(t, writers*perWriter, total)
	})
	t.Run("refusals", func(t *testing.T) {
		seq := capability[storage.Sequences](t, newEnv(t, open).store)
		tests := []struct {
			name, seqName string
			tenant        itsm.TenantID
			field         string
		}{
			{"no tenant", "incident", "", "tenant"},
			{"malformed tenant", "incident", "a b", "tenant"},
			{"no name", "", tenantA, "sequence"},
			{"upper-case name", "Incident", tenantA, "sequence"},
			{"name with a space", "incident number", tenantA, "sequence"},
			{"long name", strings.Repeat("n", storage.MaxSequenceNameLen+1), tenantA, "sequence"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := seq.Next(context.Background(), tc.tenant, tc.seqName)
				validationField(t, err, tc.field)
			})
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		seq := capability[storage.Sequences](t, newEnv(t, open).store)
		_, err := seq.Next(cancelled(), tenantA, "incident")
		require.ErrorIs(t, err, context.Canceled)
		v, err := seq.Next(context.Background(), tenantA, "incident")
		require.NoError(t, err)
		assert.Equal(t, int64(1), v, "the cancelled call consumed nothing")
	})
}
