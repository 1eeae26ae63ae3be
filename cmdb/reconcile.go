package cmdb

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// Limits on reconciliation input.
const (
	MaxBatchItems   = 1_000_000
	MaxLinksPerItem = 1000
)

// Batch is what one source reports at one instant.
type Batch struct {
	// Tenant owns the CIs.
	Tenant itsm.TenantID `json:"tenant"`
	// Source reported the items.
	Source SourceName `json:"source"`
	// At is when the source observed the items (normalised on the way
	// in). It must not precede the source's previous batch.
	At time.Time `json:"at"`
	// Complete batches list everything the source currently sees: CIs it
	// listed before and no longer does are gone from it, and retired when
	// no source lists them any more. Incomplete (delta) batches retire
	// nothing.
	Complete bool `json:"complete,omitempty"`
	// AllowMassRetire lets a complete batch past the mass-delete guard.
	AllowMassRetire bool `json:"allow_mass_retire,omitempty"`
	// Items are the reported CIs; their native IDs are distinct.
	Items []Item `json:"items"`
}

// Item is one CI as a source reports it. Attributes the item leaves out are
// not reported: they keep whatever value they have (partial payloads).
type Item struct {
	// NativeID is the source's key for the CI; required.
	NativeID string `json:"native_id"`
	// Class is a concrete class of the registry.
	Class ClassName `json:"class"`
	// Name is the CI's name as the source knows it; required.
	Name string `json:"name"`
	// Attributes are the reported values, each checked against the class.
	Attributes map[string]Value `json:"attributes,omitempty"`
	// Links relate the item to other CIs the source knows.
	Links []Link `json:"links,omitempty"`
}

// Link relates an item to another CI known to the same source: an item of
// the same batch or a CI the source reported before, by native ID. A link
// whose type has a dependent side with the item on it names the item's
// host (software on a server, a VM on its hypervisor); the item is then
// identified among the CIs already related to that host.
type Link struct {
	// Type is the relationship type.
	Type RelTypeName `json:"type"`
	// Target is the other CI's native ID for this source.
	Target string `json:"target"`
	// Reverse makes the target the From end: target, type, item.
	Reverse bool `json:"reverse,omitempty"`
}

// Action says what reconciliation does with an item's CI.
type Action string

// The actions.
const (
	// ActionCreate: no CI matched; a new one is created.
	ActionCreate Action = "create"
	// ActionUpdate: a CI matched and its name, attributes or status change.
	ActionUpdate Action = "update"
	// ActionUnchanged: a CI matched and only its reconciliation data (last
	// seen, claims, provenance) changes.
	ActionUnchanged Action = "unchanged"
)

// Outcome says how one item was identified and what becomes of its CI.
type Outcome struct {
	// Item is the item's index in the batch.
	Item int `json:"item"`
	// NativeID is the item's native ID.
	NativeID string `json:"native_id"`
	// CI is the CI the item is reconciled into.
	CI ID `json:"ci"`
	// Action is what happens to it.
	Action Action `json:"action"`
	// MatchedBy says how it was identified: "native key", "rule (…)",
	// "host x rule (…)" for a dependent CI, or "" for a new CI.
	MatchedBy string `json:"matched_by,omitempty"`
}

// Change is one field of a CI that an update changes.
type Change struct {
	// Field is an attribute name, NameKey, StatusKey or DuplicateKey.
	Field string `json:"field"`
	// From is the old value; the zero Value when the field was unset.
	From Value `json:"from"`
	// To is the new value.
	To Value `json:"to"`
	// Source is the source the new value comes from.
	Source SourceName `json:"source"`
}

// Update is one CI a plan rewrites.
type Update struct {
	// Before is the record as the plan read it (its Version is the one the
	// update carries).
	Before Record `json:"before"`
	// After is the record to store, at Before's version.
	After Record `json:"after"`
	// Changes lists the CI's changed fields in field order (attributes by
	// name, then the @ keys); empty when only reconciliation data changes.
	Changes []Change `json:"changes,omitempty"`
}

// Duplicate records that a CI was found to duplicate an older one.
type Duplicate struct {
	// CI is the duplicate.
	CI ID `json:"ci"`
	// Of is the oldest CI identified as the same thing.
	Of ID `json:"of"`
}

// GuardTrip reports a complete batch stopped by the mass-delete guard:
// nothing it leaves out is marked gone or retired.
type GuardTrip struct {
	// Known is how many CIs the source listed before the batch.
	Known int `json:"known"`
	// Reported is how many items the batch has.
	Reported int `json:"reported"`
	// Missing is how many known CIs the batch leaves out.
	Missing int `json:"missing"`
	// MaxFraction is the guard's threshold.
	MaxFraction decimal.Decimal `json:"max_fraction"`
}

// Plan is what reconciling one batch changes: the dry-run answer, and what
// Plan.Apply writes. Nothing in it shares memory with the snapshot.
type Plan struct {
	Tenant   itsm.TenantID `json:"tenant"`
	Source   SourceName    `json:"source"`
	At       time.Time     `json:"at"`
	Complete bool          `json:"complete,omitempty"`
	// Creates are new records, version 0, in item order.
	Creates []Record `json:"creates,omitempty"`
	// Updates are rewritten records ordered by ID, except that records
	// becoming duplicates come last (after the records re-pointed to
	// their survivor), so that no write ever makes a chain.
	Updates []Update `json:"updates,omitempty"`
	// RemoveRelationships are relationships replaced by the batch (a
	// bounded end that now relates elsewhere), ordered by ID.
	RemoveRelationships []Relationship `json:"remove_relationships,omitempty"`
	// AddRelationships are new relationships, in item and link order.
	AddRelationships []Relationship `json:"add_relationships,omitempty"`
	// Retirements are CIs retired because no source lists them any more,
	// ordered by ID (their updates are among Updates).
	Retirements []ID `json:"retirements,omitempty"`
	// Gone are CIs the source stopped listing, ordered by ID.
	Gone []ID `json:"gone,omitempty"`
	// Duplicates are newly found duplicates, in the order found.
	Duplicates []Duplicate `json:"duplicates,omitempty"`
	// Outcomes say what became of each item, in batch order.
	Outcomes []Outcome `json:"outcomes"`
	// Guard is set when the mass-delete guard stopped the batch's
	// retirements.
	Guard *GuardTrip `json:"guard,omitempty"`
}

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool {
	return len(p.Creates) == 0 && len(p.Updates) == 0 && len(p.AddRelationships) == 0 && len(p.RemoveRelationships) == 0
}

// Plan decides what reconciling b into snap changes, without changing
// anything: the dry run. IDs of new CIs and relationships are drawn from
// gen in item order.
//
// Identification, per item, hosts before the CIs they host: the source's
// native key first; then, for an item with a host link, the identifier
// rules among the CIs already related to the host by that type; otherwise
// the class's identifier rules among CIs of the same class. CIs already
// matched by another item of the batch, CIs that carry a key of the same
// source, and duplicates are never candidates, so each item gets its own CI.
// When a rule matches several CIs the oldest (Created, then ID) wins and
// the others are marked duplicates of it; whatever pointed to them is
// re-pointed to it. A native key that leads to a duplicate moves to its
// survivor, unless the survivor answers to another key of the source.
//
// Errors, all *itsm.ValidationError naming the field ("items[3].class",
// "items[0].links[1].target"), with nothing decided: a bad tenant, source
// or instant; a batch older than the source's previous one; a repeated or
// malformed native ID; an unknown or abstract class, or one that differs
// from the class the source reported the CI as before; a missing name; an
// attribute the class lacks or a value of the wrong type; a link of an
// unknown type, to an unknown target, between classes the type does not
// allow, breaking its cardinality, more than one host, hosting cycles; a
// new CI lacking a required attribute. The snapshot must be of the batch's
// tenant ("tenant").
func (rc *Reconciler) Plan(snap *Snapshot, b Batch, gen itsm.IDGenerator) (*Plan, error) {
	return rc.plan(snap, b, gen, false)
}

// plan is Plan; private says the snapshot is the caller's own and will be
// dropped, so the plan may share the records it read.
func (rc *Reconciler) plan(snap *Snapshot, b Batch, gen itsm.IDGenerator, private bool) (*Plan, error) {
	pl := &planner{rc: rc, reg: rc.reg, snap: snap, b: b, now: itsm.Normalize(b.At), gen: gen, private: private}
	if err := pl.validate(); err != nil {
		return nil, err
	}
	pl.init()
	for _, i := range pl.order {
		pl.identify(i)
	}
	if err := pl.errs.Err(); err != nil {
		return nil, err
	}
	for i := range b.Items {
		pl.links(i)
	}
	if err := pl.errs.Err(); err != nil {
		return nil, err
	}
	pl.absences()
	return pl.finish()
}

// planner holds one Plan call's working state.
type planner struct {
	rc   *Reconciler
	reg  *Registry
	snap *Snapshot
	b    Batch
	now  time.Time
	gen  itsm.IDGenerator
	errs itsm.FieldErrors

	classIdx []int          // class index per item
	host     []int          // per item, the index of its dependent link, or -1
	byNative map[string]int // item index by native ID
	order    []int          // items, hosts first

	work    map[ID]*Record // records changed so far (copies)
	created []ID           // in item order
	isNew   map[ID]bool
	itemCI  []ID
	matched []string
	claimed map[ID]bool
	seen    map[ID]bool // CIs whose state of the source this batch refreshed
	dupOf   map[ID][]ID // planned re-pointings on top of the snapshot's
	index   map[ClassName]map[string][]ID
	dups    []Duplicate
	added   []Relationship
	addedOf map[ID][]int
	removed map[RelationshipID]bool
	gone    []ID
	retired []ID
	guard   *GuardTrip
	private bool
}

// checkItem checks item i, naming fields relative to the item; it records
// the item's class index, host link and native ID on the way.
func (pl *planner) checkItem(errs *itsm.FieldErrors, i int) {
	reg, it := pl.reg, &pl.b.Items[i]
	checkNativeID(errs, "native_id", it.NativeID)
	if j, dup := pl.byNative[it.NativeID]; dup {
		errs.Addf("native_id", "repeats items[%d]", j)
	} else {
		pl.byNative[it.NativeID] = i
	}
	k, known := reg.byName[it.Class]
	pl.classIdx[i] = k
	switch {
	case !known:
		errs.Addf("class", "class %q does not exist", clip(string(it.Class)))
	case reg.classes[k].Abstract:
		errs.Addf("class", "class %q is abstract", it.Class)
	}
	checkText(errs, "name", it.Name, MaxCINameLen, true)
	if known {
		// A first pass costs no field names; a bad item is checked again
		// in sorted order for a deterministic error.
		var probe itsm.FieldErrors
		for name, v := range it.Attributes {
			if reg.attr(k, name) == nil {
				probe.Add("", "")
				break
			}
			reg.checkKeyValue(&probe, "", k, name, v)
		}
		if probe.Len() > 0 {
			for _, name := range slices.Sorted(maps.Keys(it.Attributes)) {
				af := "attributes." + clip(name)
				if reg.attr(k, name) == nil {
					errs.Addf(af, "is not an attribute of class %s", it.Class)
					continue
				}
				reg.checkKeyValue(errs, af, k, name, it.Attributes[name])
			}
		}
	}
	if len(it.Links) > MaxLinksPerItem {
		errs.Addf("links", "holds %d links; at most %d", len(it.Links), MaxLinksPerItem)
		return
	}
	for j, l := range it.Links {
		lf := fmt.Sprintf("links[%d]", j)
		t, ok := reg.relByNm[l.Type]
		if !ok {
			errs.Addf(lf+".type", "relationship type %q does not exist", clip(string(l.Type)))
			continue
		}
		if l.Target == "" || len(l.Target) > MaxNativeIDLen || !utf8.ValidString(l.Target) {
			errs.Addf(lf+".target", "must be 1 to %d bytes of UTF-8", MaxNativeIDLen)
			continue
		}
		if l.Target == it.NativeID {
			errs.Add(lf+".target", "an item cannot relate to itself")
			continue
		}
		dep := reg.relTypes[t].Dependent
		if dep == SideFrom && !l.Reverse || dep == SideTo && l.Reverse {
			if pl.host[i] >= 0 {
				errs.Addf(lf, "names a second host; links[%d] already does", pl.host[i])
			} else {
				pl.host[i] = j
			}
		}
	}
}

// validate checks the batch on its own terms and against the snapshot.
func (pl *planner) validate() error {
	b := &pl.b
	var errs itsm.FieldErrors
	errs.Merge("", b.Tenant.Validate())
	errs.Merge("", b.Source.Validate())
	if b.At.IsZero() {
		errs.Add("at", "must be set")
	}
	if pl.gen == nil {
		errs.Add("id_generator", "must not be nil")
	}
	if pl.snap == nil {
		errs.Add("snapshot", "must not be nil")
	} else if b.Tenant.Validate() == nil && pl.snap.tenant != b.Tenant {
		errs.Addf("tenant", "is %s but the snapshot is of %s", b.Tenant, pl.snap.tenant)
	}
	if pl.snap != nil && !b.At.IsZero() {
		if last := pl.snap.last[b.Source]; pl.now.Before(last) {
			errs.Addf("at", "precedes the source's previous batch at %s", last.Format(time.RFC3339Nano))
		}
	}
	if len(b.Items) > MaxBatchItems {
		errs.Addf("items", "holds %d items; at most %d", len(b.Items), MaxBatchItems)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	pl.classIdx = make([]int, len(b.Items))
	pl.host = make([]int, len(b.Items))
	pl.byNative = make(map[string]int, len(b.Items))
	for i := range b.Items {
		pl.host[i] = -1
		var item itsm.FieldErrors
		pl.checkItem(&item, i)
		if item.Len() > 0 {
			errs.Merge(fmt.Sprintf("items[%d]", i), item.Err())
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	// Hosts first: a depth-first walk along host links within the batch.
	state := make([]byte, len(b.Items)) // 0 new, 1 on the path, 2 done
	pl.order = make([]int, 0, len(b.Items))
	for start := range b.Items {
		var path []int
		for i := start; state[i] == 0; {
			state[i] = 1
			path = append(path, i)
			h := pl.host[i]
			if h < 0 {
				break
			}
			j, inBatch := pl.byNative[b.Items[i].Links[h].Target]
			if !inBatch {
				break
			}
			if state[j] == 1 {
				errs.Addf(fmt.Sprintf("items[%d].links[%d]", i, h), "closes a cycle of hosts")
				break
			}
			i = j
		}
		for k := len(path) - 1; k >= 0; k-- {
			state[path[k]] = 2
			pl.order = append(pl.order, path[k])
		}
	}
	return errs.Err()
}

func (pl *planner) init() {
	n := len(pl.b.Items)
	pl.work = make(map[ID]*Record, n)
	pl.isNew = make(map[ID]bool, n)
	pl.itemCI = make([]ID, n)
	pl.matched = make([]string, n)
	pl.claimed = make(map[ID]bool, n)
	pl.seen = make(map[ID]bool, n)
	pl.dupOf = map[ID][]ID{}
	pl.index = map[ClassName]map[string][]ID{}
	pl.addedOf = map[ID][]int{}
	pl.removed = map[RelationshipID]bool{}
}

// get returns the current record id (read-only), or nil.
func (pl *planner) get(id ID) *Record {
	if r, ok := pl.work[id]; ok {
		return r
	}
	return pl.snap.recs[id]
}

// edit returns a working copy of record id to change.
func (pl *planner) edit(id ID) *Record {
	if r, ok := pl.work[id]; ok {
		return r
	}
	c := pl.snap.recs[id].Clone()
	pl.work[id] = &c
	return &c
}

// relations returns the planned relationships of ci.
func (pl *planner) relations(ci ID) []Relationship {
	var out []Relationship
	for _, id := range pl.snap.relsOf[ci] {
		if !pl.removed[id] {
			out = append(out, *pl.snap.rels[id])
		}
	}
	for _, k := range pl.addedOf[ci] {
		out = append(out, pl.added[k])
	}
	return out
}

func (pl *planner) lookup() Lookup {
	return Lookup{
		Class: func(id ID) (ClassName, bool) {
			if r := pl.get(id); r != nil {
				return r.Class, true
			}
			return "", false
		},
		Relations: pl.relations,
	}
}

// candidate reports whether record id may be matched by an identifier rule
// for the batch's source.
func (pl *planner) candidate(id ID, class ClassName) bool {
	r := pl.get(id)
	if r == nil || r.Class != class || !r.DuplicateOf.IsZero() || pl.claimed[id] {
		return false
	}
	_, known := r.Sources[pl.b.Source]
	return !known
}

// classIndex returns the identifier index of a class, building it on first
// use from the snapshot and the CIs created so far.
func (pl *planner) classIndex(class ClassName, k int) map[string][]ID {
	if idx, ok := pl.index[class]; ok {
		return idx
	}
	idx := map[string][]ID{}
	for _, id := range pl.snap.byClass[class] {
		pl.addKeys(idx, k, pl.get(id))
	}
	for _, id := range pl.created {
		if r := pl.get(id); r.Class == class {
			pl.addKeys(idx, k, r)
		}
	}
	pl.index[class] = idx
	return idx
}

// addKeys indexes r under every rule of class index k.
func (pl *planner) addKeys(idx map[string][]ID, k int, r *Record) {
	for n, rule := range pl.rc.rulesOf(k) {
		if key := identKey(n, rule, r.Name, r.Attributes); key != "" {
			idx[key] = append(idx[key], r.ID)
		}
	}
}

// identify finds or creates item i's CI and records the item's claims.
func (pl *planner) identify(i int) {
	it := &pl.b.Items[i]
	k := pl.classIdx[i]
	field := fmt.Sprintf("items[%d]", i)
	var id ID
	how := ""
	if found, ok := pl.snap.keys[nativeKey{pl.b.Source, it.NativeID}]; ok {
		id, how = found, "native key"
		r := pl.get(id)
		if r.Class != it.Class {
			pl.errs.Addf(field+".class", "is %s, but the source reported %q as %s before", it.Class, clip(it.NativeID), r.Class)
			return
		}
		if s := r.DuplicateOf; !s.IsZero() && pl.canMoveKey(s) {
			pl.moveKey(id, s)
			id = s
		}
	} else {
		id, how = pl.match(i, k)
	}
	if id.IsZero() {
		nid, err := NewID(pl.gen)
		if err != nil {
			pl.errs.Merge(field, err)
			return
		}
		r := &Record{CI: CI{
			ID: nid, Tenant: pl.b.Tenant, Class: it.Class, Name: it.Name, Status: StatusInUse,
			Attributes: map[string]Value{}, Created: pl.now, Updated: pl.now,
		}}
		pl.work[nid] = r
		pl.isNew[nid] = true
		pl.created = append(pl.created, nid)
		id = nid
	}
	pl.itemCI[i] = id
	pl.matched[i] = how
	pl.claimed[id] = true
	pl.seen[id] = true
	r := pl.edit(id)
	st := r.Sources[pl.b.Source]
	st.NativeID = it.NativeID
	st.LastSeen = pl.now
	st.Gone = time.Time{}
	// r is the planner's copy, so its claims can change in place.
	claims := st.Claims
	if claims == nil {
		claims = make(map[string]Claim, len(it.Attributes)+1)
	}
	claims[NameKey] = Claim{Value: StringValue(it.Name), At: pl.now}
	for a, v := range it.Attributes {
		claims[a] = Claim{Value: v, At: pl.now}
	}
	st.Claims = claims
	if r.Sources == nil {
		r.Sources = map[SourceName]SourceState{}
	}
	r.Sources[pl.b.Source] = st
	pl.settle(r, k)
	if r.Status == StatusRetired {
		r.Status = StatusInUse
		r.Updated = latest(r.Updated, pl.now)
	}
	if idx, ok := pl.index[it.Class]; ok {
		// Index the CI under its current values; lookups re-check keys, so
		// entries left by older values are harmless.
		pl.addKeys(idx, k, r)
	}
}

// canMoveKey reports whether the source's state may move to survivor s.
func (pl *planner) canMoveKey(s ID) bool {
	r := pl.get(s)
	if r == nil || pl.claimed[s] {
		return false
	}
	_, known := r.Sources[pl.b.Source]
	return !known
}

// moveKey moves the source's state from duplicate d to survivor s.
func (pl *planner) moveKey(d, s ID) {
	dr := pl.edit(d)
	st := dr.Sources[pl.b.Source]
	delete(dr.Sources, pl.b.Source)
	pl.settle(dr, pl.reg.byName[dr.Class])
	sr := pl.edit(s)
	if sr.Sources == nil {
		sr.Sources = map[SourceName]SourceState{}
	}
	sr.Sources[pl.b.Source] = st
}

// match applies the identifier rules for item i of class index k; it
// returns the zero ID when nothing matches.
func (pl *planner) match(i, k int) (ID, string) {
	it := &pl.b.Items[i]
	rules := pl.rc.rulesOf(k)
	if h := pl.host[i]; h >= 0 {
		host, ok := pl.target(i, h)
		if !ok {
			return ID{}, "" // links() reports the unknown target
		}
		l := it.Links[h]
		var cands []ID
		for _, rel := range pl.relations(host) {
			if rel.Type != l.Type {
				continue
			}
			other := rel.From
			if l.Reverse {
				other = rel.To
			}
			if other != host && (l.Reverse && rel.From == host || !l.Reverse && rel.To == host) && pl.candidate(other, it.Class) {
				cands = append(cands, other)
			}
		}
		for n, rule := range rules {
			key := identKey(n, rule, it.Name, it.Attributes)
			if key == "" {
				continue
			}
			var hits []ID
			for _, c := range cands {
				r := pl.get(c)
				if identKey(n, rule, r.Name, r.Attributes) == key {
					hits = append(hits, c)
				}
			}
			if len(hits) > 0 {
				return pl.survive(hits), fmt.Sprintf("host %s rule %d %s", host, n, rule)
			}
		}
		return ID{}, ""
	}
	idx := pl.classIndex(it.Class, k)
	for n, rule := range rules {
		key := identKey(n, rule, it.Name, it.Attributes)
		if key == "" {
			continue
		}
		var hits []ID
		for _, c := range idx[key] {
			if slices.Contains(hits, c) || !pl.candidate(c, it.Class) || pl.hosted(c) {
				continue
			}
			if r := pl.get(c); identKey(n, rule, r.Name, r.Attributes) == key {
				hits = append(hits, c)
			}
		}
		if len(hits) > 0 {
			return pl.survive(hits), fmt.Sprintf("rule %d %s", n, rule)
		}
	}
	return ID{}, ""
}

// hosted reports whether CI c has its identity in the context of a host (it
// is the dependent end of a relationship such as runs_on): an item reported
// without a host cannot tell which host's CI it is, so such CIs are no
// candidates for it (DOMAIN.md §7: dependent CIs are identified in the
// context of their host).
func (pl *planner) hosted(c ID) bool {
	for _, rel := range pl.relations(c) {
		t, ok := pl.rc.reg.relByNm[rel.Type]
		if !ok {
			continue
		}
		switch pl.rc.reg.relTypes[t].Dependent {
		case SideFrom:
			if rel.From == c {
				return true
			}
		case SideTo:
			if rel.To == c {
				return true
			}
		}
	}
	return false
}

// survive returns the oldest of hits and marks the others duplicates of it.
func (pl *planner) survive(hits []ID) ID {
	slices.SortFunc(hits, func(a, b ID) int {
		ra, rb := pl.get(a), pl.get(b)
		if c := ra.Created.Compare(rb.Created); c != 0 {
			return c
		}
		return a.Compare(b)
	})
	s := hits[0]
	for _, d := range hits[1:] {
		pl.markDuplicate(d, s)
	}
	return s
}

// markDuplicate points d, and every record pointing to d, at s.
func (pl *planner) markDuplicate(d, s ID) {
	pl.edit(d).DuplicateOf = s
	pl.dups = append(pl.dups, Duplicate{CI: d, Of: s})
	for _, x := range pl.pointingAt(d) {
		pl.edit(x).DuplicateOf = s
	}
	pl.dupOf[s] = append(pl.dupOf[s], d)
}

// pointingAt returns the records currently pointing at id.
func (pl *planner) pointingAt(id ID) []ID {
	var out []ID
	for _, x := range slices.Concat(pl.snap.dupsOf[id], pl.dupOf[id]) {
		if r := pl.get(x); r.DuplicateOf == id && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// target resolves link h of item i to a CI ID.
func (pl *planner) target(i, h int) (ID, bool) {
	l := pl.b.Items[i].Links[h]
	if j, ok := pl.byNative[l.Target]; ok {
		return pl.itemCI[j], !pl.itemCI[j].IsZero()
	}
	id, ok := pl.snap.keys[nativeKey{pl.b.Source, l.Target}]
	if !ok {
		return ID{}, false
	}
	// The key may have moved to a survivor during this batch.
	if r := pl.get(id); r != nil {
		if _, still := r.Sources[pl.b.Source]; !still && !r.DuplicateOf.IsZero() {
			return r.DuplicateOf, true
		}
	}
	return id, true
}

// settle recomputes the effective name and attributes of r from the
// present sources' claims, with provenance.
func (pl *planner) settle(r *Record, k int) {
	present := 0
	for _, st := range r.Sources {
		if st.Present() {
			present++
		}
	}
	var done map[string]bool // keys already settled, when several sources claim
	if present > 1 {
		done = map[string]bool{}
	}
	changed := false
	for _, st := range r.Sources {
		if !st.Present() {
			continue
		}
		for key := range st.Claims {
			if done != nil {
				if done[key] {
					continue
				}
				done[key] = true
			}
			changed = pl.settleKey(r, k, key) || changed
		}
	}
	if changed {
		r.Updated = latest(r.Updated, pl.now)
	}
}

// settleKey settles one key of r; it reports whether the CI changed.
func (pl *planner) settleKey(r *Record, k int, key string) bool {
	src, c, ok := pl.rc.winner(k, key, r, pl.now)
	if !ok {
		return false
	}
	if r.Provenance == nil {
		r.Provenance = map[string]Provenance{}
	}
	r.Provenance[key] = Provenance{Source: src, At: c.At}
	if key == NameKey {
		if r.Name == c.Value.Str() {
			return false
		}
		r.Name = c.Value.Str()
		return true
	}
	if old, ok := r.Attributes[key]; ok && old.Equal(c.Value) {
		return false
	}
	if r.Attributes == nil {
		r.Attributes = map[string]Value{}
	}
	r.Attributes[key] = c.Value
	return true
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// links turns item i's links into planned relationships.
func (pl *planner) links(i int) {
	it := &pl.b.Items[i]
	for j, l := range it.Links {
		lf := fmt.Sprintf("items[%d].links[%d]", i, j)
		other, ok := pl.target(i, j)
		if !ok {
			pl.errs.Addf(lf+".target", "%q is neither in the batch nor known to source %s", clip(l.Target), pl.b.Source)
			continue
		}
		from, to := pl.itemCI[i], other
		if l.Reverse {
			from, to = other, from
		}
		if from == to {
			pl.errs.Add(lf+".target", "resolves to the item's own CI")
			continue
		}
		t := &pl.reg.relTypes[pl.reg.relByNm[l.Type]]
		existing := pl.relations(from)
		if slices.ContainsFunc(existing, func(r Relationship) bool { return r.Type == l.Type && r.From == from && r.To == to }) {
			continue
		}
		// A bounded end that now relates elsewhere drops its old
		// relationship; one planned by this batch is a conflict instead.
		bad := false
		replace := func(rels []Relationship, end func(Relationship) bool, what string) {
			for _, r := range rels {
				if r.Type != l.Type || !end(r) {
					continue
				}
				if pl.snap.rels[r.ID] == nil {
					pl.errs.Addf(lf, "gives %s a second %s (%s); the batch already relates it", what, t.Parent, l.Type)
					bad = true
					continue
				}
				pl.removed[r.ID] = true
			}
		}
		if t.Cardinality == ManyToOne || t.Cardinality == OneToOne {
			replace(existing, func(r Relationship) bool { return r.From == from && r.To != to }, "the From CI")
		}
		if t.Cardinality == OneToMany || t.Cardinality == OneToOne {
			replace(pl.relations(to), func(r Relationship) bool { return r.To == to && r.From != from }, "the To CI")
		}
		if bad {
			continue
		}
		rid, err := NewRelationshipID(pl.gen)
		if err != nil {
			pl.errs.Merge(lf, err)
			continue
		}
		rel := Relationship{ID: rid, Tenant: pl.b.Tenant, Type: l.Type, From: from, To: to, Created: pl.now}
		if err := pl.reg.CheckRelationship(rel, pl.lookup()); err != nil {
			pl.errs.Merge(lf, err)
			continue
		}
		pl.added = append(pl.added, rel)
		pl.addedOf[from] = append(pl.addedOf[from], len(pl.added)-1)
		pl.addedOf[to] = append(pl.addedOf[to], len(pl.added)-1)
	}
}

// absences marks what a complete batch leaves out, unless the guard trips.
func (pl *planner) absences() {
	if !pl.b.Complete {
		return
	}
	known := 0
	var missing []ID
	for _, id := range pl.snap.bySrc[pl.b.Source] {
		if st := pl.snap.recs[id].Sources[pl.b.Source]; st.Present() {
			known++
			if r := pl.get(id); !pl.seen[id] {
				if cur, ok := r.Sources[pl.b.Source]; ok && cur.Present() {
					missing = append(missing, id)
				}
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	limit := pl.rc.guard.Mul(decimal.NewFromInt(int64(known)))
	if !pl.b.AllowMassRetire && (len(pl.b.Items) == 0 || decimal.NewFromInt(int64(len(missing))).GreaterThan(limit)) {
		pl.guard = &GuardTrip{Known: known, Reported: len(pl.b.Items), Missing: len(missing), MaxFraction: pl.rc.guard}
		return
	}
	for _, id := range missing {
		r := pl.edit(id)
		st := r.Sources[pl.b.Source]
		st.Gone = pl.now
		r.Sources[pl.b.Source] = st
		pl.gone = append(pl.gone, id)
		pl.settle(r, pl.reg.byName[r.Class])
		present := false
		for _, s := range r.Sources {
			present = present || s.Present()
		}
		if !present && r.Status != StatusRetired {
			r.Status = StatusRetired
			r.Updated = latest(r.Updated, pl.now)
			pl.retired = append(pl.retired, id)
		}
	}
}

// finish validates the planned records and assembles the plan.
func (pl *planner) finish() (*Plan, error) {
	p := &Plan{Tenant: pl.b.Tenant, Source: pl.b.Source, At: pl.now, Complete: pl.b.Complete, Guard: pl.guard,
		Gone: pl.gone, Retirements: pl.retired, Duplicates: pl.dups}
	itemOf := make(map[ID]int, len(pl.itemCI))
	for i, id := range pl.itemCI {
		itemOf[id] = i
	}
	for _, id := range slices.SortedFunc(maps.Keys(pl.work), ID.Compare) {
		r := pl.work[id]
		if pl.isNew[id] {
			// A new record is made of checked parts (the batch's
			// validated items); only the class's required attributes
			// remain to be checked.
			if i := itemOf[id]; pl.lacksRequired(r) {
				pl.errs.Merge(fmt.Sprintf("items[%d]", i), pl.reg.ValidateRecord(*r))
			}
			continue
		}
		if err := pl.reg.ValidateRecord(*r); err != nil {
			field := "ci " + id.String()
			if i, ok := itemOf[id]; ok {
				field = fmt.Sprintf("items[%d]", i)
			}
			pl.errs.Merge(field, err)
		}
	}
	if err := pl.errs.Err(); err != nil {
		return nil, err
	}
	// The working records are the planner's own copies: the plan takes
	// them without copying again.
	p.Creates = make([]Record, len(pl.created))
	for n, id := range pl.created {
		p.Creates[n] = *pl.work[id]
	}
	var first, last []Update
	for _, id := range slices.SortedFunc(maps.Keys(pl.work), ID.Compare) {
		if pl.isNew[id] {
			continue
		}
		before, after := pl.snap.recs[id], pl.work[id]
		if sameRecord(before, after) {
			continue
		}
		u := Update{Before: *before, After: *after, Changes: changes(before, after, pl.b.Source)}
		if !pl.private {
			u.Before = before.Clone()
		}
		switch {
		case before.DuplicateOf.IsZero() && !after.DuplicateOf.IsZero():
			last = append(last, u)
		case losesKey(before, after):
			// A record giving up a native key is written before the one
			// taking it, so a run cut short between them leaves the key
			// absent, never on two records.
			first = append(first, u)
		default:
			p.Updates = append(p.Updates, u)
		}
	}
	p.Updates = append(append(first, p.Updates...), last...)
	for id := range pl.removed {
		p.RemoveRelationships = append(p.RemoveRelationships, *pl.snap.rels[id])
	}
	slices.SortFunc(p.RemoveRelationships, func(a, b Relationship) int { return a.ID.Compare(b.ID) })
	p.AddRelationships = slices.Clone(pl.added)
	p.Outcomes = make([]Outcome, len(pl.b.Items))
	changed := map[ID]bool{}
	for _, u := range p.Updates {
		changed[u.After.ID] = len(u.Changes) > 0
	}
	for i, it := range pl.b.Items {
		id := pl.itemCI[i]
		o := Outcome{Item: i, NativeID: it.NativeID, CI: id, MatchedBy: pl.matched[i], Action: ActionUnchanged}
		switch {
		case pl.isNew[id]:
			o.Action = ActionCreate
		case changed[id]:
			o.Action = ActionUpdate
		}
		p.Outcomes[i] = o
	}
	return p, nil
}

// lacksRequired reports whether r misses a required attribute of its class.
func (pl *planner) lacksRequired(r *Record) bool {
	for _, a := range pl.reg.attrs[pl.reg.byName[r.Class]] {
		if _, ok := r.Attributes[a.Name]; a.Required && !ok {
			return true
		}
	}
	return false
}

// changes lists the CI fields that differ between before and after.
func changes(before, after *Record, source SourceName) []Change {
	var out []Change
	from := func(key string) SourceName {
		if p, ok := after.Provenance[key]; ok {
			return p.Source
		}
		return source
	}
	keys := slices.Sorted(maps.Keys(after.Attributes))
	for _, k := range slices.Sorted(maps.Keys(before.Attributes)) {
		if _, ok := after.Attributes[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		old, had := before.Attributes[k]
		cur, has := after.Attributes[k]
		if had != has || !old.Equal(cur) {
			out = append(out, Change{Field: k, From: old, To: cur, Source: from(k)})
		}
	}
	if before.Name != after.Name {
		out = append(out, Change{Field: NameKey, From: StringValue(before.Name), To: StringValue(after.Name), Source: from(NameKey)})
	}
	if before.Status != after.Status {
		out = append(out, Change{Field: StatusKey, From: StringValue(string(before.Status)), To: StringValue(string(after.Status)), Source: source})
	}
	if before.DuplicateOf != after.DuplicateOf {
		var f, t Value
		if !before.DuplicateOf.IsZero() {
			f = RefValue(before.DuplicateOf.Ref())
		}
		if !after.DuplicateOf.IsZero() {
			t = RefValue(after.DuplicateOf.Ref())
		}
		out = append(out, Change{Field: DuplicateKey, From: f, To: t, Source: source})
	}
	return out
}

// sameRecord reports whether two records hold the same data.
func sameRecord(a, b *Record) bool {
	if a.ID != b.ID || a.Tenant != b.Tenant || a.Class != b.Class || a.Name != b.Name || a.Status != b.Status ||
		a.Owner != b.Owner || a.SupportGroup != b.SupportGroup || !a.Created.Equal(b.Created) || !a.Updated.Equal(b.Updated) ||
		a.Version != b.Version || a.DuplicateOf != b.DuplicateOf || len(a.Attributes) != len(b.Attributes) ||
		len(a.Sources) != len(b.Sources) || !maps.Equal(a.Provenance, b.Provenance) {
		return false
	}
	for k, v := range a.Attributes {
		if w, ok := b.Attributes[k]; !ok || !v.Equal(w) {
			return false
		}
	}
	for k, s := range a.Sources {
		t, ok := b.Sources[k]
		if !ok || s.NativeID != t.NativeID || !s.LastSeen.Equal(t.LastSeen) || !s.Gone.Equal(t.Gone) || len(s.Claims) != len(t.Claims) {
			return false
		}
		for ck, c := range s.Claims {
			d, ok := t.Claims[ck]
			if !ok || !c.At.Equal(d.At) || !c.Value.Equal(d.Value) {
				return false
			}
		}
	}
	return true
}

// losesKey reports whether after no longer carries a native key before had.
func losesKey(before, after *Record) bool {
	for name, st := range before.Sources {
		if st.NativeID == "" {
			continue
		}
		if now, ok := after.Sources[name]; !ok || now.NativeID != st.NativeID {
			return true
		}
	}
	return false
}
