package cmdb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// benchBatch returns n items: three servers for every application that
// runs on one of them.
func benchBatch(n int, at time.Time) cmdb.Batch {
	b := cmdb.Batch{Tenant: rcTenant, Source: "scan", At: at, Complete: true, Items: make([]cmdb.Item, 0, n)}
	s := cmdb.StringValue
	for i := range n {
		if i%4 == 3 {
			b.Items = append(b.Items, cmdb.Item{NativeID: fmt.Sprint("app-", i), Class: cmdb.ClassApplication, Name: "svc",
				Attributes: map[string]cmdb.Value{"version": s("1.0")}, Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: fmt.Sprint("srv-", i-1)}}})
			continue
		}
		name := fmt.Sprint("host", i)
		b.Items = append(b.Items, cmdb.Item{NativeID: fmt.Sprint("srv-", i), Class: cmdb.ClassServer, Name: name, Attributes: map[string]cmdb.Value{
			"hostname": s(name), "serial_number": s(fmt.Sprint("SN", i)), "os": s("Linux"), "ip_address": s(fmt.Sprint("10.", i>>16, ".", i>>8&255, ".", i&255)),
			"environment": s("production"), "cpu_count": cmdb.IntValue(8),
		}})
	}
	return b
}

// BenchmarkReconcile reconciles a 100,000-item batch into the memory store,
// in one transaction: into an empty store (every CI and relationship
// created) and again a day later (every CI matched by its native key and
// rewritten). It reports items per second.
func BenchmarkReconcile(b *testing.B) {
	const n = 100_000
	reg := cmdb.NewRegistry()
	rc, err := cmdb.NewReconciler(reg, cmdb.DefaultRules())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	fill := func(ids *itsmtest.IDs) cmdb.Repository {
		repo, err := storage.CMDBRepository(memory.New(), reg)
		if err != nil {
			b.Fatal(err)
		}
		return repo
	}
	batch := benchBatch(n, rcT0)
	later := benchBatch(n, rcT0.Add(24*time.Hour))
	for _, tc := range []struct {
		name  string
		setup func(repo cmdb.Repository, ids *itsmtest.IDs)
		batch cmdb.Batch
	}{
		{"scenario=create", func(cmdb.Repository, *itsmtest.IDs) {}, batch},
		{"scenario=update", func(repo cmdb.Repository, ids *itsmtest.IDs) {
			if _, err := rc.Reconcile(ctx, repo, ids, batch); err != nil {
				b.Fatal(err)
			}
		}, later},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				ids := itsmtest.NewIDs(9)
				repo := fill(ids)
				tc.setup(repo, ids)
				b.StartTimer()
				start := time.Now()
				if _, err := rc.Reconcile(ctx, repo, ids, tc.batch); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "items/s")
		})
	}
}
