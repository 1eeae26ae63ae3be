package itsmtest

import (
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// MustID draws a typed ID from gen, failing the test if it cannot.
func MustID[T itsm.Kinded](tb testing.TB, gen itsm.IDGenerator) itsm.ID[T] {
	tb.Helper()
	id, err := itsm.NewID[T](gen)
	if err != nil {
		tb.Fatalf("itsmtest: drawing an ID: %v", err)
	}
	return id
}

// MustLocation loads an IANA zone, failing the test if it is unknown.
func MustLocation(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("itsmtest: loading zone %q: %v", name, err)
	}
	return loc
}

// MustTime parses a local wall time "2006-01-02 15:04" (seconds optional:
// "2006-01-02 15:04:05") in the named IANA zone and returns it normalised
// to UTC microseconds. It fails the test on bad input.
func MustTime(tb testing.TB, zone, wall string) time.Time {
	tb.Helper()
	loc := MustLocation(tb, zone)
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, wall, loc); err == nil {
			return itsm.Normalize(t)
		}
	}
	tb.Fatalf("itsmtest: %q is not a wall time of the form 2006-01-02 15:04[:05]", wall)
	return time.Time{}
}

// MustLifecycle builds a lifecycle from spec, failing the test if it is
// invalid.
func MustLifecycle[S, A ~string](tb testing.TB, spec itsm.LifecycleSpec[S, A]) *itsm.Lifecycle[S, A] {
	tb.Helper()
	l, err := itsm.NewLifecycle(spec)
	if err != nil {
		tb.Fatalf("itsmtest: lifecycle %q: %v", spec.Name, err)
	}
	return l
}

// Agent returns a valid human actor whose ID and display name are id.
func Agent(id string) itsm.Actor {
	return itsm.Actor{ID: id, Name: id, Kind: itsm.ActorHuman}
}

// System returns the actor a host uses for its own scheduled actions.
func System() itsm.Actor {
	return itsm.Actor{ID: "system", Name: "System", Kind: itsm.ActorSystem}
}

// Tenant returns a valid tenant ID for tests, "t-" followed by name.
func Tenant(tb testing.TB, name string) itsm.TenantID {
	tb.Helper()
	t, err := itsm.ParseTenantID("t-" + name)
	if err != nil {
		tb.Fatalf("itsmtest: tenant %q: %v", name, err)
	}
	return t
}
