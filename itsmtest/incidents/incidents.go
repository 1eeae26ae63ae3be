package incidents

import (
	"fmt"
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/sla"
)

// Start is the instant built incidents open at, unless At says otherwise:
// Monday 2026-01-05 09:00 UTC.
var Start = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)

// spec collects the options.
type spec struct {
	tenant itsm.TenantID
	id     incident.ID
	seed   uint64
	number int64
	in     incident.OpenInput
	at     time.Time
	step   time.Duration
	path   []string
	hold   incident.HoldReason
	engine *sla.Engine
	policy incident.Policy
}

// Option adjusts what Data builds.
type Option func(*spec)

// Tenant sets the tenant (default "acme").
func Tenant(t itsm.TenantID) Option { return func(s *spec) { s.tenant = t } }

// ID sets the incident's ID (default: drawn from a generator seeded by Seed).
func ID(id incident.ID) Option { return func(s *spec) { s.id = id } }

// Seed seeds the ID generator (default 1): different seeds, different IDs.
func Seed(seed uint64) Option { return func(s *spec) { s.seed = seed } }

// Number sets the sequence value of the number, INC0000042 for 42
// (default 1).
func Number(n int64) Option { return func(s *spec) { s.number = n } }

// Priority sets impact and urgency (default 2 and 2, priority 3 on the
// default matrix).
func Priority(impact itsm.Impact, urgency itsm.Urgency) Option {
	return func(s *spec) { s.in.Impact, s.in.Urgency = impact, urgency }
}

// Title sets the title.
func Title(title string) Option { return func(s *spec) { s.in.Title = title } }

// Group sets the assignment group (default "service-desk").
func Group(group string) Option { return func(s *spec) { s.in.Group = group } }

// Custom sets a custom field.
func Custom(name, value string) Option {
	return func(s *spec) {
		if s.in.Custom == nil {
			s.in.Custom = map[string]string{}
		}
		s.in.Custom[name] = value
	}
}

// At sets when the incident opens; each later step follows a minute after
// the one before (see Step).
func At(t time.Time) Option { return func(s *spec) { s.at = t } }

// Step sets the time between successive steps of the history (default one
// minute).
func Step(d time.Duration) Option { return func(s *spec) { s.step = d } }

// SLA attaches timers from engine as the history is replayed.
func SLA(engine *sla.Engine) Option { return func(s *spec) { s.engine = engine } }

// Assigned ends the history In Progress, assigned to assignee.
func Assigned(assignee string) Option {
	return func(s *spec) { s.in.Assignee = assignee; s.path = []string{"in_progress"} }
}

// OnHold ends the history On Hold for reason.
func OnHold(reason incident.HoldReason) Option {
	return func(s *spec) { s.hold = reason; s.path = []string{"in_progress", "on_hold"} }
}

// Resolved ends the history Resolved.
func Resolved() Option { return func(s *spec) { s.path = []string{"in_progress", "resolved"} } }

// Closed ends the history Closed.
func Closed() Option {
	return func(s *spec) { s.path = []string{"in_progress", "resolved", "closed"} }
}

// Canceled ends the history Canceled.
func Canceled() Option { return func(s *spec) { s.path = []string{"canceled"} } }

// Reopened resolves the incident and reopens it, ending In Progress with one
// reopen.
func Reopened() Option {
	return func(s *spec) { s.path = []string{"in_progress", "resolved", "in_progress"} }
}

// Data builds a valid incident as stored data: version 0, ready for
// Repository.Create. It fails the test when the options cannot make a valid
// incident.
func Data(tb testing.TB, opts ...Option) incident.Data {
	tb.Helper()
	d, err := Build(opts...)
	if err != nil {
		tb.Fatalf("incidents: %v", err)
	}
	return d
}

// Build is Data for code without a testing.TB (examples, benchmarks'
// setup, fixtures in main packages). It returns an error when the options
// cannot make a valid incident.
func Build(opts ...Option) (incident.Data, error) {
	s := spec{
		tenant: "acme", seed: 1, number: 1, at: Start, step: time.Minute,
		in: incident.OpenInput{
			Title: "Printer on floor 3 is offline", Caller: "caller-1", Channel: incident.ChannelPortal,
			Impact: 2, Urgency: 2, Group: "service-desk",
		},
		policy: incident.DefaultPolicy(),
	}
	for _, o := range opts {
		o(&s)
	}
	if s.id.IsZero() {
		id, err := incident.NewID(itsmtest.NewIDs(s.seed))
		if err != nil {
			return incident.Data{}, fmt.Errorf("drawing an ID: %w", err)
		}
		s.id = id
	}
	states := map[string]incident.Status{}
	for _, st := range s.policy.Lifecycle.States() {
		states[string(st)] = st
	}
	mapping := incident.Mapping{States: states, DefaultHoldReason: s.hold}
	if s.hold != "" {
		mapping.HoldReasons = map[string]incident.HoldReason{string(s.hold): s.hold}
	}
	history := []incident.Recorded{{At: s.at, State: string(incident.StatusNew)}}
	at := s.at
	for _, step := range s.path {
		at = at.Add(s.step)
		r := incident.Recorded{At: at, State: step}
		if step == "on_hold" {
			r.HoldReason = string(s.hold)
		}
		if step == "in_progress" && s.in.Assignee == "" {
			r.Assignee = "agent-1"
		}
		history = append(history, r)
	}
	res, err := incident.Replay(s.policy, s.engine, s.id, s.tenant, incident.FormatNumber(s.policy.NumberPrefix, s.number), s.in, history, mapping)
	if err != nil {
		return incident.Data{}, fmt.Errorf("building: %w", err)
	}
	if len(res.Refused) > 0 {
		return incident.Data{}, fmt.Errorf("the history was refused: %+v", res.Refused)
	}
	d := res.Incident.Data()
	if _, err := incident.Restore(s.policy, d); err != nil {
		return incident.Data{}, fmt.Errorf("built an invalid incident: %w", err)
	}
	return d, nil
}

// OpenInput returns a valid input for Service.Open, with the title numbered
// n so that inputs differ.
func OpenInput(n int) incident.OpenInput {
	return incident.OpenInput{
		Title: fmt.Sprintf("Incident %d: mail does not arrive", n), Caller: fmt.Sprintf("caller-%d", n%50),
		Channel: incident.ChannelEmail, Impact: itsm.Impact(1 + n%3), Urgency: itsm.Urgency(1 + (n/3)%3),
		Group: []string{"service-desk", "network", "messaging"}[n%3],
	}
}
