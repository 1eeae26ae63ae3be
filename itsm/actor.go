package itsm

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ActorKind says what kind of party acted. Auditors distinguish people from
// automation; rules such as "the requester never approves their own change"
// compare actor IDs.
type ActorKind string

// The kinds of actor.
const (
	// ActorHuman is a person using the host application.
	ActorHuman ActorKind = "human"
	// ActorSystem is the host itself acting on a rule or schedule (auto-close,
	// SLA escalation).
	ActorSystem ActorKind = "system"
	// ActorIntegration is another tool acting through the host (monitoring,
	// an import, a chat bot).
	ActorIntegration ActorKind = "integration"
)

// Actor is who performed an action: recorded in every history entry and
// event, and handed to authorizers. The library trusts the host to have
// authenticated the actor.
type Actor struct {
	// ID identifies the actor in the host's identity system. Required.
	ID string `json:"id"`
	// Name is a display name for reports and history.
	Name string `json:"name,omitempty"`
	// Kind is human, system or integration; empty means human.
	Kind ActorKind `json:"kind,omitempty"`
	// Groups lists the assignment groups the actor belongs to.
	Groups []string `json:"groups,omitzero"`
	// Roles lists the actor's roles, used by authorizers and guards.
	Roles []string `json:"roles,omitzero"`
}

// MaxActorIDLen is the longest Actor.ID accepted, in bytes.
const MaxActorIDLen = 256

// MaxActorNameLen is the longest Actor.Name accepted, in bytes. Every
// history entry and comment keeps a copy of the name.
const MaxActorNameLen = 256

// Validate returns a *ValidationError listing every problem with the actor:
// a missing or over-long ID, an unknown kind, or names that are not valid
// UTF-8.
func (a Actor) Validate() error {
	// Every command checks its actor: a valid one, the usual case, is
	// answered without gathering errors.
	if a.ID != "" && len(a.ID) <= MaxActorIDLen && len(a.Name) <= MaxActorNameLen &&
		printable(a.ID) && printable(a.Name) && a.kindValid() && entriesOK(a.Groups) && entriesOK(a.Roles) {
		return nil
	}
	return a.invalid()
}

// kindValid reports whether a.Kind is one of the kinds, or empty.
func (a Actor) kindValid() bool {
	switch a.Kind {
	case "", ActorHuman, ActorSystem, ActorIntegration:
		return true
	}
	return false
}

// entriesOK reports whether every group or role name is non-empty
// printable text.
func entriesOK(list []string) bool {
	for _, s := range list {
		if s == "" || !printable(s) {
			return false
		}
	}
	return true
}

// invalid returns the *ValidationError listing everything wrong with a.
func (a Actor) invalid() error {
	var errs FieldErrors
	if a.ID == "" {
		errs.Add("actor.id", "must not be empty")
	} else {
		checkActorText(&errs, "actor.id", a.ID, MaxActorIDLen)
	}
	checkActorText(&errs, "actor.name", a.Name, MaxActorNameLen)
	if !a.kindValid() {
		errs.Addf("actor.kind", "%q is not human, system or integration", string(a.Kind))
	}
	for i, g := range a.Groups {
		if g == "" || !printable(g) {
			errs.Addf("actor.groups", "entry %d must be non-empty valid UTF-8 without control characters", i)
		}
	}
	for i, r := range a.Roles {
		if r == "" || !printable(r) {
			errs.Addf("actor.roles", "entry %d must be non-empty valid UTF-8 without control characters", i)
		}
	}
	return errs.Err()
}

// checkActorText records why s, the actor's ID or name, is refused: too
// long, not UTF-8, or holding a control character (a NUL no store can keep,
// an escape sequence that would reach a terminal showing the history).
func checkActorText(errs *FieldErrors, field, s string, max int) {
	switch {
	case len(s) > max:
		errs.Addf(field, "must be at most %d bytes", max)
	case printable(s):
	case !utf8.ValidString(s):
		errs.Add(field, "must be valid UTF-8")
	default:
		errs.Add(field, "must not contain control characters")
	}
}

// HasRole reports whether the actor holds role.
func (a Actor) HasRole(role string) bool { return slices.Contains(a.Roles, role) }

// InGroup reports whether the actor belongs to group.
func (a Actor) InGroup(group string) bool { return slices.Contains(a.Groups, group) }

// IsHuman reports whether the actor is a person (Kind human or empty).
func (a Actor) IsHuman() bool { return a.Kind == "" || a.Kind == ActorHuman }

// Clone returns a copy that shares no slices with a.
func (a Actor) Clone() Actor {
	a.Groups = slices.Clone(a.Groups)
	a.Roles = slices.Clone(a.Roles)
	return a
}

// ActorRef is who acted, as records keep it: the actor's ID, display name
// and kind, without the groups and roles that belong to the identity system
// and may change later. History entries and comments carry one.
type ActorRef struct {
	ID   string    `json:"id"`
	Name string    `json:"name,omitempty"`
	Kind ActorKind `json:"kind,omitempty"`
}

// Brief returns the ActorRef of a.
func (a Actor) Brief() ActorRef { return ActorRef{ID: a.ID, Name: a.Name, Kind: a.Kind} }

// printable reports whether s is valid UTF-8 without control characters
// (unicode.IsControl: C0, DEL and C1). Actor strings are short ASCII, so
// that case is answered without decoding: bytes one at a time below eight
// bytes, otherwise words, where a byte below 0x20, a DEL or a high bit in
// any word sends s to the decoding path. The last word overlaps the one
// before it, which is harmless for tests that look for a byte.
func printable(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			// One unsigned compare: bytes below 0x20 wrap round to large
			// values, so only 0x20 to 0x7e pass.
			if s[i]-0x20 >= 0x7f-0x20 {
				return printableSlow(s)
			}
		}
		return true
	}
	bad := unprintable(word8(s[len(s)-8:]))
	for i := 0; i+8 <= len(s); i += 8 {
		bad |= unprintable(word8(s[i:]))
	}
	if bad == 0 {
		return true
	}
	return printableSlow(s)
}

// unprintable returns a word whose high bits are set where w holds a byte
// below 0x20, a DEL or a byte with its high bit set; zero when w is eight
// printable ASCII bytes. (Borrows may set more bits beside a byte found;
// only whether any is set matters.)
func unprintable(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	del := w ^ 0x7f*ones // a DEL byte becomes zero
	return ((w-0x20*ones)&^w | (del-ones)&^del | w) & highs
}

// printableSlow is printable decoded rune by rune.
func printableSlow(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// word8 returns the first eight bytes of s as a little-endian word, which
// the compiler reads with one load.
func word8(s string) uint64 {
	t := s[:8]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}
