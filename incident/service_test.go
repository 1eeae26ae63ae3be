package incident_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/itsmtest/faults"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

var (
	monday9 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	agent   = itsm.Actor{ID: "ana", Name: "Ana", Roles: []string{incident.DefaultOverrideRole, incident.DefaultMajorRole}}
	caller  = itsm.Actor{ID: "bob", Name: "Bob"}
)

const tenant itsm.TenantID = "acme"

// deskAgreement has a response and a resolution target, paused while
// waiting, on 24×7 time.
func deskAgreement() sla.Agreement {
	return sla.Agreement{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA, Name: "Service desk",
		Targets: []sla.Target{
			{
				Metric: "response",
				Stop:   sla.StateIn(itsm.CategoryActive, itsm.CategoryWaiting, itsm.CategoryResolved, itsm.CategoryClosed),
				Cancel: sla.StateIn(itsm.CategoryCanceled),
				Goals:  []sla.Goal{{Name: "all", Within: time.Hour}},
			},
			{
				Metric: "resolution",
				Pause:  sla.StateIn(itsm.CategoryWaiting),
				Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
				Cancel: sla.StateIn(itsm.CategoryCanceled),
				Goals: []sla.Goal{
					{Name: "p1", When: sla.PriorityIn(1), Within: 4 * time.Hour},
					{Name: "other", When: sla.PriorityIn(2, 3, 4, 5), Within: 8 * time.Hour},
				},
			},
		},
	}
}

type desk struct {
	svc   *incident.Service
	store storage.Store
	clock *itsmtest.Clock
	inj   *faults.Injector
}

type deskOption func(*incident.Config)

func newDesk(t testing.TB, wrap bool, opts ...deskOption) *desk {
	t.Helper()
	var store storage.Store = memory.New()
	var inj *faults.Injector
	if wrap {
		store, inj = faults.Wrap(store)
	}
	cfg, err := storage.IncidentConfig(store)
	require.NoError(t, err)
	engine, err := sla.NewEngine([]sla.Agreement{deskAgreement()}, nil)
	require.NoError(t, err)
	clock := itsmtest.NewSteppingClock(monday9, time.Minute)
	cfg.Clock = clock.Func()
	cfg.IDs = itsmtest.NewIDs(42)
	cfg.SLA = engine
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := incident.NewService(cfg)
	require.NoError(t, err)
	return &desk{svc: svc, store: store, clock: clock, inj: inj}
}

func mailDown() incident.OpenInput {
	return incident.OpenInput{Title: "Mail is down", Caller: "bob", Impact: 2, Urgency: 1, Group: "messaging"}
}

func (d *desk) open(t testing.TB) *incident.Incident {
	t.Helper()
	res, err := d.svc.Open(context.Background(), tenant, agent, mailDown())
	require.NoError(t, err)
	return res.Incident
}

func eventTypes(evs []itsm.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Type)
	}
	return out
}

func outbox(t *testing.T, s storage.Store) []string {
	t.Helper()
	c, err := storage.Require[storage.OutboxConsumer](s)
	require.NoError(t, err)
	b, err := c.Claim(context.Background(), storage.ClaimRequest{Consumer: "test", Limit: 1000, Now: monday9.Add(365 * 24 * time.Hour), Lease: time.Minute})
	require.NoError(t, err)
	return eventTypes(b.Events)
}

func TestServiceLifecycleEndToEnd(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	res, err := d.svc.Open(ctx, tenant, agent, mailDown())
	require.NoError(t, err)
	inc := res.Incident
	assert.Equal(t, incident.Number("INC0000001"), inc.Number())
	assert.Equal(t, int64(1), inc.Version())
	assert.Equal(t, []string{"incident.opened", "sla.attached", "sla.attached"}, eventTypes(res.Events))
	id := inc.ID()

	steps := []struct {
		name string
		run  func() (incident.Result, error)
		want []string
	}{
		{"assign", func() (incident.Result, error) { return d.svc.Assign(ctx, tenant, id, agent, "", "ana", "") },
			[]string{"incident.assigned", "sla.completed"}},
		{"hold", func() (incident.Result, error) {
			return d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingCaller, "Which mailbox?")
		}, []string{"incident.held", "incident.commented", "sla.paused"}},
		{"caller replies", func() (incident.Result, error) {
			return d.svc.Comment(ctx, tenant, id, caller, "The sales one", incident.CallerComment)
		}, []string{"incident.resumed", "incident.commented", "sla.resumed"}},
		{"resolve", func() (incident.Result, error) {
			return d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay")
		}, []string{"incident.resolved", "sla.completed"}},
		{"close", func() (incident.Result, error) { return d.svc.Close(ctx, tenant, id, itsmtest.System(), "") },
			[]string{"incident.closed"}},
	}
	version := int64(1)
	for _, s := range steps {
		res, err := s.run()
		require.NoError(t, err, s.name)
		version++
		assert.Equal(t, s.want, eventTypes(res.Events), s.name)
		assert.Equal(t, version, res.Incident.Version(), s.name)
		for _, ev := range res.Events {
			assert.Equal(t, version, ev.Version, "%s: events carry the version they produced", s.name)
			require.NoError(t, ev.Validate())
		}
	}
	got, err := d.svc.GetByNumber(ctx, tenant, "INC0000001")
	require.NoError(t, err)
	assert.Equal(t, incident.StatusClosed, got.Status())
	data := got.Data()
	require.Len(t, data.SLA.Timers, 2)
	for _, tm := range data.SLA.Timers {
		assert.Equal(t, sla.StageCompleted, tm.Stage, tm.Metric)
		assert.False(t, tm.Breached, tm.Metric)
	}
	all := outbox(t, d.store)
	assert.Len(t, all, 3+2+3+3+2+1, "every event reached the outbox with its write")
}

func TestServiceRefusalsWriteNothing(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	inc := d.open(t)
	before, err := d.svc.Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	tests := []struct {
		name string
		run  func() error
		is   error
	}{
		{"empty title", func() error {
			_, err := d.svc.Open(ctx, tenant, agent, incident.OpenInput{Caller: "bob", Impact: 1, Urgency: 1})
			return err
		}, itsm.ErrInvalid},
		{"unknown impact", func() error {
			in := mailDown()
			in.Impact = 9
			_, err := d.svc.Open(ctx, tenant, agent, in)
			return err
		}, itsm.ErrInvalid},
		{"invalid UTF-8", func() error {
			in := mailDown()
			in.Description = "bad \xff byte"
			_, err := d.svc.Open(ctx, tenant, agent, in)
			return err
		}, itsm.ErrInvalid},
		{"1 MB description", func() error {
			s := strings.Repeat("x", 1<<20)
			_, err := d.svc.Update(ctx, tenant, inc.ID(), agent, incident.Update{Description: &s})
			return err
		}, itsm.ErrInvalid},
		{"control characters", func() error {
			s := "beep\x07"
			_, err := d.svc.Update(ctx, tenant, inc.ID(), agent, incident.Update{Title: &s})
			return err
		}, itsm.ErrInvalid},
		{"close before resolve", func() error { _, err := d.svc.Close(ctx, tenant, inc.ID(), agent, ""); return err }, itsm.ErrInvalidTransition},
		{"missing incident", func() error {
			other := itsmtest.MustID[incidentMarker](t, itsmtest.NewIDs(777))
			_, err := d.svc.Resume(ctx, tenant, incident.IDFromUUID(other.UUID()), agent, "")
			return err
		}, itsm.ErrNotFound},
		{"another tenant", func() error { _, err := d.svc.Resume(ctx, "globex", inc.ID(), agent, ""); return err }, itsm.ErrNotFound},
		{"invalid actor", func() error { _, err := d.svc.Assign(ctx, tenant, inc.ID(), itsm.Actor{}, "g", "", ""); return err }, itsm.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			after, err := d.svc.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			assert.Equal(t, before.Data(), after.Data())
		})
	}
	// Refused opens consumed no numbers.
	res, err := d.svc.Open(ctx, tenant, agent, mailDown())
	require.NoError(t, err)
	assert.Equal(t, incident.Number("INC0000002"), res.Incident.Number())
}

type incidentMarker struct{}

func (incidentMarker) RecordKind() itsm.Kind { return itsm.KindIncident }

func TestServiceAuthorizer(t *testing.T) {
	var seen []string
	d := newDesk(t, false, func(c *incident.Config) {
		c.Authorizer = incident.AuthorizerFunc(func(ctx context.Context, a incident.Authorization) error {
			seen = append(seen, a.Command)
			if a.Command == "resolve" && !a.Actor.HasRole("resolver") {
				return errors.New("only resolvers resolve")
			}
			return nil
		})
	})
	ctx := context.Background()
	inc := d.open(t)
	_, err := d.svc.Resolve(ctx, tenant, inc.ID(), agent, incident.ResolvedPermanently, "done")
	assert.ErrorIs(t, err, itsm.ErrForbidden)
	assert.Contains(t, err.Error(), "only resolvers resolve")
	got, _ := d.svc.Get(ctx, tenant, inc.ID())
	assert.Equal(t, incident.StatusNew, got.Status())
	resolver := agent
	resolver.Roles = append([]string{"resolver"}, agent.Roles...)
	_, err = d.svc.Resolve(ctx, tenant, inc.ID(), resolver, incident.ResolvedPermanently, "done")
	require.NoError(t, err)
	assert.Equal(t, []string{"open", "resolve", "resolve"}, seen)
}

// 32 goroutines comment on and escalate the same incident at once: every
// successful command is in the stored incident, none is lost.
func TestServiceConcurrentWritersLoseNoUpdate(t *testing.T) {
	d := newDesk(t, false, func(c *incident.Config) { c.MaxAttempts = 1000 })
	ctx := context.Background()
	inc := d.open(t)
	_, err := d.svc.Assign(ctx, tenant, inc.ID(), agent, "", "ana", "")
	require.NoError(t, err)
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		comments    int
		escalations int
	)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				var err error
				if (g+i)%2 == 0 {
					_, err = d.svc.Comment(ctx, tenant, inc.ID(), agent, "progress", incident.WorkNote)
				} else {
					_, err = d.svc.Escalate(ctx, tenant, inc.ID(), agent, incident.EscalateHierarchical, "", "still down")
				}
				if err != nil {
					continue
				}
				mu.Lock()
				if (g+i)%2 == 0 {
					comments++
				} else {
					escalations++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got, err := d.svc.Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	data := got.Data()
	assert.Equal(t, comments, len(data.Comments))
	assert.Equal(t, escalations, data.Escalations)
	assert.Equal(t, 160, comments+escalations, "with enough attempts every command lands")
	assert.Equal(t, int64(2+comments+escalations), got.Version(), "one version per command")
}

// A store that fails part way through a command leaves the incident fully
// before or fully after it, and the error names what failed.
func TestServiceFaultsLeaveNoHalfWrite(t *testing.T) {
	tests := []struct {
		name       string
		plan       func(inj *faults.Injector) error
		wantAfter  bool // the command took effect despite the error
		errContain string
	}{
		{"update fails", func(inj *faults.Injector) error { return inj.FailNth(faults.IncidentsUpdate, 1) }, false, "Incidents.Update"},
		{"outbox append fails", func(inj *faults.Injector) error { return inj.FailNth(faults.OutboxAppend, 1) }, false, "Outbox.Append"},
		{"transaction fails", func(inj *faults.Injector) error { return inj.FailNth(faults.InTx, 1) }, false, "InTx"},
		{"load times out", func(inj *faults.Injector) error { return inj.TimeoutNth(faults.IncidentsGet, 1) }, false, "Incidents.Get"},
		{"commit reported as timeout", func(inj *faults.Injector) error { return inj.TimeoutAfterWriteNth(faults.InTx, 1) }, true, "InTx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, true)
			ctx := context.Background()
			inc := d.open(t)
			before, err := d.svc.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			require.NoError(t, tc.plan(d.inj))
			_, err = d.svc.Resolve(ctx, tenant, inc.ID(), agent, incident.ResolvedPermanently, "done")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.errContain)
			assert.Contains(t, err.Error(), "resolve")
			after, err := d.svc.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			if tc.wantAfter {
				assert.Equal(t, incident.StatusResolved, after.Status())
				assert.Equal(t, before.Version()+1, after.Version())
				return
			}
			assert.Equal(t, before.Data(), after.Data())
			// The command succeeds once the fault is gone.
			_, err = d.svc.Resolve(ctx, tenant, inc.ID(), agent, incident.ResolvedPermanently, "done")
			require.NoError(t, err)
		})
	}
}

func TestServiceCascades(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	parent := d.open(t)
	var kids []*incident.Incident
	for i := 0; i < 3; i++ {
		kid := d.open(t)
		_, err := d.svc.LinkParent(ctx, tenant, kid.ID(), parent.ID(), agent)
		require.NoError(t, err)
		kids = append(kids, kid)
	}
	_, err := d.svc.Resolve(ctx, tenant, kids[2].ID(), agent, incident.ResolvedWorkaround, "rebooted")
	require.NoError(t, err)
	_, err = d.svc.Close(ctx, tenant, kids[2].ID(), agent, "")
	require.NoError(t, err)

	res, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingChange, "")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 3)
	assert.Equal(t, []incident.CascadeOutcome{incident.CascadeApplied, incident.CascadeApplied, incident.CascadeAlready},
		[]incident.CascadeOutcome{res.Cascade[0].Outcome, res.Cascade[1].Outcome, res.Cascade[2].Outcome})

	res, err = d.svc.Resolve(ctx, tenant, parent.ID(), agent, incident.ResolvedByChange, "CHG0000042 replaced the relay")
	require.NoError(t, err)
	for i, c := range res.Cascade {
		require.NoError(t, c.Err)
		got, err := d.svc.Get(ctx, tenant, c.Child)
		require.NoError(t, err)
		if i < 2 {
			assert.Equal(t, incident.CascadeApplied, c.Outcome)
			assert.Equal(t, incident.StatusResolved, got.Status())
		} else {
			assert.Equal(t, incident.CascadeAlready, c.Outcome)
			assert.Equal(t, incident.StatusClosed, got.Status(), "a closed child is never reopened")
		}
	}
	_, err = d.svc.Close(ctx, tenant, parent.ID(), agent, "")
	require.NoError(t, err)
	k0, _ := d.svc.Get(ctx, tenant, kids[0].ID())
	assert.Equal(t, incident.StatusResolved, k0.Status(), "closing a parent does not close its children")
}

func TestServiceRefusesParentCycles(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	a, b, c := d.open(t), d.open(t), d.open(t)
	_, err := d.svc.LinkParent(ctx, tenant, b.ID(), a.ID(), agent)
	require.NoError(t, err)
	_, err = d.svc.LinkParent(ctx, tenant, c.ID(), b.ID(), agent)
	require.NoError(t, err)
	_, err = d.svc.LinkParent(ctx, tenant, a.ID(), c.ID(), agent)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "parent", ve.Field)
	_, err = d.svc.LinkParent(ctx, tenant, a.ID(), a.ID(), agent)
	require.ErrorAs(t, err, &ve)
	got, _ := d.svc.Get(ctx, tenant, a.ID())
	assert.True(t, got.Parent().IsZero())
}

func TestServiceAdvanceSLARecordsBreaches(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	inc := d.open(t)
	data := inc.Data()
	next, ok := data.SLANextAt()
	require.True(t, ok)
	assert.Equal(t, monday9.Add(30*time.Minute), next, "the response target's 50% warning comes first")

	d.clock.Set(monday9.Add(2 * time.Hour))
	res, err := d.svc.AdvanceSLA(ctx, tenant, inc.ID(), itsmtest.System())
	require.NoError(t, err)
	types := eventTypes(res.Events)
	assert.Contains(t, types, "sla.breached")
	assert.True(t, func() bool { d := res.Incident.Data(); return d.SLABreached() }())

	breached := true
	page, err := d.svc.List(ctx, tenant, incident.Filter{SLABreached: &breached}, incident.Page{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)

	again, err := d.svc.AdvanceSLA(ctx, tenant, inc.ID(), itsmtest.System())
	require.NoError(t, err)
	assert.Empty(t, again.Events, "nothing new is due: thresholds never fire twice")
}

// drainOutbox acknowledges every event so that only incidents stay stored.
func drainOutbox(t testing.TB, d *desk) {
	t.Helper()
	c, err := storage.Require[storage.OutboxConsumer](d.store)
	require.NoError(t, err)
	for {
		b, err := c.Claim(context.Background(), storage.ClaimRequest{Consumer: "drain", Limit: storage.MaxClaimLimit, Now: monday9, Lease: time.Hour})
		require.NoError(t, err)
		if len(b.Events) == 0 {
			return
		}
		require.NoError(t, c.Ack(context.Background(), b.Lease, b.IDs()...))
	}
}

func TestClosableAt(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	desk, err := sla.NewSchedule(sla.CalendarSpec{
		Zone: "Europe/London", Week: sla.Weekdays(sla.Hours(sla.At(8, 0), sla.At(18, 0))),
		Holidays: []sla.Holiday{{Name: "Christmas", Yearly: &sla.YearlyRule{Month: time.December, Day: 25}}},
	})
	require.NoError(t, err)
	rule := incident.AutoClose{Days: 3, Calendar: desk, Location: london}
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, london) }
	tests := []struct {
		name     string
		resolved time.Time
		comment  time.Time
		reset    bool
		major    bool
		want     time.Time
	}{
		{"monday afternoon: closable friday morning", at(2026, 11, 23, 15), time.Time{}, false, false, at(2026, 11, 27, 8)},
		{"friday: weekends do not count", at(2026, 11, 27, 11), time.Time{}, false, false, at(2026, 12, 3, 8)},
		{"resolved on a saturday", at(2026, 11, 28, 11), time.Time{}, false, false, at(2026, 12, 3, 8)},
		{"christmas does not count", at(2026, 12, 23, 10), time.Time{}, false, false, at(2026, 12, 30, 8)},
		{"a later comment resets the count", at(2026, 11, 23, 15), at(2026, 11, 25, 9), true, false, at(2026, 12, 1, 8)},
		{"a later comment without reset", at(2026, 11, 23, 15), at(2026, 11, 25, 9), false, false, at(2026, 11, 27, 8)},
		{"accepted major incidents never", at(2026, 11, 23, 15), time.Time{}, false, true, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := incident.Data{ResolvedAt: itsm.Normalize(tc.resolved), Major: incident.Major{Status: incident.MajorNone}}
			if tc.major {
				d.Major.Status = incident.MajorAccepted
			}
			if !tc.comment.IsZero() {
				d.Comments = []incident.Comment{{At: itsm.Normalize(tc.comment), Text: "still broken?"}}
			}
			r := rule
			r.ResetOnActivity = tc.reset
			got, ok := incident.ClosableAt(&d, r)
			if tc.want.IsZero() {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want.UTC(), got)
		})
	}
	_, ok := incident.ClosableAt(&incident.Data{}, rule)
	assert.False(t, ok, "not resolved")
	closed := incident.Data{ResolvedAt: itsm.Normalize(at(2026, 11, 23, 15)), ClosedAt: itsm.Normalize(at(2026, 11, 24, 9)), Major: incident.Major{Status: incident.MajorNone}}
	_, ok = incident.ClosableAt(&closed, rule)
	assert.False(t, ok, "closed already: nothing left to close")
	assert.ErrorIs(t, incident.AutoClose{}.Validate(), itsm.ErrInvalid)
	// A host that ignored NewSchedule's error holds a nil *sla.Schedule:
	// refused, not a panic in ClosableAt.
	var failed *sla.Schedule
	nilCal := incident.AutoClose{Days: 3, Calendar: failed, Location: time.UTC}
	var ve *itsm.ValidationError
	require.ErrorAs(t, nilCal.Validate(), &ve)
	assert.True(t, ve.Has("auto_close.calendar"), "%v", ve)
	resolved := incident.Data{ResolvedAt: itsm.Normalize(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))}
	assert.NotPanics(t, func() {
		_, ok := incident.ClosableAt(&resolved, nilCal)
		assert.False(t, ok)
	})
}

// A second host whose clock is a little behind acts after a comment: what
// it records and emits (history, comments, UpdatedAt, incident and SLA
// events) is stamped no earlier than the comment.
func TestServiceInstantsNeverGoBackAfterAComment(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context, d *desk, id incident.ID) (incident.Result, error)
	}{
		{"a second comment", func(ctx context.Context, d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Comment(ctx, tenant, id, agent, "second", incident.WorkNote)
		}},
		{"a hold that pauses an SLA timer", func(ctx context.Context, d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingVendor, "")
		}},
		{"a resolution that stops the timers", func(ctx context.Context, d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, false)
			ctx := context.Background()
			inc := d.open(t) // 09:00
			d.clock.SetStep(0)
			d.clock.Set(monday9.Add(10 * time.Minute))
			first, err := d.svc.Comment(ctx, tenant, inc.ID(), agent, "first", incident.WorkNote)
			require.NoError(t, err)
			commented := first.Incident.Data().UpdatedAt
			d.clock.Set(monday9.Add(9 * time.Minute)) // a second host, one minute behind
			res, err := tc.run(ctx, d, inc.ID())
			require.NoError(t, err)

			data := res.Incident.Data()
			assert.Equal(t, commented, data.UpdatedAt, "UpdatedAt went back")
			for k := range data.Comments {
				if k > 0 {
					assert.False(t, data.Comments[k].At.Before(data.Comments[k-1].At), "comments[%d] went back", k)
				}
			}
			// The events are the command's new entries and comments, and
			// the SLA events it caused.
			require.NotEmpty(t, res.Events)
			for _, ev := range res.Events {
				assert.False(t, ev.At.Before(commented), "%s at %v, before the comment", ev.Type, ev.At)
			}
		})
	}
}

// Chile moves its clocks forward at local midnight: 2026-09-06 has no
// 00:00 in America/Santiago (it starts at 01:00). Counting dates across
// that one must neither stall on it nor skip it.
func TestClosableAtAcrossAMidnightClockChange(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	weekdays, err := sla.NewSchedule(sla.CalendarSpec{
		Zone: "America/Santiago", Week: sla.Weekdays(sla.Hours(sla.At(8, 0), sla.At(18, 0))),
	})
	require.NoError(t, err)
	at := func(d, h int) time.Time { return time.Date(2026, 9, d, h, 0, 0, 0, santiago) }
	tests := []struct {
		name     string
		calendar sla.Calendar
		resolved time.Time
		days     int
		want     time.Time
	}{
		// Thursday 3 Sep; Fri 4, Mon 7 and Tue 8 count: Wednesday's opening.
		{"weekday desk over the weekend of the change", weekdays, at(3, 15), 3, at(9, 8)},
		// Fri 4, Sat 5 and Sun 6 (23 hours long) count: Monday's first instant.
		{"every hour: the short date counts", sla.Always(santiago), at(3, 15), 3, at(7, 0)},
		// Sat 5 ends at the jump: Sunday 6 begins at 01:00.
		{"every hour: closable when the short date begins", sla.Always(santiago), at(4, 15), 1, at(6, 1)},
		{"resolved on the short date", sla.Always(santiago), at(6, 10), 1, at(8, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := incident.Data{ResolvedAt: itsm.Normalize(tc.resolved), Major: incident.Major{Status: incident.MajorNone}}
			got, ok := incident.ClosableAt(&d, incident.AutoClose{Days: tc.days, Calendar: tc.calendar, Location: santiago})
			require.True(t, ok)
			assert.Equal(t, tc.want.UTC(), got)
		})
	}
}

// Two incidents linked to each other at the same time: at most one link may
// land, and the stored chain never holds a cycle.
func TestServiceConcurrentLinksNeverMakeACycle(t *testing.T) {
	d := newDesk(t, false, func(c *incident.Config) { c.MaxAttempts = 100 })
	ctx := context.Background()
	for round := 0; round < 50; round++ {
		a, b := d.open(t), d.open(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]incident.ID{{a.ID(), b.ID()}, {b.ID(), a.ID()}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = d.svc.LinkParent(ctx, tenant, pair[0], pair[1], agent)
			}()
		}
		wg.Wait()
		require.False(t, errs[0] == nil && errs[1] == nil, "round %d: both links landed", round)
		ga, _ := d.svc.Get(ctx, tenant, a.ID())
		gb, _ := d.svc.Get(ctx, tenant, b.ID())
		require.False(t, ga.Parent() == b.ID() && gb.Parent() == a.ID(), "round %d: a cycle was stored", round)
	}
}

func TestServiceCascadeReachesGrandchildrenAndCompletes(t *testing.T) {
	d := newDesk(t, true)
	ctx := context.Background()
	root, child, grandchild := d.open(t), d.open(t), d.open(t)
	_, err := d.svc.LinkParent(ctx, tenant, child.ID(), root.ID(), agent)
	require.NoError(t, err)
	_, err = d.svc.LinkParent(ctx, tenant, grandchild.ID(), child.ID(), agent)
	require.NoError(t, err)

	// The grandchild's save fails: the cascade stops there, reporting it.
	require.NoError(t, d.inj.FailNth(faults.IncidentsUpdate, 3)) // root, child, then grandchild
	res, err := d.svc.Resolve(ctx, tenant, root.ID(), agent, incident.ResolvedPermanently, "Core switch replaced")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 2)
	assert.Equal(t, incident.CascadeApplied, res.Cascade[0].Outcome)
	assert.NotEmpty(t, res.Cascade[0].Events, "the child's events are reported")
	assert.Equal(t, child.ID(), res.Cascade[1].Parent)
	require.Error(t, res.Cascade[1].Err)
	gc, _ := d.svc.Get(ctx, tenant, grandchild.ID())
	assert.Equal(t, incident.StatusNew, gc.Status())

	// Cascade completes it, and is harmless to run again.
	res, err = d.svc.Cascade(ctx, tenant, root.ID(), agent)
	require.NoError(t, err)
	require.Len(t, res.Cascade, 2)
	assert.Equal(t, incident.CascadeAlready, res.Cascade[0].Outcome)
	assert.Equal(t, incident.CascadeApplied, res.Cascade[1].Outcome)
	gc, _ = d.svc.Get(ctx, tenant, grandchild.ID())
	assert.Equal(t, incident.StatusResolved, gc.Status())
	res, err = d.svc.Cascade(ctx, tenant, root.ID(), agent)
	require.NoError(t, err)
	for _, c := range res.Cascade {
		assert.Equal(t, incident.CascadeAlready, c.Outcome)
		assert.Empty(t, c.Events)
	}
}

func TestServiceDueForAutoCloseListsTheLongestResolvedFirst(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	first, second, third := d.open(t), d.open(t), d.open(t)
	for _, inc := range []*incident.Incident{third, first} {
		_, err := d.svc.Resolve(ctx, tenant, inc.ID(), agent, incident.ResolvedPermanently, "done")
		require.NoError(t, err)
	}
	rule := incident.AutoClose{Days: 1, Calendar: sla.Always(time.UTC), Location: time.UTC}
	due, err := d.svc.DueForAutoClose(ctx, tenant, monday9.AddDate(0, 0, 3), rule)
	require.NoError(t, err)
	var got []incident.ID
	for _, x := range due {
		got = append(got, x.ID)
	}
	assert.Equal(t, []incident.ID{third.ID(), first.ID()}, got, "by resolution, not by opening; %s is not resolved", second.Number())
}

// Cascade again after someone set a child apart from its parent: the child
// is left as they made it.
func TestServiceCascadeLeavesLaterDecisionsAlone(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// cascade moves the parent and its children together; differ then
		// takes the child out of the cascaded state by hand.
		cascade func(d *desk, parent incident.ID) error
		differ  func(d *desk, child incident.ID) error
		want    incident.Status
	}{
		{
			name: "a child reopened after its parent was resolved",
			cascade: func(d *desk, parent incident.ID) error {
				_, err := d.svc.Resolve(ctx, tenant, parent, agent, incident.ResolvedPermanently, "Core switch replaced")
				return err
			},
			differ: func(d *desk, child incident.ID) error {
				_, err := d.svc.Reopen(ctx, tenant, child, agent, "this printer is still down")
				return err
			},
			want: incident.StatusInProgress,
		},
		{
			name: "a child resumed after its parent went on hold",
			cascade: func(d *desk, parent incident.ID) error {
				_, err := d.svc.Hold(ctx, tenant, parent, agent, incident.HoldAwaitingVendor, "")
				return err
			},
			differ: func(d *desk, child incident.ID) error {
				_, err := d.svc.Resume(ctx, tenant, child, agent, "a local workaround needs no vendor")
				return err
			},
			want: incident.StatusInProgress,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, false)
			parent, child, other := d.open(t), d.open(t), d.open(t)
			for _, kid := range []*incident.Incident{child, other} {
				_, err := d.svc.LinkParent(ctx, tenant, kid.ID(), parent.ID(), agent)
				require.NoError(t, err)
				_, err = d.svc.Assign(ctx, tenant, kid.ID(), agent, "network", "ana", "")
				require.NoError(t, err)
			}
			require.NoError(t, tc.cascade(d, parent.ID()))
			require.NoError(t, tc.differ(d, child.ID()))

			res, err := d.svc.Cascade(ctx, tenant, parent.ID(), agent)
			require.NoError(t, err)
			outcomes := map[incident.ID]incident.CascadeOutcome{}
			for _, c := range res.Cascade {
				require.NoError(t, c.Err)
				outcomes[c.Child] = c.Outcome
			}
			assert.Equal(t, map[incident.ID]incident.CascadeOutcome{
				child.ID(): incident.CascadeSkipped, other.ID(): incident.CascadeAlready,
			}, outcomes)
			got, err := d.svc.Get(ctx, tenant, child.ID())
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Status(), "the child stays where it was set")
		})
	}
	t.Run("a new cascade after the parent moves again reaches the child", func(t *testing.T) {
		d := newDesk(t, false)
		parent, child := d.open(t), d.open(t)
		_, err := d.svc.LinkParent(ctx, tenant, child.ID(), parent.ID(), agent)
		require.NoError(t, err)
		_, err = d.svc.Resolve(ctx, tenant, parent.ID(), agent, incident.ResolvedPermanently, "first fix")
		require.NoError(t, err)
		_, err = d.svc.Reopen(ctx, tenant, child.ID(), agent, "still down")
		require.NoError(t, err)
		_, err = d.svc.Reopen(ctx, tenant, parent.ID(), agent, "the fix did not hold")
		require.NoError(t, err)
		res, err := d.svc.Resolve(ctx, tenant, parent.ID(), agent, incident.ResolvedPermanently, "second fix")
		require.NoError(t, err)
		require.Len(t, res.Cascade, 1)
		assert.Equal(t, incident.CascadeApplied, res.Cascade[0].Outcome, "reopened before this resolution")
	})
}

// A parent whose wait changes carries the children waiting with it along;
// a child waiting for its own caller keeps its reason.
func TestServiceHoldCascadeFollowsTheParentsReason(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, false)
	parent, follower, own := d.open(t), d.open(t), d.open(t)
	for _, kid := range []*incident.Incident{follower, own} {
		_, err := d.svc.LinkParent(ctx, tenant, kid.ID(), parent.ID(), agent)
		require.NoError(t, err)
	}
	_, err := d.svc.Hold(ctx, tenant, own.ID(), agent, incident.HoldAwaitingCaller, "Which floor is the printer on?")
	require.NoError(t, err)
	_, err = d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)

	res, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingChange, "")
	require.NoError(t, err)
	outcomes := map[incident.ID]incident.CascadeOutcome{}
	for _, c := range res.Cascade {
		require.NoError(t, c.Err)
		outcomes[c.Child] = c.Outcome
	}
	assert.Equal(t, map[incident.ID]incident.CascadeOutcome{
		follower.ID(): incident.CascadeApplied, own.ID(): incident.CascadeAlready,
	}, outcomes)
	for id, want := range map[incident.ID]incident.HoldReason{follower.ID(): incident.HoldAwaitingChange, own.ID(): incident.HoldAwaitingCaller} {
		got, err := d.svc.Get(ctx, tenant, id)
		require.NoError(t, err)
		assert.Equal(t, want, got.Data().HoldReason)
	}

	// Running it again changes nothing.
	res, err = d.svc.Cascade(ctx, tenant, parent.ID(), agent)
	require.NoError(t, err)
	for _, c := range res.Cascade {
		assert.Equal(t, incident.CascadeAlready, c.Outcome)
		assert.Empty(t, c.Events)
	}
}

func TestServiceLinksToProblemsAndChanges(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	inc := d.open(t)
	problem := itsm.Ref{Kind: itsm.KindProblem, ID: inc.ID().UUID()}
	res, err := d.svc.LinkProblem(ctx, tenant, inc.ID(), agent, problem)
	require.NoError(t, err)
	assert.Equal(t, problem, res.Incident.Data().Problem)
	assert.Equal(t, []string{"incident.problem_linked"}, eventTypes(res.Events)[:1])
	_, err = d.svc.LinkChange(ctx, tenant, inc.ID(), agent, problem)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "change.kind", ve.Field)
	res, err = d.svc.LinkProblem(ctx, tenant, inc.ID(), agent, itsm.Ref{})
	require.NoError(t, err)
	assert.True(t, res.Incident.Data().Problem.IsZero())
}

func TestServiceMoreGuards(t *testing.T) {
	ctx := context.Background()
	t.Run("a partly filled policy is validated, not replaced", func(t *testing.T) {
		cfg, err := storage.IncidentConfig(memory.New())
		require.NoError(t, err)
		cfg.Clock, cfg.IDs = itsmtest.NewClock(monday9).Func(), itsmtest.NewIDs(1)
		cfg.Policy = incident.Policy{OverrideRole: "admin", ReopenClosedWithin: 72 * time.Hour}
		_, err = incident.NewService(cfg)
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.True(t, ve.Has("policy.lifecycle"))
	})
	t.Run("advance without an engine still asks the authorizer", func(t *testing.T) {
		d := newDesk(t, false, func(c *incident.Config) {
			c.SLA = nil
			c.Authorizer = incident.AuthorizerFunc(func(ctx context.Context, a incident.Authorization) error {
				if a.Command == "advance_sla" {
					return errors.New("no")
				}
				return nil
			})
		})
		inc := d.open(t)
		_, err := d.svc.AdvanceSLA(ctx, tenant, inc.ID(), agent)
		assert.ErrorIs(t, err, itsm.ErrForbidden)
	})
	t.Run("a question to the caller is the first response", func(t *testing.T) {
		d := newDesk(t, false)
		inc := d.open(t)
		res, err := d.svc.Hold(ctx, tenant, inc.ID(), agent, incident.HoldAwaitingCaller, "Which mailbox?")
		require.NoError(t, err)
		asked := res.Incident.Data().FirstResponseAt
		require.False(t, asked.IsZero())
		res, err = d.svc.Comment(ctx, tenant, inc.ID(), caller, "sales", incident.CallerComment)
		require.NoError(t, err)
		assert.Equal(t, asked, res.Incident.Data().FirstResponseAt, "the caller's reply is not the response")
	})
	t.Run("a retried hold with the same question adds nothing", func(t *testing.T) {
		d := newDesk(t, false)
		inc := d.open(t)
		_, err := d.svc.Hold(ctx, tenant, inc.ID(), agent, incident.HoldAwaitingCaller, "Which mailbox?")
		require.NoError(t, err)
		res, err := d.svc.Hold(ctx, tenant, inc.ID(), agent, incident.HoldAwaitingCaller, "Which mailbox?")
		require.NoError(t, err)
		assert.Empty(t, res.Events)
		assert.Len(t, res.Incident.Data().Comments, 1)
	})
	t.Run("reopening a major incident asks for a new review", func(t *testing.T) {
		d := newDesk(t, false)
		inc := d.open(t)
		id := inc.ID()
		for _, step := range []func() (incident.Result, error){
			func() (incident.Result, error) { return d.svc.ProposeMajor(ctx, tenant, id, agent, "big") },
			func() (incident.Result, error) { return d.svc.AcceptMajor(ctx, tenant, id, agent, "carol") },
			func() (incident.Result, error) {
				return d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "fixed")
			},
			func() (incident.Result, error) { return d.svc.ReviewMajor(ctx, tenant, id, agent, "lessons") },
			func() (incident.Result, error) { return d.svc.Reopen(ctx, tenant, id, caller, "broken again") },
			func() (incident.Result, error) {
				return d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "fixed again")
			},
		} {
			_, err := step()
			require.NoError(t, err)
		}
		_, err := d.svc.Close(ctx, tenant, id, agent, "")
		assert.ErrorIs(t, err, itsm.ErrInvalidTransition)
	})
}

func TestServiceRecordsImpactedServices(t *testing.T) {
	reg := cmdb.NewRegistry()
	g, err := cmdb.NewGraph(reg, tenant)
	require.NoError(t, err)
	gen := itsmtest.NewIDs(5)
	clock := itsm.Clock(func() time.Time { return monday9 })
	ci := func(name string, class cmdb.ClassName) cmdb.ID {
		c, err := reg.Make(gen, clock, cmdb.NewCI{Tenant: tenant, Class: class, Name: name})
		require.NoError(t, err)
		require.NoError(t, g.AddCI(c))
		return c.ID
	}
	shop, app, db := ci("shop", cmdb.ClassBusinessService), ci("shop-app", cmdb.ClassApplication), ci("orders-vm", cmdb.ClassNetworkDevice)
	for _, r := range [][2]cmdb.ID{{shop, app}, {app, db}} {
		rid, err := cmdb.NewRelationshipID(gen)
		require.NoError(t, err)
		require.NoError(t, g.AddRelationship(cmdb.Relationship{ID: rid, Tenant: tenant, Type: cmdb.RelDependsOn, From: r[0], To: r[1], Created: monday9}))
	}
	d := newDesk(t, false, func(c *incident.Config) {
		c.Impact = func(ctx context.Context, tn itsm.TenantID, cis []itsm.Ref) ([]itsm.Ref, error) {
			return g.ImpactedServices(cis)
		}
	})
	ctx := context.Background()
	in := mailDown()
	in.CIs = []itsm.Ref{db.Ref()}
	res, err := d.svc.Open(ctx, tenant, agent, in)
	require.NoError(t, err)
	assert.Equal(t, []itsm.Ref{shop.Ref()}, res.Incident.ImpactedServices())

	none := []itsm.Ref{}
	res, err = d.svc.Update(ctx, tenant, res.Incident.ID(), agent, incident.Update{CIs: &none})
	require.NoError(t, err)
	assert.Empty(t, res.Incident.ImpactedServices())
	h := res.Incident.History()
	assert.Contains(t, h[len(h)-1].Changes, incident.FieldChange{Field: "impacted_services", From: shop.Ref().String()})
}

// TestServiceSLAConditionsReadIncidentFields checks that agreements whose
// conditions read the incident's fields ("fields.<name>") and custom fields
// ("fields.custom.<name>") see them: the service passes only the fields
// some condition reads.
func TestServiceSLAConditionsReadIncidentFields(t *testing.T) {
	vip := sla.Agreement{
		ID: "vip", Version: 1, Kind: itsm.AgreementSLA,
		Scope: sla.FieldIs("fields.custom.segment", "vip"),
		Targets: []sla.Target{{
			Metric: "resolution",
			Pause:  sla.FieldIs("fields.group", "vendor-queue"),
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals:  []sla.Goal{{Name: "all", Within: 2 * time.Hour}},
		}},
	}
	engine, err := sla.NewEngine([]sla.Agreement{vip}, nil)
	require.NoError(t, err)
	d := newDesk(t, false, func(c *incident.Config) { c.SLA = engine })
	ctx := context.Background()

	in := mailDown()
	in.Custom = map[string]string{"segment": "vip", "site": "hq"}
	res, err := d.svc.Open(ctx, tenant, agent, in)
	require.NoError(t, err)
	timers := res.Incident.SLA().Timers
	require.Len(t, timers, 1)
	assert.Equal(t, sla.StageRunning, timers[0].Stage)

	res, err = d.svc.Assign(ctx, tenant, res.Incident.ID(), agent, "vendor-queue", "", "")
	require.NoError(t, err)
	assert.Equal(t, sla.StagePaused, res.Incident.SLA().Timers[0].Stage)

	plain, err := d.svc.Open(ctx, tenant, agent, mailDown())
	require.NoError(t, err)
	assert.Empty(t, plain.Incident.SLA().Timers, "out of the agreement's scope")
}
