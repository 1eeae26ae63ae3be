package storage

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
)

// Outbox stores domain events so that they are committed with the
// aggregate that emitted them: append them through the Store a transaction
// hands to its function, and they commit or vanish with it. Appended outside
// a transaction, they are committed at once.
//
// Append stores the events in the order given, after every event already
// appended. It validates every event first (itsm.Event.Validate) and
// appends none when one is bad, returning a *itsm.ValidationError whose
// fields read "events[2].type". It returns itsm.ErrAlreadyExists, appending
// none, when an event's ID is still in the outbox or repeats within the call;
// ctx.Err() when ctx is done. Appending no events does nothing, but is still
// refused, as any call, in a transaction that has ended (ErrTxDone) or has
// a nested transaction running (ErrTxBusy).
type Outbox interface {
	// Append stores events in the outbox; see the type's documentation.
	Append(ctx context.Context, events ...itsm.Event) error
}

// OutboxConsumer hands events of the outbox to the processes that relay
// them (to a message broker, a webhook, an SLA scheduler). It is offered by
// the Store, not by a transaction's Store; but like every call, Claim and
// Ack made with the context a transaction hands to its function run inside
// that transaction: the lease and the acknowledgement commit or vanish with
// it. A consumer that handles events by writing to the same store can so
// acknowledge them in the transaction that handles them.
//
// Claim leases up to req.Limit available events to one consumer, oldest
// appended first, until req.Until() (req.Now+req.Lease, rounded up to the
// microsecond). An event is available when no
// lease holds it or its lease has expired (its end is not after req.Now).
// No event is ever held by two leases at once; an event claimed under an
// expired lease may be claimed again (delivery is at least once: consumers
// drop duplicates by event ID). With nothing available Claim returns a Batch
// without events and a nil error. Errors: *itsm.ValidationError for a bad
// request (see ClaimRequest.Validate); ctx.Err().
//
// Ack acknowledges events held by a lease: they leave the outbox and are
// never delivered again. It returns itsm.ErrConflict, acknowledging nothing,
// when one of the events is in the outbox but not held by that lease
// (another consumer claimed it after the lease expired, or it was never
// claimed under it). Acknowledging an event that is no longer in the outbox
// succeeds, so a retried Ack is harmless. An expired lease that no one has
// replaced still holds its events. Errors: *itsm.ValidationError naming
// "lease" or "ids"; ctx.Err().
type OutboxConsumer interface {
	// Claim leases a batch of events; see the type's documentation.
	Claim(ctx context.Context, req ClaimRequest) (Batch, error)
	// Ack acknowledges events held by a lease; see the type's
	// documentation.
	Ack(ctx context.Context, lease LeaseID, ids ...uuid.UUID) error
}

// LeaseID identifies one claim of a batch of events. Adapters choose its
// form; it is never empty for a batch that holds events.
type LeaseID string

// Claim limits.
const (
	DefaultClaimLimit = 100
	MaxClaimLimit     = 1000
	// MaxConsumerLen is the longest consumer name accepted, in bytes.
	MaxConsumerLen = 128
)

// ClaimRequest asks for a batch of outbox events.
type ClaimRequest struct {
	// Consumer names who claims, for diagnostics: 1 to 128 bytes of UTF-8,
	// without NUL bytes.
	Consumer string
	// Limit is the most events to claim: 1 to MaxClaimLimit; 0 means
	// DefaultClaimLimit.
	Limit int
	// Now is the current instant, from the host's clock; adapters normalise
	// it (itsm.Normalize). Required, in the years itsm.InstantInRange
	// accepts.
	Now time.Time
	// Lease is how long the claim holds the events; positive.
	Lease time.Duration
}

// Validate returns a *itsm.ValidationError listing every problem: a
// consumer that is empty, too long, not UTF-8 or holding a NUL byte, a
// limit out of range, a Now that is zero or outside the years
// itsm.InstantInRange accepts, a lease that is not positive.
func (r ClaimRequest) Validate() error {
	var errs itsm.FieldErrors
	switch {
	case r.Consumer == "":
		errs.Add("consumer", "must not be empty")
	case len(r.Consumer) > MaxConsumerLen:
		errs.Addf("consumer", "must be at most %d bytes", MaxConsumerLen)
	case !utf8.ValidString(r.Consumer):
		errs.Add("consumer", "must be valid UTF-8")
	case strings.IndexByte(r.Consumer, 0) >= 0:
		// A store may keep the name in a text column (PostgreSQL
		// refuses NUL bytes): refused alike whatever the store.
		errs.Add("consumer", "must not contain a NUL byte")
	}
	if r.Limit < 0 || r.Limit > MaxClaimLimit {
		errs.Addf("limit", "must be between 0 and %d", MaxClaimLimit)
	}
	switch {
	case r.Now.IsZero():
		errs.Add("now", "must be set")
	case !itsm.InstantInRange(r.Now):
		// The lease's end is kept as an instant: bounding Now keeps
		// Now+Lease (at most about 292 years more) within what every
		// store holds, so none fails in its driver.
		errs.Add("now", itsm.InstantRangeReason)
	}
	if r.Lease <= 0 {
		errs.Add("lease", "must be positive")
	}
	return errs.Err()
}

// Until returns when a lease granted to r ends: Now, normalised
// (itsm.Normalize), plus Lease, rounded up to the next whole microsecond,
// the precision stores keep instants at. Rounding up means a store never
// holds an earlier end than the Batch reports, so no one claims the events
// before Until. Adapters use it for Batch.Until and the stored end alike.
func (r ClaimRequest) Until() time.Time {
	until := itsm.Normalize(r.Now).Add(r.Lease)
	if whole := until.Truncate(time.Microsecond); !whole.Equal(until) {
		until = whole.Add(time.Microsecond)
	}
	return until
}

// EffectiveLimit returns the limit to apply: Limit, or DefaultClaimLimit
// when Limit is 0.
func (r ClaimRequest) EffectiveLimit() int {
	if r.Limit == 0 {
		return DefaultClaimLimit
	}
	return r.Limit
}

// Batch is the result of one claim.
type Batch struct {
	// Lease identifies the claim; Ack needs it. Empty when Events is.
	Lease LeaseID
	// Until is when the lease expires: Now+Lease of the request, rounded
	// up to the microsecond (see ClaimRequest.Until).
	Until time.Time
	// Events are the claimed events, oldest appended first.
	Events []itsm.Event
}

// IDs returns the IDs of the batch's events, in order, ready for Ack.
func (b Batch) IDs() []uuid.UUID {
	ids := make([]uuid.UUID, len(b.Events))
	for i, e := range b.Events {
		ids[i] = e.ID
	}
	return ids
}

// ValidateEvents validates events for Append: it returns a
// *itsm.ValidationError listing every problem of every event, with fields
// prefixed by the event's position ("events[1].at"), or nil.
func ValidateEvents(events []itsm.Event) error {
	var errs itsm.FieldErrors
	for i, e := range events {
		if err := e.Validate(); err != nil {
			errs.Merge(fmt.Sprintf("events[%d]", i), err)
		}
	}
	return errs.Err()
}
