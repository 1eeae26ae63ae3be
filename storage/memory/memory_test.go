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

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"

	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
	"github.com/itsmkit/itsmkit/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memory.New() })
}

func TestZeroStoreIsUsable(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return new(memory.Store) })
}

// TestUpdatesDoNotKeepEarlierVersions checks that a record read back and
// saved again holds no reference into the encoding it was read from: 50
// incidents with 64 KB descriptions, each updated ten times, must cost
// about 50 encodings of heap, not 500.
func TestUpdatesDoNotKeepEarlierVersions(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	ids := itsmtest.NewIDs(3)
	const n, size = 50, 64 << 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		d := closed(ids, int64(i+1))
		d.Description = strings.Repeat("x", size)
		require.NoError(t, s.Incidents().Create(ctx, d))
		for range 10 {
			got, err := s.Incidents().Get(ctx, d.Tenant, d.ID)
			require.NoError(t, err)
			got.Assignee = got.Assignee + "" // a change that shares the text read
			require.NoError(t, s.Incidents().Update(ctx, got))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(2*n*size), "heap grew by %d bytes for %d records of %d bytes", grown, n, size)
	runtime.KeepAlive(s)
}

// TestDrainedOutboxGivesMemoryBack checks that once a burst of events has
// been delivered, the outbox's queue and index shrink again (Go maps and
// slices never shrink by themselves).
func TestDrainedOutboxGivesMemoryBack(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	ids := itsmtest.NewIDs(4)
	subject := itsm.Ref{Kind: itsm.KindIncident, ID: uuid.MustParse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")}
	var before, full, drained runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	batch := make([]itsm.Event, 1000)
	for range 200 {
		for i := range batch {
			e, err := itsm.NewEvent(ids, itsm.EventInput{Type: "incident.opened", Tenant: "acme", Subject: subject,
				At: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), Actor: itsm.Actor{ID: "ana"}})
			require.NoError(t, err)
			batch[i] = e
		}
		require.NoError(t, s.Append(ctx, batch...))
	}
	runtime.GC()
	runtime.ReadMemStats(&full)
	for {
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "relay", Limit: storage.MaxClaimLimit, Now: time.Now(), Lease: time.Minute})
		require.NoError(t, err)
		if len(b.Events) == 0 {
			break
		}
		require.NoError(t, s.Ack(ctx, b.Lease, b.IDs()...))
	}
	runtime.GC()
	runtime.ReadMemStats(&drained)
	held := int64(full.HeapAlloc) - int64(before.HeapAlloc)
	left := int64(drained.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("200,000 events held %d bytes; delivered, %d", held, left)
	assert.Less(t, left, held/10, "200,000 events held %d bytes; delivered, they still hold %d", held, left)
	runtime.KeepAlive(s)
}
