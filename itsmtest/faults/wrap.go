package faults

import (
	"context"

	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// Wrap returns a store that forwards every call to inner, injecting the
// faults planned on the returned Injector. The store implements exactly
// the capabilities inner implements.
func Wrap(inner storage.Store) (storage.Store, *Injector) {
	inj := &Injector{}
	return inj.wrap(inner), inj
}

// core is what every part of a wrapped store shares.
type core struct {
	inj   *Injector
	inner storage.Store
}

// Capability bits, one per optional interface.
const (
	capTx = 1 << iota
	capOutbox
	capConsumer
	capSequences
	capCMDB
	capAll = capTx | capOutbox | capConsumer | capSequences | capCMDB
)

// capabilities returns the capability bits of s.
func capabilities(s storage.Store) int {
	mask := 0
	if _, ok := s.(storage.Transactor); ok {
		mask |= capTx
	}
	if _, ok := s.(storage.Outbox); ok {
		mask |= capOutbox
	}
	if _, ok := s.(storage.OutboxConsumer); ok {
		mask |= capConsumer
	}
	if _, ok := s.(storage.Sequences); ok {
		mask |= capSequences
	}
	if _, ok := s.(storage.CMDB); ok {
		mask |= capCMDB
	}
	return mask
}

func (inj *Injector) wrap(inner storage.Store) storage.Store {
	return build(&core{inj: inj, inner: inner}, capabilities(inner))
}

// build returns a store made of the parts the mask names. Go cannot add
// methods to a type at run time, so each combination is spelled out.
func build(c *core, mask int) storage.Store {
	b, t, o, k, s, m := base{c}, txPart{c}, outboxPart{c}, consumerPart{c}, seqPart{c}, cmdbPart{c}
	switch mask {
	case 0:
		return b
	case capTx:
		return struct {
			base
			txPart
		}{b, t}
	case capOutbox:
		return struct {
			base
			outboxPart
		}{b, o}
	case capTx | capOutbox:
		return struct {
			base
			txPart
			outboxPart
		}{b, t, o}
	case capConsumer:
		return struct {
			base
			consumerPart
		}{b, k}
	case capTx | capConsumer:
		return struct {
			base
			txPart
			consumerPart
		}{b, t, k}
	case capOutbox | capConsumer:
		return struct {
			base
			outboxPart
			consumerPart
		}{b, o, k}
	case capTx | capOutbox | capConsumer:
		return struct {
			base
			txPart
			outboxPart
			consumerPart
		}{b, t, o, k}
	case capSequences:
		return struct {
			base
			seqPart
		}{b, s}
	case capTx | capSequences:
		return struct {
			base
			txPart
			seqPart
		}{b, t, s}
	case capOutbox | capSequences:
		return struct {
			base
			outboxPart
			seqPart
		}{b, o, s}
	case capTx | capOutbox | capSequences:
		return struct {
			base
			txPart
			outboxPart
			seqPart
		}{b, t, o, s}
	case capConsumer | capSequences:
		return struct {
			base
			consumerPart
			seqPart
		}{b, k, s}
	case capTx | capConsumer | capSequences:
		return struct {
			base
			txPart
			consumerPart
			seqPart
		}{b, t, k, s}
	case capOutbox | capConsumer | capSequences:
		return struct {
			base
			outboxPart
			consumerPart
			seqPart
		}{b, o, k, s}
	case capTx | capOutbox | capConsumer | capSequences:
		return struct {
			base
			txPart
			outboxPart
			consumerPart
			seqPart
		}{b, t, o, k, s}
	case capCMDB:
		return struct {
			base
			cmdbPart
		}{b, m}
	case capTx | capCMDB:
		return struct {
			base
			txPart
			cmdbPart
		}{b, t, m}
	case capOutbox | capCMDB:
		return struct {
			base
			outboxPart
			cmdbPart
		}{b, o, m}
	case capTx | capOutbox | capCMDB:
		return struct {
			base
			txPart
			outboxPart
			cmdbPart
		}{b, t, o, m}
	case capConsumer | capCMDB:
		return struct {
			base
			consumerPart
			cmdbPart
		}{b, k, m}
	case capTx | capConsumer | capCMDB:
		return struct {
			base
			txPart
			consumerPart
			cmdbPart
		}{b, t, k, m}
	case capOutbox | capConsumer | capCMDB:
		return struct {
			base
			outboxPart
			consumerPart
			cmdbPart
		}{b, o, k, m}
	case capTx | capOutbox | capConsumer | capCMDB:
		return struct {
			base
			txPart
			outboxPart
			consumerPart
			cmdbPart
		}{b, t, o, k, m}
	case capSequences | capCMDB:
		return struct {
			base
			seqPart
			cmdbPart
		}{b, s, m}
	case capTx | capSequences | capCMDB:
		return struct {
			base
			txPart
			seqPart
			cmdbPart
		}{b, t, s, m}
	case capOutbox | capSequences | capCMDB:
		return struct {
			base
			outboxPart
			seqPart
			cmdbPart
		}{b, o, s, m}
	case capTx | capOutbox | capSequences | capCMDB:
		return struct {
			base
			txPart
			outboxPart
			seqPart
			cmdbPart
		}{b, t, o, s, m}
	case capConsumer | capSequences | capCMDB:
		return struct {
			base
			consumerPart
			seqPart
			cmdbPart
		}{b, k, s, m}
	case capTx | capConsumer | capSequences | capCMDB:
		return struct {
			base
			txPart
			consumerPart
			seqPart
			cmdbPart
		}{b, t, k, s, m}
	case capOutbox | capConsumer | capSequences | capCMDB:
		return struct {
			base
			outboxPart
			consumerPart
			seqPart
			cmdbPart
		}{b, o, k, s, m}
	default: // capAll
		return struct {
			base
			txPart
			outboxPart
			consumerPart
			seqPart
			cmdbPart
		}{b, t, o, k, s, m}
	}
}

// base wraps the repositories.
type base struct{ c *core }

// Incidents returns the wrapped incident repository.
func (b base) Incidents() incident.Repository {
	return incidents{inj: b.c.inj, inner: b.c.inner.Incidents()}
}

type txPart struct{ c *core }

// InTx counts as call InTx; the Store handed to fn is wrapped too.
func (p txPart) InTx(ctx context.Context, fn func(ctx context.Context, tx storage.Store) error) error {
	inner := p.c.inner.(storage.Transactor)
	return call0(p.c.inj, InTx, func() error {
		if fn == nil {
			return inner.InTx(ctx, nil) // let the inner store refuse it
		}
		return inner.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
			return fn(ctx, p.c.inj.wrap(tx))
		})
	})
}

type outboxPart struct{ c *core }

// Append counts as call Outbox.Append.
func (p outboxPart) Append(ctx context.Context, events ...itsm.Event) error {
	return call0(p.c.inj, OutboxAppend, func() error {
		return p.c.inner.(storage.Outbox).Append(ctx, events...)
	})
}

type consumerPart struct{ c *core }

// Claim counts as call Outbox.Claim.
func (p consumerPart) Claim(ctx context.Context, req storage.ClaimRequest) (storage.Batch, error) {
	return call(p.c.inj, OutboxClaim, func() (storage.Batch, error) {
		return p.c.inner.(storage.OutboxConsumer).Claim(ctx, req)
	})
}

// Ack counts as call Outbox.Ack.
func (p consumerPart) Ack(ctx context.Context, lease storage.LeaseID, ids ...uuid.UUID) error {
	return call0(p.c.inj, OutboxAck, func() error {
		return p.c.inner.(storage.OutboxConsumer).Ack(ctx, lease, ids...)
	})
}

type cmdbPart struct{ c *core }

// CMDB returns the wrapped CMDB repository bound to reg; its calls count
// as CMDB.<method>.
func (p cmdbPart) CMDB(reg *cmdb.Registry) cmdb.Repository {
	return cmdbRepo{inj: p.c.inj, inner: p.c.inner.(storage.CMDB).CMDB(reg)}
}

type seqPart struct{ c *core }

// Next counts as call Sequences.Next.
func (p seqPart) Next(ctx context.Context, tenant itsm.TenantID, name string) (int64, error) {
	return call(p.c.inj, SequencesNext, func() (int64, error) {
		return p.c.inner.(storage.Sequences).Next(ctx, tenant, name)
	})
}

// incidents wraps an incident repository.
type incidents struct {
	inj   *Injector
	inner incident.Repository
}

// Create counts as call Incidents.Create.
func (r incidents) Create(ctx context.Context, d incident.Data) error {
	return call0(r.inj, IncidentsCreate, func() error { return r.inner.Create(ctx, d) })
}

// Get counts as call Incidents.Get.
func (r incidents) Get(ctx context.Context, tenant itsm.TenantID, id incident.ID) (incident.Data, error) {
	return call(r.inj, IncidentsGet, func() (incident.Data, error) { return r.inner.Get(ctx, tenant, id) })
}

// GetByNumber counts as call Incidents.GetByNumber.
func (r incidents) GetByNumber(ctx context.Context, tenant itsm.TenantID, number incident.Number) (incident.Data, error) {
	return call(r.inj, IncidentsGetByNumber, func() (incident.Data, error) { return r.inner.GetByNumber(ctx, tenant, number) })
}

// Update counts as call Incidents.Update.
func (r incidents) Update(ctx context.Context, d incident.Data) error {
	return call0(r.inj, IncidentsUpdate, func() error { return r.inner.Update(ctx, d) })
}

// List counts as call Incidents.List.
func (r incidents) List(ctx context.Context, tenant itsm.TenantID, f incident.Filter, p incident.Page) (incident.ListPage, error) {
	return call(r.inj, IncidentsList, func() (incident.ListPage, error) { return r.inner.List(ctx, tenant, f, p) })
}

// cmdbRepo wraps a CMDB repository.
type cmdbRepo struct {
	inj   *Injector
	inner cmdb.Repository
}

// CreateCI counts as call CMDB.CreateCI.
func (r cmdbRepo) CreateCI(ctx context.Context, rec cmdb.Record) error {
	return call0(r.inj, CMDBCreateCI, func() error { return r.inner.CreateCI(ctx, rec) })
}

// GetCI counts as call CMDB.GetCI.
func (r cmdbRepo) GetCI(ctx context.Context, tenant itsm.TenantID, id cmdb.ID) (cmdb.Record, error) {
	return call(r.inj, CMDBGetCI, func() (cmdb.Record, error) { return r.inner.GetCI(ctx, tenant, id) })
}

// UpdateCI counts as call CMDB.UpdateCI.
func (r cmdbRepo) UpdateCI(ctx context.Context, rec cmdb.Record) error {
	return call0(r.inj, CMDBUpdateCI, func() error { return r.inner.UpdateCI(ctx, rec) })
}

// DeleteCI counts as call CMDB.DeleteCI.
func (r cmdbRepo) DeleteCI(ctx context.Context, tenant itsm.TenantID, id cmdb.ID, version int64) ([]cmdb.ID, error) {
	return call(r.inj, CMDBDeleteCI, func() ([]cmdb.ID, error) { return r.inner.DeleteCI(ctx, tenant, id, version) })
}

// ListCIs counts as call CMDB.ListCIs.
func (r cmdbRepo) ListCIs(ctx context.Context, tenant itsm.TenantID, f cmdb.Filter, p cmdb.Page) (cmdb.CIPage, error) {
	return call(r.inj, CMDBListCIs, func() (cmdb.CIPage, error) { return r.inner.ListCIs(ctx, tenant, f, p) })
}

// CreateRelationship counts as call CMDB.CreateRelationship.
func (r cmdbRepo) CreateRelationship(ctx context.Context, rel cmdb.Relationship) error {
	return call0(r.inj, CMDBCreateRelationship, func() error { return r.inner.CreateRelationship(ctx, rel) })
}

// GetRelationship counts as call CMDB.GetRelationship.
func (r cmdbRepo) GetRelationship(ctx context.Context, tenant itsm.TenantID, id cmdb.RelationshipID) (cmdb.Relationship, error) {
	return call(r.inj, CMDBGetRelationship, func() (cmdb.Relationship, error) { return r.inner.GetRelationship(ctx, tenant, id) })
}

// DeleteRelationship counts as call CMDB.DeleteRelationship.
func (r cmdbRepo) DeleteRelationship(ctx context.Context, tenant itsm.TenantID, id cmdb.RelationshipID) error {
	return call0(r.inj, CMDBDeleteRelationship, func() error { return r.inner.DeleteRelationship(ctx, tenant, id) })
}

// RelationshipsOf counts as call CMDB.RelationshipsOf.
func (r cmdbRepo) RelationshipsOf(ctx context.Context, tenant itsm.TenantID, ci cmdb.ID) ([]cmdb.Relationship, error) {
	return call(r.inj, CMDBRelationshipsOf, func() ([]cmdb.Relationship, error) { return r.inner.RelationshipsOf(ctx, tenant, ci) })
}

// ListRelationships counts as call CMDB.ListRelationships.
func (r cmdbRepo) ListRelationships(ctx context.Context, tenant itsm.TenantID, p cmdb.RelationshipPage) (cmdb.RelationshipList, error) {
	return call(r.inj, CMDBListRelationships, func() (cmdb.RelationshipList, error) { return r.inner.ListRelationships(ctx, tenant, p) })
}
