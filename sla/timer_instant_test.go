package sla

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// tmInstants returns instants of every kind the engine may be handed: in
// and out of its years, in UTC and other zones, whole microseconds or not,
// with a monotonic reading or not, and the zero time in a zone.
func tmInstants() []time.Time {
	r := rand.New(rand.NewPCG(7, 11))
	zones := []*time.Location{time.UTC, time.FixedZone("UTC", 0), time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -11*3600)}
	out := []time.Time{{}, time.Time{}.In(zones[2]), time.Now(), time.Now().Add(time.Hour),
		time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1),
		time.Date(maxYear, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(maxYear, 1, 1, 0, 0, 0, 0, time.UTC).Add(-1),
		time.Date(minYear, 1, 1, 0, 0, 0, 0, zones[2]), time.Date(maxYear-1, 12, 31, 23, 0, 0, 0, zones[3]),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(292277026596, 12, 4, 15, 30, 7, 0, time.UTC)}
	for range 2000 {
		sec := r.Int64N(2*maxUnix) - maxUnix
		if r.IntN(4) == 0 {
			sec = r.Int64()
		}
		ns := r.Int64N(1e9)
		if r.IntN(2) == 0 {
			ns -= ns % 1000
		}
		out = append(out, time.Unix(sec, ns).In(zones[r.IntN(len(zones))]))
	}
	return out
}

// TestInstantHelpers requires norm and normAll to equal itsm.Normalize,
// sub to equal Sub on normalised instants, and inWindow to read the year
// of any instant as Year does.
func TestInstantHelpers(t *testing.T) {
	ts := tmInstants()
	for i, a := range ts {
		want := itsm.Normalize(a)
		require.Equal(t, want, norm(a), "norm(%v)", a)
		got := a
		normAll(&got)
		require.Equal(t, want, got, "normAll(%v)", a)
		y := a.Year()
		require.Equal(t, y >= minYear && y < maxYear, inWindow(a), "inWindow(%v)", a)
		for _, b := range []time.Time{ts[(i+1)%len(ts)], ts[(i*7+3)%len(ts)], a.Add(time.Duration(i) * time.Hour)} {
			na, nb := itsm.Normalize(a), itsm.Normalize(b)
			require.Equal(t, na.Sub(nb), sub(na, nb), "sub(%v, %v)", na, nb)
		}
	}
}

// TestTimerNorm requires timerNorm to report exactly whether
// normalizeTimer would leave a timer as it is, on timers whose instants
// are drawn from a few normalised instants and denormalised forms of them
// (another zone, a monotonic reading, a stray nanosecond), so that equal
// instants, which timerNorm recognises by ==, are frequent.
func TestTimerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	base := []time.Time{{}, tmDay(3, 9, 0), tmDay(3, 9, 30), tmDay(4, 12, 0).Add(7 * time.Microsecond)}
	pool := slices.Clone(base)
	for _, b := range base[1:] {
		pool = append(pool, b.In(time.FixedZone("east", 3600)), b.Add(time.Nanosecond),
			time.Now().Add(time.Until(b)), b.In(time.FixedZone("UTC", 0)))
	}
	pick := func() time.Time {
		if r.IntN(4) > 0 {
			return base[r.IntN(len(base))]
		}
		return pool[r.IntN(len(pool))]
	}
	for i := range 20000 {
		var tm Timer
		for _, p := range []*time.Time{&tm.BreachedAt, &tm.StartedAt, &tm.AttachedAt, &tm.EndedAt, &tm.AsOf, &tm.Since, &tm.DueAt, &tm.NextAt} {
			*p = pick()
		}
		for range r.IntN(3) {
			tm.Marks = append(tm.Marks, Mark{Threshold: "50", At: pick()})
		}
		for range r.IntN(4) {
			tm.Segments = append(tm.Segments, Segment{Kind: SegmentRunning, From: pick(), To: pick()})
		}
		for range r.IntN(2) {
			tm.Changes = append(tm.Changes, Change{At: pick(), BreachedAt: pick()})
		}
		asOf := base[r.IntN(len(base))]
		if r.IntN(3) == 0 {
			// A live timer is accrued to the state's as_of.
			tm.AsOf = asOf
		}
		want := tm.Clone()
		normalizeTimer(&want)
		require.Equal(t, reflect.DeepEqual(tm, want), timerNorm(&tm, asOf), "case %d: %+v", i, tm)
	}
}

// TestOwnKind requires the kinds ownKind lets checkTimerState accept
// without Kind.Validate to be valid, and ownKind to refuse the others.
func TestOwnKind(t *testing.T) {
	for _, k := range []itsm.Kind{itsm.KindIncident, itsm.KindChange, itsm.KindProblem, itsm.KindRequest} {
		require.True(t, ownKind(k), k)
		require.NoError(t, k.Validate(), k)
	}
	for _, k := range []itsm.Kind{"", "Incident", "incident ", "incidents", "ci", "service", "chang", "9problem", "request\x00"} {
		require.False(t, ownKind(k), k)
	}
}

// TestWindowBounds requires the constant bounds of the engine's years to
// be the Unix seconds of their first instants.
func TestWindowBounds(t *testing.T) {
	require.Equal(t, time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), int64(minUnix))
	require.Equal(t, time.Date(maxYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), int64(maxUnix))
}

// TestObservationInstantErrors requires the checks of an observation's
// at and opened to report exactly the problems of their plain statement
// (at set, in the years, not before the state's as_of; opened in the
// years, not after at, at most 100 years before it), in that order, for
// instants of every kind, at and opened alike.
func TestObservationInstantErrors(t *testing.T) {
	e := tmEngine(t, "", tmResolution())
	inYears := func(t time.Time) bool { return t.Year() >= minYear && t.Year() < maxYear }
	want := func(asOf, at0, opened0 time.Time) []itsm.FieldError {
		var errs itsm.FieldErrors
		at := itsm.Normalize(at0)
		switch {
		case at0.IsZero():
			errs.Add("at", "must be set")
		case !inYears(at):
			errs.Add("at", outOfWindow(at))
		case at.Before(asOf):
			errs.Addf("at", "%s is before the last observation %s", at.Format(time.RFC3339Nano), asOf.Format(time.RFC3339Nano))
		}
		opened := itsm.Normalize(opened0)
		switch {
		case opened0.IsZero():
		case !inYears(opened):
			errs.Add("opened", outOfWindow(opened))
		case at.Before(opened):
			errs.Add("opened", "must not be after at")
		case at.Sub(opened) > maxLife:
			errs.Add("opened", "must not be more than 100 years before at")
		}
		var ve *itsm.ValidationError
		if errors.As(errs.Err(), &ve) {
			return ve.All()
		}
		return nil
	}
	ts := tmInstants()
	ts = append(ts, tmDay(3, 9, 0), tmDay(3, 9, 0).Add(-maxLife), tmDay(3, 9, 0).Add(-maxLife-time.Microsecond),
		tmDay(3, 9, 0).Add(-maxLife-time.Nanosecond), tmDay(3, 9, 0).Add(-maxLife+time.Nanosecond))
	for _, asOf := range []time.Time{{}, tmDay(3, 9, 0)} {
		for i, at := range ts {
			for _, opened := range []time.Time{ts[(i*13+5)%len(ts)], ts[(i*7+1)%len(ts)], at, at.Add(time.Nanosecond), at.Add(-maxLife),
				at.Add(-maxLife - time.Nanosecond), at.Add(-maxLife - time.Second), tmDay(3, 9, 0).Add(-maxLife), {}} {
				st := State{Record: tmRecord, AsOf: asOf}
				_, err := e.ObserveInPlace(&st, Observation{At: at, Opened: opened, State: itsm.CategoryActive})
				var got []itsm.FieldError
				var ve *itsm.ValidationError
				if errors.As(err, &ve) {
					got = ve.All()
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, want(asOf, at, opened), got, "as_of %v, at %v, opened %v", asOf, at, opened)
			}
		}
	}
}

// TestLiveTimerInstantErrors requires checkTimerState's checks of a live
// timer's as_of, started_at and since to report exactly the problems of
// their plain statement, in order: as_of equal to the state's; started_at
// in the years, not after as_of, at most 100 years before it; since
// between started_at and as_of.
func TestLiveTimerInstantErrors(t *testing.T) {
	inYears := func(t time.Time) bool { return t.Year() >= minYear && t.Year() < maxYear }
	want := func(st *State) []itsm.FieldError {
		var errs itsm.FieldErrors
		stAsOf := itsm.Normalize(st.AsOf)
		if !stAsOf.IsZero() && !inYears(stAsOf) {
			errs.Add("as_of", outOfWindow(stAsOf))
		}
		tm := &st.Timers[0]
		asOf, started, since := itsm.Normalize(tm.AsOf), itsm.Normalize(tm.StartedAt), itsm.Normalize(tm.Since)
		if asOf != stAsOf {
			errs.Add("timers[0].as_of", "of a live timer must equal the state's as_of")
		}
		switch {
		case !inYears(started):
			errs.Add("timers[0].started_at", outOfWindow(started))
		case asOf.Before(started):
			errs.Add("timers[0].started_at", "must not be after as_of")
		case asOf.Sub(started) > maxLife:
			errs.Add("timers[0].started_at", "must not be more than 100 years before as_of")
		case since.Before(started) || asOf.Before(since):
			errs.Add("timers[0].since", "must lie between started_at and as_of")
		}
		var ve *itsm.ValidationError
		if errors.As(errs.Err(), &ve) {
			return ve.All()
		}
		return nil
	}
	r := rand.New(rand.NewPCG(13, 17))
	ts := tmInstants()
	at := tmDay(3, 9, 0)
	near := []time.Time{at, at.Add(-maxLife), at.Add(-maxLife - time.Microsecond), at.Add(-maxLife + time.Microsecond),
		at.Add(-time.Microsecond), at.Add(time.Microsecond), at.Add(-maxLife - time.Nanosecond), at.AddDate(200, 0, 0),
		at.AddDate(-300, 0, 0), {}}
	pick := func() time.Time {
		if r.IntN(2) == 0 {
			return near[r.IntN(len(near))]
		}
		return ts[r.IntN(len(ts))]
	}
	for i := range 50000 {
		stAsOf := at
		if r.IntN(8) == 0 {
			stAsOf = pick()
		}
		tm := Timer{Stage: StageRunning, Within: time.Hour, AsOf: stAsOf, StartedAt: pick(), Since: pick()}
		if r.IntN(8) == 0 {
			tm.AsOf = pick()
		}
		if r.IntN(4) == 0 {
			tm.Since = tm.StartedAt
		}
		st := State{Record: tmRecord, AsOf: stAsOf, Timers: []Timer{tm}}
		_, err := checkTimerState(&st)
		var got []itsm.FieldError
		var ve *itsm.ValidationError
		if errors.As(err, &ve) {
			got = ve.All()
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, want(&st), got, "case %d: as_of %v, timer as_of %v, started %v, since %v", i, stAsOf, tm.AsOf, tm.StartedAt, tm.Since)
	}
}
