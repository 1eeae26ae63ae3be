package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/sla"
)

func snowMapping() Mapping {
	return Mapping{
		States: map[string]Status{
			"1": StatusNew, "2": StatusInProgress, "3": StatusOnHold,
			"6": StatusResolved, "7": StatusClosed, "8": StatusCanceled,
		},
		HoldReasons: map[string]HoldReason{"1": HoldAwaitingCaller, "5": HoldAwaitingChange, "4": HoldAwaitingVendor},
	}
}

func resolutionEngine(t *testing.T) *sla.Engine {
	t.Helper()
	e, err := sla.NewEngine([]sla.Agreement{{
		ID: "desk", Version: 1, Kind: itsm.AgreementSLA, Name: "Desk",
		Targets: []sla.Target{{
			Metric: "resolution",
			Pause:  sla.StateIn(itsm.CategoryWaiting),
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Reopen: sla.ReopenResume,
			Goals: []sla.Goal{
				{Name: "p1", When: sla.PriorityIn(1), Within: 4 * time.Hour},
				{Name: "p2-5", When: sla.PriorityIn(2, 3, 4, 5), Within: 8 * time.Hour},
			},
		}},
	}}, nil)
	require.NoError(t, err)
	return e
}

func TestReplayRealDeskHistory(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	history := []Recorded{
		{At: at(8, 0), State: "1", Impact: 2, Urgency: 2},                      // opened P3
		{At: at(8, 5), State: "2", Group: "network", Assignee: "ana"},          // assigned
		{At: at(8, 30), State: "3", HoldReason: "4"},                           // awaiting vendor
		{At: at(9, 30), State: "3", HoldReason: "5", Urgency: 1},               // priority up mid-hold: P2
		{At: at(10, 0), State: "2"},                                            // resumed
		{At: at(10, 10), State: "1"},                                           // the tool moved it back to New
		{At: at(11, 0), State: "6", ResolutionCode: "solved_workaround"},       // resolved
		{At: at(12, 0), State: "2"},                                            // reopened
		{At: at(12, 30), State: "9"},                                           // a state nobody mapped
		{At: at(13, 0), State: "6", ResolutionNotes: "Replaced the line card"}, // resolved again
		{At: at(20, 0), State: "7"},                                            // closed
	}
	id := itsmtest.MustID[record](t, itsmtest.NewIDs(3))
	res, err := Replay(DefaultPolicy(), resolutionEngine(t), id, "acme", "INC0004242",
		OpenInput{Title: "Branch office offline", Caller: "bob", Impact: 3, Urgency: 3}, history, snowMapping())
	require.NoError(t, err)
	inc := res.Incident
	assert.Equal(t, StatusClosed, inc.Status())
	assert.Equal(t, 1, inc.d.Reopens)
	assert.Equal(t, itsm.Priority(2), inc.Priority())
	assert.Equal(t, "Replaced the line card", inc.d.Resolution.Notes)
	assert.Equal(t, ResolutionCode("imported"), inc.d.Resolution.Code, "the second resolution had no code")

	require.Len(t, res.Refused, 2)
	assert.Equal(t, Refusal{Index: 5, At: at(10, 10), From: StatusInProgress, To: StatusNew,
		Reason: `lifecycle "incident" has no transition from in_progress to new`}, res.Refused[0])
	assert.Equal(t, 8, res.Refused[1].Index)
	assert.Contains(t, res.Refused[1].Reason, `"9" is not mapped`)

	var commands []string
	for _, h := range inc.History() {
		commands = append(commands, h.Command)
	}
	assert.Equal(t, []string{"open", "assign", "hold", "update", "hold", "resume", "resolve", "reopen", "resolve", "close"}, commands)
	// The second "hold" is the change of reason while on hold (vendor →
	// change), recorded without a transition.
	h := inc.History()[4]
	assert.Equal(t, []FieldChange{{"hold_reason", "awaiting_vendor", "awaiting_change"}}, h.Changes)
	assert.Equal(t, StatusOnHold, h.From)

	// SLA: 8:00–8:30 counted, 8:30–10:00 paused, 10:00–11:00 counted, then
	// the reopen resumes the same cycle 12:00–13:00: 2h30m of business time.
	timer, ok := inc.d.SLA.Find("desk", "resolution")
	require.True(t, ok)
	assert.Equal(t, sla.StageCompleted, timer.Stage)
	assert.Equal(t, 2*time.Hour+30*time.Minute, timer.BusinessElapsed)
	assert.Equal(t, 90*time.Minute, timer.BusinessPaused)
	assert.False(t, timer.Breached)
	assert.NotEmpty(t, res.SLAEvents)

	_, err = Restore(DefaultPolicy(), inc.Data())
	require.NoError(t, err, "a replayed incident is a valid stored incident")
}

func TestReplayRejectsBadHistories(t *testing.T) {
	id := itsmtest.MustID[record](t, itsmtest.NewIDs(3))
	in := OpenInput{Title: "x", Caller: "bob", Impact: 1, Urgency: 1}
	t1 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      OpenInput
		history []Recorded
		field   string
		others  []string
	}{
		{"no observation", in, nil, "history", nil},
		{"an observation before the one before it", in, []Recorded{{At: t1, State: "1"}, {At: t1.Add(-time.Minute), State: "2"}}, "history[1].at", nil},
		{"an opening without an instant", in, []Recorded{{State: "1"}}, "history[0].at", nil},
		{"a later observation without an instant", in, []Recorded{{At: t1, State: "1"}, {At: t1, State: "2"}, {State: "6"}}, "history[2].at", nil},
		{"every bad instant at once", in, []Recorded{{State: "1"}, {At: t1, State: "2"}, {At: t1.Add(-time.Minute), State: "6"}}, "history[0].at", []string{"history[2].at"}},
		{"an opening in year 10000", in, []Recorded{{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), State: "1"}}, "history[0].at", nil},
		{"an opening before 1900", in, []Recorded{{At: time.Date(1899, 12, 31, 23, 0, 0, 0, time.UTC), State: "1"}, {At: t1, State: "2"}}, "history[0].at", nil},
		{"a later observation in year 9000", in, []Recorded{{At: t1, State: "1"}, {At: time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC), State: "2"}}, "history[1].at", nil},
		{"an opening the open guards refuse", OpenInput{Caller: "bob", Impact: 1, Urgency: 1}, []Recorded{{At: t1, State: "1"}}, "title", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Replay(DefaultPolicy(), nil, id, "acme", "INC1", tc.in, tc.history, snowMapping())
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			var others []string
			for _, o := range ve.Others {
				others = append(others, o.Field)
			}
			assert.Equal(t, tc.others, others)
		})
	}
}

// An observation without a state leaves the state as it is (Recorded:
// empty fields mean unchanged); so does one whose state is refused. Only
// an observation that names another state moves the incident.
func TestReplayMovesOnlyToTheRecordedState(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		later    Recorded
		want     Status
		commands []string
		refused  int
	}{
		{"a group without a state", Recorded{At: at(9), Group: "network"}, StatusNew, []string{"open", "reassign"}, 0},
		{"an assignee without a state", Recorded{At: at(9), Assignee: "ana"}, StatusNew, []string{"open", "reassign"}, 0},
		{"a group with the new state", Recorded{At: at(9), State: "1", Group: "network"}, StatusNew, []string{"open", "reassign"}, 0},
		{"a group with an unmapped state", Recorded{At: at(9), State: "9", Group: "network"}, StatusNew, []string{"open", "reassign"}, 1},
		{"a group with the in-progress state", Recorded{At: at(9), State: "2", Group: "network"}, StatusInProgress, []string{"open", "assign"}, 0},
		{"an impact without a state", Recorded{At: at(9), Impact: 1}, StatusNew, []string{"open", "update"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := itsmtest.MustID[record](t, itsmtest.NewIDs(3))
			res, err := Replay(DefaultPolicy(), nil, id, "acme", "INC0000001",
				OpenInput{Title: "t", Caller: "bob", Impact: 3, Urgency: 3},
				[]Recorded{{At: at(8), State: "1"}, tc.later}, snowMapping())
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Incident.Status())
			var commands []string
			for _, h := range res.Incident.History() {
				commands = append(commands, h.Command)
			}
			assert.Equal(t, tc.commands, commands)
			assert.Len(t, res.Refused, tc.refused)
			_, err = Restore(DefaultPolicy(), res.Incident.Data())
			require.NoError(t, err)
		})
	}
}

// An assignment the source tool made while the incident stayed new is
// recorded as assign records one: only what changed, with its old value,
// a change of group counting a reassignment.
func TestReplayAssignmentWhileNewRecordsWhatChanged(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	id := itsmtest.MustID[record](t, itsmtest.NewIDs(3))
	res, err := Replay(DefaultPolicy(), nil, id, "acme", "INC0000001",
		OpenInput{Title: "t", Caller: "bob", Impact: 3, Urgency: 3, Group: "messaging"},
		[]Recorded{
			{At: at(8), State: "1"},
			{At: at(9), State: "1", Assignee: "ana"},
			{At: at(10), State: "1", Group: "network"},
			{At: at(11), State: "1", Group: "network", Assignee: "ana"}, // nothing new
			{At: at(12), State: "2"},
		}, snowMapping())
	require.NoError(t, err)
	require.Empty(t, res.Refused)
	inc := res.Incident
	h := inc.History()
	require.Len(t, h, 4)
	assert.Equal(t, "reassign", h[1].Command)
	assert.Equal(t, StatusNew, h[1].To)
	assert.Equal(t, "imported", h[1].Reason)
	assert.Equal(t, []FieldChange{{"assignee", "", "ana"}}, h[1].Changes)
	assert.Equal(t, []FieldChange{{"group", "messaging", "network"}, {"reassignments", "0", "1"}}, h[2].Changes,
		"the assignee is kept, the group change counted")
	assert.Equal(t, "assign", h[3].Command, "the move into work")
	assert.Equal(t, StatusInProgress, inc.Status())
	assert.Equal(t, 1, inc.d.Reassignments)
	assert.Equal(t, "network", inc.d.Group)
	assert.Equal(t, "ana", inc.d.Assignee)
}

// A group or assignee no incident may hold is refused like any other
// observation that cannot be replayed: reported, the incident unchanged
// and still a valid stored incident.
func TestReplayRefusesBadAssignments(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	long := strings.Repeat("x", MaxShortTextLen+1)
	tests := []struct {
		name  string
		later []Recorded
		field string
		want  Status
	}{
		{"a NUL in a group while new", []Recorded{{At: at(9), State: "1", Group: "net\x00work"}}, "group", StatusNew},
		{"invalid UTF-8 in a group without a state", []Recorded{{At: at(9), Group: "net\xffwork"}}, "group", StatusNew},
		{"an overlong assignee while new", []Recorded{{At: at(9), State: "1", Assignee: long}}, "assignee", StatusNew},
		{"a NUL in a group while in progress", []Recorded{{At: at(9), State: "2"}, {At: at(10), State: "2", Group: "net\x00work"}}, "group", StatusInProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := itsmtest.MustID[record](t, itsmtest.NewIDs(3))
			res, err := Replay(DefaultPolicy(), nil, id, "acme", "INC0000001",
				OpenInput{Title: "t", Caller: "bob", Impact: 3, Urgency: 3, Group: "messaging"},
				append([]Recorded{{At: at(8), State: "1"}}, tc.later...), snowMapping())
			require.NoError(t, err)
			require.Len(t, res.Refused, 1)
			assert.Equal(t, len(tc.later), res.Refused[0].Index)
			var ve *itsm.ValidationError
			require.ErrorAs(t, res.Refused[0].Err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Equal(t, tc.want, res.Incident.Status())
			assert.Equal(t, "messaging", res.Incident.d.Group)
			assert.Empty(t, res.Incident.d.Assignee)
			_, err = Restore(DefaultPolicy(), res.Incident.Data())
			require.NoError(t, err, "a replayed incident is a valid stored incident")
		})
	}
}

// The replay's timers see the incident's own fields, as the live
// service's do: an agreement scoped to a group, paused while a vendor
// holds the ticket, measures the same in both.
func TestReplaySLAConditionsReadIncidentFields(t *testing.T) {
	engine, err := sla.NewEngine([]sla.Agreement{{
		ID: "queue", Version: 1, Kind: itsm.AgreementSLA, Name: "Network queue",
		Scope: sla.FieldIs("fields.group", "network"),
		Targets: []sla.Target{{
			Metric: "resolution",
			Pause:  sla.FieldIs("fields.assignee", "vendor"),
			Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
			Goals:  []sla.Goal{{Name: "all", Within: 4 * time.Hour}},
		}},
	}}, nil)
	require.NoError(t, err)
	at := func(h int) time.Time { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		group   string
		timers  int
		elapsed time.Duration
		paused  time.Duration
	}{
		{"in scope", "network", 1, 2 * time.Hour, time.Hour},
		{"out of scope", "messaging", 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := itsmtest.MustID[record](t, itsmtest.NewIDs(3))
			res, err := Replay(DefaultPolicy(), engine, id, "acme", "INC0000001",
				OpenInput{Title: "t", Caller: "bob", Impact: 3, Urgency: 3, Group: tc.group},
				[]Recorded{
					{At: at(8), State: "1"},
					{At: at(9), State: "2", Assignee: "ana"},
					{At: at(10), State: "2", Assignee: "vendor"},
					{At: at(11), State: "6"},
				}, snowMapping())
			require.NoError(t, err)
			require.Empty(t, res.Refused)
			timers := res.Incident.SLA().Timers
			require.Len(t, timers, tc.timers)
			if tc.timers == 0 {
				return
			}
			assert.Equal(t, sla.StageCompleted, timers[0].Stage)
			assert.Equal(t, tc.elapsed, timers[0].BusinessElapsed)
			assert.Equal(t, tc.paused, timers[0].BusinessPaused)
		})
	}
}

func TestReplayReportsWhatItCannotApply(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 3, 2, 9, m, 0, 0, time.UTC) }
	id := itsmtest.MustID[record](t, itsmtest.NewIDs(4))
	m := snowMapping()
	m.DefaultHoldReason = HoldAwaitingChange
	res, err := Replay(DefaultPolicy(), nil, id, "acme", "INC7", OpenInput{Title: "x", Caller: "bob", Impact: 2, Urgency: 2}, []Recorded{
		{At: at(0), State: "1"},
		{At: at(1), State: "3", HoldReason: "4"},  // awaiting vendor
		{At: at(2), State: "3", HoldReason: "99"}, // unmapped: the default reason
		{At: at(3), State: "6"},
		{At: at(4), State: "7"},
		{At: at(5), State: "7", Priority: 1},      // priority change on a closed incident
		{At: at(6), State: "7", Group: "network"}, // assignment change on a closed incident
	}, m)
	require.NoError(t, err)
	h := res.Incident.History()
	require.Len(t, h, 5)
	assert.Equal(t, "hold", h[2].Command)
	assert.Equal(t, []FieldChange{{"hold_reason", "awaiting_vendor", "awaiting_change"}}, h[2].Changes)
	assert.Equal(t, StatusClosed, res.Incident.Status())
	require.Len(t, res.Refused, 2)
	assert.Equal(t, 5, res.Refused[0].Index)
	assert.ErrorIs(t, res.Refused[0].Err, itsm.ErrInvalidTransition)
	assert.Equal(t, 6, res.Refused[1].Index)
	assert.Contains(t, res.Refused[1].Reason, "assignment change on a closed incident")
}
