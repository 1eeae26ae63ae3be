package sla

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/internal/jsonw"
	"github.com/itsmkit/itsmkit/itsm"
)

// reflectedEvent is Event without its methods: json.Marshal encodes it by
// reflection, as it encoded an Event before Event had MarshalJSON.
type reflectedEvent Event

// tmRequireSameJSON requires AppendJSON, MarshalJSON and json.Marshal of ev
// to write exactly what reflection writes, or all to fail.
func tmRequireSameJSON(t testing.TB, ev Event) {
	t.Helper()
	want, wantErr := json.Marshal(reflectedEvent(ev))
	prefix := []byte("prefix,")
	got, err := ev.AppendJSON(prefix)
	viaMarshal, marshalErr := json.Marshal(ev)
	if wantErr != nil {
		require.Error(t, err, "reflection failed with %v", wantErr)
		require.Error(t, marshalErr)
		assert.Equal(t, "prefix,", string(got), "a failed append returns the buffer as given")
		return
	}
	require.NoError(t, err)
	require.NoError(t, marshalErr)
	require.Equal(t, "prefix,"+string(want), string(got))
	require.Equal(t, string(want), string(viaMarshal))
}

func TestEventAppendJSON(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	full := Event{
		Key: "incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/gold/resolution/1/threshold/75", Kind: EventThreshold,
		At: at.Add(123456 * time.Microsecond), Record: tmRecord, Agreement: "gold", Metric: "resolution",
		Cycle: 12, Goal: "p1", Threshold: decimal.RequireFromString("75"),
		Breached: true, BreachedAt: at.Add(-time.Hour),
	}
	with := func(f func(*Event)) Event { ev := full; f(&ev); return ev }
	tests := []struct {
		name string
		ev   Event
	}{
		{"zero", Event{}},
		{"every field", full},
		{"not breached", with(func(ev *Event) { ev.Breached = false })},
		{"breached without an instant", with(func(ev *Event) { ev.BreachedAt = time.Time{} })},
		{"zero threshold", with(func(ev *Event) { ev.Threshold = decimal.Decimal{} })},
		{"zero threshold with an exponent", with(func(ev *Event) { ev.Threshold = decimal.New(0, -3) })},
		{"fractional threshold", with(func(ev *Event) { ev.Threshold = decimal.RequireFromString("99.990") })},
		{"negative threshold", with(func(ev *Event) { ev.Threshold = decimal.RequireFromString("-0.5") })},
		{"big threshold", with(func(ev *Event) { ev.Threshold = decimal.New(12, 30) })},
		{"negative cycle", with(func(ev *Event) { ev.Cycle = -42 })},
		{"huge cycle", with(func(ev *Event) { ev.Cycle = 1<<63 - 1 })},
		{"instant in a zone", with(func(ev *Event) { ev.At = at.In(paris) })},
		{"instant in an odd fixed zone", with(func(ev *Event) { ev.At = at.In(time.FixedZone("odd", -(9*3600 + 30*60 + 17))) })},
		{"nanoseconds", with(func(ev *Event) { ev.At, ev.BreachedAt = at.Add(1), at.Add(999_999_999) })},
		{"monotonic reading", with(func(ev *Event) { ev.At = time.Now() })},
		{"year 0", with(func(ev *Event) { ev.At = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"year 10000", with(func(ev *Event) { ev.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"breached at year -1", with(func(ev *Event) { ev.BreachedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"escapes", with(func(ev *Event) {
			ev.Key = "quote\" backslash\\ slash/ <b>&amp; \b\f\n\r\t \x00\x01\x1f\x7f"
			ev.Kind = "kind\u2028\u2029"
			ev.Agreement = "bad utf-8 \xff\xfe \xe2\x82 end"
			ev.Metric = "émoji 😀 ∑ 日本"
			ev.Goal = "\xed\xa0\x80 surrogate"
			ev.Record.Kind = "kind<>&'"
		})},
		{"every kind", with(func(ev *Event) { ev.Kind = EventRetargeted; ev.Record = itsm.Ref{ID: uuid.Max} })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tmRequireSameJSON(t, tc.ev) })
	}
	t.Run("events of random histories", func(t *testing.T) {
		e := tmReplayEngine(t)
		n := 0
		for seed := range uint64(100) {
			r := rand.New(rand.NewPCG(seed, 99))
			history := tmRandomHistory(r)
			_, evs, err := e.Replay(tmRecord, history)
			require.NoError(t, err)
			for _, ev := range evs {
				tmRequireSameJSON(t, ev)
				n++
			}
		}
		assert.Greater(t, n, 500)
	})
	t.Run("each kind", func(t *testing.T) {
		// The engine's kinds are written from a table (kindJSON), the
		// others escaped; a kind that only resembles one goes the long way.
		kinds := []EventKind{EventAttached, EventPaused, EventResumed, EventCompleted, EventCanceled,
			EventRetargeted, EventThreshold, EventBreached, "", "Paused", "paused ", "pause", "other", "<b>"}
		for _, k := range kinds {
			tmRequireSameJSON(t, with(func(ev *Event) { ev.Kind = k }))
			tmRequireSameJSON(t, with(func(ev *Event) { ev.Kind, ev.Threshold = k, decimal.Decimal{} }))
		}
		for _, k := range kinds[8:] {
			assert.Empty(t, kindJSON(k), "%q", k)
		}
	})
	t.Run("decimals without quotes", func(t *testing.T) {
		defer func(was bool) { decimal.MarshalJSONWithoutQuotes = was }(decimal.MarshalJSONWithoutQuotes)
		decimal.MarshalJSONWithoutQuotes = true
		tmRequireSameJSON(t, full)
		tmRequireSameJSON(t, Event{})
		tmRequireSameJSON(t, with(func(ev *Event) { ev.Threshold = decimal.Decimal{} }))
	})
}

func FuzzEventJSON(f *testing.F) {
	f.Add("k", "attached", int64(1741000000), int64(0), uint8(0), "incident", []byte{1, 2}, "gold", "resolution", 1, "p1", "75", false, int64(0), int64(0))
	f.Add("\"\\<>&\u2028\xff", "\x00", int64(-62135596800), int64(999999999), uint8(1), "k\n", []byte("0123456789abcdef"), "é", "\xe2\x82", -7, "\t", "-1.25e3", true, int64(253402300799), int64(1))
	f.Add("", "", int64(253402300800), int64(0), uint8(2), "", []byte{}, "", "", 0, "", "", true, int64(-62167219201), int64(5))
	f.Add("k", "breached", int64(1741000000), int64(5000), uint8(0), "incident", []byte{1}, "gold", "response", 2, "p1", "", true, int64(1741000000), int64(0))
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -(11*3600 + 59)), time.FixedZone("far", 25*3600)}
	f.Fuzz(func(t *testing.T, key, kind string, sec, nsec int64, zone uint8, recKind string, id []byte,
		agreement, metric string, cycle int, goal, threshold string, breached bool, bsec, bnsec int64) {
		ev := Event{
			Key: key, Kind: EventKind(kind), At: time.Unix(sec, nsec).In(zones[int(zone)%len(zones)]),
			Record:    itsm.Ref{Kind: itsm.Kind(recKind)},
			Agreement: agreement, Metric: metric, Cycle: cycle, Goal: goal, Breached: breached,
		}
		copy(ev.Record.ID[:], id)
		if d, err := decimal.NewFromString(threshold); err == nil {
			ev.Threshold = d
		}
		if bsec != 0 || bnsec != 0 {
			ev.BreachedAt = time.Unix(bsec, bnsec).UTC()
		}
		tmRequireSameJSON(t, ev)
	})
}

func BenchmarkEventJSON(b *testing.B) {
	ev := Event{
		Key: "incident:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/gold/resolution/1/paused/3", Kind: EventPaused,
		At: tmDay(3, 10, 0), Record: tmRecord, Agreement: "gold", Metric: "resolution", Cycle: 1, Goal: "p2",
	}
	for _, bc := range []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"reflection", func() ([]byte, error) { return json.Marshal(reflectedEvent(ev)) }},
		{"json.Marshal", func() ([]byte, error) { return json.Marshal(ev) }},
		{"MarshalJSON", ev.MarshalJSON},
		{"AppendJSON", func() ([]byte, error) { return ev.AppendJSON(make([]byte, 0, 512)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzEventJSONKeyed is FuzzEventJSON with the key built from the event's
// own parts, as the engine builds it, so that AppendJSON's plain path
// (plainKey) is taken whenever those parts need no escape, and checked
// against reflection whatever they hold.
func FuzzEventJSONKeyed(f *testing.F) {
	f.Add("incident", []byte{1, 2}, "gold", "resolution", 1, "attached/1", false)
	f.Add("k<", []byte{}, "a/b", "", -7, "", true)
	f.Add("", []byte("0123456789abcdef"), "\x7f", "é", 0, "threshold/87.5", false)
	f.Add("kind", []byte{9}, "\"&", "m\\", 3, "x\u2028", true)
	f.Fuzz(func(t *testing.T, recKind string, id []byte, agreement, metric string, cycle int, tail string, badID bool) {
		ev := Event{Kind: EventPaused, At: tmDay(3, 10, 0), Record: itsm.Ref{Kind: itsm.Kind(recKind)},
			Agreement: agreement, Metric: metric, Cycle: cycle, Goal: "p1"}
		copy(ev.Record.ID[:], id)
		text := ev.Record.ID.String()
		if badID {
			// Same length, not the ID: the plain path must not be taken
			// on the strength of the other parts.
			text = strings.ToUpper(text[:35]) + "<"
		}
		ev.Key = recKind + ":" + text + "/" + agreement + "/" + metric + "/" + strconv.Itoa(cycle) + "/" + tail
		tmRequireSameJSON(t, ev)
		if !badID && jsonw.Plain(ev.Key) {
			idText := [36]byte([]byte(text))
			require.True(t, ev.plainKey(&idText), "key %q", ev.Key)
		}
	})
}

// BenchmarkEventJSONLifecycle encodes the events of an incident's
// lifecycle (those of BenchmarkObserveLifecycle) into one reused buffer:
// AppendJSON's share of incident.Service's work, without the engine's.
func BenchmarkEventJSONLifecycle(b *testing.B) {
	e, err := NewEngine([]Agreement{lcAgreement()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := State{Record: tmRecord}
	var evs []Event
	for _, o := range lcObservations() {
		got, err := e.ObserveInPlace(&st, o)
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, got...)
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for k := range evs {
			if buf, err = evs[k].AppendJSON(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestEventJSONKeyedKinds checks the keyed plain path for each kind of
// record itsmkit defines, whose part of the key is taken as plain without
// a scan (ownKind), and for other kinds, plain or not, which are scanned.
func TestEventJSONKeyedKinds(t *testing.T) {
	kinds := []itsm.Kind{itsm.KindIncident, itsm.KindChange, itsm.KindProblem, itsm.KindRequest,
		"asset", "incident2", "incidenT", "inc<dent", "in\"cident", "é", ""}
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			ev := Event{Kind: EventPaused, At: tmDay(3, 10, 0), Record: itsm.Ref{Kind: k, ID: tmRecord.ID},
				Agreement: "gold", Metric: "resolution", Cycle: 1, Goal: "p1"}
			ev.Key = string(k) + ":" + tmRecord.ID.String() + "/gold/resolution/1/paused/2"
			tmRequireSameJSON(t, ev)
			// The kind elsewhere in the key than where the record's is.
			ev.Key = "x" + ev.Key
			tmRequireSameJSON(t, ev)
		})
	}
}

// TestEngineEventParts checks that the record's kind, the agreement and the
// metric of the engine's events, which addEvent takes from their keys,
// are those of the timer, and that changing any of them after the fact
// is written as json.Marshal writes it.
func TestEngineEventParts(t *testing.T) {
	e := tmReplayEngine(t)
	r := rand.New(rand.NewPCG(7, 99))
	history := tmRandomHistory(r)
	st, evs, err := e.Replay(tmRecord, history)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	for _, ev := range evs {
		assert.Equal(t, tmRecord, ev.Record)
		_, ok := st.Find(ev.Agreement, ev.Metric)
		assert.True(t, ok, "%s/%s", ev.Agreement, ev.Metric)
		assert.True(t, strings.HasPrefix(ev.Key, string(ev.Record.Kind)+":"+ev.Record.ID.String()+"/"+ev.Agreement+"/"+ev.Metric+"/"), ev.Key)
		for _, change := range []func(*Event){
			func(ev *Event) { ev.Record.Kind = itsm.KindChange },
			func(ev *Event) { ev.Record.ID[15]++ },
			func(ev *Event) { ev.Agreement += "<" },
			func(ev *Event) { ev.Metric = ev.Metric[:len(ev.Metric)-1] },
			func(ev *Event) { ev.Key += "&" },
		} {
			changed := ev
			change(&changed)
			tmRequireSameJSON(t, changed)
		}
	}
}
