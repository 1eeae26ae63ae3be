package itsm

import (
	"slices"
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

// Validate returns a *ValidationError listing every problem with the actor:
// a missing or over-long ID, an unknown kind, or names that are not valid
// UTF-8.
func (a Actor) Validate() error {
	var errs FieldErrors
	switch {
	case a.ID == "":
		errs.Add("actor.id", "must not be empty")
	case len(a.ID) > MaxActorIDLen:
		errs.Addf("actor.id", "must be at most %d bytes", MaxActorIDLen)
	case !validUTF8(a.ID):
		errs.Add("actor.id", "must be valid UTF-8")
	}
	if !validUTF8(a.Name) {
		errs.Add("actor.name", "must be valid UTF-8")
	}
	switch a.Kind {
	case "", ActorHuman, ActorSystem, ActorIntegration:
	default:
		errs.Addf("actor.kind", "%q is not human, system or integration", string(a.Kind))
	}
	for i, g := range a.Groups {
		if g == "" || !validUTF8(g) {
			errs.Addf("actor.groups", "entry %d must be non-empty valid UTF-8", i)
		}
	}
	for i, r := range a.Roles {
		if r == "" || !validUTF8(r) {
			errs.Addf("actor.roles", "entry %d must be non-empty valid UTF-8", i)
		}
	}
	return errs.Err()
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

// validUTF8 is utf8.ValidString with a cheaper start for the short ASCII
// strings actors are made of: every command checks its actor, and
// ValidString spends some seventy instructions on a three-byte name,
// testing its first byte alone before it reads words. A string of eight
// bytes or more is read as little-endian words (each one load), the last
// word overlapping the one before, and or-ed together: no high bit means
// ASCII. Shorter strings are tested byte by byte. Anything else is
// ValidString's to answer, so validUTF8 agrees with it on every string.
func validUTF8(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return utf8.ValidString(s[i:])
			}
		}
		return true
	}
	acc := word8(s[len(s)-8:])
	for i := 0; i+8 <= len(s); i += 8 {
		acc |= word8(s[i:])
	}
	if acc&0x8080808080808080 == 0 {
		return true
	}
	return utf8.ValidString(s)
}

// word8 returns the first eight bytes of s as a little-endian word, which
// the compiler reads with one load.
func word8(s string) uint64 {
	t := s[:8]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}
