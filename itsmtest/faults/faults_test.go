package faults_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/itsmtest/faults"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
	"github.com/itsmkit/itsmkit/storage/storagetest"
)

// Without planned faults the wrapped store keeps the whole contract.
func TestWrappedStorePassesTheSuite(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store {
		s, _ := faults.Wrap(memory.New())
		return s
	})
}

// newData returns a minimal incident the memory store accepts.
func newData(t *testing.T, ids *itsmtest.IDs, n int64) incident.Data {
	t.Helper()
	u, err := ids.NewUUID()
	require.NoError(t, err)
	var id incident.ID
	require.NoError(t, id.UnmarshalText([]byte(u.String())))
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return incident.Data{
		ID: id, Tenant: "acme", Number: incident.FormatNumber("INC", n), Title: "Printer jammed",
		Status: incident.StatusNew, OpenedAt: at, UpdatedAt: at,
		Major:   incident.Major{Status: incident.MajorNone},
		History: []incident.Entry{{Seq: 1, At: at, Command: "open", From: incident.StatusNew, To: incident.StatusNew}},
	}
}

type fixture struct {
	t     *testing.T
	store storage.Store
	inj   *faults.Injector
	repo  incident.Repository
	d     incident.Data // stored, version 1
}

func newFixture(t *testing.T) *fixture {
	s, inj := faults.Wrap(memory.New())
	f := &fixture{t: t, store: s, inj: inj, repo: s.Incidents(), d: newData(t, itsmtest.NewIDs(9), 1)}
	require.NoError(t, f.repo.Create(context.Background(), f.d))
	f.d.Version = 1
	return f
}

// stored returns the incident as stored, read past the injector.
func (f *fixture) stored() incident.Data {
	f.t.Helper()
	f.inj.Clear()
	got, err := f.repo.Get(context.Background(), f.d.Tenant, f.d.ID)
	require.NoError(f.t, err)
	return got
}

// update writes a new title at version v.
func (f *fixture) update(v int64, title string) error {
	d := f.d.Clone()
	d.Version, d.Title = v, title
	return f.repo.Update(context.Background(), d)
}

func TestFaultsOnUpdate(t *testing.T) {
	tests := []struct {
		name string
		plan func(inj *faults.Injector) error
		// want is what the update after the plan's third returns (the 4th
		// since Wrap); written says whether it took effect anyway.
		want    []error
		message string
		written bool
	}{
		{"fail", func(inj *faults.Injector) error { return inj.FailNth(faults.IncidentsUpdate, 3) },
			[]error{faults.ErrInjected}, "faults: injected failure on Incidents.Update call 4", false},
		{"fail with a cause", func(inj *faults.Injector) error {
			return inj.Inject(faults.Fault{Method: faults.IncidentsUpdate, Nth: 3, Kind: faults.Fail, Err: io.ErrUnexpectedEOF})
		}, []error{faults.ErrInjected, io.ErrUnexpectedEOF}, "faults: injected failure on Incidents.Update call 4: unexpected EOF", false},
		{"conflict", func(inj *faults.Injector) error {
			return inj.Inject(faults.Fault{Method: faults.IncidentsUpdate, Nth: 3, Kind: faults.Conflict})
		}, []error{faults.ErrInjected, itsm.ErrConflict}, "faults: injected conflict on Incidents.Update call 4: itsm: conflict", false},
		{"timeout", func(inj *faults.Injector) error { return inj.TimeoutNth(faults.IncidentsUpdate, 3) },
			[]error{faults.ErrInjected, context.DeadlineExceeded}, "faults: injected timeout on Incidents.Update call 4: context deadline exceeded", false},
		{"timeout after the write", func(inj *faults.Injector) error { return inj.TimeoutAfterWriteNth(faults.IncidentsUpdate, 3) },
			[]error{faults.ErrInjected, context.DeadlineExceeded}, "faults: injected timeout after the write on Incidents.Update call 4: context deadline exceeded", true},
		{"any method", func(inj *faults.Injector) error {
			return inj.Inject(faults.Fault{Method: faults.Any, Nth: 3, Kind: faults.Fail})
		}, []error{faults.ErrInjected}, "faults: injected failure on Incidents.Update call 4", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			require.NoError(t, f.update(1, "one"))
			require.NoError(t, tc.plan(f.inj))
			require.NoError(t, f.update(2, "two"), "the fault counts from when it is planned")
			require.NoError(t, f.update(3, "three"))
			err := f.update(4, "four")
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorIs(t, err, w)
			}
			var fe *faults.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, faults.IncidentsUpdate, fe.Method)
			assert.Equal(t, 4, fe.Call, "the call's number since Wrap")
			assert.Equal(t, tc.message, err.Error())
			assert.Zero(t, f.inj.Pending())

			got := f.stored()
			if tc.written {
				assert.Equal(t, "four", got.Title)
				assert.Equal(t, int64(5), got.Version)
			} else {
				assert.Equal(t, "three", got.Title, "nothing was written")
				assert.Equal(t, int64(4), got.Version)
				require.NoError(t, f.update(4, "four"), "the next call goes through")
			}
		})
	}
}

func TestConflictNext(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.inj.ConflictNext(2))
	for i := range 2 {
		err := f.update(1, fmt.Sprintf("try %d", i))
		require.ErrorIs(t, err, itsm.ErrConflict)
	}
	assert.Equal(t, int64(1), f.stored().Version, "conflicts write nothing")
	require.NoError(t, f.update(1, "third time"))
	assert.Equal(t, "third time", f.stored().Title)
	validationError(t, f.inj.ConflictNext(0), "k")
}

func TestFaultsInTransactions(t *testing.T) {
	t.Run("InTx fails before running", func(t *testing.T) {
		f := newFixture(t)
		tr := f.store.(storage.Transactor)
		require.NoError(t, f.inj.FailNth(faults.InTx, 1))
		called := false
		err := tr.InTx(context.Background(), func(context.Context, storage.Store) error {
			called = true
			return nil
		})
		require.ErrorIs(t, err, faults.ErrInjected)
		assert.False(t, called)
	})
	t.Run("commit reported as a timeout", func(t *testing.T) {
		f := newFixture(t)
		tr := f.store.(storage.Transactor)
		require.NoError(t, f.inj.TimeoutAfterWriteNth(faults.InTx, 1))
		err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
			d := f.d.Clone()
			d.Title = "committed"
			return tx.Incidents().Update(ctx, d)
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, "committed", f.stored().Title, "the commit happened")
	})
	t.Run("a write inside fails and the transaction rolls back", func(t *testing.T) {
		f := newFixture(t)
		tr := f.store.(storage.Transactor)
		require.NoError(t, f.inj.FailNth(faults.IncidentsCreate, 2))
		ids := itsmtest.NewIDs(77)
		first, second := newData(t, ids, 2), newData(t, ids, 3)
		err := tr.InTx(context.Background(), func(ctx context.Context, tx storage.Store) error {
			_, ok := tx.(storage.Outbox)
			assert.True(t, ok, "the transaction's store keeps its capabilities")
			if err := tx.Incidents().Create(ctx, first); err != nil {
				return err
			}
			return tx.Incidents().Create(ctx, second)
		})
		require.ErrorIs(t, err, faults.ErrInjected)
		assert.Contains(t, err.Error(), "Incidents.Create call 3")
		_, err = f.repo.Get(context.Background(), "acme", first.ID)
		require.ErrorIs(t, err, itsm.ErrNotFound, "the first create was rolled back")
	})
}

func TestFaultsOnReadsAndCapabilities(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seq := f.store.(storage.Sequences)
	c := f.store.(storage.OutboxConsumer)
	ob := f.store.(storage.Outbox)
	require.NoError(t, f.inj.TimeoutAfterWriteNth(faults.SequencesNext, 1))
	_, err := seq.Next(ctx, "acme", "incident")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	v, err := seq.Next(ctx, "acme", "incident")
	require.NoError(t, err)
	assert.Equal(t, int64(2), v, "the timed-out call drew 1")

	require.NoError(t, f.inj.FailNth(faults.IncidentsGet, 1))
	_, err = f.repo.Get(ctx, "acme", f.d.ID)
	require.ErrorIs(t, err, faults.ErrInjected)
	require.NoError(t, f.inj.FailNth(faults.IncidentsList, 1))
	_, err = f.repo.List(ctx, "acme", incident.Filter{}, incident.Page{})
	require.ErrorIs(t, err, faults.ErrInjected)
	require.NoError(t, f.inj.FailNth(faults.IncidentsGetByNumber, 1))
	_, err = f.repo.GetByNumber(ctx, "acme", f.d.Number)
	require.ErrorIs(t, err, faults.ErrInjected)

	ev := itsm.Event{ID: uuid.MustParse("019c8a4e-0000-7000-8000-0000000000e1"), Type: "incident.opened",
		Tenant: "acme", Subject: f.d.ID.Ref(), Version: 1, At: f.d.OpenedAt, Actor: itsm.Actor{ID: "agent-7"}}
	require.NoError(t, f.inj.TimeoutNth(faults.OutboxAppend, 1))
	require.ErrorIs(t, ob.Append(ctx, ev), context.DeadlineExceeded)
	require.NoError(t, ob.Append(ctx, ev), "the timed-out append wrote nothing")
	// A claim whose answer is lost leaves the events leased until it expires.
	now := f.d.OpenedAt
	req := storage.ClaimRequest{Consumer: "relay", Now: now, Lease: time.Minute}
	require.NoError(t, f.inj.TimeoutAfterWriteNth(faults.OutboxClaim, 1))
	_, err = c.Claim(ctx, req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	b, err := c.Claim(ctx, req)
	require.NoError(t, err)
	assert.Empty(t, b.Events, "the lost claim still holds the event")
	req.Now = now.Add(time.Minute)
	b, err = c.Claim(ctx, req)
	require.NoError(t, err)
	require.Len(t, b.Events, 1)
	require.NoError(t, f.inj.FailNth(faults.OutboxAck, 1))
	require.ErrorIs(t, c.Ack(ctx, b.Lease, b.IDs()...), faults.ErrInjected)
	require.NoError(t, c.Ack(ctx, b.Lease, b.IDs()...))

	assert.Equal(t, 3, f.inj.Calls(faults.OutboxClaim))
	assert.Equal(t, 2, f.inj.Calls(faults.SequencesNext))
	assert.Equal(t, 13, f.inj.Calls(faults.Any))
}

// Under concurrent callers exactly the planned number of calls fail.
func TestConcurrentCallersMeetExactlyThePlannedFaults(t *testing.T) {
	f := newFixture(t)
	const goroutines, perGoroutine = 20, 10
	require.NoError(t, f.inj.Inject(faults.Fault{Method: faults.IncidentsGet, Nth: 50, Times: 5, Kind: faults.Fail}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []int
	for range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				_, err := f.repo.Get(context.Background(), "acme", f.d.ID)
				if err != nil {
					var fe *faults.Error
					if assert.ErrorAs(t, err, &fe) {
						mu.Lock()
						failed = append(failed, fe.Call)
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	assert.ElementsMatch(t, []int{50, 51, 52, 53, 54}, failed)
	assert.Equal(t, goroutines*perGoroutine, f.inj.Calls(faults.IncidentsGet))
}

func validationError(t *testing.T, err error, field string) {
	t.Helper()
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has(field), "%v should name %s", err, field)
}

// Faults whose calls overlap, and a fault with no end: the calls planned
// fail, and Pending comes back to zero once no planned call is left.
func TestOverlappingAndEndlessFaults(t *testing.T) {
	ctx := context.Background()
	get := func(f *fixture) error {
		_, err := f.repo.Get(ctx, f.d.Tenant, f.d.ID)
		return err
	}
	tests := []struct {
		name    string
		plan    []faults.Fault
		want    []error // per call: nil, or the error the call unwraps to
		pending int     // after the calls
	}{
		{
			name: "a later fault inside an earlier one's calls",
			plan: []faults.Fault{
				{Method: faults.IncidentsGet, Nth: 1, Times: 2, Kind: faults.Fail},
				{Method: faults.IncidentsGet, Nth: 2, Kind: faults.Conflict},
			},
			want: []error{faults.ErrInjected, faults.ErrInjected, nil, nil},
		},
		{
			name: "a later fault running past an earlier one",
			plan: []faults.Fault{
				{Method: faults.IncidentsGet, Nth: 1, Times: 2, Kind: faults.Fail},
				{Method: faults.IncidentsGet, Nth: 2, Times: 2, Kind: faults.Conflict},
			},
			want: []error{faults.ErrInjected, faults.ErrInjected, itsm.ErrConflict, nil},
		},
		{
			name:    "every call from the first on",
			plan:    []faults.Fault{{Method: faults.IncidentsGet, Nth: 1, Times: math.MaxInt, Kind: faults.Fail}},
			want:    []error{faults.ErrInjected, faults.ErrInjected, faults.ErrInjected, faults.ErrInjected},
			pending: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for _, p := range tc.plan {
				require.NoError(t, f.inj.Inject(p))
			}
			for i, want := range tc.want {
				err := get(f)
				if want == nil {
					assert.NoError(t, err, "call %d", i+1)
				} else {
					assert.ErrorIs(t, err, want, "call %d", i+1)
				}
			}
			assert.Equal(t, tc.pending, f.inj.Pending())
		})
	}
}

func TestInjectRefusesMalformedFaults(t *testing.T) {
	tests := []struct {
		name  string
		f     faults.Fault
		field string
	}{
		{"unknown method", faults.Fault{Method: "Incidents.Delete", Nth: 1, Kind: faults.Fail}, "method"},
		{"zero nth", faults.Fault{Method: faults.IncidentsGet, Kind: faults.Fail}, "nth"},
		{"negative times", faults.Fault{Method: faults.IncidentsGet, Nth: 1, Times: -1, Kind: faults.Fail}, "times"},
		{"no kind", faults.Fault{Method: faults.IncidentsGet, Nth: 1}, "kind"},
		{"unknown kind", faults.Fault{Method: faults.IncidentsGet, Nth: 1, Kind: 9}, "kind"},
		{"nth past counting", faults.Fault{Method: faults.IncidentsGet, Nth: math.MaxInt, Kind: faults.Fail}, "nth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var inj faults.Injector
			validationError(t, inj.Inject(tc.f), tc.field)
			assert.Zero(t, inj.Pending(), "nothing was planned")
		})
	}
}

func TestWrapKeepsTheCapabilitySet(t *testing.T) {
	type bare struct{ storage.Store }
	type withSeq struct {
		storage.Store
		storage.Sequences
	}
	mem := memory.New()
	tests := []struct {
		name  string
		inner storage.Store
	}{
		{"memory", mem},
		{"incidents only", bare{mem}},
		{"incidents and sequences", withSeq{mem, mem}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := faults.Wrap(tc.inner)
			assert.Equal(t, has[storage.Transactor](tc.inner), has[storage.Transactor](w))
			assert.Equal(t, has[storage.Outbox](tc.inner), has[storage.Outbox](w))
			assert.Equal(t, has[storage.OutboxConsumer](tc.inner), has[storage.OutboxConsumer](w))
			assert.Equal(t, has[storage.Sequences](tc.inner), has[storage.Sequences](w))
			assert.Equal(t, has[storage.CMDB](tc.inner), has[storage.CMDB](w))
		})
	}
}

func has[C any](s storage.Store) bool {
	_, ok := s.(C)
	return ok
}

func TestKindNames(t *testing.T) {
	assert.Equal(t, "failure", faults.Fail.String())
	assert.Equal(t, "Kind(0)", faults.Kind(0).String())
	assert.False(t, errors.Is(&faults.Error{Kind: faults.Fail, Err: io.EOF}, itsm.ErrConflict))
}
