package memory_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// Appenders (some in transactions that roll back) and relays (some
// acknowledging inside transactions) run at once on one store. With leases
// that never expire, every committed event is claimed exactly once and
// acknowledged, and no rolled-back one is ever claimed.
func TestOutboxConcurrentRelays(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ackInTx bool
	}{{"ack outside transactions", false}, {"ack inside transactions every other time", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := memory.New()
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			subj := itsm.Ref{Kind: itsm.KindIncident, ID: [16]byte{1}}
			var mu sync.Mutex
			committed := map[uuid.UUID]bool{}
			rolledBack := map[uuid.UUID]bool{}
			claimed := map[uuid.UUID]int{}
			var appenders sync.WaitGroup
			boom := errors.New("boom")
			for g := range 6 {
				appenders.Add(1)
				go func() {
					defer appenders.Done()
					ids := itsmtest.NewIDs(uint64(1000 + g)) // six interleaved generators: IDs out of order
					for i := range 150 {
						evs := testEvents(t, ids, subj, 1+i%9)
						if i%5 == 4 {
							err := s.InTx(ctx, func(ctx context.Context, st storage.Store) error {
								require.NoError(t, st.(storage.Outbox).Append(ctx, evs...))
								return boom
							})
							require.ErrorIs(t, err, boom)
							mu.Lock()
							for _, e := range evs {
								rolledBack[e.ID] = true
							}
							mu.Unlock()
							continue
						}
						require.NoError(t, s.Append(ctx, evs...))
						mu.Lock()
						for _, e := range evs {
							committed[e.ID] = true
						}
						mu.Unlock()
					}
				}()
			}
			var stop atomic.Bool
			var relays sync.WaitGroup
			for r := range 3 {
				relays.Add(1)
				go func() {
					defer relays.Done()
					for k := 0; ; k++ {
						done := stop.Load()
						b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: 1 + (r*37+k)%200, Now: now, Lease: 24 * time.Hour})
						require.NoError(t, err)
						if len(b.Events) == 0 {
							if done {
								return
							}
							continue
						}
						mu.Lock()
						for _, e := range b.Events {
							claimed[e.ID]++
						}
						mu.Unlock()
						ids := b.IDs()
						for i := 0; i < len(ids); i += 2 { // acknowledge in a different order
							j := len(ids) - 1 - i
							ids[i], ids[j] = ids[j], ids[i]
						}
						if tc.ackInTx && k%2 == 0 {
							require.NoError(t, s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
								return s.Ack(ctx, b.Lease, ids...)
							}))
						} else {
							require.NoError(t, s.Ack(ctx, b.Lease, ids...))
						}
					}
				}()
			}
			appenders.Wait()
			stop.Store(true)
			relays.Wait()
			for id, n := range claimed {
				require.Equal(t, 1, n, "event %s claimed %d times under unexpired leases", id, n)
				require.True(t, committed[id], "event %s was claimed but never committed", id)
			}
			require.Len(t, claimed, len(committed), "committed events never claimed")
			later, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Limit: storage.MaxClaimLimit, Now: now.Add(48 * time.Hour), Lease: time.Hour})
			require.NoError(t, err)
			require.Empty(t, later.Events, "acknowledged events came back")
		})
	}
}
