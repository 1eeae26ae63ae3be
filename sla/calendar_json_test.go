package sla

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// TestParseScheduleNamesTheFullPath checks that every kind of value that
// cannot be read is reported under the path NewSchedule would use for it,
// array indexes and weekday included.
func TestParseScheduleNamesTheFullPath(t *testing.T) {
	// spec wraps extra members into a valid weekly calendar.
	spec := func(extra string) string {
		return `{"zone":"UTC","week":{"monday":[{"start":"09:00","end":"17:00"}]}` + extra + `}`
	}
	const goodHoliday = `{"name":"new year","date":"2026-01-01"}`
	tests := []struct {
		name  string
		json  string
		field string
		want  string // the reason, when it is worth pinning
	}{
		// Week.
		{"start without a leading zero", `{"zone":"UTC","week":{"monday":[{"start":"9:00","end":"17:00"}]}}`,
			"week.monday[0].start", `"9:00" is not a time of day HH:MM between 00:00 and 24:00`},
		{"end past midnight in a later span", `{"zone":"UTC","week":{"tuesday":[{"start":"08:00","end":"12:00"},{"start":"13:00","end":"25:00"}]}}`,
			"week.tuesday[1].end", `"25:00" is not a time of day HH:MM between 00:00 and 24:00`},
		{"start as a number", `{"zone":"UTC","week":{"monday":[{"start":540,"end":"17:00"}]}}`,
			"week.monday[0].start", "must be a JSON string, not number"},
		{"span not an object", `{"zone":"UTC","week":{"friday":["09:00-17:00"]}}`,
			"week.friday[0]", "must be a JSON object, not string"},
		{"day not an array", `{"zone":"UTC","week":{"monday":{"start":"09:00","end":"17:00"}}}`,
			"week.monday", "must be a JSON array of spans, not object"},
		{"week not an object", `{"zone":"UTC","week":"weekdays"}`,
			"week", "must be a JSON object keyed by weekday names, not string"},
		{"unknown weekday", `{"zone":"UTC","week":{"funday":[]}}`,
			"week", `"funday" is not a weekday name`},
		{"weekday named twice", `{"zone":"UTC","week":{"monday":[],"Monday":[]}}`,
			"week", `"Monday" and "monday" name the same weekday`},
		{"weekday in capitals is named in lower case", `{"zone":"UTC","week":{"SATURDAY":[{"start":"10:00","end":"1400"}]}}`,
			"week.saturday[0].end", ""},

		// Holidays.
		{"holidays not an array", spec(`,"holidays":{"date":"2026-01-01"}`), "holidays", "must not be a JSON object"},
		{"holiday not an object", spec(`,"holidays":[` + goodHoliday + `,"2026-12-25"]`), "holidays[1]", "must be a JSON object, not string"},
		{"date out of range", spec(`,"holidays":[` + goodHoliday + `,` + goodHoliday + `,{"date":"2026-12-32"}]`),
			"holidays[2].date", `"2026-12-32" is not a date YYYY-MM-DD`},
		{"date as a number", spec(`,"holidays":[{"date":20261225}]`), "holidays[0].date", "must be a JSON string, not number"},
		{"holiday name as a number", spec(`,"holidays":[{"name":1,"date":"2026-01-01"}]`), "holidays[0].name", "must not be a JSON number"},
		{"observance as a bool", spec(`,"holidays":[{"date":"2026-07-04","observed":true}]`), "holidays[0].observed", "must not be a JSON bool"},
		{"yearly day as text", spec(`,"holidays":[` + goodHoliday + `,{"yearly":{"month":12,"day":"25"}}]`),
			"holidays[1].yearly.day", "must not be a JSON string"},
		{"yearly day as a fraction", spec(`,"holidays":[{"yearly":{"month":12,"day":2.5}}]`), "holidays[0].yearly.day", ""},
		{"yearly easter as text", spec(`,"holidays":[{"yearly":{"easter":"yes","offset":-2}}]`), "holidays[0].yearly.easter", ""},
		{"yearly not an object", spec(`,"holidays":[{"yearly":"easter"}]`), "holidays[0].yearly", "must be a JSON object, not string"},
		{"closed span end", spec(`,"holidays":[{"date":"2026-12-24","closed":[{"start":"12:00","end":"noon"}]}]`),
			"holidays[0].closed[0].end", `"noon" is not a time of day HH:MM between 00:00 and 24:00`},
		{"closed not an array", spec(`,"holidays":[{"date":"2026-12-24","closed":"all day"}]`), "holidays[0].closed", "must not be a JSON string"},

		// Exceptions.
		{"exception date", spec(`,"exceptions":[{"date":"26-06-06"}]`), "exceptions[0].date", `"26-06-06" is not a date YYYY-MM-DD`},
		{"exception hours end", spec(`,"exceptions":[{"date":"2026-06-06","hours":[{"start":"10:00","end":"12:00"},{"start":"13:00","end":"1:00"}]}]`),
			"exceptions[0].hours[1].end", `"1:00" is not a time of day HH:MM between 00:00 and 24:00`},
		{"exception hours not an array", spec(`,"exceptions":[{"date":"2026-06-06","hours":{"start":"10:00"}}]`), "exceptions[0].hours", "must not be a JSON object"},
		{"exception not an object", spec(`,"exceptions":[7]`), "exceptions[0]", "must be a JSON object, not number"},

		// The spec itself and its parts.
		{"zone as a number", `{"zone":1,"week":{}}`, "zone", "must not be a JSON number"},
		{"kind as an array", `{"kind":["union"]}`, "kind", "must not be a JSON array"},
		{"parts not an array", `{"kind":"union","parts":{}}`, "parts", "must not be a JSON object"},
		{"part not an object", `{"kind":"union","parts":[{"kind":"always"},"weekly"]}`, "parts[1]", "must be a JSON object, not string"},
		{"span inside a part", `{"kind":"union","parts":[{"kind":"always"},` + spec(``)[:len(spec(``))-1] + `,"holidays":[{"date":"2026-02-30"}]}]}`,
			"parts[1].holidays[0].date", `"2026-02-30" is not a date YYYY-MM-DD`},
		{"part of a part", `{"kind":"intersection","parts":[{"kind":"union","parts":[{"kind":"always"},{"zone":"UTC","week":{"sunday":[{"start":"24:00","end":"9"}]}}]}]}`,
			"parts[0].parts[1].week.sunday[0].end", ""},
		{"not an object", `[{"zone":"UTC"}]`, "calendar", "must be a JSON object, not array"},
		{"a string", `"24x7"`, "calendar", "must be a JSON object, not string"},
		{"syntax error", `{"zone":"UTC",`, "calendar", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSchedule([]byte(tc.json))
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			require.True(t, ve.Has(tc.field), "want %s, got %v", tc.field, err)
			if tc.want != "" {
				for _, f := range ve.All() {
					if f.Field == tc.field {
						assert.Equal(t, tc.want, f.Reason)
					}
				}
			}
			for _, f := range ve.All() {
				assert.False(t, strings.HasPrefix(f.Field, "calendar."), "paths are the spec's own, as NewSchedule's: %v", err)
			}
		})
	}
}

func TestParseScheduleReportsEveryBadPart(t *testing.T) {
	js := `{"zone":"UTC","week":{"monday":[{"start":"9:00","end":"17:00"}],"tuesday":[{"start":"09:00","end":"5pm"}]},
		"holidays":[{"date":"2026-12-25"},{"date":"2026-13-01"},{"yearly":{"month":"May","day":1}}],
		"exceptions":[{"date":"2026-06-06","hours":[{"start":"10:00","end":"x"}]}]}`
	_, err := ParseSchedule([]byte(js))
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	var fields []string
	for _, f := range ve.All() {
		fields = append(fields, f.Field)
	}
	assert.Equal(t, []string{
		"week.monday[0].start", "week.tuesday[0].end",
		"holidays[1].date", "holidays[2].yearly.month",
		"exceptions[0].hours[0].end",
	}, fields)
}

func TestParseScheduleMatchesNewSchedulePaths(t *testing.T) {
	// A spec that reads but breaks a rule is reported by NewSchedule; the
	// paths of the two stages agree, so a host sees one naming scheme.
	js := `{"zone":"UTC","week":{"monday":[{"start":"09:00","end":"17:00"},{"start":"16:00","end":"18:00"}]},
		"holidays":[{"date":"2026-01-01"},{"yearly":{"month":13,"day":1}}]}`
	_, err := ParseSchedule([]byte(js))
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("week.monday[1]"), "got %v", err)
	assert.True(t, ve.Has("holidays[1].yearly.month"), "got %v", err)
}

func TestParseCalendarSpec(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		in := CalendarSpec{
			Kind: CalendarWeekly, Name: "desk", Zone: ny, Week: nineToFive(),
			Holidays: []Holiday{
				{Name: "christmas", Yearly: &YearlyRule{Month: 12, Day: 25}, Observed: ObserveNearestWeekday},
				{Name: "eve", Date: Date{2026, 12, 24}, Closed: []Span{Hours(At(12, 0), EndOfDay)}},
			},
			Exceptions: []Exception{{Name: "stocktake", Date: Date{2026, 6, 6}, Hours: []Span{Hours(At(10, 0), At(14, 0))}}},
		}
		u := CalendarSpec{Kind: CalendarUnion, Parts: []CalendarSpec{in, {Kind: CalendarAlways, Zone: "UTC"}}}
		b, err := json.Marshal(u)
		require.NoError(t, err)
		back, err := ParseCalendarSpec(b)
		require.NoError(t, err)
		assert.Equal(t, u, back)
		var plain CalendarSpec
		require.NoError(t, json.Unmarshal(b, &plain))
		assert.Equal(t, u, plain, "encoding/json reads the same")
	})
	t.Run("null is the zero spec", func(t *testing.T) {
		c, err := ParseCalendarSpec([]byte(`null`))
		require.NoError(t, err)
		assert.Equal(t, CalendarSpec{}, c)
	})
	t.Run("nulls inside read as encoding/json reads them", func(t *testing.T) {
		c, err := ParseCalendarSpec([]byte(`{"zone":"UTC","week":{"monday":null,"tuesday":[null,{"start":null,"end":"17:00"}]},
			"holidays":[null,{"date":null,"yearly":null,"closed":null}],"exceptions":null,"parts":[null]}`))
		require.NoError(t, err)
		assert.Equal(t, CalendarSpec{
			Zone:     "UTC",
			Week:     Week{2: {{}, {End: At(17, 0)}}},
			Holidays: []Holiday{{}, {}},
			Parts:    []CalendarSpec{{}},
		}, c)
	})
	t.Run("an error returns the zero spec", func(t *testing.T) {
		c, err := ParseCalendarSpec([]byte(`{"zone":"Europe/Paris","holidays":[{"date":"x"}]}`))
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "holidays[0].date", ve.Field)
		assert.Equal(t, CalendarSpec{}, c)
	})
	t.Run("a member named twice is refused where it is", func(t *testing.T) {
		for in, field := range map[string]string{
			`{"zone":"UTC","Zone":"UTC"}`:                                                                    "Zone",
			`{"holidays":[{"yearly":{"month":12},"yearly":{"day":25}}]}`:                                     "holidays[0].yearly",
			`{"holidays":[{"date":"2026-01-01","date":null}]}`:                                               "holidays[0].date",
			`{"week":{"monday":[{"start":"09:00","start":null,"end":"17:00"}]}}`:                             "week.monday[0].start",
			`{"exceptions":[{"date":"2026-06-06","hours":[{"start":"10:00","end":"14:00","END":"15:00"}]}]}`: "exceptions[0].hours[0].END",
			`{"kind":"union","parts":[{"kind":"always","kind":"weekly"}]}`:                                   "parts[0].kind",
		} {
			_, err := ParseCalendarSpec([]byte(in))
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve, in)
			assert.Equal(t, field, ve.Field, in)
			assert.Contains(t, ve.Reason, "named twice", in)
			_, err = ParseSchedule([]byte(in))
			require.ErrorAs(t, err, &ve, in)
		}
	})
	t.Run("the first field of the wrong type in each object is named", func(t *testing.T) {
		_, err := ParseCalendarSpec([]byte(`{"kind":1,"zone":2,"holidays":[{"name":1,"observed":true},{"name":2}]}`))
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		var fields []string
		for _, f := range ve.All() {
			fields = append(fields, f.Field)
		}
		assert.Equal(t, []string{"kind", "holidays[0].name", "holidays[1].name"}, fields)
	})
	t.Run("a host's struct embedding the spec decodes its own fields", func(t *testing.T) {
		var h struct {
			CalendarSpec
			Owner string `json:"owner"`
		}
		require.NoError(t, json.Unmarshal([]byte(`{"owner":"ops","zone":"UTC"}`), &h))
		assert.Equal(t, "UTC", h.Zone)
		assert.Equal(t, "ops", h.Owner)
	})
	t.Run("decoding over a spec keeps what the text leaves out, as encoding/json does", func(t *testing.T) {
		c := CalendarSpec{Name: "desk", Zone: "UTC"}
		require.NoError(t, json.Unmarshal([]byte(`{"kind":"weekly"}`), &c))
		assert.Equal(t, CalendarSpec{Kind: CalendarWeekly, Name: "desk", Zone: "UTC"}, c)
	})
	t.Run("inside a host's map, a week's path is the week's", func(t *testing.T) {
		var host struct {
			Calendars map[string]CalendarSpec `json:"calendars"`
		}
		err := json.Unmarshal([]byte(`{"calendars":{"desk":{"zone":"UTC","week":{"monday":[{"start":"09:00","end":"5pm"}]}}}}`), &host)
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "week.monday[0].end", ve.Field)
	})
	t.Run("a syntax error is encoding/json's", func(t *testing.T) {
		var syn *json.SyntaxError
		_, err := ParseCalendarSpec([]byte(`{"zone":`))
		require.ErrorAs(t, err, &syn)
	})
	t.Run("Week on its own names its paths under week", func(t *testing.T) {
		w := nineToFive()
		err := json.Unmarshal([]byte(`{"monday":[{"start":"09:00","end":"17:00"}],"wednesday":[{"start":"08:00"},{"start":"x"}]}`), &w)
		var ve *itsm.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "week.wednesday[1].start", ve.Field)
		assert.Equal(t, nineToFive(), w, "unchanged")
	})
}

// hasRepeatedName reports whether some object of the valid JSON text b
// names a member twice, in any case.
func hasRepeatedName(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		key    bool // the next token of an object is a name
		names  map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if name, ok := tok.(string); ok {
				name = strings.ToLower(strings.ToUpper(name)) // as encoding/json folds: ſ is s
				if top.names[name] {
					return true
				}
				top.names[name] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, key: true, names: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the parent object expects a name next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// FuzzCalendarSpecJSON checks the path-tracking decoder against plain
// encoding/json: both accept the same texts and read the same spec, every
// error is a *itsm.ValidationError (or a syntax error) with a field path,
// and what ParseSchedule accepts marshals and parses back to a calendar
// that marshals the same.
func FuzzCalendarSpecJSON(f *testing.F) {
	for _, s := range []string{
		`{"zone":"UTC","week":{"monday":[{"start":"09:00","end":"17:00"}]}}`,
		`{"zone":"Europe/London","week":{"MONDAY":[{"start":"22:00","end":"06:00"}],"friday":null},
		  "holidays":[{"name":"x","yearly":{"month":12,"day":25},"observed":"nearest-weekday","closed":[{"start":"12:00","end":"24:00"}]},{"date":"2026-05-01"}],
		  "exceptions":[{"date":"2026-06-06","hours":[{"start":"10:00","end":"14:00"}]}]}`,
		`{"kind":"union","parts":[{"kind":"always"},{"zone":"UTC","week":{"sunday":[{"start":"00:00","end":"24:00"}]}}]}`,
		`{"zone":"UTC","week":{"monday":[{"start":"9:00","end":"17:00"}]},"holidays":[{"date":"2026-12-32"}]}`,
		`{"week":"x","holidays":[1,{"yearly":{"day":"3"}}],"exceptions":{},"parts":[[]]}`,
		`{"zone":"UTC","week":{"monday":[],"Monday":[]}}`,
		`[]`, `null`, `{"zone":`,
		`{"":[],""`, `{"":[],"":[]}`, `{"holidays":[{"date":"2026-01-01","date":null}]}`,
	} {
		f.Add([]byte(s))
	}
	for _, levels := range []int{MaxCalendarDepth, MaxCalendarDepth + 1} {
		f.Add([]byte(strings.Repeat(`{"kind":"union","parts":[`, levels) + `{"kind":"always"}` + strings.Repeat(`]}`, levels)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseCalendarSpec(data)
		var ref CalendarSpec
		refErr := json.Unmarshal(data, &ref)
		switch {
		case err == nil:
			require.NoError(t, refErr, "encoding/json refuses what the decoder reads")
			require.Equal(t, ref, got)
		case refErr == nil:
			// encoding/json has no bound on nesting and reads a member
			// named twice its own way; the decoder refuses both.
			if !hasRepeatedName(data) {
				require.Greater(t, specDepth(ref), MaxCalendarDepth, "encoding/json reads what the decoder refuses: %v", err)
				require.ErrorContains(t, err, "levels deep")
			}
		default:
			var syn *json.SyntaxError
			var ve *itsm.ValidationError
			if !errors.As(err, &syn) {
				require.ErrorAs(t, err, &ve)
				for _, fe := range ve.All() {
					require.NotEmpty(t, fe.Field, "%v", err)
					require.NotEmpty(t, fe.Reason, "%v", err)
				}
			}
		}
		s, err := ParseSchedule(data)
		if err != nil {
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			for _, fe := range ve.All() {
				require.NotEmpty(t, fe.Field, "%v", err)
			}
			return
		}
		b, err := json.Marshal(s)
		require.NoError(t, err)
		back, err := ParseSchedule(b)
		require.NoError(t, err, "%s", b)
		// Marshaling may drop the difference between an empty and an
		// absent list, so the text is a fixed point only from the second
		// round on; the working time is the same from the first.
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(1, 0, 0)
		require.Equal(t, s.Between(from, to), back.Between(from, to))
		b2, err := json.Marshal(back)
		require.NoError(t, err)
		again, err := ParseSchedule(b2)
		require.NoError(t, err, "%s", b2)
		b3, err := json.Marshal(again)
		require.NoError(t, err)
		require.JSONEq(t, string(b2), string(b3))
	})
}

// specDepth is how many levels of parts spec nests: 0 for a calendar
// without parts.
func specDepth(spec CalendarSpec) int {
	d := 0
	for _, p := range spec.Parts {
		d = max(d, 1+specDepth(p))
	}
	return d
}
