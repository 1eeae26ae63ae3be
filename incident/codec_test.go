package incident_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/internal/wire"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// fillAll sets every settable field reachable from v to a distinct
// non-zero value: strings, numbers, bools, instants, UUIDs, two elements in
// every list and map, pointers allocated. A field added to Data later and
// forgotten by the codec makes the round trip below fail.
func fillAll(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-é", *n))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint8:
		v.SetUint(uint64(1 + *n%4)) // sla.Stage and friends: keep it a valid enum
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fillAll(v.Index(i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < 2; i++ {
			fillAll(v.Index(i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillAll(k, n)
			fillAll(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC).Add(time.Duration(*n) * 1001 * time.Microsecond)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i), n)
			}
		}
	default:
		panic("fillAll: add a case for " + v.Kind().String())
	}
}

func filledData(t *testing.T) incident.Data {
	t.Helper()
	var d incident.Data
	n := 0
	fillAll(reflect.ValueOf(&d).Elem(), &n)
	// IDs keep their UUID unexported.
	d.ID = incident.IDFromUUID(uuid.New())
	d.Parent = incident.IDFromUUID(uuid.New())
	d.Cancellation.DuplicateOf = incident.IDFromUUID(uuid.New())
	d.SLA = sla.State{} // sla's own encoding is tested in sla; a real state below
	return d
}

func roundTrip(t *testing.T, d incident.Data) incident.Data {
	t.Helper()
	b, err := d.MarshalBinary()
	require.NoError(t, err)
	var out incident.Data
	require.NoError(t, out.UnmarshalBinary(b))
	return out
}

func TestDataBinaryEveryField(t *testing.T) {
	d := filledData(t)
	assert.Equal(t, d, roundTrip(t, d))

	// Nil and empty stay apart; the zero record survives.
	var zero incident.Data
	assert.Equal(t, zero, roundTrip(t, zero))
	empty := incident.Data{CIs: []itsm.Ref{}, Custom: map[string]string{}, Comments: []incident.Comment{}, History: []incident.Entry{}}
	assert.Equal(t, empty, roundTrip(t, empty))
}

func TestDataBinaryDeterministic(t *testing.T) {
	d := filledData(t)
	for i := 0; i < 20; i++ {
		d.Custom[fmt.Sprintf("k%02d", i)] = "v"
	}
	first, err := d.MarshalBinary()
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		again, err := d.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, first, again)
	}
}

// serviceRecords drives incidents through the service and returns them as
// stored: SLA timers, history with field changes, holds, comments.
func serviceRecords(t testing.TB) []incident.Data {
	t.Helper()
	d := newDesk(t, false)
	ctx := context.Background()
	var out []incident.Data
	for i := 0; i < 3; i++ {
		inc := d.open(t)
		id := inc.ID()
		_, err := d.svc.Assign(ctx, tenant, id, agent, "", "ana", "")
		require.NoError(t, err)
		_, err = d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingCaller, "Which mailbox?")
		require.NoError(t, err)
		_, err = d.svc.Comment(ctx, tenant, id, caller, "The sales one", incident.CallerComment)
		require.NoError(t, err)
		if i > 0 {
			_, err = d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay")
			require.NoError(t, err)
		}
		if i > 1 {
			_, err = d.svc.Close(ctx, tenant, id, agent, "")
			require.NoError(t, err)
		}
		got, err := d.svc.Get(ctx, tenant, id)
		require.NoError(t, err)
		out = append(out, got.Data())
	}
	return out
}

func TestDataBinaryServiceRecords(t *testing.T) {
	for _, d := range serviceRecords(t) {
		require.NotEmpty(t, d.SLA.Timers)
		assert.Equal(t, d, roundTrip(t, d))
	}
}

func TestDataBinaryCorruptInput(t *testing.T) {
	d := serviceRecords(t)[2]
	b, err := d.MarshalBinary()
	require.NoError(t, err)
	t.Logf("a closed incident with %d SLA timers encodes to %d bytes", len(d.SLA.Timers), len(b))

	// Every truncation fails cleanly and leaves the target untouched.
	for n := 0; n < len(b); n++ {
		target := incident.Data{Title: "untouched"}
		err := target.UnmarshalBinary(b[:n])
		require.ErrorIs(t, err, wire.ErrCorrupt, "truncated at %d", n)
		require.Equal(t, "untouched", target.Title)
	}
	// A trailing byte and an unknown format fail.
	var target incident.Data
	require.ErrorIs(t, target.UnmarshalBinary(append(b[:len(b):len(b)], 0)), wire.ErrCorrupt)
	bad := append([]byte{99}, b[1:]...)
	err = target.UnmarshalBinary(bad)
	require.ErrorIs(t, err, wire.ErrCorrupt)
	assert.Contains(t, err.Error(), "format")
}

func FuzzDataBinary(f *testing.F) {
	recs := serviceRecords(f)
	// A record with every field set, lists of two, as seeds too.
	var full incident.Data
	n := 0
	fillAll(reflect.ValueOf(&full).Elem(), &n)
	full.SLA = recs[len(recs)-1].SLA
	recs = append(recs, full, incident.Data{})
	for _, d := range recs {
		b, err := d.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var d incident.Data
		if err := d.UnmarshalBinary(in); err != nil {
			require.ErrorIs(t, err, wire.ErrCorrupt)
			return
		}
		// What decodes re-encodes to bytes that decode to the same record.
		again, err := d.MarshalBinary()
		require.NoError(t, err)
		var back incident.Data
		require.NoError(t, back.UnmarshalBinary(again))
		require.Equal(t, d, back)
	})
}
