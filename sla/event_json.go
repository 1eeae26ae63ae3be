package sla

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/internal/jsonw"
)

// AppendJSON appends ev's JSON encoding to b and returns the extended
// buffer. It writes exactly the bytes encoding/json writes for an Event by
// reflection (the struct tags, omitempty and omitzero included, strings
// escaped as json.Marshal escapes them, HTML characters too), without
// reflection and allocating nothing but for a threshold's decimal text.
// A zero Threshold is left out (omitzero); any other honours
// decimal.MarshalJSONWithoutQuotes and the other formatting switches of
// the decimal package as Decimal.MarshalJSON does.
//
// The error, wrapping time.Time's, is returned for an instant json.Marshal
// cannot encode either (a year outside 0 to 9999); b is then returned as
// given.
func (ev Event) AppendJSON(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, `{"key":`...)
	id := [36]byte{8: '-', 13: '-', 18: '-', 23: '-'}
	putUUID(&id, ev.Record.ID)
	// The engine's keys hold the record's kind, its ID, the agreement and
	// the metric; when they need no escape, all five are written as they
	// are, after one scan of the key.
	plain := ev.plainKey(&id)
	if plain {
		b = append(b, '"')
		b = append(b, ev.Key...)
		b = append(b, '"')
	} else {
		b = jsonw.AppendString(b, ev.Key)
	}
	if k := kindJSON(ev.Kind); k != "" {
		b = append(b, k...)
	} else {
		b = append(b, `,"kind":`...)
		b = jsonw.AppendString(b, string(ev.Kind))
		b = append(b, `,"at":`...)
	}
	b, err := jsonw.AppendMarshalTime(b, ev.At)
	if err != nil {
		return b[:start], fmt.Errorf("sla: encoding event %q: at: %w", ev.Key, err)
	}
	b = append(b, `,"record":{"kind":`...)
	if plain {
		b = append(b, '"')
		b = append(b, ev.Record.Kind...)
		b = append(b, `","id":"`...)
		b = append(b, id[:]...)
		b = append(b, `"},"agreement":"`...)
		b = append(b, ev.Agreement...)
		b = append(b, `","metric":"`...)
		b = append(b, ev.Metric...)
		b = append(b, `","cycle":`...)
	} else {
		b = jsonw.AppendString(b, string(ev.Record.Kind))
		b = append(b, `,"id":"`...)
		b = appendUUID(b, ev.Record.ID)
		b = append(b, `"},"agreement":`...)
		b = jsonw.AppendString(b, ev.Agreement)
		b = append(b, `,"metric":`...)
		b = jsonw.AppendString(b, ev.Metric)
		b = append(b, `,"cycle":`...)
	}
	b = jsonw.AppendInt(b, ev.Cycle)
	b = append(b, `,"goal":`...)
	b = jsonw.AppendString(b, ev.Goal)
	if !ev.Threshold.IsZero() { // omitzero: Decimal.IsZero, as encoding/json asks
		b = append(b, `,"threshold":`...)
		b = appendJSONDecimal(b, ev.Threshold)
	}
	if ev.Breached {
		b = append(b, `,"breached":true`...)
	}
	if !ev.BreachedAt.IsZero() {
		b = append(b, `,"breached_at":`...)
		if b, err = jsonw.AppendMarshalTime(b, ev.BreachedAt); err != nil {
			return b[:start], fmt.Errorf("sla: encoding event %q: breached_at: %w", ev.Key, err)
		}
	}
	return append(b, '}'), nil
}

// plainKey reports whether ev.Key is the stem the engine gives its keys,
// made of ev's own parts (the record's kind, ':', id, the record's ID in
// canonical text, '/', the agreement, '/', the metric, '/') and whatever
// follows, with no byte needing an escape (jsonw.Plain). JSON then
// writes the key and those parts as they are, without escapes. The ID's
// hex digits and dashes are plain, and so is the kind of a record itsmkit
// defines (ownKind); the rest is scanned. The engine's events take the
// kind, agreement and metric from their key (addEvent), so the
// comparisons here find them at the very addresses they compare.
func (ev *Event) plainKey(id *[36]byte) bool {
	k, n := ev.Key, len(ev.Record.Kind)
	if len(k) < n+38 || k[:n] != string(ev.Record.Kind) || k[n] != ':' || k[n+1:n+37] != string(id[:]) {
		return false
	}
	rest := k[n+37:] // from the '/' after the ID
	// The kinds of itsmkit's own records are lower-case words, plain
	// without a scan.
	if !ownKind(ev.Record.Kind) && !jsonw.Plain(k[:n]) || !jsonw.Plain(rest) {
		return false
	}
	k, n = rest[1:], len(ev.Agreement)
	if len(k) <= n || k[:n] != ev.Agreement || k[n] != '/' {
		return false
	}
	k, n = k[n+1:], len(ev.Metric)
	return len(k) > n && k[:n] == ev.Metric && k[n] == '/'
}

// kindJSON returns the JSON of an event's kind as AppendJSON writes it
// between the key and the instant, for the kinds the engine emits, whose
// names need no escape; "" for any other.
func kindJSON(k EventKind) string {
	switch k {
	case EventAttached:
		return `,"kind":"attached","at":`
	case EventPaused:
		return `,"kind":"paused","at":`
	case EventResumed:
		return `,"kind":"resumed","at":`
	case EventCompleted:
		return `,"kind":"completed","at":`
	case EventCanceled:
		return `,"kind":"canceled","at":`
	case EventRetargeted:
		return `,"kind":"retargeted","at":`
	case EventThreshold:
		return `,"kind":"threshold","at":`
	case EventBreached:
		return `,"kind":"breached","at":`
	}
	return ""
}

// MarshalJSON returns ev.AppendJSON(nil): the encoding json.Marshal gave
// an Event by reflection, byte for byte. (An Encoder told not to escape
// HTML no longer affects it: '<', '>' and '&' in its strings stay escaped
// as \u003c, \u003e and \u0026, which decode the same.)
func (ev Event) MarshalJSON() ([]byte, error) {
	// The fixed parts, the longest instants and cycle, and the strings
	// unescaped: enough but for escapes and long thresholds.
	n := 280 + len(ev.Key) + len(ev.Kind) + len(ev.Record.Kind) + len(ev.Agreement) + len(ev.Metric) + len(ev.Goal)
	return ev.AppendJSON(make([]byte, 0, n))
}

// appendJSONDecimal appends d as decimal.Decimal.MarshalJSON does.
func appendJSONDecimal(b []byte, d decimal.Decimal) []byte {
	s := d.String()
	if decimal.MarshalJSONWithoutQuotes {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendUUID appends id in its canonical text form, as uuid.UUID.MarshalText
// writes it, through putUUID on the appended template.
func appendUUID(b []byte, id [16]byte) []byte {
	b = append(b, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"...)
	putUUID((*[36]byte)(b[len(b)-36:]), id)
	return b
}

// putUUID writes the hex digits of id's canonical text form over s, which
// holds the dashes already (the template callers append).
func putUUID(s *[36]byte, id [16]byte) {
	putHex(s, 0, id[0])
	putHex(s, 2, id[1])
	putHex(s, 4, id[2])
	putHex(s, 6, id[3])
	putHex(s, 9, id[4])
	putHex(s, 11, id[5])
	putHex(s, 14, id[6])
	putHex(s, 16, id[7])
	putHex(s, 19, id[8])
	putHex(s, 21, id[9])
	putHex(s, 24, id[10])
	putHex(s, 26, id[11])
	putHex(s, 28, id[12])
	putHex(s, 30, id[13])
	putHex(s, 32, id[14])
	putHex(s, 34, id[15])
}

// hexPairs holds the two lowercase hex digits of each byte.
var hexPairs = func() (t [256][2]byte) {
	const hexDigits = "0123456789abcdef"
	for x := range t {
		t[x] = [2]byte{hexDigits[x>>4], hexDigits[x&0x0f]}
	}
	return t
}()

// putHex writes x as two lowercase hex digits at s[at:at+2].
func putHex(s *[36]byte, at int, x byte) {
	*(*[2]byte)(s[at : at+2]) = hexPairs[x]
}
