package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// hostile holds strings that would change a statement built by pasting
// text into SQL.
var hostile = []string{
	`'; DROP TABLE incidents; --`,
	`" OR 1=1 --`,
	`x' OR 'x'='x`,
	`/* comment */ ; SELECT pg_sleep(10); --`,
	`$1 $$ dollar $$ ; \x00 not a NUL, a backslash`,
	`Robert'); DELETE FROM outbox WHERE ('a'='a`,
}

// Titles, custom fields, groups and assignees full of quotes, semicolons
// and comment markers round-trip as data, and filters on them match
// exactly the records holding them.
func TestHostileTextIsData(t *testing.T) {
	store, pool := openStore(t)
	ctx := context.Background()
	d := newDesk(t, store, pool, 3)
	var opened []*incident.Incident
	for i, s := range hostile {
		res, err := d.svc.Open(ctx, tenant, agent, incident.OpenInput{
			Title: s, Caller: "bob", Impact: 2, Urgency: 2, Group: "grp-" + fmt.Sprint(i),
			Custom: map[string]string{"note": s, "site": s},
		})
		require.NoError(t, err)
		opened = append(opened, res.Incident)
	}
	repo := store.Incidents()
	for i, s := range hostile {
		t.Run(fmt.Sprintf("text %d", i), func(t *testing.T) {
			got, err := repo.Get(ctx, tenant, opened[i].ID())
			require.NoError(t, err)
			assert.Equal(t, s, got.Title)
			assert.Equal(t, map[string]string{"note": s, "site": s}, got.Custom)
			assert.Equal(t, opened[i].Data(), got, "the whole record round-trips")

			// The same text as a filter value matches only what holds it.
			group := got.Group
			got.Group, got.Assignee = s, s
			require.NoError(t, repo.Update(ctx, got))
			page, err := repo.List(ctx, tenant, incident.Filter{Group: s, Assignee: s}, incident.Page{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			assert.Equal(t, opened[i].ID(), page.Items[0].ID)
			page, err = repo.List(ctx, tenant, incident.Filter{Group: group}, incident.Page{})
			require.NoError(t, err)
			assert.Empty(t, page.Items, "the old group no longer matches")
			_, err = repo.GetByNumber(ctx, tenant, incident.Number(s))
			require.ErrorIs(t, err, itsm.ErrNotFound, "a hostile number is just a number nobody has")
		})
	}
	t.Run("everything is still there", func(t *testing.T) {
		page, err := repo.List(ctx, tenant, incident.Filter{}, incident.Page{})
		require.NoError(t, err)
		assert.Len(t, page.Items, len(hostile))
		b, err := store.Claim(ctx, storage.ClaimRequest{Consumer: hostile[0], Now: monday9.Add(time.Hour), Lease: time.Minute, Limit: 1000})
		require.NoError(t, err, "a hostile consumer name is data too")
		assert.Len(t, b.Events, len(hostile), "one opened event per incident")
	})
}

// idLike makes an ID of like's type from u (incident IDs' marker type is
// unexported).
func idLike[T itsm.Kinded](_ itsm.ID[T], u uuid.UUID) itsm.ID[T] { return itsm.IDFromUUID[T](u) }

// The store refuses text PostgreSQL cannot hold, naming the field and
// writing nothing (the conformance suite allows either storing it exactly
// or this; the memory store stores it).
func TestUnstorableTextIsRefused(t *testing.T) {
	store, _ := openStore(t)
	ctx := context.Background()
	ids := itsmtest.NewIDs(3)
	tests := []struct {
		name  string
		bad   func(d *incident.Data)
		field string
	}{
		{"NUL in the title", func(d *incident.Data) { d.Title = "a\x00b" }, "title"},
		{"invalid UTF-8 in the caller", func(d *incident.Data) { d.Caller = "\xc3" }, "caller"},
		{"NUL in a custom key", func(d *incident.Data) { d.Custom = map[string]string{"k\x00": "v"} }, `custom."k\x00"`},
		{"invalid UTF-8 in a history reason", func(d *incident.Data) { d.History[0].Reason = "\xff" }, "history[0].reason"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ids.NewUUID()
			require.NoError(t, err)
			d := incident.Data{
				ID: idLike(incident.ID{}, u), Tenant: tenant, Number: incident.FormatNumber("INC", int64(i+1)),
				Title: "fine", Caller: "bob", Impact: 2, Urgency: 2, Priority: 3, Status: incident.StatusNew,
				OpenedAt: monday9, UpdatedAt: monday9, Major: incident.Major{Status: incident.MajorNone},
				History: []incident.Entry{{Seq: 1, At: monday9, Command: "open", From: incident.StatusNew, To: incident.StatusNew}},
			}
			tc.bad(&d)
			err = store.Incidents().Create(ctx, d)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "the error names %q: %v", tc.field, err)
			_, err = store.Incidents().Get(ctx, tenant, d.ID)
			require.ErrorIs(t, err, itsm.ErrNotFound, "nothing was written")
		})
	}
}

// An incident instant past what timestamptz holds, which the memory store
// keeps, is refused as bad input (the backstop of mapError for SQLSTATE
// 22008), not as a bare driver error; nothing is written.
func TestFarFutureIncidentInstantIsInvalid(t *testing.T) {
	store, _ := openStore(t)
	ctx := context.Background()
	u, err := itsmtest.NewIDs(4).NewUUID()
	require.NoError(t, err)
	far := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	d := incident.Data{
		ID: idLike(incident.ID{}, u), Tenant: tenant, Number: "INC0000001",
		Title: "fine", Caller: "bob", Impact: 2, Urgency: 2, Priority: 3, Status: incident.StatusNew,
		OpenedAt: monday9, UpdatedAt: far, Major: incident.Major{Status: incident.MajorNone},
		History: []incident.Entry{{Seq: 1, At: monday9, Command: "open", From: incident.StatusNew, To: incident.StatusNew}},
	}
	err = store.Incidents().Create(ctx, d)
	require.ErrorIs(t, err, itsm.ErrInvalid)
	_, err = store.Incidents().Get(ctx, tenant, d.ID)
	require.ErrorIs(t, err, itsm.ErrNotFound, "nothing was written")
}
