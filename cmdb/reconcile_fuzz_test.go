package cmdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// fuzzBytes hands out the fuzzer's bytes one at a time, then zeros.
type fuzzBytes struct {
	b []byte
}

func (f *fuzzBytes) next() int {
	if len(f.b) == 0 {
		return 0
	}
	v := f.b[0]
	f.b = f.b[1:]
	return int(v)
}

func (f *fuzzBytes) pick(n int) int { return f.next() % n }

// Vocabularies small enough for items to collide often.
var (
	rfClasses = []cmdb.ClassName{cmdb.ClassServer, cmdb.ClassVirtualMachine, cmdb.ClassApplication, cmdb.ClassDatabase, cmdb.ClassStorageDevice, cmdb.ClassServer}
	rfAttrs   = map[cmdb.ClassName][]string{
		cmdb.ClassServer:         {"serial_number", "os", "cpu_count", "environment"},
		cmdb.ClassVirtualMachine: {"vm_uuid", "os", "environment"},
		cmdb.ClassApplication:    {"version", "environment"},
		cmdb.ClassDatabase:       {"version", "port"},
		cmdb.ClassStorageDevice:  {"serial_number", "model"},
	}
	rfTypes   = []cmdb.RelTypeName{cmdb.RelRunsOn, cmdb.RelHostedOn, cmdb.RelDependsOn, cmdb.RelVirtualizedBy, cmdb.RelContains, cmdb.RelDependsOn}
	rfSources = []cmdb.SourceName{"scan", "sccm", "vcenter"}
)

// rfValue returns a value of the right type for attribute a.
func rfValue(f *fuzzBytes, a string) cmdb.Value {
	switch a {
	case "cpu_count", "port":
		return cmdb.IntValue(int64(f.pick(3)))
	case "environment":
		return cmdb.StringValue([]string{"production", "test"}[f.pick(2)])
	}
	return cmdb.StringValue([]string{"a", "b", "c"}[f.pick(3)])
}

// fuzzBatch decodes a batch for the fuzzer. Most batches are valid; one
// byte in a while plants one of a few mistakes, so that refusals are
// exercised too.
func fuzzBatch(f *fuzzBytes, at time.Time) cmdb.Batch {
	b := cmdb.Batch{Tenant: rcTenant, Source: rfSources[f.pick(len(rfSources))], At: at.Add(time.Duration(f.pick(9)-1) * time.Hour)}
	flags := f.next()
	b.Complete, b.AllowMassRetire = flags&1 != 0, flags&2 != 0
	n := f.pick(7)
	for i := range n {
		native := i + f.pick(3)*2 // overlapping ranges across batches
		it := cmdb.Item{
			NativeID:   fmt.Sprint("n", native),
			Class:      rfClasses[f.pick(len(rfClasses))],
			Name:       []string{"web", "db", "app"}[f.pick(3)],
			Attributes: map[string]cmdb.Value{},
		}
		switch it.Class {
		case cmdb.ClassServer, cmdb.ClassVirtualMachine:
			it.Attributes["hostname"] = rfValue(f, "hostname")
		case cmdb.ClassDatabase:
			it.Attributes["engine"] = rfValue(f, "engine")
		}
		for range f.pick(4) {
			as := rfAttrs[it.Class]
			a := as[f.pick(len(as))]
			it.Attributes[a] = rfValue(f, a)
		}
		for range f.pick(4) / 2 {
			it.Links = append(it.Links, cmdb.Link{Type: rfTypes[f.pick(len(rfTypes))], Target: fmt.Sprint("n", f.pick(8)), Reverse: f.pick(8) == 0})
		}
		switch f.pick(32) { // the occasional mistake
		case 0:
			it.Class = "nope"
		case 1:
			it.Name = ""
		case 2:
			it.Attributes["colour"] = cmdb.StringValue("red")
		case 3:
			it.Attributes["hostname"] = cmdb.BoolValue(true)
		case 4:
			it.NativeID = "n0"
		case 5:
			b.Source = "Bad!"
		case 6:
			b.At = time.Time{}
		case 7:
			it.Links = append(it.Links, cmdb.Link{Type: "nope", Target: "n0"})
		}
		b.Items = append(b.Items, it)
	}
	return b
}

// FuzzReconcile reconciles random batches into a store seeded by two
// sources: planning never panics, a refused batch gets a
// *itsm.ValidationError and writes nothing, and applying an accepted plan
// gives exactly the state the dry run predicted, without duplicate chains.
func FuzzReconcile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 1, 0, 0, 0, 2, 0, 0})
	f.Add([]byte{1, 0, 3, 2, 2, 0, 1, 1, 1, 0, 2, 1, 0, 0, 0, 3, 1, 1, 2, 0, 1})
	f.Add([]byte{2, 1, 1, 4, 1, 1, 1, 1, 2, 2, 1, 3, 0, 1, 2, 5, 1, 1, 3, 4, 0, 2, 1, 1, 0, 0})
	f.Add([]byte("reconcile a few servers and their applications"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg := cmdb.NewRegistry()
		rules := cmdb.DefaultRules()
		rules.Authority = map[cmdb.ClassName]map[string][]cmdb.Authority{
			cmdb.ClassComputer: {"os": {{Source: "sccm", Staleness: time.Hour}, {Source: "vcenter"}}},
		}
		rules.MassRetireFraction = decimal.New(3, -1)
		rc, err := cmdb.NewReconciler(reg, rules)
		require.NoError(t, err)
		repo, err := storage.CMDBRepository(memory.New(), reg)
		require.NoError(t, err)
		ids := itsmtest.NewIDs(uint64(len(data)))
		ctx := context.Background()
		seed := []cmdb.Batch{
			{Tenant: rcTenant, Source: "scan", At: rcT0, Complete: true, Items: []cmdb.Item{
				server("n0", "web", "a", "os", "b"), server("n1", "db", "b"),
				{NativeID: "n2", Class: cmdb.ClassApplication, Name: "app", Links: []cmdb.Link{{Type: cmdb.RelRunsOn, Target: "n0"}}},
			}},
			{Tenant: rcTenant, Source: "sccm", At: rcT0, Items: []cmdb.Item{server("n0", "web2", "a"), server("n3", "db", "")}},
		}
		for _, b := range seed {
			_, err := rc.Reconcile(ctx, repo, ids, b)
			require.NoError(t, err)
		}
		in := &fuzzBytes{b: data}
		for round := range 2 {
			b := fuzzBatch(in, rcT0.Add(time.Duration(round+1)*2*time.Hour))
			before, err := cmdb.LoadSnapshot(ctx, repo, rcTenant)
			require.NoError(t, err)
			plan, err := rc.Plan(before, b, ids)
			if err != nil {
				var ve *itsm.ValidationError
				require.True(t, errors.As(err, &ve), "a refused batch gets a validation error, not %v", err)
				after, err := cmdb.LoadSnapshot(ctx, repo, rcTenant)
				require.NoError(t, err)
				require.Equal(t, before.Records(), after.Records())
				continue
			}
			predicted, err := before.Apply(plan)
			require.NoError(t, err)
			require.NoError(t, plan.Apply(ctx, repo))
			after, err := cmdb.LoadSnapshot(ctx, repo, rcTenant)
			require.NoError(t, err)
			require.Equal(t, predicted.Records(), after.Records(), "the store holds what the dry run predicted")
			require.Equal(t, predicted.Relationships(), after.Relationships())
			for _, r := range after.Records() {
				require.NoError(t, reg.ValidateRecord(r))
				if r.DuplicateOf.IsZero() {
					continue
				}
				target, ok := after.Record(r.DuplicateOf)
				require.True(t, ok, "duplicate of a missing CI")
				require.True(t, target.DuplicateOf.IsZero(), "a chain of duplicates")
			}
		}
	})
}
