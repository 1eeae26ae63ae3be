package sla

import (
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

var (
	_ encoding.BinaryAppender    = State{}
	_ encoding.BinaryMarshaler   = State{}
	_ encoding.BinaryUnmarshaler = (*State)(nil)
)

// tmBinaryRoundTrip encodes st both ways, requires the bytes to agree,
// decodes them, requires the result to equal st, and returns the bytes.
func tmBinaryRoundTrip(t testing.TB, st State) []byte {
	t.Helper()
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	appended, err := st.AppendBinary([]byte("prefix"))
	require.NoError(t, err)
	require.Equal(t, "prefix"+string(b), string(appended))
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, st, got)
	var fromString State
	require.NoError(t, fromString.DecodeString(string(b)))
	require.Equal(t, st, fromString)
	again, err := got.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, again, "equal states encode to equal bytes")
	return b
}

func TestStateBinaryRoundTripsEngineStates(t *testing.T) {
	engines := []struct {
		name string
		e    *Engine
	}{
		{"one version", tmReplayEngine(t)},
		{"two versions", tmTwoVersions(t)},
	}
	both := tmTwoVersions(t)
	seen := map[string]bool{}
	for _, eng := range engines {
		for seed := range uint64(150) {
			r := rand.New(rand.NewPCG(seed, 0xb1))
			st := State{Record: tmRecord}
			var history []Observation
			for _, s := range tmRandomSteps(func(n int) int { return r.IntN(n) }) {
				var err error
				if s.advance {
					st, _, err = eng.e.Advance(st, s.obs.At)
				} else {
					history = append(history, s.obs)
					st, _, err = eng.e.Observe(st, s.obs)
					require.NoError(t, err)
					if r.IntN(4) == 0 {
						st, _, err = both.Migrate(st, history, StrategyKeepConsumed)
					}
				}
				require.NoError(t, err)
				tmBinaryRoundTrip(t, st)
				seen["previous"] = seen["previous"] || st.Previous != nil
				for _, tm := range st.Timers {
					seen["marks"] = seen["marks"] || len(tm.Marks) > 0
					seen["segments"] = seen["segments"] || len(tm.Segments) > 0
					seen["changes"] = seen["changes"] || len(tm.Changes) > 0
					for _, c := range tm.Changes {
						seen["migrated"] = seen["migrated"] || c.Migrated
						seen["change breached"] = seen["change breached"] || !c.BreachedAt.IsZero()
						seen["change prior breach"] = seen["change prior breach"] || !c.PriorBreachedAt.IsZero()
					}
					seen["breached"] = seen["breached"] || tm.Breached
					seen["decided"] = seen["decided"] || tm.Decided
					seen["decided breached"] = seen["decided breached"] || tm.DecidedBreached
					seen["decided at another priority"] = seen["decided at another priority"] || tm.Decided && tm.DecidedPriority != tm.Priority
					seen["paused"] = seen["paused"] || tm.Stage == StagePaused
				}
			}
		}
	}
	for _, want := range []string{"previous", "marks", "segments", "changes", "migrated", "change breached", "change prior breach",
		"breached", "decided", "decided breached", "decided at another priority", "paused"} {
		assert.True(t, seen[want], "no state had %s", want)
	}
}

// tmFill sets every exported field reachable from v to a non-zero value,
// each leaf different, and every list to two elements.
func tmFill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := int64(*n) * 1_000_003
		if *n%2 == 0 {
			x = -x
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n%250 + 1))
	case reflect.Array:
		for i := range v.Len() {
			tmFill(v.Index(i), n)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range s.Len() {
			tmFill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 3 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			tmFill(k, n)
			tmFill(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			// Instants going back and forth, whole microseconds or not.
			at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC).Add(time.Duration(*n*(*n%3-1)) * 7 * time.Hour)
			at = at.Add(time.Duration(*n) * []time.Duration{1, time.Microsecond, time.Second}[*n%3])
			v.Set(reflect.ValueOf(at))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				tmFill(v.Field(i), n)
			}
		}
	default:
		panic("tmFill: no filler for " + v.Type().String())
	}
}

// tmRequireNoZeroField fails when an exported field reachable from v is
// zero: the codec dropped it.
func tmRequireNoZeroField(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	require.False(t, v.IsZero(), "%s is zero after the round trip", path)
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			tmRequireNoZeroField(t, v.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				tmRequireNoZeroField(t, v.Field(i), path+"."+f.Name)
			}
		}
	}
}

// TestStateBinaryKeepsEveryField fills every exported field of State and
// what it holds, so that a field added later and forgotten by the codec
// fails here.
func TestStateBinaryKeepsEveryField(t *testing.T) {
	var st State
	n := 0
	tmFill(reflect.ValueOf(&st).Elem(), &n)
	require.Len(t, st.Timers, 2)
	require.NotEqual(t, st.Record.ID, st.Timers[0].Record.ID)
	tmBinaryRoundTrip(t, st)
	var got State
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	require.NoError(t, got.UnmarshalBinary(b))
	tmRequireNoZeroField(t, reflect.ValueOf(got), "State")

	// A timer of the state's own record, and the same strings again.
	st.Timers[1].Record = st.Record
	st.Timers[1].Goal = st.Timers[0].Goal
	tmBinaryRoundTrip(t, st)
}

func TestStateBinaryShapes(t *testing.T) {
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	many := State{Record: tmRecord}
	for i := range 150 {
		many.Timers = append(many.Timers, Timer{
			Record: tmRecord, Agreement: "agreement-" + strconv.Itoa(i%90), Calendar: "office",
			Metric: "m" + strconv.Itoa(i), StartedAt: at.Add(time.Duration(i) * time.Hour),
		})
	}
	tests := []struct {
		name string
		st   State
	}{
		{"zero", State{}},
		{"record only", State{Record: tmRecord}},
		{"empty map", State{Previous: map[string]string{}}},
		{"empty strings in the map", State{Previous: map[string]string{"": "", "a": ""}}},
		{"empty timers", State{Timers: []Timer{}}},
		{"empty lists", State{Timers: []Timer{{Marks: []Mark{}, Segments: []Segment{}, Changes: []Change{}}}}},
		{"nil lists", State{Timers: []Timer{{}, {Marks: []Mark{{}}}}}},
		{"zero instants between others", State{AsOf: at, Timers: []Timer{{StartedAt: at.Add(-time.Hour), DueAt: time.Time{}, NextAt: at}}}},
		{"extreme instants", State{AsOf: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Timers: []Timer{{
			StartedAt: time.Date(-4000, 1, 1, 0, 0, 0, 1, time.UTC), AsOf: time.Unix(1<<62, 0).UTC(), Since: time.Unix(-1<<62, 5).UTC(),
		}}}},
		{"extreme numbers", State{Timers: []Timer{{Version: -1 << 63, Cycle: 1<<63 - 1, Within: -1, Seq: -1, Kind: 255, Stage: 255, Priority: -7}}}},
		{"more strings than remembered", many},
		{"odd strings", State{Record: itsm.Ref{Kind: "\x00\xff"}, Previous: map[string]string{"k\n": "é😀"}}},
		// The decision shares a byte with Breached, and its priority is
		// written only when it is neither zero nor the timer's own.
		{"decisions", State{Timers: []Timer{
			{Priority: 3, Decided: true, DecidedPriority: 3},
			{Priority: 1, Breached: true, Decided: true, DecidedBreached: true, DecidedPriority: 4},
			{Priority: 4, Decided: true},
			{Priority: 2, DecidedBreached: true, DecidedPriority: -1 << 63},
			{DecidedPriority: 1<<63 - 1},
		}}},
		{"prior breaches", State{Timers: []Timer{{Changes: []Change{
			{At: at, BreachedAt: at.Add(-time.Hour)},
			{At: at, BreachedAt: at.Add(-time.Hour), PriorBreachedAt: at.Add(-time.Minute)},
			{At: at, PriorBreachedAt: at.Add(time.Nanosecond)},
		}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tmBinaryRoundTrip(t, tc.st) })
	}
}

func TestStateBinaryKeepsInstantsNotLocations(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := time.Date(2025, 3, 3, 9, 0, 0, 123456000, time.UTC)
	st := State{AsOf: at.In(paris), Timers: []Timer{{StartedAt: time.Now(), Since: time.Time{}.In(paris)}}}
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	assert.True(t, at == got.AsOf, "the same instant, in UTC")
	assert.True(t, st.Timers[0].StartedAt.UTC().Round(0) == got.Timers[0].StartedAt, "in UTC, without the monotonic reading")
	assert.True(t, time.Time{} == got.Timers[0].Since, "a zero instant in a location reads back as the zero time")
}

func TestStateBinaryRejectsBadInput(t *testing.T) {
	e := tmReplayEngine(t)
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryWaiting),
		tmObs(tmDay(3, 11, 0), 2, itsm.CategoryResolved),
	)
	good := tmBinaryRoundTrip(t, st)
	kept := State{Record: itsm.Ref{Kind: "kept"}}

	t.Run("every truncation", func(t *testing.T) {
		for n := range len(good) {
			got := kept
			err := got.UnmarshalBinary(good[:n])
			require.Error(t, err, "%d of %d bytes", n, len(good))
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "%d bytes: %v", n, err)
			assert.Equal(t, kept, got, "a failed decode leaves the state alone")
		}
	})
	// head is the encoding of a State up to its record; uv appends uvarints.
	head := append([]byte{stateBinaryVersion, 0}, make([]byte, 16)...)
	uv := func(b []byte, vs ...uint64) []byte {
		b = append([]byte(nil), b...)
		for _, v := range vs {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	tests := []struct {
		name  string
		data  []byte
		field string
	}{
		{"empty", nil, "version"},
		{"unknown version", []byte{stateBinaryVersion + 1}, "version"},
		{"no version", []byte{0}, "version"},
		{"left over", append(append([]byte(nil), good...), 0), "end"},
		{"a string longer than the input", uv([]byte{1}, 1000), "record.kind"},
		{"a varint overflow", append(append([]byte(nil), head...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "as_of"},
		{"nanoseconds too many", uv(head, 1+2*1e9, 0), "as_of"},
		{"microseconds too many", uv(head, 1+2*1e6+1, 0), "as_of"},
		{"not a boolean", uv(head, 0, 2), "observed"},
		{"a billion timers", uv(head, 0, 0, 0, 1e9), "timers"},
		{"a huge map", uv(head, 0, 0, 1<<62), "previous"},
		{"a duration unit", append(uv(head, 0, 0, 0, 2), append(State{Timers: []Timer{{}}}.tmTimerPrefix(t, 7), make([]byte, 40)...)...), "timers[0].within"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := kept
			err := got.UnmarshalBinary(tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sla: decoding state: "+tc.field, "got %v", err)
			assert.Equal(t, kept, got)
		})
	}
	t.Run("flags", func(t *testing.T) {
		// A zero timer's flags byte follows its stage (tmTimerPrefix's
		// nine bytes, within, calendar, stage).
		probe := State{Timers: []Timer{{}}}
		b, err := probe.MarshalBinary()
		require.NoError(t, err)
		empty, err := State{Timers: []Timer{}}.MarshalBinary()
		require.NoError(t, err)
		at := len(empty) + 12
		require.Equal(t, byte(flagSamePriority), b[at], "a zero timer's decided priority is its priority")
		for _, f := range []byte{flagsAll + 1, 0xff, flagSamePriority | flagOwnPriority} {
			bad := append([]byte(nil), b...)
			bad[at] = f
			got := kept
			err := got.UnmarshalBinary(bad)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sla: decoding state: timers[0].flags: corrupt", "flags %#x", f)
			assert.Equal(t, kept, got)
		}
	})
	t.Run("a corrupt field inside a timer is named", func(t *testing.T) {
		var probe State
		probe.Timers = []Timer{{Marks: []Mark{{}}}}
		b, err := probe.MarshalBinary()
		require.NoError(t, err)
		// The mark's skipped flag is three bytes from the end (then the
		// segments' and changes' counts and seq).
		b[len(b)-4] = 7
		err = probe.UnmarshalBinary(b)
		require.Error(t, err)
		assert.Equal(t, "sla: decoding state: timers[0].marks[0].skipped: corrupt: 7 is not a boolean", err.Error())
		assert.False(t, errors.Is(err, io.ErrUnexpectedEOF))
	})
}

// tmTimerPrefix returns the encoding of st's only timer up to its Within,
// excluded, with within appended as its raw uvarint.
func (st State) tmTimerPrefix(t *testing.T, within uint64) []byte {
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	empty, err := State{Timers: []Timer{}}.MarshalBinary()
	require.NoError(t, err)
	// record kind, record flag, agreement, version, kind, metric, cycle,
	// priority, goal: nine bytes for a zero timer.
	tm := b[len(empty) : len(empty)+9]
	return binary.AppendUvarint(append([]byte(nil), tm...), within)
}

// TestStateBinaryMinimumSizes checks the sizes the decoder assumes to bound
// lengths: the fewest bytes each kind of element takes.
func TestStateBinaryMinimumSizes(t *testing.T) {
	size := func(st State) int {
		b, err := st.MarshalBinary()
		require.NoError(t, err)
		return len(b)
	}
	assert.Equal(t, minTimerSize, size(State{Timers: []Timer{{}}})-size(State{Timers: []Timer{}}))
	one := func(tm Timer) int { return size(State{Timers: []Timer{tm}}) }
	assert.Equal(t, 3, one(Timer{Marks: []Mark{{}}})-one(Timer{Marks: []Mark{}}))
	assert.Equal(t, 3, one(Timer{Segments: []Segment{{}}})-one(Timer{Segments: []Segment{}}))
	assert.Equal(t, minChangeSize, one(Timer{Changes: []Change{{}}})-one(Timer{Changes: []Change{}}))
	assert.Equal(t, 2, size(State{Previous: map[string]string{"": ""}})-size(State{Previous: map[string]string{}}))
}

// tmStateV1 is the hex of a state written in the format's version 1.
const tmStateV1 = "0108696e636964656e740190a1b2c3d47e5f8a9b0c1d2e3f4a5b02c0d7adfc0c01000208696e636964656e7400046465736b02010a" +
	"7265736f6c7574696f6e020202703182e1010432347837030102ffe00100029f38020002a0990202000082e50882e5080202000000020772756e6e" +
	"696e67029f990202a099020202dfa8010270330270310432347837043234783702020b726574726f61637469766500029f3806"

// TestStateBinaryReadsVersion1 decodes a state the encoder wrote before
// the format's version 2 (a breached, completed timer with a retroactive
// retarget): hosts may have stored such bytes. It reads back as the state
// it was, without a decision or a prior breach, which Compliance handles
// as it did then.
func TestStateBinaryReadsVersion1(t *testing.T) {
	const asJSON = `{"record":{"kind":"incident","id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},"as_of":"2025-03-03T14:00:00Z",` +
		`"observed":true,"timers":[{"record":{"kind":"incident","id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},"agreement":"desk",` +
		`"version":1,"kind":"sla","metric":"resolution","cycle":1,"priority":1,"goal":"p1","within":3600000000000,"calendar":"24x7",` +
		`"stage":"completed","breached":true,"breached_at":"2025-03-03T10:00:00Z","started_at":"2025-03-03T09:00:00Z",` +
		`"attached_at":"2025-03-03T09:00:00Z","ended_at":"2025-03-03T14:00:00Z","as_of":"2025-03-03T14:00:00Z",` +
		`"business_elapsed":18000000000000,"actual_elapsed":18000000000000,"business_paused":0,"actual_paused":0,` +
		`"segments":[{"kind":"running","from":"2025-03-03T09:00:00Z","to":"2025-03-03T14:00:00Z"}],` +
		`"changes":[{"at":"2025-03-03T11:00:00Z","from":"p3","to":"p1","from_calendar":"24x7","to_calendar":"24x7",` +
		`"from_version":1,"to_version":1,"how":"retroactive","breached_at":"2025-03-03T10:00:00Z"}],"seq":3}]}`
	data, err := hex.DecodeString(tmStateV1)
	require.NoError(t, err)
	var want, got State
	require.NoError(t, json.Unmarshal([]byte(asJSON), &want))
	require.NoError(t, got.UnmarshalBinary(data))
	assert.Equal(t, want, got)
	require.Len(t, got.Timers, 1)
	assert.True(t, got.Timers[0].Breached)
	assert.False(t, got.Timers[0].Decided)
	again := tmBinaryRoundTrip(t, got)
	assert.Equal(t, byte(stateBinaryVersion), again[0], "written back in the current format")

	for n := range len(data) {
		err := got.UnmarshalBinary(data[:n])
		require.Error(t, err, "%d of %d bytes", n, len(data))
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	}
}

func TestStateBinaryDecodeAllocations(t *testing.T) {
	e := tmReplayEngine(t)
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 1, itsm.CategoryActive),
		tmObs(tmDay(3, 10, 0), 1, itsm.CategoryWaiting),
		tmObs(tmDay(3, 11, 0), 2, itsm.CategoryActive),
		tmObs(tmDay(3, 15, 0), 2, itsm.CategoryResolved),
	)
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	lists := 0
	for _, tm := range st.Timers {
		for _, n := range []int{len(tm.Marks), len(tm.Segments), len(tm.Changes)} {
			if n > 0 {
				lists++
			}
		}
	}
	// The strings, the map, the timers and each non-empty list: one each.
	allocs := testing.AllocsPerRun(50, func() {
		var got State
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, float64(3+lists+1), "map buckets may cost one more")
}

func FuzzStateBinary(f *testing.F) {
	e := tmReplayEngine(f)
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 0xf5))
		st := State{Record: tmRecord}
		for _, s := range tmRandomSteps(func(n int) int { return r.IntN(n) }) {
			if !s.advance {
				st, _, _ = e.Observe(st, s.obs)
			}
		}
		b, err := st.MarshalBinary()
		require.NoError(f, err)
		f.Add(b)
	}
	// Every field set, decisions and prior breaches included (tmFill
	// sets each decision flag, and a decided priority of its own).
	var full State
	n := 0
	tmFill(reflect.ValueOf(&full).Elem(), &n)
	b, err := full.MarshalBinary()
	require.NoError(f, err)
	f.Add(b)
	v1, err := hex.DecodeString(tmStateV1)
	require.NoError(f, err)
	f.Add(v1)
	f.Add([]byte{1})
	f.Add([]byte{stateBinaryVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if err := st.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := st.MarshalBinary()
		require.NoError(t, err)
		var again State
		require.NoError(t, again.UnmarshalBinary(b))
		require.Equal(t, st, again)
	})
}

// TestStateBinarySizeOfAClosedIncident reports what a typical closed
// incident's two timers cost: response and resolution on business hours,
// through open, assign, hold, resume, resolve and close.
func TestStateBinarySizeOfAClosedIncident(t *testing.T) {
	e := tmEngine(t, "office", tmResponse(), tmResolution())
	opened := time.Date(2025, 3, 3, 9, 12, 5, 123456000, time.UTC)
	st, _ := tmFeed(t, e, State{Record: tmRecord},
		tmObs(opened, 2, itsm.CategoryNew),
		tmWith(tmObs(opened.Add(14*time.Minute+3*time.Second+1000), 2, itsm.CategoryActive), func(o *Observation) {
			o.Fields = map[string]string{"responded": "yes"}
		}),
		tmObs(opened.Add(2*time.Hour+7*time.Minute), 2, itsm.CategoryWaiting),
		tmObs(opened.Add(5*time.Hour+1*time.Minute+7000), 2, itsm.CategoryActive),
		tmObs(opened.Add(6*time.Hour+30*time.Minute+999000), 2, itsm.CategoryResolved),
		tmObs(opened.Add(4*24*time.Hour+17*time.Second), 2, itsm.CategoryClosed),
	)
	require.Len(t, st.Timers, 2)
	b := tmBinaryRoundTrip(t, st)
	js, err := json.Marshal(st)
	require.NoError(t, err)
	t.Logf("closed incident, 2 timers: %d bytes binary, %d bytes JSON", len(b), len(js))
	assert.Less(t, len(b), 320)
}

func BenchmarkStateBinary(b *testing.B) {
	e := tmEngine(b, "office", tmResponse(), tmResolution())
	st, _ := tmFeed(b, e, State{Record: tmRecord},
		tmObs(tmDay(3, 9, 0), 2, itsm.CategoryNew),
		tmObs(tmDay(3, 9, 14), 2, itsm.CategoryActive),
		tmObs(tmDay(3, 11, 0), 2, itsm.CategoryWaiting),
		tmObs(tmDay(3, 14, 0), 2, itsm.CategoryActive),
		tmObs(tmDay(3, 15, 30), 2, itsm.CategoryClosed),
	)
	data, err := st.MarshalBinary()
	require.NoError(b, err)
	js, err := json.Marshal(st)
	require.NoError(b, err)
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got State
			if err := got.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got State
			if err := json.Unmarshal(js, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
