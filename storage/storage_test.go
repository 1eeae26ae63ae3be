package storage_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// A service that needs transactions says so when it is built.
func ExampleRequire() {
	type incidentsOnly struct{ storage.Store }
	store := incidentsOnly{memory.New()}
	_, err := storage.Require[storage.Transactor](store)
	fmt.Println(err)
	fmt.Println(errors.Is(err, errors.ErrUnsupported))
	// Output:
	// storage: storage_test.incidentsOnly does not implement storage.Transactor: unsupported operation
	// true
}

func TestRequire(t *testing.T) {
	s := memory.New()
	tr, err := storage.Require[storage.Transactor](s)
	require.NoError(t, err)
	assert.NotNil(t, tr)
	_, err = storage.Require[storage.OutboxConsumer](struct{ storage.Store }{s})
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "storage.OutboxConsumer")
}

func validationField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has(field), "%v should name %s", err, field)
}

func TestClaimRequestValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ok := storage.ClaimRequest{Consumer: "relay", Now: now, Lease: time.Minute}
	tests := []struct {
		name   string
		change func(r *storage.ClaimRequest)
		field  string
	}{
		{"valid", func(*storage.ClaimRequest) {}, ""},
		{"max limit", func(r *storage.ClaimRequest) { r.Limit = storage.MaxClaimLimit }, ""},
		{"no consumer", func(r *storage.ClaimRequest) { r.Consumer = "" }, "consumer"},
		{"long consumer", func(r *storage.ClaimRequest) { r.Consumer = strings.Repeat("c", storage.MaxConsumerLen+1) }, "consumer"},
		{"consumer not UTF-8", func(r *storage.ClaimRequest) { r.Consumer = "relay\xff" }, "consumer"},
		{"consumer with NUL", func(r *storage.ClaimRequest) { r.Consumer = "relay\x00" }, "consumer"},
		{"negative limit", func(r *storage.ClaimRequest) { r.Limit = -1 }, "limit"},
		{"limit too high", func(r *storage.ClaimRequest) { r.Limit = storage.MaxClaimLimit + 1 }, "limit"},
		{"no now", func(r *storage.ClaimRequest) { r.Now = time.Time{} }, "now"},
		{"no lease", func(r *storage.ClaimRequest) { r.Lease = 0 }, "lease"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.change(&r)
			err := r.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			validationField(t, err, tc.field)
		})
	}
	assert.Equal(t, storage.DefaultClaimLimit, ok.EffectiveLimit())
	ok.Limit = 7
	assert.Equal(t, 7, ok.EffectiveLimit())
}

// A lease ends at a whole microsecond, never before Now+Lease.
func TestClaimRequestUntilRoundsUpToTheMicrosecond(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		now   time.Time
		lease time.Duration
		want  time.Time
	}{
		{now, time.Minute, now.Add(time.Minute)},
		{now, 1500 * time.Nanosecond, now.Add(2 * time.Microsecond)},
		{now, time.Nanosecond, now.Add(time.Microsecond)},
		{now.Add(300 * time.Nanosecond), time.Microsecond, now.Add(time.Microsecond)},
		{now.In(time.FixedZone("X", 3600)), time.Second, now.Add(time.Second)},
	}
	for _, tc := range tests {
		r := storage.ClaimRequest{Consumer: "relay", Now: tc.now, Lease: tc.lease}
		got := r.Until()
		assert.Equal(t, tc.want, got, "now %s, lease %s", tc.now, tc.lease)
		assert.True(t, itsm.IsNormalized(got))
	}
}

func TestValidateSequenceName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"incident", true},
		{"incident.major-2_x", true},
		{strings.Repeat("a", storage.MaxSequenceNameLen), true},
		{"", false},
		{strings.Repeat("a", storage.MaxSequenceNameLen+1), false},
		{"2incident", false},
		{"_incident", false},
		{"Incident", false},
		{"incident number", false},
		{"incidént", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%.20q", tc.name), func(t *testing.T) {
			err := storage.ValidateSequenceName(tc.name)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			validationField(t, err, "sequence")
		})
	}
}

func TestValidateEventsAndBatch(t *testing.T) {
	good := itsm.Event{
		ID: uuid.MustParse("019c8a4e-0000-7000-8000-0000000000e1"), Type: "incident.opened", Tenant: "acme",
		Subject: itsm.Ref{Kind: itsm.KindIncident, ID: uuid.MustParse("019c8a4e-0000-7000-8000-000000000001")},
		At:      time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Actor: itsm.Actor{ID: "agent-7"},
	}
	require.NoError(t, storage.ValidateEvents([]itsm.Event{good, good}))
	require.NoError(t, storage.ValidateEvents(nil))
	bad := good
	bad.Tenant = ""
	bad.Version = -1
	err := storage.ValidateEvents([]itsm.Event{good, bad})
	validationField(t, err, "events[1].tenant")
	validationField(t, err, "events[1].version")

	b := storage.Batch{Events: []itsm.Event{good, bad}}
	assert.Equal(t, []uuid.UUID{good.ID, bad.ID}, b.IDs())
	assert.Empty(t, storage.Batch{}.IDs())
}

func TestCMDBRepository(t *testing.T) {
	repo, err := storage.CMDBRepository(memory.New(), nil)
	require.NoError(t, err)
	_, atomic := repo.(cmdb.Atomic)
	assert.True(t, atomic, "a store with transactions gives an atomic CMDB repository")

	type incidentsOnly struct{ storage.Store }
	_, err = storage.CMDBRepository(incidentsOnly{memory.New()}, nil)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "storage.CMDB")
}
