package incident

import (
	"testing"
	"time"
)

// Extra instants the fuzz does not try: a zone named UTC at offset 0,
// a monotonic reading on whole microseconds, the Unix epoch, year 1 in
// a zone.
func TestRestoreFastPathInstants(t *testing.T) {
	pol := DefaultPolicy()
	stages := restoreStages(t, &pol)
	base := stages[len(stages)-2].History[0].At
	mono := time.Now().Truncate(time.Microsecond) // keeps the monotonic reading
	instants := []time.Time{
		base.In(time.FixedZone("UTC", 0)), mono, time.Unix(0, 0), time.Unix(0, 0).UTC(),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600)), base.Round(0), base.In(time.UTC),
	}
	for si, st := range stages {
		for ii, in := range instants {
			for _, where := range []string{"comment", "h0", "hlast", "opened"} {
				d := st.Clone()
				switch where {
				case "comment":
					if len(d.Comments) == 0 {
						continue
					}
					d.Comments[0].At = in
				case "h0":
					d.History[0].At = in
				case "hlast":
					d.History[len(d.History)-1].At = in
				case "opened":
					d.OpenedAt = in
				}
				slow := dataErrors(&pol, &d)
				if fast := wellFormed(&pol, &d); fast != (slow == nil) {
					t.Errorf("stage %d instant %d %s: wellFormed=%v full=%v", si, ii, where, fast, slow)
				}
			}
		}
	}
}
