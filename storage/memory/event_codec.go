package memory

import (
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/internal/wire"
	"github.com/itsmkit/itsmkit/itsm"
)

// The outbox keeps each event as a compact encoding in its byte chunks
// rather than as an itsm.Event: a backlog of undelivered events (a relay
// that is down, a host without one) is then a few pointer-free bytes per
// event that the garbage collector never scans, instead of a dozen
// pointers each. Claim copies what it hands out to a string and decodes
// it.
//
// An encoding is the event's envelope followed by its payload, whose
// length is what the envelope leaves of the encoding. The ID is not in it:
// the outbox's entry holds it. The envelope's strings (type, tenant,
// subject kind, the actor's ID, name, kind, groups and roles) repeat from
// one event to the next, so each is a reference to the outbox's table of
// names (see names) rather than its text: the envelope of a usual event
// takes some 32 bytes instead of some 80.
//
//	envelope: type tenant kind subject(16) version(varint) at(wire time)
//	          actor.id actor.name actor.kind groups roles payload-flag
//	groups, roles: wire length (0 for nil, n+1), then n names
//	name: uvarint k: 0 the empty string, 1 a wire string follows, k ≥ 2
//	      entry k-2 of the table
//	payload-flag: 0 nil (nothing follows), 1 the rest is the payload

// Limits of the table of names: a name longer than maxName, or met once
// the table holds maxNames names or maxNameBytes bytes of them, is written
// out in full. The limits bound the table whatever the events; the outbox
// starts it afresh when it empties, and rebuilds it from the events left
// when compaction finds it full (see outbox.compact).
const (
	maxName      = 128
	maxNames     = 1 << 12
	maxNameBytes = 1 << 16
)

// names is an outbox's table of the strings its envelopes refer to. Its
// strings are its own (cloned), so the table keeps no caller's memory
// alive, and a decoded event's strings share them: they are immutable.
// Only the store's exclusive holder uses it.
type names struct {
	list []string
	// idx maps each name to its reference (its position in list plus 2).
	idx   map[string]uint64
	bytes int
	// types and memo remember where names met lately are, sparing a map
	// lookup for nearly every name of an event: the same few types,
	// tenants and actors keep coming. An event type is looked up in
	// types, by a cheap hash of a few of its bytes, in the place the hash
	// names and its neighbour (see appendType); any other name in the
	// memo of its field, which holds the last two met there (the zero
	// place holding the empty string, whose reference is 0).
	types [64]recentName
	memo  [fields]memo
}

// memo is the memo of one field: the last two names met there.
type memo struct {
	r [2]recentName
	// turn is the place to fill next.
	turn uint8
}

// The fields of an envelope that hold names, other than its type: each has
// a memo of its own.
const (
	fieldTenant = iota
	fieldKind
	fieldActorID
	fieldActorName
	fieldActorKind
	fieldActorLists // groups and roles
	fields
)

// recentName is a name the table holds and its reference, which is below
// 0x80 (one byte): the memos and caches hold no other.
type recentName struct {
	s   string
	ref byte
}

// full reports whether the table takes no more names.
func (t *names) full() bool {
	return len(t.list) >= maxNames || t.bytes >= maxNameBytes
}

// typeSlot returns where in t.types the event type s (not empty) would be.
// Types differ mostly in their length and their last word.
func typeSlot(s string) int {
	n := len(s)
	h := uint32(n) | uint32(s[n-1])<<8 | uint32(s[n-2])<<16 | uint32(s[n*3/4])<<24
	h *= 0x9e3779b1
	return int(h >> (32 - 6))
}

// appendType appends a reference to the event type s. A type is looked
// for in the place its hash names, then in the neighbouring one (the
// other of the pair), so that two types of the same hash, as some types of
// one lifecycle have, both stay: with one place each took the other's,
// and every event of theirs cost a map lookup.
func (t *names) appendType(b []byte, s string) []byte {
	if len(s) < 2 {
		return t.appendName(b, s, nil)
	}
	i := typeSlot(s)
	if r := &t.types[i]; r.s == s {
		return append(b, r.ref)
	}
	if r := &t.types[i^1]; r.s == s {
		return append(b, r.ref)
	}
	return t.appendName(b, s, t.typePlace(i))
}

// typePlace returns where to remember a type of hash i that is in neither
// place of its pair: its own place, unless that is taken and the other is
// free.
func (t *names) typePlace(i int) *recentName {
	if t.types[i].s != "" && t.types[i^1].s == "" {
		return &t.types[i^1]
	}
	return &t.types[i]
}

// appendField appends a reference to s, a name of field f. It is small
// enough to be inlined, for the usual case: s is the first name of the
// memo.
func (t *names) appendField(b []byte, s string, m *memo) []byte {
	if m.r[0].s == s {
		return append(b, m.r[0].ref)
	}
	return t.appendMemo(b, s, m)
}

// appendMemo is appendField past the memo's first name, which appendField
// compared already: the second, or a name not in the memo, which it
// enters in place of the older one there.
func (t *names) appendMemo(b []byte, s string, m *memo) []byte {
	if m.r[1].s == s {
		return append(b, m.r[1].ref)
	}
	if s == "" {
		return append(b, 0)
	}
	k := m.turn
	m.turn = k ^ 1
	return t.appendName(b, s, &m.r[k])
}

// appendName appends a reference to s, adding s to the table when it is
// new and the table takes it; r, when not nil, is where to remember it.
func (t *names) appendName(b []byte, s string, r *recentName) []byte {
	if s == "" {
		return append(b, 0)
	}
	ref, ok := t.idx[s]
	if !ok {
		if len(s) > maxName || t.full() {
			if r != nil {
				*r = recentName{}
			}
			b = append(b, 1)
			return wire.AppendString(b, s)
		}
		s = strings.Clone(s) // kept: share nothing with the caller
		if t.idx == nil {
			t.idx = make(map[string]uint64)
		}
		ref = uint64(len(t.list)) + 2
		t.list = append(t.list, s)
		t.idx[s] = ref
		t.bytes += len(s)
	} else {
		s = t.list[ref-2]
	}
	if r != nil && ref < 0x80 {
		*r = recentName{s: s, ref: byte(ref)}
	}
	return appendRef(b, ref)
}

// appendRef appends a reference, most often one byte.
func appendRef(b []byte, ref uint64) []byte {
	if ref < 0x80 {
		return append(b, byte(ref))
	}
	return wire.AppendUvarint(b, ref)
}

func (t *names) appendNames(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = wire.AppendLen(b, len(ss), false)
	for _, s := range ss {
		b = t.appendField(b, s, &t.memo[fieldActorLists])
	}
	return b
}

// appendEnvelope appends e's envelope to b, adding its new names to t.
// The payload goes after it.
func (t *names) appendEnvelope(b []byte, e *itsm.Event) []byte {
	b = t.appendType(b, string(e.Type))
	b = t.appendField(b, string(e.Tenant), &t.memo[fieldTenant])
	b = t.appendField(b, string(e.Subject.Kind), &t.memo[fieldKind])
	b = wire.AppendUUID(b, e.Subject.ID)
	b = wire.AppendVarint(b, e.Version)
	b = wire.AppendTime(b, e.At)
	b = t.appendField(b, e.Actor.ID, &t.memo[fieldActorID])
	b = t.appendField(b, e.Actor.Name, &t.memo[fieldActorName])
	b = t.appendField(b, string(e.Actor.Kind), &t.memo[fieldActorKind])
	if e.Actor.Groups == nil && e.Actor.Roles == nil {
		// The usual actor, without groups or roles: what appendNames
		// writes for each, without the calls.
		b = append(b, 0, 0)
	} else {
		b = t.appendNames(b, e.Actor.Groups)
		b = t.appendNames(b, e.Actor.Roles)
	}
	if e.Payload == nil {
		return append(b, 0)
	}
	return append(b, 1)
}

// envelopeBound is at least the length of e's envelope, however its names
// are written.
func envelopeBound(e *itsm.Event) int {
	n := 80 + len(e.Type) + len(e.Tenant) + len(e.Subject.Kind) + len(e.Actor.ID) + len(e.Actor.Name) + len(e.Actor.Kind)
	for _, s := range e.Actor.Groups {
		n += 11 + len(s)
	}
	for _, s := range e.Actor.Roles {
		n += 11 + len(s)
	}
	return n
}

// appendEvent appends e's encoding, envelope and payload, to b.
func (t *names) appendEvent(b []byte, e *itsm.Event) []byte {
	return append(t.appendEnvelope(b, e), e.Payload...)
}

// readName reads a reference appendName wrote.
func (t *names) readName(r *wire.Reader) string {
	switch k := r.Uvarint(); {
	case k == 0:
		return ""
	case k == 1:
		return r.String()
	case k-2 < uint64(len(t.list)):
		return t.list[k-2]
	default:
		r.Fail("name reference beyond the table")
		return ""
	}
}

func (t *names) readNames(r *wire.Reader) []string {
	n, isNil := r.Len(1)
	if isNil {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = t.readName(r)
	}
	return out
}

// decodeEvent reads the event with the given ID whose encoding
// appendEvent wrote, its names referring to t. Its strings share s or the
// table; its lists and payload are its own.
func (t *names) decodeEvent(id [16]byte, s string) (itsm.Event, error) {
	d := eventReader{t: t}
	var e itsm.Event
	payload, ok, err := d.read(&e, id, s)
	if err != nil {
		return itsm.Event{}, err
	}
	if ok {
		e.Payload = []byte(payload)
	}
	return e, nil
}

// eventReader reads encodings one after another, as Claim does a batch's,
// remembering the parts of the envelope after the type that it last read
// (the tenant, subject and version; the instant; the last two actors
// without groups or roles), with the bytes they were read from. The events
// of one commit share most of these, so a part whose bytes are those
// remembered is taken as it was read then rather than read again: equal
// bytes read as equal values, and they end where they ended then, as each
// part is a run of codes none of which is the start of another.
type eventReader struct {
	t       *names
	r       wire.Reader
	subject struct {
		raw     string
		tenant  itsm.TenantID
		ref     itsm.Ref
		version int64
	}
	at struct {
		raw string
		t   time.Time
	}
	actors [2]struct {
		raw string
		a   itsm.Actor
	}
	turn uint8
}

// skip reports whether the bytes left to read start with raw (not empty),
// reading them if so.
func (d *eventReader) skip(s, raw string) bool {
	off := len(s) - d.r.Remaining()
	if !strings.HasPrefix(s[off:], raw) {
		return false
	}
	d.r.Raw(len(raw))
	return true
}

// read reads into e the event with the given ID whose encoding appendEvent
// wrote, and returns its payload, a substring of s, and whether it has one
// (nil is no payload). Its strings share s or the table; its lists are its
// own.
func (d *eventReader) read(e *itsm.Event, id [16]byte, s string) (string, bool, error) {
	t, r := d.t, &d.r
	r.Reset(s)
	r.Field("event")
	e.ID = id
	e.Type = itsm.EventType(t.readName(r))
	if m := &d.subject; m.raw != "" && d.skip(s, m.raw) {
		e.Tenant, e.Subject, e.Version = m.tenant, m.ref, m.version
	} else {
		start := len(s) - r.Remaining()
		e.Tenant = itsm.TenantID(t.readName(r))
		e.Subject = itsm.Ref{Kind: itsm.Kind(t.readName(r)), ID: r.UUID()}
		e.Version = r.Varint()
		if r.Err() == nil {
			m.raw, m.tenant, m.ref, m.version = s[start:len(s)-r.Remaining()], e.Tenant, e.Subject, e.Version
		}
	}
	if m := &d.at; m.raw != "" && d.skip(s, m.raw) {
		e.At = m.t
	} else {
		start := len(s) - r.Remaining()
		e.At = r.Time()
		if r.Err() == nil {
			m.raw, m.t = s[start:len(s)-r.Remaining()], e.At
		}
	}
	switch {
	case d.actors[0].raw != "" && d.skip(s, d.actors[0].raw):
		e.Actor = d.actors[0].a
	case d.actors[1].raw != "" && d.skip(s, d.actors[1].raw):
		e.Actor = d.actors[1].a
	default:
		start := len(s) - r.Remaining()
		e.Actor.ID = t.readName(r)
		e.Actor.Name = t.readName(r)
		e.Actor.Kind = itsm.ActorKind(t.readName(r))
		e.Actor.Groups = t.readNames(r)
		e.Actor.Roles = t.readNames(r)
		// Lists are each event's own: an actor with any is not
		// remembered.
		if r.Err() == nil && e.Actor.Groups == nil && e.Actor.Roles == nil {
			m := &d.actors[d.turn]
			d.turn ^= 1
			m.raw, m.a = s[start:len(s)-r.Remaining()], e.Actor
		}
	}
	var payload string
	ok := false
	switch r.Byte() {
	case 0:
	case 1:
		payload, ok = r.Raw(r.Remaining()), true
	default:
		r.Fail("payload flag neither 0 nor 1")
	}
	if err := r.Done(); err != nil {
		return "", false, err
	}
	return payload, ok, nil
}
