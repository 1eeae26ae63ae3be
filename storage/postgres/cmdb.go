package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// The CMDB capability of a Store and of its transactions.
var (
	_ storage.CMDB = (*Store)(nil)
	_ storage.CMDB = (*txStore)(nil)
)

// CMDB returns the CMDB repository bound to reg (nil: the built-in
// registry); see storage.CMDB. Calls made with the context of one of the
// store's transactions run inside it.
func (s *Store) CMDB(reg *cmdb.Registry) cmdb.Repository { return newCMDBRepo(s, nil, reg) }

// CMDB returns the CMDB repository bound to the transaction.
func (x *txStore) CMDB(reg *cmdb.Registry) cmdb.Repository {
	return newCMDBRepo(x.s, (*tx)(x), reg)
}

func newCMDBRepo(s *Store, t *tx, reg *cmdb.Registry) *cmdbRepo {
	if reg == nil {
		reg = cmdb.NewRegistry()
	}
	return &cmdbRepo{s: s, t: t, reg: reg}
}

// cmdbRepo is the CMDB repository of a store, or of one transaction when t
// is set.
//
// Integrity under concurrency rests on row locks taken before anything is
// checked, inside one transaction (the caller's, under a savepoint, or the
// store's own), so that a check and the write it allows are never
// separated by another writer's commit:
//
//   - A relationship write locks both end CIs (FOR NO KEY UPDATE, in ID
//     order): two writes sharing an end take turns, so cardinality holds,
//     and a CI being deleted (FOR UPDATE) cannot gain a relationship.
//   - Writes of hosting or containment relationships also take a
//     transaction-scoped advisory lock per tenant: a cycle can be closed by
//     two edges with no end in common, so these writes take turns within a
//     tenant, each seeing the edges committed before it.
//   - Setting a duplicate-of pointer locks the record (FOR NO KEY UPDATE)
//     and its target (FOR SHARE): a record cannot become a duplicate while
//     something starts pointing at it, nor the reverse.
//   - Deleting a CI locks it and every CI its deletion cascades to (FOR
//     UPDATE) before reading their relationships.
//   - Each native key a CI carries is a row of cmdb_native_keys, whose
//     primary key is (tenant, source, native ID), written with the CI, so
//     a second writer of a key waits for the first to end and then finds
//     the key taken; inside a caller's transaction the rows are inserted
//     ON CONFLICT DO NOTHING, which finds it taken without an error that
//     would abort the transaction. An update touches the rows only for
//     keys it gains or loses; the usual update, which keeps them, stays
//     one statement.
//
// Foreign keys back these checks up; a violation (which the locks should
// make impossible) is itsm.ErrConflict.
type cmdbRepo struct {
	s   *Store
	t   *tx
	reg *cmdb.Registry
}

// atomic runs fn's statements as one unit: under a savepoint of the
// transaction t or ctx carries, or else in a transaction of the store's
// own, retried a bounded number of times after a serialization failure or
// deadlock. When fn fails, or ctx ends before the end, nothing it did is
// kept. Errors are mapped as do maps them.
func (s *Store) atomic(ctx context.Context, t *tx, op string, fn func(q querier) error) error {
	if t == nil {
		t = s.txOf(ctx)
	}
	if t != nil {
		return t.run(ctx, op, func(q querier) error { return t.undoable(ctx, fn) })
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.ownTx(ctx, fn)
		if err == nil {
			return nil
		}
		if attempt < s.retries && ctx.Err() == nil && retryable(err) {
			continue
		}
		return mapError(ctx, op, err)
	}
}

// ownTx runs fn in a transaction of its own, committed when fn succeeds
// and ctx has not ended; otherwise, and when fn panics, rolled back
// whatever ctx's state, so the connection goes back to the pool.
func (s *Store) ownTx(ctx context.Context, fn func(q querier) error) error {
	if err := s.take(ctx); err != nil {
		return err
	}
	defer s.release()
	pg, err := s.pool.BeginTx(ctx, readCommitted())
	if err != nil {
		return err
	}
	ended := false
	defer func() {
		if !ended {
			_ = pg.Rollback(context.WithoutCancel(ctx))
		}
	}()
	err = fn(pg)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	ended = true
	return pg.Commit(ctx)
}

// undoable runs fn under a savepoint of t, rolled back to when fn fails or
// the savepoint cannot be released, so that the caller's transaction keeps
// none of fn's writes and stays usable. Callers hold t.mu.
func (t *tx) undoable(ctx context.Context, fn func(q querier) error) error {
	t.savepoints++
	name := "itsmkit_sp" + strconv.Itoa(t.savepoints)
	if _, err := t.pg.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	err := fn(t.pg)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		_, err = t.pg.Exec(ctx, "RELEASE SAVEPOINT "+name)
	}
	if err != nil {
		bg := context.WithoutCancel(ctx)
		_, _ = t.pg.Exec(bg, "ROLLBACK TO SAVEPOINT "+name)
		_, _ = t.pg.Exec(bg, "RELEASE SAVEPOINT "+name)
	}
	return err
}

// pgID and the helpers below convert IDs to and from the driver's uuid.
func pgID[T itsm.Kinded](id itsm.ID[T]) [16]byte { return [16]byte(id.UUID()) }

// pgIDs converts a list of IDs.
func pgIDs[T itsm.Kinded](ids []itsm.ID[T]) [][16]byte {
	out := make([][16]byte, len(ids))
	for i, id := range ids {
		out[i] = pgID(id)
	}
	return out
}

// pgOptID is NULL for the zero ID.
func pgOptID(id cmdb.ID) any {
	if id.IsZero() {
		return nil
	}
	return pgID(id)
}

// ciRow is a record as cmdb_cis holds it: the document and the columns
// copied from it.
type ciRow struct {
	doc     []byte
	sources []string
	// keys are the record's native keys, in the order of sources.
	keys []string
}

// encodeRecord checks that PostgreSQL can hold r's text and returns its
// row, with the document saying version. r is the caller's copy.
func encodeRecord(r cmdb.Record, version int64) (ciRow, error) {
	r.Version = version
	doc, err := json.Marshal(r)
	if err != nil {
		return ciRow{}, itsm.NewValidationError("record", fmt.Sprintf("does not encode as JSON: %v", err))
	}
	// The registry has already refused invalid UTF-8; a NUL byte is the
	// one thing left that PostgreSQL cannot hold. JSON escapes it, so a
	// document without the escape needs no closer look.
	if bytes.Contains(doc, []byte(`\u0000`)) {
		if field, bad := nulField(&r); bad {
			return ciRow{}, itsm.NewValidationError(field, "holds a NUL byte, which PostgreSQL cannot store")
		}
	}
	sources := make([]string, 0, len(r.Sources))
	for name := range r.Sources {
		sources = append(sources, string(name))
	}
	slices.Sort(sources)
	keys := make([]string, len(sources))
	for i, name := range sources {
		keys[i] = r.Sources[cmdb.SourceName(name)].NativeID
	}
	return ciRow{doc: doc, sources: sources, keys: keys}, nil
}

// nulField returns the first text of r, in a fixed order, that holds a NUL
// byte. Names of classes, sources and attributes cannot: the registry
// validates them.
func nulField(r *cmdb.Record) (string, bool) {
	hasNul := func(s string) bool { return strings.IndexByte(s, 0) >= 0 }
	value := func(v cmdb.Value) bool {
		return v.Type() == cmdb.TypeString && hasNul(v.Str()) || v.Type() == cmdb.TypeRef && hasNul(string(v.Ref().Kind))
	}
	for _, f := range [...]struct{ name, text string }{{"name", r.Name}, {"owner", r.Owner}, {"support_group", r.SupportGroup}} {
		if hasNul(f.text) {
			return f.name, true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Attributes)) {
		if value(r.Attributes[k]) {
			return "attributes." + k, true
		}
	}
	for _, src := range slices.Sorted(maps.Keys(r.Sources)) {
		st := r.Sources[src]
		field := "sources." + string(src)
		if hasNul(st.NativeID) {
			return field + ".native_id", true
		}
		for _, k := range slices.Sorted(maps.Keys(st.Claims)) {
			if value(st.Claims[k].Value) {
				return field + ".claims." + k + ".value", true
			}
		}
	}
	return "", false
}

// decodeRecord turns a stored document back into a record at version.
func decodeRecord(doc []byte, version int64) (cmdb.Record, error) {
	var r cmdb.Record
	if err := json.Unmarshal(doc, &r); err != nil {
		return cmdb.Record{}, fmt.Errorf("postgres: a stored CI record does not decode: %w", err)
	}
	r.Version = version
	return r, nil
}

func checkCITenantID(tenant itsm.TenantID, id cmdb.ID) error {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	return errs.Err()
}

func checkRelTenantID(tenant itsm.TenantID, id cmdb.RelationshipID) error {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	return errs.Err()
}

func ciNotFound(tenant itsm.TenantID, id cmdb.ID) error {
	return fmt.Errorf("postgres: CI %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
}

const sqlCIInsert = `INSERT INTO cmdb_cis (tenant_id, id, version, class, status, name, duplicate_of, sources, doc)
VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8)
ON CONFLICT DO NOTHING`

const sqlCIExists = `SELECT EXISTS (SELECT 1 FROM cmdb_cis WHERE tenant_id = $1 AND id = $2)`

// CreateCI stores r as version 1; see cmdb.Repository.
func (r *cmdbRepo) CreateCI(ctx context.Context, rec cmdb.Record) error {
	if rec.Version != 0 {
		return itsm.NewValidationError("version", fmt.Sprintf("is %d; a new CI has version 0 (the store sets 1)", rec.Version))
	}
	if err := r.reg.ValidateRecord(rec); err != nil {
		return err
	}
	row, err := encodeRecord(rec, 1)
	if err != nil {
		return err
	}
	taken := fmt.Errorf("postgres: CI %s in tenant %s: %w", rec.ID, rec.Tenant, itsm.ErrAlreadyExists)
	insert := func(q querier) error {
		// ON CONFLICT DO NOTHING tells a taken ID apart without raising an
		// error, which would abort a caller's transaction.
		tag, err := q.Exec(ctx, sqlCIInsert, string(rec.Tenant), pgID(rec.ID), string(rec.Class), string(rec.Status),
			rec.Name, pgOptID(rec.DuplicateOf), row.sources, row.doc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return taken
		}
		return nil
	}
	if rec.DuplicateOf.IsZero() && len(row.keys) == 0 {
		return r.s.do(ctx, r.t, "create CI", insert)
	}
	if rec.DuplicateOf.IsZero() {
		args := []any{string(rec.Tenant), pgID(rec.ID), string(rec.Class), string(rec.Status),
			rec.Name, nil, row.sources, row.doc, row.keys}
		if r.t == nil && r.s.txOf(ctx) == nil {
			// On its own, one statement stores the CI with its keys or
			// nothing: a key another CI carries fails it with a unique
			// violation (itsm.ErrAlreadyExists), after waiting for a writer
			// of that key that has not ended yet.
			return r.s.do(ctx, nil, "create CI", func(q querier) error {
				tag, err := q.Exec(ctx, sqlCIInsertKeyed, args...)
				if err != nil {
					return err
				}
				if tag.RowsAffected() == 0 {
					return taken // the ID: the CI, so its keys, were not inserted
				}
				return nil
			})
		}
		// Inside a caller's transaction an error would abort it, so taken
		// keys are skipped, and when any was, the CI and the keys it got
		// are deleted again: nothing stored, the transaction still usable.
		// Cheaper than a savepoint, which would cost two more round trips
		// on every create, not only on a lost race.
		return r.s.do(ctx, r.t, "create CI", func(q querier) error {
			var made int64
			var claimed []string
			if err := q.QueryRow(ctx, sqlCIInsertKeyedInTx, args...).Scan(&made, &claimed); err != nil {
				return err
			}
			if made == 0 {
				return taken
			}
			if len(claimed) == len(row.keys) {
				return nil
			}
			if _, err := q.Exec(ctx, sqlCIUncreate, string(rec.Tenant), pgID(rec.ID)); err != nil {
				return err
			}
			for i, src := range row.sources {
				if !slices.Contains(claimed, src) {
					return fmt.Errorf("postgres: CI %s in tenant %s: another CI carries native ID %q of source %s: %w",
						rec.ID, rec.Tenant, row.keys[i], src, itsm.ErrAlreadyExists)
				}
			}
			return taken // not reached: a source is missing from claimed
		})
	}
	return r.s.atomic(ctx, r.t, "create CI", func(q querier) error {
		if !rec.DuplicateOf.IsZero() {
			var exists bool
			if err := q.QueryRow(ctx, sqlCIExists, string(rec.Tenant), pgID(rec.ID)).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return taken
			}
			// A new CI has nothing pointing at it yet; only the target
			// matters.
			if err := lockPointerTarget(ctx, q, &rec); err != nil {
				return err
			}
		}
		if err := insert(q); err != nil {
			return err
		}
		// A key found taken undoes the insert with the rest of this unit.
		return claimKeys(ctx, q, rec.Tenant, rec.ID, row.sources, row.keys, itsm.ErrAlreadyExists)
	})
}

// sqlCIInsertKeyed inserts a CI ($1 to $8 as for sqlCIInsert) and its
// native keys (the sources $7[i] with the native IDs $9[i], in key order,
// see sqlKeysClaim) in one statement, the keys only when the CI was
// inserted; a key taken fails the statement. It reports the keys inserted.
const sqlCIInsertKeyed = `WITH ci AS (
	INSERT INTO cmdb_cis (tenant_id, id, version, class, status, name, duplicate_of, sources, doc)
	VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8)
	ON CONFLICT DO NOTHING
	RETURNING id)
INSERT INTO cmdb_native_keys (tenant_id, source, native_id, ci_id)
SELECT $1, k.source, k.native_id, ci.id FROM ci, unnest($7::text[], $9::text[]) AS k(source, native_id)
ORDER BY k.source, k.native_id`

// sqlCIInsertKeyedInTx is sqlCIInsertKeyed skipping taken keys rather than
// failing; it returns how many CIs it inserted (0 or 1) and the sources of
// the keys it inserted.
const sqlCIInsertKeyedInTx = `WITH ci AS (
	INSERT INTO cmdb_cis (tenant_id, id, version, class, status, name, duplicate_of, sources, doc)
	VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8)
	ON CONFLICT DO NOTHING
	RETURNING id),
k AS (
	INSERT INTO cmdb_native_keys (tenant_id, source, native_id, ci_id)
	SELECT $1, k.source, k.native_id, ci.id FROM ci, unnest($7::text[], $9::text[]) AS k(source, native_id)
	ORDER BY k.source, k.native_id
	ON CONFLICT DO NOTHING
	RETURNING source)
SELECT (SELECT count(*) FROM ci), array(SELECT source FROM k)`

// sqlCIUncreate deletes a CI sqlCIInsertKeyedInTx inserted, with its keys.
const sqlCIUncreate = `WITH k AS (DELETE FROM cmdb_native_keys WHERE tenant_id = $1 AND ci_id = $2)
DELETE FROM cmdb_cis WHERE tenant_id = $1 AND id = $2`

// sqlKeysClaim gives CI $2 the keys ($3[i], $4[i]) that no CI carries, in
// key order, so that two writers claiming several keys take their locks in
// the same order and never wait on each other in a circle.
const sqlKeysClaim = `INSERT INTO cmdb_native_keys (tenant_id, source, native_id, ci_id)
SELECT $1, k.source, k.native_id, $2 FROM unnest($3::text[], $4::text[]) AS k(source, native_id)
ORDER BY k.source, k.native_id
ON CONFLICT DO NOTHING
RETURNING source, native_id`

// claimKeys records that CI id carries the native keys (sources[i],
// natives[i]), none of which it carried before, and returns an error
// wrapping sentinel, naming a key, when another CI carries one of them.
// A key another transaction is claiming is waited for: taken if that
// transaction commits, free if it rolls back.
func claimKeys(ctx context.Context, q querier, tenant itsm.TenantID, id cmdb.ID, sources, natives []string, sentinel error) error {
	if len(sources) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, sqlKeysClaim, string(tenant), pgID(id), sources, natives)
	if err != nil {
		return err
	}
	claimed := map[[2]string]bool{}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return err
		}
		claimed[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range sources {
		if !claimed[[2]string{sources[i], natives[i]}] {
			return fmt.Errorf("postgres: CI %s in tenant %s: another CI carries native ID %q of source %s: %w",
				id, tenant, natives[i], sources[i], sentinel)
		}
	}
	return nil
}

// sqlKeysDrop forgets that CI $2 carries the keys ($3[i], $4[i]).
const sqlKeysDrop = `DELETE FROM cmdb_native_keys
WHERE tenant_id = $1 AND ci_id = $2 AND (source, native_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))`

const sqlLockTarget = `SELECT duplicate_of FROM cmdb_cis WHERE tenant_id = $1 AND id = $2 FOR SHARE`

// lockPointerTarget locks the CI r.DuplicateOf names, so that it cannot
// become a duplicate meanwhile, and refuses a pointer to a CI that does not
// exist or is itself a duplicate.
func lockPointerTarget(ctx context.Context, q querier, r *cmdb.Record) error {
	var target *[16]byte
	err := q.QueryRow(ctx, sqlLockTarget, string(r.Tenant), pgID(r.DuplicateOf)).Scan(&target)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return itsm.NewValidationError("duplicate_of", fmt.Sprintf("CI %s does not exist", r.DuplicateOf))
	case err != nil:
		return err
	case target != nil:
		return itsm.NewValidationError("duplicate_of", fmt.Sprintf("CI %s is itself a duplicate of %s: no chains", r.DuplicateOf, uuid.UUID(*target)))
	}
	return nil
}

const sqlCIGet = `SELECT version, doc FROM cmdb_cis WHERE tenant_id = $1 AND id = $2`

// GetCI returns the stored record; see cmdb.Repository.
func (r *cmdbRepo) GetCI(ctx context.Context, tenant itsm.TenantID, id cmdb.ID) (cmdb.Record, error) {
	if err := checkCITenantID(tenant, id); err != nil {
		return cmdb.Record{}, err
	}
	var rec cmdb.Record
	err := r.s.do(ctx, r.t, "get CI", func(q querier) error {
		var version int64
		var doc []byte
		err := q.QueryRow(ctx, sqlCIGet, string(tenant), pgID(id)).Scan(&version, &doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return ciNotFound(tenant, id)
		}
		if err != nil {
			return err
		}
		rec, err = decodeRecord(doc, version)
		return err
	})
	return rec, err
}

// sqlCIUpdate writes a record read at version $3 unless its class changed,
// it gains a new duplicate-of pointer ($6 set and different) or its native
// keys differ from the stored ones ($10, an object of native IDs by
// source), which need the checks of the slow path. Keeping or clearing a
// pointer cannot make a chain; keeping the keys needs no key rows written.
const sqlCIUpdate = `UPDATE cmdb_cis SET version = version + 1, status = $5, name = $7,
	duplicate_of = $6, sources = $8, doc = $9
WHERE tenant_id = $1 AND id = $2 AND version = $3 AND class = $4
	AND ($6::uuid IS NULL OR duplicate_of IS NOT DISTINCT FROM $6::uuid)
	AND ` + sqlStoredKeys + ` = $10::jsonb`

// sqlStoredKeys is the stored record's native keys as a JSON object of
// native IDs by source.
const sqlStoredKeys = `coalesce((SELECT jsonb_object_agg(s.key, s.value->'native_id')
	FROM jsonb_each(doc->'sources') s), '{}'::jsonb)`

// sqlCIUpdateLocked writes a record whose row the slow path has locked
// and checked.
const sqlCIUpdateLocked = `UPDATE cmdb_cis SET version = version + 1, status = $5, name = $7,
	duplicate_of = $6, sources = $8, doc = $9
WHERE tenant_id = $1 AND id = $2 AND version = $3 AND class = $4`

const sqlCILockForUpdate = `SELECT version, class, duplicate_of, ` + sqlStoredKeys + ` FROM cmdb_cis
WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`

const sqlCIPointedAt = `SELECT count(*) FROM cmdb_cis WHERE tenant_id = $1 AND duplicate_of = $2`

// UpdateCI replaces the stored record when its version is still
// rec.Version; see cmdb.Repository.
func (r *cmdbRepo) UpdateCI(ctx context.Context, rec cmdb.Record) error {
	var errs itsm.FieldErrors
	if rec.Version < 1 {
		errs.Addf("version", "is %d; an update carries the version it read (1 or more)", rec.Version)
	}
	errs.Merge("", r.reg.ValidateRecord(rec))
	if err := errs.Err(); err != nil {
		return err
	}
	read := rec.Version
	row, err := encodeRecord(rec, read+1)
	if err != nil {
		return err
	}
	keys := make(map[string]string, len(row.keys))
	for i, src := range row.sources {
		keys[src] = row.keys[i]
	}
	keysJSON, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("postgres: update CI: native keys: %w", err)
	}
	args := []any{string(rec.Tenant), pgID(rec.ID), read, string(rec.Class), string(rec.Status),
		pgOptID(rec.DuplicateOf), rec.Name, row.sources, row.doc}
	// The usual update is one statement; only when it writes nothing does
	// a second, locked look say why, or check a new pointer or new native
	// keys and write.
	done := false
	err = r.s.do(ctx, r.t, "update CI", func(q querier) error {
		tag, err := q.Exec(ctx, sqlCIUpdate, append(args, string(keysJSON))...)
		done = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil || done {
		return err
	}
	return r.s.atomic(ctx, r.t, "update CI", func(q querier) error {
		var version int64
		var class string
		var dup *[16]byte
		var storedJSON []byte
		err := q.QueryRow(ctx, sqlCILockForUpdate, string(rec.Tenant), pgID(rec.ID)).Scan(&version, &class, &dup, &storedJSON)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ciNotFound(rec.Tenant, rec.ID)
		case err != nil:
			return err
		case version != read:
			return fmt.Errorf("postgres: CI %s is at version %d, not %d: %w", rec.ID, version, read, itsm.ErrConflict)
		case class != string(rec.Class):
			return itsm.NewValidationError("class", fmt.Sprintf("cannot change from %s to %s", class, rec.Class))
		}
		if cur := (dup != nil); !rec.DuplicateOf.IsZero() && (!cur || *dup != pgID(rec.DuplicateOf)) {
			if err := lockPointerTarget(ctx, q, &rec); err != nil {
				return err
			}
			// The record is locked, so nothing starts pointing at it
			// before this commits (pointing at it locks it FOR SHARE).
			var n int64
			if err := q.QueryRow(ctx, sqlCIPointedAt, string(rec.Tenant), pgID(rec.ID)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return itsm.NewValidationError("duplicate_of", fmt.Sprintf("%d duplicates point to CI %s: re-point them first", n, rec.ID))
			}
		}
		if err := moveKeys(ctx, q, &rec, storedJSON, keys); err != nil {
			return err
		}
		tag, err := q.Exec(ctx, sqlCIUpdateLocked, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("postgres: CI %s changed while updating: %w", rec.ID, itsm.ErrConflict)
		}
		return nil
	})
}

// moveKeys brings the key rows of rec, whose row is locked, from the keys
// stored (storedJSON, as sqlStoredKeys gives them) to keys: it drops those
// lost and claims those gained, refusing with itsm.ErrConflict a key that
// another CI carries. Keys kept are left alone, even one whose row another
// CI holds (two CIs stored with one key before migration 3): the update
// does not give the CI that key, it already had it.
func moveKeys(ctx context.Context, q querier, rec *cmdb.Record, storedJSON []byte, keys map[string]string) error {
	var stored map[string]string
	if err := json.Unmarshal(storedJSON, &stored); err != nil {
		return fmt.Errorf("postgres: the native keys of CI %s do not decode: %w", rec.ID, err)
	}
	var lostSrc, lostIDs, gainSrc, gainIDs []string
	for _, src := range slices.Sorted(maps.Keys(stored)) {
		if native, ok := keys[src]; !ok || native != stored[src] {
			lostSrc, lostIDs = append(lostSrc, src), append(lostIDs, stored[src])
		}
	}
	for _, src := range slices.Sorted(maps.Keys(keys)) {
		if native, ok := stored[src]; !ok || native != keys[src] {
			gainSrc, gainIDs = append(gainSrc, src), append(gainIDs, keys[src])
		}
	}
	if len(lostSrc) > 0 {
		if _, err := q.Exec(ctx, sqlKeysDrop, string(rec.Tenant), pgID(rec.ID), lostSrc, lostIDs); err != nil {
			return err
		}
	}
	return claimKeys(ctx, q, rec.Tenant, rec.ID, gainSrc, gainIDs, itsm.ErrConflict)
}

const (
	sqlCILockRoot = `SELECT version FROM cmdb_cis WHERE tenant_id = $1 AND id = $2 FOR UPDATE`
	sqlCILockMany = `SELECT id FROM cmdb_cis WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`
	sqlRelsDelete = `DELETE FROM cmdb_relationships WHERE tenant_id = $1 AND id = ANY($2::uuid[])`
	sqlCIsUnpoint = `UPDATE cmdb_cis SET duplicate_of = NULL, version = version + 1, doc = doc - 'duplicate_of'
WHERE tenant_id = $1 AND duplicate_of = ANY($2::uuid[]) AND NOT id = ANY($2::uuid[])`
	sqlCIsDelete = `DELETE FROM cmdb_cis WHERE tenant_id = $1 AND id = ANY($2::uuid[])`
	sqlCIsKeys   = `DELETE FROM cmdb_native_keys WHERE tenant_id = $1 AND ci_id = ANY($2::uuid[])`
)

// DeleteCI deletes the CI and what its relationships' types take with it;
// see cmdb.Repository.
func (r *cmdbRepo) DeleteCI(ctx context.Context, tenant itsm.TenantID, id cmdb.ID, version int64) ([]cmdb.ID, error) {
	if err := checkCITenantID(tenant, id); err != nil {
		return nil, err
	}
	var deleted []cmdb.ID
	err := r.s.atomic(ctx, r.t, "delete CI", func(q querier) error {
		deleted = nil
		var cur int64
		err := q.QueryRow(ctx, sqlCILockRoot, string(tenant), pgID(id)).Scan(&cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ciNotFound(tenant, id)
		case err != nil:
			return err
		case cur != version:
			return fmt.Errorf("postgres: CI %s is at version %d, not %d: %w", id, cur, version, itsm.ErrConflict)
		}
		rels := relCache{}
		if err := rels.load(ctx, q, tenant, []cmdb.ID{id}); err != nil {
			return err
		}
		// The closure is decided over what has been loaded; a CI it
		// reaches that was not is locked and loaded, and the closure
		// decided again, until it reaches nothing new. Locking a CI before
		// reading its relationships keeps them from changing meanwhile.
		for {
			var missing []cmdb.ID
			cis, relIDs, err := r.reg.DeleteClosure(id, rels.lookup(&missing))
			if len(missing) == 0 {
				if err != nil {
					return err
				}
				if _, err := q.Exec(ctx, sqlRelsDelete, string(tenant), pgIDs(relIDs)); err != nil {
					return err
				}
				doomed := pgIDs(cis)
				if _, err := q.Exec(ctx, sqlCIsUnpoint, string(tenant), doomed); err != nil {
					return err
				}
				// The deleted CIs' keys are free again.
				if _, err := q.Exec(ctx, sqlCIsKeys, string(tenant), doomed); err != nil {
					return err
				}
				if _, err := q.Exec(ctx, sqlCIsDelete, string(tenant), doomed); err != nil {
					return err
				}
				deleted = cis
				return nil
			}
			if _, err := q.Exec(ctx, sqlCILockMany, string(tenant), pgIDs(missing)); err != nil {
				return err
			}
			if err := rels.load(ctx, q, tenant, missing); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// relCache holds the relationships of the CIs loaded so far, each CI's
// ascending by ID.
type relCache map[cmdb.ID][]cmdb.Relationship

const sqlRelsOfMany = `SELECT id, type, from_id, to_id, created FROM cmdb_relationships
WHERE tenant_id = $1 AND (from_id = ANY($2::uuid[]) OR to_id = ANY($2::uuid[])) ORDER BY id`

// load reads the relationships of those of cis not loaded yet.
func (c relCache) load(ctx context.Context, q querier, tenant itsm.TenantID, cis []cmdb.ID) error {
	fresh := make([]cmdb.ID, 0, len(cis))
	for _, ci := range cis {
		if _, ok := c[ci]; !ok {
			c[ci] = []cmdb.Relationship{}
			fresh = append(fresh, ci)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, sqlRelsOfMany, string(tenant), pgIDs(fresh))
	if err != nil {
		return err
	}
	rels, err := collectRels(rows, tenant)
	if err != nil {
		return err
	}
	isFresh := make(map[cmdb.ID]bool, len(fresh))
	for _, ci := range fresh {
		isFresh[ci] = true
	}
	for _, rel := range rels {
		for _, end := range [2]cmdb.ID{rel.From, rel.To} {
			if isFresh[end] {
				c[end] = append(c[end], rel)
			}
		}
	}
	return nil
}

// lookup returns the relations function of the integrity checks over the
// cache; a CI not loaded yet has none and is added to missing.
func (c relCache) lookup(missing *[]cmdb.ID) func(cmdb.ID) []cmdb.Relationship {
	return func(ci cmdb.ID) []cmdb.Relationship {
		list, ok := c[ci]
		if !ok && !slices.Contains(*missing, ci) {
			*missing = append(*missing, ci)
		}
		return list
	}
}

// collectRels reads relationship rows (id, type, from_id, to_id, created).
func collectRels(rows pgx.Rows, tenant itsm.TenantID) ([]cmdb.Relationship, error) {
	defer rows.Close()
	var out []cmdb.Relationship
	for rows.Next() {
		var id, from, to [16]byte
		var rel cmdb.Relationship
		if err := rows.Scan(&id, &rel.Type, &from, &to, &rel.Created); err != nil {
			return nil, err
		}
		rel.ID = cmdb.RelationshipIDFromUUID(id)
		rel.Tenant = tenant
		rel.From, rel.To = cmdb.IDFromUUID(from), cmdb.IDFromUUID(to)
		rel.Created = rel.Created.UTC()
		out = append(out, rel)
	}
	return out, rows.Err()
}

// ciListQuery builds the statement of a CI listing: every filter field is
// a condition on a column, its value a parameter. It returns false, and no
// statement, when the filter asks for text no stored record can hold (see
// listQuery).
func ciListQuery(tenant itsm.TenantID, f cmdb.Filter, p cmdb.Page) (string, []any, bool) {
	classes, ok1 := storableOnly(f.Classes)
	statuses, ok2 := storableOnly(f.Statuses)
	if !ok1 || !ok2 || !storable(string(f.Source)) {
		return "", nil, false
	}
	var b strings.Builder
	args := []any{string(tenant)}
	b.WriteString("SELECT version, doc FROM cmdb_cis WHERE tenant_id = $1")
	cond := func(format string, arg any) {
		args = append(args, arg)
		fmt.Fprintf(&b, " AND "+format, "$"+strconv.Itoa(len(args)))
	}
	if !p.After.IsZero() {
		cond("id > %s", pgID(p.After))
	}
	if len(classes) > 0 {
		cond("class = ANY(%s::text[])", classes)
	}
	if len(statuses) > 0 {
		cond("status = ANY(%s::text[])", statuses)
	}
	if f.Source != "" {
		cond("sources @> ARRAY[%s::text]", string(f.Source))
	}
	if f.Duplicates != nil {
		if *f.Duplicates {
			b.WriteString(" AND duplicate_of IS NOT NULL")
		} else {
			b.WriteString(" AND duplicate_of IS NULL")
		}
	}
	args = append(args, p.EffectiveLimit()+1)
	b.WriteString(" ORDER BY id LIMIT $" + strconv.Itoa(len(args)))
	return b.String(), args, true
}

// ListCIs returns a page of the tenant's matching records; see
// cmdb.Repository.
func (r *cmdbRepo) ListCIs(ctx context.Context, tenant itsm.TenantID, f cmdb.Filter, p cmdb.Page) (cmdb.CIPage, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", p.Validate())
	if err := errs.Err(); err != nil {
		return cmdb.CIPage{}, err
	}
	limit := p.EffectiveLimit()
	sql, args, matchable := ciListQuery(tenant, f, p)
	var page cmdb.CIPage
	err := r.s.do(ctx, r.t, "list CIs", func(q querier) error {
		if !matchable {
			// Nothing to ask the server; the call still says whether it
			// was allowed (a transaction's state, the context).
			page = cmdb.CIPage{Items: []cmdb.Record{}}
			return nil
		}
		items, err := queryDocs(ctx, q, sql, args, decodeRecord)
		if items == nil {
			items = []cmdb.Record{}
		}
		page = cmdb.CIPage{Items: items}
		return err
	})
	if err != nil {
		return cmdb.CIPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}

const (
	sqlRelExists = `SELECT EXISTS (SELECT 1 FROM cmdb_relationships WHERE tenant_id = $1 AND id = $2)`
	// The key is per schema and tenant, like the migration lock.
	sqlAcyclicLock = `SELECT pg_advisory_xact_lock(hashtextextended('itsmkit.cmdb.acyclic.' || current_schema() || '.' || $1, 0))`
	sqlLockEnds    = `SELECT id, class FROM cmdb_cis WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE`
	sqlRelInsert   = `INSERT INTO cmdb_relationships (tenant_id, id, type, from_id, to_id, created)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING`
)

// CreateRelationship stores a relationship after the registry's integrity
// checks, run under locks; see cmdb.Repository.
func (r *cmdbRepo) CreateRelationship(ctx context.Context, rel cmdb.Relationship) error {
	if err := r.reg.ValidateRelationship(rel); err != nil {
		return err
	}
	t, _ := r.reg.RelType(rel.Type)
	tenant := string(rel.Tenant)
	taken := fmt.Errorf("postgres: relationship %s in tenant %s: %w", rel.ID, rel.Tenant, itsm.ErrAlreadyExists)
	return r.s.atomic(ctx, r.t, "create relationship", func(q querier) error {
		var exists bool
		if err := q.QueryRow(ctx, sqlRelExists, tenant, pgID(rel.ID)).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return taken
		}
		if t.Kind.Acyclic() {
			if _, err := q.Exec(ctx, sqlAcyclicLock, tenant); err != nil {
				return err
			}
		}
		classes := map[cmdb.ID]cmdb.ClassName{}
		rows, err := q.Query(ctx, sqlLockEnds, tenant, pgIDs([]cmdb.ID{rel.From, rel.To}))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id [16]byte
			var class string
			if err := rows.Scan(&id, &class); err != nil {
				rows.Close()
				return err
			}
			classes[cmdb.IDFromUUID(id)] = cmdb.ClassName(class)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rels := relCache{}
		if err := rels.load(ctx, q, rel.Tenant, []cmdb.ID{rel.From, rel.To}); err != nil {
			return err
		}
		// As for DeleteCI: decide over what is loaded, load what the cycle
		// search reached beyond it, decide again. Those CIs need no lock:
		// hosting and containment edges, the only ones the search follows,
		// are written one at a time per tenant (the advisory lock above).
		for {
			var missing []cmdb.ID
			relations := rels.lookup(&missing)
			err := r.reg.CheckRelationship(rel, cmdb.Lookup{
				Class: func(id cmdb.ID) (cmdb.ClassName, bool) {
					c, ok := classes[id]
					return c, ok
				},
				Relations: relations,
			})
			if len(missing) == 0 {
				if err != nil {
					return err
				}
				break
			}
			if err := rels.load(ctx, q, rel.Tenant, missing); err != nil {
				return err
			}
		}
		tag, err := q.Exec(ctx, sqlRelInsert, tenant, pgID(rel.ID), string(rel.Type), pgID(rel.From), pgID(rel.To), rel.Created)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return taken
		}
		return nil
	})
}

const sqlRelGet = `SELECT id, type, from_id, to_id, created FROM cmdb_relationships WHERE tenant_id = $1 AND id = $2`

// GetRelationship returns the relationship; see cmdb.Repository.
func (r *cmdbRepo) GetRelationship(ctx context.Context, tenant itsm.TenantID, id cmdb.RelationshipID) (cmdb.Relationship, error) {
	if err := checkRelTenantID(tenant, id); err != nil {
		return cmdb.Relationship{}, err
	}
	var found []cmdb.Relationship
	err := r.s.do(ctx, r.t, "get relationship", func(q querier) error {
		rows, err := q.Query(ctx, sqlRelGet, string(tenant), pgID(id))
		if err != nil {
			return err
		}
		found, err = collectRels(rows, tenant)
		return err
	})
	if err != nil {
		return cmdb.Relationship{}, err
	}
	if len(found) == 0 {
		return cmdb.Relationship{}, fmt.Errorf("postgres: relationship %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
	}
	return found[0], nil
}

const sqlRelDelete = `DELETE FROM cmdb_relationships WHERE tenant_id = $1 AND id = $2`

// DeleteRelationship deletes a relationship; see cmdb.Repository. Removing
// a relationship cannot break an invariant, so it takes no locks beyond
// its row's.
func (r *cmdbRepo) DeleteRelationship(ctx context.Context, tenant itsm.TenantID, id cmdb.RelationshipID) error {
	if err := checkRelTenantID(tenant, id); err != nil {
		return err
	}
	return r.s.do(ctx, r.t, "delete relationship", func(q querier) error {
		tag, err := q.Exec(ctx, sqlRelDelete, string(tenant), pgID(id))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: relationship %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
		}
		return nil
	})
}

const sqlRelsOf = `SELECT id, type, from_id, to_id, created FROM cmdb_relationships
WHERE tenant_id = $1 AND (from_id = $2 OR to_id = $2) ORDER BY id`

// RelationshipsOf returns the relationships of a CI; see cmdb.Repository.
func (r *cmdbRepo) RelationshipsOf(ctx context.Context, tenant itsm.TenantID, ci cmdb.ID) ([]cmdb.Relationship, error) {
	if err := checkCITenantID(tenant, ci); err != nil {
		return nil, err
	}
	var out []cmdb.Relationship
	err := r.s.do(ctx, r.t, "relationships of CI", func(q querier) error {
		rows, err := q.Query(ctx, sqlRelsOf, string(tenant), pgID(ci))
		if err != nil {
			return err
		}
		out, err = collectRels(rows, tenant)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const (
	sqlRelsList      = `SELECT id, type, from_id, to_id, created FROM cmdb_relationships WHERE tenant_id = $1 ORDER BY id LIMIT $2`
	sqlRelsListAfter = `SELECT id, type, from_id, to_id, created FROM cmdb_relationships WHERE tenant_id = $1 AND id > $3 ORDER BY id LIMIT $2`
)

// ListRelationships returns a page of the tenant's relationships; see
// cmdb.Repository.
func (r *cmdbRepo) ListRelationships(ctx context.Context, tenant itsm.TenantID, p cmdb.RelationshipPage) (cmdb.RelationshipList, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", p.Validate())
	if err := errs.Err(); err != nil {
		return cmdb.RelationshipList{}, err
	}
	limit := p.EffectiveLimit()
	sql, args := sqlRelsList, []any{string(tenant), limit + 1}
	if !p.After.IsZero() {
		sql, args = sqlRelsListAfter, append(args, pgID(p.After))
	}
	var items []cmdb.Relationship
	err := r.s.do(ctx, r.t, "list relationships", func(q querier) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = collectRels(rows, tenant)
		return err
	})
	if err != nil {
		return cmdb.RelationshipList{}, err
	}
	page := cmdb.RelationshipList{Items: items}
	if page.Items == nil {
		page.Items = []cmdb.Relationship{}
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}
