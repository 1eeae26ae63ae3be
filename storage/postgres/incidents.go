package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// incidentRepo is the store's incident repository; calls made with a
// transaction's context run inside that transaction.
type incidentRepo Store

// txIncidentRepo is the incident repository bound to one transaction.
type txIncidentRepo tx

// Create stores d as version 1; see incident.Repository.
func (r *incidentRepo) Create(ctx context.Context, d incident.Data) error {
	return (*Store)(r).create(ctx, nil, d)
}

// Get returns the stored incident; see incident.Repository.
func (r *incidentRepo) Get(ctx context.Context, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	return (*Store)(r).get(ctx, nil, tenant, id)
}

// GetByNumber returns the stored incident; see incident.Repository.
func (r *incidentRepo) GetByNumber(ctx context.Context, tenant itsm.TenantID, number incident.Number) (incident.Data, error) {
	return (*Store)(r).getByNumber(ctx, nil, tenant, number)
}

// Update replaces the stored incident when its version is still d.Version;
// see incident.Repository.
func (r *incidentRepo) Update(ctx context.Context, d incident.Data) error {
	return (*Store)(r).update(ctx, nil, d)
}

// List returns a page of the tenant's matching incidents; see
// incident.Repository.
func (r *incidentRepo) List(ctx context.Context, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	return (*Store)(r).list(ctx, nil, tenant, f, p)
}

// Create stores d inside the transaction.
func (r *txIncidentRepo) Create(ctx context.Context, d incident.Data) error {
	return r.s.create(ctx, (*tx)(r), d)
}

// Get reads inside the transaction, seeing its own writes.
func (r *txIncidentRepo) Get(ctx context.Context, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	return r.s.get(ctx, (*tx)(r), tenant, id)
}

// GetByNumber reads inside the transaction, seeing its own writes.
func (r *txIncidentRepo) GetByNumber(ctx context.Context, tenant itsm.TenantID, number incident.Number) (incident.Data, error) {
	return r.s.getByNumber(ctx, (*tx)(r), tenant, number)
}

// Update writes inside the transaction.
func (r *txIncidentRepo) Update(ctx context.Context, d incident.Data) error {
	return r.s.update(ctx, (*tx)(r), d)
}

// List reads inside the transaction, seeing its own writes.
func (r *txIncidentRepo) List(ctx context.Context, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	return r.s.list(ctx, (*tx)(r), tenant, f, p)
}

// checkRecord validates what the store itself relies on, as the memory
// store does, plus what PostgreSQL cannot hold exactly (instants finer than
// a microsecond where lists filter): the service validates the rest before
// saving, and never produces such instants.
func checkRecord(d *incident.Data, creating bool) error {
	var errs itsm.FieldErrors
	storage.CheckIncidentWrite(&errs, d, creating)
	// The columns lists filter on keep microseconds; a finer instant would
	// be listed as if truncated while Filter.Matches sees it whole.
	if !wholeMicro(d.OpenedAt) {
		errs.Add("opened_at", "must be whole to the microsecond (itsm.Normalize)")
	}
	if !wholeMicro(d.UpdatedAt) {
		errs.Add("updated_at", "must be whole to the microsecond (itsm.Normalize)")
	}
	if !wholeMicro(d.ResolvedAt) {
		errs.Add("resolved_at", "must be whole to the microsecond (itsm.Normalize)")
	}
	if next, ok := d.SLANextAt(); ok && !wholeMicro(next) {
		errs.Add("sla.timers", "the next due instant must be whole to the microsecond (itsm.Normalize)")
	}
	return errs.Err()
}

// wholeMicro reports whether t has no part finer than a microsecond.
func wholeMicro(t time.Time) bool { return t.Equal(t.Truncate(time.Microsecond)) }

// row is an incident as the incidents table holds it: the document and
// the columns copied from it for queries.
type row struct {
	doc         []byte
	status      string
	priority    int
	group       string
	assignee    string
	parent      any // [16]byte, or nil for no parent
	major       string
	caller      string
	category    string
	service     string // serviceKey(d.Service)
	resolvedAt  any    // time.Time, or nil
	slaBreached bool
	slaNextAt   any // time.Time, or nil
	slaStages   []string
}

// encode checks that PostgreSQL can hold d's text and returns its row,
// with the document saying version. It changes *d, a copy the caller owns
// (its Version, and its instants to UTC: see utcInstants), never what *d's
// lists share with the caller's record.
func encode(d *incident.Data, version int64) (row, error) {
	d.Version = version
	utcInstants(d)
	doc, err := json.Marshal(d)
	if err != nil {
		return row{}, itsm.NewValidationError("incident", fmt.Sprintf("does not encode as JSON: %v", err))
	}
	if err := checkText(doc, d); err != nil {
		return row{}, err
	}
	r := row{
		doc: doc, status: string(d.Status), priority: int(d.Priority),
		group: d.Group, assignee: d.Assignee, major: string(d.Major.Status),
		caller: d.Caller, category: d.Category, service: serviceKey(d.Service),
		slaBreached: d.SLABreached(),
	}
	if !d.Parent.IsZero() {
		r.parent = [16]byte(d.Parent.UUID())
	}
	if !d.ResolvedAt.IsZero() {
		r.resolvedAt = d.ResolvedAt
	}
	if next, ok := d.SLANextAt(); ok {
		r.slaNextAt = next
	}
	r.slaStages = make([]string, 0, len(d.SLA.Timers))
	for i := range d.SLA.Timers {
		st := d.SLA.Timers[i].Stage.String()
		if !containsString(r.slaStages, st) {
			r.slaStages = append(r.slaStages, st)
		}
	}
	return r, nil
}

// utcInstants puts every instant of *d in UTC before it is encoded. JSON
// writes a time.Time with its zone's offset in whole minutes, dropping the
// seconds some offsets have (local mean times: Africa/Monrovia was
// -0:44:30 until 1972, time.FixedZone("LMT", 59)), so such an instant
// would be stored up to 59 seconds off while the columns lists filter on
// hold it exactly. In UTC the offset is "Z", and the instant is kept
// exactly; the Repository contract lets instants come back in UTC.
//
// Every record the service writes is UTC throughout, so the first pass
// only looks, allocating nothing; a record with an instant in another
// zone is cloned before the second pass changes it, since *d's lists are
// shared with the caller's record.
func utcInstants(d *incident.Data) {
	utc := true
	eachInstant(d, func(t *time.Time) {
		if t.Location() != time.UTC {
			utc = false
		}
	})
	if utc {
		return
	}
	*d = d.Clone()
	eachInstant(d, func(t *time.Time) {
		if t.Location() != time.UTC {
			*t = t.UTC()
		}
	})
}

// eachInstant calls f with every instant *d holds: its own, the override's,
// the major review's, each comment's and history entry's, and those of the
// SLA state and its timers, marks, segments and changes. A field added to
// any of those types must be added here (TestEncodeStoresEveryInstantInUTC
// finds every time.Time by reflection and fails on one missed).
func eachInstant(d *incident.Data, f func(*time.Time)) {
	f(&d.OpenedAt)
	f(&d.FirstResponseAt)
	f(&d.ResolvedAt)
	f(&d.ClosedAt)
	f(&d.UpdatedAt)
	if d.Override != nil {
		f(&d.Override.At)
	}
	f(&d.Major.ReviewedAt)
	for k := range d.Comments {
		f(&d.Comments[k].At)
	}
	for k := range d.History {
		f(&d.History[k].At)
	}
	f(&d.SLA.AsOf)
	for k := range d.SLA.Timers {
		tm := &d.SLA.Timers[k]
		f(&tm.BreachedAt)
		f(&tm.StartedAt)
		f(&tm.AttachedAt)
		f(&tm.EndedAt)
		f(&tm.AsOf)
		f(&tm.Since)
		f(&tm.DueAt)
		f(&tm.NextAt)
		for j := range tm.Marks {
			f(&tm.Marks[j].At)
		}
		for j := range tm.Segments {
			f(&tm.Segments[j].From)
			f(&tm.Segments[j].To)
		}
		for j := range tm.Changes {
			c := &tm.Changes[j]
			f(&c.At)
			f(&c.BreachedAt)
			f(&c.PriorBreachedAt)
		}
	}
}

// serviceKey is what the service column holds for ref: "kind:uuid"
// (itsm.Ref.String, whose UUID part has a fixed length, so that no two
// references share a key), or "" for the zero Ref. Migration 4 builds the
// same text from the document's JSON.
func serviceKey(ref itsm.Ref) string {
	if ref.IsZero() {
		return ""
	}
	return ref.String()
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode turns a stored document back into incident data at version.
func decode(doc []byte, version int64) (incident.Data, error) {
	var d incident.Data
	if err := json.Unmarshal(doc, &d); err != nil {
		return incident.Data{}, fmt.Errorf("postgres: a stored incident does not decode: %w", err)
	}
	d.Version = version
	return d, nil
}

const sqlInsert = `INSERT INTO incidents (tenant_id, id, number, version, status, priority,
	group_name, assignee, parent_id, major_status, opened_at, updated_at, resolved_at,
	sla_breached, sla_next_at, sla_stages, doc, caller, category, service)
VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT DO NOTHING`

func (s *Store) create(ctx context.Context, t *tx, d incident.Data) error {
	if err := checkRecord(&d, true); err != nil {
		return err
	}
	r, err := encode(&d, 1)
	if err != nil {
		return err
	}
	return s.do(ctx, t, "create incident", func(q querier) error {
		// ON CONFLICT DO NOTHING tells a taken ID or number apart without
		// raising an error, which would abort a caller's transaction.
		tag, err := q.Exec(ctx, sqlInsert, string(d.Tenant), [16]byte(d.ID.UUID()), string(d.Number),
			r.status, r.priority, r.group, r.assignee, r.parent, r.major, d.OpenedAt, d.UpdatedAt,
			r.resolvedAt, r.slaBreached, r.slaNextAt, r.slaStages, r.doc, r.caller, r.category, r.service)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: incident %s or number %s in tenant %s: %w", d.ID, d.Number, d.Tenant, itsm.ErrAlreadyExists)
		}
		return nil
	})
}

const sqlUpdate = `UPDATE incidents SET version = version + 1, status = $5, priority = $6,
	group_name = $7, assignee = $8, parent_id = $9, major_status = $10, opened_at = $11,
	updated_at = $12, resolved_at = $13, sla_breached = $14, sla_next_at = $15,
	sla_stages = $16, doc = $17, caller = $18, category = $19, service = $20
WHERE tenant_id = $1 AND id = $2 AND version = $3 AND number = $4`

const sqlCurrent = `SELECT version, number FROM incidents WHERE tenant_id = $1 AND id = $2`

func (s *Store) update(ctx context.Context, t *tx, d incident.Data) error {
	if err := checkRecord(&d, false); err != nil {
		return err
	}
	read := d.Version
	r, err := encode(&d, read+1)
	if err != nil {
		return err
	}
	return s.do(ctx, t, "update incident", func(q querier) error {
		tag, err := q.Exec(ctx, sqlUpdate, string(d.Tenant), [16]byte(d.ID.UUID()), read, string(d.Number),
			r.status, r.priority, r.group, r.assignee, r.parent, r.major, d.OpenedAt, d.UpdatedAt,
			r.resolvedAt, r.slaBreached, r.slaNextAt, r.slaStages, r.doc, r.caller, r.category, r.service)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		// Nothing was written; say why.
		var version int64
		var number string
		err = q.QueryRow(ctx, sqlCurrent, string(d.Tenant), [16]byte(d.ID.UUID())).Scan(&version, &number)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: incident %s in tenant %s: %w", d.ID, d.Tenant, itsm.ErrNotFound)
		case err != nil:
			return err
		case version != read:
			return fmt.Errorf("postgres: incident %s is at version %d, not %d: %w", d.ID, version, read, itsm.ErrConflict)
		case number != string(d.Number):
			return itsm.NewValidationError("number", fmt.Sprintf("cannot change from %s to %s", number, d.Number))
		}
		// The row changed between the two statements: another writer got
		// there first.
		return fmt.Errorf("postgres: incident %s changed while updating: %w", d.ID, itsm.ErrConflict)
	})
}

const sqlGet = `SELECT version, doc FROM incidents WHERE tenant_id = $1 AND id = $2`
const sqlGetByNumber = `SELECT version, doc FROM incidents WHERE tenant_id = $1 AND number = $2`

func (s *Store) get(ctx context.Context, t *tx, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	if err := errs.Err(); err != nil {
		return incident.Data{}, err
	}
	return s.getOne(ctx, t, "get incident", sqlGet, string(tenant), [16]byte(id.UUID()))
}

func (s *Store) getByNumber(ctx context.Context, t *tx, tenant itsm.TenantID, number incident.Number) (incident.Data, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if number == "" {
		errs.Add("number", "must not be empty")
	}
	if err := errs.Err(); err != nil {
		return incident.Data{}, err
	}
	if !storable(string(number)) {
		// No stored incident can have this number (a write holding it is
		// refused), as in a store that keeps every text: not found, once
		// the call is known to be allowed at all (a transaction's state,
		// the context).
		err := s.do(ctx, t, "get incident by number", func(querier) error {
			return fmt.Errorf("postgres: incident %q in tenant %s: %w", number, tenant, itsm.ErrNotFound)
		})
		return incident.Data{}, err
	}
	return s.getOne(ctx, t, "get incident by number", sqlGetByNumber, string(tenant), string(number))
}

func (s *Store) getOne(ctx context.Context, t *tx, op, sql string, tenant string, key any) (incident.Data, error) {
	var d incident.Data
	err := s.do(ctx, t, op, func(q querier) error {
		var version int64
		var doc []byte
		err := q.QueryRow(ctx, sql, tenant, key).Scan(&version, &doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: incident %v in tenant %s: %w", key, tenant, itsm.ErrNotFound)
		}
		if err != nil {
			return err
		}
		d, err = decode(doc, version)
		return err
	})
	return d, err
}

// storableOnly returns the values of list that PostgreSQL text can hold,
// and false when list held some but none of them is: a filter on such
// values matches nothing here, since no stored record can hold one, yet
// sending them would make the server refuse the statement.
func storableOnly[S ~string](list []S) ([]string, bool) {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if storable(string(v)) {
			out = append(out, string(v))
		}
	}
	return out, len(out) > 0 || len(list) == 0
}

// listQuery builds the statement of a listing: every filter field becomes
// a condition on a column with its value as a parameter, never as text of
// the statement. It returns false, and no statement, when the filter asks
// for text no stored record can hold (a NUL byte, invalid UTF-8) or for
// instants beyond every stored one (see placeInstant): nothing matches, as
// Filter.Matches would say of every record this store keeps.
func listQuery(tenant itsm.TenantID, f incident.Filter, p incident.Page) (string, []any, bool) {
	statuses, ok1 := storableOnly(f.Statuses)
	major, ok2 := storableOnly(f.Major)
	if !ok1 || !ok2 || !storable(f.Group) || !storable(f.Assignee) ||
		!storable(f.Caller) || !storable(f.Category) {
		return "", nil, false
	}
	var b strings.Builder
	args := []any{string(tenant)}
	b.WriteString("SELECT version, doc FROM incidents WHERE tenant_id = $1")
	cond := func(format string, arg any) {
		args = append(args, arg)
		fmt.Fprintf(&b, " AND "+format, "$"+strconv.Itoa(len(args)))
	}
	if !p.After.IsZero() {
		cond("id > %s", [16]byte(p.After.UUID()))
	}
	if len(statuses) > 0 {
		cond("status = ANY(%s::text[])", statuses)
	}
	if len(f.Priorities) > 0 {
		list := make([]int64, len(f.Priorities))
		for i, pr := range f.Priorities {
			list[i] = int64(pr)
		}
		cond("priority = ANY(%s::bigint[])", list)
	}
	if f.Group != "" {
		cond("group_name = %s", f.Group)
	}
	if f.Assignee != "" {
		cond("assignee = %s", f.Assignee)
	}
	if !f.Parent.IsZero() {
		cond("parent_id = %s", [16]byte(f.Parent.UUID()))
	}
	if len(major) > 0 {
		cond("major_status = ANY(%s::text[])", major)
	}
	if f.Caller != "" {
		cond("caller = %s", f.Caller)
	}
	if f.Category != "" {
		cond("category = %s", f.Category)
	}
	if !f.Service.IsZero() {
		cond("service = %s", serviceKey(f.Service))
	}
	// Stored instants are whole microseconds: at or after t is at or after
	// t rounded up to the next microsecond, and so is strictly before t
	// before it. A bound beyond every stored instant is decided here
	// (placeInstant), since the server could not take some of them; for a
	// column that may be NULL, after every stored instant still means set.
	// Each reports false when nothing can match.
	atOrAfter := func(column string, t time.Time) bool {
		switch placeInstant(t) {
		case afterAll:
			return false
		case within:
			cond(column+" >= %s", ceilMicro(t))
		}
		return true
	}
	before := func(column string, t time.Time) bool {
		switch placeInstant(t) {
		case beforeAll:
			return false
		case afterAll:
			b.WriteString(" AND " + column + " IS NOT NULL")
		default:
			cond(column+" < %s", ceilMicro(t))
		}
		return true
	}
	if !f.OpenedFrom.IsZero() && !atOrAfter("opened_at", f.OpenedFrom) ||
		!f.OpenedBefore.IsZero() && !before("opened_at", f.OpenedBefore) ||
		!f.UpdatedSince.IsZero() && !atOrAfter("updated_at", f.UpdatedSince) ||
		!f.ResolvedBefore.IsZero() && !before("resolved_at", f.ResolvedBefore) {
		return "", nil, false
	}
	if len(f.SLAStages) > 0 {
		list := make([]string, len(f.SLAStages))
		for i, st := range f.SLAStages {
			list[i] = st.String()
		}
		cond("sla_stages && %s::text[]", list)
	}
	if f.SLABreached != nil {
		cond("sla_breached = %s", *f.SLABreached)
	}
	if !f.SLANextBefore.IsZero() {
		switch placeInstant(f.SLANextBefore) {
		case beforeAll:
			return "", nil, false
		case afterAll:
			b.WriteString(" AND sla_next_at IS NOT NULL")
		default:
			// At or before t is at or before t truncated to the microsecond.
			cond("sla_next_at <= %s", f.SLANextBefore.Truncate(time.Microsecond))
		}
	}
	args = append(args, p.EffectiveLimit()+1)
	b.WriteString(" ORDER BY id LIMIT $" + strconv.Itoa(len(args)))
	return b.String(), args, true
}

// Where a filter's bound lies against the instants the incidents table
// holds.
const (
	within    = iota // among them: the server compares
	beforeAll        // before every one of them
	afterAll         // after every one of them
)

// The instants the incidents table holds lie in the years 0 to 9999: the
// document is JSON, which holds no other years (encoding/json refuses to
// write them), and the columns are copies of the document's instants. The
// incident's own instants are narrower still (itsm.InstantInRange).
var (
	firstStorable = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	pastStorable  = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// placeInstant says where a filter's bound t lies: before every stored
// instant, after every one, or within them. Outside, the answer is known
// without the server, which refuses instants beyond timestamptz's range
// (22008), while Filter.Matches compares any instant: so a filter bound in
// year 300000 selects what it selects in the memory store, rather than
// failing here.
func placeInstant(t time.Time) int {
	switch {
	case t.Before(firstStorable):
		return beforeAll
	case !t.Before(pastStorable):
		return afterAll
	}
	return within
}

// ceilMicro rounds t up to a whole microsecond.
func ceilMicro(t time.Time) time.Time {
	c := t.Truncate(time.Microsecond)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}

func (s *Store) list(ctx context.Context, t *tx, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", f.Validate())
	errs.Merge("", p.Validate())
	if err := errs.Err(); err != nil {
		return incident.ListPage{}, err
	}
	limit := p.EffectiveLimit()
	sql, args, matchable := listQuery(tenant, f, p)
	var page incident.ListPage
	err := s.do(ctx, t, "list incidents", func(q querier) error {
		if !matchable {
			// Nothing to ask the server, but the call still says whether
			// it was allowed (a transaction's state, the context).
			return nil
		}
		items, err := queryDocs(ctx, q, sql, args, decode)
		page = incident.ListPage{Items: items}
		return err
	})
	if err != nil {
		return incident.ListPage{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}
