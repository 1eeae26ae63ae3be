package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

// Clients is how many goroutines send commands at once in the store
// benchmarks, whatever GOMAXPROCS is.
const clients = 16

// perClient is how many incidents each client works on in turn, so that
// clients never write the same row and neither side spends time on
// conflicts.
const perClient = 50

const benchTenant itsm.TenantID = "acme"

var benchAgent = itsm.Actor{ID: "ana", Name: "Ana"}

// benchDB is one benchmark's schema on the server named by
// ITSMKIT_POSTGRES_URL, holding clients×perClient opened incidents.
type benchDB struct {
	pool  *pgxpool.Pool
	svc   *incident.Service
	ids   []incident.ID
	next  atomic.Int64
	clock *itsmtest.Clock
}

var schemaSeq atomic.Int64

func newBenchDB(b *testing.B) *benchDB {
	b.Helper()
	url := os.Getenv("ITSMKIT_POSTGRES_URL")
	if url == "" {
		b.Skip("ITSMKIT_POSTGRES_URL is not set: no PostgreSQL server to benchmark against (scripts/with-postgres starts one)")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("bench_%d_%d", os.Getpid(), schemaSeq.Add(1))
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = clients + 2
	cfg.MinConns = clients
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		pool.Close()
		if admin, err := pgx.Connect(ctx, url); err == nil {
			_, _ = admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = admin.Close(ctx)
		}
	})
	store, err := postgres.Open(ctx, pool, postgres.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	icfg, err := storage.IncidentConfig(store)
	if err != nil {
		b.Fatal(err)
	}
	db := &benchDB{pool: pool, clock: itsmtest.NewSteppingClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), time.Second)}
	icfg.Clock = db.clock.Func()
	icfg.IDs = itsm.UUIDv7Generator()
	db.svc, err = incident.NewService(icfg)
	if err != nil {
		b.Fatal(err)
	}
	for range clients * perClient {
		res, err := db.svc.Open(ctx, benchTenant, benchAgent, incident.OpenInput{
			Title: "Mail is down", Caller: "bob", Impact: 2, Urgency: 2, Group: "messaging",
			Description: "Outbound mail has queued since 08:40; the relay answers slowly."})
		if err != nil {
			b.Fatal(err)
		}
		db.ids = append(db.ids, res.Incident.ID())
	}
	// The opening events are not what is measured.
	if _, err := pool.Exec(ctx, "DELETE FROM outbox"); err != nil {
		b.Fatal(err)
	}
	return db
}

// client returns the incidents of one client goroutine.
func (db *benchDB) client() []incident.ID {
	k := int(db.next.Add(1)-1) % clients
	return db.ids[k*perClient : (k+1)*perClient]
}

// BenchmarkStoreCommand compares one incident command through itsmkit's
// service on storage/postgres (read, decide, versioned update and outbox
// insert in one transaction) with the same statements written by hand
// with pgx, both with 16 clients at once on one server.
//
// The hand-written side does what an application storing the same
// document would at least do: read the row, decode the document, add the
// comment, encode it, and in one transaction update the row under its
// version and insert the event. It skips what the service adds: input and
// authorisation checks, restoring and validating the aggregate, the
// history of the change, building the event from it, and the copies of the
// indexed columns the adapter keeps in step.
func BenchmarkStoreCommand(b *testing.B) {
	b.Run("impl=itsmkit", func(b *testing.B) {
		db := newBenchDB(b)
		b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			mine := db.client()
			for i := 0; pb.Next(); i++ {
				if _, err := db.svc.Comment(ctx, benchTenant, mine[i%len(mine)], benchAgent, "Relay restarted; watching the queue.", incident.WorkNote); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("impl=pgx", func(b *testing.B) {
		db := newBenchDB(b)
		b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			mine := db.client()
			for i := 0; pb.Next(); i++ {
				if err := rawComment(ctx, db, mine[i%len(mine)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// rawComment is the comment command written by hand on pgx.
func rawComment(ctx context.Context, db *benchDB, id incident.ID) error {
	key := [16]byte(id.UUID())
	var version int64
	var doc []byte
	if err := db.pool.QueryRow(ctx, `SELECT version, doc FROM incidents WHERE tenant_id = $1 AND id = $2`,
		string(benchTenant), key).Scan(&version, &doc); err != nil {
		return err
	}
	var d incident.Data
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	at := itsm.Normalize(db.clock.Now())
	by := itsm.ActorRef{ID: benchAgent.ID, Name: benchAgent.Name}
	c := incident.Comment{At: at, By: by, Text: "Relay restarted; watching the queue.", WorkNote: true}
	d.Comments = append(d.Comments, c)
	d.UpdatedAt = at
	d.Version = version + 1
	doc, err := json.Marshal(&d)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return err
	}
	actor, err := json.Marshal(benchAgent)
	if err != nil {
		return err
	}
	eventID, err := uuid.NewV7()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE incidents SET version = version + 1, updated_at = $4, doc = $5
			WHERE tenant_id = $1 AND id = $2 AND version = $3`, string(benchTenant), key, version, at, doc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("incident %s: version conflict", id)
		}
		_, err = tx.Exec(ctx, `INSERT INTO outbox (id, tenant_id, type, subject_kind, subject_id, version, at, actor, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			[16]byte(eventID), string(benchTenant), "incident.commented", string(itsm.KindIncident), key, version+1, at, actor, payload)
		return err
	})
}
