package incident

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// FuzzIncidentCommands drives an incident with random command sequences
// (each byte picks a command and its variant) and checks after every
// command: the status is a declared state, history is never rewritten (the
// old entries are unchanged, new ones appended), instants never go
// backwards, a refused command changes nothing, and a JSON save/load
// through Restore, and the binary encoding, give back the same incident.
func FuzzIncidentCommands(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6})
	f.Add([]byte{1, 9, 3, 7, 4, 8, 10, 11, 12, 3, 5})
	f.Add([]byte{13, 14, 15, 3, 16, 5, 17})
	f.Add([]byte{2, 2, 2, 6, 6, 6, 0, 0})
	f.Fuzz(runScript)
}

func runScript(t *testing.T, script []byte) {
	{
		if len(script) > 200 {
			script = script[:200]
		}
		pol := DefaultPolicy()
		if len(script) > 0 && script[0]%2 == 1 {
			pol.Lifecycle = ReopenFromClosedLifecycle()
			pol.ReopenClosedWithin = 48 * time.Hour
		}
		ids := itsmtest.NewIDs(9)
		clock := itsmtest.NewClock(time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC))
		agent := itsm.Actor{ID: "ana", Roles: []string{DefaultOverrideRole, DefaultMajorRole}}
		caller := itsm.Actor{ID: "bob"}
		inc, err := open(env{pol: &pol, at: clock.Now(), by: agent}, itsmtest.MustID[record](t, ids), "acme", "INC0000001",
			OpenInput{Title: "t", Caller: "bob", Impact: 2, Urgency: 2})
		require.NoError(t, err)
		other := itsmtest.MustID[record](t, ids)
		for _, b := range script {
			// Steps forward, sometimes backward (clock skew), sometimes days.
			switch b % 5 {
			case 0:
				clock.Advance(-time.Minute)
			case 1:
				clock.Advance(30 * time.Hour)
			default:
				clock.Advance(time.Duration(b) * time.Minute)
			}
			e := env{pol: &pol, at: clock.Now(), by: agent}
			before := inc.Data()
			var err error
			switch b % 18 {
			case 0:
				err = inc.assign(e, "g"+string('a'+rune(b%3)), "", "")
			case 1:
				err = inc.hold(e, []HoldReason{HoldAwaitingCaller, HoldAwaitingChange, HoldAwaitingVendor, ""}[b%4], "asked")
			case 2:
				err = inc.resume(e, "")
			case 3:
				err = inc.resolve(e, ResolvedPermanently, "done")
			case 4:
				err = inc.reopen(e, "again")
			case 5:
				err = inc.close(e, "")
			case 6:
				err = inc.cancel(e, Cancellation{Reason: CancelDuplicate, DuplicateOf: other})
			case 7:
				err = inc.comment(env{pol: &pol, at: e.at, by: caller}, "reply", false, true)
			case 8:
				err = inc.comment(e, "note", b%2 == 0, false)
			case 9:
				imp := itsm.Impact(b%4 + 1)
				_, err = inc.update(e, Update{Impact: &imp})
			case 10:
				err = inc.overridePriority(e, itsm.Priority(b%6), "because")
			case 11:
				err = inc.escalate(e, EscalateHierarchical, "", "late")
			case 12:
				err = inc.escalate(e, EscalateFunctional, "experts", "hard")
			case 13:
				err = inc.majorMove(e, MajorPropose, "big", "")
			case 14:
				err = inc.majorMove(e, MajorAccept, "", "carol")
			case 15:
				err = inc.majorMove(e, []MajorAction{MajorReject, MajorDemote}[b%2], "calm", "")
			case 16:
				err = inc.review(e, "lessons")
			case 17:
				err = inc.linkParent(e, other, nil)
			}
			after := inc.Data()
			if err != nil {
				require.Equal(t, before, after, "a refused command changed the incident: %v", err)
				continue
			}
			require.True(t, pol.Lifecycle.Has(after.Status), "undeclared status %q", after.Status)
			require.True(t, MajorLifecycle().Has(after.Major.Status))
			require.GreaterOrEqual(t, len(after.History), len(before.History))
			require.Equal(t, before.History, after.History[:len(before.History)], "history was rewritten")
			for k := 1; k < len(after.History); k++ {
				require.False(t, after.History[k].At.Before(after.History[k-1].At), "history went backwards")
				require.Equal(t, k+1, after.History[k].Seq)
			}
			raw, err := json.Marshal(after)
			require.NoError(t, err)
			var loaded Data
			require.NoError(t, json.Unmarshal(raw, &loaded))
			back, err := Restore(pol, loaded)
			require.NoError(t, err)
			require.Equal(t, after, back.Data(), "save/load is not identity")
			bin, err := after.MarshalBinary()
			require.NoError(t, err)
			var decoded Data
			require.NoError(t, decoded.UnmarshalBinary(bin))
			require.Equal(t, after, decoded, "the binary encoding is not identity")
		}
	}
}
