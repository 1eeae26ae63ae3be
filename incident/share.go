package incident

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// A store may lend the service the record it keeps instead of a copy, and
// take the record the service saves instead of copying it: a command then
// pays for no copy of the incident on either side of its round trip.
// storage/memory does, for the records it keeps decoded. The two sides
// follow one rule:
//
//   - A record lent by getShared shares its slices, maps and pointers with
//     the store, which hands the same memory to every reader. The service
//     treats all of it as immutable; before a command changes the record
//     it calls (*Data).detach, which copies what commands change in place
//     and clips what they append to.
//   - A record given to createOwned or updateOwned becomes the store's,
//     which may keep the very Data (the one inside the command's Incident)
//     and sets its Version: the service never changes it afterwards (a
//     Result's Incident only hands out copies, and the service reads it
//     only to cascade).
//
// The service adopts records with itself as their owner, and does not
// check again a record GetShared says it owns: that is the very Data one of
// its own commands produced and saved, under its own policy, which nothing
// has changed since (a write through Repository replaces the record with a
// copy that has no owner). Every other record is checked by restore as
// storage is checked anywhere else.
//
// A store that commits a command's write and its events in one step,
// without running a function in a transaction, offers ownedCommitter too.
//
// The interfaces are unexported: hosts cannot be asked to follow the rule,
// and a repository that wraps a store (storage's bridge, a host's
// decorator) does not offer these methods, so the service falls back to
// Repository's copying ones.

// sharedGetter is a Repository that can lend its stored record.
type sharedGetter interface {
	// GetShared is Get, except that d may point at the stored record
	// itself, shared with the store and every other reader of it: the
	// caller must not change anything it reaches through d. (A pointer
	// rather than a value, so that the 800-byte record is copied once, by
	// the caller, rather than at every return on its way.) owner is the
	// owner the record was adopted from, when the store keeps the very
	// record an owned write gave it, and nil otherwise.
	GetShared(ctx context.Context, tenant itsm.TenantID, id ID) (d *Data, owner any, err error)
}

// ownedWriter is a Repository (or the Tx of an Atomic one) that can adopt
// the record it stores.
type ownedWriter interface {
	// CreateOwned is Create, taking d over: the store may keep d itself
	// and sets d.Version to the version it stores (1); the caller never
	// changes anything d reaches afterwards, and discards d when the call
	// fails.
	// owner (never nil) is what GetShared reports for the record for as
	// long as the store keeps d itself.
	CreateOwned(ctx context.Context, d *Data, owner any) error
	// UpdateOwned is Update, taking d over as CreateOwned does (d.Version
	// becomes the version stored).
	UpdateOwned(ctx context.Context, d *Data, owner any) error
}

// ownedCommitter is an Atomic repository that saves a command's result in
// one step: what Atomically with a function that writes d (ownedWriter's
// way) and appends events would do, without a function, a transaction
// object or its context. The events are the service's own, built from
// parts it has validated, so the store may skip validating them again;
// it keeps nothing of them (the service hands the same events to its
// caller).
type ownedCommitter interface {
	CommitOwned(ctx context.Context, d *Data, create bool, events []itsm.Event, owner any) error
}

// detach makes d safe for a command to change when it may share memory
// with a store (see sharedGetter): afterwards no change a command makes
// through d reaches memory that anyone else can see. Commands only append
// to CIs, ImpactedServices and Comments (and assign new slices to them), so
// clipping those to their length makes any append reallocate. They
// replace Override and Cancellation rather than write through them. The
// history is shared, not copied: commands append to it only through
// appendEntry, which writes a slot past the record's length only after
// claiming it (see historyTail), and change no entry but the one they
// appended; a history without a tail is clipped instead. What commands
// change in place is copied: the custom fields (Update sets and deletes
// keys) and the SLA state's timers array, which the engine advances in
// place; under the engine's copy-on-write rule (see sla.State.Detach) the
// timers' lists only need clipping and the Previous map no copy.
// The aliasing guard test in share_test.go runs every command against a
// store that checks what it lent is unchanged.
func (d *Data) detach() { d.detachInto(nil) }

// detachInto is detach, with the SLA timers copied into timers when it has
// room for them (see sla.State.DetachInto).
func (d *Data) detachInto(timers []sla.Timer) {
	d.CIs = slices.Clip(d.CIs)
	d.ImpactedServices = slices.Clip(d.ImpactedServices)
	d.Comments = slices.Clip(d.Comments)
	if d.tail == nil {
		d.History = slices.Clip(d.History)
	}
	if d.Custom != nil {
		d.Custom = maps.Clone(d.Custom)
	}
	d.SLA.DetachInto(timers)
}

// lendIncident returns an Incident holding a detached copy of *d, a record
// the store lent: in one allocation with room for two SLA timers when d
// has one or two (an incident's usual response and resolution targets),
// so that the command's new version and its timers array are one object.
func lendIncident(d *Data) *Incident {
	if n := len(d.SLA.Timers); n == 0 || n > 2 {
		inc := newIncident(d)
		inc.d.detach()
		return inc
	}
	b := &struct {
		inc    Incident
		d      Data
		timers [2]sla.Timer
	}{d: *d}
	b.inc.d = &b.d
	b.d.detachInto(b.timers[:])
	return &b.inc
}

// historyTail lets the versions of one record share a history array.
// History is append-only, so a version's history is a prefix of its
// successor's: each version holds the array up to its own length, and a
// command appends its entry in place, into the first slot past its
// version's length, instead of copying every entry before it. Two
// commands may start from the same version at once (one of them will lose
// on the version check), so the slot is claimed first: used counts the
// array's slots that some version has taken, and only the command that
// moves it from its version's length takes the next slot; any other
// copies the history into a new array. A slot taken by a command that then
// failed stays unused. All the versions sharing an array share its tail.
type historyTail struct {
	used atomic.Int64
}

// minHistoryCap is the room a new history array has: an incident's usual
// life (open, assign, hold, resume, resolve, close) fits it, so it is
// allocated once; beyond it the array doubles. (Six entries take 1,008
// bytes, in a 1,024-byte allocation.)
const minHistoryCap = 6

// appendEntry appends e to d's history (see newEntry).
func (d *Data) appendEntry(e Entry) { *d.newEntry() = e }

// newEntry extends d's history by one slot and returns it for the caller
// to fill, every field of it: in place when the next slot of the array is
// free and d takes it, in a new array with room for a few more otherwise.
// (Filling the slot where it lies saves building the 170-byte entry first
// and copying it in.)
func (d *Data) newEntry() *Entry {
	n := len(d.History)
	if n < cap(d.History) && d.tail == nil {
		// An array without a tail is d's alone: detach clips a lent one,
		// and every other record was copied or decoded for this command.
		d.tail = new(historyTail)
		d.tail.used.Store(int64(n))
	}
	if n == cap(d.History) || !d.tail.used.CompareAndSwap(int64(n), int64(n)+1) {
		h := make([]Entry, n, max(minHistoryCap, 2*n))
		copy(h, d.History)
		d.History = h
		d.tail = new(historyTail)
		d.tail.used.Store(int64(n) + 1)
	}
	d.History = d.History[:n+1]
	return &d.History[n]
}
