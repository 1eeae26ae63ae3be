package memory

import (
	"context"
	"fmt"
	"slices"

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
func (s *Store) CMDB(reg *cmdb.Registry) cmdb.Repository {
	return newCMDBRepo(s, nil, reg)
}

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
type cmdbRepo struct {
	s   *Store
	t   *tx
	reg *cmdb.Registry
}

// cmdbTenant holds one tenant's CMDB. Stored values are never changed in
// place: writes replace them, since readers copy them after letting go of
// the lock.
type cmdbTenant struct {
	recs  map[cmdb.ID]*cmdb.Record
	order []cmdb.ID // every ID of recs, ascending
	rels  map[cmdb.RelationshipID]*cmdb.Relationship
	// relOrder holds every ID of rels, ascending.
	relOrder []cmdb.RelationshipID
	// relsOf holds, per CI, the IDs of its relationships, ascending.
	relsOf map[cmdb.ID][]cmdb.RelationshipID
	// pointers counts, per CI, the records whose DuplicateOf names it.
	pointers map[cmdb.ID]int
	// keys says which CI carries each native key: at most one does (see
	// cmdb.Repository), which CreateCI and UpdateCI check here, under the
	// store's lock, in the same step as the write.
	keys map[nativeKey]cmdb.ID
}

// nativeKey is a source's key for a CI.
type nativeKey struct {
	source cmdb.SourceName
	id     string
}

// checkKeys refuses, wrapping sentinel, a native key of c that another CI
// carries; the keys c already carries in stored (its stored sources, nil
// for a create) are never refused.
func (tn *cmdbTenant) checkKeys(c *cmdb.Record, stored map[cmdb.SourceName]cmdb.SourceState, sentinel error) error {
	for name, st := range c.Sources {
		if old, had := stored[name]; had && old.NativeID == st.NativeID {
			continue // a key it carries already
		}
		if owner, taken := tn.keyOwner(name, st.NativeID, c.ID); taken {
			return fmt.Errorf("memory: CI %s in tenant %s: CI %s already carries native ID %q of source %s: %w",
				c.ID, c.Tenant, owner, st.NativeID, name, sentinel)
		}
	}
	return nil
}

// keyOwner returns the CI other than id that carries source's native ID,
// if any.
func (tn *cmdbTenant) keyOwner(source cmdb.SourceName, native string, id cmdb.ID) (cmdb.ID, bool) {
	if tn == nil {
		return cmdb.ID{}, false
	}
	owner, ok := tn.keys[nativeKey{source, native}]
	return owner, ok && owner != id
}

// cmdbFor returns the tenant's CMDB, making it when create is set; nil
// otherwise when the tenant has nothing stored. Callers hold the lock.
func (s *Store) cmdbFor(id itsm.TenantID, create bool) *cmdbTenant {
	tn := s.cmdbs[id]
	if tn == nil && create {
		if s.cmdbs == nil {
			s.cmdbs = make(map[itsm.TenantID]*cmdbTenant)
		}
		tn = &cmdbTenant{
			recs: map[cmdb.ID]*cmdb.Record{}, rels: map[cmdb.RelationshipID]*cmdb.Relationship{},
			relsOf: map[cmdb.ID][]cmdb.RelationshipID{}, pointers: map[cmdb.ID]int{},
			keys: map[nativeKey]cmdb.ID{},
		}
		s.cmdbs[id] = tn
	}
	return tn
}

// insertSorted inserts id into the ascending list, appending in the usual
// case of growing UUIDv7 IDs.
func insertSorted[T interface{ Compare(T) int }](list []T, id T) []T {
	if n := len(list); n == 0 || list[n-1].Compare(id) < 0 {
		return append(list, id)
	}
	i, found := slices.BinarySearchFunc(list, id, T.Compare)
	if found {
		return list
	}
	return slices.Insert(list, i, id)
}

func removeSorted[T interface{ Compare(T) int }](list []T, id T) []T {
	if i, found := slices.BinarySearchFunc(list, id, T.Compare); found {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// putRecord stores r (replacing any record of its ID) and keeps the
// indexes; it returns how to undo it.
func (tn *cmdbTenant) putRecord(r *cmdb.Record) func() {
	old := tn.recs[r.ID]
	tn.setRecord(r.ID, r)
	return func() { tn.setRecord(r.ID, old) }
}

// setRecord makes r (nil: none) the record id.
func (tn *cmdbTenant) setRecord(id cmdb.ID, r *cmdb.Record) {
	if old := tn.recs[id]; old != nil {
		for name, st := range old.Sources {
			if k := (nativeKey{name, st.NativeID}); tn.keys[k] == id {
				delete(tn.keys, k)
			}
		}
		if !old.DuplicateOf.IsZero() {
			tn.pointers[old.DuplicateOf]--
			if tn.pointers[old.DuplicateOf] == 0 {
				delete(tn.pointers, old.DuplicateOf)
			}
		}
		if r == nil {
			delete(tn.recs, id)
			tn.order = removeSorted(tn.order, id)
		}
	}
	if r != nil {
		if tn.recs[id] == nil {
			tn.order = insertSorted(tn.order, id)
		}
		tn.recs[id] = r
		if !r.DuplicateOf.IsZero() {
			tn.pointers[r.DuplicateOf]++
		}
		for name, st := range r.Sources {
			tn.keys[nativeKey{name, st.NativeID}] = id
		}
	}
}

// setRelationship makes rel (nil: none) the relationship id.
func (tn *cmdbTenant) setRelationship(id cmdb.RelationshipID, rel *cmdb.Relationship) {
	if old := tn.rels[id]; old != nil {
		delete(tn.rels, id)
		tn.relOrder = removeSorted(tn.relOrder, id)
		for _, end := range []cmdb.ID{old.From, old.To} {
			list := removeSorted(tn.relsOf[end], id)
			if len(list) == 0 {
				delete(tn.relsOf, end)
			} else {
				tn.relsOf[end] = list
			}
		}
	}
	if rel != nil {
		tn.rels[id] = rel
		tn.relOrder = insertSorted(tn.relOrder, id)
		tn.relsOf[rel.From] = insertSorted(tn.relsOf[rel.From], id)
		tn.relsOf[rel.To] = insertSorted(tn.relsOf[rel.To], id)
	}
}

// relations returns the relationships of ci.
func (tn *cmdbTenant) relations(ci cmdb.ID) []cmdb.Relationship {
	ids := tn.relsOf[ci]
	out := make([]cmdb.Relationship, len(ids))
	for i, id := range ids {
		out[i] = *tn.rels[id]
	}
	return out
}

func (tn *cmdbTenant) lookup() cmdb.Lookup {
	return cmdb.Lookup{
		Class: func(id cmdb.ID) (cmdb.ClassName, bool) {
			if r := tn.recs[id]; r != nil {
				return r.Class, true
			}
			return "", false
		},
		Relations: tn.relations,
	}
}

// checkPointer checks r's DuplicateOf against the stored records.
func (tn *cmdbTenant) checkPointer(r *cmdb.Record) error {
	if r.DuplicateOf.IsZero() {
		return nil
	}
	var target *cmdb.Record
	if tn != nil {
		target = tn.recs[r.DuplicateOf]
	}
	switch {
	case target == nil:
		return itsm.NewValidationError("duplicate_of", fmt.Sprintf("CI %s does not exist", r.DuplicateOf))
	case !target.DuplicateOf.IsZero():
		return itsm.NewValidationError("duplicate_of", fmt.Sprintf("CI %s is itself a duplicate of %s: no chains", r.DuplicateOf, target.DuplicateOf))
	case tn.pointers[r.ID] > 0:
		return itsm.NewValidationError("duplicate_of", fmt.Sprintf("%d duplicates point to CI %s: re-point them first", tn.pointers[r.ID], r.ID))
	}
	return nil
}

func checkTenantID(tenant itsm.TenantID, id cmdb.ID) error {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	return errs.Err()
}

// CreateCI stores a copy of r as version 1; see cmdb.Repository.
func (r *cmdbRepo) CreateCI(ctx context.Context, rec cmdb.Record) error {
	if rec.Version != 0 {
		return itsm.NewValidationError("version", fmt.Sprintf("is %d; a new CI has version 0 (the store sets 1)", rec.Version))
	}
	if err := r.reg.ValidateRecord(rec); err != nil {
		return err
	}
	c := rec.Clone()
	c.Version = 1
	return r.s.write(ctx, r.t, func(t *tx) error {
		tn := r.s.cmdbFor(c.Tenant, false)
		if tn != nil && tn.recs[c.ID] != nil {
			return fmt.Errorf("memory: CI %s in tenant %s: %w", c.ID, c.Tenant, itsm.ErrAlreadyExists)
		}
		if err := tn.checkKeys(&c, nil, itsm.ErrAlreadyExists); err != nil {
			return err
		}
		if err := tn.checkPointer(&c); err != nil {
			return err
		}
		tn = r.s.cmdbFor(c.Tenant, true)
		t.onUndo(tn.putRecord(&c))
		return nil
	})
}

// GetCI returns a copy of the stored record; see cmdb.Repository.
func (r *cmdbRepo) GetCI(ctx context.Context, tenant itsm.TenantID, id cmdb.ID) (cmdb.Record, error) {
	if err := checkTenantID(tenant, id); err != nil {
		return cmdb.Record{}, err
	}
	var found *cmdb.Record
	err := r.s.read(ctx, r.t, func() error {
		if tn := r.s.cmdbs[tenant]; tn != nil {
			found = tn.recs[id]
		}
		return nil
	})
	if err != nil {
		return cmdb.Record{}, err
	}
	if found == nil {
		return cmdb.Record{}, fmt.Errorf("memory: CI %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
	}
	return found.Clone(), nil
}

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
	c := rec.Clone()
	c.Version = rec.Version + 1
	return r.s.write(ctx, r.t, func(t *tx) error {
		tn := r.s.cmdbFor(c.Tenant, false)
		var cur *cmdb.Record
		if tn != nil {
			cur = tn.recs[c.ID]
		}
		switch {
		case cur == nil:
			return fmt.Errorf("memory: CI %s in tenant %s: %w", c.ID, c.Tenant, itsm.ErrNotFound)
		case cur.Version != rec.Version:
			return fmt.Errorf("memory: CI %s is at version %d, not %d: %w", c.ID, cur.Version, rec.Version, itsm.ErrConflict)
		case cur.Class != c.Class:
			return itsm.NewValidationError("class", fmt.Sprintf("cannot change from %s to %s", cur.Class, c.Class))
		}
		if c.DuplicateOf != cur.DuplicateOf {
			if err := tn.checkPointer(&c); err != nil {
				return err
			}
		}
		if err := tn.checkKeys(&c, cur.Sources, itsm.ErrConflict); err != nil {
			return err
		}
		t.onUndo(tn.putRecord(&c))
		return nil
	})
}

// DeleteCI deletes the CI and what its relationships' types take with it;
// see cmdb.Repository.
func (r *cmdbRepo) DeleteCI(ctx context.Context, tenant itsm.TenantID, id cmdb.ID, version int64) ([]cmdb.ID, error) {
	if err := checkTenantID(tenant, id); err != nil {
		return nil, err
	}
	var deleted []cmdb.ID
	err := r.s.write(ctx, r.t, func(t *tx) error {
		tn := r.s.cmdbFor(tenant, false)
		var cur *cmdb.Record
		if tn != nil {
			cur = tn.recs[id]
		}
		switch {
		case cur == nil:
			return fmt.Errorf("memory: CI %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
		case cur.Version != version:
			return fmt.Errorf("memory: CI %s is at version %d, not %d: %w", id, cur.Version, version, itsm.ErrConflict)
		}
		cis, rels, err := r.reg.DeleteClosure(id, tn.relations)
		if err != nil {
			return err
		}
		for _, rid := range rels {
			old := tn.rels[rid]
			tn.setRelationship(rid, nil)
			t.onUndo(func() { tn.setRelationship(rid, old) })
		}
		doomed := map[cmdb.ID]bool{}
		for _, ci := range cis {
			doomed[ci] = true
		}
		// Records pointing at a deleted CI lose the pointer.
		for _, rid := range tn.order {
			if p := tn.recs[rid]; !doomed[rid] && doomed[p.DuplicateOf] {
				c := p.Clone()
				c.DuplicateOf = cmdb.ID{}
				c.Version++
				t.onUndo(tn.putRecord(&c))
			}
		}
		for _, ci := range cis {
			old := tn.recs[ci]
			tn.setRecord(ci, nil)
			t.onUndo(func() { tn.setRecord(ci, old) })
		}
		deleted = cis
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
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
	found := make([]*cmdb.Record, 0, min(limit, 64))
	more := false
	err := r.s.read(ctx, r.t, func() error {
		tn := r.s.cmdbs[tenant]
		if tn == nil {
			return nil
		}
		i := 0
		if !p.After.IsZero() {
			var at bool
			i, at = slices.BinarySearchFunc(tn.order, p.After, cmdb.ID.Compare)
			if at {
				i++
			}
		}
		for ; i < len(tn.order); i++ {
			rec := tn.recs[tn.order[i]]
			if !f.Matches(rec) {
				continue
			}
			if len(found) == limit {
				more = true
				break
			}
			found = append(found, rec)
		}
		return nil
	})
	if err != nil {
		return cmdb.CIPage{}, err
	}
	page := cmdb.CIPage{Items: make([]cmdb.Record, len(found))}
	for i, rec := range found {
		page.Items[i] = rec.Clone()
	}
	if more {
		page.Next = found[len(found)-1].ID
	}
	return page, nil
}

// CreateRelationship stores a relationship after the registry's integrity
// checks; see cmdb.Repository.
func (r *cmdbRepo) CreateRelationship(ctx context.Context, rel cmdb.Relationship) error {
	if err := r.reg.ValidateRelationship(rel); err != nil {
		return err
	}
	c := rel
	return r.s.write(ctx, r.t, func(t *tx) error {
		tn := r.s.cmdbFor(c.Tenant, false)
		if tn == nil {
			tn = &cmdbTenant{} // nothing stored: both ends dangle
		}
		if tn.rels[c.ID] != nil {
			return fmt.Errorf("memory: relationship %s in tenant %s: %w", c.ID, c.Tenant, itsm.ErrAlreadyExists)
		}
		if err := r.reg.CheckRelationship(c, tn.lookup()); err != nil {
			return err
		}
		tn.setRelationship(c.ID, &c)
		t.onUndo(func() { tn.setRelationship(c.ID, nil) })
		return nil
	})
}

// GetRelationship returns the relationship; see cmdb.Repository.
func (r *cmdbRepo) GetRelationship(ctx context.Context, tenant itsm.TenantID, id cmdb.RelationshipID) (cmdb.Relationship, error) {
	if err := checkTenantRel(tenant, id); err != nil {
		return cmdb.Relationship{}, err
	}
	var found *cmdb.Relationship
	err := r.s.read(ctx, r.t, func() error {
		if tn := r.s.cmdbs[tenant]; tn != nil {
			found = tn.rels[id]
		}
		return nil
	})
	if err != nil {
		return cmdb.Relationship{}, err
	}
	if found == nil {
		return cmdb.Relationship{}, fmt.Errorf("memory: relationship %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
	}
	return *found, nil
}

func checkTenantRel(tenant itsm.TenantID, id cmdb.RelationshipID) error {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	return errs.Err()
}

// DeleteRelationship deletes a relationship; see cmdb.Repository.
func (r *cmdbRepo) DeleteRelationship(ctx context.Context, tenant itsm.TenantID, id cmdb.RelationshipID) error {
	if err := checkTenantRel(tenant, id); err != nil {
		return err
	}
	return r.s.write(ctx, r.t, func(t *tx) error {
		tn := r.s.cmdbFor(tenant, false)
		var old *cmdb.Relationship
		if tn != nil {
			old = tn.rels[id]
		}
		if old == nil {
			return fmt.Errorf("memory: relationship %s in tenant %s: %w", id, tenant, itsm.ErrNotFound)
		}
		tn.setRelationship(id, nil)
		t.onUndo(func() { tn.setRelationship(id, old) })
		return nil
	})
}

// RelationshipsOf returns the relationships of a CI; see cmdb.Repository.
func (r *cmdbRepo) RelationshipsOf(ctx context.Context, tenant itsm.TenantID, ci cmdb.ID) ([]cmdb.Relationship, error) {
	if err := checkTenantID(tenant, ci); err != nil {
		return nil, err
	}
	var out []cmdb.Relationship
	err := r.s.read(ctx, r.t, func() error {
		if tn := r.s.cmdbs[tenant]; tn != nil {
			out = tn.relations(ci)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

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
	var page cmdb.RelationshipList
	more := false
	err := r.s.read(ctx, r.t, func() error {
		tn := r.s.cmdbs[tenant]
		if tn == nil {
			return nil
		}
		i := 0
		if !p.After.IsZero() {
			var at bool
			i, at = slices.BinarySearchFunc(tn.relOrder, p.After, cmdb.RelationshipID.Compare)
			if at {
				i++
			}
		}
		end := min(i+limit, len(tn.relOrder))
		more = end < len(tn.relOrder)
		page.Items = make([]cmdb.Relationship, 0, end-i)
		for ; i < end; i++ {
			page.Items = append(page.Items, *tn.rels[tn.relOrder[i]])
		}
		return nil
	})
	if err != nil {
		return cmdb.RelationshipList{}, err
	}
	if page.Items == nil {
		page.Items = []cmdb.Relationship{}
	}
	if more {
		page.Next = page.Items[len(page.Items)-1].ID
	}
	return page, nil
}
