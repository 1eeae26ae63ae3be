package cmdb

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// SourceName names a discovery source or feed that reports CIs ("sccm",
// "vcenter.eu-1"): 1 to 64 lower-case ASCII letters, digits, '_', '-' and
// '.', starting with a letter.
type SourceName string

// MaxSourceNameLen is the longest source name; MaxNativeIDLen the longest
// native ID a source may give an item.
const (
	MaxSourceNameLen = 64
	MaxNativeIDLen   = 256
)

// Validate returns a *itsm.ValidationError naming "source" when s is not a
// usable source name.
func (s SourceName) Validate() error {
	if s == "" || len(s) > MaxSourceNameLen {
		return itsm.NewValidationError("source", fmt.Sprintf("must be 1 to %d characters", MaxSourceNameLen))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.')
		if !ok {
			return itsm.NewValidationError("source", fmt.Sprintf("%q must be lower-case letters, digits, '_', '-' and '.', starting with a letter", clip(string(s))))
		}
	}
	return nil
}

// Keys under which reconciliation records what is not an attribute. They
// start with '@', which no attribute name can, so they never clash with one.
const (
	// NameKey is the key of the CI's name in claims, provenance, authority
	// tables and changes.
	NameKey = "@name"
	// StatusKey is the key of the CI's status in changes.
	StatusKey = "@status"
	// DuplicateKey is the key of the CI's duplicate-of pointer in changes.
	DuplicateKey = "@duplicate_of"
)

// Claim is what one source last said about one attribute (or the name,
// under NameKey) of a CI, and when it last said it.
type Claim struct {
	Value Value     `json:"value"`
	At    time.Time `json:"at"`
}

// SourceState is what reconciliation remembers about one source's view of
// a CI.
type SourceState struct {
	// NativeID is the source's own key for the CI; a source's native key
	// (source name, native ID) identifies a CI before any identifier rule.
	NativeID string `json:"native_id"`
	// LastSeen is the instant of the source's latest batch that listed the CI.
	LastSeen time.Time `json:"last_seen"`
	// Gone is the instant of the source's first complete batch that no
	// longer listed the CI; zero while the source lists it. A gone source's
	// claims no longer count.
	Gone time.Time `json:"gone,omitzero"`
	// Claims holds the source's latest value of each attribute it
	// reported, by attribute name (NameKey for the name).
	Claims map[string]Claim `json:"claims,omitzero"`
}

// Present reports whether the source still lists the CI.
func (s SourceState) Present() bool { return s.Gone.IsZero() }

// Provenance says where the current value of an attribute came from.
type Provenance struct {
	// Source reported the value.
	Source SourceName `json:"source"`
	// At is when the source last reported it.
	At time.Time `json:"at"`
}

// Record is a CI as the CMDB stores it: the CI itself and what
// reconciliation knows about it. Repositories store Records; a CI entered
// by hand is a Record with no sources.
type Record struct {
	CI
	// DuplicateOf, when set, points to the CI this one duplicates: the
	// oldest CI identified as the same thing. It never points to the
	// record itself, nor to a record that is itself a duplicate.
	DuplicateOf ID `json:"duplicate_of,omitzero"`
	// Sources holds each reporting source's view of the CI.
	Sources map[SourceName]SourceState `json:"sources,omitzero"`
	// Provenance holds, per attribute (NameKey for the name), the source
	// and instant its current value came from. Attributes set by hand have
	// none.
	Provenance map[string]Provenance `json:"provenance,omitzero"`
}

// Clone returns a deep copy of r.
func (r Record) Clone() Record {
	r.CI = r.CI.Clone()
	if r.Sources != nil {
		src := make(map[SourceName]SourceState, len(r.Sources))
		for k, s := range r.Sources {
			s.Claims = maps.Clone(s.Claims)
			src[k] = s
		}
		r.Sources = src
	}
	r.Provenance = maps.Clone(r.Provenance)
	return r
}

// LastSeen returns the latest instant any source listed the record, and
// false when no source ever reported it.
func (r Record) LastSeen() (time.Time, bool) {
	var last time.Time
	for _, s := range r.Sources {
		if s.LastSeen.After(last) {
			last = s.LastSeen
		}
	}
	return last, len(r.Sources) > 0
}

// ValidateRecord checks r: the CI as ValidateCI does, and the
// reconciliation data — a duplicate-of pointer to itself, bad source names,
// empty or over-long native IDs, unnormalised instants, a Gone before
// LastSeen, claims on keys the class does not declare or of the wrong type,
// provenance naming a bad source. It returns a *itsm.ValidationError listing
// every problem, with fields such as "sources.sccm.claims.os".
func (reg *Registry) ValidateRecord(r Record) error {
	// A first pass in map order is cheap; only a record with problems is
	// checked again in sorted order, so that the error is deterministic.
	if err := reg.validateRecord(&r, false); err == nil {
		return nil
	}
	return reg.validateRecord(&r, true)
}

// keysOf returns m's keys, sorted when sorted is set.
func keysOf[K ~string, V any](m map[K]V, sorted bool) []K {
	if sorted {
		return slices.Sorted(maps.Keys(m))
	}
	return slices.Collect(maps.Keys(m))
}

func (reg *Registry) validateRecord(r *Record, sorted bool) error {
	var errs itsm.FieldErrors
	errs.Merge("", reg.ValidateCI(r.CI))
	if !r.DuplicateOf.IsZero() && r.DuplicateOf == r.ID {
		errs.Add("duplicate_of", "a CI cannot duplicate itself")
	}
	k, known := reg.byName[r.Class]
	for _, name := range keysOf(r.Sources, sorted) {
		s := r.Sources[name]
		field := "sources." + clip(string(name))
		errs.Merge(field, name.Validate())
		checkNativeID(&errs, field+".native_id", s.NativeID)
		checkInstant(&errs, field+".last_seen", s.LastSeen, true)
		checkInstant(&errs, field+".gone", s.Gone, false)
		if !s.Gone.IsZero() && s.Gone.Before(s.LastSeen) {
			errs.Add(field+".gone", "precedes last_seen")
		}
		if sorted {
			for _, key := range keysOf(s.Claims, true) {
				reg.checkClaim(&errs, field, k, known, key, s.Claims[key])
			}
			continue
		}
		for key, c := range s.Claims {
			reg.checkClaim(&errs, field, k, known, key, c)
		}
	}
	check := func(key string, p Provenance) {
		if p.Source.Validate() == nil && !p.At.IsZero() && itsm.IsNormalized(p.At) && (!known || key == NameKey || reg.attr(k, key) != nil) {
			return
		}
		field := "provenance." + clip(key)
		errs.Merge(field, p.Source.Validate())
		checkInstant(&errs, field+".at", p.At, true)
		if known && key != NameKey && reg.attr(k, key) == nil {
			errs.Addf(field, "is not an attribute of class %s", r.Class)
		}
	}
	if sorted {
		for _, key := range keysOf(r.Provenance, true) {
			check(key, r.Provenance[key])
		}
	} else {
		for key, p := range r.Provenance {
			check(key, p)
		}
	}
	return errs.Err()
}

// checkClaim checks one claim of a source's state (field).
func (reg *Registry) checkClaim(errs *itsm.FieldErrors, field string, k int, known bool, key string, c Claim) {
	// The usual valid claim costs no field names.
	var probe itsm.FieldErrors
	if known {
		reg.checkKeyValue(&probe, "", k, key, c.Value)
	}
	if probe.Len() == 0 && !c.At.IsZero() && itsm.IsNormalized(c.At) {
		return
	}
	cf := field + ".claims." + clip(key)
	checkInstant(errs, cf+".at", c.At, true)
	if known {
		reg.checkKeyValue(errs, cf+".value", k, key, c.Value)
	}
}

// attr returns the effective attribute name of class index k, or nil.
func (reg *Registry) attr(k int, name string) *Attribute {
	for i := range reg.attrs[k] {
		if reg.attrs[k][i].Name == name {
			return &reg.attrs[k][i]
		}
	}
	return nil
}

// checkKeyValue checks a value claimed for key (NameKey or an attribute of
// class index k).
func (reg *Registry) checkKeyValue(errs *itsm.FieldErrors, field string, k int, key string, v Value) {
	if key == NameKey {
		if v.Type() != TypeString {
			errs.Addf(field, "is a %s value, want string", orNone(v.Type()))
			return
		}
		checkText(errs, field, v.Str(), MaxCINameLen, true)
		return
	}
	a := reg.attr(k, key)
	if a == nil {
		errs.Addf(field, "%q is not an attribute of class %s", clip(key), reg.classes[k].Name)
		return
	}
	checkValue(errs, field, *a, v)
}

func checkNativeID(errs *itsm.FieldErrors, field, id string) {
	switch {
	case id == "":
		errs.Add(field, "must not be empty")
	case len(id) > MaxNativeIDLen:
		errs.Addf(field, "must be at most %d bytes", MaxNativeIDLen)
	case !utf8.ValidString(id):
		errs.Add(field, "must be valid UTF-8")
	}
}

func checkInstant(errs *itsm.FieldErrors, field string, t time.Time, required bool) {
	if t.IsZero() {
		if required {
			errs.Add(field, "must be a UTC instant truncated to the microsecond")
		}
		return
	}
	if !itsm.IsNormalized(t) {
		errs.Add(field, "must be a UTC instant truncated to the microsecond")
	}
}
