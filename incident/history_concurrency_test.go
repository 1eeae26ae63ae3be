package incident_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// Many goroutines (through two services sharing one memory store) update
// one incident at once, changing CIs so that refreshImpact adds changes to
// the command's own entry, and an Impact function that sometimes fails
// after the entry was appended (a claimed slot left unused). Every
// successful result's history must be a prefix of the final stored
// history, entry for entry, and every entry must be the one its command
// wrote.
func TestConcurrentCommandsKeepOneLinearHistory(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services int
	}{{"one service", 1}, {"two services", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := memory.New()
			var svcs []*incident.Service
			for k := range tc.services {
				d := newDesk(t, false, func(c *incident.Config) {
					cfg, err := storage.IncidentConfig(store)
					require.NoError(t, err)
					c.Repository, c.Numbers = cfg.Repository, cfg.Numbers
					c.IDs = itsmtest.NewIDs(uint64(100 + k))
					c.MaxAttempts = 50
					c.Impact = func(_ context.Context, _ itsm.TenantID, cis []itsm.Ref) ([]itsm.Ref, error) {
						if len(cis) > 0 && cis[0].ID[15]%7 == 3 {
							return nil, errors.New("cmdb down")
						}
						out := make([]itsm.Ref, len(cis))
						for i, ci := range cis {
							out[i] = itsm.Ref{Kind: itsm.KindService, ID: ci.ID}
						}
						return out, nil
					}
				})
				svcs = append(svcs, d.svc)
			}
			in := mailDown()
			opened, err := svcs[0].Open(ctx, tenant, agent, in)
			require.NoError(t, err)
			id := opened.Incident.ID()
			var mu sync.Mutex
			var results []*incident.Incident
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					svc := svcs[g%len(svcs)]
					for i := range 25 {
						title := fmt.Sprintf("g%d-i%d", g, i)
						ci := itsm.Ref{Kind: itsm.KindCI, ID: uuid.UUID{0: byte(g + 1), 14: byte(i), 15: byte(g*31 + i)}}
						cis := []itsm.Ref{ci}
						res, err := svc.Update(ctx, tenant, id, agent, incident.Update{Title: &title, CIs: &cis})
						if err != nil {
							continue // conflicts past the limit, or the failing Impact
						}
						mu.Lock()
						results = append(results, res.Incident)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			final, err := svcs[0].Get(ctx, tenant, id)
			require.NoError(t, err)
			h := final.History()
			t.Logf("%d successful updates, final history %d entries", len(results), len(h))
			require.NotEmpty(t, results)
			for _, r := range results {
				rh := r.History()
				require.LessOrEqual(t, len(rh), len(h))
				require.Equal(t, rh, h[:len(rh)], "the history of version %d is not a prefix of the final one", r.Version())
				require.Equal(t, r.Title(), findTitle(rh[len(rh)-1]), "version %d's last entry is not its own", r.Version())
			}
			for k, e := range h {
				require.Equal(t, k+1, e.Seq)
			}
		})
	}
}

func findTitle(e incident.Entry) string {
	for _, c := range e.Changes {
		if c.Field == "title" {
			return c.To
		}
	}
	return ""
}
