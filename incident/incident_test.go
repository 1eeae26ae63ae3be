package incident

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type fixture struct {
	pol   Policy
	ids   *itsmtest.IDs
	clock *itsmtest.Clock
	agent itsm.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{
		pol:   DefaultPolicy(),
		ids:   itsmtest.NewIDs(1),
		clock: itsmtest.NewSteppingClock(t0, time.Minute),
		agent: itsm.Actor{ID: "ana", Name: "Ana", Roles: []string{DefaultOverrideRole, DefaultMajorRole}},
	}
}

func (f *fixture) env() env { return env{pol: &f.pol, at: f.clock.Now(), by: f.agent} }

func (f *fixture) envAs(by itsm.Actor) env { return env{pol: &f.pol, at: f.clock.Now(), by: by} }

func validOpen() OpenInput {
	return OpenInput{
		Title:   "Mail is down",
		Caller:  "bob",
		Channel: ChannelPhone,
		Impact:  2,
		Urgency: 1,
		Group:   "messaging",
	}
}

func (f *fixture) open(t *testing.T) *Incident {
	t.Helper()
	id := itsmtest.MustID[record](t, f.ids)
	inc, err := open(f.env(), id, "acme", FormatNumber("INC", 1), validOpen())
	require.NoError(t, err)
	return inc
}

// step drives an incident with one named command, as the tables below use.
func (f *fixture) step(t *testing.T, inc *Incident, command string) error {
	t.Helper()
	e := f.env()
	switch command {
	case "assign":
		return inc.assign(e, "messaging", "ana", "")
	case "hold":
		return inc.hold(e, HoldAwaitingVendor, "")
	case "hold_caller":
		return inc.hold(e, HoldAwaitingCaller, "Which mailbox?")
	case "resume":
		return inc.resume(e, "")
	case "resolve":
		return inc.resolve(e, ResolvedPermanently, "Restarted the mail relay")
	case "reopen":
		return inc.reopen(e, "Still failing")
	case "close":
		return inc.close(e, "")
	case "cancel":
		return inc.cancel(e, Cancellation{Reason: CancelNotAnIncident})
	case "propose":
		return inc.majorMove(e, MajorPropose, "several sites affected", "")
	}
	t.Fatalf("unknown step %q", command)
	return nil
}

func (f *fixture) drive(t *testing.T, inc *Incident, commands ...string) {
	t.Helper()
	for _, c := range commands {
		require.NoError(t, f.step(t, inc, c), c)
	}
}

func TestBuiltInLifecyclesAreValid(t *testing.T) {
	require.NoError(t, CheckLifecycle(DefaultLifecycle()))
	require.NoError(t, CheckLifecycle(ReopenFromClosedLifecycle()))
	require.NoError(t, DefaultPolicy().Validate())
	assert.False(t, DefaultLifecycle().IsTerminal(StatusResolved))
	assert.True(t, DefaultLifecycle().IsTerminal(StatusClosed))
	assert.False(t, ReopenFromClosedLifecycle().IsTerminal(StatusClosed))
}

// TestTransitionMatrixGolden pins every (state, action) → state of the
// default lifecycles; run with -update after an intended change.
func TestTransitionMatrixGolden(t *testing.T) {
	var b strings.Builder
	render := func(name string, states []Status, actions []Action, next func(Status, Action) (Status, error)) {
		b.WriteString("# " + name + "\n")
		b.WriteString(pad("from \\ action", 14))
		for _, a := range actions {
			b.WriteString(pad(string(a), 13))
		}
		b.WriteString("\n")
		for _, s := range states {
			b.WriteString(pad(string(s), 14))
			for _, a := range actions {
				to, err := next(s, a)
				cell := "-"
				if err == nil {
					cell = string(to)
				}
				b.WriteString(pad(cell, 13))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	actions := []Action{ActionAssign, ActionHold, ActionResume, ActionResolve, ActionReopen, ActionClose, ActionCancel}
	for _, lc := range []*Lifecycle{DefaultLifecycle(), ReopenFromClosedLifecycle()} {
		render(lc.Name(), lc.States(), actions, lc.Next)
	}
	major := MajorLifecycle()
	var ms []Status
	for _, s := range major.States() {
		ms = append(ms, Status(s))
	}
	render(major.Name(), ms, []Action{Action(MajorPropose), Action(MajorAccept), Action(MajorReject), Action(MajorDemote)},
		func(s Status, a Action) (Status, error) {
			to, err := major.Next(MajorStatus(s), MajorAction(a))
			return Status(to), err
		})
	path := filepath.Join("testdata", "transition_matrix.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String())
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}

func TestOpen(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	assert.Equal(t, StatusNew, inc.Status())
	assert.Equal(t, itsm.Priority(2), inc.Priority())
	assert.Equal(t, Number("INC0000001"), inc.Number())
	assert.Equal(t, t0, inc.d.OpenedAt)
	require.Len(t, inc.History(), 1)
	h := inc.History()[0]
	assert.Equal(t, Entry{Seq: 1, At: t0, By: itsm.ActorRef{ID: "ana", Name: "Ana"}, Command: "open", From: StatusNew, To: StatusNew}, h)
	assert.Equal(t, MajorNone, inc.Major().Status)
}

func TestOpenRejectsBadInput(t *testing.T) {
	ci := itsm.Ref{Kind: itsm.KindCI, ID: uuid.MustParse("0190a8c4-7d2e-7b6a-9f1e-3c4d5e6f7a8b")}
	tests := []struct {
		name   string
		mutate func(*OpenInput)
		field  string
	}{
		{"empty title", func(in *OpenInput) { in.Title = "  " }, "title"},
		{"long title", func(in *OpenInput) { in.Title = strings.Repeat("x", MaxTitleLen+1) }, "title"},
		{"control character in title", func(in *OpenInput) { in.Title = "Mail\x00down" }, "title"},
		{"newline in title", func(in *OpenInput) { in.Title = "Mail\ndown" }, "title"},
		{"invalid UTF-8 title", func(in *OpenInput) { in.Title = "Mail \xff" }, "title"},
		{"1 MB description", func(in *OpenInput) { in.Description = strings.Repeat("a", 1<<20) }, "description"},
		{"escape in description", func(in *OpenInput) { in.Description = "ok\x1b[31m" }, "description"},
		{"unknown impact", func(in *OpenInput) { in.Impact = 7 }, "impact"},
		{"unknown urgency", func(in *OpenInput) { in.Urgency = 0 }, "urgency"},
		{"missing caller", func(in *OpenInput) { in.Caller = "" }, "caller"},
		{"unknown channel", func(in *OpenInput) { in.Channel = "pigeon" }, "channel"},
		{"bad service ref", func(in *OpenInput) { in.Service = itsm.Ref{Kind: "Service"} }, "service.kind"},
		{"duplicate CI", func(in *OpenInput) { in.CIs = []itsm.Ref{ci, ci} }, "cis[1]"},
		{"bad custom field name", func(in *OpenInput) { in.Custom = map[string]string{"Bad Name": "x"} }, "custom"},
		{"empty custom value", func(in *OpenInput) { in.Custom = map[string]string{"site": ""} }, "custom.site"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			in := validOpen()
			tc.mutate(&in)
			inc, err := open(f.env(), itsmtest.MustID[record](t, f.ids), "acme", "INC0000001", in)
			assert.Nil(t, inc)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "want %q in %v", tc.field, err)
		})
	}
}

// Every command from every state: allowed ones move as the lifecycle says,
// refused ones leave the incident exactly as it was.
func TestCommandsFromEveryState(t *testing.T) {
	reach := map[Status][]string{
		StatusNew:        nil,
		StatusInProgress: {"assign"},
		StatusOnHold:     {"assign", "hold"},
		StatusResolved:   {"assign", "resolve"},
		StatusClosed:     {"assign", "resolve", "close"},
		StatusCanceled:   {"cancel"},
	}
	commands := []struct {
		name string
		want map[Status]Status // absent: refused
	}{
		{"assign", map[Status]Status{StatusNew: StatusInProgress, StatusInProgress: StatusInProgress, StatusOnHold: StatusOnHold}},
		{"hold", map[Status]Status{StatusNew: StatusOnHold, StatusInProgress: StatusOnHold, StatusOnHold: StatusOnHold}},
		{"resume", map[Status]Status{StatusOnHold: StatusInProgress}},
		{"resolve", map[Status]Status{StatusNew: StatusResolved, StatusInProgress: StatusResolved, StatusOnHold: StatusResolved}},
		{"reopen", map[Status]Status{StatusResolved: StatusInProgress}},
		{"close", map[Status]Status{StatusResolved: StatusClosed}},
		{"cancel", map[Status]Status{StatusNew: StatusCanceled, StatusInProgress: StatusCanceled, StatusOnHold: StatusCanceled}},
	}
	for from, path := range reach {
		for _, c := range commands {
			t.Run(string(from)+"/"+c.name, func(t *testing.T) {
				f := newFixture(t)
				inc := f.open(t)
				f.drive(t, inc, path...)
				require.Equal(t, from, inc.Status())
				before := inc.Data()
				err := f.step(t, inc, c.name)
				want, allowed := c.want[from]
				if !allowed {
					require.Error(t, err)
					assert.ErrorIs(t, err, itsm.ErrInvalidTransition)
					assert.Equal(t, before, inc.Data(), "a refused command changes nothing")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, want, inc.Status())
			})
		}
	}
}

func TestGuards(t *testing.T) {
	tests := []struct {
		name  string
		path  []string
		run   func(f *fixture, inc *Incident) error
		field string // a *ValidationError naming this field; "" means another error class
		is    error
	}{
		{"hold without a reason", nil, func(f *fixture, inc *Incident) error { return inc.hold(f.env(), "", "") }, "hold_reason", nil},
		{"hold awaiting caller without a comment", nil, func(f *fixture, inc *Incident) error { return inc.hold(f.env(), HoldAwaitingCaller, " ") }, "comment", nil},
		{"resolve without a code", []string{"assign"}, func(f *fixture, inc *Incident) error { return inc.resolve(f.env(), "", "notes") }, "resolution.code", nil},
		{"resolve without notes", []string{"assign"}, func(f *fixture, inc *Incident) error { return inc.resolve(f.env(), ResolvedPermanently, "") }, "resolution.notes", nil},
		{"reopen without a reason", []string{"resolve"}, func(f *fixture, inc *Incident) error { return inc.reopen(f.env(), "") }, "reason", nil},
		{"cancel without a reason", nil, func(f *fixture, inc *Incident) error { return inc.cancel(f.env(), Cancellation{}) }, "cancellation.reason", nil},
		{"duplicate without the original", nil, func(f *fixture, inc *Incident) error {
			return inc.cancel(f.env(), Cancellation{Reason: CancelDuplicate})
		}, "cancellation.duplicate_of", nil},
		{"duplicate of itself", nil, func(f *fixture, inc *Incident) error {
			return inc.cancel(f.env(), Cancellation{Reason: CancelDuplicate, DuplicateOf: inc.ID()})
		}, "cancellation.duplicate_of", nil},
		{"override without the role", nil, func(f *fixture, inc *Incident) error {
			return inc.overridePriority(f.envAs(itsm.Actor{ID: "eve"}), 1, "CEO's laptop")
		}, "", itsm.ErrForbidden},
		{"override without a reason", nil, func(f *fixture, inc *Incident) error { return inc.overridePriority(f.env(), 1, "") }, "reason", nil},
		{"override to an unknown priority", nil, func(f *fixture, inc *Incident) error { return inc.overridePriority(f.env(), 9, "why") }, "priority", nil},
		{"assign with nobody", nil, func(f *fixture, inc *Incident) error { return inc.assign(f.env(), "", "", "") }, "group", nil},
		{"functional escalation to the same group", []string{"assign"}, func(f *fixture, inc *Incident) error {
			return inc.escalate(f.env(), EscalateFunctional, "messaging", "needs experts")
		}, "group", nil},
		{"escalation without a reason", []string{"assign"}, func(f *fixture, inc *Incident) error {
			return inc.escalate(f.env(), EscalateHierarchical, "", "")
		}, "reason", nil},
		{"escalating a resolved incident", []string{"resolve"}, func(f *fixture, inc *Incident) error {
			return inc.escalate(f.env(), EscalateHierarchical, "", "late")
		}, "", itsm.ErrInvalidTransition},
		{"reopen a closed incident under the default policy", []string{"resolve", "close"}, func(f *fixture, inc *Incident) error {
			return inc.reopen(f.env(), "again")
		}, "", itsm.ErrInvalidTransition},
		{"comment on a closed incident", []string{"resolve", "close"}, func(f *fixture, inc *Incident) error {
			return inc.comment(f.env(), "hello?", false, true)
		}, "", itsm.ErrInvalidTransition},
		{"update a canceled incident", []string{"cancel"}, func(f *fixture, inc *Incident) error {
			title := "new"
			_, err := inc.update(f.env(), Update{Title: &title})
			return err
		}, "", itsm.ErrInvalidTransition},
		{"work note from the caller", nil, func(f *fixture, inc *Incident) error { return inc.comment(f.env(), "hi", true, true) }, "work_note", nil},
		{"parent is itself", nil, func(f *fixture, inc *Incident) error { return inc.linkParent(f.env(), inc.ID(), nil) }, "parent", nil},
		{"parent descends from it", nil, func(f *fixture, inc *Incident) error {
			other := itsmtest.MustID[record](t, f.ids)
			return inc.linkParent(f.env(), other, []ID{itsmtest.MustID[record](t, f.ids), inc.ID()})
		}, "parent", nil},
		{"major accept without the role", nil, func(f *fixture, inc *Incident) error {
			if err := inc.majorMove(f.env(), MajorPropose, "site down", ""); err != nil {
				return err
			}
			return inc.majorMove(f.envAs(itsm.Actor{ID: "eve"}), MajorAccept, "", "eve")
		}, "", itsm.ErrForbidden},
		{"major accept without an owner", []string{"propose"}, func(f *fixture, inc *Incident) error {
			return inc.majorMove(f.env(), MajorAccept, "", "")
		}, "owner", nil},
		{"major reject without a reason", []string{"propose"}, func(f *fixture, inc *Incident) error {
			return inc.majorMove(f.env(), MajorReject, "", "")
		}, "reason", nil},
		{"major demote when not accepted", nil, func(f *fixture, inc *Incident) error {
			return inc.majorMove(f.env(), MajorDemote, "calm now", "")
		}, "", itsm.ErrInvalidTransition},
		{"close an accepted major incident before its review", nil, func(f *fixture, inc *Incident) error {
			_ = inc.majorMove(f.env(), MajorPropose, "site down", "")
			_ = inc.majorMove(f.env(), MajorAccept, "", "ana")
			_ = inc.resolve(f.env(), ResolvedPermanently, "fixed")
			return inc.close(f.env(), "")
		}, "", itsm.ErrInvalidTransition},
		{"review before resolution", nil, func(f *fixture, inc *Incident) error {
			_ = inc.majorMove(f.env(), MajorPropose, "site down", "")
			_ = inc.majorMove(f.env(), MajorAccept, "", "ana")
			return inc.review(f.env(), "lessons")
		}, "", itsm.ErrInvalidTransition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			inc := f.open(t)
			f.drive(t, inc, tc.path...)
			before := inc.Data()
			err := tc.run(f, inc)
			require.Error(t, err)
			if tc.field != "" {
				var ve *itsm.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.True(t, ve.Has(tc.field), "want %q in %v", tc.field, err)
				assert.Equal(t, before, inc.Data(), "a refused command changes nothing")
			}
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
		})
	}
}

func TestReopenFromClosedWithinTheWindow(t *testing.T) {
	f := newFixture(t)
	f.pol.Lifecycle = ReopenFromClosedLifecycle()
	f.pol.ReopenClosedWithin = 7 * 24 * time.Hour
	require.NoError(t, f.pol.Validate())
	inc := f.open(t)
	f.drive(t, inc, "assign", "resolve", "close")
	f.clock.Advance(6 * 24 * time.Hour)
	require.NoError(t, inc.reopen(f.env(), "came back"))
	assert.Equal(t, StatusInProgress, inc.Status())
	assert.Equal(t, 1, inc.d.Reopens)
	assert.True(t, inc.d.ClosedAt.IsZero())
	assert.Equal(t, Resolution{}, inc.d.Resolution)

	f.drive(t, inc, "resolve", "close")
	f.clock.Advance(8 * 24 * time.Hour)
	err := inc.reopen(f.env(), "too late")
	var te *itsm.TransitionError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Reason, "beyond the reopen window")

	bad := DefaultPolicy()
	bad.ReopenClosedWithin = time.Hour
	var ve *itsm.ValidationError
	require.ErrorAs(t, bad.Validate(), &ve)
	assert.Equal(t, "policy.reopen_closed_within", ve.Field)
}

func TestCallerReplyResumesAwaitingCallerHold(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	f.drive(t, inc, "assign", "hold_caller")
	assert.Equal(t, HoldAwaitingCaller, inc.d.HoldReason)
	require.Len(t, inc.d.Comments, 1, "the question to the caller is a comment")

	require.NoError(t, inc.comment(f.envAs(itsm.Actor{ID: "bob"}), "The sales mailbox", false, true))
	assert.Equal(t, StatusInProgress, inc.Status())
	assert.Empty(t, inc.d.HoldReason)
	last := inc.History()[len(inc.History())-1]
	assert.Equal(t, "resume", last.Command)
	assert.Equal(t, "the caller replied", last.Reason)
	assert.Equal(t, "bob", last.By.ID)

	// A work note, or a hold for another reason, does not resume.
	f.drive(t, inc, "hold")
	require.NoError(t, inc.comment(f.envAs(itsm.Actor{ID: "bob"}), "Any news?", false, true))
	assert.Equal(t, StatusOnHold, inc.Status())
}

func TestHoldAgainChangesTheReason(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	f.drive(t, inc, "assign", "hold") // awaiting vendor
	n := len(inc.History())
	require.NoError(t, inc.hold(f.env(), HoldAwaitingVendor, ""))
	assert.Len(t, inc.History(), n, "the same reason again changes nothing")
	require.NoError(t, inc.hold(f.env(), HoldAwaitingChange, ""))
	assert.Equal(t, HoldAwaitingChange, inc.d.HoldReason)
	last := inc.History()[len(inc.History())-1]
	assert.Equal(t, StatusOnHold, last.From)
	assert.Equal(t, StatusOnHold, last.To)
	assert.Equal(t, []FieldChange{{"hold_reason", "awaiting_vendor", "awaiting_change"}}, last.Changes)
}

func TestFirstResponse(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	require.NoError(t, inc.comment(f.env(), "internal only", true, false))
	assert.True(t, inc.d.FirstResponseAt.IsZero(), "a work note is not a response")
	require.NoError(t, inc.comment(f.envAs(itsm.Actor{ID: "bob"}), "any news?", false, true))
	assert.True(t, inc.d.FirstResponseAt.IsZero(), "the caller's own comment is not a response")
	at := f.clock.Peek()
	require.NoError(t, inc.comment(f.env(), "Looking into it", false, false))
	assert.Equal(t, at, inc.d.FirstResponseAt)
	f.drive(t, inc, "assign")
	assert.Equal(t, at, inc.d.FirstResponseAt, "the first response stays the first")
}

func TestAssignCountsReassignments(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t) // opened with group messaging
	require.NoError(t, inc.assign(f.env(), "", "ana", ""))
	assert.Equal(t, StatusInProgress, inc.Status())
	assert.Equal(t, 0, inc.d.Reassignments)
	require.NoError(t, inc.assign(f.env(), "network", "", "routing issue"))
	assert.Equal(t, 1, inc.d.Reassignments)
	assert.Equal(t, "reassign", inc.History()[len(inc.History())-1].Command)
	n := len(inc.History())
	require.NoError(t, inc.assign(f.env(), "network", "", ""))
	assert.Len(t, inc.History(), n, "assigning to where it already is records nothing")
	require.NoError(t, inc.escalate(f.env(), EscalateFunctional, "mail-experts", "needs experts"))
	assert.Equal(t, 2, inc.d.Reassignments)
	assert.Equal(t, 1, inc.d.Escalations)
	assert.Empty(t, inc.d.Assignee)
	require.NoError(t, inc.escalate(f.env(), EscalateHierarchical, "", "VIP caller"))
	assert.Equal(t, 2, inc.d.Escalations)
}

func TestUpdateRecomputesPriorityAndClearsOverride(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t) // impact 2, urgency 1: priority 2
	require.NoError(t, inc.overridePriority(f.env(), 1, "board meeting in an hour"))
	assert.Equal(t, itsm.Priority(1), inc.Priority())
	require.NotNil(t, inc.d.Override)
	assert.Equal(t, itsm.Priority(2), inc.d.Override.Derived)

	title := "Mail is down for sales"
	changed, err := inc.update(f.env(), Update{Title: &title})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, itsm.Priority(1), inc.Priority(), "other fields leave the override alone")

	impact := itsm.Impact(3)
	changed, err = inc.update(f.env(), Update{Impact: &impact})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, itsm.Priority(3), inc.Priority())
	assert.Nil(t, inc.d.Override)
	last := inc.History()[len(inc.History())-1]
	assert.Equal(t, []FieldChange{{"impact", "2", "3"}, {"override", "1", ""}, {"priority", "1", "3"}}, last.Changes)

	n := len(inc.History())
	changed, err = inc.update(f.env(), Update{Impact: &impact})
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Len(t, inc.History(), n, "a no-op update records nothing")

	bad := itsm.Impact(9)
	before := inc.Data()
	_, err = inc.update(f.env(), Update{Impact: &bad, Title: &title})
	assert.ErrorIs(t, err, itsm.ErrInvalid)
	assert.Equal(t, before, inc.Data())
}

func TestCustomFieldsUpdate(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	_, err := inc.update(f.env(), Update{Custom: map[string]string{"site": "Lyon", "floor": "3"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"site": "Lyon", "floor": "3"}, inc.d.Custom)
	_, err = inc.update(f.env(), Update{Custom: map[string]string{"floor": ""}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"site": "Lyon"}, inc.d.Custom)
}

func TestMajorIncidentTrack(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	require.NoError(t, inc.majorMove(f.envAs(itsm.Actor{ID: "bob"}), MajorPropose, "all sites", ""))
	assert.Equal(t, MajorProposed, inc.Major().Status)
	require.NoError(t, inc.majorMove(f.env(), MajorAccept, "", "carol"))
	assert.True(t, inc.IsMajor())
	assert.Equal(t, "carol", inc.Major().Owner)
	f.drive(t, inc, "assign", "resolve")
	require.NoError(t, inc.review(f.env(), "Relay had no failover; change raised"))
	require.NoError(t, inc.close(f.env(), ""))
	assert.Equal(t, StatusClosed, inc.Status())

	g := newFixture(t)
	other := g.open(t)
	require.NoError(t, other.majorMove(g.env(), MajorPropose, "looks big", ""))
	require.NoError(t, other.majorMove(g.env(), MajorAccept, "", "carol"))
	require.NoError(t, other.majorMove(g.env(), MajorDemote, "one user only", ""))
	assert.Equal(t, MajorDemoted, other.Major().Status)
	assert.Equal(t, "one user only", other.Major().Reason)
	assert.ErrorIs(t, other.majorMove(g.env(), MajorPropose, "again", ""), itsm.ErrInvalidTransition)
}

func TestCascades(t *testing.T) {
	f := newFixture(t)
	parent := f.open(t)
	children := []*Incident{f.open(t), f.open(t), f.open(t), f.open(t)}
	f.drive(t, children[1], "assign")
	f.drive(t, children[2], "resolve", "close")
	f.drive(t, children[3], "cancel")

	f.drive(t, parent, "assign")
	require.NoError(t, parent.hold(f.env(), HoldAwaitingChange, ""))
	var got []CascadeOutcome
	for _, c := range children {
		got = append(got, c.cascadeHold(f.env(), parent))
	}
	assert.Equal(t, []CascadeOutcome{CascadeApplied, CascadeApplied, CascadeAlready, CascadeAlready}, got)
	assert.Equal(t, HoldAwaitingChange, children[0].d.HoldReason)
	// Idempotent: a second cascade changes nothing.
	before := children[0].Data()
	assert.Equal(t, CascadeAlready, children[0].cascadeHold(f.env(), parent))
	assert.Equal(t, before, children[0].Data())

	require.NoError(t, parent.resolve(f.env(), ResolvedByChange, "Change CHG0000042 fixed the relay"))
	got = nil
	for _, c := range children {
		got = append(got, c.cascadeResolve(f.env(), parent))
	}
	assert.Equal(t, []CascadeOutcome{CascadeApplied, CascadeApplied, CascadeAlready, CascadeAlready}, got)
	assert.Equal(t, StatusResolved, children[0].Status())
	assert.Equal(t, ResolvedByChange, children[0].d.Resolution.Code)
	assert.Contains(t, children[0].d.Resolution.Notes, "INC0000001")
	assert.Equal(t, StatusClosed, children[2].Status(), "a closed child is never reopened by a cascade")
	assert.Equal(t, StatusCanceled, children[3].Status())
}

func TestHistoryIsMonotonicUnderClockSkew(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	f.clock.Advance(-time.Hour) // a host whose clocks disagree
	f.drive(t, inc, "assign")
	h := inc.History()
	assert.Equal(t, h[0].At, h[1].At, "an earlier instant is taken as the last one")
}

// A comment moves UpdatedAt without a history entry. Whatever comes after
// it on a host whose clock is behind is stamped no earlier than the comment.
func TestInstantsAfterACommentNeverGoBack(t *testing.T) {
	for _, command := range []string{"comment", "assign", "hold", "resolve", "propose"} {
		t.Run(command, func(t *testing.T) {
			f := newFixture(t)
			inc := f.open(t)
			f.clock.Set(t0.Add(time.Hour))
			require.NoError(t, inc.comment(f.env(), "Looking into it", false, false))
			commented := inc.d.UpdatedAt
			f.clock.Set(t0.Add(30 * time.Minute)) // a second host, half an hour behind
			if command == "comment" {
				require.NoError(t, inc.comment(f.env(), "Still looking", true, false))
			} else {
				require.NoError(t, f.step(t, inc, command))
			}
			assert.Equal(t, commented, inc.d.UpdatedAt, "UpdatedAt held at the comment's instant")
			h, c := inc.History(), inc.d.Comments
			for k := 1; k < len(h); k++ {
				assert.False(t, h[k].At.Before(h[k-1].At), "history[%d] went back", k)
			}
			for k := 1; k < len(c); k++ {
				assert.False(t, c[k].At.Before(c[k-1].At), "comments[%d] went back", k)
			}
			if command == "comment" {
				assert.Equal(t, commented, c[len(c)-1].At, "the second comment went back")
			} else {
				assert.Equal(t, commented, h[len(h)-1].At, "the entry went back before the comment")
			}
		})
	}
}

func TestRestore(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	f.drive(t, inc, "assign", "hold", "resume", "resolve")
	back, err := Restore(f.pol, inc.Data())
	require.NoError(t, err)
	assert.Equal(t, inc.Data(), back.Data())

	tests := []struct {
		name   string
		mutate func(*Data)
		field  string
	}{
		{"unknown status", func(d *Data) { d.Status = "limbo" }, "status"},
		{"unknown major status", func(d *Data) { d.Major.Status = "maybe" }, "major.status"},
		{"zero id", func(d *Data) { d.ID = ID{} }, "id"},
		{"bad tenant", func(d *Data) { d.Tenant = "" }, "tenant"},
		{"history out of sequence", func(d *Data) { d.History[2].Seq = 7 }, "history[2].seq"},
		{"history going backwards", func(d *Data) { d.History[3].At = d.History[0].At.Add(-time.Second) }, "history[3].at"},
		{"history not ending in the status", func(d *Data) { d.Status = StatusOnHold }, "history"},
		{"empty history", func(d *Data) { d.History = nil }, "history"},
		{"priority outside the matrix", func(d *Data) { d.Priority = 0 }, "priority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := inc.Data()
			tc.mutate(&d)
			_, err := Restore(f.pol, d)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "want %q in %v", tc.field, err)
		})
	}
}

func TestDataCloneSharesNothing(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	_, err := inc.update(f.env(), Update{Custom: map[string]string{"site": "Lyon"}})
	require.NoError(t, err)
	d := inc.Data()
	d.Custom["site"] = "Paris"
	d.History[0].Command = "forged"
	d.History = append(d.History, Entry{})
	assert.Equal(t, "Lyon", inc.d.Custom["site"])
	assert.Equal(t, "open", inc.d.History[0].Command)
	assert.Len(t, inc.d.History, 2)
}

func TestCheckLifecycleExplainsWhatIsMissing(t *testing.T) {
	spec := baseSpec()
	spec.Name = "thin"
	// Drop holds entirely: no waiting state, no hold or resume actions.
	var states []itsm.StateDef[Status]
	for _, s := range spec.States {
		if s.State != StatusOnHold {
			states = append(states, s)
		}
	}
	spec.States = states
	var trs []itsm.Transition[Status, Action]
	for _, tr := range spec.Transitions {
		if tr.From != StatusOnHold && tr.To != StatusOnHold {
			trs = append(trs, tr)
		}
	}
	spec.Transitions = trs
	lc := itsmtest.MustLifecycle(t, spec)
	err := CheckLifecycle(lc)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	text := err.Error()
	assert.Contains(t, text, "needs a state in category waiting")
	assert.Contains(t, text, `no transition carries the action "hold"`)
	assert.Contains(t, text, `no transition carries the action "resume"`)
}

func TestNewIDHelpers(t *testing.T) {
	id, err := NewID(itsmtest.NewIDs(1))
	require.NoError(t, err)
	back, err := ParseID(id.String())
	require.NoError(t, err)
	assert.Equal(t, id, back)
	assert.Equal(t, id, IDFromUUID(id.UUID()))
}

func TestRestoreChecksStateInvariants(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	tests := []struct {
		name   string
		path   []string
		mutate func(*Data)
		field  string
	}{
		{"own parent", nil, func(d *Data) { d.Parent = d.ID }, "parent"},
		{"impact outside the matrix", nil, func(d *Data) { d.Impact = 9 }, "impact"},
		{"hold reason while new", nil, func(d *Data) { d.HoldReason = HoldAwaitingVendor }, "hold_reason"},
		{"resolved_at while new", nil, func(d *Data) { d.ResolvedAt = d.OpenedAt }, "resolved_at"},
		{"no hold reason while on hold", []string{"hold"}, func(d *Data) { d.HoldReason = "" }, "hold_reason"},
		{"resolved without a resolution", []string{"resolve"}, func(d *Data) { d.Resolution = Resolution{} }, "resolution.code"},
		{"closed without closed_at", []string{"resolve", "close"}, func(d *Data) { d.ClosedAt = time.Time{} }, "closed_at"},
		{"canceled without a cancellation", []string{"cancel"}, func(d *Data) { d.Cancellation = nil }, "cancellation"},
		{"override disagrees", nil, func(d *Data) { d.Override = &Override{Priority: 1} }, "override"},
		{"comment with bad UTF-8", nil, func(d *Data) { d.Comments = []Comment{{At: d.OpenedAt, Text: "\xff"}} }, "comments"},
		{"group with NUL", nil, func(d *Data) { d.Group = "a\x00b" }, "group"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := inc.Clone()
			f.drive(t, x, tc.path...)
			d := x.Data()
			tc.mutate(&d)
			_, err := Restore(f.pol, d)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "want %q in %v", tc.field, err)
		})
	}
}

func TestIncidentAccessorsAndJSON(t *testing.T) {
	f := newFixture(t)
	inc := f.open(t)
	f.drive(t, inc, "assign", "hold")
	assert.Equal(t, "Mail is down", inc.Title())
	assert.Equal(t, "bob", inc.Caller())
	assert.Equal(t, itsm.Impact(2), inc.Impact())
	assert.Equal(t, itsm.Urgency(1), inc.Urgency())
	assert.Equal(t, "messaging", inc.Group())
	assert.Equal(t, "ana", inc.Assignee())
	assert.Equal(t, HoldAwaitingVendor, inc.HoldReason())
	assert.Equal(t, Resolution{}, inc.Resolution())
	assert.Equal(t, t0, inc.OpenedAt())
	assert.True(t, inc.ResolvedAt().IsZero())
	assert.Empty(t, inc.SLA().Timers)
	raw, err := json.Marshal(inc)
	require.NoError(t, err)
	var d Data
	require.NoError(t, json.Unmarshal(raw, &d))
	assert.Equal(t, inc.Data(), d)
	h := inc.History()
	h[1].Changes[0].To = "forged"
	assert.NotEqual(t, "forged", inc.History()[1].Changes[0].To)
}
