package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// entry is one event in the outbox. It holds no pointer: the queue keeps
// entries by value, so a backlog of undelivered events is memory the
// garbage collector never scans. Its lease, which only a claimed event
// has, lives in outbox.holds: an entry is 32 bytes, not 56.
type entry struct {
	id uuid.UUID
	// chunk, off and n locate the event's encoding (see
	// names.appendEvent) in the outbox's text: text[chunk][off:off+n].
	chunk, off, n uint32
	// gone marks an acknowledged event still in the queue.
	gone bool
	// unordered marks an event indexed by outbox.others: one whose ID was
	// not greater than every ID appended before it.
	unordered bool
}

// outbox is a queue of events in append order, with an index by event ID
// in two parts. Event IDs are UUIDv7 and normally grow: the events whose
// ID is greater than every ID appended before them (ordered ones) are
// ascending by ID in the queue itself, which a lookup binary-searches, so
// that an append in order costs no index operation at all; any other
// event is indexed in others. The events' encodings sit in text, in
// chunks shared by many events. Blocks, chunks and map hold no pointers:
// the collector never scans them.
type outbox struct {
	queue blockList[entry]
	// holds holds the lease of each event of the queue's first
	// holds.len() (the zero hold for one never claimed); every later
	// event was never claimed. Claims take events from the front of the
	// queue, so an outbox whose relay keeps up holds few, and one without
	// a relay none.
	holds blockList[hold]
	// spine holds, ascending, the queue positions of the ordered events
	// while spined is set, which it is from the first unordered event
	// appended to the compaction that leaves none: the binary search then
	// skips the unordered events through it. Without unordered events the
	// ordered ones are the whole queue and the search needs no spine.
	spine  blockList[int]
	spined bool
	// others holds the queue position of every other event not
	// acknowledged.
	others map[uuid.UUID]int
	// hint is where, among the ordered events, the next lookup looks
	// first: after the last event found there, as a relay acknowledges
	// events in the order it claimed them.
	hint int
	// text holds the encodings, appended to its last chunk.
	text [][]byte
	// names is the table of the strings the encodings refer to.
	names names
	// top bounds the IDs in the outbox (the zero UUID when it is empty):
	// every event in it has an ID no greater, so an append whose IDs are
	// all greater needs no lookup to know they are new. Appends raise it;
	// compaction brings it down to the greatest ID left; undoing an append
	// leaves it as it is.
	top uuid.UUID
	// dead counts gone entries still in queue.
	dead int
	// peak is the most entries others has held since it was last made:
	// Go maps never shrink, so compact remakes it once it holds far fewer.
	peak int
}

// hold is the lease that holds an event: its number (see leaseID), 0 when
// the event was never claimed, and until when.
type hold struct {
	lease uint64
	until instant
}

// hold returns the lease of the event at position at of the queue.
func (b *outbox) hold(at int) hold {
	if at < b.holds.len() {
		return *b.holds.at(at)
	}
	return hold{}
}

// setHold records h as the lease of the event at position at of the
// queue.
func (b *outbox) setHold(at int, h hold) {
	for b.holds.len() <= at {
		b.holds.push(hold{})
	}
	*b.holds.at(at) = h
}

// blockLen is how many elements a block of a blockList holds.
const blockLen = 1024

// blockList is a list that grows by blocks of blockLen elements, so that
// growing never copies more than a block (the first one starts small).
// Every block but the last is full.
type blockList[T any] struct {
	blocks [][]T
	n      int
}

func (l *blockList[T]) len() int { return l.n }

// at returns element i. It divides unsigned: i is never negative, and a
// signed division by a power of two costs a few instructions more, on the
// outbox's hottest line.
func (l *blockList[T]) at(i int) *T {
	u := uint(i)
	return &l.blocks[u/blockLen][u%blockLen]
}

// push appends v.
func (l *blockList[T]) push(v T) {
	if k := len(l.blocks); k == 0 || len(l.blocks[k-1]) == blockLen {
		size := blockLen
		if k == 0 {
			size = 16
		}
		l.blocks = append(l.blocks, make([]T, 0, size))
	}
	last := &l.blocks[len(l.blocks)-1]
	*last = append(*last, v)
	l.n++
}

// truncate keeps the first n elements, freeing the blocks no longer
// needed but the first, which the next elements will fill.
func (l *blockList[T]) truncate(n int) {
	keep := min(max((n+blockLen-1)/blockLen, 1), len(l.blocks))
	clear(l.blocks[keep:])
	l.blocks = l.blocks[:keep]
	if keep > 0 {
		l.blocks[keep-1] = l.blocks[keep-1][:n-(keep-1)*blockLen]
	}
	l.n = n
}

// Sizes of the chunks of outbox.text: each one twice the last, from the
// smallest to the largest; an append too large for one gets a chunk of
// its own.
const (
	minChunk = 4 << 10
	maxChunk = 256 << 10
)

// Append adds events to the outbox; see storage.Outbox. Called with the
// context of a transaction, the events commit or vanish with it.
func (s *Store) Append(ctx context.Context, events ...itsm.Event) error {
	return s.append(ctx, nil, events)
}

func (s *Store) append(ctx context.Context, t *tx, events []itsm.Event) error {
	size, err := s.prepareEvents(events, true)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		// Nothing to write, but a call inside a transaction still says
		// whether the transaction could have taken it (ErrTxDone,
		// ErrTxBusy), as a call that writes would.
		if t == nil {
			t = s.txOf(ctx)
		}
		if t != nil {
			return t.run(ctx, func(*tx) error { return nil })
		}
		return ctx.Err()
	}
	return s.write(ctx, t, func(t *tx) error {
		if err := s.checkEvents(events); err != nil {
			return err
		}
		s.addEvents(t, events, size)
		return nil
	})
}

// prepareEvents checks events for an append, validating each one when
// validate is set, and returns at least how many bytes their encodings
// take (addEvents makes room for them at once). The events are encoded
// once the store is held (see addEvents), as their names refer to the
// outbox's table.
func (s *Store) prepareEvents(events []itsm.Event, validate bool) (int, error) {
	if validate {
		if err := storage.ValidateEvents(events); err != nil {
			return 0, err
		}
	}
	if len(events) == 0 {
		return 0, nil
	}
	if !ascending(events) {
		for i, e := range events {
			for _, prev := range events[:i] {
				if prev.ID == e.ID {
					return 0, fmt.Errorf("memory: event %s appears twice in one append: %w", e.ID, itsm.ErrAlreadyExists)
				}
			}
		}
	}
	size := 0
	for i := range events {
		size += envelopeBound(&events[i]) + len(events[i].Payload)
	}
	if uint64(size) > math.MaxUint32 {
		return 0, fmt.Errorf("memory: %d events take up to %d bytes encoded, more than one append can hold: %w", len(events), size, itsm.ErrInvalid)
	}
	return size, nil
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

// checkEvents returns itsm.ErrAlreadyExists when one of the events is
// already in the outbox. Callers hold the store exclusively.
func (s *Store) checkEvents(events []itsm.Event) error {
	box := &s.box
	for i := range events {
		id := events[i].ID
		if _, ok := box.find(id); ok {
			return fmt.Errorf("memory: event %s is already in the outbox: %w", id, itsm.ErrAlreadyExists)
		}
	}
	return nil
}

// addEvents encodes the events checkEvents accepted into the outbox,
// recording how to undo it on t (nil outside a transaction); size is what
// prepareEvents returned for them. The encodings copy everything, so
// nothing is shared with the caller. Callers hold the store exclusively.
func (s *Store) addEvents(t *tx, events []itsm.Event, size int) {
	if len(events) == 0 {
		return
	}
	box := &s.box
	// Room for every encoding is made once, so each is written straight
	// to the end of the chunk: no copy through a buffer, no test of room
	// per event. Were the bound wrong, append would move the chunk, which
	// entries find by number: still correct.
	last := box.reserve(size)
	c := box.text[last]
	for i := range events {
		ev := &events[i]
		start := len(c)
		c = box.names.appendEnvelope(c, ev)
		c = append(c, ev.Payload...)
		e := entry{id: ev.ID, chunk: uint32(last), off: uint32(start), n: uint32(len(c) - start)}
		box.index(&e, box.queue.len())
		box.queue.push(e)
	}
	box.text[last] = c
	t.onUndoAppend(len(events))
}

// index records that e is at position at of the queue (its end): in
// others unless its ID is greater than any appended before.
func (b *outbox) index(e *entry, at int) {
	if compareIDs(e.id, b.top) > 0 {
		b.top = e.id
		if b.spined {
			b.spine.push(at)
		}
		return
	}
	if !b.spined {
		// Every event in the queue is ordered, and stays in it until a
		// compaction (which drops the spine only when no unordered event
		// is left), so this is built at most once in between.
		for i := range b.queue.len() {
			b.spine.push(i)
		}
		b.spined, b.hint = true, 0
	}
	e.unordered = true
	if b.others == nil {
		b.others = make(map[uuid.UUID]int)
	}
	b.others[e.id] = at
	b.peak = max(b.peak, len(b.others))
}

// encode writes ev's encoding, its envelope (names entered in b's table)
// and payload, to the end of the text, and where it lies into e.
func (b *outbox) encode(e *entry, ev *itsm.Event) {
	var buf [96]byte
	env := b.names.appendEnvelope(buf[:0], ev)
	e.chunk, e.off = b.store(env, ev.Payload)
	e.n = uint32(len(env) + len(ev.Payload))
}

// store copies an encoding, the concatenation of head and rest, to the end
// of the text, returning where it starts.
func (b *outbox) store(head, rest []byte) (chunk, off uint32) {
	last := b.reserve(len(head) + len(rest))
	c := b.text[last]
	b.text[last] = append(append(c, head...), rest...)
	return uint32(last), uint32(len(c))
}

// reserve makes room for n bytes at the end of the text, starting a new
// chunk when the last one has not that much left, and returns the number
// of the chunk they go to.
func (b *outbox) reserve(n int) int {
	last := len(b.text) - 1
	if last < 0 || cap(b.text[last])-len(b.text[last]) < n {
		size := minChunk
		if last >= 0 {
			size = min(max(2*cap(b.text[last]), minChunk), maxChunk)
		}
		b.text = append(b.text, make([]byte, 0, max(size, n)))
		last++
	}
	return last
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
	// An ID is live in one part of the index at most; others holds no
	// acknowledged event but those an Ack is acknowledging.
	at, ok := 0, false
	if len(b.others) > 0 {
		at, ok = b.others[id]
	}
	if !ok {
		if at, ok = b.search(id); !ok {
			return 0, false
		}
	}
	if b.queue.at(at).gone {
		return 0, false
	}
	return at, true
}

// search returns the position in the queue of the ordered event id.
func (b *outbox) search(id uuid.UUID) (int, bool) {
	n := b.orderedLen()
	if h := b.hint; h < n {
		if at := b.ordered(h); b.queue.at(at).id == id {
			b.hint = h + 1
			return at, true
		}
	}
	i, found := sort.Find(n, func(i int) int { return compareIDs(id, b.queue.at(b.ordered(i)).id) })
	if !found {
		return 0, false
	}
	b.hint = i + 1
	return b.ordered(i), true
}

// orderedLen returns how many events ordered counts: the queue's, or the
// spine's while there is one.
func (b *outbox) orderedLen() int {
	if b.spined {
		return b.spine.len()
	}
	return b.queue.len()
}

// ordered returns the position in the queue of the ordered event i.
func (b *outbox) ordered(i int) int {
	if b.spined {
		return *b.spine.at(i)
	}
	return i
}

// unappend undoes the last append, of n events. Nothing else touches the
// outbox while a transaction holds the store, so its appends are still
// the queue's tail and their encodings the text's.
func (b *outbox) unappend(n int) {
	end := b.queue.len()
	for at := end - 1; at >= end-n; at-- {
		if e := b.queue.at(at); e.unordered {
			delete(b.others, e.id)
		} else if b.spined {
			// The spine stays even if no unordered event is left: a loop
			// of appends undone would otherwise build it every time.
			b.spine.truncate(b.spine.len() - 1)
		}
	}
	first := b.queue.at(end - n)
	b.text[first.chunk] = b.text[first.chunk][:first.off]
	clear(b.text[first.chunk+1:])
	b.text = b.text[:first.chunk+1]
	b.queue.truncate(end - n)
	// Undoing the claims made since has cleared the holds of these
	// events; positions beyond the queue must hold nothing all the same,
	// as the events appended there next were never claimed.
	if b.holds.len() > end-n {
		b.holds.truncate(end - n)
	}
	// top stays: an undo step still to come may bring back an
	// acknowledged event whose ID only top bounds.
}

// greatest returns the greatest ID the index holds (the zero UUID when it
// holds none): the least value top may take. Events are appended in ID
// order as a rule, so others is small or empty.
func (b *outbox) greatest() uuid.UUID {
	var top uuid.UUID
	n := b.orderedLen()
	if n > 0 {
		top = b.queue.at(b.ordered(n - 1)).id
	}
	for id := range b.others {
		if compareIDs(id, top) > 0 {
			top = id
		}
	}
	return top
}

// Claim leases a batch of available events; see storage.OutboxConsumer.
// With the context of one of the store's transactions it runs inside it.
// The events of one batch share one string, that their strings share,
// and one array their payloads share, each payload clipped to its own
// length so that growing one never writes into the next.
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
		for at := range box.queue.len() {
			if len(took) == limit {
				break
			}
			e := box.queue.at(at)
			if e.gone {
				continue
			}
			if h := box.hold(at); h.lease != 0 && h.until.after(now) {
				continue
			}
			if took == nil {
				took = make([]int, 0, min(limit, box.queue.len()-at))
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
			sb.Write(box.encoding(box.queue.at(at)))
		}
		all := sb.String()
		batch.Events = make([]itsm.Event, len(took))
		// The events are read in place, each envelope's parts shared with
		// the event before taken as read then (see eventReader), and
		// their payloads, substrings of all until then, are copied to one
		// array the batch shares, each clipped to its own length: one
		// allocation for the batch instead of one per event.
		d := eventReader{t: &box.names}
		pays := make([]int, len(took)) // payload lengths, -1 for none
		start, total := 0, 0
		for i, at := range took {
			e := box.queue.at(at)
			end := start + int(e.n)
			p, ok, err := d.read(&batch.Events[i], e.id, all[start:end])
			if err != nil {
				return fmt.Errorf("memory: outbox event %s: %w", e.id, err)
			}
			pays[i] = -1
			if ok {
				pays[i] = len(p)
				total += len(p)
			}
			start = end
		}
		buf := make([]byte, 0, total)
		start = 0
		for i, at := range took {
			end := start + int(box.queue.at(at).n)
			if n := pays[i]; n >= 0 {
				k := len(buf)
				buf = append(buf, all[end-n:end]...)
				batch.Events[i].Payload = buf[k:len(buf):len(buf)]
			}
			start = end
		}
		h := hold{lease: lease, until: instantOf(batch.Until)}
		// The holds reach the last event claimed at once; took ascends.
		for box.holds.len() <= took[len(took)-1] {
			box.holds.push(hold{})
		}
		if t == nil {
			for _, at := range took {
				*box.holds.at(at) = h
			}
			return nil
		}
		prev := make([]hold, len(took))
		for i, at := range took {
			prev[i] = box.hold(at)
			box.setHold(at, h)
		}
		t.onUndo(func() {
			for i, at := range took {
				box.setHold(at, prev[i])
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
			// A relay acknowledges the events it claimed in their order,
			// so each ID is mostly at the hint: with no unordered event
			// in the queue (no spine) the hint is a queue position, and a
			// live event there with this ID is the one find would find
			// (only one event of an ID is live). Otherwise find looks.
			at, ok := box.hint, false
			if !box.spined && at < box.queue.len() {
				if e := box.queue.at(at); e.id == id && !e.gone {
					ok = true
					box.hint = at + 1
				}
			}
			if !ok {
				// An event acknowledged already, by an earlier call or as
				// an earlier ID of this one, is not found: acknowledging
				// it again is harmless.
				if at, ok = box.find(id); !ok {
					continue
				}
			}
			e := box.queue.at(at)
			if num == 0 || box.hold(at).lease != num {
				for _, at := range held {
					box.queue.at(at).gone = false
				}
				return fmt.Errorf("memory: event %s is not held by lease %s: %w", id, lease, itsm.ErrConflict)
			}
			e.gone = true
			held = append(held, at)
		}
		for _, at := range held {
			if e := box.queue.at(at); e.unordered {
				delete(box.others, e.id)
			}
		}
		box.dead += len(held)
		if t != nil {
			t.onUndo(func() {
				for _, at := range held {
					e := box.queue.at(at)
					e.gone = false
					if e.unordered {
						box.others[e.id] = at
					}
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
// half of it, moving the others to its front (and their positions to the
// front of the spine) and their encodings to a new text, so that the
// memory of delivered events is freed. It must not run inside a
// transaction, whose undo log may still point into the queue.
func (b *outbox) compact() {
	if b.dead < 64 || b.dead*2 < b.queue.len() {
		return
	}
	text, size := b.text, 0
	for i := range b.queue.len() {
		if e := b.queue.at(i); !e.gone {
			size += int(e.n)
		}
	}
	// A full table of names is rebuilt from the events left, whose
	// encodings are written again; an empty outbox starts a new one.
	var old *names
	switch {
	case b.dead == b.queue.len():
		b.names = names{}
	case b.names.full():
		old = new(names)
		*old = b.names
		b.names = names{}
	}
	b.text = nil
	switch last := len(text) - 1; {
	case size > 0:
		b.text = [][]byte{make([]byte, 0, min(max(size, minChunk), maxChunk))}
	case last >= 0 && cap(text[last]) <= maxChunk:
		b.text = [][]byte{text[last][:0]} // all delivered: fill the last chunk again
	}
	live, ordered, held := 0, 0, 0
	for i := range b.queue.len() {
		e := *b.queue.at(i)
		if e.gone {
			continue
		}
		if i < b.holds.len() {
			// Survivors keep their order: those with a hold are the
			// first ones.
			*b.holds.at(live) = *b.holds.at(i)
			held++
		}
		enc := text[e.chunk][e.off : e.off+e.n]
		if old != nil {
			ev, err := old.decodeEvent(e.id, string(enc))
			if err != nil {
				panic(fmt.Sprintf("memory: outbox event %s: %v", e.id, err)) // the outbox's own encoding
			}
			b.encode(&e, &ev)
		} else {
			e.chunk, e.off = b.store(enc, nil)
		}
		if e.unordered {
			b.others[e.id] = live
		} else if b.spined {
			// Survivors keep their order, and never outnumber the
			// positions of the entries read so far.
			*b.spine.at(ordered) = live
			ordered++
		}
		*b.queue.at(live) = e
		live++
	}
	b.queue.truncate(live)
	b.holds.truncate(held)
	b.spine.truncate(ordered)
	if b.spined && ordered == live {
		// No unordered event is left: the queue is ordered again.
		b.spine, b.spined = blockList[int]{}, false
	}
	b.hint, b.dead = 0, 0
	// An ID far ahead of the rest (a random one, say) that has been
	// delivered no longer sends every later event to others.
	b.top = b.greatest()
	// After a burst is drained, give the map's memory back: Go maps never
	// shrink by themselves.
	if b.peak >= 1024 && len(b.others) < b.peak/4 {
		m := make(map[uuid.UUID]int, 2*len(b.others))
		for id, at := range b.others {
			m[id] = at
		}
		b.others = m
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
