package memory

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
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

// Appends write each encoding straight into the chunk made room for: every
// event lies within its chunk, reads back as appended, and no chunk grew
// past the size it was made with (a batch too large for any has one of its
// own); undoing an append gives its room back.
func TestAppendWritesInPlace(t *testing.T) {
	gen := itsmtest.NewIDs(3)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	event := func(payload int, name string) itsm.Event {
		e := drainEvent(t, gen, now)
		e.Actor.Name = name
		e.Payload = json.RawMessage(`{"x":"` + strings.Repeat("x", payload) + `"}`)
		return e
	}
	tests := []struct {
		name    string
		batches [][2]int // events per batch, payload bytes per event
		long    bool     // names written out, near their bound
	}{
		{"small batches across chunks", [][2]int{{2, 300}, {3, 700}, {2, 1500}, {40, 200}, {2, 300}}, false},
		{"a batch larger than any chunk", [][2]int{{2, 100}, {3, 100 << 10}, {1, 10}}, false},
		{"names written out", [][2]int{{5, 10}, {50, 600}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New()
			ctx := context.Background()
			var want []itsm.Event
			own := map[int]bool{} // the room batches asked for
			var arrays []*byte    // each chunk's array
			for _, b := range tt.batches {
				evs := make([]itsm.Event, b[0])
				for i := range evs {
					name := "Ana"
					if tt.long {
						name = strings.Repeat("n", maxName+1+i)
					}
					evs[i] = event(b[1], name)
				}
				size, err := s.prepareEvents(evs, false)
				require.NoError(t, err)
				own[size] = true
				require.NoError(t, s.Append(ctx, evs...))
				want = append(want, evs...)
				for i, c := range s.box.text {
					if i < len(arrays) {
						require.Same(t, arrays[i], &c[:1][0], "chunk %d moved", i)
					} else {
						arrays = append(arrays, &c[:1][0])
					}
				}
			}
			caps := make([]int, len(s.box.text))
			for i, c := range s.box.text {
				caps[i] = cap(c)
			}
			for i := range s.box.queue.len() {
				e := s.box.queue.at(i)
				require.LessOrEqual(t, int(e.off+e.n), len(s.box.text[e.chunk]))
				got, err := s.box.names.decodeEvent(e.id, string(s.box.encoding(e)))
				require.NoError(t, err)
				require.Equal(t, want[i], got)
			}
			for i, c := range caps {
				require.True(t, own[c] || c <= maxChunk && c == minChunk<<(bits.Len(uint(c/minChunk))-1),
					"chunk %d of %d bytes, neither a chunk size nor a batch's room", i, c)
			}
			// An append undone leaves the text as it was.
			before := len(s.box.text[len(s.box.text)-1])
			chunks := len(s.box.text)
			boom := errors.New("boom")
			err := s.InTx(ctx, func(ctx context.Context, _ storage.Store) error {
				require.NoError(t, s.Append(ctx, event(maxChunk, "Ana"), event(10, "Ana")))
				return boom
			})
			require.ErrorIs(t, err, boom)
			require.Len(t, s.box.text, chunks+1, "the undone batch's own chunk stays, emptied")
			require.Equal(t, before, len(s.box.text[chunks-1]))
			require.Empty(t, s.box.text[chunks])
		})
	}
}

// The payloads of a claimed batch share one array, each clipped to its
// own length: growing or changing one changes no other event's, nor the
// outbox's; no payload stays nil and an empty one stays empty.
func TestClaimedPayloadsShareOneArrayApart(t *testing.T) {
	ctx := context.Background()
	s := New()
	gen := itsmtest.NewIDs(9)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	payloads := []json.RawMessage{nil, {}, json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":2}`), nil, json.RawMessage(`{"c":3}`)}
	want := make([]itsm.Event, len(payloads))
	for i, p := range payloads {
		want[i] = drainEvent(t, gen, now)
		want[i].Payload = p
	}
	require.NoError(t, s.Append(ctx, want...))
	claim := func(at time.Time) []itsm.Event {
		t.Helper()
		b, err := s.Claim(ctx, storage.ClaimRequest{Consumer: "r", Now: at, Lease: time.Minute})
		require.NoError(t, err)
		return b.Events
	}
	got := claim(now)
	require.Equal(t, want, got)
	require.Nil(t, got[0].Payload)
	require.NotNil(t, got[1].Payload)
	for i := range got {
		require.Equal(t, len(got[i].Payload), cap(got[i].Payload), "event %d's payload clipped", i)
	}
	got[2].Payload = append(got[2].Payload, "more"...)
	require.Equal(t, json.RawMessage(`{"a":1}more`), got[2].Payload)
	require.Equal(t, want[3].Payload, got[3].Payload, "the next payload is not overwritten")
	got[3].Payload[1] = 'X'
	require.Equal(t, want[5].Payload, got[5].Payload)
	require.Equal(t, want, claim(now.Add(time.Hour)), "the outbox kept its own")
}
