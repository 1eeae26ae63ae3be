package incidents_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest/incidents"
	"github.com/itsmkit/itsmkit/storage/memory"
)

func TestDataBuildsEveryState(t *testing.T) {
	tests := []struct {
		name string
		opt  incidents.Option
		want incident.Status
	}{
		{"new", incidents.Title("new one"), incident.StatusNew},
		{"assigned", incidents.Assigned("ana"), incident.StatusInProgress},
		{"on hold", incidents.OnHold(incident.HoldAwaitingVendor), incident.StatusOnHold},
		{"resolved", incidents.Resolved(), incident.StatusResolved},
		{"closed", incidents.Closed(), incident.StatusClosed},
		{"canceled", incidents.Canceled(), incident.StatusCanceled},
		{"reopened", incidents.Reopened(), incident.StatusInProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := incidents.Data(t, tc.opt)
			assert.Equal(t, tc.want, d.Status)
			assert.Equal(t, int64(0), d.Version)
			_, err := incident.Restore(incident.DefaultPolicy(), d)
			require.NoError(t, err)
			require.NoError(t, memory.New().Incidents().Create(context.Background(), d), "ready to create")
		})
	}
}

func TestDataOptions(t *testing.T) {
	d := incidents.Data(t, incidents.Tenant("globex"), incidents.Number(42), incidents.Priority(1, 1),
		incidents.Group("network"), incidents.Custom("site", "Lyon"), incidents.Seed(9),
		incidents.At(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)), incidents.Step(time.Hour), incidents.Resolved())
	assert.Equal(t, itsm.TenantID("globex"), d.Tenant)
	assert.Equal(t, incident.Number("INC0000042"), d.Number)
	assert.Equal(t, itsm.Priority(1), d.Priority)
	assert.Equal(t, "network", d.Group)
	assert.Equal(t, "Lyon", d.Custom["site"])
	assert.Equal(t, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), d.ResolvedAt)
	assert.Equal(t, d, incidents.Data(t, incidents.Tenant("globex"), incidents.Number(42), incidents.Priority(1, 1),
		incidents.Group("network"), incidents.Custom("site", "Lyon"), incidents.Seed(9),
		incidents.At(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)), incidents.Step(time.Hour), incidents.Resolved()),
		"deterministic")
	assert.NotEqual(t, d.ID, incidents.Data(t, incidents.Seed(10)).ID)
}

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func TestDataFailsOnImpossibleOptions(t *testing.T) {
	r := &recorder{TB: t}
	incidents.Data(r, incidents.Priority(9, 1))
	require.NotEmpty(t, r.failed)
	assert.Contains(t, r.failed[0], "impact")
}

func TestOpenInputIsValid(t *testing.T) {
	for n := 0; n < 9; n++ {
		d := incidents.Data(t, func() incidents.Option {
			in := incidents.OpenInput(n)
			return incidents.Priority(in.Impact, in.Urgency)
		}())
		assert.NotZero(t, d.Priority)
	}
}

func ExampleData() {
	d, err := incidents.Build(incidents.Number(7), incidents.Priority(1, 2), incidents.Resolved())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Number, d.Status, "priority", d.Priority, "history:", len(d.History), "entries")
	// Output:
	// INC0000007 resolved priority 2 history: 3 entries
}
