package incident

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

func TestSLAEventType(t *testing.T) {
	for _, k := range []sla.EventKind{sla.EventAttached, sla.EventPaused, sla.EventResumed, sla.EventCompleted,
		sla.EventCanceled, sla.EventRetargeted, sla.EventThreshold, sla.EventBreached, "future_kind"} {
		assert.Equal(t, "sla."+string(k), string(slaEventType(k)))
	}
}

// eventTypeByRule is how event types were named before the table: the
// table must give the same names.
func eventTypeByRule(command string) itsm.EventType {
	switch command {
	case "open":
		return "incident.opened"
	case "assign":
		return "incident.assigned"
	case "resolve":
		return "incident.resolved"
	case "close":
		return "incident.closed"
	case "hold":
		return "incident.held"
	case "override_priority":
		return "incident.priority_overridden"
	case "escalate.functional", "escalate.hierarchical":
		return "incident.escalated"
	case "link_parent", "link_problem", "link_change":
		return itsm.EventType("incident." + command[len("link_"):] + "_linked")
	case "unlink_parent", "unlink_problem", "unlink_change":
		return itsm.EventType("incident." + command[len("unlink_"):] + "_unlinked")
	}
	verb := strings.ReplaceAll(command, ".", "_")
	if strings.HasSuffix(verb, "e") {
		return itsm.EventType("incident." + verb + "d")
	}
	return itsm.EventType("incident." + verb + "ed")
}

func TestEventTypeTableKeepsTheNames(t *testing.T) {
	for _, c := range []string{"open", "update", "assign", "reassign", "hold", "resume", "resolve", "reopen", "close",
		"cancel", "override_priority", "escalate.functional", "escalate.hierarchical", "major.propose", "major.accept",
		"major.reject", "major.demote", "major.review", "link_parent", "link_problem", "link_change", "unlink_parent",
		"unlink_problem", "unlink_change", "future.command", "link_other"} {
		assert.Equal(t, eventTypeByRule(c), eventType(c), c)
		assert.NoError(t, eventType(c).Validate(), c)
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { _ = eventType("resume") }))
}

func TestFormatNumberAgreesWithFmt(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 99, 1234, 999_999, 1_000_000, 9_999_999, 10_000_000, 123_456_789,
		math.MaxInt64, -1, -12, -1_000_000, math.MinInt64} {
		for _, prefix := range []string{"INC", "", "ABCDEFGH", strings.Repeat("P", 60)} {
			assert.Equal(t, Number(fmt.Sprintf("%s%0*d", prefix, numberDigits, n)), FormatNumber(prefix, n), "%s %d", prefix, n)
		}
	}
	assert.Equal(t, 1.0, testing.AllocsPerRun(10, func() { _ = FormatNumber("INC", 1234) }))
}

func TestCommandNamesAreTheConcatenations(t *testing.T) {
	for _, a := range []MajorAction{MajorPropose, MajorAccept, MajorReject, MajorDemote, "other"} {
		assert.Equal(t, "major."+string(a), majorCommand(a))
	}
	for _, f := range []string{"problem", "change", "other"} {
		link, unlink := linkCommands(f)
		assert.Equal(t, "link_"+f, link)
		assert.Equal(t, "unlink_"+f, unlink)
	}
}

// observedFieldsByName is observedFields as it was before the mask (and
// with "responded"): every field asked of the engine on every call.
func observedFieldsByName(e *sla.Engine, d *Data) map[string]string {
	fields := map[string]string{}
	for _, f := range [...]struct{ name, v string }{
		{"status", string(d.Status)}, {"subcategory", d.Subcategory}, {"channel", string(d.Channel)},
		{"group", d.Group}, {"assignee", d.Assignee}, {"hold_reason", string(d.HoldReason)},
		{"major", string(d.Major.Status)},
	} {
		if f.v != "" && e.ReadsField(f.name) {
			fields[f.name] = f.v
		}
	}
	if e.ReadsField("reopens") {
		fields["reopens"] = fmt.Sprint(d.Reopens)
	}
	if e.ReadsField("responded") && !d.FirstResponseAt.IsZero() {
		fields["responded"] = "true"
	}
	for k, v := range d.Custom {
		if name := "custom." + k; v != "" && e.ReadsField(name) {
			fields[name] = v
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return fields
}

// TestObservedFieldsMask checks that the fields passed to the SLA engine
// are those some condition reads, field by field, with the field set and
// empty.
func TestObservedFieldsMask(t *testing.T) {
	full := &Data{
		Status: "on_hold", Subcategory: "smtp", Channel: "email", Group: "messaging", Assignee: "ana",
		HoldReason: HoldAwaitingVendor, Major: Major{Status: "proposed"}, Reopens: 2,
		FirstResponseAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Custom:          map[string]string{"segment": "vip", "site": ""},
	}
	names := append(builtinFields[:], "custom.segment", "custom.site", "custom.other")
	for _, name := range names {
		for _, d := range []*Data{full, {Status: "new"}} {
			agreement := sla.Agreement{
				ID: "a", Version: 1, Kind: itsm.AgreementSLA, Scope: sla.FieldIs("fields."+name, "x"),
				Targets: []sla.Target{{Metric: "m", Stop: sla.StateIn(itsm.CategoryClosed), Goals: []sla.Goal{{Name: "g", Within: time.Hour}}}},
			}
			e, err := sla.NewEngine([]sla.Agreement{agreement}, nil)
			require.NoError(t, err, name)
			s := &Service{sla: e, slaReads: builtinReads(e)}
			got := s.observedFields(d)
			assert.Equal(t, observedFieldsByName(e, d), got, name)
			if d == full && name != "custom.site" && name != "custom.other" {
				assert.Len(t, got, 1, name) // the field is set, and read
			}
		}
	}
	s := &Service{}
	assert.Nil(t, s.observedFields(&Data{Status: "new", Group: "g"}))
}

// startOfDate is a date's first instant, also on dates whose midnight the
// clocks jump over.
func TestStartOfDate(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		return loc
	}
	santiago, havana, london := load("America/Santiago"), load("America/Havana"), load("Europe/London")
	tests := []struct {
		name string
		loc  *time.Location
		y    int
		m    time.Month
		d    int
		want string // RFC 3339 in loc
	}{
		{"an ordinary midnight", london, 2026, 11, 23, "2026-11-23T00:00:00Z"},
		{"a day past the month's end", london, 2026, 12, 32, "2027-01-01T00:00:00Z"},
		{"summer time starting at 02:00 leaves midnight alone", london, 2026, 3, 29, "2026-03-29T00:00:00Z"},
		{"santiago jumps from 00:00 to 01:00", santiago, 2026, 9, 6, "2026-09-06T01:00:00-03:00"},
		{"santiago's date after the jump", santiago, 2026, 9, 7, "2026-09-07T00:00:00-03:00"},
		{"santiago's clocks going back at midnight", santiago, 2026, 4, 5, "2026-04-05T00:00:00-04:00"},
		{"havana jumps from 00:00 to 01:00", havana, 2026, 3, 8, "2026-03-08T01:00:00-04:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := time.Parse(time.RFC3339, tc.want)
			require.NoError(t, err)
			got := startOfDate(tc.y, tc.m, tc.d, tc.loc)
			assert.True(t, want.Equal(got), "got %v", got)
			assert.Equal(t, tc.want[:len(time.DateOnly)], got.Format(time.DateOnly), "on the date asked for")
		})
	}
}
