package incident_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// referenceMatches is Filter.Matches written directly on the record, as it
// was before summaries existed: Matches and MatchesSummary must agree with
// it on every record and filter.
func referenceMatches(f incident.Filter, d *incident.Data) bool {
	switch {
	case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, d.Status),
		len(f.Priorities) > 0 && !slices.Contains(f.Priorities, d.Priority),
		f.Group != "" && d.Group != f.Group,
		f.Assignee != "" && d.Assignee != f.Assignee,
		!f.Parent.IsZero() && d.Parent != f.Parent,
		f.Caller != "" && d.Caller != f.Caller,
		f.Category != "" && d.Category != f.Category,
		!f.Service.IsZero() && d.Service != f.Service,
		!f.OpenedFrom.IsZero() && d.OpenedAt.Before(f.OpenedFrom),
		!f.OpenedBefore.IsZero() && !d.OpenedAt.Before(f.OpenedBefore),
		!f.UpdatedSince.IsZero() && d.UpdatedAt.Before(f.UpdatedSince),
		len(f.Major) > 0 && !slices.Contains(f.Major, d.Major.Status),
		!f.ResolvedBefore.IsZero() && (d.ResolvedAt.IsZero() || !d.ResolvedAt.Before(f.ResolvedBefore)),
		len(f.SLAStages) > 0 && !slices.ContainsFunc(d.SLA.Timers, func(t sla.Timer) bool { return slices.Contains(f.SLAStages, t.Stage) }),
		f.SLABreached != nil && d.SLABreached() != *f.SLABreached:
		return false
	}
	if !f.SLANextBefore.IsZero() {
		next, ok := d.SLANextAt()
		if !ok || next.After(f.SLANextBefore) {
			return false
		}
	}
	return true
}

func TestFilterMatchesAgreesWithTheRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	at := func() time.Time {
		if rng.IntN(3) == 0 {
			return time.Time{}
		}
		return t0.Add(time.Duration(rng.IntN(10)) * time.Hour)
	}
	parents := []incident.ID{{}, incident.IDFromUUID(uuid.New()), incident.IDFromUUID(uuid.New())}
	u := uuid.New()
	services := []itsm.Ref{{}, {Kind: itsm.KindService, ID: u}, {Kind: itsm.KindCI, ID: u}, {Kind: itsm.KindService, ID: uuid.New()}}
	stages := []sla.Stage{sla.StageRunning, sla.StagePaused, sla.StageCompleted, sla.StageCanceled}
	for range 20000 {
		d := incident.Data{
			Status:     incident.Status(pick("new", "in_progress", "on_hold", "resolved")),
			Priority:   itsm.Priority(1 + rng.IntN(4)),
			Group:      pick("", "net", "apps"),
			Assignee:   pick("", "ana", "bob"),
			Parent:     parents[rng.IntN(3)],
			Major:      incident.Major{Status: incident.MajorStatus(pick("none", "proposed", "accepted"))},
			ResolvedAt: at(),
			Caller:     pick("ana", "bob"),
			Category:   pick("", "email", "network"),
			Service:    services[rng.IntN(len(services))],
			OpenedAt:   at(),
			UpdatedAt:  at(),
		}
		for range rng.IntN(3) {
			d.SLA.Timers = append(d.SLA.Timers, sla.Timer{Stage: stages[rng.IntN(4)], Breached: rng.IntN(4) == 0, NextAt: at()})
		}
		var f incident.Filter
		if rng.IntN(3) == 0 {
			f.Statuses = []incident.Status{incident.Status(pick("new", "resolved"))}
		}
		if rng.IntN(3) == 0 {
			f.Priorities = []itsm.Priority{itsm.Priority(1 + rng.IntN(4)), itsm.Priority(1 + rng.IntN(4))}
		}
		if rng.IntN(3) == 0 {
			f.Group = pick("net", "apps")
		}
		if rng.IntN(3) == 0 {
			f.Assignee = pick("ana", "bob")
		}
		if rng.IntN(3) == 0 {
			f.Parent = parents[1+rng.IntN(2)]
		}
		if rng.IntN(3) == 0 {
			f.Major = []incident.MajorStatus{incident.MajorStatus(pick("none", "accepted"))}
		}
		if rng.IntN(3) == 0 {
			f.ResolvedBefore = t0.Add(time.Duration(rng.IntN(10)) * time.Hour)
		}
		if rng.IntN(4) == 0 {
			f.Caller = pick("ana", "bob", "carol")
		}
		if rng.IntN(4) == 0 {
			f.Category = pick("email", "network")
		}
		if rng.IntN(4) == 0 {
			f.Service = services[1+rng.IntN(len(services)-1)]
		}
		if rng.IntN(4) == 0 {
			f.OpenedFrom = t0.Add(time.Duration(rng.IntN(10)) * time.Hour)
		}
		if rng.IntN(4) == 0 {
			f.OpenedBefore = t0.Add(time.Duration(rng.IntN(10)) * time.Hour)
		}
		if rng.IntN(4) == 0 {
			f.UpdatedSince = t0.Add(time.Duration(rng.IntN(10)) * time.Hour)
		}
		if rng.IntN(3) == 0 {
			f.SLAStages = []sla.Stage{stages[rng.IntN(4)]}
		}
		if rng.IntN(3) == 0 {
			b := rng.IntN(2) == 0
			f.SLABreached = &b
		}
		if rng.IntN(3) == 0 {
			f.SLANextBefore = t0.Add(time.Duration(rng.IntN(10)) * time.Hour)
		}
		want := referenceMatches(f, &d)
		require.Equal(t, want, f.Matches(&d), "filter %+v on %+v", f, d)
		s := d.Summary()
		require.Equal(t, want, f.MatchesSummary(&s))
	}
}

// TestSummarySLAFields pins Summary's one pass over the timers against
// SLABreached, SLANextAt and HasSLAStage's definition, on random timers.
func TestSummarySLAFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	stages := []sla.Stage{sla.StageRunning, sla.StagePaused, sla.StageCompleted, sla.StageCanceled}
	for range 2000 {
		var d incident.Data
		for range rng.IntN(5) {
			var next time.Time
			if rng.IntN(3) > 0 {
				next = t0.Add(time.Duration(rng.IntN(6)) * time.Hour)
			}
			d.SLA.Timers = append(d.SLA.Timers, sla.Timer{Stage: stages[rng.IntN(len(stages))], Breached: rng.IntN(4) == 0, NextAt: next})
		}
		s := d.Summary()
		next, ok := d.SLANextAt()
		assert.Equal(t, next, s.SLANextAt)
		assert.Equal(t, ok, !s.SLANextAt.IsZero())
		assert.Equal(t, d.SLABreached(), s.SLABreached)
		for _, st := range stages {
			in := false
			for _, tm := range d.SLA.Timers {
				in = in || tm.Stage == st
			}
			assert.Equal(t, in, s.HasSLAStage(st), "stage %v", st)
		}
	}
}

// The filter's bounds: OpenedFrom and UpdatedSince include their instant,
// OpenedBefore excludes it, an empty or inverted period matches nothing,
// and bounds far outside the years a store keeps are compared as they
// are.
func TestFilterInstantBounds(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := incident.Data{OpenedAt: at, UpdatedAt: at.Add(time.Hour)}
	far := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	early := time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    incident.Filter
		want bool
	}{
		{"opened from the instant", incident.Filter{OpenedFrom: at}, true},
		{"opened from a nanosecond later", incident.Filter{OpenedFrom: at.Add(time.Nanosecond)}, false},
		{"opened before the instant", incident.Filter{OpenedBefore: at}, false},
		{"opened before a nanosecond later", incident.Filter{OpenedBefore: at.Add(time.Nanosecond)}, true},
		{"the same instant in another zone", incident.Filter{OpenedFrom: at.In(time.FixedZone("X", -7200))}, true},
		{"updated since the instant", incident.Filter{UpdatedSince: d.UpdatedAt}, true},
		{"updated since a nanosecond later", incident.Filter{UpdatedSince: d.UpdatedAt.Add(time.Nanosecond)}, false},
		{"an empty period", incident.Filter{OpenedFrom: at, OpenedBefore: at}, false},
		{"an inverted period", incident.Filter{OpenedFrom: at.Add(time.Hour), OpenedBefore: at.Add(-time.Hour)}, false},
		{"opened before year 300000", incident.Filter{OpenedBefore: far}, true},
		{"opened from year -5000", incident.Filter{OpenedFrom: early}, true},
		{"updated since year 300000", incident.Filter{UpdatedSince: far}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.f.Matches(&d))
			assert.Equal(t, tc.want, referenceMatches(tc.f, &d))
		})
	}
}

func TestFilterValidate(t *testing.T) {
	id := uuid.New()
	tests := []struct {
		name  string
		f     incident.Filter
		field string // "" when valid
	}{
		{"no filter", incident.Filter{}, ""},
		{"a service", incident.Filter{Service: itsm.Ref{Kind: itsm.KindService, ID: id}}, ""},
		{"far and inverted bounds", incident.Filter{OpenedFrom: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), OpenedBefore: time.Unix(0, 0)}, ""},
		{"text no store holds", incident.Filter{Caller: "\x00", Category: "\xff"}, ""},
		{"a service without an ID", incident.Filter{Service: itsm.Ref{Kind: itsm.KindService}}, "filter.service.id"},
		{"a service without a kind", incident.Filter{Service: itsm.Ref{ID: id}}, "filter.service.kind"},
		{"a malformed kind", incident.Filter{Service: itsm.Ref{Kind: "Service", ID: id}}, "filter.service.kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "%v", err)
		})
	}
}
