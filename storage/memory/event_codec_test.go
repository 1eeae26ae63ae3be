package memory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	long := full
	long.Actor.Name = strings.Repeat("n", maxName+1) // written out, never in the table
	// Each event twice: once adding its names to the table, once finding
	// them there.
	for _, tab := range []string{"empty", "full"} {
		var t0 names
		if tab == "full" {
			for i := range maxNames {
				t0.appendName(nil, fmt.Sprint("filler", i), nil)
			}
			require.True(t, t0.full())
		}
		for _, e := range []itsm.Event{full, empty, bare, long, full, empty, bare, long} {
			got, err := t0.decodeEvent(e.ID, string(t0.appendEvent(nil, &e)))
			require.NoError(t, err, tab)
			require.Equal(t, e, got, tab)
		}
	}
}

// Names are interned while the table takes them, and written out once it
// is full.
func TestNamesTable(t *testing.T) {
	var tab names
	a := tab.appendField(nil, "incident.opened", &tab.memo[fieldTenant])
	require.Equal(t, []byte{2}, a)
	require.Equal(t, []byte{2}, tab.appendField(nil, strings.Clone("incident.opened"), &tab.memo[fieldTenant]), "found again")
	require.Equal(t, []byte{3}, tab.appendField(nil, "acme", &tab.memo[fieldTenant]))
	require.Equal(t, []byte{0}, tab.appendField(nil, "", &tab.memo[fieldTenant]))
	long := strings.Repeat("x", maxName+1)
	require.Equal(t, wire.AppendString([]byte{1}, long), tab.appendField(nil, long, &tab.memo[fieldTenant]))
	for i := len(tab.list); !tab.full(); i++ {
		tab.appendName(nil, fmt.Sprint("n", i), nil)
	}
	require.Len(t, tab.list, maxNames)
	require.Equal(t, wire.AppendString([]byte{1}, "new"), tab.appendField(nil, "new", &tab.memo[fieldTenant]), "a full table takes no name")
	require.Equal(t, []byte{3}, tab.appendField(nil, "acme", &tab.memo[fieldTenant]), "a full table still finds its names")
	require.Equal(t, []byte{2}, tab.appendType(nil, "incident.opened"), "a type, found in the map")
	require.Equal(t, []byte{2}, tab.appendType(nil, "incident.opened"), "a type, found in the cache")
	require.Equal(t, []byte{2}, tab.appendField(nil, "incident.opened", &tab.memo[fieldActorName]), "another field, the same table")
}

func FuzzEventDecoding(f *testing.F) {
	var tab names
	e := itsm.Event{ID: uuid.New(), Type: "t.x", Tenant: "acme", Actor: itsm.Actor{ID: "a", Roles: []string{"r"}}, Payload: json.RawMessage(`{}`)}
	f.Add(tab.appendEvent(nil, &e))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := tab.decodeEvent(e.ID, string(in))
		if err != nil {
			require.ErrorIs(t, err, wire.ErrCorrupt)
			return
		}
		again, err := tab.decodeEvent(e.ID, string(tab.appendEvent(nil, &got)))
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}

// Types whose hashes name the same place both stay remembered, one in
// each place of the pair, and a third one takes a place without changing
// what any of them is written as.
func TestTypeCachePairs(t *testing.T) {
	// Find three types of one hash, and their references once entered.
	byPlace := map[int][]string{}
	var same []string
	for i := 0; len(same) < 3; i++ {
		s := fmt.Sprintf("type.%d", i)
		p := typeSlot(s)
		byPlace[p] = append(byPlace[p], s)
		same = byPlace[p]
	}
	var tab names
	want := map[string][]byte{}
	for _, s := range same {
		want[s] = tab.appendName(nil, s, nil)
	}
	require.Equal(t, []byte{2}, want[same[0]])

	tests := []struct {
		name   string
		order  []string
		cached []string // remembered afterwards, in no particular order
	}{
		{"one", []string{same[0], same[0]}, []string{same[0]}},
		{"two of one hash both stay", []string{same[0], same[1], same[0], same[1]}, []string{same[0], same[1]}},
		{"a third takes its own place", []string{same[0], same[1], same[2], same[2]}, []string{same[2], same[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab.types = [64]recentName{}
			for _, s := range tt.order {
				require.Equal(t, want[s], tab.appendType(nil, s), s)
			}
			i := typeSlot(same[0])
			require.ElementsMatch(t, tt.cached, slices.DeleteFunc([]string{tab.types[i].s, tab.types[i^1].s}, func(s string) bool { return s == "" }))
		})
	}
}

// The memo of a field holds its last two names; a name found in its
// second place, or entered, is written as the table has it.
func TestFieldMemo(t *testing.T) {
	var tab names
	m := &tab.memo[fieldActorID]
	for range 3 {
		for _, s := range []string{"ana", "sla", "", "ana"} {
			want := tab.idx[s]
			got := tab.appendField(nil, s, m)
			if s == "" {
				require.Equal(t, []byte{0}, got)
				continue
			}
			require.Equal(t, []byte{byte(tab.idx[s])}, got, s)
			if want != 0 {
				require.Equal(t, byte(want), got[0], "the same reference every time")
			}
		}
	}
	require.ElementsMatch(t, []string{"ana", "sla"}, []string{m.r[0].s, m.r[1].s})
}
