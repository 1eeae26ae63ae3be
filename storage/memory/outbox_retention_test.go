package memory_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// Each undelivered outbox event must not keep the previous version's whole
// encoding alive (its Tenant is a substring of the record the command read).
func TestOutboxEventsKeepNoOldEncoding(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	cfg, err := storage.IncidentConfig(s)
	require.NoError(t, err)
	cfg.Clock = itsmtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)).Func()
	cfg.IDs = itsmtest.NewIDs(7)
	svc, err := incident.NewService(cfg)
	require.NoError(t, err)
	by := itsm.Actor{ID: "ana"}
	res, err := svc.Open(ctx, "acme", by, incident.OpenInput{Title: "t", Caller: "bob", Impact: 2, Urgency: 2,
		Description: strings.Repeat("x", incident.MaxDescriptionLen)})
	require.NoError(t, err)
	id := res.Incident.ID()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 100
	for range n {
		_, err := svc.Comment(ctx, "acme", id, by, "hi", incident.AgentComment)
		require.NoError(t, err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d bytes for %d comments (%d per comment)", grown, n, grown/n)
	require.Less(t, grown, int64(10*incident.MaxDescriptionLen), "outbox events retain old encodings")
	runtime.KeepAlive(s)
}

// TestOutboxKeepsNoTextOfItsCallers checks the store-level half: a queued
// event whose tenant is a substring of a larger string does not keep that
// string alive.
func TestOutboxKeepsNoTextOfItsCallers(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	ids := itsmtest.NewIDs(9)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 20 {
		big := "acme" + strings.Repeat("x", 1<<20)
		e, err := itsm.NewEvent(ids, itsm.EventInput{Type: "incident.opened", Tenant: itsm.TenantID(big[:4]),
			Subject: itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}, At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Actor: itsm.Actor{ID: "ana"}})
		require.NoError(t, err)
		require.NoError(t, s.Append(ctx, e))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	require.Less(t, grown, int64(1<<20), "20 queued events keep %d bytes", grown)
	runtime.KeepAlive(s)
}
