package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// A record the store accepts must read back.
func TestAcceptedRecordReadsBack(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	d := closed(itsmtest.NewIDs(5), 1)
	d.SLA = sla.State{
		Record: d.ID.Ref(),
		AsOf:   time.Unix(1<<62, 0).UTC(),
		Timers: []sla.Timer{{Record: d.ID.Ref(), Stage: sla.StageCompleted, StartedAt: time.Unix(-(1<<62)-10, 0).UTC()}},
	}
	require.NoError(t, s.Incidents().Create(ctx, d))
	_, err := s.Incidents().Get(ctx, d.Tenant, d.ID)
	require.NoError(t, err)
}
