package memory

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/internal/wire"
	"github.com/itsmkit/itsmkit/itsm"
)

func TestEventEncodingRoundTrips(t *testing.T) {
	full := itsm.Event{
		ID: uuid.New(), Type: "incident.resolved", Tenant: "acme",
		Subject: itsm.Ref{Kind: itsm.KindIncident, ID: uuid.New()}, Version: 7,
		At:      time.Date(2026, 11, 21, 9, 30, 0, 123000, time.UTC),
		Actor:   itsm.Actor{ID: "ana", Name: "Ana", Kind: itsm.ActorSystem, Groups: []string{"net", "apps"}, Roles: []string{"agent"}},
		Payload: json.RawMessage(`{"a":"é\u0000"}`),
	}
	empty := full
	empty.Actor.Groups, empty.Actor.Roles, empty.Payload = []string{}, []string{}, json.RawMessage{}
	bare := itsm.Event{ID: uuid.New()}
	for _, e := range []itsm.Event{full, empty, bare} {
		got, err := decodeEvent(string(appendEvent(nil, &e)))
		require.NoError(t, err)
		require.Equal(t, e, got)
	}
}

func FuzzEventDecoding(f *testing.F) {
	e := itsm.Event{ID: uuid.New(), Type: "t", Tenant: "acme", Actor: itsm.Actor{ID: "a", Roles: []string{"r"}}, Payload: json.RawMessage(`{}`)}
	f.Add(appendEvent(nil, &e))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := decodeEvent(string(in))
		if err != nil {
			require.ErrorIs(t, err, wire.ErrCorrupt)
			return
		}
		again, err := decodeEvent(string(appendEvent(nil, &got)))
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
