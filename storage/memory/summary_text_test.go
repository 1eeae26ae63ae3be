package memory_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// TestReopenAndCloseDoNotKeepEarlierVersions checks the summary's text
// across a record's two forms: a closed record read back and reopened is
// kept decoded, its summary sharing the record's text (which points into
// the encoding it was read from); closed again, it is encoded anew, and its
// summary (caller, category, service kind and the rest) must then hold none
// of that text, or every reopen would leave an encoding behind. 50
// incidents with 64 KB descriptions, each reopened and closed five times,
// must cost about 50 encodings of heap, not 300. Lists by the summary's
// fields still find them.
func TestReopenAndCloseDoNotKeepEarlierVersions(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	repo := s.Incidents()
	ids := itsmtest.NewIDs(5)
	const n, size = 50, 64 << 10
	service := itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a5c4-0000-7000-8000-00000000000b")}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		d := closed(ids, int64(i+1))
		d.Description = strings.Repeat("x", size)
		d.Category, d.Service = "network", service
		require.NoError(t, repo.Create(ctx, d))
		for range 5 {
			got, err := repo.Get(ctx, d.Tenant, d.ID)
			require.NoError(t, err)
			at := got.UpdatedAt.Add(time.Minute)
			got.Status, got.ClosedAt, got.UpdatedAt = incident.StatusInProgress, time.Time{}, at
			require.NoError(t, repo.Update(ctx, got), "reopened: kept decoded")
			got, err = repo.Get(ctx, d.Tenant, d.ID)
			require.NoError(t, err)
			at = at.Add(time.Minute)
			got.Status, got.ClosedAt, got.UpdatedAt = incident.StatusClosed, at, at
			require.NoError(t, repo.Update(ctx, got), "closed: encoded")
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(2*n*size), "heap grew by %d bytes for %d records of %d bytes", grown, n, size)
	for _, f := range []incident.Filter{{Caller: "caller-42"}, {Category: "network"}, {Service: service}} {
		page, err := repo.List(ctx, "acme", f, incident.Page{Limit: incident.MaxPageLimit})
		require.NoError(t, err)
		assert.Len(t, page.Items, n, "%+v", f)
	}
	runtime.KeepAlive(s)
}
