package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// incidentRepo is the store's incident repository; calls made with a
// transaction's context run inside that transaction.
type incidentRepo Store

// txIncidentRepo is the incident repository bound to one transaction.
type txIncidentRepo tx

// Create stores a copy of d as version 1; see incident.Repository.
func (r *incidentRepo) Create(ctx context.Context, d incident.Data) error {
	return (*Store)(r).create(ctx, nil, &d, nil)
}

// Get returns a copy of the stored incident; see incident.Repository.
func (r *incidentRepo) Get(ctx context.Context, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	return (*Store)(r).get(ctx, nil, tenant, id)
}

// GetByNumber returns a copy of the stored incident; see
// incident.Repository.
func (r *incidentRepo) GetByNumber(ctx context.Context, tenant itsm.TenantID, number incident.Number) (incident.Data, error) {
	return (*Store)(r).getByNumber(ctx, nil, tenant, number)
}

// Update replaces the stored incident when its version is still d.Version;
// see incident.Repository.
func (r *incidentRepo) Update(ctx context.Context, d incident.Data) error {
	return (*Store)(r).update(ctx, nil, &d, nil)
}

// The methods below are for incident.Service alone, which finds them by
// type assertion: they lend the stored record without copying it and adopt
// the record written (the rule both sides follow is in incident's
// share.go). Nothing else may call them.

// GetShared is Get for incident.Service: the record shares memory with
// the store, and the caller changes nothing it reaches.
func (r *incidentRepo) GetShared(ctx context.Context, tenant itsm.TenantID, id incident.ID) (*incident.Data, any, error) {
	return (*Store)(r).getShared(ctx, nil, tenant, id)
}

// CreateOwned is Create for incident.Service, adopting d itself from
// owner and setting its Version to 1.
func (r *incidentRepo) CreateOwned(ctx context.Context, d *incident.Data, owner any) error {
	return (*Store)(r).create(ctx, nil, d, owner)
}

// UpdateOwned is Update for incident.Service, adopting d itself from
// owner and setting its Version to the version stored.
func (r *incidentRepo) UpdateOwned(ctx context.Context, d *incident.Data, owner any) error {
	return (*Store)(r).update(ctx, nil, d, owner)
}

// CommitOwned is, for incident.Service, Atomically with a function that
// creates (or updates) d with CreateOwned (UpdateOwned) and appends
// events, whose validity it trusts.
func (r *incidentRepo) CommitOwned(ctx context.Context, d *incident.Data, create bool, events []itsm.Event, owner any) error {
	return (*Store)(r).commitOwned(ctx, d, create, events, owner)
}

// List returns a page of the tenant's matching incidents; see
// incident.Repository.
func (r *incidentRepo) List(ctx context.Context, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	return (*Store)(r).list(ctx, nil, tenant, f, p)
}

// NativeAtomicFor reports whether s is the store itself, so that
// storage.IncidentConfig uses Atomically as it is (see
// storage.NativeAtomic); for a type embedding the store it is false.
func (r *incidentRepo) NativeAtomicFor(s storage.Store) bool {
	st, ok := s.(*Store)
	return ok && st == (*Store)(r)
}

// NativeAtomicFor reports whether s is this transaction's Store.
func (r *txIncidentRepo) NativeAtomicFor(s storage.Store) bool {
	x, ok := s.(*txStore)
	return ok && x == (*txStore)(r)
}

// Atomically runs fn in a transaction of the store, or in a savepoint of
// the one ctx carries (incident.Atomic): the incident writes fn makes
// through tx and the events it appends commit together.
func (r *incidentRepo) Atomically(ctx context.Context, fn func(ctx context.Context, tx incident.Tx) error) error {
	if fn == nil {
		return errNilFn
	}
	return inTx((*Store)(r), ctx, fn, callIncidents)
}

// Atomically opens a savepoint in the transaction (incident.Atomic).
func (r *txIncidentRepo) Atomically(ctx context.Context, fn func(ctx context.Context, tx incident.Tx) error) error {
	if fn == nil {
		return errNilFn
	}
	return savepoint((*tx)(r), ctx, fn, callIncidents)
}

// Append adds events to the outbox inside the transaction (incident.Tx).
func (r *txIncidentRepo) Append(ctx context.Context, events ...itsm.Event) error {
	return r.s.append(ctx, (*tx)(r), events)
}

// Create stores a copy of d inside the transaction.
func (r *txIncidentRepo) Create(ctx context.Context, d incident.Data) error {
	return r.s.create(ctx, (*tx)(r), &d, nil)
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
	return r.s.update(ctx, (*tx)(r), &d, nil)
}

// GetShared is GetShared inside the transaction (for incident.Service).
func (r *txIncidentRepo) GetShared(ctx context.Context, tenant itsm.TenantID, id incident.ID) (*incident.Data, any, error) {
	return r.s.getShared(ctx, (*tx)(r), tenant, id)
}

// CreateOwned is CreateOwned inside the transaction (for
// incident.Service).
func (r *txIncidentRepo) CreateOwned(ctx context.Context, d *incident.Data, owner any) error {
	return r.s.create(ctx, (*tx)(r), d, owner)
}

// UpdateOwned is UpdateOwned inside the transaction (for
// incident.Service).
func (r *txIncidentRepo) UpdateOwned(ctx context.Context, d *incident.Data, owner any) error {
	return r.s.update(ctx, (*tx)(r), d, owner)
}

// List reads inside the transaction, seeing its own writes.
func (r *txIncidentRepo) List(ctx context.Context, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	return r.s.list(ctx, (*tx)(r), tenant, f, p)
}

// checkRecord validates what the store itself relies on: the service
// validates the rest before saving.
func checkRecord(d *incident.Data, creating bool) error {
	var errs itsm.FieldErrors
	storage.CheckIncidentWrite(&errs, d, creating)
	return errs.Err()
}

// stored is one incident as the store keeps it: the summary that
// identifies it and that filters read, and the record itself, kept one of
// two ways. An incident still being worked on is kept decoded (hot), so
// that the commands that follow one another on it neither decode nor
// encode it. One that is done (closed or canceled: see isDone) is kept as
// its binary encoding in a string, pointer-free and about a third of the
// size, whose text a record read back shares instead of copying; a
// command on it (a reopen) decodes it once and stores it hot again.
//
// A stored value never changes, whichever way it keeps the record: an
// update replaces it. That is what lets readers use it after letting go of
// the lock, and lets the store lend a hot record to incident.Service
// without copying it (see getShared).
type stored struct {
	sum incident.Summary
	// hot is the decoded record, or nil when enc holds it.
	hot *incident.Data
	// owner is who hot was adopted from (see keep), or nil.
	owner any
	enc   string
}

// hotStored is a stored with its decoded record, allocated together.
type hotStored struct {
	stored
	d incident.Data
}

// isDone reports whether d is kept encoded: a closed incident (ClosedAt is
// set exactly in a closed state's category) or a canceled one (the only
// kind with a Cancellation). The store knows no lifecycle, so it reads
// what the categories imply; a record it judges wrongly is only kept the
// other way, never served differently.
func isDone(d *incident.Data) bool {
	return !d.ClosedAt.IsZero() || d.Cancellation != nil
}

// keep turns d, at the given version, into what the store keeps. When
// owner is not nil the store takes d itself over from it, setting its
// Version (the caller never changes it again, and must discard it if the
// write then fails), and getShared reports owner with it; otherwise *d is
// left as it is and a hot record is a deep copy, so that nothing is shared
// with the caller.
func (s *Store) keep(d *incident.Data, version int64, owner any) (*stored, error) {
	if isDone(d) {
		// A record taken over is given its version and encoded as it is;
		// any other is left as it is, and a copy of it encoded.
		e := d
		if owner == nil {
			c := *d
			e = &c
		}
		before := e.Version
		e.Version = version
		enc, err := s.encodeString(e.AppendBinary)
		if err != nil {
			e.Version = before // the write fails: d stays as it was
			return nil, fmt.Errorf("memory: encoding incident %s: %w", d.ID, err)
		}
		return &stored{enc: enc, sum: e.Summary()}, nil
	}
	if owner != nil {
		d.Version = version
		return &stored{hot: d, owner: owner, sum: d.Summary()}, nil
	}
	h := &hotStored{d: d.Clone()}
	h.d.Version = version
	h.hot = &h.d
	h.sum = h.d.Summary()
	return &h.stored, nil
}

// encodeString runs write on one of the store's scratch buffers and
// returns what it wrote as an exact-size string.
func (s *Store) encodeString(write func(b []byte) ([]byte, error)) (string, error) {
	bp := s.buffer()
	b, err := write((*bp)[:0])
	if err != nil {
		s.release(bp, nil)
		return "", err
	}
	enc := string(b)
	s.release(bp, b)
	return enc, nil
}

// buffer returns one of the store's scratch buffers.
func (s *Store) buffer() *[]byte {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 4096)
		bp = &b
	}
	return bp
}

// release gives back a scratch buffer that buffer returned, keeping b
// (what it became by appending to it) unless b is nil or very large.
func (s *Store) release(bp *[]byte, b []byte) {
	if cap(b) > 1<<20 {
		return
	}
	if b != nil {
		*bp = b
	}
	s.bufs.Put(bp)
}

// detach decides what text r's summary holds, prev being the version r
// replaces (nil for a new record). A record read from the store shares
// the text of the encoding it was decoded from; a summary holding that
// text beside a record kept encoded would keep the earlier encoding alive
// as long as the record is stored. So the summary of a record kept
// encoded gets strings of the store's own: names (statuses, groups,
// assignees, callers, categories, service kinds) repeat across incidents
// and are interned, taking the previous version's string when it equals
// and is the store's own. A hot record's summary shares the record's
// text instead, at no cost: the record holds it anyway, and the summary
// goes with it. The number is a map key for the record's life, so it is
// the store's own from the creation on. Callers hold the store
// exclusively.
func (s *Store) detach(r, prev *stored) {
	sum := &r.sum
	if prev == nil {
		sum.Number = incident.Number(strings.Clone(string(sum.Number)))
	} else {
		sum.Number = prev.sum.Number // an update never changes it
	}
	if r.hot != nil {
		return
	}
	if prev == nil || prev.hot != nil {
		sum.Status = incident.Status(s.intern(string(sum.Status)))
		sum.Major = incident.MajorStatus(s.intern(string(sum.Major)))
		sum.Group = s.intern(sum.Group)
		sum.Assignee = s.intern(sum.Assignee)
		sum.Caller = s.intern(sum.Caller)
		sum.Category = s.intern(sum.Category)
		sum.Service.Kind = itsm.Kind(s.intern(string(sum.Service.Kind)))
		return
	}
	// A command on a done record changes a field or two: what equals the
	// previous version's takes its string, already the store's own,
	// without a lookup in the table.
	p := &prev.sum
	sum.Status = incident.Status(s.internAs(string(sum.Status), string(p.Status)))
	sum.Major = incident.MajorStatus(s.internAs(string(sum.Major), string(p.Major)))
	sum.Group = s.internAs(sum.Group, p.Group)
	sum.Assignee = s.internAs(sum.Assignee, p.Assignee)
	sum.Caller = s.internAs(sum.Caller, p.Caller)
	sum.Category = s.internAs(sum.Category, p.Category)
	sum.Service.Kind = itsm.Kind(s.internAs(string(sum.Service.Kind), string(p.Service.Kind)))
}

// internAs is intern, returning prev (a string the store owns) when v
// equals it.
func (s *Store) internAs(v, prev string) string {
	if v == prev {
		return prev
	}
	return s.intern(v)
}

// maxInterned bounds the store's table of interned names.
const maxInterned = 1 << 14

// intern returns a string equal to v that shares no memory with a record.
// Callers hold the store exclusively.
func (s *Store) intern(v string) string {
	if v == "" {
		return ""
	}
	r := &s.recent[internSlot(v)]
	if *r == v {
		return *r
	}
	if w, ok := s.names[v]; ok {
		*r = w
		return w
	}
	w := strings.Clone(v)
	if len(s.names) < maxInterned && len(v) <= 256 {
		if s.names == nil {
			s.names = make(map[string]string)
		}
		s.names[w] = w
		*r = w
	}
	return w
}

// internSlot returns where in Store.recent the name v (not empty) would
// be. Statuses differ in their length and first and last letters.
func internSlot(v string) int {
	h := uint32(len(v)) | uint32(v[0])<<8 | uint32(v[len(v)-1])<<16
	h *= 0x9e3779b1
	return int(h >> (32 - 6))
}

// decode returns the record r holds, sharing nothing mutable with it.
func (r *stored) decode() (incident.Data, error) {
	if r.hot != nil {
		return r.hot.Clone(), nil
	}
	return r.decodeEnc()
}

// shared returns the record r holds, sharing memory with it when it is hot
// (see getShared).
func (r *stored) shared() (*incident.Data, any, error) {
	if r.hot != nil {
		return r.hot, r.owner, nil
	}
	d, err := r.decodeEnc()
	if err != nil {
		return nil, nil, err
	}
	return &d, nil, nil
}

func (r *stored) decodeEnc() (incident.Data, error) {
	var d incident.Data
	if err := d.DecodeString(r.enc); err != nil {
		return incident.Data{}, fmt.Errorf("memory: incident %s: %w", r.sum.ID, err)
	}
	return d, nil
}

// create stores *d as version 1, taking d over from owner when that is not
// nil (see keep).
func (s *Store) create(ctx context.Context, t *tx, d *incident.Data, owner any) error {
	return s.put(ctx, t, d, true, owner)
}

// update replaces the stored incident with *d at the next version, taking
// d over from owner when that is not nil (see keep).
func (s *Store) update(ctx context.Context, t *tx, d *incident.Data, owner any) error {
	return s.put(ctx, t, d, false, owner)
}

// put is create (when create is set) or update.
func (s *Store) put(ctx context.Context, t *tx, d *incident.Data, create bool, owner any) error {
	w, err := s.prepare(d, create, owner)
	if err != nil {
		return err
	}
	return s.write(ctx, t, func(t *tx) error {
		tn, cur, err := s.check(&w)
		if err != nil {
			return err
		}
		s.apply(t, &w, tn, cur)
		return nil
	})
}

// incidentWrite is a creation or update of an incident, prepared (checked
// and turned into what the store keeps) before taking the lock. It copies
// what the locked part reads of the record, so that the record itself
// stays on the caller's stack.
type incidentWrite struct {
	c      *stored
	id     incident.ID
	tenant itsm.TenantID
	number incident.Number
	create bool
	// read is the version an update read.
	read int64
}

// prepare checks *d for a creation or an update and builds what the store
// will keep.
func (s *Store) prepare(d *incident.Data, create bool, owner any) (incidentWrite, error) {
	if err := checkRecord(d, create); err != nil {
		return incidentWrite{}, err
	}
	version := int64(1)
	if !create {
		version = d.Version + 1
	}
	read := d.Version
	c, err := s.keep(d, version, owner)
	if err != nil {
		return incidentWrite{}, err
	}
	return incidentWrite{c: c, id: d.ID, tenant: d.Tenant, number: d.Number, create: create, read: read}, nil
}

// check returns why w cannot be applied now, or the tenant it goes to
// (nil for a creation in a tenant with nothing stored yet) and the record
// it replaces (nil for a creation). It changes nothing. Callers hold the
// store exclusively.
func (s *Store) check(w *incidentWrite) (*tenant, *stored, error) {
	tn := s.tenantOf(w.tenant)
	if w.create {
		if tn == nil {
			return nil, nil, nil
		}
		if _, ok := tn.byID[w.id]; ok {
			return nil, nil, fmt.Errorf("memory: incident %s in tenant %s: %w", w.id, w.tenant, itsm.ErrAlreadyExists)
		}
		if _, ok := tn.byNumber[w.number]; ok {
			return nil, nil, fmt.Errorf("memory: incident number %s in tenant %s: %w", w.number, w.tenant, itsm.ErrAlreadyExists)
		}
		return tn, nil, nil
	}
	var cur *stored
	if tn != nil {
		cur = tn.get(w.id)
	}
	switch {
	case cur == nil:
		return nil, nil, fmt.Errorf("memory: incident %s in tenant %s: %w", w.id, w.tenant, itsm.ErrNotFound)
	case cur.sum.Version != w.read:
		return nil, nil, fmt.Errorf("memory: incident %s is at version %d, not %d: %w", w.id, cur.sum.Version, w.read, itsm.ErrConflict)
	case cur.sum.Number != w.number:
		return nil, nil, itsm.NewValidationError("number", fmt.Sprintf("cannot change from %s to %s", cur.sum.Number, w.number))
	}
	return tn, cur, nil
}

// apply makes the write check allowed, recording how to undo it on t (nil
// outside a transaction). Callers hold the store exclusively.
func (s *Store) apply(t *tx, w *incidentWrite, tn *tenant, cur *stored) {
	if tn == nil {
		tn = s.tenantFor(w.tenant, true)
	} else if tn != s.lastTenant.Load() {
		s.lastTenant.Store(tn) // see tenantFor
	}
	s.detach(w.c, cur)
	if cur == nil {
		tn.insert(w.c)
	} else {
		// Stored values are never changed in place: readers decode or
		// copy them after letting go of the lock.
		tn.replace(cur, w.c)
	}
	t.onUndoIncident(tn, cur, w.c)
}

// commitOwned saves an incident and appends its events in one step, for
// incident.Service (incident's ownedCommitter): everything is checked
// before anything changes, so it needs neither a transaction nor an undo
// log of its own; inside a caller's transaction it records its undo steps
// there. It takes d's memory over and trusts the events to be valid.
func (s *Store) commitOwned(ctx context.Context, d *incident.Data, create bool, events []itsm.Event, owner any) error {
	w, err := s.prepare(d, create, owner)
	if err != nil {
		return err
	}
	size, err := s.prepareEvents(events, false)
	if err != nil {
		return err
	}
	return s.write(ctx, nil, func(t *tx) error {
		tn, cur, err := s.check(&w)
		if err != nil {
			return err
		}
		if err := s.checkEvents(events); err != nil {
			return err
		}
		s.apply(t, &w, tn, cur)
		s.addEvents(t, events, size)
		return nil
	})
}

func (s *Store) get(ctx context.Context, t *tx, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	found, err := s.lookup(ctx, t, tenant, id)
	if err != nil {
		return incident.Data{}, err
	}
	return found.decode()
}

// getShared is get lending a hot record rather than copying it.
func (s *Store) getShared(ctx context.Context, t *tx, tenant itsm.TenantID, id incident.ID) (*incident.Data, any, error) {
	found, err := s.lookup(ctx, t, tenant, id)
	if err != nil {
		return nil, nil, err
	}
	return found.shared()
}

// lookup returns the stored incident id of tenant, or itsm.ErrNotFound.
func (s *Store) lookup(ctx context.Context, t *tx, tenant itsm.TenantID, id incident.ID) (*stored, error) {
	// The tenant last written to is valid: only a zero ID can be wrong.
	tn := s.cachedTenant(tenant)
	if tn == nil || id.IsZero() {
		var errs itsm.FieldErrors
		errs.Merge("", tenant.Validate())
		if id.IsZero() {
			errs.Add("id", "must not be the zero ID")
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
	}
	var found *stored
	err := s.read(ctx, t, func() error {
		if tn == nil {
			tn = s.tenants[tenant]
		}
		if tn != nil {
			found = tn.get(id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("memory: incident %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
	}
	return found, nil
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
	var found *stored
	err := s.read(ctx, t, func() error {
		if tn := s.tenants[tenant]; tn != nil {
			if id, ok := tn.byNumber[number]; ok {
				found = tn.get(id)
			}
		}
		return nil
	})
	if err != nil {
		return incident.Data{}, err
	}
	if found == nil {
		return incident.Data{}, fmt.Errorf("memory: incident number %s in tenant %s: %w", number, tenant, itsm.ErrNotFound)
	}
	return found.decode()
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
	var found []*stored // most filtered lists (an incident's children) are short or empty
	more := false
	err := s.read(ctx, t, func() error {
		tn := s.tenantOf(tenant)
		if tn == nil {
			return nil
		}
		ids := tn.order
		if !f.Parent.IsZero() {
			ids = tn.children[f.Parent] // the children index: no scan
		}
		i := 0
		if !p.After.IsZero() {
			var at bool
			i, at = slices.BinarySearchFunc(ids, p.After, incident.ID.Compare)
			if at {
				i++
			}
		}
		for ; i < len(ids); i++ {
			r := tn.byID[ids[i]]
			if !f.MatchesSummary(&r.sum) {
				continue
			}
			if len(found) == limit {
				more = true
				break
			}
			found = append(found, r)
		}
		return nil
	})
	if err != nil {
		return incident.ListPage{}, err
	}
	page := incident.ListPage{Items: make([]incident.Data, len(found))}
	for i, r := range found {
		if page.Items[i], err = r.decode(); err != nil {
			return incident.ListPage{}, err
		}
	}
	if more {
		page.Next = found[len(found)-1].sum.ID
	}
	return page, nil
}
