package itsmtest_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 21, 9, 0, 0, 1500, time.UTC)
	c := itsmtest.NewClock(start)
	assert.Equal(t, itsm.Normalize(start), c.Now())
	assert.Equal(t, itsm.Normalize(start), c.Now(), "a fixed clock does not move by itself")
	assert.Equal(t, itsm.Normalize(start).Add(time.Hour), c.Advance(time.Hour))
	c.Set(start.Add(-time.Minute))
	assert.Equal(t, itsm.Normalize(start.Add(-time.Minute)), c.Func()())
	c.SetStep(time.Second)
	first, second := c.Now(), c.Now()
	assert.Equal(t, time.Second, second.Sub(first))
	assert.Equal(t, second.Add(time.Second), c.Peek())
	assert.True(t, itsm.IsNormalized(c.Peek()))
}

// Steps and advances that are not whole microseconds add up exactly, and
// readings stay distinct and normalised.
func TestClockKeepsFractionsOfAMicrosecond(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		step  time.Duration
		reads int
		last  time.Time // the last reading
	}{
		{"a step under a microsecond is one", 500 * time.Nanosecond, 1000, start.Add(999 * time.Microsecond)},
		{"one and a half microseconds", 1500 * time.Nanosecond, 1000, start.Add(999 * 1500 * time.Nanosecond).Truncate(time.Microsecond)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := itsmtest.NewSteppingClock(start, tc.step)
			var prev, last time.Time
			for i := range tc.reads {
				last = c.Now()
				require.True(t, itsm.IsNormalized(last))
				if i > 0 {
					require.True(t, last.After(prev), "reading %d", i)
				}
				prev = last
			}
			assert.Equal(t, tc.last, last)
		})
	}
	t.Run("advances", func(t *testing.T) {
		c := itsmtest.NewClock(start)
		c.Advance(400 * time.Nanosecond)
		c.Advance(400 * time.Nanosecond)
		assert.Equal(t, start, c.Peek(), "800 ns: the same microsecond")
		assert.Equal(t, start.Add(time.Microsecond), c.Advance(400*time.Nanosecond))
	})
}

func TestSteppingClockIsSafeForConcurrentUse(t *testing.T) {
	c := itsmtest.NewSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Millisecond)
	var mu sync.Mutex
	seen := map[time.Time]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				now := c.Now()
				mu.Lock()
				seen[now] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, seen, 800, "every reading is a distinct instant")
}

func TestIDsAreDeterministicValidAndOrdered(t *testing.T) {
	a, b := itsmtest.NewIDs(42), itsmtest.NewIDs(42)
	other := itsmtest.NewIDs(43)
	var prev uuid.UUID
	for i := 0; i < 1000; i++ {
		x, err := a.NewUUID()
		require.NoError(t, err)
		y, _ := b.NewUUID()
		z, _ := other.NewUUID()
		assert.Equal(t, x, y, "same seed, same sequence")
		assert.NotEqual(t, x, z, "another seed, another sequence")
		assert.Equal(t, uuid.Version(7), x.Version())
		assert.Equal(t, uuid.RFC4122, x.Variant())
		if i > 0 {
			assert.Less(t, prev.String(), x.String(), "IDs sort in the order made")
		}
		prev = x
	}
	assert.Equal(t, uint64(1000), a.Count())
}

func TestIDsUniqueUnderConcurrency(t *testing.T) {
	g := itsmtest.NewIDs(7)
	var mu sync.Mutex
	seen := map[uuid.UUID]bool{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				u, _ := g.NewUUID()
				mu.Lock()
				seen[u] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, seen, 2000)
}

type ticket struct{}

func (ticket) RecordKind() itsm.Kind { return itsm.KindIncident }

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func TestHelpers(t *testing.T) {
	id := itsmtest.MustID[ticket](t, itsmtest.NewIDs(1))
	assert.False(t, id.IsZero())
	assert.Equal(t, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), itsmtest.MustTime(t, "America/New_York", "2026-03-08 03:30"))
	assert.Equal(t, itsm.TenantID("t-acme"), itsmtest.Tenant(t, "acme"))
	require.NoError(t, itsmtest.Agent("ana").Validate())
	require.NoError(t, itsmtest.System().Validate())
	assert.False(t, itsmtest.System().IsHuman())

	tests := []struct {
		name string
		call func(tb testing.TB)
	}{
		{"unknown zone", func(tb testing.TB) { itsmtest.MustLocation(tb, "Mars/Olympus") }},
		{"bad wall time", func(tb testing.TB) { itsmtest.MustTime(tb, "UTC", "yesterday") }},
		{"bad tenant", func(tb testing.TB) { itsmtest.Tenant(tb, "a b") }},
		{"failing generator", func(tb testing.TB) {
			itsmtest.MustID[ticket](tb, itsm.IDGeneratorFunc(func() (uuid.UUID, error) { return uuid.Nil, nil }))
		}},
		{"bad lifecycle", func(tb testing.TB) { itsmtest.MustLifecycle(tb, itsm.LifecycleSpec[string, string]{Name: "x"}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			tc.call(r)
			assert.Len(t, r.failed, 1)
		})
	}
}

func ExampleNewSteppingClock() {
	clock := itsmtest.NewSteppingClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), time.Minute)
	now := clock.Func() // hand this to a service as its itsm.Clock
	fmt.Println(now().Format(time.Kitchen), now().Format(time.Kitchen))
	clock.Advance(time.Hour)
	fmt.Println(now().Format(time.Kitchen))
	// Output:
	// 9:00AM 9:01AM
	// 10:02AM
}

func ExampleNewIDs() {
	ids := itsmtest.NewIDs(1)
	a, _ := ids.NewUUID()
	b, _ := ids.NewUUID()
	again, _ := itsmtest.NewIDs(1).NewUUID()
	fmt.Println(a.Version(), a.String() < b.String(), a == again)
	// Output:
	// VERSION_7 true true
}
