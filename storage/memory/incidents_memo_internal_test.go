package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// checkMemos checks what the memos of s claim: the tenant last written to
// is the one s.tenants holds under its ID, and a tenant's last incident is
// the one its byID holds.
func checkMemos(t *testing.T, s *Store) {
	t.Helper()
	if tn := s.lastTenant.Load(); tn != nil {
		require.Same(t, tn, s.tenants[tn.id])
	}
	for id, tn := range s.tenants {
		require.Equal(t, id, tn.id)
		if tn.last != nil {
			require.Same(t, tn.byID[tn.last.sum.ID], tn.last)
		}
	}
}

// The memos of the tenant last written to and of its last incident stay
// true through creations, updates, failed writes and rolled-back
// transactions in two tenants, and reads through them see what the maps
// hold.
func TestIncidentMemos(t *testing.T) {
	ctx := context.Background()
	s := New()
	repo := s.Incidents()
	ids := itsmtest.NewIDs(3)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	newIncident := func(tenant itsm.TenantID, n int64) incident.Data {
		u, _ := ids.NewUUID()
		var id incident.ID
		require.NoError(t, id.UnmarshalText([]byte(u.String())))
		return incident.Data{ID: id, Tenant: tenant, Number: incident.FormatNumber("INC", n), Title: "t",
			Status: incident.StatusNew, OpenedAt: at, UpdatedAt: at}
	}
	boom := errors.New("boom")
	get := func(tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
		t.Helper()
		d, err := repo.Get(ctx, tenant, id)
		checkMemos(t, s)
		return d, err
	}

	a := newIncident("acme", 1)
	b := newIncident("globex", 1)
	_, err := get("acme", a.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	require.NoError(t, repo.Create(ctx, a))
	checkMemos(t, s)
	require.NoError(t, repo.Create(ctx, b))
	checkMemos(t, s)
	a.Version, b.Version = 1, 1

	// Reads in either tenant, the cached one or not, and across tenants.
	got, err := get("acme", a.ID)
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID)
	got, err = get("globex", b.ID)
	require.NoError(t, err)
	require.Equal(t, b.ID, got.ID)
	_, err = get("globex", a.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	_, err = get("acme", b.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)

	// A cached tenant still refuses the zero ID, and an invalid one is
	// refused as before.
	_, err = get("globex", incident.ID{})
	var verr *itsm.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "id", verr.Field)
	_, err = get("glo bex", b.ID)
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "tenant", verr.Field)

	// Updates, a conflicting one, and one of an incident not stored.
	a.Title = "a2"
	require.NoError(t, repo.Update(ctx, a))
	checkMemos(t, s)
	require.ErrorIs(t, repo.Update(ctx, a), itsm.ErrConflict)
	a.Version = 2
	require.ErrorIs(t, repo.Update(ctx, newIncidentAt(newIncident("acme", 9), 1)), itsm.ErrNotFound)
	checkMemos(t, s)

	// A rolled-back creation and update leave the memos true and the
	// reads as before.
	atomic := repo.(incident.Atomic)
	c := newIncident("acme", 2)
	err = atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
		require.NoError(t, tx.Create(ctx, c))
		u := a
		u.Title = "a3"
		require.NoError(t, tx.Update(ctx, u))
		d, err := tx.Get(ctx, "acme", a.ID)
		require.NoError(t, err)
		require.Equal(t, "a3", d.Title)
		return boom
	})
	require.ErrorIs(t, err, boom)
	checkMemos(t, s)
	_, err = get("acme", c.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound)
	got, err = get("acme", a.ID)
	require.NoError(t, err)
	require.Equal(t, "a2", got.Title)
	require.EqualValues(t, 2, got.Version)

	// A rolled-back creation in a new tenant.
	err = atomic.Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
		require.NoError(t, tx.Create(ctx, newIncident("initech", 1)))
		return boom
	})
	require.ErrorIs(t, err, boom)
	checkMemos(t, s)
	page, err := repo.List(ctx, "initech", incident.Filter{}, incident.Page{})
	require.NoError(t, err)
	require.Empty(t, page.Items)
	page, err = repo.List(ctx, "acme", incident.Filter{}, incident.Page{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
}

// newIncidentAt returns d as read at version v.
func newIncidentAt(d incident.Data, v int64) incident.Data {
	d.Version = v
	return d
}

// intern answers from its recent names what the table would: an equal
// string, the table's own; names the table does not take are not kept.
func TestInternRecent(t *testing.T) {
	s := New()
	names := []string{"new", "in_progress", "on_hold", "resolved", "closed", "canceled", "none", "proposed",
		"network", "ana", "bob", "x", string(make([]byte, 300))}
	for round := range 3 {
		for _, v := range names {
			w := s.intern(string([]byte(v))) // a copy: not the string interned before
			require.Equal(t, v, w)
			if len(v) <= 256 {
				require.Equal(t, s.names[v], w, "round %d", round)
			}
		}
	}
	for _, r := range s.recent {
		if r != "" {
			require.Equal(t, s.names[r], r)
		}
	}
	// The statuses a lifecycle goes through each have a place of their own.
	seen := map[int]string{}
	for _, v := range []incident.Status{incident.StatusNew, incident.StatusInProgress, incident.StatusOnHold,
		incident.StatusResolved, incident.StatusClosed, incident.StatusCanceled} {
		i := internSlot(string(v))
		require.NotContains(t, seen, i, "%s and %s", v, seen[i])
		seen[i] = string(v)
	}
	// A full table keeps no more names, and neither do the recent ones.
	s = New()
	for i := range maxInterned {
		s.intern(string(rune(0x4e00+i)) + "-name")
	}
	w := s.intern("one-more")
	require.Equal(t, "one-more", w)
	require.NotContains(t, s.recent, "one-more")
}
