package incident

import (
	"strconv"
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// benchIncident runs open → assign → hold → resume → resolve → close on the
// aggregate alone (no service, no SLA), then cycles hold → resume until the
// history holds at least entries entries.
func benchIncident(tb testing.TB, pol *Policy, entries int) *Incident {
	tb.Helper()
	ids := itsmtest.NewIDs(7)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	by := itsm.Actor{ID: "ana", Name: "Ana", Kind: itsm.ActorHuman}
	e := func() env { at = at.Add(time.Minute); return env{pol: pol, at: at, by: by} }
	inc, err := open(e(), itsmtest.MustID[record](tb, ids), "acme", "INC0000001",
		OpenInput{Title: "Mail is down", Caller: "bob", Impact: 2, Urgency: 1, Group: "messaging"})
	if err != nil {
		tb.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(inc.assign(e(), "", "ana", ""))
	for len(inc.d.History) < entries-3 {
		must(inc.hold(e(), HoldAwaitingVendor, ""))
		must(inc.resume(e(), ""))
	}
	must(inc.resolve(e(), ResolvedPermanently, "Restarted the relay"))
	must(inc.close(e(), ""))
	return inc
}

// BenchmarkRestore measures restore's validation of a closed incident as a
// command reads it, with the lifecycle's six history entries and with a
// long history.
func BenchmarkRestore(b *testing.B) {
	pol := DefaultPolicy()
	for _, n := range []int{6, 200} {
		d := *benchIncident(b, &pol, n).d
		b.Run("history="+strconv.Itoa(len(d.History)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := restore(&pol, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPayloads measures the payloads of a lifecycle's six history
// entries, written into one reused buffer.
func BenchmarkPayloads(b *testing.B) {
	pol := DefaultPolicy()
	d := benchIncident(b, &pol, 6).d
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for k := range d.History {
			buf = appendEntryPayload(buf, &d.History[k])
		}
	}
}

// BenchmarkDecide measures the aggregate's part of a lifecycle: open,
// assign, hold, resume, resolve and close through the guards, with no
// storage or SLA.
func BenchmarkDecide(b *testing.B) {
	pol := DefaultPolicy()
	b.ReportAllocs()
	for b.Loop() {
		benchIncident(b, &pol, 6)
	}
}

// BenchmarkEventType measures naming the events of a lifecycle's commands.
func BenchmarkEventType(b *testing.B) {
	commands := []string{"open", "assign", "hold", "resume", "resolve", "close"}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range commands {
			_ = eventType(c)
		}
	}
}
