package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage"
)

// Store is the in-memory store. The zero Store is empty and ready to use,
// as is one from New; a Store must not be copied after first use. It is safe
// for concurrent use.
type Store struct {
	// mu guards tenants, cmdbs, box, leases and names. A running transaction
	// holds it exclusively.
	mu      sync.RWMutex
	tenants map[itsm.TenantID]*tenant
	// lastTenant is the tenant last written to (see cachedTenant). A
	// tenant, once made, is never removed from tenants nor replaced, so
	// what this says stays true whoever holds the lock: it is read before
	// taking it, hence atomic.
	lastTenant atomic.Pointer[tenant]
	cmdbs      map[itsm.TenantID]*cmdbTenant
	box        outbox
	leases     uint64
	// names interns the statuses, groups and assignees of stored
	// incidents (see Store.intern).
	names map[string]string
	// recent holds names of the table met lately, each in the place a
	// hash of it names (see internSlot): the same few statuses, groups
	// and assignees come back command after command, and comparing with
	// one costs less than a lookup in names.
	recent [64]string

	// bufs holds scratch buffers for encoding incidents.
	bufs sync.Pool

	// seqMu guards seqs. Sequences live outside transactions.
	seqMu sync.Mutex
	seqs  map[seqKey]int64
}

// New returns an empty store.
func New() *Store {
	return &Store{}
}

// The capabilities a Store and its transactions offer.
var (
	_ storage.Store          = (*Store)(nil)
	_ storage.Transactor     = (*Store)(nil)
	_ storage.Outbox         = (*Store)(nil)
	_ storage.OutboxConsumer = (*Store)(nil)
	_ storage.Sequences      = (*Store)(nil)
	_ storage.Store          = (*txStore)(nil)
	_ storage.Transactor     = (*txStore)(nil)
	_ storage.Outbox         = (*txStore)(nil)
	_ storage.Sequences      = (*txStore)(nil)
	_ storage.NativeAtomic   = (*incidentRepo)(nil)
	_ storage.NativeAtomic   = (*txIncidentRepo)(nil)
)

// Incidents returns the incident repository. Calls made with the context of
// one of the store's transactions run inside it.
func (s *Store) Incidents() incident.Repository { return (*incidentRepo)(s) }

// tenant holds one tenant's incidents.
type tenant struct {
	// id is the tenant's ID, the key of s.tenants.
	id       itsm.TenantID
	byID     map[incident.ID]*stored
	byNumber map[incident.Number]incident.ID
	// order holds every ID of byID, ascending.
	order []incident.ID
	// children holds, per parent, its children's IDs ascending, so that
	// listing an incident's children does not scan the tenant.
	children map[incident.ID][]incident.ID
	// last is the incident last written (inserted or replaced), or nil:
	// whenever it is not nil, byID holds it under its ID. A command reads
	// the incident it then writes, and the next command on an incident
	// mostly follows the last one, so get finds it here without hashing
	// its ID, twice per command.
	last *stored
}

// cachedTenant returns the data of tenant id when it is the tenant last
// written to, which needs no lookup in s.tenants, or nil. It is valid
// (its incidents were checked when written), so a caller that finds it
// need not validate id again. Callers need not hold s.mu.
func (s *Store) cachedTenant(id itsm.TenantID) *tenant {
	if tn := s.lastTenant.Load(); tn != nil && tn.id == id {
		return tn
	}
	return nil
}

// tenantOf returns the tenant's data, or nil when the tenant has nothing
// stored. Callers hold s.mu.
func (s *Store) tenantOf(id itsm.TenantID) *tenant {
	if tn := s.cachedTenant(id); tn != nil {
		return tn
	}
	return s.tenants[id]
}

// tenantFor returns the tenant's data, making it when create is set; nil
// otherwise when the tenant has nothing stored. Callers hold s.mu
// exclusively, and write to the tenant returned: it becomes the tenant
// cachedTenant finds.
func (s *Store) tenantFor(id itsm.TenantID, create bool) *tenant {
	if tn := s.cachedTenant(id); tn != nil {
		return tn
	}
	tn := s.tenants[id]
	if tn == nil && create {
		id = itsm.TenantID(strings.Clone(string(id))) // kept as a key: share nothing
		if s.tenants == nil {
			s.tenants = make(map[itsm.TenantID]*tenant)
		}
		tn = &tenant{
			id:       id,
			byID:     make(map[incident.ID]*stored),
			byNumber: make(map[incident.Number]incident.ID),
			children: make(map[incident.ID][]incident.ID),
		}
		s.tenants[id] = tn
	}
	if tn != nil {
		s.lastTenant.Store(tn)
	}
	return tn
}

// get returns the stored incident id, or nil.
func (t *tenant) get(id incident.ID) *stored {
	if l := t.last; l != nil && l.sum.ID == id {
		return l
	}
	return t.byID[id]
}

// search returns where id is or would be in t.order.
func (t *tenant) search(id incident.ID) (int, bool) {
	return slices.BinarySearchFunc(t.order, id, incident.ID.Compare)
}

func (t *tenant) insert(r *stored) {
	id := r.sum.ID
	t.byID[id] = r
	t.last = r
	t.byNumber[r.sum.Number] = id
	t.link(r.sum.Parent, id)
	if n := len(t.order); n == 0 || t.order[n-1].Compare(id) < 0 {
		t.order = append(t.order, id) // the usual case: UUIDv7 IDs grow
		return
	}
	i, _ := t.search(id)
	t.order = slices.Insert(t.order, i, id)
}

func (t *tenant) remove(r *stored) {
	id := r.sum.ID
	delete(t.byID, id)
	if t.last != nil && t.last.sum.ID == id {
		t.last = nil
	}
	delete(t.byNumber, r.sum.Number)
	t.unlink(r.sum.Parent, id)
	if i, ok := t.search(id); ok {
		t.order = slices.Delete(t.order, i, i+1)
	}
}

// replace puts next where old was, moving it in the children index when
// its parent differs.
func (t *tenant) replace(old, next *stored) {
	id := next.sum.ID
	t.byID[id] = next
	t.last = next
	if old.sum.Parent != next.sum.Parent {
		t.unlink(old.sum.Parent, id)
		t.link(next.sum.Parent, id)
	}
}

// link records child under parent in the children index; a zero parent is
// no link.
func (t *tenant) link(parent, child incident.ID) {
	if parent.IsZero() {
		return
	}
	kids := t.children[parent]
	i, found := slices.BinarySearchFunc(kids, child, incident.ID.Compare)
	if !found {
		t.children[parent] = slices.Insert(kids, i, child)
	}
}

// unlink removes child from parent's entry in the children index.
func (t *tenant) unlink(parent, child incident.ID) {
	if parent.IsZero() {
		return
	}
	kids := t.children[parent]
	if i, found := slices.BinarySearchFunc(kids, child, incident.ID.Compare); found {
		kids = slices.Delete(kids, i, i+1)
		if len(kids) == 0 {
			delete(t.children, parent)
			return
		}
		t.children[parent] = kids
	}
}

// txKey is the context key under which a store's running transaction
// travels, as the *scope calls run at; keyed by store so that transactions
// of two stores nest.
type txKey struct{ s *Store }

// txOf returns s's running transaction carried by ctx, or nil.
func (s *Store) txOf(ctx context.Context) *tx {
	if sc, _ := ctx.Value(txKey{s}).(*scope); sc != nil {
		return sc.t
	}
	return nil
}

// write runs fn with exclusive access to the data: inside t, or inside the
// transaction ctx carries, or under the store's lock. fn records how to undo
// its changes on the transaction it is given (nil outside one). fn must
// validate before it changes anything.
func (s *Store) write(ctx context.Context, t *tx, fn func(t *tx) error) error {
	if t == nil {
		t = s.txOf(ctx)
	}
	if t != nil {
		return t.run(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(nil)
}

// read runs fn with shared access to the data, inside a transaction when
// there is one (see write).
func (s *Store) read(ctx context.Context, t *tx, fn func() error) error {
	if t == nil {
		t = s.txOf(ctx)
	}
	if t != nil {
		return t.run(ctx, func(*tx) error { return fn() })
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// A transaction may have held the lock for a while: give up if the
	// caller did meanwhile.
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn()
}
