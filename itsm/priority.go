package itsm

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Impact is how widely an issue affects the business: how many users,
// services or business processes. Numbers are the desk's own scale; a
// PriorityMatrix gives them labels and an order.
type Impact int

// Urgency is how quickly the business needs a resolution.
type Urgency int

// Priority is the order in which work should be taken up, derived from impact
// and urgency through a PriorityMatrix.
type Priority int

// level is the common shape of Impact, Urgency and Priority.
type level interface{ ~int }

// The three level types share one text form: the number ("2"). Parsing also
// accepts the labelled forms desks export, "2 - Medium" and "2-Medium", and
// takes the number; to parse a bare label ("Medium") use the matrix's
// ParseImpact, ParseUrgency or ParsePriority.

// String returns the number as text.
func (v Impact) String() string { return strconv.Itoa(int(v)) }

// String returns the number as text.
func (v Urgency) String() string { return strconv.Itoa(int(v)) }

// String returns the number as text.
func (v Priority) String() string { return strconv.Itoa(int(v)) }

// MarshalText returns the number as text.
func (v Impact) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns the number as text.
func (v Urgency) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// MarshalText returns the number as text.
func (v Priority) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText accepts "2", "2 - Medium" or "2-Medium".
func (v *Impact) UnmarshalText(b []byte) error { return unmarshalLevel(v, "impact", b) }

// UnmarshalText accepts "2", "2 - Medium" or "2-Medium".
func (v *Urgency) UnmarshalText(b []byte) error { return unmarshalLevel(v, "urgency", b) }

// UnmarshalText accepts "2", "2 - Medium" or "2-Medium".
func (v *Priority) UnmarshalText(b []byte) error { return unmarshalLevel(v, "priority", b) }

// MarshalJSON writes the level as a JSON number.
func (v Impact) MarshalJSON() ([]byte, error) { return []byte(v.String()), nil }

// MarshalJSON writes the level as a JSON number.
func (v Urgency) MarshalJSON() ([]byte, error) { return []byte(v.String()), nil }

// MarshalJSON writes the level as a JSON number.
func (v Priority) MarshalJSON() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalJSON accepts a number (2) or a string ("2", "2 - Medium").
func (v *Impact) UnmarshalJSON(b []byte) error { return unmarshalLevelJSON(v, "impact", b) }

// UnmarshalJSON accepts a number (2) or a string ("2", "2 - Medium").
func (v *Urgency) UnmarshalJSON(b []byte) error { return unmarshalLevelJSON(v, "urgency", b) }

// UnmarshalJSON accepts a number (2) or a string ("2", "2 - Medium").
func (v *Priority) UnmarshalJSON(b []byte) error { return unmarshalLevelJSON(v, "priority", b) }

func unmarshalLevelJSON[L level](v *L, field string, b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json does for values it decodes itself
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return NewValidationError(field, "is not a JSON string or number")
		}
		b = []byte(s)
	}
	return unmarshalLevel(v, field, b)
}

func unmarshalLevel[L level](v *L, field string, b []byte) error {
	n, _, err := splitLevel(field, string(b))
	if err != nil {
		return err
	}
	*v = L(n)
	return nil
}

// splitLevel parses "2", "2 - Medium", "2-Medium" or "2 Medium" into the number
// and the label ("" when absent).
func splitLevel(field, s string) (int, string, error) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	num := s[:i]
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", NewValidationError(field, fmt.Sprintf("%q does not start with a level number", clip(s)))
	}
	rest := strings.TrimSpace(s[i:])
	if rest != "" {
		if rest[0] != '-' && i < len(s) && s[i] != ' ' {
			return 0, "", NewValidationError(field, fmt.Sprintf("%q is not of the form \"2\" or \"2 - Label\"", clip(s)))
		}
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "-"))
	}
	return n, rest, nil
}

// clip shortens s for error messages.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Level is one step of an impact, urgency or priority scale: its number and a
// label such as "High".
type Level struct {
	Value int    `json:"value"`
	Label string `json:"label"`
}

// String returns the desk's usual display form, "1 - High".
func (l Level) String() string { return strconv.Itoa(l.Value) + " - " + l.Label }

// MatrixSpec describes a priority matrix. It is the serialisable form hosts
// store; NewPriorityMatrix validates it.
//
// Each scale is listed from the most to the least severe, whatever the
// numbers: ServiceNow numbers 1 as highest, GLPI 5. Cells[i][j] is the
// priority for Impacts[i] and Urgencies[j].
type MatrixSpec struct {
	Impacts    []Level      `json:"impacts"`
	Urgencies  []Level      `json:"urgencies"`
	Priorities []Level      `json:"priorities"`
	Cells      [][]Priority `json:"cells"`
}

// PriorityMatrix derives a Priority from an Impact and an Urgency. It is
// immutable once built and safe for concurrent use. Build one with
// NewPriorityMatrix or DefaultPriorityMatrix.
type PriorityMatrix struct {
	spec    MatrixSpec
	impact  map[int]int // value -> row
	urgency map[int]int // value -> column
	prio    map[int]int // value -> rank (0 = most severe)
}

// MaxMatrixSide bounds the number of levels per scale.
const MaxMatrixSide = 64

// MaxLevelLabelLen bounds a level label, in bytes.
const MaxLevelLabelLen = 64

// NewPriorityMatrix validates spec and builds the matrix. Every problem found
// is reported in one *ValidationError: empty or over-long scales, values
// that do not fit in 32 bits, duplicate values or labels, labels that are
// empty, too long, not UTF-8, holding a control character or starting with a
// digit, a missing or extra row or cell, and cells whose priority is not one
// of Priorities. The spec is copied; later changes to it do not
// affect the matrix.
func NewPriorityMatrix(spec MatrixSpec) (*PriorityMatrix, error) {
	var errs FieldErrors
	m := &PriorityMatrix{}
	m.impact = indexLevels(&errs, "impacts", spec.Impacts)
	m.urgency = indexLevels(&errs, "urgencies", spec.Urgencies)
	m.prio = indexLevels(&errs, "priorities", spec.Priorities)
	if len(spec.Cells) != len(spec.Impacts) {
		errs.Addf("cells", "has %d rows, want %d (one per impact)", len(spec.Cells), len(spec.Impacts))
	}
	for i, row := range spec.Cells {
		if len(row) != len(spec.Urgencies) {
			errs.Addf(fmt.Sprintf("cells[%d]", i), "has %d cells, want %d (one per urgency)", len(row), len(spec.Urgencies))
		}
		for j, p := range row {
			if _, ok := m.prio[int(p)]; !ok && len(spec.Priorities) > 0 {
				errs.Addf(fmt.Sprintf("cells[%d][%d]", i, j), "priority %d is not one of the declared priorities", int(p))
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	m.spec = cloneSpec(spec)
	return m, nil
}

func indexLevels(errs *FieldErrors, field string, levels []Level) map[int]int {
	switch {
	case len(levels) == 0:
		errs.Add(field, "must list at least one level")
	case len(levels) > MaxMatrixSide:
		errs.Addf(field, "must list at most %d levels, got %d", MaxMatrixSide, len(levels))
	}
	idx := make(map[int]int, len(levels))
	labels := make(map[string]int, len(levels))
	for i, l := range levels {
		f := fmt.Sprintf("%s[%d]", field, i)
		if l.Value < math.MinInt32 || l.Value > math.MaxInt32 {
			// Stores keep levels (a priority in an indexed column) in 32
			// bits: a matrix must not yield one that they would refuse.
			errs.Addf(f+".value", "is %d; must fit in 32 bits", l.Value)
		}
		if j, dup := idx[l.Value]; dup {
			errs.Addf(f+".value", "%d repeats %s[%d]", l.Value, field, j)
		} else {
			idx[l.Value] = i
		}
		label := strings.TrimSpace(l.Label)
		switch {
		case label == "":
			errs.Add(f+".label", "must not be empty")
		case len(label) > MaxLevelLabelLen:
			errs.Addf(f+".label", "must be at most %d bytes", MaxLevelLabelLen)
		case !utf8.ValidString(label):
			errs.Add(f+".label", "must be valid UTF-8")
		case strings.ContainsFunc(label, unicode.IsControl):
			errs.Addf(f+".label", "%q contains a control character", clip(label))
		case label[0] >= '0' && label[0] <= '9' || label[0] == '-' || label[0] == '+':
			errs.Addf(f+".label", "%q must not start with a digit or sign, or it reads as a number", clip(label))
		case label != l.Label:
			errs.Addf(f+".label", "%q has leading or trailing spaces", clip(l.Label))
		default:
			key := strings.ToLower(label)
			if j, dup := labels[key]; dup {
				errs.Addf(f+".label", "%q repeats %s[%d]", label, field, j)
			} else {
				labels[key] = i
			}
		}
	}
	return idx
}

func cloneSpec(s MatrixSpec) MatrixSpec {
	out := MatrixSpec{
		Impacts:    append([]Level(nil), s.Impacts...),
		Urgencies:  append([]Level(nil), s.Urgencies...),
		Priorities: append([]Level(nil), s.Priorities...),
		Cells:      make([][]Priority, len(s.Cells)),
	}
	for i, row := range s.Cells {
		out.Cells[i] = append([]Priority(nil), row...)
	}
	return out
}

// DefaultPriorityMatrix returns the 3×3 matrix most desks start from
// (ServiceNow's default): impact and urgency 1 - High, 2 - Medium, 3 - Low;
// priority 1 - Critical, 2 - High, 3 - Moderate, 4 - Low, 5 - Planning, with
//
//	          urgency 1  2  3
//	impact 1          1  2  3
//	impact 2          2  3  4
//	impact 3          3  4  5
func DefaultPriorityMatrix() *PriorityMatrix {
	m, err := NewPriorityMatrix(DefaultMatrixSpec())
	if err != nil {
		// The default spec is a constant of this package and is tested.
		panic("itsm: default priority matrix is invalid: " + err.Error())
	}
	return m
}

// DefaultMatrixSpec returns the spec of DefaultPriorityMatrix, as a starting
// point for a desk's own.
func DefaultMatrixSpec() MatrixSpec {
	hml := []Level{{1, "High"}, {2, "Medium"}, {3, "Low"}}
	return MatrixSpec{
		Impacts:    append([]Level(nil), hml...),
		Urgencies:  append([]Level(nil), hml...),
		Priorities: []Level{{1, "Critical"}, {2, "High"}, {3, "Moderate"}, {4, "Low"}, {5, "Planning"}},
		Cells: [][]Priority{
			{1, 2, 3},
			{2, 3, 4},
			{3, 4, 5},
		},
	}
}

// Spec returns a copy of the matrix's spec, e.g. to store it.
func (m *PriorityMatrix) Spec() MatrixSpec { return cloneSpec(m.spec) }

// Lookup returns the priority for impact and urgency, or a *ValidationError
// naming "impact" or "urgency" when either is not a level of the matrix.
func (m *PriorityMatrix) Lookup(impact Impact, urgency Urgency) (Priority, error) {
	i, iok := m.impact[int(impact)]
	j, uok := m.urgency[int(urgency)]
	if iok && uok {
		return m.spec.Cells[i][j], nil
	}
	var errs FieldErrors
	if !iok {
		errs.Addf("impact", "%d is not one of %s", int(impact), valuesOf(m.spec.Impacts))
	}
	if !uok {
		errs.Addf("urgency", "%d is not one of %s", int(urgency), valuesOf(m.spec.Urgencies))
	}
	return 0, errs.Err()
}

func valuesOf(levels []Level) string {
	parts := make([]string, len(levels))
	for i, l := range levels {
		parts[i] = strconv.Itoa(l.Value)
	}
	return strings.Join(parts, ", ")
}

// Impacts returns the impact scale, most severe first.
func (m *PriorityMatrix) Impacts() []Level { return append([]Level(nil), m.spec.Impacts...) }

// Urgencies returns the urgency scale, most severe first.
func (m *PriorityMatrix) Urgencies() []Level { return append([]Level(nil), m.spec.Urgencies...) }

// Priorities returns the priority scale, most severe first.
func (m *PriorityMatrix) Priorities() []Level { return append([]Level(nil), m.spec.Priorities...) }

// ImpactLevel returns the level of impact v, and whether it exists.
func (m *PriorityMatrix) ImpactLevel(v Impact) (Level, bool) {
	return levelOf(m.spec.Impacts, m.impact, int(v))
}

// UrgencyLevel returns the level of urgency v, and whether it exists.
func (m *PriorityMatrix) UrgencyLevel(v Urgency) (Level, bool) {
	return levelOf(m.spec.Urgencies, m.urgency, int(v))
}

// PriorityLevel returns the level of priority v, and whether it exists.
func (m *PriorityMatrix) PriorityLevel(v Priority) (Level, bool) {
	return levelOf(m.spec.Priorities, m.prio, int(v))
}

func levelOf(levels []Level, idx map[int]int, v int) (Level, bool) {
	i, ok := idx[v]
	if !ok {
		return Level{}, false
	}
	return levels[i], true
}

// ParseImpact parses "2", "2 - Medium" or "Medium" (case-insensitive) against
// the matrix's impact scale. When both a number and a label are given they
// must agree. Errors are *ValidationError naming "impact".
func (m *PriorityMatrix) ParseImpact(s string) (Impact, error) {
	v, err := parseAgainst("impact", s, m.spec.Impacts, m.impact)
	return Impact(v), err
}

// ParseUrgency is ParseImpact for the urgency scale.
func (m *PriorityMatrix) ParseUrgency(s string) (Urgency, error) {
	v, err := parseAgainst("urgency", s, m.spec.Urgencies, m.urgency)
	return Urgency(v), err
}

// ParsePriority is ParseImpact for the priority scale.
func (m *PriorityMatrix) ParsePriority(s string) (Priority, error) {
	v, err := parseAgainst("priority", s, m.spec.Priorities, m.prio)
	return Priority(v), err
}

func parseAgainst(field, s string, levels []Level, idx map[int]int) (int, error) {
	t := strings.TrimSpace(s)
	if t != "" && !(t[0] >= '0' && t[0] <= '9' || t[0] == '-' || t[0] == '+') {
		for _, l := range levels {
			if strings.EqualFold(l.Label, t) {
				return l.Value, nil
			}
		}
		return 0, NewValidationError(field, fmt.Sprintf("%q is not a label of the scale", clip(t)))
	}
	n, label, err := splitLevel(field, t)
	if err != nil {
		return 0, err
	}
	i, ok := idx[n]
	if !ok {
		return 0, NewValidationError(field, fmt.Sprintf("%d is not one of %s", n, valuesOf(levels)))
	}
	if label != "" && !strings.EqualFold(label, levels[i].Label) {
		return 0, NewValidationError(field, fmt.Sprintf("label %q does not match level %d (%s)", clip(label), n, levels[i].Label))
	}
	return n, nil
}

// ComparePriority orders two priorities of the matrix by severity: negative
// when a is more severe than b, zero when equal, positive when less severe.
// Priorities that are not in the matrix sort after every declared one, by
// number.
func (m *PriorityMatrix) ComparePriority(a, b Priority) int {
	ra, aok := m.prio[int(a)]
	rb, bok := m.prio[int(b)]
	switch {
	case aok && bok:
		return ra - rb
	case aok:
		return -1
	case bok:
		return 1
	default:
		return cmp.Compare(a, b) // a subtraction overflows at the extremes
	}
}

// MarshalJSON writes the matrix's spec.
func (m *PriorityMatrix) MarshalJSON() ([]byte, error) { return json.Marshal(m.spec) }

// UnmarshalJSON reads a spec and validates it as NewPriorityMatrix does.
func (m *PriorityMatrix) UnmarshalJSON(b []byte) error {
	var spec MatrixSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return NewValidationError("priority_matrix", "is not a valid JSON matrix spec: "+err.Error())
	}
	built, err := NewPriorityMatrix(spec)
	if err != nil {
		return err
	}
	*m = *built
	return nil
}

// String renders the matrix as a small table, e.g. for a terminal:
//
//	impact \ urgency   1 - High   2 - Medium   3 - Low
//	1 - High           1          2            3
func (m *PriorityMatrix) String() string {
	header := []string{"impact \\ urgency"}
	for _, u := range m.spec.Urgencies {
		header = append(header, u.String())
	}
	rows := [][]string{header}
	for i, imp := range m.spec.Impacts {
		row := []string{imp.String()}
		for _, p := range m.spec.Cells[i] {
			l, _ := m.PriorityLevel(p)
			row = append(row, l.String())
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for j, c := range r {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for j, c := range r {
			b.WriteString(c)
			if j < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)+3))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
