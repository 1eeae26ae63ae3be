package memory

import (
	"github.com/itsmkit/itsmkit/internal/wire"
	"github.com/itsmkit/itsmkit/itsm"
)

// The outbox keeps each event as a compact encoding in its byte chunks
// rather than as an itsm.Event: a backlog of undelivered events (a relay
// that is down, a host without one) is then a few pointer-free bytes per
// event that the garbage collector never scans, instead of a dozen
// pointers each. Claim copies what it hands out to a string and decodes
// it.

// appendEvent appends e's encoding to b.
func appendEvent(b []byte, e *itsm.Event) []byte {
	b = wire.AppendUUID(b, e.ID)
	b = wire.AppendString(b, string(e.Type))
	b = wire.AppendString(b, string(e.Tenant))
	b = wire.AppendString(b, string(e.Subject.Kind))
	b = wire.AppendUUID(b, e.Subject.ID)
	b = wire.AppendVarint(b, e.Version)
	b = wire.AppendTime(b, e.At)
	b = wire.AppendString(b, e.Actor.ID)
	b = wire.AppendString(b, e.Actor.Name)
	b = wire.AppendString(b, string(e.Actor.Kind))
	b = appendStrings(b, e.Actor.Groups)
	b = appendStrings(b, e.Actor.Roles)
	b = wire.AppendLen(b, len(e.Payload), e.Payload == nil)
	return append(b, e.Payload...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = wire.AppendLen(b, len(ss), ss == nil)
	for _, s := range ss {
		b = wire.AppendString(b, s)
	}
	return b
}

// decodeEvent reads an event appendEvent wrote. Its strings share s; its
// lists and payload are its own.
func decodeEvent(s string) (itsm.Event, error) {
	r := wire.NewReader(s)
	var e itsm.Event
	r.Field("event")
	e.ID = r.UUID()
	e.Type = itsm.EventType(r.String())
	e.Tenant = itsm.TenantID(r.String())
	e.Subject = itsm.Ref{Kind: itsm.Kind(r.String()), ID: r.UUID()}
	e.Version = r.Varint()
	e.At = r.Time()
	e.Actor.ID = r.String()
	e.Actor.Name = r.String()
	e.Actor.Kind = itsm.ActorKind(r.String())
	e.Actor.Groups = readStrings(r)
	e.Actor.Roles = readStrings(r)
	if n, isNil := r.Len(1); !isNil {
		e.Payload = []byte(r.Raw(n))
	}
	if err := r.Done(); err != nil {
		return itsm.Event{}, err
	}
	return e, nil
}

func readStrings(r *wire.Reader) []string {
	n, isNil := r.Len(1)
	if isNil {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.String()
	}
	return out
}
