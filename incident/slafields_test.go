package incident_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

var mailService = itsm.Ref{Kind: itsm.KindService, ID: uuid.MustParse("0190a0b0-0000-7000-8000-00000000000a")}

// scoped is an agreement whose scope is c and whose one target's goal
// applies when goal holds (nil: always).
func scoped(c, goal *sla.Condition) sla.Agreement {
	return sla.Agreement{
		ID: "a", Version: 1, Kind: itsm.AgreementSLA, Scope: c,
		Targets: []sla.Target{{
			Metric: "resolution", Stop: sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals: []sla.Goal{{Name: "g", When: goal, Within: time.Hour}},
		}},
	}
}

// TestNewServiceRefusesSLAConditionsOnWhatIsNeverSupplied checks that an
// SLA engine whose conditions read a field the service never supplies, or
// compare the service with something other than itsm.Ref text, is refused
// by NewService, naming the agreement, the condition and what exists;
// before, such a condition was accepted and silently never held.
func TestNewServiceRefusesSLAConditionsOnWhatIsNeverSupplied(t *testing.T) {
	tests := []struct {
		name  string
		scope *sla.Condition
		goal  *sla.Condition
		// problems is how many the error lists (0: accepted); want
		// holds parts of its message.
		problems int
		want     []string
	}{
		{name: "a custom field", scope: sla.FieldIs("fields.custom.vip", "yes")},
		{name: "every built-in field", scope: sla.AllOf(
			sla.FieldIs("fields.status", "new"), sla.FieldIs("fields.subcategory", "smtp"), sla.FieldIs("fields.channel", "email"),
			sla.FieldIs("fields.group", "network"), sla.FieldIs("fields.assignee", "ana"), sla.FieldIs("fields.hold_reason", "awaiting_vendor"),
			sla.FieldIs("fields.major", "accepted"), &sla.Condition{Field: "fields.reopens", Op: sla.OpGE, Values: []string{"1"}},
			sla.FieldIs("fields.responded", "true"), sla.FieldChanged("fields.group"),
		)},
		{name: "the service as ref text", scope: sla.ServiceIs(mailService)},
		{name: "the service present", scope: &sla.Condition{Field: "service", Op: sla.OpExists}},
		{name: "the observation's own fields", scope: sla.AllOf(sla.FieldIs("category", "mail"), sla.PriorityIn(1), sla.StateIn(itsm.CategoryNew))},
		{name: "responded not true", scope: &sla.Condition{Field: "fields.responded", Op: sla.OpNotIn, Values: []string{"true"}}},
		{
			name:     "a custom field without custom.",
			scope:    sla.FieldIs("fields.vip", "yes"),
			problems: 1,
			want:     []string{`agreement "a" version 1, scope: fields.vip in ["yes"]`, `never supplies the field "fields.vip"`, "fields.custom.vip", "fields.custom.<name>", "fields.responded"},
		},
		{
			name:     "the service as a bare UUID",
			goal:     sla.FieldIs("service", mailService.ID.String()),
			problems: 1,
			want:     []string{`targets[0].goals[0].when: service in`, mailService.ID.String(), "itsm.Ref text", "sla.ServiceIs"},
		},
		{
			name:     "the service in upper case",
			scope:    sla.FieldIs("service", strings.ToUpper(mailService.String())),
			problems: 1,
			want:     []string{"itsm.Ref text"},
		},
		{
			name:     "the service compared as a number",
			scope:    &sla.Condition{Field: "service", Op: sla.OpGT, Values: []string{"1"}},
			problems: 1,
			want:     []string{"never an integer"},
		},
		{
			name:     "a custom field name that is no slug",
			scope:    sla.FieldIs("fields.custom.VIP", "yes"),
			problems: 1,
			want:     []string{`"VIP" is not a custom field name`},
		},
		{
			name:     "responded compared with another value",
			scope:    sla.FieldIs("fields.responded", "yes"),
			problems: 1,
			want:     []string{`"true" once the incident has its first response`, `never "yes"`},
		},
		{
			name:     "a hold reason without its prefix",
			scope:    sla.FieldIs("fields.hold_reason", "vendor"),
			problems: 1,
			want:     []string{`fields.hold_reason is never "vendor"`, "awaiting_vendor"},
		},
		{
			name:     "a status the lifecycle lacks",
			scope:    sla.FieldIs("fields.status", "work_in_progress"),
			problems: 1,
			want:     []string{`fields.status is never "work_in_progress"`, `lifecycle "incident"`},
		},
		{
			name:     "an undeclared channel and major status",
			scope:    sla.AnyOf(sla.FieldIs("fields.channel", "fax"), sla.FieldIs("fields.major", "canceled")),
			problems: 2,
			want:     []string{`fields.channel is never "fax"`, `fields.major is never "canceled"`},
		},
		{
			name:     "a reopen count that is no integer",
			scope:    sla.FieldIs("fields.reopens", "once"),
			problems: 1,
			want:     []string{`fields.reopens is never "once"; it is an integer`},
		},
		{
			name:     "a text field ordered like a number",
			scope:    &sla.Condition{Field: "fields.status", Op: sla.OpGE, Values: []string{"1"}},
			problems: 1,
			want:     []string{"fields.status is text, never a number to order"},
		},
		{
			name:     "every problem is listed",
			scope:    sla.AnyOf(sla.FieldIs("fields.tier", "gold"), sla.Not(sla.FieldIs("fields.custom.site", "hq"))),
			goal:     sla.FieldChanged("fields.queue"),
			problems: 2,
			want:     []string{`scope.any[0]: fields.tier`, `targets[0].goals[0].when: fields.queue changed`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			engine, err := sla.NewEngine([]sla.Agreement{scoped(tc.scope, tc.goal)}, nil)
			require.NoError(t, err, "the sla package accepts the condition: only the incident service knows its names")
			cfg, err := storage.IncidentConfig(memory.New())
			require.NoError(t, err)
			cfg.Clock, cfg.IDs, cfg.SLA = func() time.Time { return monday9 }, itsm.UUIDv7Generator(), engine
			svc, err := incident.NewService(cfg)
			if tc.problems == 0 {
				require.NoError(t, err)
				assert.NotNil(t, svc)
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.All(), tc.problems, err.Error())
			for _, f := range ve.All() {
				assert.Equal(t, "sla", f.Field)
			}
			msg := err.Error()
			for _, part := range tc.want {
				assert.Contains(t, msg, part)
			}
		})
	}
}

// respondedAgreement measures the response as the desk example does: until
// the incident records its first response, or is resolved.
func respondedAgreement() sla.Agreement {
	return sla.Agreement{
		ID: "response", Version: 1, Kind: itsm.AgreementSLA,
		Targets: []sla.Target{{
			Metric: "response",
			Stop:   sla.AnyOf(sla.FieldIs("fields.responded", "true"), sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed)),
			Cancel: sla.StateIn(itsm.CategoryCanceled),
			Goals:  []sla.Goal{{Name: "all", Within: time.Hour}},
		}},
	}
}

func responseTimer(t *testing.T, inc *incident.Incident) sla.Timer {
	t.Helper()
	for _, tm := range inc.SLA().Timers {
		if tm.Metric == "response" {
			return tm
		}
	}
	t.Fatalf("%s has no response timer", inc.Number())
	return sla.Timer{}
}

// TestResponseTargetStopsAtTheFirstResponse checks that a response target
// stopping on fields.responded completes exactly when the incident records
// its first response (FirstResponseAt), and not on a hold without a
// comment, which records none.
func TestResponseTargetStopsAtTheFirstResponse(t *testing.T) {
	engine, err := sla.NewEngine([]sla.Agreement{respondedAgreement()}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	tests := []struct {
		name      string
		act       func(d *desk, id incident.ID) (incident.Result, error)
		responded bool
	}{
		{"assigning starts work", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Assign(ctx, tenant, id, agent, "", "ana", "")
		}, true},
		{"a comment the caller sees", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Comment(ctx, tenant, id, agent, "Looking into it", incident.AgentComment)
		}, true},
		{"a question to the caller", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingCaller, "Which mailbox?")
		}, true},
		{"a work note", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Comment(ctx, tenant, id, agent, "Checked the relay", incident.WorkNote)
		}, false},
		{"the caller's own comment", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Comment(ctx, tenant, id, caller, "Still down", incident.CallerComment)
		}, false},
		{"a hold without a comment", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingVendor, "")
		}, false},
		{"a resolution, which ends the wait for one", func(d *desk, id incident.ID) (incident.Result, error) {
			return d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "Restarted the relay")
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, false, func(c *incident.Config) { c.SLA = engine })
			inc := d.open(t)
			res, err := tc.act(d, inc.ID())
			require.NoError(t, err)
			got := res.Incident.Data()
			tm := responseTimer(t, res.Incident)
			assert.Equal(t, tc.responded, !got.FirstResponseAt.IsZero())
			if tc.responded {
				assert.Equal(t, sla.StageCompleted, tm.Stage)
				assert.Equal(t, got.FirstResponseAt, tm.EndedAt, "the timer stops at the first response")
				assert.Contains(t, eventTypes(res.Events), string(incident.EventSLACompleted))
				return
			}
			if res.Incident.Status() == incident.StatusResolved {
				assert.Equal(t, sla.StageCompleted, tm.Stage, "resolving ends the wait")
				return
			}
			assert.Equal(t, sla.StageRunning, tm.Stage, "no response yet")
		})
	}
}

// TestCascadedHoldIsNoResponse is the case a response target stopping on
// the waiting category got wrong: a hold cascaded from a parent to a child
// nobody has touched counted as the child's response. With
// fields.responded the child's timer runs on until someone answers it.
func TestCascadedHoldIsNoResponse(t *testing.T) {
	engine, err := sla.NewEngine([]sla.Agreement{respondedAgreement()}, nil)
	require.NoError(t, err)
	d := newDesk(t, false, func(c *incident.Config) { c.SLA = engine })
	ctx := context.Background()
	parent, child := d.open(t), d.open(t)
	_, err = d.svc.LinkParent(ctx, tenant, child.ID(), parent.ID(), agent)
	require.NoError(t, err)

	res, err := d.svc.Hold(ctx, tenant, parent.ID(), agent, incident.HoldAwaitingVendor, "")
	require.NoError(t, err)
	require.Len(t, res.Cascade, 1)
	require.Equal(t, incident.CascadeApplied, res.Cascade[0].Outcome)
	assert.Equal(t, []string{string(incident.EventHeld)}, eventTypes(res.Cascade[0].Events), "no sla.completed")
	held, err := d.svc.Get(ctx, tenant, child.ID())
	require.NoError(t, err)
	assert.Equal(t, incident.StatusOnHold, held.Status())
	assert.True(t, held.Data().FirstResponseAt.IsZero())
	assert.Equal(t, sla.StageRunning, responseTimer(t, held).Stage)

	d.clock.Advance(2 * time.Hour)
	res, err = d.svc.Comment(ctx, tenant, child.ID(), agent, "We are waiting on the vendor", incident.AgentComment)
	require.NoError(t, err)
	tm := responseTimer(t, res.Incident)
	assert.Equal(t, sla.StageCompleted, tm.Stage)
	assert.True(t, tm.Breached, "answered after its hour")
	assert.Equal(t, res.Incident.Data().FirstResponseAt, tm.EndedAt)
}

// TestEveryEmittedEventTypeIsAConstant drives every command, and the SLA
// timers through every kind of event, and checks that each event emitted
// (returned, cascaded or in the outbox) has a type EventTypes lists, and
// that every type listed is emitted by something.
func TestEveryEmittedEventTypeIsAConstant(t *testing.T) {
	d := newDesk(t, false)
	ctx := context.Background()
	var emitted []itsm.Event
	do := func(res incident.Result, err error) incident.Result {
		t.Helper()
		require.NoError(t, err)
		emitted = append(emitted, res.Events...)
		for _, c := range res.Cascade {
			require.NoError(t, c.Err)
			emitted = append(emitted, c.Events...)
		}
		return res
	}
	problem := itsm.Ref{Kind: itsm.KindProblem, ID: uuid.MustParse("0190a0b0-0000-7000-8000-0000000000b1")}
	change := itsm.Ref{Kind: itsm.KindChange, ID: uuid.MustParse("0190a0b0-0000-7000-8000-0000000000c1")}

	parent := do(d.svc.Open(ctx, tenant, agent, mailDown())).Incident.ID()
	child := do(d.svc.Open(ctx, tenant, agent, mailDown())).Incident.ID()
	do(d.svc.LinkParent(ctx, tenant, child, parent, agent))
	do(d.svc.UnlinkParent(ctx, tenant, child, agent))
	do(d.svc.LinkParent(ctx, tenant, child, parent, agent))
	do(d.svc.Assign(ctx, tenant, parent, agent, "", "ana", ""))
	do(d.svc.Assign(ctx, tenant, parent, agent, "network", "", "wrong queue"))
	title := "Mail is down for everyone"
	do(d.svc.Update(ctx, tenant, parent, agent, incident.Update{Title: &title}))
	impact := itsm.Impact(1)
	do(d.svc.Update(ctx, tenant, parent, agent, incident.Update{Impact: &impact})) // P1: retargeted
	do(d.svc.OverridePriority(ctx, tenant, parent, agent, 2, "one site only"))
	do(d.svc.Escalate(ctx, tenant, parent, agent, incident.EscalateHierarchical, "", "customers are calling"))
	do(d.svc.Comment(ctx, tenant, parent, agent, "Working on it", incident.AgentComment))
	do(d.svc.LinkProblem(ctx, tenant, parent, agent, problem))
	do(d.svc.LinkProblem(ctx, tenant, parent, agent, itsm.Ref{}))
	do(d.svc.LinkChange(ctx, tenant, parent, agent, change))
	do(d.svc.LinkChange(ctx, tenant, parent, agent, itsm.Ref{}))
	do(d.svc.Hold(ctx, tenant, parent, agent, incident.HoldAwaitingVendor, "")) // paused, and the child held
	do(d.svc.Resume(ctx, tenant, parent, agent, "the vendor answered"))
	do(d.svc.ProposeMajor(ctx, tenant, parent, agent, "all sites"))
	do(d.svc.AcceptMajor(ctx, tenant, parent, agent, "mim"))
	do(d.svc.DemoteMajor(ctx, tenant, parent, agent, "contained"))
	d.clock.Advance(10 * time.Hour)
	do(d.svc.AdvanceSLA(ctx, tenant, parent, agent))                                                   // thresholds and breach
	do(d.svc.Resolve(ctx, tenant, parent, agent, incident.ResolvedPermanently, "Restarted the relay")) // and the child
	do(d.svc.Reopen(ctx, tenant, parent, caller, "still down"))
	do(d.svc.Resolve(ctx, tenant, parent, agent, incident.ResolvedPermanently, "Replaced the relay"))
	do(d.svc.Close(ctx, tenant, parent, agent, ""))

	major := do(d.svc.Open(ctx, tenant, agent, mailDown())).Incident.ID()
	do(d.svc.ProposeMajor(ctx, tenant, major, agent, "all sites"))
	do(d.svc.AcceptMajor(ctx, tenant, major, agent, "mim"))
	do(d.svc.Resolve(ctx, tenant, major, agent, incident.ResolvedPermanently, "Failed over"))
	do(d.svc.ReviewMajor(ctx, tenant, major, agent, "Root cause passed to problem management"))
	dup := do(d.svc.Open(ctx, tenant, agent, mailDown())).Incident.ID()
	do(d.svc.ProposeMajor(ctx, tenant, dup, agent, "several sites"))
	do(d.svc.RejectMajor(ctx, tenant, dup, agent, "the same outage"))
	do(d.svc.Cancel(ctx, tenant, dup, agent, incident.Cancellation{Reason: incident.CancelDuplicate, DuplicateOf: major}))

	types := incident.EventTypes()
	seen := map[itsm.EventType]bool{}
	for _, e := range emitted {
		assert.Contains(t, types, e.Type)
		seen[e.Type] = true
	}
	for _, typ := range outbox(t, d.store) {
		assert.Contains(t, types, itsm.EventType(typ))
	}
	for _, typ := range types {
		assert.True(t, seen[typ], "%s is never emitted", typ)
	}
}

func TestEventTypesAreValidAndDistinct(t *testing.T) {
	types := incident.EventTypes()
	assert.Len(t, types, 32)
	for _, typ := range types {
		assert.NoError(t, typ.Validate(), typ)
		assert.True(t, strings.HasPrefix(string(typ), "incident.") || strings.HasPrefix(string(typ), "sla."), typ)
	}
	sorted := slices.Clone(types)
	slices.Sort(sorted)
	assert.Len(t, slices.Compact(sorted), len(types), "no type twice")
	types[0] = "changed.by_caller"
	assert.Equal(t, incident.EventOpened, incident.EventTypes()[0], "the slice is the caller's")
}

// The package doc's table of events names every type the service emits.
func TestPackageDocListsEveryEventType(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	for _, typ := range incident.EventTypes() {
		assert.True(t, strings.Contains(string(doc), "\t"+string(typ)) || strings.Contains(string(doc), " "+string(typ)), "doc.go does not name %s", typ)
	}
}

// A host relaying the outbox switches on the event types, and decodes each
// payload into the type the package doc's table names.
func ExampleEventTypes() {
	svc, _ := exampleDesk(nil)
	res, err := svc.Open(context.Background(), "acme", ana, incident.OpenInput{Title: "VPN drops", Caller: "bob", Impact: 2, Urgency: 2})
	if err != nil {
		panic(err)
	}
	for _, e := range res.Events {
		switch e.Type {
		case incident.EventOpened:
			fmt.Println("opened", res.Incident.Number())
		case incident.EventSLABreached:
			fmt.Println("breached")
		}
	}
	fmt.Println(len(incident.EventTypes()), "types")
	// Output:
	// opened INC0000001
	// 32 types
}

// NewService refuses an SLA engine whose conditions read a field the
// incident service never supplies: custom fields are "fields.custom.<name>".
func ExampleNewService_slaFields() {
	engine, err := sla.NewEngine([]sla.Agreement{scoped(sla.FieldIs("fields.vip", "yes"), nil)}, nil)
	if err != nil {
		panic(err)
	}
	cfg, err := storage.IncidentConfig(memory.New())
	if err != nil {
		panic(err)
	}
	cfg.Clock, cfg.IDs, cfg.SLA = func() time.Time { return monday9 }, itsm.UUIDv7Generator(), engine
	_, err = incident.NewService(cfg)
	var ve *itsm.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field)
		fmt.Println(ve.Reason[:strings.Index(ve.Reason, ";")])
	}
	// Output:
	// sla
	// agreement "a" version 1, scope: fields.vip in ["yes"]: the incident service never supplies the field "fields.vip" (for a custom field write fields.custom.vip)
}
