package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// Append adds events to the outbox; see storage.Outbox. Called with the
// context of a transaction, the events commit or vanish with it.
func (s *Store) Append(ctx context.Context, events ...itsm.Event) error {
	return s.append(ctx, nil, events)
}

// The outbox columns an event fills, in the order of sqlAppend's arrays.
const sqlAppend = `INSERT INTO outbox (id, tenant_id, type, subject_kind, subject_id, version, at, actor, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::bigint[],
	$7::timestamptz[], $8::jsonb[], $9::bytea[])
WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE id = ANY($1::uuid[]))`

// sqlAppendInTx appends several events inside a caller's transaction: an ID
// already in the outbox, or being appended by a transaction still running
// (the insert waits for it), is skipped rather than raising an error that
// would abort the caller's transaction. It returns the IDs it inserted, so
// that the store can take them out again when it skipped any.
const sqlAppendInTx = `INSERT INTO outbox (id, tenant_id, type, subject_kind, subject_id, version, at, actor, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::bigint[],
	$7::timestamptz[], $8::jsonb[], $9::bytea[])
ON CONFLICT (id) DO NOTHING
RETURNING id`

// sqlUnappend takes out the events sqlAppendInTx inserted.
const sqlUnappend = `DELETE FROM outbox WHERE id = ANY($1::uuid[])`

// sqlAppendOne appends a single event.
const sqlAppendOne = `INSERT INTO outbox (id, tenant_id, type, subject_kind, subject_id, version, at, actor, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO NOTHING`

// appendRows holds a batch of events column by column.
type appendRows struct {
	ids, subjects    [][16]byte
	tenants, types   []string
	kinds            []string
	versions         []int64
	ats              []time.Time
	actors, payloads [][]byte
}

func (s *Store) append(ctx context.Context, t *tx, events []itsm.Event) error {
	if err := storage.ValidateEvents(events); err != nil {
		return err
	}
	if len(events) == 0 {
		if t == nil {
			t = s.txOf(ctx)
		}
		if t != nil {
			return t.run(ctx, "append", func(querier) error { return nil })
		}
		return ctx.Err()
	}
	n := len(events)
	r := appendRows{
		ids: make([][16]byte, n), subjects: make([][16]byte, n), tenants: make([]string, n),
		types: make([]string, n), kinds: make([]string, n), versions: make([]int64, n),
		ats: make([]time.Time, n), actors: make([][]byte, n), payloads: make([][]byte, n),
	}
	for i, e := range events {
		for _, prev := range events[:i] {
			if prev.ID == e.ID {
				return fmt.Errorf("postgres: event %s appears twice in one append: %w", e.ID, itsm.ErrAlreadyExists)
			}
		}
		actor, err := json.Marshal(e.Actor)
		if err != nil {
			return itsm.NewValidationError(fmt.Sprintf("events[%d].actor", i), fmt.Sprintf("does not encode as JSON: %v", err))
		}
		if err := checkText(actor, e.Actor); err != nil {
			var ve *itsm.ValidationError
			if errors.As(err, &ve) {
				return itsm.NewValidationError(fmt.Sprintf("events[%d].actor.%s", i, ve.Field), ve.Reason)
			}
			return err
		}
		r.ids[i], r.subjects[i] = e.ID, e.Subject.ID
		r.tenants[i], r.types[i], r.kinds[i] = string(e.Tenant), string(e.Type), string(e.Subject.Kind)
		r.versions[i], r.ats[i], r.actors[i], r.payloads[i] = e.Version, e.At, actor, e.Payload
	}
	return s.do(ctx, t, "append events", func(q querier) error {
		if n == 1 {
			// The usual case, a command's one event: a plain insert that
			// does nothing when the ID is taken.
			tag, err := q.Exec(ctx, sqlAppendOne, r.ids[0], r.tenants[0], r.types[0], r.kinds[0], r.subjects[0],
				r.versions[0], r.ats[0], r.actors[0], r.payloads[0])
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("postgres: event %s is already in the outbox: %w", events[0].ID, itsm.ErrAlreadyExists)
			}
			return nil
		}
		if t == nil && s.txOf(ctx) == nil {
			// On its own, one statement appends all or none: when an ID is
			// already in the outbox nothing is inserted; a concurrent append
			// of the same ID is caught by the unique index instead (SQLSTATE
			// 23505), which fails the whole statement.
			tag, err := q.Exec(ctx, sqlAppend, r.ids, r.tenants, r.types, r.kinds, r.subjects,
				r.versions, r.ats, r.actors, r.payloads)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != int64(n) {
				return fmt.Errorf("postgres: an event is already in the outbox: %w", itsm.ErrAlreadyExists)
			}
			return nil
		}
		// Inside a caller's transaction an error would abort it, so taken
		// IDs are skipped, and what was inserted is deleted again when any
		// was: appending none, with the transaction still usable. (Cheaper
		// than a savepoint, which would cost two more round trips on every
		// append, not only on a lost race.)
		rows, err := q.Query(ctx, sqlAppendInTx, r.ids, r.tenants, r.types, r.kinds, r.subjects,
			r.versions, r.ats, r.actors, r.payloads)
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
		if err != nil {
			return err
		}
		if len(inserted) == n {
			return nil
		}
		if len(inserted) > 0 {
			if _, err := q.Exec(ctx, sqlUnappend, inserted); err != nil {
				return err
			}
		}
		return fmt.Errorf("postgres: an event is already in the outbox: %w", itsm.ErrAlreadyExists)
	})
}

// Claim takes the oldest available events, skipping rows another claim
// has locked, and leases them in the same statement.
const sqlClaim = `UPDATE outbox SET lease_id = $1, lease_until = $2, consumer = $3
WHERE seq IN (
	SELECT seq FROM outbox
	WHERE lease_until IS NULL OR lease_until <= $4
	ORDER BY seq
	LIMIT $5
	FOR UPDATE SKIP LOCKED)
RETURNING seq, id, tenant_id, type, subject_kind, subject_id, version, at, actor, payload`

// Claim leases a batch of available events; see storage.OutboxConsumer.
// Consumers claiming at once never wait for one another and never get the
// same event: rows locked by one claim are skipped by the others. With the
// context of one of the store's transactions it runs inside that one.
func (s *Store) Claim(ctx context.Context, req storage.ClaimRequest) (storage.Batch, error) {
	if err := req.Validate(); err != nil {
		return storage.Batch{}, err
	}
	now := itsm.Normalize(req.Now)
	until := req.Until()
	lease, err := uuid.NewRandom()
	if err != nil {
		return storage.Batch{}, fmt.Errorf("postgres: claim: drawing a lease ID: %w", err)
	}
	leaseID := storage.LeaseID("lease-" + lease.String())
	type claimed struct {
		seq int64
		ev  itsm.Event
	}
	var got []claimed
	err = s.do(ctx, nil, "claim events", func(q querier) error {
		got = got[:0]
		rows, err := q.Query(ctx, sqlClaim, string(leaseID), until, req.Consumer, now, req.EffectiveLimit())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c claimed
			var id, subject [16]byte
			var tenant, typ, kind string
			var actor []byte
			if err := rows.Scan(&c.seq, &id, &tenant, &typ, &kind, &subject, &c.ev.Version, &c.ev.At, &actor, &c.ev.Payload); err != nil {
				return err
			}
			c.ev.ID, c.ev.Subject.ID = id, subject
			c.ev.Tenant, c.ev.Type, c.ev.Subject.Kind = itsm.TenantID(tenant), itsm.EventType(typ), itsm.Kind(kind)
			c.ev.At = c.ev.At.UTC()
			if err := json.Unmarshal(actor, &c.ev.Actor); err != nil {
				return fmt.Errorf("postgres: the actor of event %s does not decode: %w", c.ev.ID, err)
			}
			got = append(got, c)
		}
		return rows.Err()
	})
	if err != nil {
		return storage.Batch{}, err
	}
	if len(got) == 0 {
		return storage.Batch{}, nil
	}
	slices.SortFunc(got, func(a, b claimed) int { return compareInt(a.seq, b.seq) })
	b := storage.Batch{Lease: leaseID, Until: until, Events: make([]itsm.Event, len(got))}
	for i, c := range got {
		b.Events[i] = c.ev
	}
	return b, nil
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

const (
	sqlAckLock   = `SELECT id, lease_id FROM outbox WHERE id = ANY($1::uuid[]) FOR UPDATE`
	sqlAckDelete = `DELETE FROM outbox WHERE id = ANY($1::uuid[]) AND lease_id = $2`
)

// Ack acknowledges events held by a lease; see storage.OutboxConsumer. It
// locks the events it names, checks that the lease holds every one still in
// the outbox, and deletes them, in one short transaction of its own, or,
// with the context of one of the store's transactions, inside that one, as
// Claim does: both then commit or vanish with it.
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
	keys := make([][16]byte, len(ids))
	for i, id := range ids {
		keys[i] = id
	}
	ack := func(q querier) error {
		rows, err := q.Query(ctx, sqlAckLock, keys)
		if err != nil {
			return err
		}
		var id [16]byte
		var holder *string
		_, err = pgx.ForEachRow(rows, []any{&id, &holder}, func() error {
			if holder == nil || *holder != string(lease) {
				return fmt.Errorf("postgres: event %s is not held by lease %s: %w", uuid.UUID(id), lease, itsm.ErrConflict)
			}
			return nil
		})
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, sqlAckDelete, keys, string(lease))
		return err
	}
	if t := s.txOf(ctx); t != nil {
		// The refusal above is decided before anything is deleted, so the
		// caller's transaction stays usable after a conflict.
		return t.run(ctx, "ack events", ack)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.ownTx(ctx, ack)
		if err == nil {
			return nil
		}
		if attempt < s.retries && ctx.Err() == nil && retryable(err) {
			continue
		}
		return mapError(ctx, "ack events", err)
	}
}
