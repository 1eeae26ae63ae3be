package itsm

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EventType names what happened, as "<kind>.<verb in the past tense>", e.g.
// "incident.resolved" or "sla.breached".
type EventType string

// Validate returns a *ValidationError naming "type" unless t is 3 to 128
// characters of lower-case letters, digits, '_' and '.', with at least one '.'
// that neither starts nor ends it.
func (t EventType) Validate() error {
	s := string(t)
	if len(s) < 3 || len(s) > 128 {
		return NewValidationError("type", "must be 3 to 128 characters")
	}
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		case c == '.' && i > 0 && i < len(s)-1 && s[i-1] != '.':
			dot = true
		default:
			return NewValidationError("type", fmt.Sprintf("%q must be lower-case words joined by dots, e.g. incident.resolved", clip(s)))
		}
	}
	if !dot {
		return NewValidationError("type", fmt.Sprintf("%q must contain a dot, e.g. incident.resolved", clip(s)))
	}
	return nil
}

// Event is a domain event: a fact about one record, emitted by a service
// command and, where the store offers an outbox, committed with the record.
// Every practice's events share this shape; the practice-specific facts live
// in Payload as JSON.
type Event struct {
	// ID identifies the event (UUIDv7, so IDs sort by time). Consumers use it
	// to drop duplicates.
	ID uuid.UUID `json:"id"`
	// Type says what happened, e.g. "incident.resolved".
	Type EventType `json:"type"`
	// Tenant is the tenant of the subject.
	Tenant TenantID `json:"tenant"`
	// Subject is the record the event is about.
	Subject Ref `json:"subject"`
	// Version is the subject's version after the change that emitted the
	// event, so consumers can order a record's events and detect gaps.
	Version int64 `json:"version"`
	// At is when it happened (UTC, microseconds).
	At time.Time `json:"at"`
	// Actor is who caused it.
	Actor Actor `json:"actor"`
	// Payload holds the event's facts as a JSON object; nil when there are
	// none.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// EventInput is what NewEvent needs to build an event.
type EventInput struct {
	Type    EventType
	Tenant  TenantID
	Subject Ref
	Version int64
	At      time.Time
	Actor   Actor
	// Payload is marshalled to JSON; it must marshal to a JSON object or
	// null. Nil means no payload.
	Payload any
}

// NewEvent builds and validates an event, drawing its ID from gen and
// normalising its instant. It returns a *ValidationError listing every
// problem, or the generator's error.
func NewEvent(gen IDGenerator, in EventInput) (Event, error) {
	e := Event{
		Type:    in.Type,
		Tenant:  in.Tenant,
		Subject: in.Subject,
		Version: in.Version,
		At:      Normalize(in.At),
		Actor:   in.Actor.Clone(),
	}
	if in.Payload != nil {
		raw, err := json.Marshal(in.Payload)
		if err != nil {
			return Event{}, NewValidationError("payload", "cannot be encoded as JSON: "+err.Error())
		}
		if string(raw) != "null" {
			e.Payload = raw
		}
	}
	if gen == nil {
		return Event{}, NewValidationError("id_generator", "must not be nil")
	}
	id, err := gen.NewUUID()
	if err != nil {
		return Event{}, err
	}
	e.ID = id
	// The payload was just produced by json.Marshal: only its shape needs
	// checking, not its syntax.
	if err := e.validate(false); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Validate returns a *ValidationError listing every problem with the event:
// a nil ID, a malformed type, an invalid tenant, subject or actor, a negative
// version, a zero or non-normalised instant or one outside the years
// InstantInRange accepts, or a payload that is not a JSON object.
func (e Event) Validate() error { return e.validate(true) }

func (e Event) validate(checkSyntax bool) error {
	var errs FieldErrors
	if e.ID == uuid.Nil {
		errs.Add("id", "must not be the nil UUID")
	}
	errs.Merge("", e.Type.Validate())
	errs.Merge("", e.Tenant.Validate())
	errs.Merge("subject", e.Subject.Validate())
	if e.Version < 0 {
		errs.Add("version", "must not be negative")
	}
	switch {
	case e.At.IsZero():
		errs.Add("at", "must be set")
	case !IsNormalized(e.At):
		errs.Add("at", "must be UTC truncated to the microsecond (use itsm.Normalize)")
	case !InstantInRange(e.At):
		// Stores keep the instant (PostgreSQL's timestamptz ends in year
		// 294276): refused here, alike whatever the store.
		errs.Add("at", InstantRangeReason)
	}
	errs.Merge("", e.Actor.Validate())
	if len(e.Payload) > 0 && !isJSONObject(e.Payload, checkSyntax) {
		errs.Add("payload", "must be a JSON object")
	}
	return errs.Err()
}

// Clone returns a copy of the event that shares no memory with e.
func (e Event) Clone() Event {
	e.Actor = e.Actor.Clone()
	if e.Payload != nil {
		e.Payload = append(json.RawMessage(nil), e.Payload...)
	}
	return e
}

// DecodePayload unmarshals the event's payload into v. An event without a
// payload leaves v untouched. Errors are *ValidationError naming "payload".
func (e Event) DecodePayload(v any) error {
	if len(e.Payload) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return NewValidationError("payload", "does not decode: "+err.Error())
	}
	return nil
}

// isJSONObject reports whether b is JSON whose value is an object, without
// decoding it. Without checkSyntax it only looks at the first byte that is not
// whitespace; with it, b must also be well-formed as json.Valid sees it
// (validJSON gives the same verdicts without json.Valid's cost).
func isJSONObject(b []byte, checkSyntax bool) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return !checkSyntax || validJSON(b)
		}
		return false
	}
	return false
}
