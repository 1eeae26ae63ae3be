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
	e := itsm.Event{ID: uuid.New(), Type: "t.x", Tenant: "acme", Actor: itsm.Actor{ID: "a", Roles: []string{"r"}}, Payload: json.RawMessage(`{}`)}
	// Each input starts from a fresh table holding the seed's names, so
	// that a failure reproduces from its input alone.
	table := func() *names {
		tab := new(names)
		tab.appendEvent(nil, &e)
		return tab
	}
	f.Add(table().appendEvent(nil, &e))
	f.Fuzz(func(t *testing.T, in []byte) {
		tab := table()
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

// readAll reads encodings one after another with one eventReader, as Claim
// does, giving each event its payload.
func readAll(t0 *names, ids []uuid.UUID, encs []string) ([]itsm.Event, []error) {
	d := eventReader{t: t0}
	evs := make([]itsm.Event, len(encs))
	errs := make([]error, len(encs))
	for i, s := range encs {
		p, ok, err := d.read(&evs[i], ids[i], s)
		if err != nil {
			evs[i], errs[i] = itsm.Event{}, err
			continue
		}
		if ok {
			evs[i].Payload = []byte(p)
		}
	}
	return evs, errs
}

// An eventReader reading a batch takes the parts an event shares with the
// ones before as it read them, and reads the same events as decodeEvent
// reads each alone, whatever parts they share or not.
func TestEventReaderReadsBatches(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	subject := itsm.Ref{Kind: itsm.KindIncident, ID: uuid.New()}
	ana := itsm.Actor{ID: "ana", Name: "Ana"}
	sla := itsm.Actor{ID: "sla", Name: "SLA engine", Kind: itsm.ActorSystem}
	bob := itsm.Actor{ID: "bob", Name: "Bob", Kind: itsm.ActorHuman}
	roles := itsm.Actor{ID: "ana", Name: "Ana", Roles: []string{"agent"}, Groups: []string{}}
	long := itsm.Actor{ID: "ana", Name: strings.Repeat("n", maxName+1)}
	ev := func(typ itsm.EventType, version int64, when time.Time, a itsm.Actor, payload string) itsm.Event {
		e := itsm.Event{ID: uuid.New(), Type: typ, Tenant: "acme", Subject: subject, Version: version, At: when, Actor: a.Clone()}
		if payload != "-" {
			e.Payload = json.RawMessage(payload)
		}
		return e
	}
	tests := []struct {
		name   string
		events []itsm.Event
	}{
		{"one commit", []itsm.Event{ev("incident.opened", 1, at, ana, `{}`), ev("sla.attached", 1, at, sla, `{"a":1}`), ev("sla.attached", 1, at, sla, `{"a":2}`)}},
		{"commits one after another", []itsm.Event{
			ev("incident.opened", 1, at, ana, `{}`), ev("sla.attached", 1, at, sla, `{}`),
			ev("incident.assigned", 2, at.Add(time.Minute), ana, `{}`), ev("sla.paused", 2, at.Add(time.Minute), sla, `{}`),
			ev("sla.breached", 2, at.Add(time.Hour+time.Nanosecond), sla, `{}`), ev("incident.held", 3, at.Add(2*time.Hour), ana, `{}`),
		}},
		{"three actors take turns", []itsm.Event{
			ev("a.b", 1, at, ana, `{}`), ev("a.b", 1, at, sla, `{}`), ev("a.b", 1, at, bob, `{}`),
			ev("a.b", 1, at, ana, `{}`), ev("a.b", 1, at, bob, `{}`), ev("a.b", 1, at, sla, `{}`), ev("a.b", 1, at, sla, `{}`),
		}},
		{"actors with lists are read every time", []itsm.Event{ev("a.b", 1, at, roles, `{}`), ev("a.b", 1, at, roles, `{}`), ev("a.b", 1, at, ana, `{}`), ev("a.b", 1, at, roles, `{}`)}},
		{"names written out", []itsm.Event{ev("a.b", 1, at, long, `{}`), ev("a.b", 1, at, long, `{}`), ev("a.b", 1, at, ana, `{}`), ev("a.b", 1, at, long, `{}`)}},
		{"zero instants and payloads", []itsm.Event{ev("a.b", 1, time.Time{}, ana, "-"), ev("a.b", 1, time.Time{}, ana, ""), ev("a.b", 1, at, ana, "-"), ev("a.b", 1, time.Time{}, ana, `{}`)}},
		{"other tenants and subjects", []itsm.Event{
			ev("a.b", 1, at, ana, `{}`), func() itsm.Event { e := ev("a.b", 1, at, ana, `{}`); e.Tenant = "beta"; return e }(),
			func() itsm.Event { e := ev("a.b", 1, at, ana, `{}`); e.Subject.ID = uuid.New(); return e }(), ev("a.b", 1, at, ana, `{}`),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var t0 names
			ids := make([]uuid.UUID, len(tt.events))
			encs := make([]string, len(tt.events))
			for i := range tt.events {
				ids[i] = tt.events[i].ID
				encs[i] = string(t0.appendEvent(nil, &tt.events[i]))
			}
			got, errs := readAll(&t0, ids, encs)
			for i := range got {
				require.NoError(t, errs[i])
				alone, err := t0.decodeEvent(ids[i], encs[i])
				require.NoError(t, err)
				require.Equal(t, alone, got[i], "event %d", i)
			}
			require.Equal(t, tt.events, got)
			// Lists stay each event's own: changing one event's changes
			// no other's.
			for i := range got {
				if len(got[i].Actor.Roles) > 0 {
					got[i].Actor.Roles[0] = "changed"
					got[i].Actor.Roles = tt.events[i].Actor.Roles
					break
				}
			}
			require.Equal(t, tt.events, got)
		})
	}
}

// Reading an encoding after others, with whatever the reader remembers of
// them, gives what reading it alone gives: the same event, or an error.
func FuzzEventReader(f *testing.F) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	base := itsm.Event{ID: uuid.New(), Type: "t.x", Tenant: "acme", Subject: itsm.Ref{Kind: "incident", ID: uuid.New()}, Version: 3,
		At: at, Actor: itsm.Actor{ID: "a", Name: "A"}, Payload: json.RawMessage(`{}`)}
	other := base
	other.Type, other.At, other.Actor = "t.y", at.Add(time.Second), itsm.Actor{ID: "s", Kind: itsm.ActorSystem}
	// Each input starts from a fresh table holding the seeds' names (the
	// same encodings every time), so that a failure reproduces from its
	// input alone.
	table := func() (*names, []string) {
		tab := new(names)
		return tab, []string{string(tab.appendEvent(nil, &base)), string(tab.appendEvent(nil, &other))}
	}
	_, seeds := table()
	for _, s := range seeds {
		f.Add([]byte(s))
		f.Add([]byte(s[:len(s)-3]))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tab, seeds := table()
		encs := []string{seeds[0], string(in), seeds[1], string(in), seeds[0], string(in)}
		ids := []uuid.UUID{base.ID, base.ID, base.ID, base.ID, base.ID, base.ID}
		got, errs := readAll(tab, ids, encs)
		for i := range encs {
			alone, err := tab.decodeEvent(ids[i], encs[i])
			if err != nil {
				require.ErrorIs(t, errs[i], wire.ErrCorrupt, "event %d", i)
				continue
			}
			require.NoError(t, errs[i], "event %d", i)
			require.Equal(t, alone, got[i], "event %d", i)
		}
	})
}
