package sla

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/itsmkit/itsmkit/internal/wire"
	"github.com/itsmkit/itsmkit/itsm"
)

// stateBinaryVersion is the first byte of State's binary encoding.
// Version 2 added a timer's decision (Timer.Decided and the fields that
// go with it), in the byte that held Breached alone, and a change's
// PriorBreachedAt. The decoder still reads version 1, as a state with
// none of them, since hosts may have stored it.
const (
	stateBinaryVersion   = 2
	stateBinaryVersionV1 = 1
)

// The bits of a timer's flags byte. Version 1 wrote Breached alone there,
// which is flagBreached.
const (
	flagBreached        = 1 << iota
	flagDecided         // Decided
	flagDecidedBreached // DecidedBreached
	// flagSamePriority: DecidedPriority equals Priority, and is not
	// written (a decision's priority mostly is the priority the timer
	// shows, since only a reopen changes that afterwards).
	flagSamePriority
	// flagOwnPriority: a varint of DecidedPriority follows. Neither
	// priority flag means DecidedPriority is zero.
	flagOwnPriority
	flagsAll = flagOwnPriority<<1 - 1
)

// AppendBinary appends a compact binary encoding of s to b, for storage
// (encoding.BinaryAppender). UnmarshalBinary reads it back; JSON remains
// the interchange form.
//
// The encoding starts with a format version byte. Integers are varints,
// durations too, counted in seconds, microseconds or nanoseconds, whichever
// is exact; each instant is stored in UTC as whole seconds, as a signed
// varint relative to the previous non-zero instant written (the Unix epoch
// for the first), plus its nanoseconds (a compact form for whole
// microseconds), with the zero time.Time written distinctly, so that it
// reads back as the zero value. Locations are not kept: an instant in
// another location, or carrying a monotonic reading, reads back as the
// same instant in UTC (what itsm.Normalize gives, when it is whole
// microseconds). Strings are length-prefixed. A timer's record equal to
// the state's costs a byte. Nil and empty lists and maps stay apart, and
// the Previous map is written sorted by key, so equal states encode to
// equal bytes. The format favours speed over the last bytes: a state is
// written and read on every command of a record kept this way.
//
// It never fails; the error is for the interface.
func (s State) AppendBinary(b []byte) ([]byte, error) {
	var enc stateEncoder
	b = append(b, stateBinaryVersion)
	b = wire.AppendString(b, string(s.Record.Kind))
	b = append(b, s.Record.ID[:]...)
	b = enc.time(b, s.AsOf)
	b = wire.AppendBool(b, s.Observed)
	b = appendPrevious(b, s.Previous)
	b = wire.AppendLen(b, len(s.Timers), s.Timers == nil)
	for i := range s.Timers {
		b = enc.timer(b, &s.Timers[i], s.Record)
	}
	return b, nil
}

// MarshalBinary returns s.AppendBinary into a buffer of a size that
// usually fits (encoding.BinaryMarshaler).
func (s State) MarshalBinary() ([]byte, error) {
	n := 64 + 32*len(s.Previous)
	for i := range s.Timers {
		t := &s.Timers[i]
		n += 128 + 20*len(t.Marks) + 16*len(t.Segments) + 40*len(t.Changes)
	}
	return s.AppendBinary(make([]byte, 0, n))
}

// UnmarshalBinary replaces *s with the state data encodes, as written by
// AppendBinary or MarshalBinary (encoding.BinaryUnmarshaler). It copies
// what it keeps: data may be reused afterwards. All the strings of the
// state share one copy of data, allocated once, and each list is allocated
// at its exact length.
//
// Any input is safe: truncated or corrupt data returns an error naming the
// field where decoding stopped (errors.Is(err, io.ErrUnexpectedEOF) when
// the input ends early) and leaves *s unchanged; a length read from the
// input is checked against what remains of it before anything is
// allocated.
func (s *State) UnmarshalBinary(data []byte) error {
	return s.DecodeString(string(data))
}

// DecodeString is UnmarshalBinary reading from a string: the state's
// strings are substrings of str, so a store that keeps encoded records as
// strings reads one back without copying its text.
func (s *State) DecodeString(str string) error {
	dec := stateDecoder{data: str}
	var out State
	if err := dec.state(&out); err != nil {
		return fmt.Errorf("sla: decoding state: %w", err)
	}
	*s = out
	return nil
}

// stateEncoder writes State's binary encoding: the bytes go through the
// slice its methods take and return, kept in registers between fields,
// and the encoder holds only what instants are written relative to.
type stateEncoder struct {
	prevSec int64 // seconds of the previous instant written
}

// time writes t as a tag (0: the zero time; else 1 plus 2×µs+1 for whole
// microseconds, or plus 2×ns), then its Unix seconds minus the previous
// non-zero instant's.
func (e *stateEncoder) time(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	sec, ns := t.Unix(), uint64(t.Nanosecond())
	tag := 1 + ns<<1
	if micro := ns / 1000; micro*1000 == ns {
		tag = 2 + micro<<1
	}
	d := sec - e.prevSec
	e.prevSec = sec
	zz := uint64(d<<1 ^ d>>63)
	if tag < 1<<7 && zz < 1<<7 {
		// A whole second a minute or so from the previous instant, as
		// most of a timer's are: both in one append.
		return append(b, byte(tag), byte(zz))
	}
	b = wire.AppendUvarint(b, tag)
	return wire.AppendUvarint(b, zz)
}

// appendDuration writes d as a uvarint whose two low bits give its unit:
// 2 for whole seconds, 1 for whole microseconds, 0 for nanoseconds, each
// count zigzag-encoded above them; 3 means a plain varint of nanoseconds
// follows (a count too large to shift).
func appendDuration(b []byte, d time.Duration) []byte {
	if d == 0 { // a timer never paused: zero seconds
		return append(b, 2)
	}
	unit, n := uint64(0), int64(d)
	switch {
	case d%time.Second == 0:
		unit, n = 2, int64(d/time.Second)
	case d%time.Microsecond == 0:
		unit, n = 1, int64(d/time.Microsecond)
	}
	zz := uint64(n<<1) ^ uint64(n>>63)
	if zz >= 1<<62 {
		b = append(b, 3)
		return wire.AppendVarint(b, int64(d))
	}
	return wire.AppendUvarint(b, zz<<2|unit)
}

func appendPrevious(b []byte, m map[string]string) []byte {
	b = wire.AppendLen(b, len(m), m == nil)
	if len(m) == 0 {
		return b
	}
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = wire.AppendString(b, k)
		b = wire.AppendString(b, m[k])
	}
	return b
}

func (e *stateEncoder) timer(b []byte, t *Timer, record itsm.Ref) []byte {
	b = wire.AppendString(b, string(t.Record.Kind))
	if t.Record.ID == record.ID {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = append(b, t.Record.ID[:]...)
	}
	b = wire.AppendString(b, t.Agreement)
	b = wire.AppendVarint(b, int64(t.Version))
	b = append(b, byte(t.Kind))
	b = wire.AppendString(b, t.Metric)
	b = wire.AppendVarint(b, int64(t.Cycle))
	b = wire.AppendVarint(b, int64(t.Priority))
	b = wire.AppendString(b, t.Goal)
	b = appendDuration(b, t.Within)
	b = wire.AppendString(b, t.Calendar)
	b = append(b, byte(t.Stage))
	b = appendFlags(b, t)
	b = e.time(b, t.BreachedAt)
	b = wire.AppendString(b, t.EndReason)
	b = e.time(b, t.StartedAt)
	b = e.time(b, t.AttachedAt)
	b = e.time(b, t.EndedAt)
	b = e.time(b, t.AsOf)
	b = e.time(b, t.Since)
	b = appendDuration(b, t.BusinessElapsed)
	b = appendDuration(b, t.ActualElapsed)
	b = appendDuration(b, t.BusinessPaused)
	b = appendDuration(b, t.ActualPaused)
	b = e.time(b, t.DueAt)
	b = e.time(b, t.NextAt)
	b = wire.AppendLen(b, len(t.Marks), t.Marks == nil)
	for i := range t.Marks {
		m := &t.Marks[i]
		b = wire.AppendString(b, m.Threshold)
		b = e.time(b, m.At)
		b = wire.AppendBool(b, m.Skipped)
	}
	b = wire.AppendLen(b, len(t.Segments), t.Segments == nil)
	for i := range t.Segments {
		sg := &t.Segments[i]
		b = wire.AppendString(b, string(sg.Kind))
		b = e.time(b, sg.From)
		b = e.time(b, sg.To)
	}
	b = wire.AppendLen(b, len(t.Changes), t.Changes == nil)
	for i := range t.Changes {
		c := &t.Changes[i]
		b = e.time(b, c.At)
		b = wire.AppendString(b, c.From)
		b = wire.AppendString(b, c.To)
		b = wire.AppendString(b, c.FromCalendar)
		b = wire.AppendString(b, c.ToCalendar)
		b = wire.AppendVarint(b, int64(c.FromVersion))
		b = wire.AppendVarint(b, int64(c.ToVersion))
		b = wire.AppendString(b, string(c.How))
		b = wire.AppendBool(b, c.Migrated)
		b = e.time(b, c.BreachedAt)
		b = e.time(b, c.PriorBreachedAt)
	}
	return wire.AppendVarint(b, int64(t.Seq))
}

// appendFlags writes t's flags byte (Breached and the decision), then
// DecidedPriority when the flags do not give it.
func appendFlags(b []byte, t *Timer) []byte {
	var f byte
	if t.Breached {
		f |= flagBreached
	}
	if t.Decided {
		f |= flagDecided
	}
	if t.DecidedBreached {
		f |= flagDecidedBreached
	}
	switch t.DecidedPriority {
	case t.Priority:
		return append(b, f|flagSamePriority)
	case 0:
		return append(b, f)
	}
	b = append(b, f|flagOwnPriority)
	return wire.AppendVarint(b, int64(t.DecidedPriority))
}

// errCorrupt is the cause of a decoding error that is not a truncation.
var errCorrupt = errors.New("corrupt")

// stateDecoder reads State's binary encoding. The first failure sticks:
// every later read returns zero values, and err names the field.
type stateDecoder struct {
	data    string
	off     int
	prevSec int64
	err     error
	v1      bool // the input is of format version 1
}

// fail records the first failure, at field, and moves to the end of the
// input, so that the inline path of uvarint reads no more.
func (d *stateDecoder) fail(field string, cause error) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", field, cause)
		d.off = len(d.data)
	}
}

func (d *stateDecoder) failf(field, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w: %s", field, errCorrupt, fmt.Sprintf(format, args...))
		d.off = len(d.data)
	}
}

func (d *stateDecoder) rest() int { return len(d.data) - d.off }

// uvarint reads an unsigned varint. One or two bytes, as most are, are
// read here; a failure moved to the end of the input (see fail), so that
// every later read takes uvarintSlow, which returns 0.
func (d *stateDecoder) uvarint(field string) uint64 {
	s := d.data[d.off:]
	if len(s) > 0 && s[0] < 0x80 {
		d.off++
		return uint64(s[0])
	}
	if len(s) > 1 && s[1] < 0x80 {
		d.off += 2
		return uint64(s[0]&0x7f) | uint64(s[1])<<7
	}
	return d.uvarintSlow(field)
}

func (d *stateDecoder) uvarintSlow(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := wire.UvarintString(d.data[d.off:])
	switch {
	case n == 0:
		d.fail(field, io.ErrUnexpectedEOF)
		return 0
	case n < 0:
		d.failf(field, "varint overflows 64 bits")
		return 0
	}
	d.off += n
	return v
}

// varint reads a zig-zag signed varint.
func (d *stateDecoder) varint(field string) int64 {
	ux := d.uvarint(field)
	v := int64(ux >> 1)
	if ux&1 != 0 {
		v = ^v
	}
	return v
}

// int reads a varint that must fit an int.
func (d *stateDecoder) int(field string) int {
	v := d.varint(field)
	if int64(int(v)) != v {
		d.failf(field, "%d does not fit an int", v)
		return 0
	}
	return int(v)
}

func (d *stateDecoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.data) {
		d.fail(field, io.ErrUnexpectedEOF)
		return 0
	}
	c := d.data[d.off]
	d.off++
	return c
}

func (d *stateDecoder) bool(field string) bool {
	switch c := d.byte(field); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.failf(field, "%d is not a boolean", c)
		return false
	}
}

// count reads a list's or map's length (-1 for nil). Each element takes at
// least minSize bytes, so a length the rest of the input cannot hold is
// refused before anything is allocated.
func (d *stateDecoder) count(field string, minSize int) int {
	v := d.uvarint(field)
	if v == 0 {
		return -1
	}
	if n := v - 1; n > uint64(d.rest()/minSize) {
		if d.err == nil {
			d.fail(field, fmt.Errorf("%w: %d elements cannot fit in the %d bytes left", io.ErrUnexpectedEOF, n, d.rest()))
		}
		return -1
	}
	return int(v - 1)
}

func (d *stateDecoder) str(field string) string {
	n := d.uvarint(field)
	if d.err != nil || n == 0 {
		return ""
	}
	if n > uint64(d.rest()) {
		d.fail(field, fmt.Errorf("%w: a string of %d bytes with %d left", io.ErrUnexpectedEOF, n, d.rest()))
		return ""
	}
	s := d.data[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *stateDecoder) time(field string) time.Time {
	tag := d.uvarint(field)
	if tag == 0 || d.err != nil {
		return time.Time{}
	}
	v := (tag - 1) >> 1
	var ns uint64
	if (tag-1)&1 == 1 {
		if v >= 1e6 {
			d.failf(field, "microseconds out of range")
			return time.Time{}
		}
		ns = v * 1000
	} else {
		if v >= 1e9 {
			d.failf(field, "nanoseconds out of range")
			return time.Time{}
		}
		ns = v
	}
	delta := d.varint(field)
	if d.err != nil {
		return time.Time{}
	}
	// The encoder's subtraction wraps for instants more than 2⁶³ seconds
	// apart; adding with the same wrap gives the exact seconds back.
	sec := d.prevSec + delta
	d.prevSec = sec
	return time.Unix(sec, int64(ns)).UTC()
}

// duration reads what stateEncoder.duration wrote.
func (d *stateDecoder) duration(field string) time.Duration {
	v := d.uvarint(field)
	if d.err != nil {
		return 0
	}
	if v == 3 {
		return time.Duration(d.varint(field))
	}
	unit, zz := v&3, v>>2
	n := int64(zz>>1) ^ -int64(zz&1)
	var scale int64
	switch unit {
	case 0:
		scale = 1
	case 1:
		scale = int64(time.Microsecond)
	case 2:
		scale = int64(time.Second)
	default:
		d.failf(field, "bad duration unit")
		return 0
	}
	if n > math.MaxInt64/scale || n < math.MinInt64/scale {
		d.failf(field, "duration overflows")
		return 0
	}
	return time.Duration(n * scale)
}

func (d *stateDecoder) id(field string) (id [16]byte) {
	if d.err != nil {
		return id
	}
	if d.rest() < len(id) {
		d.fail(field, io.ErrUnexpectedEOF)
		return id
	}
	copy(id[:], d.data[d.off:])
	d.off += len(id)
	return id
}

// minTimerSize and minChangeSize are the fewest bytes a timer and a change
// take: each of their fields at least one byte. Version 1 wrote as many
// for a timer, and a byte less (no prior_breached_at) for a change.
const (
	minTimerSize  = 30
	minChangeSize = 11
)

func (d *stateDecoder) state(s *State) error {
	switch v := d.byte("version"); {
	case d.err != nil, v == stateBinaryVersion:
	case v == stateBinaryVersionV1:
		d.v1 = true
	default:
		d.failf("version", "format %d is not %d", v, stateBinaryVersion)
	}
	s.Record.Kind = itsm.Kind(d.str("record.kind"))
	s.Record.ID = d.id("record.id")
	s.AsOf = d.time("as_of")
	s.Observed = d.bool("observed")
	if n := d.count("previous", 2); n >= 0 {
		s.Previous = make(map[string]string, n)
		for i := range n {
			k := d.str("key")
			s.Previous[k] = d.str("value")
			if d.err != nil {
				return fmt.Errorf("previous[%d].%w", i, d.err)
			}
		}
	}
	s.Timers = decodeList(d, "timers", minTimerSize, func(t *Timer) { d.timer(t, s.Record) })
	if d.err == nil && d.rest() != 0 {
		d.failf("end", "%d bytes left over", d.rest())
	}
	return d.err
}

func (d *stateDecoder) timer(t *Timer, record itsm.Ref) {
	t.Record.Kind = itsm.Kind(d.str("record.kind"))
	switch d.byte("record.id") {
	case 0:
		t.Record.ID = record.ID
	case 1:
		t.Record.ID = d.id("record.id")
	default:
		d.failf("record.id", "bad flag")
	}
	t.Agreement = d.str("agreement")
	t.Version = d.int("version")
	t.Kind = itsm.AgreementKind(d.byte("kind"))
	t.Metric = d.str("metric")
	t.Cycle = d.int("cycle")
	t.Priority = itsm.Priority(d.int("priority"))
	t.Goal = d.str("goal")
	t.Within = d.duration("within")
	t.Calendar = d.str("calendar")
	t.Stage = Stage(d.byte("stage"))
	if d.v1 {
		t.Breached = d.bool("breached")
	} else {
		d.flags(t)
	}
	t.BreachedAt = d.time("breached_at")
	t.EndReason = d.str("end_reason")
	t.StartedAt = d.time("started_at")
	t.AttachedAt = d.time("attached_at")
	t.EndedAt = d.time("ended_at")
	t.AsOf = d.time("as_of")
	t.Since = d.time("since")
	t.BusinessElapsed = d.duration("business_elapsed")
	t.ActualElapsed = d.duration("actual_elapsed")
	t.BusinessPaused = d.duration("business_paused")
	t.ActualPaused = d.duration("actual_paused")
	t.DueAt = d.time("due_at")
	t.NextAt = d.time("next_at")
	t.Marks = decodeList(d, "marks", 3, func(m *Mark) {
		m.Threshold = d.str("threshold")
		m.At = d.time("at")
		m.Skipped = d.bool("skipped")
	})
	t.Segments = decodeList(d, "segments", 3, func(sg *Segment) {
		sg.Kind = SegmentKind(d.str("kind"))
		sg.From = d.time("from")
		sg.To = d.time("to")
	})
	minChange := minChangeSize
	if d.v1 {
		minChange--
	}
	t.Changes = decodeList(d, "changes", minChange, func(c *Change) {
		c.At = d.time("at")
		c.From = d.str("from")
		c.To = d.str("to")
		c.FromCalendar = d.str("from_calendar")
		c.ToCalendar = d.str("to_calendar")
		c.FromVersion = d.int("from_version")
		c.ToVersion = d.int("to_version")
		c.How = RetargetPolicy(d.str("how"))
		c.Migrated = d.bool("migrated")
		c.BreachedAt = d.time("breached_at")
		if !d.v1 {
			c.PriorBreachedAt = d.time("prior_breached_at")
		}
	})
	t.Seq = d.int("seq")
}

// flags reads what appendFlags wrote; t.Priority is read already.
func (d *stateDecoder) flags(t *Timer) {
	f := d.byte("flags")
	if f&^flagsAll != 0 || f&(flagSamePriority|flagOwnPriority) == flagSamePriority|flagOwnPriority {
		d.failf("flags", "%#x is not a set of flags", f)
		return
	}
	t.Breached = f&flagBreached != 0
	t.Decided = f&flagDecided != 0
	t.DecidedBreached = f&flagDecidedBreached != 0
	switch {
	case f&flagSamePriority != 0:
		t.DecidedPriority = t.Priority
	case f&flagOwnPriority != 0:
		t.DecidedPriority = itsm.Priority(d.int("decided_priority"))
	}
}

// decodeList reads a list written after its count: nil, or each element
// read by one. A failure inside an element is named "<name>[i].<field>";
// after it every read is a no-op.
func decodeList[T any](d *stateDecoder, name string, minSize int, one func(*T)) []T {
	n := d.count(name, minSize)
	if n < 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		if one(&out[i]); d.err != nil {
			d.err = fmt.Errorf("%s[%d].%w", name, i, d.err)
			return out
		}
	}
	return out
}
