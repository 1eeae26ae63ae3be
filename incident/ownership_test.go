package incident_test

// The memory store keeps the very Data a command saved (see share.go), and
// the service skips its checks for records it saved itself. These tests pin
// what that must never let through: a host reaching the stored record
// through its Result, an instant or reference the checks would have
// refused, a slice of the host's own kept by the store.

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// A host that overwrites its Result.Incident changes its own value only.
func TestResultIncidentIsNotTheStoredRecord(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	res, err := d.svc.Open(ctx, tenant, agent, mailDown())
	require.NoError(t, err)
	id := res.Incident.ID()

	other, err := d.svc.Open(ctx, tenant, agent, incident.OpenInput{Title: "Printer on fire", Caller: "eve", Impact: 3, Urgency: 3})
	require.NoError(t, err)

	// The host reuses its variable: legal Go, the Incident is "its" copy.
	*res.Incident = *other.Incident.Clone()

	got, err := d.svc.Get(ctx, tenant, id)
	require.NoError(t, err)
	require.Equal(t, id, got.ID(), "Get(id) returned another incident: the store's record was overwritten through Result.Incident")
}

// The same through the transaction path (link_parent checks ancestors).
func TestResultIncidentIsNotTheStoredRecordAfterLinkParent(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent := d.open(t)
	child := d.open(t)
	res, err := d.svc.LinkParent(ctx, tenant, child.ID(), parent.ID(), agent)
	require.NoError(t, err)
	*res.Incident = incident.Incident{}
	got, err := d.svc.Get(ctx, tenant, child.ID())
	require.NoError(t, err, "the stored child record was zeroed through Result.Incident")
	require.Equal(t, parent.ID(), got.Parent())
}

// itsm.Clock promises that a zero instant is refused; the service's own
// events skip the outbox's validation, so Open must refuse it itself.
func TestOpenRefusesAZeroClock(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	cfg, err := storage.IncidentConfig(store)
	require.NoError(t, err)
	cfg.Clock = func() time.Time { return time.Time{} }
	cfg.IDs = itsmtest.NewIDs(1)
	svc, err := incident.NewService(cfg)
	require.NoError(t, err)

	_, err = svc.Open(ctx, tenant, agent, mailDown())
	var verr *itsm.ValidationError
	require.ErrorAs(t, err, &verr)
	require.ErrorContains(t, err, "clock")
}

// What the host's Impact function returns is checked before it is stored:
// a record the service saved itself is not checked again by its next
// command, so it must be one Service.Get accepts too.
func TestImpactResultIsChecked(t *testing.T) {
	ctx := context.Background()
	bad := []itsm.Ref{{Kind: "nonsense"}} // zero ID, unknown kind
	d := newDesk(t, false, func(c *incident.Config) {
		c.Impact = func(context.Context, itsm.TenantID, []itsm.Ref) ([]itsm.Ref, error) { return bad, nil }
	})
	ci := itsm.Ref{Kind: itsm.KindCI, ID: mustUUID(t, 9)}
	in := mailDown()
	in.CIs = []itsm.Ref{ci}
	_, err := d.svc.Open(ctx, tenant, agent, in)
	require.ErrorContains(t, err, "impacted services[0]")
}

// The store keeps a copy of the slice the host's Impact function returned.
func TestImpactSliceIsNotKept(t *testing.T) {
	ctx := context.Background()
	svcRef := itsm.Ref{Kind: itsm.KindService, ID: mustUUID(t, 11)}
	cache := []itsm.Ref{svcRef}
	d := newDesk(t, false, func(c *incident.Config) {
		c.Impact = func(context.Context, itsm.TenantID, []itsm.Ref) ([]itsm.Ref, error) { return cache, nil }
	})
	ci := itsm.Ref{Kind: itsm.KindCI, ID: mustUUID(t, 9)}
	in := mailDown()
	in.CIs = []itsm.Ref{ci}
	res, err := d.svc.Open(ctx, tenant, agent, in)
	require.NoError(t, err)
	cache[0] = itsm.Ref{Kind: itsm.KindService, ID: mustUUID(t, 12)} // the host refreshes its cache
	got, err := d.svc.Get(ctx, tenant, res.Incident.ID())
	require.NoError(t, err)
	require.Equal(t, []itsm.Ref{svcRef}, got.ImpactedServices(), "the host's later write to its own slice changed the stored incident")
}

func mustUUID(t *testing.T, seed uint64) uuid.UUID {
	u, err := itsmtest.NewIDs(seed).NewUUID()
	require.NoError(t, err)
	return u
}

// Under -race: a host recycling its Result.Incident (through a sync.Pool,
// say) while another goroutine reads the incident.
func TestOverwritingAResultIncidentDoesNotRace(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	res, err := d.svc.Open(ctx, tenant, agent, mailDown())
	require.NoError(t, err)
	id := res.Incident.ID()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = d.svc.Get(ctx, tenant, id)
		}
	}()
	for range 100 {
		*res.Incident = incident.Incident{} // the host's own value, as documented
	}
	<-done
}
