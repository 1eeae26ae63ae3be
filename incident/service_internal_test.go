package incident

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/itsmkit/itsmkit/sla"
)

func TestSLAEventType(t *testing.T) {
	for _, k := range []sla.EventKind{sla.EventAttached, sla.EventPaused, sla.EventResumed, sla.EventCompleted,
		sla.EventCanceled, sla.EventRetargeted, sla.EventThreshold, sla.EventBreached, "future_kind"} {
		assert.Equal(t, "sla."+string(k), string(slaEventType(k)))
	}
}
