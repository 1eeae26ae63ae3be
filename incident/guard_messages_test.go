package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/sla"
)

func TestDueForAutoCloseRefusesTheZeroInstant(t *testing.T) {
	d := newDesk(t, false)
	_, err := d.svc.Resolve(context.Background(), tenant, d.open(t).ID(), agent, incident.ResolvedPermanently, "done")
	require.NoError(t, err)
	rule := incident.AutoClose{Days: 1, Calendar: sla.Always(time.UTC), Location: time.UTC}
	due, err := d.svc.DueForAutoClose(context.Background(), tenant, time.Time{}, rule)
	requireField(t, err, "at")
	assert.Nil(t, due)
}

func TestHoldAwaitingCallerSaysWhatTheCommentIsFor(t *testing.T) {
	d := newDesk(t, false)
	for _, comment := range []string{"", "  \n"} {
		_, err := d.svc.Hold(context.Background(), tenant, d.open(t).ID(), agent, incident.HoldAwaitingCaller, comment)
		ve := requireField(t, err, "comment")
		assert.Equal(t, "an awaiting_caller hold needs a comment saying what was asked of the caller", ve.Reason)
	}
}
