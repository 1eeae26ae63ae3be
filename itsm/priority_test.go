package itsm_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestDefaultPriorityMatrixCellByCell(t *testing.T) {
	m := itsm.DefaultPriorityMatrix()
	want := map[[2]int]itsm.Priority{
		{1, 1}: 1, {1, 2}: 2, {1, 3}: 3,
		{2, 1}: 2, {2, 2}: 3, {2, 3}: 4,
		{3, 1}: 3, {3, 2}: 4, {3, 3}: 5,
	}
	for cell, p := range want {
		t.Run(fmt.Sprintf("impact=%d/urgency=%d", cell[0], cell[1]), func(t *testing.T) {
			got, err := m.Lookup(itsm.Impact(cell[0]), itsm.Urgency(cell[1]))
			require.NoError(t, err)
			assert.Equal(t, p, got)
		})
	}
	assert.Equal(t, []itsm.Level{{1, "Critical"}, {2, "High"}, {3, "Moderate"}, {4, "Low"}, {5, "Planning"}}, m.Priorities())
}

func TestPriorityMatrixLookupRejectsUnknownLevels(t *testing.T) {
	m := itsm.DefaultPriorityMatrix()
	tests := []struct {
		name    string
		impact  itsm.Impact
		urgency itsm.Urgency
		fields  []string
	}{
		{"impact zero", 0, 1, []string{"impact"}},
		{"urgency four", 1, 4, []string{"urgency"}},
		{"both negative", -1, -2, []string{"impact", "urgency"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Lookup(tc.impact, tc.urgency)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.All(), len(tc.fields))
			for _, f := range tc.fields {
				assert.True(t, ve.Has(f), f)
			}
		})
	}
}

func TestNewPriorityMatrixRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*itsm.MatrixSpec)
		field  string
	}{
		{"no impacts", func(s *itsm.MatrixSpec) { s.Impacts = nil; s.Cells = nil }, "impacts"},
		{"missing row", func(s *itsm.MatrixSpec) { s.Cells = s.Cells[:2] }, "cells"},
		{"missing cell", func(s *itsm.MatrixSpec) { s.Cells[1] = s.Cells[1][:2] }, "cells[1]"},
		{"extra cell", func(s *itsm.MatrixSpec) { s.Cells[2] = append(s.Cells[2], 5) }, "cells[2]"},
		{"priority out of range", func(s *itsm.MatrixSpec) { s.Cells[0][0] = 9 }, "cells[0][0]"},
		{"duplicate urgency value", func(s *itsm.MatrixSpec) { s.Urgencies[2].Value = 1 }, "urgencies[2].value"},
		{"duplicate label ignoring case", func(s *itsm.MatrixSpec) { s.Priorities[4].Label = "critical" }, "priorities[4].label"},
		{"empty label", func(s *itsm.MatrixSpec) { s.Impacts[0].Label = " " }, "impacts[0].label"},
		{"label starting with a digit", func(s *itsm.MatrixSpec) { s.Impacts[0].Label = "1st" }, "impacts[0].label"},
		{"label with surrounding spaces", func(s *itsm.MatrixSpec) { s.Impacts[0].Label = " High" }, "impacts[0].label"},
		{"invalid UTF-8 label", func(s *itsm.MatrixSpec) { s.Impacts[0].Label = "\xff" }, "impacts[0].label"},
		{"label with a control character", func(s *itsm.MatrixSpec) { s.Urgencies[1].Label = "Hi\x00gh" }, "urgencies[1].label"},
		{"priority beyond 32 bits", func(s *itsm.MatrixSpec) { s.Priorities[4].Value = math.MaxInt32 + 1 }, "priorities[4].value"},
		{"impact below 32 bits", func(s *itsm.MatrixSpec) { s.Impacts[2].Value = math.MinInt32 - 1 }, "impacts[2].value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := itsm.DefaultMatrixSpec()
			tc.mutate(&spec)
			m, err := itsm.NewPriorityMatrix(spec)
			assert.Nil(t, m)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "want %q in %v", tc.field, err)
		})
	}
}

// GLPI numbers its 5×5 scales with 5 as the most severe; the matrix does not
// care which way the numbers run.
func TestPriorityMatrixWithDescendingNumbers(t *testing.T) {
	lv := []itsm.Level{{5, "Very high"}, {4, "High"}, {3, "Medium"}, {2, "Low"}, {1, "Very low"}}
	cells := make([][]itsm.Priority, 5)
	for i := range cells {
		cells[i] = make([]itsm.Priority, 5)
		for j := range cells[i] {
			cells[i][j] = itsm.Priority(max(1, 5-(i+j+1)/2))
		}
	}
	m, err := itsm.NewPriorityMatrix(itsm.MatrixSpec{Impacts: lv, Urgencies: lv, Priorities: lv, Cells: cells})
	require.NoError(t, err)
	p, err := m.Lookup(5, 5)
	require.NoError(t, err)
	assert.Equal(t, itsm.Priority(5), p)
	assert.Negative(t, m.ComparePriority(5, 1), "5 is the most severe here")
	assert.Positive(t, m.ComparePriority(2, 4))
	assert.Zero(t, m.ComparePriority(3, 3))
	assert.Negative(t, m.ComparePriority(1, 9), "undeclared priorities sort last")
	assert.Negative(t, m.ComparePriority(itsm.Priority(math.MinInt), 100), "by number, without overflow")
	assert.Positive(t, m.ComparePriority(itsm.Priority(math.MaxInt), -100))
}

func TestPriorityMatrixParse(t *testing.T) {
	m := itsm.DefaultPriorityMatrix()
	tests := []struct {
		in      string
		want    itsm.Priority
		wantErr bool
	}{
		{"2", 2, false},
		{"2 - High", 2, false},
		{"2-High", 2, false},
		{" 4 - low ", 4, false},
		{"Planning", 5, false},
		{"critical", 1, false},
		{"2 - Low", 0, true},
		{"7", 0, true},
		{"Urgent", 0, true},
		{"", 0, true},
		{"2High", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := m.ParsePriority(tc.in)
			if tc.wantErr {
				var ve *itsm.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "priority", ve.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	imp, err := m.ParseImpact("1 - High")
	require.NoError(t, err)
	assert.Equal(t, itsm.Impact(1), imp)
	urg, err := m.ParseUrgency("Low")
	require.NoError(t, err)
	assert.Equal(t, itsm.Urgency(3), urg)
}

func TestLevelTextAndJSON(t *testing.T) {
	type rec struct {
		Impact   itsm.Impact   `json:"impact"`
		Urgency  itsm.Urgency  `json:"urgency"`
		Priority itsm.Priority `json:"priority"`
	}
	var r rec
	require.NoError(t, json.Unmarshal([]byte(`{"impact":2,"urgency":"3 - Low","priority":"4"}`), &r))
	assert.Equal(t, rec{2, 3, 4}, r)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"impact":2,"urgency":3,"priority":4}`, string(b))

	for _, bad := range []string{`{"impact":"High"}`, `{"urgency":true}`, `{"priority":"x1"}`} {
		assert.ErrorIs(t, json.Unmarshal([]byte(bad), &r), itsm.ErrInvalid, bad)
	}
	// null leaves a level as it was, as encoding/json does for its own types.
	r = rec{2, 3, 4}
	require.NoError(t, json.Unmarshal([]byte(`{"impact":null,"urgency":null,"priority":null}`), &r))
	assert.Equal(t, rec{2, 3, 4}, r)
	text, err := itsm.Priority(3).MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "3", string(text))
}

func TestPriorityMatrixJSONRoundTrip(t *testing.T) {
	m := itsm.DefaultPriorityMatrix()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var back itsm.PriorityMatrix
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, m.Spec(), back.Spec())
	err = json.Unmarshal([]byte(`{"impacts":[{"value":1,"label":"A"}],"urgencies":[{"value":1,"label":"A"}],"priorities":[{"value":1,"label":"A"}],"cells":[[2]]}`), &back)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "cells[0][0]", ve.Field)
}

func TestPriorityMatrixIsImmutable(t *testing.T) {
	spec := itsm.DefaultMatrixSpec()
	m, err := itsm.NewPriorityMatrix(spec)
	require.NoError(t, err)
	spec.Cells[0][0] = 5
	m.Spec().Cells[0][0] = 5
	m.Priorities()[0].Label = "Changed"
	p, err := m.Lookup(1, 1)
	require.NoError(t, err)
	assert.Equal(t, itsm.Priority(1), p)
	l, ok := m.PriorityLevel(1)
	require.True(t, ok)
	assert.Equal(t, "Critical", l.Label)
}

func TestPriorityMatrixString(t *testing.T) {
	want := "" +
		"impact \\ urgency   1 - High       2 - Medium     3 - Low\n" +
		"1 - High           1 - Critical   2 - High       3 - Moderate\n" +
		"2 - Medium         2 - High       3 - Moderate   4 - Low\n" +
		"3 - Low            3 - Moderate   4 - Low        5 - Planning\n"
	assert.Equal(t, want, itsm.DefaultPriorityMatrix().String())
}

// oracleValid decides, independently of NewPriorityMatrix, whether the table
// FuzzPriorityMatrix builds from these inputs is valid.
func oracleValid(ni, nu, np int, cells []byte, label string, dupValue bool) bool {
	labelOK := label != "" && strings.TrimSpace(label) == label && len(label) <= 64 && utf8.ValidString(label) &&
		!strings.ContainsFunc(label, unicode.IsControl) && !strings.ContainsAny(label[:1], "0123456789+-")
	scaleOK := func(n int, prefix string) bool {
		if n < 1 || n > 64 || !labelOK || dupValue && n > 1 {
			return false
		}
		for i := 1; i < n; i++ {
			if strings.EqualFold(label, fmt.Sprintf("%s%d", prefix, i)) {
				return false
			}
		}
		return true
	}
	if !scaleOK(ni, "I") || !scaleOK(nu, "U") || !scaleOK(np, "P") || len(cells) < ni*nu {
		return false
	}
	for _, c := range cells[:ni*nu] {
		if int(c) < 1 || int(c) > np {
			return false
		}
	}
	return true
}

// FuzzPriorityMatrix feeds random tables to NewPriorityMatrix: it never
// panics, it accepts exactly the tables an independent oracle calls valid,
// every table it rejects comes back as a *ValidationError, and every table it
// accepts answers every cell with a declared priority.
func FuzzPriorityMatrix(f *testing.F) {
	f.Add(uint8(3), uint8(3), uint8(5), []byte{1, 2, 3, 2, 3, 4, 3, 4, 5}, "High", false)
	f.Add(uint8(2), uint8(4), uint8(4), []byte{1, 2, 3, 4, 2, 3, 4}, "", true)
	f.Add(uint8(1), uint8(1), uint8(1), []byte{9}, "1x", false)
	f.Fuzz(func(t *testing.T, ni, nu, np uint8, cells []byte, label string, dupValue bool) {
		mk := func(n uint8, prefix string) []itsm.Level {
			out := make([]itsm.Level, int(n)%70)
			for i := range out {
				out[i] = itsm.Level{Value: i + 1, Label: fmt.Sprintf("%s%d", prefix, i)}
			}
			if len(out) > 0 {
				out[0].Label = label
				if dupValue && len(out) > 1 {
					out[1].Value = out[0].Value
				}
			}
			return out
		}
		spec := itsm.MatrixSpec{Impacts: mk(ni, "I"), Urgencies: mk(nu, "U"), Priorities: mk(np, "P")}
		k := 0
		for i := 0; i < len(spec.Impacts) && k < len(cells); i++ {
			var row []itsm.Priority
			for j := 0; j < len(spec.Urgencies) && k < len(cells); j++ {
				row = append(row, itsm.Priority(cells[k]))
				k++
			}
			spec.Cells = append(spec.Cells, row)
		}
		m, err := itsm.NewPriorityMatrix(spec)
		want := oracleValid(int(ni)%70, int(nu)%70, int(np)%70, cells, label, dupValue)
		require.Equal(t, want, err == nil, "oracle says valid=%v, NewPriorityMatrix said %v", want, err)
		if err != nil {
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			require.NotEmpty(t, ve.Field)
			require.Nil(t, m)
			return
		}
		for _, imp := range spec.Impacts {
			for _, urg := range spec.Urgencies {
				p, err := m.Lookup(itsm.Impact(imp.Value), itsm.Urgency(urg.Value))
				require.NoError(t, err)
				_, ok := m.PriorityLevel(p)
				require.True(t, ok, "cell answered undeclared priority %d", p)
			}
		}
	})
}
