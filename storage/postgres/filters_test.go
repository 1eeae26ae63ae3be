package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

// undoIncidentFilters takes a schema at migration 5 back to migration 3:
// the filter columns (and their indexes with them) and the two instant
// indexes go, and migrations 4 and 5 (which changes no schema, only
// documents) are no longer recorded.
func undoIncidentFilters(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, sql := range []string{
		`ALTER TABLE incidents DROP COLUMN caller, DROP COLUMN category, DROP COLUMN service`,
		`DROP INDEX incidents_opened, incidents_updated`,
		`DELETE FROM itsmkit_schema_migrations WHERE version IN (4, 5)`,
	} {
		_, err := pool.Exec(context.Background(), sql)
		require.NoError(t, err, sql)
	}
}

// filterColumns returns the caller, category and service columns of every
// incident, by ID.
func filterColumns(t *testing.T, pool *pgxpool.Pool) map[uuid.UUID][3]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id, caller, category, service FROM incidents`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[uuid.UUID][3]string{}
	for rows.Next() {
		var id [16]byte
		var c [3]string
		require.NoError(t, rows.Scan(&id, &c[0], &c[1], &c[2]))
		out[uuid.UUID(id)] = c
	}
	require.NoError(t, rows.Err())
	return out
}

// Migration 4 fills the new columns of the incidents already stored from
// their documents, exactly as the adapter writes them, so lists by
// caller, category and service find old incidents too.
func TestMigrationFillsTheFilterColumnsOfStoredIncidents(t *testing.T) {
	ctx := context.Background()
	store, pool := openStore(t)
	d := newDesk(t, store, pool, 1)
	svcA := itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a5c4-0000-7000-8000-00000000000a")}
	inputs := []incident.OpenInput{
		{Title: "Mail is down", Caller: "bob", Category: "email", Service: svcA},
		{Title: "VPN drops", Caller: "eve", Category: "network"},
		{Title: "Printer jam", Caller: "bob"},
	}
	opened := make([]incident.ID, len(inputs))
	for i, in := range inputs {
		in.Impact, in.Urgency = 2, 2
		res, err := d.svc.Open(ctx, tenant, agent, in)
		require.NoError(t, err)
		opened[i] = res.Incident.ID()
	}
	written := filterColumns(t, pool)
	require.Equal(t, [3]string{"bob", "email", "service:0190a5c4-0000-7000-8000-00000000000a"}, written[opened[0].UUID()])
	require.Equal(t, [3]string{"bob", "", ""}, written[opened[2].UUID()])

	undoIncidentFilters(t, pool)
	_, err := postgres.Open(ctx, pool, postgres.Options{})
	require.ErrorIs(t, err, postgres.ErrSchemaVersion)
	store, err = postgres.Open(ctx, pool, postgres.Options{Migrate: true})
	require.NoError(t, err)
	assert.Equal(t, written, filterColumns(t, pool), "the migration writes what the adapter writes")

	list := func(f incident.Filter) []incident.ID {
		page, err := store.Incidents().List(ctx, tenant, f, incident.Page{})
		require.NoError(t, err)
		var got []incident.ID
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		return got
	}
	assert.Equal(t, []incident.ID{opened[0], opened[2]}, list(incident.Filter{Caller: "bob"}))
	assert.Equal(t, []incident.ID{opened[1]}, list(incident.Filter{Category: "network"}))
	assert.Equal(t, []incident.ID{opened[0]}, list(incident.Filter{Service: svcA}))
}

// Lists filter on opened_at and updated_at too (Filter.OpenedFrom,
// OpenedBefore, UpdatedSince), so, as for resolved_at, an instant finer
// than the microsecond those columns keep is refused, naming the field,
// rather than listed as if truncated.
func TestSubMicrosecondOpenedAndUpdatedInstantsAreRefused(t *testing.T) {
	store, pool := openStore(t)
	d := newDesk(t, store, pool, 1)
	inc := d.open(t)
	ctx := context.Background()
	stored, err := store.Incidents().Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	tests := []struct {
		field  string
		change func(*incident.Data)
	}{
		{"opened_at", func(d *incident.Data) { d.OpenedAt = d.OpenedAt.Add(500 * time.Nanosecond) }},
		{"updated_at", func(d *incident.Data) { d.UpdatedAt = d.UpdatedAt.Add(time.Microsecond + 1) }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			got := stored.Clone()
			tc.change(&got)
			err := store.Incidents().Update(ctx, got)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "%v", err)
			now, err := store.Incidents().Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			assert.Equal(t, stored, now, "nothing was written")
		})
	}
	whole := stored.Clone()
	whole.UpdatedAt = whole.UpdatedAt.Add(3 * time.Microsecond).In(time.FixedZone("X", 3600))
	require.NoError(t, store.Incidents().Update(ctx, whole), "a whole microsecond, in any zone")
}

// Documents stored before migration 5 whose opened and updated instants
// differ from the columns lists filter on: finer than the microsecond the
// columns keep (the adapter took them before migration 4), or in a zone
// whose offset has seconds, which JSON wrote up to 59 seconds off. Migration 5
// gives such documents their columns' instants (those lists use), so
// Get, List and Filter.Matches agree again and the incident can be saved:
// the service's next command on it (a comment) succeeds, as nothing else
// in these records is finer than a microsecond (Restore refuses a history
// entry or comment that is, and no migration can mend those: no column
// holds their instant). A document in a whole-minute zone is rewritten in
// UTC, the same instant; one already as the adapter writes it is left
// untouched.
func TestMigrationAlignsLegacyInstantsWithTheirColumns(t *testing.T) {
	ctx := context.Background()
	// Each legacy document's opened_at and updated_at, built from the
	// column (c): its text with the sub-microsecond digits the old adapter
	// kept; the text it wrote for an instant in time.FixedZone("LMT", 59);
	// the same instant at +01:00.
	const usText = `to_char(%[1]s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`
	tests := []struct {
		name, doc string
	}{
		{"sub-microsecond", usText + ` || '700Z'`},
		{"offset with seconds", `to_char((%[1]s + interval '59 seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'`},
		{"whole-minute zone", `to_char((%[1]s + interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, pool := openStore(t)
			d := newDesk(t, store, pool, 1)
			inc, untouched := d.open(t), d.open(t)
			docOf := func(id incident.ID) string {
				var doc string
				require.NoError(t, pool.QueryRow(ctx, `SELECT doc::text FROM incidents WHERE id = $1`, [16]byte(id.UUID())).Scan(&doc))
				return doc
			}
			before := docOf(untouched.ID())
			orig, err := store.Incidents().Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			undoIncidentFilters(t, pool)
			tag, err := pool.Exec(ctx, fmt.Sprintf(`UPDATE incidents SET doc = jsonb_set(jsonb_set(doc,
				'{opened_at}', to_jsonb(%s)), '{updated_at}', to_jsonb(%s)) WHERE id = $1`,
				fmt.Sprintf(tc.doc, "opened_at"), fmt.Sprintf(tc.doc, "updated_at")), [16]byte(inc.ID().UUID()))
			require.NoError(t, err)
			require.EqualValues(t, 1, tag.RowsAffected())
			legacy, err := postgres.Open(ctx, pool, postgres.Options{Migrate: true})
			require.NoError(t, err)

			got, err := legacy.Incidents().Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			assert.True(t, got.OpenedAt.Equal(orig.OpenedAt), "opened_at: the column's %v, read %v", orig.OpenedAt, got.OpenedAt)
			assert.True(t, got.UpdatedAt.Equal(orig.UpdatedAt), "updated_at: the column's %v, read %v", orig.UpdatedAt, got.UpdatedAt)
			for _, by := range []time.Duration{-time.Second, -time.Microsecond, 0, time.Microsecond, 30 * time.Second, time.Minute} {
				for name, f := range map[string]incident.Filter{
					"OpenedFrom":   {OpenedFrom: got.OpenedAt.Add(by)},
					"OpenedBefore": {OpenedBefore: got.OpenedAt.Add(by)},
					"UpdatedSince": {UpdatedSince: got.UpdatedAt.Add(by)},
				} {
					page, err := legacy.Incidents().List(ctx, tenant, f, incident.Page{})
					require.NoError(t, err)
					listed := slices.ContainsFunc(page.Items, func(x incident.Data) bool { return x.ID == inc.ID() })
					assert.Equal(t, f.Matches(&got), listed, "%s %v: List disagrees with Filter.Matches", name, by)
				}
			}
			assert.Equal(t, before, docOf(untouched.ID()), "a document as the adapter writes it is left alone")

			_, err = newDesk(t, legacy, pool, 1).svc.Comment(ctx, tenant, inc.ID(), agent, "still works", incident.AgentComment)
			require.NoError(t, err, "the incident can be saved again")
		})
	}
}
