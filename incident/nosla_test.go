package incident_test

import (
	"testing"

	"github.com/itsmkit/itsmkit/incident"
)

func BenchmarkTmpLifecycleNoSLA(b *testing.B) {
	d := newDesk(b, false, func(c *incident.Config) { c.SLA = nil })
	b.ReportAllocs()
	for b.Loop() {
		lifecycle(b, d)
	}
}
