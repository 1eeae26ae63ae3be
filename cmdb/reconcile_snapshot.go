package cmdb

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Snapshot is one tenant's CMDB as reconciliation and health analysis see
// it: records and relationships, indexed. It is immutable once built and
// safe for concurrent reads; it shares no memory with what it was built
// from or hands out.
type Snapshot struct {
	tenant  itsm.TenantID
	recs    map[ID]*Record
	order   []ID
	rels    map[RelationshipID]*Relationship
	relsOf  map[ID][]RelationshipID
	keys    map[nativeKey]ID
	byClass map[ClassName][]ID
	bySrc   map[SourceName][]ID
	dupsOf  map[ID][]ID
	last    map[SourceName]time.Time
}

// nativeKey is a source's key for a CI.
type nativeKey struct {
	source SourceName
	id     string
}

// NewSnapshot indexes copies of a tenant's records and relationships. It
// returns a *itsm.ValidationError naming "tenant" when the tenant is bad or
// a record or relationship belongs to another, and "records[i].id" or
// "relationships[i].id" for a zero or repeated ID. Dangling relationships
// are kept: health reports them. Two records carrying the same native key
// are accepted, although a Repository refuses to store them (records
// written before it did, or gathered from elsewhere): the key identifies
// the record that is not a duplicate, else the older one, else the one
// listed first; the other keeps its copy.
func NewSnapshot(tenant itsm.TenantID, records []Record, rels []Relationship) (*Snapshot, error) {
	return newSnapshot(tenant, records, rels, true)
}

// newSnapshot indexes records, copying them when copied is set (callers
// that made the records themselves hand them over).
func newSnapshot(tenant itsm.TenantID, records []Record, rels []Relationship, copied bool) (*Snapshot, error) {
	var errs itsm.FieldErrors
	errs.Merge("", tenant.Validate())
	s := &Snapshot{
		tenant: tenant, recs: make(map[ID]*Record, len(records)), rels: make(map[RelationshipID]*Relationship, len(rels)),
		relsOf: map[ID][]RelationshipID{}, keys: map[nativeKey]ID{}, byClass: map[ClassName][]ID{},
		bySrc: map[SourceName][]ID{}, dupsOf: map[ID][]ID{}, last: map[SourceName]time.Time{},
	}
	for i, r := range records {
		field := fmt.Sprintf("records[%d]", i)
		if r.Tenant != tenant {
			errs.Addf(field+".tenant", "is %q, not the snapshot's tenant", clip(string(r.Tenant)))
		}
		if r.ID.IsZero() {
			errs.Add(field+".id", "must not be the zero ID")
			continue
		}
		if _, dup := s.recs[r.ID]; dup {
			errs.Addf(field+".id", "%s is listed twice", r.ID)
			continue
		}
		c := &records[i]
		if copied {
			cp := r.Clone()
			c = &cp
		}
		s.recs[r.ID] = c
		s.order = append(s.order, r.ID)
		for name, st := range c.Sources {
			k := nativeKey{name, st.NativeID}
			if other, taken := s.keys[k]; taken {
				// Two records with one key: a write the store did not refuse,
				// or a key move cut short. Keep the key on the record that is
				// not a duplicate (else the older one), so reconciliation goes
				// on and settles it, instead of refusing the tenant for good.
				if o := s.recs[other]; o != nil && (!o.DuplicateOf.IsZero() && c.DuplicateOf.IsZero() ||
					o.DuplicateOf.IsZero() == c.DuplicateOf.IsZero() && c.Created.Before(o.Created)) {
					s.keys[k] = c.ID
				}
				continue
			}
			s.keys[k] = c.ID
			if st.LastSeen.After(s.last[name]) {
				s.last[name] = st.LastSeen
			}
		}
	}
	for i, rel := range rels {
		field := fmt.Sprintf("relationships[%d]", i)
		if rel.Tenant != tenant {
			errs.Addf(field+".tenant", "is %q, not the snapshot's tenant", clip(string(rel.Tenant)))
		}
		if rel.ID.IsZero() {
			errs.Add(field+".id", "must not be the zero ID")
			continue
		}
		if _, dup := s.rels[rel.ID]; dup {
			errs.Addf(field+".id", "%s is listed twice", rel.ID)
			continue
		}
		c := rel
		s.rels[rel.ID] = &c
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(s.order, ID.Compare)
	for _, id := range s.order {
		r := s.recs[id]
		s.byClass[r.Class] = append(s.byClass[r.Class], id)
		for name := range r.Sources {
			s.bySrc[name] = append(s.bySrc[name], id)
		}
		if !r.DuplicateOf.IsZero() {
			s.dupsOf[r.DuplicateOf] = append(s.dupsOf[r.DuplicateOf], id)
		}
	}
	relIDs := slices.SortedFunc(maps.Keys(s.rels), RelationshipID.Compare)
	for _, id := range relIDs {
		rel := s.rels[id]
		s.relsOf[rel.From] = append(s.relsOf[rel.From], id)
		if rel.To != rel.From {
			s.relsOf[rel.To] = append(s.relsOf[rel.To], id)
		}
	}
	return s, nil
}

// LoadSnapshot reads every record and relationship of the tenant from repo,
// page by page. Without a transaction around it the pages may mix
// instants; reconciliation's version checks catch what changed meanwhile.
// Errors are repo's.
func LoadSnapshot(ctx context.Context, repo Repository, tenant itsm.TenantID) (*Snapshot, error) {
	var recs []Record
	for after := (ID{}); ; {
		page, err := repo.ListCIs(ctx, tenant, Filter{}, Page{After: after, Limit: MaxPageLimit})
		if err != nil {
			return nil, err
		}
		recs = append(recs, page.Items...)
		if page.Next.IsZero() {
			break
		}
		after = page.Next
	}
	var rels []Relationship
	for after := (RelationshipID{}); ; {
		page, err := repo.ListRelationships(ctx, tenant, RelationshipPage{After: after, Limit: MaxPageLimit})
		if err != nil {
			return nil, err
		}
		rels = append(rels, page.Items...)
		if page.Next.IsZero() {
			break
		}
		after = page.Next
	}
	return newSnapshot(tenant, recs, rels, false) // the pages are copies already
}

// Tenant returns the snapshot's tenant.
func (s *Snapshot) Tenant() itsm.TenantID { return s.tenant }

// Len returns how many records the snapshot holds.
func (s *Snapshot) Len() int { return len(s.order) }

// Record returns a copy of the record id.
func (s *Snapshot) Record(id ID) (Record, bool) {
	r, ok := s.recs[id]
	if !ok {
		return Record{}, false
	}
	return r.Clone(), true
}

// Records returns copies of every record, ordered by ID.
func (s *Snapshot) Records() []Record {
	out := make([]Record, len(s.order))
	for i, id := range s.order {
		out[i] = s.recs[id].Clone()
	}
	return out
}

// Relationships returns every relationship, ordered by ID.
func (s *Snapshot) Relationships() []Relationship {
	out := make([]Relationship, 0, len(s.rels))
	for _, r := range s.rels {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Relationship) int { return a.ID.Compare(b.ID) })
	return out
}

// RelationshipsOf returns the relationships with ci at either end, ordered
// by ID.
func (s *Snapshot) RelationshipsOf(ci ID) []Relationship {
	ids := s.relsOf[ci]
	out := make([]Relationship, len(ids))
	for i, id := range ids {
		out[i] = *s.rels[id]
	}
	return out
}

// Find returns the ID of the CI the source knows by nativeID.
func (s *Snapshot) Find(source SourceName, nativeID string) (ID, bool) {
	id, ok := s.keys[nativeKey{source, nativeID}]
	return id, ok
}

// Apply returns the snapshot that applying p to s gives: what a repository
// holding s holds after p.Apply succeeds (created records at version 1,
// updated ones one version up). It returns an error wrapping
// itsm.ErrConflict when p was planned on other data: an update whose
// version differs, a create whose ID exists, a relationship to remove that
// is absent or to add that is present.
func (s *Snapshot) Apply(p *Plan) (*Snapshot, error) {
	if p.Tenant != s.tenant {
		return nil, itsm.NewValidationError("tenant", "the plan is for another tenant")
	}
	recs := make(map[ID]Record, len(s.recs)+len(p.Creates))
	for id, r := range s.recs {
		recs[id] = *r
	}
	for _, c := range p.Creates {
		if _, ok := recs[c.ID]; ok {
			return nil, fmt.Errorf("cmdb: CI %s already exists: %w", c.ID, itsm.ErrConflict)
		}
		c = c.Clone()
		c.Version = 1
		recs[c.ID] = c
	}
	for _, u := range p.Updates {
		cur, ok := recs[u.After.ID]
		if !ok || cur.Version != u.Before.Version {
			return nil, fmt.Errorf("cmdb: CI %s is not at version %d: %w", u.After.ID, u.Before.Version, itsm.ErrConflict)
		}
		a := u.After.Clone()
		a.Version = u.Before.Version + 1
		recs[a.ID] = a
	}
	rels := make(map[RelationshipID]Relationship, len(s.rels)+len(p.AddRelationships))
	for id, r := range s.rels {
		rels[id] = *r
	}
	for _, r := range p.RemoveRelationships {
		if _, ok := rels[r.ID]; !ok {
			return nil, fmt.Errorf("cmdb: relationship %s is absent: %w", r.ID, itsm.ErrConflict)
		}
		delete(rels, r.ID)
	}
	for _, r := range p.AddRelationships {
		if _, ok := rels[r.ID]; ok {
			return nil, fmt.Errorf("cmdb: relationship %s already exists: %w", r.ID, itsm.ErrConflict)
		}
		rels[r.ID] = r
	}
	return newSnapshot(s.tenant, slices.Collect(maps.Values(recs)), slices.Collect(maps.Values(rels)), false)
}
