package cmdb

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// IdentifierRule is one way of recognising a CI: two CIs of the same class
// whose values agree on every part of the rule are the same CI. A rule
// applies only when the reported item has every part; values compare
// exactly (type and value, case-sensitive).
type IdentifierRule struct {
	// Name makes the CI's name part of the rule.
	Name bool `json:"name,omitempty"`
	// Attributes are attribute names that are part of the rule.
	Attributes []string `json:"attributes,omitempty"`
}

// String renders the rule as "(name, domain)".
func (r IdentifierRule) String() string {
	parts := make([]string, 0, len(r.Attributes)+1)
	if r.Name {
		parts = append(parts, "name")
	}
	parts = append(parts, r.Attributes...)
	return "(" + strings.Join(parts, ", ") + ")"
}

// Authority ranks one source for one attribute.
type Authority struct {
	// Source is the ranked source.
	Source SourceName `json:"source"`
	// Staleness is how long the source's value stays authoritative after
	// it last reported it; once older, lower-ranked sources' values win.
	// Zero means never stale.
	Staleness time.Duration `json:"staleness,omitempty"`
}

// Rules configure reconciliation.
//
// Identification: a class's effective rules are its own, in order, followed
// by those of its parent, grandparent and so on up to the root, so a server
// is tried by serial number before the host name rule it inherits from
// computer.
//
// Authority: per class and attribute (NameKey for the name), the sources
// that may set it, most authoritative first. A class without an entry for
// an attribute uses its nearest ancestor's. The effective value of an
// attribute is the first listed source's whose claim is fresh; failing
// that, the latest claim of an unlisted source; failing that, the first
// listed source's stale claim. Without any entry the latest claim wins (on
// a tie, the source whose name sorts first). Only sources that still list
// the CI count; when none has a claim the value stays as it is.
type Rules struct {
	// Identify holds identifier rules per class.
	Identify map[ClassName][]IdentifierRule `json:"identify,omitempty"`
	// Authority holds ranked sources per class and attribute.
	Authority map[ClassName]map[string][]Authority `json:"authority,omitempty"`
	// MassRetireFraction is the largest fraction (0 to 1) of the CIs a
	// source listed before that one complete batch may stop listing; a
	// batch that would drop more, or that lists nothing at all, trips the
	// mass-delete guard. Zero means one half.
	MassRetireFraction decimal.Decimal `json:"mass_retire_fraction,omitzero"`
}

// DefaultRules returns identifier rules for the built-in classes:
//
//	server           (serial_number), then computer's rules
//	virtual_machine  (vm_uuid), then computer's rules
//	computer         (hostname)
//	device           (serial_number), (name)
//	software         (name) — in the context of its host when it has one
//	service, group, location  (name)
//
// and no authority entries (the latest report wins).
func DefaultRules() Rules {
	byName := []IdentifierRule{{Name: true}}
	return Rules{Identify: map[ClassName][]IdentifierRule{
		ClassServer:         {{Attributes: []string{"serial_number"}}},
		ClassVirtualMachine: {{Attributes: []string{"vm_uuid"}}},
		ClassComputer:       {{Attributes: []string{"hostname"}}},
		ClassDevice:         {{Attributes: []string{"serial_number"}}, {Name: true}},
		ClassSoftware:       byName,
		ClassService:        byName,
		ClassGroup:          byName,
		ClassLocation:       byName,
	}}
}

// Reconciler identifies reported items and decides what reconciliation
// changes; build one with NewReconciler. It is immutable and safe for
// concurrent use; build it after the registry is fully configured.
type Reconciler struct {
	reg      *Registry
	rules    Rules
	identify [][]IdentifierRule // effective rules per class index
	guard    decimal.Decimal
}

// NewReconciler checks rules against reg and returns a Reconciler. It
// returns a *itsm.ValidationError naming the offending entry
// ("identify.server[0].attributes[1]", "authority.server.os[0].source"):
// an unknown class, an empty rule, an attribute the class does not have, a
// bad or repeated source, a negative staleness, a fraction outside 0 to 1.
func NewReconciler(reg *Registry, rules Rules) (*Reconciler, error) {
	if reg == nil {
		return nil, itsm.NewValidationError("registry", "must not be nil")
	}
	var errs itsm.FieldErrors
	for _, c := range slices.Sorted(maps.Keys(rules.Identify)) {
		field := "identify." + clip(string(c))
		k, ok := reg.byName[c]
		if !ok {
			errs.Addf(field, "class %q does not exist", clip(string(c)))
			continue
		}
		for i, r := range rules.Identify[c] {
			rf := fmt.Sprintf("%s[%d]", field, i)
			if !r.Name && len(r.Attributes) == 0 {
				errs.Add(rf, "must name at least one part")
			}
			for j, a := range r.Attributes {
				if reg.attr(k, a) == nil || slices.Index(r.Attributes, a) != j {
					errs.Addf(fmt.Sprintf("%s.attributes[%d]", rf, j), "%q is not an attribute of class %s, or is repeated", clip(a), c)
				}
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(rules.Authority)) {
		field := "authority." + clip(string(c))
		k, ok := reg.byName[c]
		if !ok {
			errs.Addf(field, "class %q does not exist", clip(string(c)))
			continue
		}
		for _, a := range slices.Sorted(maps.Keys(rules.Authority[c])) {
			af := field + "." + clip(a)
			if a != NameKey && reg.attr(k, a) == nil {
				errs.Addf(af, "is not an attribute of class %s", c)
			}
			list := rules.Authority[c][a]
			for i, au := range list {
				sf := fmt.Sprintf("%s[%d]", af, i)
				if err := au.Source.Validate(); err != nil {
					errs.Merge(sf, err)
				} else if slices.IndexFunc(list, func(x Authority) bool { return x.Source == au.Source }) != i {
					errs.Addf(sf+".source", "%s is listed twice", au.Source)
				}
				if au.Staleness < 0 {
					errs.Add(sf+".staleness", "must not be negative")
				}
			}
		}
	}
	guard := rules.MassRetireFraction
	if guard.IsNegative() || guard.GreaterThan(decimal.NewFromInt(1)) {
		errs.Add("mass_retire_fraction", "must be between 0 and 1")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if guard.IsZero() {
		guard = decimal.New(5, -1)
	}
	rc := &Reconciler{reg: reg, rules: cloneRules(rules), guard: guard}
	rc.identify = make([][]IdentifierRule, len(reg.classes))
	for k := range reg.classes {
		rc.identify[k] = rc.effectiveRules(k)
	}
	return rc, nil
}

func cloneRules(r Rules) Rules {
	out := Rules{MassRetireFraction: r.MassRetireFraction, Identify: map[ClassName][]IdentifierRule{}, Authority: map[ClassName]map[string][]Authority{}}
	for c, rs := range r.Identify {
		cp := make([]IdentifierRule, len(rs))
		for i, x := range rs {
			cp[i] = IdentifierRule{Name: x.Name, Attributes: slices.Clone(x.Attributes)}
		}
		out.Identify[c] = cp
	}
	for c, m := range r.Authority {
		cm := make(map[string][]Authority, len(m))
		for a, l := range m {
			cm[a] = slices.Clone(l)
		}
		out.Authority[c] = cm
	}
	return out
}

// effectiveRules collects the rules of class index k and its ancestors.
func (rc *Reconciler) effectiveRules(k int) []IdentifierRule {
	var out []IdentifierRule
	for c := k; c >= 0; c = int(rc.reg.classes[c].parent) {
		out = append(out, rc.rules.Identify[rc.reg.classes[c].Name]...)
	}
	return out
}

// IdentifierRules returns the effective identifier rules of class, in the
// order they are tried; nil for an unknown class.
func (rc *Reconciler) IdentifierRules(class ClassName) []IdentifierRule {
	k, ok := rc.reg.byName[class]
	if !ok {
		return nil
	}
	rules := rc.rulesOf(k)
	out := make([]IdentifierRule, len(rules))
	for i, r := range rules {
		out[i] = IdentifierRule{Name: r.Name, Attributes: slices.Clone(r.Attributes)}
	}
	return out
}

func (rc *Reconciler) rulesOf(k int) []IdentifierRule {
	if k < len(rc.identify) {
		return rc.identify[k]
	}
	return rc.effectiveRules(k) // a class added after the reconciler
}

// authority returns the ranked sources of key for class index k: the
// nearest class's entry.
func (rc *Reconciler) authority(k int, key string) []Authority {
	for c := k; c >= 0; c = int(rc.reg.classes[c].parent) {
		if l, ok := rc.rules.Authority[rc.reg.classes[c].Name][key]; ok {
			return l
		}
	}
	return nil
}

// identKey renders the values of rule number n for a CI with the given
// name and attributes, or "" when one is missing.
func identKey(n int, rule IdentifierRule, name string, attrs map[string]Value) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(strconv.Itoa(n))
	b.WriteByte('#')
	if rule.Name {
		if strings.TrimSpace(name) == "" {
			return ""
		}
		b.WriteString(strconv.Quote(name))
	}
	for _, a := range rule.Attributes {
		v, ok := attrs[a]
		if !ok {
			return ""
		}
		text := v.String()
		if v.Type() == TypeString && strings.TrimSpace(text) == "" {
			// Sources report unknown serials as "": an empty identifier
			// identifies nothing, or every such CI would be one.
			return ""
		}
		b.WriteByte('|')
		b.WriteString(string(v.Type()))
		b.WriteByte(':')
		b.WriteString(strconv.Quote(text))
	}
	return b.String()
}

// winner decides the effective claim of key among the present sources of
// r, following the authority list; ok is false when no present source
// claims it.
func (rc *Reconciler) winner(k int, key string, r *Record, now time.Time) (SourceName, Claim, bool) {
	list := rc.authority(k, key)
	for _, a := range list {
		if st, ok := r.Sources[a.Source]; ok && st.Present() {
			if c, ok := st.Claims[key]; ok && (a.Staleness == 0 || now.Sub(c.At) <= a.Staleness) {
				return a.Source, c, true
			}
		}
	}
	var best SourceName
	var bestClaim Claim
	found := false
	for name, st := range r.Sources {
		if !st.Present() || slices.ContainsFunc(list, func(a Authority) bool { return a.Source == name }) {
			continue
		}
		c, ok := st.Claims[key]
		if !ok {
			continue
		}
		if !found || c.At.After(bestClaim.At) || c.At.Equal(bestClaim.At) && name < best {
			best, bestClaim, found = name, c, true
		}
	}
	if found {
		return best, bestClaim, true
	}
	for _, a := range list {
		if st, ok := r.Sources[a.Source]; ok && st.Present() {
			if c, ok := st.Claims[key]; ok {
				return a.Source, c, true
			}
		}
	}
	return "", Claim{}, false
}
