package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
)

// An instant in a zone whose UTC offset has seconds (JSON keeps whole
// minutes of an offset) is stored exactly, so Get and the list filters,
// which read the opened_at column, agree with each other.
func TestSecondsOffsetZone(t *testing.T) {
	ctx := context.Background()
	store, pool := openStore(t)
	d := newDesk(t, store, pool, 1)
	inc := d.open(t)
	stored, err := store.Incidents().Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	next := stored.Clone()
	opened := stored.OpenedAt
	next.OpenedAt = opened.In(time.FixedZone("LMT", 59))
	require.NoError(t, store.Incidents().Update(ctx, next))
	got, err := store.Incidents().Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	assert.True(t, got.OpenedAt.Equal(opened), "written %v, read back %v", opened, got.OpenedAt.UTC())
	f := incident.Filter{OpenedFrom: opened.Add(30 * time.Second)}
	page, err := store.Incidents().List(ctx, tenant, f, incident.Page{})
	require.NoError(t, err)
	assert.Equal(t, f.Matches(&got), len(page.Items) == 1)
}
