package postgres

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

var timeType = reflect.TypeFor[time.Time]()

// fillInstants sets every exported time.Time v holds, at any depth, to the
// next instant of at: nil pointers are allocated and empty lists given two
// elements, so that every field of every nested type is reached.
func fillInstants(v reflect.Value, at func() time.Time) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(at()))
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillInstants(v.Elem(), at)
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		}
		for i := range v.Len() {
			fillInstants(v.Index(i), at)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillInstants(v.Field(i), at)
			}
		}
	}
}

// instants returns every exported time.Time v holds, in fillInstants's
// order.
func instants(v reflect.Value) []time.Time {
	var out []time.Time
	switch {
	case v.Type() == timeType:
		out = append(out, v.Interface().(time.Time))
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			out = append(out, instants(v.Elem())...)
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			out = append(out, instants(v.Index(i))...)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = append(out, instants(v.Field(i))...)
			}
		}
	}
	return out
}

// The document keeps every instant of the record exactly, whatever its
// zone: JSON drops the seconds of an offset (Africa/Monrovia's -0:44:30
// before 1972, a 59-second fixed zone), so encode writes them in UTC.
// Every time.Time of incident.Data, the SLA state's included, is found by
// reflection, so an instant added to any of those types and missed by
// eachInstant fails here. The caller's record is left as it was.
func TestEncodeStoresEveryInstantInUTC(t *testing.T) {
	monrovia, err := time.LoadLocation("Africa/Monrovia")
	if err != nil {
		monrovia = time.FixedZone("MMT", -(44*60 + 30)) // the same offset, without tzdata
	}
	zones := []*time.Location{time.FixedZone("LMT", 59), monrovia}
	var d incident.Data
	d.Impact, d.Urgency, d.Priority = itsm.Impact(1), itsm.Urgency(1), itsm.Priority(1)
	k := 0
	fillInstants(reflect.ValueOf(&d).Elem(), func() time.Time {
		k++
		at := time.Date(1960, 3, 1, 10, 0, k, k*1000, time.UTC)
		return at.In(zones[k%len(zones)])
	})
	for i := range d.SLA.Timers { // enumerations whose zero does not encode
		d.SLA.Timers[i].Kind, d.SLA.Timers[i].Stage = itsm.AgreementSLA, sla.StageRunning
	}
	given := instants(reflect.ValueOf(d))
	require.Greater(t, len(given), 30, "the walk reaches the nested lists")

	local := d
	r, err := encode(&local, 1)
	require.NoError(t, err)
	for i, at := range instants(reflect.ValueOf(d)) {
		assert.True(t, at == given[i], "instant %d of the caller's record was changed: %v, now %v", i, given[i], at)
	}
	got, err := decode(r.doc, 1)
	require.NoError(t, err)
	back := instants(reflect.ValueOf(got))
	require.Len(t, back, len(given))
	for i, at := range back {
		assert.True(t, at.Equal(given[i]), "instant %d: written %v, read back %v", i, given[i].UTC(), at.UTC())
		assert.Equal(t, time.UTC, at.Location(), "instant %d is stored in UTC", i)
	}
}

// A record that is UTC throughout, as the service writes every one, is
// encoded without a copy.
func TestUTCInstantsDoesNotCopyAUTCRecord(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	d := incident.Data{OpenedAt: at, UpdatedAt: at, History: []incident.Entry{{Seq: 1, At: at}}}
	local := d
	allocs := testing.AllocsPerRun(100, func() { utcInstants(&local) })
	assert.Zero(t, allocs)
	assert.Same(t, &d.History[0], &local.History[0], "the lists are the caller's still")
}
