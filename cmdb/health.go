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

// DefaultStaleAfter is how long a CI may go unseen before health calls it
// stale: 60 days.
const DefaultStaleAfter = 60 * 24 * time.Hour

// Audit is a compliance check: a predicate every CI of a class (and below)
// should satisfy ("production servers have an owner").
type Audit struct {
	// Name identifies the audit in results; 1 to 128 bytes of UTF-8,
	// distinct among the audits.
	Name string
	// Class limits the audit to CIs of this class and below; empty means
	// every class.
	Class ClassName
	// Check reports whether a CI passes.
	Check func(CI) bool
}

// HealthOptions tune Registry.Health.
type HealthOptions struct {
	// Now is the instant staleness is measured at; required.
	Now time.Time
	// StaleAfter is how long a CI may go unseen by every source (or, for a
	// CI no source ever reported, unchanged) before it is stale; zero
	// means DefaultStaleAfter.
	StaleAfter time.Duration
	// Expect lists the classes (and so their descendants) whose CIs should
	// have at least one relationship; a CI of one of them with none is an
	// orphan. Nil means software, virtual_machine and service: software
	// runs somewhere, a VM on a host, a service on something. An empty,
	// non-nil list expects nothing.
	Expect []ClassName
	// Audits are the compliance checks.
	Audits []Audit
}

// Score is a ratio of good to total as an exact percentage: Good×100/Total
// truncated to two decimal places (never rounded up), 100 when Total is 0.
type Score struct {
	Good    int             `json:"good"`
	Total   int             `json:"total"`
	Percent decimal.Decimal `json:"percent"`
}

func score(good, total int) Score {
	s := Score{Good: good, Total: total, Percent: decimal.New(10000, -2)}
	if total > 0 {
		s.Percent, _ = decimal.NewFromInt(int64(good)*100).QuoRem(decimal.NewFromInt(int64(total)), 2)
	}
	return s
}

// String renders "97.50% (39/40)".
func (s Score) String() string {
	return fmt.Sprintf("%s%% (%d/%d)", s.Percent.StringFixed(2), s.Good, s.Total)
}

// ClassHealth is the health of the live (not retired) CIs of one class, or
// of all classes together.
type ClassHealth struct {
	// Class is the class; empty in Health.Overall.
	Class ClassName `json:"class,omitempty"`
	// CIs counts the live CIs.
	CIs int `json:"cis"`
	// Required counts required attribute slots filled.
	Required Score `json:"required"`
	// Recommended counts recommended attribute slots filled.
	Recommended Score `json:"recommended"`
	// Orphans, Stale and Duplicates count CIs with each problem.
	Orphans    int `json:"orphans"`
	Stale      int `json:"stale"`
	Duplicates int `json:"duplicates"`
	// Correct counts CIs with none of those problems.
	Correct Score `json:"correct"`
	// Compliance counts audit checks passed, over every applicable
	// (CI, audit) pair.
	Compliance Score `json:"compliance"`
}

// RelationshipHealth is the health of the stored relationships.
type RelationshipHealth struct {
	// Dangling relationships have an end that does not exist.
	Dangling []RelationshipID `json:"dangling,omitempty"`
	// Disallowed relationships have an unknown type, or a type that does
	// not allow their ends' classes.
	Disallowed []RelationshipID `json:"disallowed,omitempty"`
	// Sound counts relationships with neither problem.
	Sound Score `json:"sound"`
}

// AuditFailure is one CI failing one audit.
type AuditFailure struct {
	Audit string `json:"audit"`
	CI    ID     `json:"ci"`
}

// Health is the data quality of a tenant's CMDB.
type Health struct {
	// Classes holds one entry per class with live CIs, in registry order.
	Classes []ClassHealth `json:"classes"`
	// Overall sums every class.
	Overall ClassHealth `json:"overall"`
	// Relationships is the health of the relationships.
	Relationships RelationshipHealth `json:"relationships"`
	// Orphans, Stale and Duplicates list the CIs with each problem,
	// ordered by ID.
	Orphans    []ID `json:"orphans,omitempty"`
	Stale      []ID `json:"stale,omitempty"`
	Duplicates []ID `json:"duplicates,omitempty"`
	// AuditFailures lists failed checks, by CI then audit order.
	AuditFailures []AuditFailure `json:"audit_failures,omitempty"`
}

// Class returns the entry of class c, if it has live CIs.
func (h Health) Class(c ClassName) (ClassHealth, bool) {
	i := slices.IndexFunc(h.Classes, func(x ClassHealth) bool { return x.Class == c })
	if i < 0 {
		return ClassHealth{}, false
	}
	return h.Classes[i], true
}

// tally accumulates one class's counts.
type tally struct {
	cis, req, reqTotal, rec, recTotal, orphans, stale, dups, correct, pass, checks int
}

func (t *tally) add(o tally) {
	t.cis += o.cis
	t.req += o.req
	t.reqTotal += o.reqTotal
	t.rec += o.rec
	t.recTotal += o.recTotal
	t.orphans += o.orphans
	t.stale += o.stale
	t.dups += o.dups
	t.correct += o.correct
	t.pass += o.pass
	t.checks += o.checks
}

func (t tally) health(c ClassName) ClassHealth {
	return ClassHealth{
		Class: c, CIs: t.cis, Required: score(t.req, t.reqTotal), Recommended: score(t.rec, t.recTotal),
		Orphans: t.orphans, Stale: t.stale, Duplicates: t.dups, Correct: score(t.correct, t.cis),
		Compliance: score(t.pass, t.checks),
	}
}

// Health measures the data quality of snap: completeness (required and
// recommended attributes filled), correctness (orphans, stale CIs,
// duplicates), compliance (opts.Audits) — over live CIs, retired ones left
// out — and relationship health (dangling, disallowed), per class and
// overall. It returns a *itsm.ValidationError naming "now", "stale_after",
// "expect[i]", "audits[i].name", "audits[i].class" or "audits[i].check"
// for bad options.
func (reg *Registry) Health(snap *Snapshot, opts HealthOptions) (Health, error) {
	var errs itsm.FieldErrors
	if snap == nil {
		errs.Add("snapshot", "must not be nil")
	}
	if opts.Now.IsZero() {
		errs.Add("now", "must be set")
	}
	if opts.StaleAfter < 0 {
		errs.Add("stale_after", "must not be negative")
	}
	expect := opts.Expect
	if expect == nil {
		expect = []ClassName{ClassSoftware, ClassVirtualMachine, ClassService}
	}
	for i, c := range expect {
		if _, ok := reg.byName[c]; !ok {
			errs.Addf(fmt.Sprintf("expect[%d]", i), "class %q does not exist", clip(string(c)))
		}
	}
	for i, a := range opts.Audits {
		f := fmt.Sprintf("audits[%d]", i)
		if a.Name == "" || len(a.Name) > 128 || !utf8.ValidString(a.Name) {
			errs.Add(f+".name", "must be 1 to 128 bytes of UTF-8")
		} else if slices.IndexFunc(opts.Audits, func(b Audit) bool { return b.Name == a.Name }) != i {
			errs.Addf(f+".name", "%q is used twice", a.Name)
		}
		if _, ok := reg.byName[a.Class]; a.Class != "" && !ok {
			errs.Addf(f+".class", "class %q does not exist", clip(string(a.Class)))
		}
		if a.Check == nil {
			errs.Add(f+".check", "must not be nil")
		}
	}
	if err := errs.Err(); err != nil {
		return Health{}, err
	}
	now := itsm.Normalize(opts.Now)
	staleAfter := opts.StaleAfter
	if staleAfter == 0 {
		staleAfter = DefaultStaleAfter
	}
	var h Health
	tallies := make([]tally, len(reg.classes))
	extra := map[ClassName]*tally{} // classes the registry does not know
	for _, id := range snap.order {
		r := snap.recs[id]
		if r.Status == StatusRetired {
			continue
		}
		var t tally
		t.cis = 1
		k, known := reg.byName[r.Class]
		if known {
			for _, a := range reg.attrs[k] {
				_, set := r.Attributes[a.Name]
				switch {
				case a.Required:
					t.reqTotal++
					if set {
						t.req++
					}
				case a.Recommended:
					t.recTotal++
					if set {
						t.rec++
					}
				}
			}
		}
		bad := false
		if known && len(snap.relsOf[id]) == 0 && slices.ContainsFunc(expect, func(c ClassName) bool { return reg.descends(k, reg.byName[c]) }) {
			t.orphans, bad = 1, true
			h.Orphans = append(h.Orphans, id)
		}
		last, seen := r.LastSeen()
		if !seen {
			last = r.Updated
		}
		if now.Sub(last) > staleAfter {
			t.stale, bad = 1, true
			h.Stale = append(h.Stale, id)
		}
		if !r.DuplicateOf.IsZero() {
			t.dups, bad = 1, true
			h.Duplicates = append(h.Duplicates, id)
		}
		if !bad {
			t.correct = 1
		}
		for _, a := range opts.Audits {
			if a.Class != "" && !(known && reg.descends(k, reg.byName[a.Class])) {
				continue
			}
			t.checks++
			if a.Check(r.CI.Clone()) {
				t.pass++
			} else {
				h.AuditFailures = append(h.AuditFailures, AuditFailure{Audit: a.Name, CI: id})
			}
		}
		if known {
			tallies[k].add(t)
		} else {
			if extra[r.Class] == nil {
				extra[r.Class] = &tally{}
			}
			extra[r.Class].add(t)
		}
	}
	var all tally
	for k, t := range tallies {
		if t.cis > 0 {
			h.Classes = append(h.Classes, t.health(reg.classes[k].Name))
			all.add(t)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(extra)) {
		h.Classes = append(h.Classes, extra[c].health(c))
		all.add(*extra[c])
	}
	h.Overall = all.health("")
	sound := 0
	for _, rel := range snap.Relationships() {
		from, okFrom := snap.recs[rel.From]
		to, okTo := snap.recs[rel.To]
		switch {
		case !okFrom || !okTo:
			h.Relationships.Dangling = append(h.Relationships.Dangling, rel.ID)
		case !reg.Allows(rel.Type, from.Class, to.Class):
			h.Relationships.Disallowed = append(h.Relationships.Disallowed, rel.ID)
		default:
			sound++
		}
	}
	h.Relationships.Sound = score(sound, len(snap.rels))
	return h, nil
}
