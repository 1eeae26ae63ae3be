package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
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
	if d.ID.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	errs.Merge("", d.Tenant.Validate())
	if d.Number == "" {
		errs.Add("number", "must not be empty")
	}
	switch {
	case creating && d.Version != 0:
		errs.Addf("version", "is %d; a new incident has version 0 (the store sets 1)", d.Version)
	case !creating && d.Version < 1:
		errs.Addf("version", "is %d; an update carries the version it read (1 or more)", d.Version)
	}
	return errs.Err()
}

func (s *Store) create(ctx context.Context, t *tx, d incident.Data) error {
	if err := checkRecord(&d, true); err != nil {
		return err
	}
	c := d.Clone()
	c.Version = 1
	return s.write(ctx, t, func(t *tx) error {
		tn := s.tenantFor(c.Tenant, true)
		if _, ok := tn.byID[c.ID]; ok {
			return fmt.Errorf("memory: incident %s in tenant %s: %w", c.ID, c.Tenant, itsm.ErrAlreadyExists)
		}
		if _, ok := tn.byNumber[c.Number]; ok {
			return fmt.Errorf("memory: incident number %s in tenant %s: %w", c.Number, c.Tenant, itsm.ErrAlreadyExists)
		}
		tn.insert(&c)
		t.onUndo(func() { tn.remove(&c) })
		return nil
	})
}

func (s *Store) update(ctx context.Context, t *tx, d incident.Data) error {
	if err := checkRecord(&d, false); err != nil {
		return err
	}
	c := d.Clone()
	c.Version = d.Version + 1
	return s.write(ctx, t, func(t *tx) error {
		tn := s.tenantFor(c.Tenant, false)
		var cur *incident.Data
		if tn != nil {
			cur = tn.byID[c.ID]
		}
		switch {
		case cur == nil:
			return fmt.Errorf("memory: incident %s in tenant %s: %w", c.ID, c.Tenant, itsm.ErrNotFound)
		case cur.Version != d.Version:
			return fmt.Errorf("memory: incident %s is at version %d, not %d: %w", c.ID, cur.Version, d.Version, itsm.ErrConflict)
		case cur.Number != c.Number:
			return itsm.NewValidationError("number", fmt.Sprintf("cannot change from %s to %s", cur.Number, c.Number))
		}
		// Stored values are never changed in place: readers copy them after
		// letting go of the lock.
		tn.byID[c.ID] = &c
		if cur.Parent != c.Parent {
			tn.unlink(cur.Parent, c.ID)
			tn.link(c.Parent, c.ID)
		}
		t.onUndo(func() {
			tn.byID[c.ID] = cur
			if cur.Parent != c.Parent {
				tn.unlink(c.Parent, c.ID)
				tn.link(cur.Parent, c.ID)
			}
		})
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
	var found *incident.Data
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
	return found.Clone(), nil
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
	var found *incident.Data
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
	return found.Clone(), nil
}

func (s *Store) list(ctx context.Context, t *tx, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	errs.Merge("", p.Validate())
	if err := errs.Err(); err != nil {
		return incident.ListPage{}, err
	}
	limit := p.EffectiveLimit()
	found := make([]*incident.Data, 0, min(limit, 64))
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
			d := tn.byID[ids[i]]
			if !f.Matches(d) {
				continue
			}
			if len(found) == limit {
				more = true
				break
			}
			found = append(found, d)
		}
		return nil
	})
	if err != nil {
		return incident.ListPage{}, err
	}
	page := incident.ListPage{Items: make([]incident.Data, len(found))}
	for i, d := range found {
		page.Items[i] = d.Clone()
	}
	if more {
		page.Next = found[len(found)-1].ID
	}
	return page, nil
}
