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
	return (*Store)(r).create(ctx, nil, d)
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
	return (*Store)(r).update(ctx, nil, d)
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

// checkRecord validates what the store itself relies on: the service
// validates the rest before saving.
func checkRecord(d *incident.Data, creating bool) error {
	var errs itsm.FieldErrors
	storage.CheckIncidentWrite(&errs, d, creating)
	return errs.Err()
}

// stored is one incident as the store keeps it: its binary encoding, as a
// string so that the text of a record read back shares it instead of
// being copied, and the summary that identifies it and that filters read.
// A stored value never changes: an update replaces it.
type stored struct {
	enc string
	sum incident.Summary
}

// encode turns d into what the store keeps.
func (s *Store) encode(d *incident.Data) (*stored, error) {
	enc, err := s.encodeString(d.AppendBinary)
	if err != nil {
		return nil, fmt.Errorf("memory: encoding incident %s: %w", d.ID, err)
	}
	return &stored{enc: enc, sum: d.Summary()}, nil
}

// encodeString runs write on one of the store's scratch buffers and
// returns what it wrote as an exact-size string.
func (s *Store) encodeString(write func(b []byte) ([]byte, error)) (string, error) {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 4096)
		bp = &b
	}
	b, err := write((*bp)[:0])
	if err != nil {
		s.bufs.Put(bp)
		return "", err
	}
	enc := string(b)
	if cap(b) <= 1<<20 {
		*bp = b
		s.bufs.Put(bp)
	}
	return enc, nil
}

// detach gives the summary's text strings of its own, prev being the
// version it replaces (nil for a new record). A record read from the store
// shares the text of the encoding it was decoded from; without this, the
// summary saved with its next version would keep that earlier encoding
// alive as long as the record is stored. Statuses, groups and assignees
// repeat across incidents and are interned. Callers hold the store
// exclusively.
func (s *Store) detach(sum *incident.Summary, prev *stored) {
	if prev != nil {
		sum.Number = prev.sum.Number // an update never changes it
	} else {
		sum.Number = incident.Number(strings.Clone(string(sum.Number)))
	}
	sum.Status = incident.Status(s.intern(string(sum.Status)))
	sum.Major = incident.MajorStatus(s.intern(string(sum.Major)))
	sum.Group = s.intern(sum.Group)
	sum.Assignee = s.intern(sum.Assignee)
}

// maxInterned bounds the store's table of interned names.
const maxInterned = 1 << 14

// intern returns a string equal to v that shares no memory with a record.
// Callers hold the store exclusively.
func (s *Store) intern(v string) string {
	if v == "" {
		return ""
	}
	if w, ok := s.names[v]; ok {
		return w
	}
	w := strings.Clone(v)
	if len(s.names) < maxInterned && len(v) <= 256 {
		if s.names == nil {
			s.names = make(map[string]string)
		}
		s.names[w] = w
	}
	return w
}

// decode returns the record r holds, sharing nothing mutable with it.
func (r *stored) decode() (incident.Data, error) {
	var d incident.Data
	if err := d.DecodeString(r.enc); err != nil {
		return incident.Data{}, fmt.Errorf("memory: incident %s: %w", r.sum.ID, err)
	}
	return d, nil
}

func (s *Store) create(ctx context.Context, t *tx, d incident.Data) error {
	if err := checkRecord(&d, true); err != nil {
		return err
	}
	d.Version = 1
	c, err := s.encode(&d)
	if err != nil {
		return err
	}
	id, ten, number := d.ID, d.Tenant, d.Number
	return s.write(ctx, t, func(t *tx) error {
		tn := s.tenantFor(ten, true)
		if _, ok := tn.byID[id]; ok {
			return fmt.Errorf("memory: incident %s in tenant %s: %w", id, ten, itsm.ErrAlreadyExists)
		}
		if _, ok := tn.byNumber[number]; ok {
			return fmt.Errorf("memory: incident number %s in tenant %s: %w", number, ten, itsm.ErrAlreadyExists)
		}
		s.detach(&c.sum, nil)
		tn.insert(c)
		t.onUndoIncident(tn, nil, c)
		return nil
	})
}

func (s *Store) update(ctx context.Context, t *tx, d incident.Data) error {
	if err := checkRecord(&d, false); err != nil {
		return err
	}
	read := d.Version
	d.Version++
	c, err := s.encode(&d)
	if err != nil {
		return err
	}
	// The closure below reads copies, not d, so that d stays on the stack.
	id, ten := d.ID, d.Tenant
	return s.write(ctx, t, func(t *tx) error {
		tn := s.tenantFor(ten, false)
		var cur *stored
		if tn != nil {
			cur = tn.byID[id]
		}
		switch {
		case cur == nil:
			return fmt.Errorf("memory: incident %s in tenant %s: %w", id, ten, itsm.ErrNotFound)
		case cur.sum.Version != read:
			return fmt.Errorf("memory: incident %s is at version %d, not %d: %w", id, cur.sum.Version, read, itsm.ErrConflict)
		case cur.sum.Number != c.sum.Number:
			return itsm.NewValidationError("number", fmt.Sprintf("cannot change from %s to %s", cur.sum.Number, c.sum.Number))
		}
		// Stored values are never changed in place: readers decode them
		// after letting go of the lock.
		s.detach(&c.sum, cur)
		tn.replace(cur, c)
		t.onUndoIncident(tn, cur, c)
		return nil
	})
}

func (s *Store) get(ctx context.Context, t *tx, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	if err := errs.Err(); err != nil {
		return incident.Data{}, err
	}
	var found *stored
	err := s.read(ctx, t, func() error {
		if tn := s.tenants[tenant]; tn != nil {
			found = tn.byID[id]
		}
		return nil
	})
	if err != nil {
		return incident.Data{}, err
	}
	if found == nil {
		return incident.Data{}, fmt.Errorf("memory: incident %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
	}
	return found.decode()
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
				found = tn.byID[id]
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
	errs.Merge("", p.Validate())
	if err := errs.Err(); err != nil {
		return incident.ListPage{}, err
	}
	limit := p.EffectiveLimit()
	var found []*stored // most filtered lists (an incident's children) are short or empty
	more := false
	err := s.read(ctx, t, func() error {
		tn := s.tenants[tenant]
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
