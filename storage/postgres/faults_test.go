package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

const tenant itsm.TenantID = "acme"

var (
	monday9 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	agent   = itsm.Actor{ID: "ana", Name: "Ana"}
)

// hooked is a store whose transactions call before(op) ahead of each
// incident update and outbox append, and ahead of the commit ("commit",
// once the function has returned nil): the places where a fault test
// strikes.
type hooked struct {
	*postgres.Store
	before func(ctx context.Context, op string)
}

func (h hooked) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	return h.Store.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		if err := fn(ctx, hookedTx{Store: tx, before: h.before}); err != nil {
			return err
		}
		h.before(ctx, "commit")
		return nil
	})
}

type hookedTx struct {
	storage.Store
	before func(ctx context.Context, op string)
}

func (x hookedTx) Incidents() incident.Repository {
	return hookedRepo{Repository: x.Store.Incidents(), before: x.before}
}

func (x hookedTx) Append(ctx context.Context, events ...itsm.Event) error {
	x.before(ctx, "append")
	return x.Store.(storage.Outbox).Append(ctx, events...)
}

type hookedRepo struct {
	incident.Repository
	before func(ctx context.Context, op string)
}

func (r hookedRepo) Update(ctx context.Context, d incident.Data) error {
	r.before(ctx, "update")
	return r.Repository.Update(ctx, d)
}

// desk is an incident service on a store, with the pool under it.
type desk struct {
	svc   *incident.Service
	store storage.Store
	pool  *pgxpool.Pool
}

func newDesk(t *testing.T, store storage.Store, pool *pgxpool.Pool, attempts int) *desk {
	t.Helper()
	cfg, err := storage.IncidentConfig(store)
	require.NoError(t, err)
	cfg.Clock = itsmtest.NewSteppingClock(monday9, time.Minute).Func()
	cfg.IDs = itsmtest.NewIDs(42)
	cfg.MaxAttempts = attempts
	svc, err := incident.NewService(cfg)
	require.NoError(t, err)
	return &desk{svc: svc, store: store, pool: pool}
}

func (d *desk) open(t *testing.T) *incident.Incident {
	t.Helper()
	res, err := d.svc.Open(context.Background(), tenant, agent,
		incident.OpenInput{Title: "Mail is down", Caller: "bob", Impact: 2, Urgency: 1, Group: "messaging"})
	require.NoError(t, err)
	return res.Incident
}

// drain claims and acknowledges every event in the outbox and returns
// their types.
func drain(t *testing.T, s storage.Store) []string {
	t.Helper()
	c := s.(storage.OutboxConsumer)
	var types []string
	for {
		b, err := c.Claim(context.Background(), storage.ClaimRequest{Consumer: "test", Limit: 1000, Now: monday9.Add(24 * time.Hour), Lease: time.Minute})
		require.NoError(t, err)
		if len(b.Events) == 0 {
			return types
		}
		for _, e := range b.Events {
			types = append(types, string(e.Type))
		}
		require.NoError(t, c.Ack(context.Background(), b.Lease, b.IDs()...))
	}
}

// admin connects to the test server outside the store's pool.
func admin(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), serverURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// poll runs check until it reports true, at most a bounded number of times
// with a short pause between tries: for server-side effects that land
// asynchronously (a terminated backend leaving pg_stat_activity, a
// statement starting to wait for a lock).
func poll(t *testing.T, what string, check func() bool) {
	t.Helper()
	for range 500 {
		if check() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// terminateTx kills, from conn, the backend of the pool's connection that is
// inside a transaction, and waits until it is gone.
func terminateTx(t *testing.T, conn *pgx.Conn, app string) {
	t.Helper()
	ctx := context.Background()
	var pids []int32
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE application_name = $1 AND state LIKE 'idle in transaction%'`, app)
	require.NoError(t, err)
	pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	require.Len(t, pids, 1, "exactly one connection of the store is inside a transaction")
	var ok bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pids[0]).Scan(&ok))
	require.True(t, ok)
	poll(t, "the terminated backend to go", func() bool {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pids[0]).Scan(&n))
		return n == 0
	})
}

// A backend killed in the middle of a command's transaction leaves the
// incident as it was and no event behind; the command returns an error,
// and running it again applies it fully.
func TestBackendKilledMidTransaction(t *testing.T) {
	serverURL(t)
	for _, at := range []string{"update", "append", "commit"} {
		t.Run("before "+at, func(t *testing.T) {
			inner, pool := openStore(t)
			app := pool.Config().ConnConfig.RuntimeParams["application_name"]
			killer := admin(t)
			armed := false
			store := hooked{Store: inner, before: func(_ context.Context, op string) {
				if armed && op == at {
					armed = false
					terminateTx(t, killer, app)
				}
			}}
			d := newDesk(t, store, pool, 3)
			inc := d.open(t)
			drain(t, d.store)
			ctx := context.Background()

			armed = true
			_, err := d.svc.Comment(ctx, tenant, inc.ID(), agent, "first try", incident.WorkNote)
			require.Error(t, err, "the command's connection died before its commit")
			assert.False(t, armed, "the fault struck")
			got, err := d.svc.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			assert.Equal(t, inc.Version(), got.Version(), "nothing of the command was written")
			assert.Empty(t, got.Data().Comments)
			assert.Empty(t, drain(t, d.store), "no event of the command was committed")

			_, err = d.svc.Comment(ctx, tenant, inc.ID(), agent, "second try", incident.WorkNote)
			require.NoError(t, err, "the pool recovers from the dead connection")
			got, err = d.svc.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			assert.Equal(t, inc.Version()+1, got.Version())
			require.Len(t, got.Data().Comments, 1)
			assert.Equal(t, "second try", got.Data().Comments[0].Text)
			assert.Equal(t, []string{"incident.commented"}, drain(t, d.store))
		})
	}
}

// A server-side timeout, or the caller's context ending while a command
// waits for a row another transaction holds, surfaces as an error and
// writes nothing.
func TestTimeoutsAndCancellationWriteNothing(t *testing.T) {
	serverURL(t)
	tests := []struct {
		name string
		// setting is a server setting of the store's connections.
		setting, value string
		// run runs the command with a context it may end once the update
		// waits for the lock (waiting says so).
		run  func(t *testing.T, d *desk, id incident.ID, waiting func() bool) error
		want error
	}{
		{"statement timeout", "statement_timeout", "200ms", func(t *testing.T, d *desk, id incident.ID, _ func() bool) error {
			_, err := d.svc.Comment(context.Background(), tenant, id, agent, "never stored", incident.WorkNote)
			return err
		}, context.DeadlineExceeded},
		{"lock timeout", "lock_timeout", "200ms", func(t *testing.T, d *desk, id incident.ID, _ func() bool) error {
			_, err := d.svc.Comment(context.Background(), tenant, id, agent, "never stored", incident.WorkNote)
			return err
		}, context.DeadlineExceeded},
		{"cancelled context", "", "", func(t *testing.T, d *desk, id incident.ID, waiting func() bool) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := d.svc.Comment(ctx, tenant, id, agent, "never stored", incident.WorkNote)
				errc <- err
			}()
			poll(t, "the update to wait for the lock", waiting)
			cancel()
			return <-errc
		}, context.Canceled},
		{"context deadline", "", "", func(t *testing.T, d *desk, id incident.ID, _ func() bool) error {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := d.svc.Comment(ctx, tenant, id, agent, "never stored", incident.WorkNote)
			return err
		}, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, pool := openStore(t, func(c *pgxpool.Config) {
				if tc.setting != "" {
					c.ConnConfig.RuntimeParams[tc.setting] = tc.value
				}
			})
			app := pool.Config().ConnConfig.RuntimeParams["application_name"]
			d := newDesk(t, store, pool, 3)
			inc := d.open(t)
			drain(t, store)
			ctx := context.Background()

			// Another transaction holds the incident's row.
			holder := admin(t)
			_, err := holder.Exec(ctx, "SET search_path = "+pool.Config().ConnConfig.RuntimeParams["search_path"])
			require.NoError(t, err)
			lock, err := holder.Begin(ctx)
			require.NoError(t, err)
			_, err = lock.Exec(ctx, "SELECT 1 FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE", string(tenant), [16]byte(inc.ID().UUID()))
			require.NoError(t, err)
			watcher := admin(t)
			waiting := func() bool {
				var n int
				require.NoError(t, watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&n))
				return n > 0
			}

			err = tc.run(t, d, inc.ID(), waiting)
			require.ErrorIs(t, err, tc.want)
			require.NoError(t, lock.Rollback(ctx))

			got, err := d.svc.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			assert.Equal(t, inc.Version(), got.Version(), "nothing was written")
			assert.Empty(t, got.Data().Comments)
			assert.Empty(t, drain(t, store), "no event was committed")
		})
	}
}

// 32 goroutines comment on and escalate the same incident at once through
// the service: every command that succeeded is in the stored incident, and
// with enough attempts every one succeeds.
func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	store, pool := openStore(t, func(c *pgxpool.Config) { c.MaxConns = 16 })
	d := newDesk(t, store, pool, 10_000)
	ctx := context.Background()
	inc := d.open(t)
	const writers, each = 32, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	comments, escalations := 0, 0
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				var err error
				comment := (g+i)%2 == 0
				if comment {
					_, err = d.svc.Comment(ctx, tenant, inc.ID(), agent, fmt.Sprintf("progress %d.%d", g, i), incident.WorkNote)
				} else {
					_, err = d.svc.Escalate(ctx, tenant, inc.ID(), agent, incident.EscalateHierarchical, "", "still down")
				}
				if !assert.NoError(t, err) {
					continue
				}
				mu.Lock()
				if comment {
					comments++
				} else {
					escalations++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got, err := d.svc.Get(ctx, tenant, inc.ID())
	require.NoError(t, err)
	data := got.Data()
	assert.Equal(t, writers*each, comments+escalations, "every command landed")
	assert.Len(t, data.Comments, comments)
	assert.Equal(t, escalations, data.Escalations)
	assert.Equal(t, int64(1+comments+escalations), got.Version(), "one version per command")
	events := drain(t, store)
	assert.Len(t, events, 1+comments+escalations, "one event per command, each committed once")
}

// Two consumers draining the outbox at once deliver every event exactly
// once between them.
func TestTwoConsumersDeliverEachEventOnce(t *testing.T) {
	store, _ := openStore(t)
	ctx := context.Background()
	ids := itsmtest.NewIDs(7)
	const total = 600
	appended := make(map[uuid.UUID]bool, total)
	for batch := range total / 50 {
		evs := make([]itsm.Event, 50)
		for i := range evs {
			id, err := ids.NewUUID()
			require.NoError(t, err)
			subject, err := ids.NewUUID()
			require.NoError(t, err)
			evs[i] = itsm.Event{ID: id, Type: "incident.commented", Tenant: tenant,
				Subject: itsm.Ref{Kind: itsm.KindIncident, ID: subject}, Version: int64(batch + 1),
				At: monday9, Actor: agent, Payload: []byte(`{"n":1}`)}
			appended[id] = true
		}
		require.NoError(t, store.Append(ctx, evs...))
	}
	got := make([][]uuid.UUID, 2)
	var wg, first sync.WaitGroup
	first.Add(len(got))
	for k := range got {
		wg.Go(func() {
			for n := 0; ; n++ {
				if n == 1 {
					// Both hold a batch before either goes on, so both take
					// part whatever the scheduler does.
					first.Done()
					first.Wait()
				}
				b, err := store.Claim(ctx, storage.ClaimRequest{Consumer: fmt.Sprintf("relay-%d", k), Limit: 7, Now: monday9, Lease: time.Hour})
				if !assert.NoError(t, err) || len(b.Events) == 0 {
					if n == 0 {
						first.Done()
					}
					return
				}
				got[k] = append(got[k], b.IDs()...)
				if !assert.NoError(t, store.Ack(ctx, b.Lease, b.IDs()...)) {
					if n == 0 {
						first.Done()
					}
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[uuid.UUID]int{}
	for k, list := range got {
		for _, id := range list {
			prev, dup := seen[id]
			require.False(t, dup, "event %s went to consumers %d and %d", id, prev, k)
			seen[id] = k
		}
	}
	assert.Len(t, seen, total)
	for id := range appended {
		assert.Contains(t, seen, id)
	}
	assert.NotEmpty(t, got[0], "both consumers took part")
	assert.NotEmpty(t, got[1], "both consumers took part")
}
