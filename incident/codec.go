package incident

import (
	"encoding/binary"
	"maps"
	"slices"

	"github.com/itsmkit/itsmkit/internal/wire"
	"github.com/itsmkit/itsmkit/itsm"
)

// codecVersion is the first byte of Data's binary encoding.
const codecVersion = 1

// AppendBinary appends d's compact binary encoding to b (it implements
// encoding.BinaryAppender). The encoding is for storage and caches: every
// field survives a round trip through UnmarshalBinary exactly (nil and
// empty lists and maps stay apart) except that instants come back in UTC
// and without a monotonic clock reading, as they are stored by the
// service. Custom fields are written in key order, so equal records
// encode to equal bytes. A closed incident with two SLA timers takes
// about a kilobyte.
func (d *Data) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, codecVersion)
	b = wire.AppendUUID(b, d.ID.UUID())
	b = wire.AppendString(b, string(d.Tenant))
	b = wire.AppendString(b, string(d.Number))
	b = wire.AppendVarint(b, d.Version)

	b = wire.AppendString(b, d.Title)
	b = wire.AppendString(b, d.Description)
	b = wire.AppendString(b, d.Caller)
	b = wire.AppendString(b, string(d.Channel))
	b = wire.AppendString(b, d.Category)
	b = wire.AppendString(b, d.Subcategory)

	b = appendRef(b, d.Service)
	b = appendRefs(b, d.CIs)
	b = appendRefs(b, d.ImpactedServices)

	b = wire.AppendVarint(b, int64(d.Impact))
	b = wire.AppendVarint(b, int64(d.Urgency))
	b = wire.AppendVarint(b, int64(d.Priority))
	b = wire.AppendBool(b, d.Override != nil)
	if o := d.Override; o != nil {
		b = wire.AppendVarint(b, int64(o.Priority))
		b = wire.AppendVarint(b, int64(o.Derived))
		b = wire.AppendString(b, o.Reason)
		b = appendActor(b, o.By)
		b = wire.AppendTime(b, o.At)
	}

	b = wire.AppendString(b, d.Group)
	b = wire.AppendString(b, d.Assignee)
	b = wire.AppendVarint(b, int64(d.Reassignments))
	b = wire.AppendVarint(b, int64(d.Reopens))
	b = wire.AppendVarint(b, int64(d.Escalations))

	b = wire.AppendString(b, string(d.Status))
	b = wire.AppendString(b, string(d.HoldReason))
	b = wire.AppendString(b, string(d.Resolution.Code))
	b = wire.AppendString(b, d.Resolution.Notes)
	b = wire.AppendBool(b, d.Cancellation != nil)
	if c := d.Cancellation; c != nil {
		b = wire.AppendString(b, string(c.Reason))
		b = wire.AppendString(b, c.Notes)
		b = wire.AppendUUID(b, c.DuplicateOf.UUID())
	}

	b = wire.AppendTime(b, d.OpenedAt)
	b = wire.AppendTime(b, d.FirstResponseAt)
	b = wire.AppendTime(b, d.ResolvedAt)
	b = wire.AppendTime(b, d.ClosedAt)
	b = wire.AppendTime(b, d.UpdatedAt)

	b = wire.AppendUUID(b, d.Parent.UUID())
	b = appendRef(b, d.Problem)
	b = appendRef(b, d.Change)

	b = wire.AppendLen(b, len(d.Custom), d.Custom == nil)
	if len(d.Custom) == 1 {
		for k, v := range d.Custom {
			b = wire.AppendString(b, k)
			b = wire.AppendString(b, v)
		}
	} else if len(d.Custom) > 1 {
		for _, k := range slices.Sorted(maps.Keys(d.Custom)) {
			b = wire.AppendString(b, k)
			b = wire.AppendString(b, d.Custom[k])
		}
	}

	b = wire.AppendString(b, string(d.Major.Status))
	b = wire.AppendString(b, d.Major.Owner)
	b = wire.AppendString(b, d.Major.Reason)
	b = wire.AppendTime(b, d.Major.ReviewedAt)
	b = wire.AppendString(b, d.Major.ReviewNotes)

	b = wire.AppendLen(b, len(d.Comments), d.Comments == nil)
	for i := range d.Comments {
		c := &d.Comments[i]
		b = wire.AppendTime(b, c.At)
		b = appendActor(b, c.By)
		b = wire.AppendString(b, c.Text)
		var flags byte
		if c.WorkNote {
			flags |= 1
		}
		if c.FromCaller {
			flags |= 2
		}
		b = append(b, flags)
	}

	b = wire.AppendLen(b, len(d.History), d.History == nil)
	for i := range d.History {
		h := &d.History[i]
		b = wire.AppendVarint(b, int64(h.Seq))
		b = wire.AppendTime(b, h.At)
		b = appendActor(b, h.By)
		b = wire.AppendString(b, h.Command)
		b = wire.AppendString(b, string(h.From))
		b = wire.AppendString(b, string(h.To))
		b = wire.AppendString(b, h.Reason)
		b = wire.AppendLen(b, len(h.Changes), h.Changes == nil)
		for k := range h.Changes {
			c := &h.Changes[k]
			b = wire.AppendString(b, c.Field)
			b = wire.AppendString(b, c.From)
			b = wire.AppendString(b, c.To)
		}
	}

	return appendSLA(b, d)
}

// MarshalBinary returns d's binary encoding (see AppendBinary).
func (d *Data) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// UnmarshalBinary replaces d with the record data encodes (see
// AppendBinary). It keeps no reference to data. Corrupt or truncated input
// gets an error wrapping wire's ErrCorrupt that names the field, and
// leaves d unchanged.
func (d *Data) UnmarshalBinary(data []byte) error {
	return d.DecodeString(string(data))
}

// DecodeString is UnmarshalBinary reading from a string: d's strings are
// substrings of s, so a store that keeps records encoded as strings reads
// one back without copying its text.
func (d *Data) DecodeString(s string) error {
	var out Data
	r := wire.NewReader(s)
	r.Field("format")
	if v := r.Byte(); v != codecVersion && r.Err() == nil {
		r.Fail("unknown format version")
	}
	r.Field("id")
	out.ID = IDFromUUID(r.UUID())
	r.Field("tenant")
	out.Tenant = itsm.TenantID(r.String())
	r.Field("number")
	out.Number = Number(r.String())
	r.Field("version")
	out.Version = r.Varint()

	r.Field("title")
	out.Title = r.String()
	r.Field("description")
	out.Description = r.String()
	r.Field("caller")
	out.Caller = r.String()
	r.Field("channel")
	out.Channel = Channel(r.String())
	r.Field("category")
	out.Category = r.String()
	out.Subcategory = r.String()

	r.Field("service")
	out.Service = readRef(r)
	r.Field("cis")
	out.CIs = readRefs(r)
	r.Field("impacted_services")
	out.ImpactedServices = readRefs(r)

	r.Field("priority")
	out.Impact = itsm.Impact(r.Int())
	out.Urgency = itsm.Urgency(r.Int())
	out.Priority = itsm.Priority(r.Int())
	r.Field("override")
	if r.Bool() {
		o := &Override{}
		o.Priority = itsm.Priority(r.Int())
		o.Derived = itsm.Priority(r.Int())
		o.Reason = r.String()
		o.By = readActor(r)
		o.At = r.Time()
		out.Override = o
	}

	r.Field("assignment")
	out.Group = r.String()
	out.Assignee = r.String()
	out.Reassignments = r.Int()
	out.Reopens = r.Int()
	out.Escalations = r.Int()

	r.Field("status")
	out.Status = Status(r.String())
	out.HoldReason = HoldReason(r.String())
	r.Field("resolution")
	out.Resolution.Code = ResolutionCode(r.String())
	out.Resolution.Notes = r.String()
	r.Field("cancellation")
	if r.Bool() {
		c := &Cancellation{}
		c.Reason = CancelReason(r.String())
		c.Notes = r.String()
		c.DuplicateOf = IDFromUUID(r.UUID())
		out.Cancellation = c
	}

	r.Field("instants")
	out.OpenedAt = r.Time()
	out.FirstResponseAt = r.Time()
	out.ResolvedAt = r.Time()
	out.ClosedAt = r.Time()
	out.UpdatedAt = r.Time()

	r.Field("links")
	out.Parent = IDFromUUID(r.UUID())
	out.Problem = readRef(r)
	out.Change = readRef(r)

	r.Field("custom")
	if n, isNil := r.Len(2); !isNil {
		out.Custom = make(map[string]string, n)
		for range n {
			k := r.String()
			out.Custom[k] = r.String()
		}
		if len(out.Custom) != n && r.Err() == nil {
			r.Fail("a custom field appears twice")
		}
	}

	r.Field("major")
	out.Major.Status = MajorStatus(r.String())
	out.Major.Owner = r.String()
	out.Major.Reason = r.String()
	out.Major.ReviewedAt = r.Time()
	out.Major.ReviewNotes = r.String()

	r.Field("comments")
	if n, isNil := r.Len(5); !isNil {
		out.Comments = make([]Comment, n)
		for i := range out.Comments {
			c := &out.Comments[i]
			c.At = r.Time()
			c.By = readActor(r)
			c.Text = r.String()
			flags := r.Byte()
			if flags > 3 && r.Err() == nil {
				r.Fail("unknown comment flags")
			}
			c.WorkNote, c.FromCaller = flags&1 != 0, flags&2 != 0
		}
	}

	r.Field("history")
	if n, isNil := r.Len(10); !isNil {
		// One spare entry: the command that loaded the record appends one.
		out.History = make([]Entry, n, n+1)
		var changes []FieldChange
		for i := range out.History {
			h := &out.History[i]
			h.Seq = r.Int()
			h.At = r.Time()
			h.By = readActor(r)
			h.Command = r.String()
			h.From = Status(r.String())
			h.To = Status(r.String())
			h.Reason = r.String()
			m, isNil := r.Len(3)
			if isNil {
				continue
			}
			if changes == nil {
				// Every entry's changes share one array, as Clone does; its
				// size is a guess bounded by the input left, grown when short.
				changes = make([]FieldChange, 0, min(m+2*(n-i-1), r.Remaining()/3))
			}
			start := len(changes)
			for range m {
				changes = append(changes, FieldChange{Field: r.String(), From: r.String(), To: r.String()})
			}
			h.Changes = changes[start:len(changes):len(changes)]
		}
	}

	r.Field("sla")
	readSLA(r, &out)
	if err := r.Done(); err != nil {
		return err
	}
	*d = out
	return nil
}

func appendRef(b []byte, ref itsm.Ref) []byte {
	b = wire.AppendString(b, string(ref.Kind))
	return wire.AppendUUID(b, ref.ID)
}

func readRef(r *wire.Reader) itsm.Ref {
	return itsm.Ref{Kind: itsm.Kind(r.String()), ID: r.UUID()}
}

func appendRefs(b []byte, refs []itsm.Ref) []byte {
	b = wire.AppendLen(b, len(refs), refs == nil)
	for _, ref := range refs {
		b = appendRef(b, ref)
	}
	return b
}

func readRefs(r *wire.Reader) []itsm.Ref {
	n, isNil := r.Len(17)
	if isNil {
		return nil
	}
	refs := make([]itsm.Ref, n)
	for i := range refs {
		refs[i] = readRef(r)
	}
	return refs
}

func appendActor(b []byte, a itsm.ActorRef) []byte {
	b = wire.AppendString(b, a.ID)
	b = wire.AppendString(b, a.Name)
	return wire.AppendString(b, string(a.Kind))
}

func readActor(r *wire.Reader) itsm.ActorRef {
	return itsm.ActorRef{ID: r.String(), Name: r.String(), Kind: itsm.ActorKind(r.String())}
}

// appendSLA writes the SLA state with sla's own binary encoding, length
// first.
func appendSLA(b []byte, d *Data) ([]byte, error) {
	// Reserve room for the length and move the state along when its
	// encoding needs another: one byte holds up to 127, what a state of
	// one timer at most usually takes; two hold up to 16383, room for
	// dozens.
	guess := 1
	if len(d.SLA.Timers) > 1 {
		guess = 2
	}
	at := len(b)
	b = append(b, 0, 0)[:at+guess]
	b, err := d.SLA.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	n := len(b) - at - guess
	var head [binary.MaxVarintLen64]byte
	h := binary.PutUvarint(head[:], uint64(n))
	switch {
	case h > guess:
		b = append(b, head[:h-guess]...)
		copy(b[at+h:], b[at+guess:at+guess+n])
	case h < guess:
		copy(b[at+h:], b[at+guess:])
		b = b[:at+h+n]
	}
	copy(b[at:], head[:h])
	return b, nil
}

func readSLA(r *wire.Reader, d *Data) {
	s := r.String()
	if r.Err() != nil {
		return
	}
	if err := d.SLA.DecodeString(s); err != nil {
		r.Fail(err.Error())
	}
}
