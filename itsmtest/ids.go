package itsmtest

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
)

// IDs is a deterministic generator of version 7 UUIDs for tests. The n-th
// UUID carries the timestamp base+n milliseconds and random bits derived from
// the seed and n, so IDs are valid UUIDv7, sort in the order they were made,
// and are the same on every run. Safe for concurrent use.
type IDs struct {
	mu   sync.Mutex
	seed uint64
	base int64 // milliseconds since the Unix epoch
	n    uint64
}

// idsBase is the timestamp of the first generated UUID: 2026-01-01T00:00:00Z.
var idsBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// NewIDs returns a generator whose sequence is fixed by seed.
func NewIDs(seed uint64) *IDs { return &IDs{seed: seed, base: idsBase} }

// NewUUID returns the next UUID of the sequence. It never fails.
func (g *IDs) NewUUID() (uuid.UUID, error) {
	g.mu.Lock()
	g.n++
	n := g.n
	g.mu.Unlock()
	return g.at(n), nil
}

// Count returns how many UUIDs have been drawn.
func (g *IDs) Count() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

func (g *IDs) at(n uint64) uuid.UUID {
	var u uuid.UUID
	ms := uint64(g.base) + n
	u[0], u[1], u[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	u[3], u[4], u[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	r := splitmix64(g.seed ^ n*0x9e3779b97f4a7c15)
	binary.BigEndian.PutUint16(u[6:8], uint16(r>>48))
	binary.BigEndian.PutUint64(u[8:16], splitmix64(r))
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}

// splitmix64 is a small, well-mixed bijection on 64-bit integers.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

var _ itsm.IDGenerator = (*IDs)(nil)
