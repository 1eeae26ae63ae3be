package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// entry is one event in the outbox. It holds no pointer: the queue keeps
// entries by value, so a backlog of undelivered events is memory the
// garbage collector never scans.
type entry struct {
	id uuid.UUID
	// lease is the number of the lease (see leaseID) that holds the event
	// until until; 0 when the event was never claimed.
	lease uint64
	until instant
	// chunk, off and n locate the event's encoding (see appendEvent) in
	// the outbox's text: text[chunk][off:off+n].
	chunk, off, n uint32
	// gone marks an acknowledged event still in the queue.
	gone bool
}

// outbox is a queue of events in append order, with an index by event ID.
// Neither holds pointers; the events' encodings sit in text, in chunks
// shared by many events.
type outbox struct {
	queue []entry
	// byID holds the position in queue of every event not acknowledged.
	byID map[uuid.UUID]int
	// text holds the encodings, appended to its last chunk.
	text [][]byte
	// top is the greatest ID ever appended (the zero UUID before any):
	// every event in the outbox has an ID no greater, so an append whose
	// IDs are all greater (event IDs are UUIDv7, which grow) needs no
	// lookup to know they are new. Undoing an append leaves it as it is.
	top uuid.UUID
	// dead counts gone entries still in queue.
	dead int
	// peak is the most entries byID has held since it was last made:
	// Go maps never shrink, so compact remakes it once it holds far fewer.
	peak int
}

// Sizes of the chunks of outbox.text: each one twice the last, from the
// smallest to the largest; an append too large for one gets a chunk of
// its own.
const (
	minChunk = 4 << 10
	maxChunk = 256 << 10
)

// pending is an append's events, encoded outside the store's lock and
// waiting to enter the outbox.
type pending struct {
	// enc holds the encodings one after another; buf is the pooled buffer
	// it belongs to.
	enc []byte
	buf *[]byte
	// ends[i] is where the encoding of event i ends in enc; more replaces
	// it when there are more events than it holds.
	ends [16]int
	more []int
	n    int
}

// end returns where the encoding of event i ends in p.enc.
func (p *pending) end(i int) int {
	if p.more != nil {
		return p.more[i]
	}
	return p.ends[i]
}

// id returns the ID of event i, which starts its encoding.
func (p *pending) id(i int) uuid.UUID {
	start := 0
	if i > 0 {
		start = p.end(i - 1)
	}
	return uuid.UUID(p.enc[start : start+len(uuid.UUID{})])
}

// Append adds events to the outbox; see storage.Outbox. Called with the
// context of a transaction, the events commit or vanish with it.
func (s *Store) Append(ctx context.Context, events ...itsm.Event) error {
	return s.append(ctx, nil, events)
}

func (s *Store) append(ctx context.Context, t *tx, events []itsm.Event) error {
	p, err := s.prepareEvents(events, true)
	if err != nil {
		return err
	}
	if p.n == 0 {
		return ctx.Err()
	}
	defer s.releaseEvents(&p)
	return s.write(ctx, t, func(t *tx) error {
		if err := s.checkEvents(&p); err != nil {
			return err
		}
		s.addEvents(t, &p)
		return nil
	})
}

// prepareEvents checks events for an append (validating each one when
// validate is set) and encodes them, into a pooled buffer that
// releaseEvents gives back once addEvents has copied them. The encodings
// copy everything, so nothing is shared with the caller.
func (s *Store) prepareEvents(events []itsm.Event, validate bool) (pending, error) {
	if validate {
		if err := storage.ValidateEvents(events); err != nil {
			return pending{}, err
		}
	}
	if len(events) == 0 {
		return pending{}, nil
	}
	if !ascending(events) {
		for i, e := range events {
			for _, prev := range events[:i] {
				if prev.ID == e.ID {
					return pending{}, fmt.Errorf("memory: event %s appears twice in one append: %w", e.ID, itsm.ErrAlreadyExists)
				}
			}
		}
	}
	p := pending{n: len(events), buf: s.buffer()}
	if len(events) > len(p.ends) {
		p.more = make([]int, len(events))
	}
	b := (*p.buf)[:0]
	for i := range events {
		b = appendEvent(b, &events[i])
		if p.more != nil {
			p.more[i] = len(b)
		} else {
			p.ends[i] = len(b)
		}
	}
	p.enc = b
	if uint64(len(b)) > math.MaxUint32 {
		s.releaseEvents(&p)
		return pending{}, fmt.Errorf("memory: %d events take %d bytes encoded, more than one append can hold: %w", len(events), len(b), itsm.ErrInvalid)
	}
	return p, nil
}

// ascending reports whether the events' IDs grow strictly, as UUIDv7 IDs
// drawn one after another do: then none repeats.
func ascending(events []itsm.Event) bool {
	for i := 1; i < len(events); i++ {
		if compareIDs(events[i-1].ID, events[i].ID) >= 0 {
			return false
		}
	}
	return true
}

// releaseEvents gives back the buffer of p, which must not be used again.
func (s *Store) releaseEvents(p *pending) {
	if p.buf != nil {
		s.release(p.buf, p.enc)
		p.buf, p.enc = nil, nil
	}
}

// checkEvents returns itsm.ErrAlreadyExists when one of p's events is
// already in the outbox. Callers hold the store exclusively.
func (s *Store) checkEvents(p *pending) error {
	box := &s.box
	for i := range p.n {
		id := p.id(i)
		if _, ok := box.find(id); ok {
			return fmt.Errorf("memory: event %s is already in the outbox: %w", id, itsm.ErrAlreadyExists)
		}
	}
	return nil
}

// addEvents appends the events checkEvents accepted to the outbox,
// recording how to undo it on t (nil outside a transaction). Callers hold
// the store exclusively.
func (s *Store) addEvents(t *tx, p *pending) {
	if p.n == 0 {
		return
	}
	box := &s.box
	if box.byID == nil {
		box.byID = make(map[uuid.UUID]int)
	}
	chunk, off := box.store(p.enc)
	start := 0
	for i := range p.n {
		end := p.end(i)
		id := p.id(i)
		if compareIDs(id, box.top) > 0 {
			box.top = id
		}
		box.byID[id] = len(box.queue)
		box.queue = append(box.queue, entry{id: id, chunk: chunk, off: off + uint32(start), n: uint32(end - start)})
		start = end
	}
	box.peak = max(box.peak, len(box.byID))
	t.onUndoAppend(p.n)
}

// store copies enc to the end of the text, returning where it starts.
func (b *outbox) store(enc []byte) (chunk, off uint32) {
	last := len(b.text) - 1
	if last < 0 || cap(b.text[last])-len(b.text[last]) < len(enc) {
		size := minChunk
		if last >= 0 {
			size = min(max(2*cap(b.text[last]), minChunk), maxChunk)
		}
		b.text = append(b.text, make([]byte, 0, max(size, len(enc))))
		last++
	}
	c := b.text[last]
	b.text[last] = append(c, enc...)
	return uint32(last), uint32(len(c))
}

// encoding returns the encoding of e, in b's text.
func (b *outbox) encoding(e *entry) []byte {
	return b.text[e.chunk][e.off : e.off+e.n]
}

// find returns the position in the queue of the event id, unless it is
// not in the outbox (or was acknowledged).
func (b *outbox) find(id uuid.UUID) (int, bool) {
	if compareIDs(id, b.top) > 0 {
		return 0, false
	}
	at, ok := b.byID[id]
	if !ok || b.queue[at].gone {
		return 0, false
	}
	return at, true
}

// unappend undoes the last append, of n events. Nothing else touches the
// outbox while a transaction holds the store, so its appends are still
// the queue's tail and their encodings the text's.
func (b *outbox) unappend(n int) {
	tail := b.queue[len(b.queue)-n:]
	for i := range tail {
		delete(b.byID, tail[i].id)
	}
	first := &tail[0]
	b.text[first.chunk] = b.text[first.chunk][:first.off]
	clear(b.text[first.chunk+1:])
	b.text = b.text[:first.chunk+1]
	b.queue = b.queue[:len(b.queue)-n]
}

// Claim leases a batch of available events; see storage.OutboxConsumer.
// With the context of one of the store's transactions it runs inside it.
// The events of one batch share one string, that their strings share.
func (s *Store) Claim(ctx context.Context, req storage.ClaimRequest) (storage.Batch, error) {
	if err := req.Validate(); err != nil {
		return storage.Batch{}, err
	}
	now := instantOf(itsm.Normalize(req.Now))
	limit := req.EffectiveLimit()
	var batch storage.Batch
	err := s.write(ctx, nil, func(t *tx) error {
		box := &s.box
		var took []int
		size := 0
		for at := range box.queue {
			if len(took) == limit {
				break
			}
			e := &box.queue[at]
			if e.gone || e.lease != 0 && e.until.after(now) {
				continue
			}
			if took == nil {
				took = make([]int, 0, min(limit, len(box.queue)-at))
			}
			took = append(took, at)
			size += int(e.n)
		}
		if len(took) == 0 {
			return nil
		}
		s.leases++
		lease := s.leases
		batch.Lease = leaseID(lease)
		batch.Until = req.Until()
		var sb strings.Builder
		sb.Grow(size)
		for _, at := range took {
			sb.Write(box.encoding(&box.queue[at]))
		}
		all := sb.String()
		batch.Events = make([]itsm.Event, len(took))
		start := 0
		for i, at := range took {
			e := &box.queue[at]
			end := start + int(e.n)
			ev, err := decodeEvent(all[start:end])
			if err != nil {
				return fmt.Errorf("memory: outbox event %s: %w", e.id, err)
			}
			batch.Events[i] = ev
			start = end
		}
		until := instantOf(batch.Until)
		if t == nil {
			for _, at := range took {
				box.queue[at].lease, box.queue[at].until = lease, until
			}
			return nil
		}
		type held struct {
			lease uint64
			until instant
		}
		prev := make([]held, len(took))
		for i, at := range took {
			e := &box.queue[at]
			prev[i] = held{e.lease, e.until}
			e.lease, e.until = lease, until
		}
		t.onUndo(func() {
			for i, at := range took {
				box.queue[at].lease, box.queue[at].until = prev[i].lease, prev[i].until
			}
		})
		return nil
	})
	if err != nil {
		return storage.Batch{}, err
	}
	return batch, nil
}

// Ack acknowledges events held by a lease; see storage.OutboxConsumer.
// With the context of one of the store's transactions it runs inside it.
func (s *Store) Ack(ctx context.Context, lease storage.LeaseID, ids ...uuid.UUID) error {
	var errs itsm.FieldErrors
	if lease == "" {
		errs.Add("lease", "must not be empty")
	}
	if len(ids) == 0 {
		errs.Add("ids", "must name at least one event")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	num := leaseNumber(lease)
	return s.write(ctx, nil, func(t *tx) error {
		box := &s.box
		held := make([]int, 0, len(ids))
		for _, id := range ids {
			// An event acknowledged already, by an earlier call or as an
			// earlier ID of this one, is not found: acknowledging it again
			// is harmless.
			at, ok := box.find(id)
			if !ok {
				continue
			}
			e := &box.queue[at]
			if num == 0 || e.lease != num {
				for _, at := range held {
					box.queue[at].gone = false
				}
				return fmt.Errorf("memory: event %s is not held by lease %s: %w", id, lease, itsm.ErrConflict)
			}
			e.gone = true
			held = append(held, at)
		}
		for _, at := range held {
			delete(box.byID, box.queue[at].id)
		}
		box.dead += len(held)
		if t != nil {
			t.onUndo(func() {
				for _, at := range held {
					e := &box.queue[at]
					e.gone = false
					box.byID[e.id] = at
				}
				box.dead -= len(held)
			})
			return nil
		}
		box.compact()
		return nil
	})
}

// compact drops acknowledged events from the queue once they are at least
// half of it, moving the encodings of the others to a new text so that
// those of delivered events are freed. It must not run inside a
// transaction, whose undo log may still point into the queue.
func (b *outbox) compact() {
	if b.dead < 64 || b.dead*2 < len(b.queue) {
		return
	}
	text := b.text
	b.text = nil
	live := b.queue[:0]
	for i := range b.queue {
		e := b.queue[i]
		if e.gone {
			continue
		}
		e.chunk, e.off = b.store(text[e.chunk][e.off : e.off+e.n])
		b.byID[e.id] = len(live)
		live = append(live, e)
	}
	b.queue = live
	b.dead = 0
	// After a burst is drained, give its memory back: neither the queue's
	// array nor the index map would ever shrink by themselves.
	if cap(b.queue) >= 1024 && len(b.queue) < cap(b.queue)/4 {
		b.queue = append(make([]entry, 0, 2*len(b.queue)), b.queue...)
	}
	if b.peak >= 1024 && len(b.byID) < b.peak/4 {
		m := make(map[uuid.UUID]int, 2*len(b.byID))
		for id, at := range b.byID {
			m[id] = at
		}
		b.byID = m
		b.peak = len(m)
	}
}

// leaseID returns the ID of the lease numbered n.
func leaseID(n uint64) storage.LeaseID {
	return storage.LeaseID("lease-" + strconv.FormatUint(n, 10))
}

// leaseNumber returns the number of the lease that leaseID gave id, or 0
// when it gave none.
func leaseNumber(id storage.LeaseID) uint64 {
	digits, ok := strings.CutPrefix(string(id), "lease-")
	if !ok || digits == "" || digits[0] == '0' {
		return 0 // FormatUint writes no leading zero
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// compareIDs orders UUIDs as their bytes do (so UUIDv7 IDs by time).
func compareIDs(a, b uuid.UUID) int {
	if x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8]); x != y {
		if x < y {
			return -1
		}
		return 1
	}
	x, y := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// instant is a time.Time without location or monotonic reading, as plain
// numbers that compare as time.Time does: its seconds since January 1 of
// year 1 (time.Time counts from there, Unix time from 1970) and its
// nanoseconds.
type instant struct {
	sec  int64
	nsec int32
}

// unixToInternal is the number of seconds from January 1 of year 1 to
// that of 1970.
const unixToInternal int64 = (1969*365 + 1969/4 - 1969/100 + 1969/400) * 24 * 60 * 60

func instantOf(t time.Time) instant {
	// Adding may wrap for instants billions of years away; so does
	// time.Time's own count, which is what it compares.
	return instant{sec: t.Unix() + unixToInternal, nsec: int32(t.Nanosecond())}
}

// after reports whether a is after b.
func (a instant) after(b instant) bool {
	return a.sec > b.sec || a.sec == b.sec && a.nsec > b.nsec
}
