package incident_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

func ref(kind itsm.Kind, n byte) itsm.Ref { return itsm.Ref{Kind: kind, ID: uuid.UUID{15: n}} }

func (d *desk) get(t *testing.T, id incident.ID) *incident.Incident {
	t.Helper()
	inc, err := d.svc.Get(context.Background(), tenant, id)
	require.NoError(t, err)
	return inc
}

func requireField(t *testing.T, err error, field string) *itsm.ValidationError {
	t.Helper()
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, field, ve.Field, "%v", err)
	return ve
}

// Affected CIs must be CIs, and the service a service (or the CMDB's CI of
// a business service), whichever command sets them.
func TestServiceRefusesReferencesOfTheWrongKind(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		service itsm.Ref
		cis     []itsm.Ref
		field   string // "" accepts
	}{
		{"an incident as a CI", itsm.Ref{}, []itsm.Ref{ref(itsm.KindCI, 1), ref(itsm.KindIncident, 2)}, "cis[1].kind"},
		{"a service as a CI", itsm.Ref{}, []itsm.Ref{ref(itsm.KindService, 1)}, "cis[0].kind"},
		{"a problem as the service", ref(itsm.KindProblem, 1), nil, "service.kind"},
		{"an incident as the service", ref(itsm.KindIncident, 1), nil, "service.kind"},
		{"a catalogue service and CIs", ref(itsm.KindService, 1), []itsm.Ref{ref(itsm.KindCI, 2), ref(itsm.KindCI, 3)}, ""},
		{"a business service CI", ref(itsm.KindCI, 1), []itsm.Ref{ref(itsm.KindCI, 2)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, false)
			in := mailDown()
			in.Service, in.CIs = tc.service, tc.cis
			_, err := d.svc.Open(ctx, tenant, agent, in)
			if tc.field == "" {
				require.NoError(t, err)
			} else {
				requireField(t, err, tc.field)
			}

			inc := d.open(t)
			u := incident.Update{}
			if !tc.service.IsZero() {
				u.Service = &tc.service
			}
			if tc.cis != nil {
				u.CIs = &tc.cis
			}
			_, err = d.svc.Update(ctx, tenant, inc.ID(), agent, u)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			requireField(t, err, tc.field)
			assert.Equal(t, inc.Version(), d.get(t, inc.ID()).Version(), "nothing written")
		})
	}
}

// Replay opens through the same guard.
func TestReplayRefusesACIOfTheWrongKind(t *testing.T) {
	in := mailDown()
	in.CIs = []itsm.Ref{ref(itsm.KindIncident, 1)}
	id, err := incident.NewID(stubIDs{})
	require.NoError(t, err)
	_, err = incident.Replay(incident.DefaultPolicy(), nil, id, tenant, "INC0000001", in,
		[]incident.Recorded{{At: monday9, State: "1", Impact: 2, Urgency: 1}},
		incident.Mapping{States: map[string]incident.Status{"1": incident.StatusNew}})
	requireField(t, err, "cis[0].kind")
}

type stubIDs struct{}

func (stubIDs) NewUUID() (uuid.UUID, error) { return uuid.UUID{0: 1, 15: 9}, nil }

// Incidents stored before the kinds were checked still load, and take
// commands that leave their references alone.
func TestStoredReferencesOfAnotherKindStillLoad(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	inc := d.open(t)
	cfg, err := storage.IncidentConfig(d.store)
	require.NoError(t, err)
	data, err := cfg.Repository.Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	data.Service = ref(itsm.KindProblem, 1)
	data.CIs = []itsm.Ref{ref(itsm.KindIncident, 2)}
	require.NoError(t, cfg.Repository.Update(ctx, data))
	data.Version++

	_, err = incident.Restore(incident.DefaultPolicy(), data)
	require.NoError(t, err)
	title := "Mail is down on floor 3"
	res, err := d.svc.Update(ctx, tenant, inc.ID(), agent, incident.Update{Title: &title})
	require.NoError(t, err)
	assert.Equal(t, data.CIs, res.Incident.Data().CIs)
	_, err = d.svc.Assign(ctx, tenant, inc.ID(), agent, "", "ana", "")
	require.NoError(t, err)

	// Sending them back unchanged, as a form sending every field does, is
	// not refused for them; changing them is checked.
	cis, service := slices.Clone(data.CIs), data.Service
	res, err = d.svc.Update(ctx, tenant, inc.ID(), agent, incident.Update{Title: &title, Service: &service, CIs: &cis})
	require.NoError(t, err)
	assert.Equal(t, data.CIs, res.Incident.Data().CIs)
	cis = append(cis, ref(itsm.KindIncident, 3))
	_, err = d.svc.Update(ctx, tenant, inc.ID(), agent, incident.Update{CIs: &cis})
	requireField(t, err, "cis[0].kind")
	service = ref(itsm.KindChange, 4)
	_, err = d.svc.Update(ctx, tenant, inc.ID(), agent, incident.Update{Service: &service})
	requireField(t, err, "service.kind")
}
