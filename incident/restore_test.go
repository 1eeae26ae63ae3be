package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// restoreTexts are strings at and around what the text checks refuse.
var restoreTexts = []string{
	"", " ", " \t\n", "ok", "Mail is down", "a\x00b", "tab\there", "line\nbreak", "cr\r", "del\x7f", "\xff", "é",
	"ok é", "\u0085", "a\u0085", "\u009f", "\u00a0", " \u00a0", "\u00a0x", "\u200b", "\u2028", "\xc2", "é\x00",
	strings.Repeat("x", MaxShortTextLen), strings.Repeat("x", MaxShortTextLen+1), strings.Repeat("é", 65),
	strings.Repeat("x", MaxTitleLen+1), strings.Repeat("y", MaxCustomValueLen+1),
}

// restoreInstants are instants a stored record may hold, normalised or not.
func restoreInstants(base time.Time) []time.Time {
	return []time.Time{
		base, base.Add(time.Microsecond), base.Add(-time.Second), base.Add(time.Nanosecond), base.In(time.FixedZone("X", 3600)),
		{}, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), base.Add(time.Hour), time.Now(), base.Local(),
	}
}

// mutateData changes one part of d, chosen by op and arg, towards
// something restore may refuse.
func mutateData(d *Data, op, arg byte) {
	text := restoreTexts[int(arg)%len(restoreTexts)]
	instant := restoreInstants(d.OpenedAt)[int(arg)%10]
	other := itsm.Ref{Kind: itsm.KindCI, ID: uuid.UUID{1, 2, 3}}
	refs := []itsm.Ref{{}, other, {Kind: itsm.KindCI}, {Kind: "Bad", ID: uuid.UUID{4}}, {Kind: itsm.KindService, ID: uuid.UUID{5}}, d.ID.Ref()}
	ref := refs[int(arg)%len(refs)]
	switch op % 32 {
	case 0:
		d.ID = ID{}
	case 1:
		d.Tenant = []itsm.TenantID{"", "a b", itsm.TenantID(strings.Repeat("t", 65)), "other", "é"}[arg%5]
	case 2:
		d.Number = ""
	case 3:
		d.Version = int64(arg%3) - 1
	case 4:
		d.Status = []Status{StatusNew, StatusInProgress, StatusOnHold, StatusResolved, StatusClosed, StatusCanceled, "limbo", ""}[arg%8]
	case 5:
		d.Major.Status = []MajorStatus{MajorNone, MajorAccepted, "maybe", ""}[arg%4]
	case 6:
		d.SLA.Record = []itsm.Ref{{}, d.ID.Ref(), other}[arg%3]
	case 7:
		d.Title = text
	case 8:
		d.Description = text
	case 9:
		d.HoldReason = []HoldReason{"", HoldAwaitingVendor, HoldAwaitingCaller, "bogus"}[arg%4]
	case 10:
		d.Service = ref
	case 11:
		d.CIs = append(d.CIs, ref)
	case 12:
		d.CIs = nil
		for k := range int(arg) % 40 {
			d.CIs = append(d.CIs, itsm.Ref{Kind: itsm.KindCI, ID: uuid.UUID{byte(k + 1)}})
		}
		if arg%3 == 0 && len(d.CIs) > 1 {
			d.CIs[len(d.CIs)-1] = d.CIs[0]
		}
	case 13:
		d.ImpactedServices = append(d.ImpactedServices, ref)
	case 14:
		if d.Custom == nil {
			d.Custom = map[string]string{}
		}
		key := []string{"site", "Bad", "", "k_2", strings.Repeat("k", 65)}[arg%5]
		d.Custom[key] = text
	case 15:
		d.Comments = append(d.Comments, Comment{At: instant, By: itsm.ActorRef{ID: "bob"}, Text: text})
	case 16:
		d.Priority = itsm.Priority(arg % 5)
	case 17:
		d.Impact = itsm.Impact(arg % 5)
	case 18:
		d.Urgency = itsm.Urgency(arg % 5)
	case 19:
		if arg%2 == 0 {
			d.Override = nil
		} else {
			d.Override = &Override{Priority: itsm.Priority(arg % 5)}
		}
	case 20:
		d.Caller = text
	case 21:
		switch arg % 4 {
		case 0:
			d.Category = text
		case 1:
			d.Subcategory = text
		case 2:
			d.Group = text
		default:
			d.Assignee = text
		}
	case 22:
		d.Parent = []ID{{}, d.ID, IDFromUUID(uuid.UUID{9})}[arg%3]
	case 23:
		d.ResolvedAt = instant
	case 24:
		d.ClosedAt = instant
	case 25:
		d.Resolution.Code = []ResolutionCode{"", ResolvedPermanently}[arg%2]
	case 26:
		if arg%2 == 0 {
			d.Cancellation = nil
		} else {
			d.Cancellation = &Cancellation{Reason: CancelRaisedInError}
		}
	case 27:
		if len(d.History) > 0 {
			d.History[int(arg)%len(d.History)].At = instant
		}
	case 28:
		if len(d.History) > 0 {
			d.History[int(arg)%len(d.History)].Seq += int(arg%3) - 1
		}
	case 29:
		if len(d.History) > 0 {
			d.History[len(d.History)-1].To = []Status{StatusNew, StatusClosed, "limbo"}[arg%3]
		}
	case 30:
		d.History = d.History[:int(arg)%(len(d.History)+1)]
	default:
		n := len(d.History)
		d.History = append(d.History, Entry{Seq: n + 1, At: instant, Command: "update", To: d.Status})
	}
}

// FuzzRestoreFastPath checks that restore's quick check accepts exactly the
// records its full pass finds nothing wrong with, for records derived from
// an incident at each stage of its life by a few random mutations.
func FuzzRestoreFastPath(f *testing.F) {
	f.Add(byte(0), []byte{})
	f.Add(byte(5), []byte{7, 1})
	f.Add(byte(3), []byte{14, 3, 15, 4})
	f.Add(byte(2), []byte{27, 2, 30, 1})
	f.Add(byte(4), []byte{12, 3, 21, 12})
	pol := DefaultPolicy()
	stages := restoreStages(f, &pol)
	f.Fuzz(func(t *testing.T, stage byte, script []byte) {
		d := stages[int(stage)%len(stages)].Clone()
		for k := 0; k+1 < len(script) && k < 16; k += 2 {
			mutateData(&d, script[k], script[k+1])
		}
		slow := dataErrors(&pol, &d)
		if fast := wellFormed(&pol, &d); fast != (slow == nil) {
			t.Fatalf("wellFormed = %v but the full pass says %v", fast, slow)
		}
	})
}

// restoreStages is an incident's data after each step of a full life, and
// canceled, with comments, CIs and custom fields.
func restoreStages(tb testing.TB, pol *Policy) []Data {
	tb.Helper()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	by := itsm.Actor{ID: "ana", Name: "Ana", Kind: itsm.ActorHuman}
	e := func() env { at = at.Add(time.Minute); return env{pol: pol, at: at, by: by} }
	inc, err := open(e(), IDFromUUID(uuid.UUID{42}), "acme", "INC0000001", OpenInput{
		Title: "Mail is down", Caller: "bob", Impact: 2, Urgency: 1, Group: "messaging",
		Service: itsm.Ref{Kind: itsm.KindService, ID: uuid.UUID{7}}, CIs: []itsm.Ref{{Kind: itsm.KindCI, ID: uuid.UUID{8}}},
		Custom: map[string]string{"site": "Lyon"},
	})
	require.NoError(tb, err)
	stages := []Data{inc.Data()}
	canceled := inc.Clone()
	require.NoError(tb, canceled.cancel(e(), Cancellation{Reason: CancelRaisedInError}))
	steps := []func() error{
		func() error { return inc.assign(e(), "", "ana", "") },
		func() error { return inc.comment(e(), "Looking into it", false, false) },
		func() error { return inc.hold(e(), HoldAwaitingCaller, "Which site?") },
		func() error { return inc.comment(e(), "Lyon", false, true) },
		func() error { return inc.resolve(e(), ResolvedPermanently, "Restarted the relay") },
		func() error { return inc.close(e(), "") },
	}
	for _, step := range steps {
		require.NoError(tb, step())
		stages = append(stages, inc.Data())
	}
	return append(stages, canceled.Data())
}

// Every stage of a life restores through the quick check.
func TestRestoreFastPathAcceptsEveryStage(t *testing.T) {
	pol := DefaultPolicy()
	for _, d := range restoreStages(t, &pol) {
		require.NoError(t, dataErrors(&pol, &d))
		assert.True(t, wellFormed(&pol, &d), "status %s", d.Status)
	}
}

// The quick text checks agree with the ones that name the problem.
func TestTextChecksAgree(t *testing.T) {
	for _, s := range restoreTexts {
		for _, multiline := range []bool{false, true} {
			for _, max := range []int{MaxShortTextLen, MaxTitleLen, MaxCustomValueLen} {
				var errs itsm.FieldErrors
				assert.Equal(t, checkText(&errs, "f", s, max, multiline), textOK(s, max, multiline), "%q", s)
				assert.Equal(t, errs.Len() == 0, textOK(s, max, multiline), "%q", s)
				errs = itsm.FieldErrors{}
				assert.Equal(t, checkRequired(&errs, "f", s, max, multiline), requiredOK(s, max, multiline), "%q", s)
				assert.Equal(t, strings.TrimSpace(s) != "", notBlank(s), "%q", s)
			}
		}
	}
}
