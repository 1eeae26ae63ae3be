package sla_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// nested is a union whose parts nest levels deep, a weekly calendar at the
// bottom.
func nested(levels int) sla.CalendarSpec {
	spec := sla.CalendarSpec{Zone: "UTC", Week: sla.Week{1: {{Start: 9 * 60, End: 17 * 60}}}}
	for range levels {
		spec = sla.CalendarSpec{Kind: sla.CalendarUnion, Parts: []sla.CalendarSpec{spec}}
	}
	return spec
}

// nestedJSON is nested(levels) as JSON text.
func nestedJSON(levels int) string {
	return strings.Repeat(`{"kind":"union","parts":[`, levels) +
		`{"zone":"UTC","week":{"monday":[{"start":"09:00","end":"17:00"}]}}` +
		strings.Repeat(`]}`, levels)
}

// Calendars nest up to sla.MaxCalendarDepth levels, whether built or read
// from JSON; one level more is refused at the parts that go too deep.
func TestCalendarDepth(t *testing.T) {
	deepest := strings.Repeat("parts[0].", sla.MaxCalendarDepth) + "parts"
	tests := []struct {
		name   string
		levels int
		field  string
	}{
		{"one level", 1, ""},
		{"at the bound", sla.MaxCalendarDepth, ""},
		{"one level more", sla.MaxCalendarDepth + 1, deepest},
		{"a thousand levels", 1000, deepest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, how := range []string{"NewSchedule", "ParseSchedule"} {
				var err error
				if how == "NewSchedule" {
					_, err = sla.NewSchedule(nested(tc.levels))
				} else {
					_, err = sla.ParseSchedule([]byte(nestedJSON(tc.levels)))
				}
				if tc.field == "" {
					require.NoError(t, err, how)
					continue
				}
				var ve *itsm.ValidationError
				require.ErrorAs(t, err, &ve, how)
				assert.Equal(t, tc.field, ve.Field, how)
				assert.Empty(t, ve.Others, how)
			}
		})
	}
}
