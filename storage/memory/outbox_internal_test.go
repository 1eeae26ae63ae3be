package memory

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/storage"
)

// instant orders instants as time.Time does, down to the ends of its range.
func TestInstantOrdersAsTime(t *testing.T) {
	secs := []int64{math.MinInt64, math.MinInt64 + 1, -unixToInternal - 1, -unixToInternal, -unixToInternal + 1,
		-1 << 62, -1, 0, 1, 1 << 62, math.MaxInt64 - unixToInternal, math.MaxInt64 - unixToInternal + 1, math.MaxInt64 - 1, math.MaxInt64}
	var all []time.Time
	for _, s := range secs {
		for _, ns := range []int64{0, 1000, 999_999_000} {
			all = append(all, time.Unix(s, ns).UTC())
		}
	}
	for _, a := range all {
		for _, b := range all {
			require.Equal(t, a.After(b), instantOf(a).after(instantOf(b)), "%v after %v", a, b)
		}
	}
}

func TestLeaseNumbers(t *testing.T) {
	for _, n := range []uint64{1, 9, 10, 12345, math.MaxUint64} {
		require.Equal(t, n, leaseNumber(leaseID(n)))
	}
	for _, id := range []string{"", "lease-", "lease-0", "lease-01", "lease-+1", "lease--1", "lease-1x", "lease- 1",
		"lease-18446744073709551616", "Lease-1", "1", "xlease-1"} {
		require.Zero(t, leaseNumber(storage.LeaseID(id)), "%q", id)
	}
}

func TestCompareIDs(t *testing.T) {
	ids := []uuid.UUID{{}, {15: 1}, {8: 1}, {7: 1}, {0: 1}, {0: 1, 15: 1}, {0: 0xff}}
	for i, a := range ids {
		for j, b := range ids {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			require.Equal(t, want, compareIDs(a, b), "%v vs %v", a, b)
		}
	}
}

func TestBlockList(t *testing.T) {
	var l blockList[int]
	check := func(n int) {
		t.Helper()
		require.Equal(t, n, l.len())
		for i := range n {
			require.Equal(t, i, *l.at(i))
		}
	}
	for _, n := range []int{0, 1, blockLen - 1, blockLen, blockLen + 1, 3*blockLen + 5} {
		for _, keep := range []int{0, 1, blockLen - 1, blockLen, blockLen + 1, 2 * blockLen, n} {
			if keep > n {
				continue
			}
			l.truncate(0)
			for i := range n {
				l.push(i)
			}
			check(n)
			l.truncate(keep)
			check(keep)
			require.LessOrEqual(t, len(l.blocks), max(1, (keep+blockLen-1)/blockLen), "blocks beyond %d are freed", keep)
			for i := keep; i < n+7; i++ {
				l.push(i)
			}
			check(n + 7)
		}
	}
}
