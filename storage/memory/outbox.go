package memory

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// entry is one event in the outbox.
type entry struct {
	id uuid.UUID
	// enc is the event's encoding (see appendEvent).
	enc string
	// lease holds the event until until; empty when never claimed.
	lease storage.LeaseID
	until time.Time
	// gone marks an acknowledged event still in the queue.
	gone bool
	// acked is the number of the last Ack call that named the event.
	acked uint64
}

// outbox is a queue in append order with an index by event ID.
type outbox struct {
	queue []*entry
	byID  map[uuid.UUID]*entry
	// dead counts gone entries still in queue.
	dead int
	// acks counts Ack calls, to number them for entry.acked.
	acks uint64
	// peak is the most entries byID has held since it was last made:
	// Go maps never shrink, so compact remakes it once it holds far fewer.
	peak int
}

// Append adds events to the outbox; see storage.Outbox. Called with the
// context of a transaction, the events commit or vanish with it.
func (s *Store) Append(ctx context.Context, events ...itsm.Event) error {
	return s.append(ctx, nil, events)
}

func (s *Store) append(ctx context.Context, t *tx, events []itsm.Event) error {
	entries, err := s.prepareEvents(events, true)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return ctx.Err()
	}
	return s.write(ctx, t, func(t *tx) error {
		if err := s.checkEvents(entries); err != nil {
			return err
		}
		s.addEvents(t, entries)
		return nil
	})
}

// prepareEvents checks events for an append (validating each one when
// validate is set) and encodes them into the entries the outbox keeps.
// The entries of one append share one array, and their encodings one
// string: two allocations however many events there are. The encodings
// copy everything, so nothing is shared with the caller.
func (s *Store) prepareEvents(events []itsm.Event, validate bool) ([]entry, error) {
	if validate {
		if err := storage.ValidateEvents(events); err != nil {
			return nil, err
		}
	}
	if len(events) == 0 {
		return nil, nil
	}
	for i, e := range events {
		for _, prev := range events[:i] {
			if prev.ID == e.ID {
				return nil, fmt.Errorf("memory: event %s appears twice in one append: %w", e.ID, itsm.ErrAlreadyExists)
			}
		}
	}
	var small [16]int // where each encoding ends: a command emits a few
	ends := small[:0]
	bp := s.buffer()
	b := (*bp)[:0]
	for i := range events {
		b = appendEvent(b, &events[i])
		ends = append(ends, len(b))
	}
	all := string(b)
	s.release(bp, b)
	entries := make([]entry, len(events))
	start := 0
	for i := range entries {
		entries[i] = entry{id: events[i].ID, enc: all[start:ends[i]]}
		start = ends[i]
	}
	return entries, nil
}

// checkEvents returns itsm.ErrAlreadyExists when one of the entries'
// events is already in the outbox. Callers hold the store exclusively.
func (s *Store) checkEvents(entries []entry) error {
	for i := range entries {
		if _, ok := s.box.byID[entries[i].id]; ok {
			return fmt.Errorf("memory: event %s is already in the outbox: %w", entries[i].id, itsm.ErrAlreadyExists)
		}
	}
	return nil
}

// addEvents appends the entries checkEvents accepted to the outbox,
// recording how to undo it on t (nil outside a transaction). Callers hold
// the store exclusively.
func (s *Store) addEvents(t *tx, entries []entry) {
	if len(entries) == 0 {
		return
	}
	box := &s.box
	if box.byID == nil {
		box.byID = make(map[uuid.UUID]*entry)
	}
	for i := range entries {
		e := &entries[i]
		box.queue = append(box.queue, e)
		box.byID[e.id] = e
	}
	box.peak = max(box.peak, len(box.byID))
	t.onUndoAppend(len(entries))
}

// Claim leases a batch of available events; see storage.OutboxConsumer.
// With the context of one of the store's transactions it runs inside it.
func (s *Store) Claim(ctx context.Context, req storage.ClaimRequest) (storage.Batch, error) {
	if err := req.Validate(); err != nil {
		return storage.Batch{}, err
	}
	now := itsm.Normalize(req.Now)
	limit := req.EffectiveLimit()
	var batch storage.Batch
	err := s.write(ctx, nil, func(t *tx) error {
		var took []*entry
		for _, e := range s.box.queue {
			if len(took) == limit {
				break
			}
			if e.gone || e.lease != "" && e.until.After(now) {
				continue
			}
			took = append(took, e)
		}
		if len(took) == 0 {
			return nil
		}
		s.leases++
		batch.Lease = storage.LeaseID("lease-" + strconv.FormatUint(s.leases, 10))
		batch.Until = req.Until()
		batch.Events = make([]itsm.Event, len(took))
		for i, e := range took {
			ev, err := decodeEvent(e.enc)
			if err != nil {
				return fmt.Errorf("memory: outbox event %s: %w", e.id, err)
			}
			batch.Events[i] = ev
		}
		prev := make([]entry, len(took))
		for i, e := range took {
			prev[i] = *e
			e.lease, e.until = batch.Lease, batch.Until
		}
		t.onUndo(func() {
			for i, e := range took {
				e.lease, e.until = prev[i].lease, prev[i].until
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
	return s.write(ctx, nil, func(t *tx) error {
		box := &s.box
		held := make([]*entry, 0, len(ids))
		box.acks++ // this call's number, even if it fails below
		for _, id := range ids {
			e, ok := box.byID[id]
			if !ok {
				continue // already acknowledged: a retried Ack is harmless
			}
			if e.lease != lease {
				return fmt.Errorf("memory: event %s is not held by lease %s: %w", id, lease, itsm.ErrConflict)
			}
			// An ID named twice is acknowledged once; the stamp tells in
			// constant time (a search of held made a batch of n cost n²).
			if e.acked != box.acks {
				e.acked = box.acks
				held = append(held, e)
			}
		}
		for _, e := range held {
			e.gone = true
			delete(box.byID, e.id)
		}
		box.dead += len(held)
		if t != nil {
			t.onUndo(func() {
				for _, e := range held {
					e.gone = false
					box.byID[e.id] = e
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
// half of it. It must not run inside a transaction, whose undo log may
// still point into the queue.
func (b *outbox) compact() {
	if b.dead < 64 || b.dead*2 < len(b.queue) {
		return
	}
	live := b.queue[:0]
	for _, e := range b.queue {
		if !e.gone {
			// The events of one append share an array and a payload
			// buffer: a survivor moves to memory of its own, so that it
			// does not keep its delivered siblings alive.
			c := &entry{id: e.id, enc: strings.Clone(e.enc), lease: e.lease, until: e.until}
			b.byID[c.id] = c
			live = append(live, c)
		}
	}
	clear(b.queue[len(live):])
	b.queue = live
	b.dead = 0
	// After a burst is drained, give its memory back: neither the queue's
	// array nor the index map would ever shrink by themselves.
	if cap(b.queue) >= 1024 && len(b.queue) < cap(b.queue)/4 {
		b.queue = append(make([]*entry, 0, 2*len(b.queue)), b.queue...)
	}
	if b.peak >= 1024 && len(b.byID) < b.peak/4 {
		m := make(map[uuid.UUID]*entry, 2*len(b.byID))
		for id, e := range b.byID {
			m[id] = e
		}
		b.byID = m
		b.peak = len(m)
	}
}
