package sla

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// Decoding of calendar specs with full field paths. encoding/json names a
// field without its array indexes ("holidays.yearly.day") and passes the
// errors of UnmarshalText through without any path ("time", "date"), so a
// bad span among forty could not be found. Each array element and each text
// value is decoded here on its own, under the path NewSchedule would give
// it: "week.monday[0].start", "holidays[2].date", "parts[1].exceptions[0].hours[1].end".

// ParseCalendarSpec reads the JSON form of a calendar spec without
// building the calendar (ParseSchedule builds it). Every part that cannot be
// read is reported in one *itsm.ValidationError naming its full path, as
// NewSchedule names it: "week.monday[0].start", "holidays[2].date",
// "holidays[0].yearly.day", "exceptions[0].hours[1].end", "parts[1].zone"
// (of the fields of one object that have the wrong JSON type, the first);
// a value that is not a JSON object is reported as "calendar". A member
// named twice in one object (names match in any case, as encoding/json
// matches them) is refused rather than read one way or the other, and so
// are unions and intersections nesting more than MaxCalendarDepth levels.
// Syntax errors are returned as encoding/json reports them. It does not
// validate otherwise: call NewSchedule on the result.
//
// A CalendarSpec decoded with encoding/json reads the same values, without
// these paths and checks: the spec keeps no UnmarshalJSON of its own, so a
// host struct that embeds it decodes its own fields too.
func ParseCalendarSpec(data []byte) (CalendarSpec, error) {
	var errs itsm.FieldErrors
	var out CalendarSpec
	if string(data) == "null" {
		return out, nil
	}
	if err := decodeSpec(&errs, "", data, &out); err != nil {
		return CalendarSpec{}, err
	}
	if err := errs.Err(); err != nil {
		return CalendarSpec{}, err
	}
	return out, nil
}

// decodeSpec decodes the spec b into out, recording what cannot be read in
// errs under the path at. It returns only a syntax error.
func decodeSpec(errs *itsm.FieldErrors, at string, b []byte, out *CalendarSpec) error {
	type plain CalendarSpec // without UnmarshalJSON
	raw := struct {
		*plain
		Week       json.RawMessage   `json:"week"`
		Holidays   []json.RawMessage `json:"holidays"`
		Exceptions []json.RawMessage `json:"exceptions"`
		Parts      []json.RawMessage `json:"parts"`
	}{plain: (*plain)(out)}
	if err := json.Unmarshal(b, &raw); err != nil {
		if !recordDecodeError(errs, "calendar", at, err) {
			return err
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field == "" {
			return nil // not an object: nothing else was read
		}
		// A field of the wrong type: encoding/json read the others.
	}
	// b is valid JSON here: a syntax error has been returned.
	if repeated(errs, at, b) {
		*out = CalendarSpec{}
		return nil
	}
	decodeWeek(errs, joinPath(at, "week"), raw.Week, &out.Week)
	if raw.Holidays != nil {
		out.Holidays = make([]Holiday, len(raw.Holidays))
		for i, hb := range raw.Holidays {
			decodeHoliday(errs, fieldIndex(joinPath(at, "holidays"), i), hb, &out.Holidays[i])
		}
	}
	if raw.Exceptions != nil {
		out.Exceptions = make([]Exception, len(raw.Exceptions))
		for i, eb := range raw.Exceptions {
			decodeException(errs, fieldIndex(joinPath(at, "exceptions"), i), eb, &out.Exceptions[i])
		}
	}
	if len(raw.Parts) > 0 && partsDepth(at) >= MaxCalendarDepth {
		// Each level reads the text of the levels below it again: the
		// bound keeps that in proportion.
		errs.Addf(joinPath(at, "parts"), "nests calendars more than %d levels deep", MaxCalendarDepth)
		return nil
	}
	if raw.Parts != nil {
		out.Parts = make([]CalendarSpec, len(raw.Parts))
		for i, pb := range raw.Parts {
			_ = decodeSpec(errs, fieldIndex(joinPath(at, "parts"), i), pb, &out.Parts[i])
		}
	}
	return nil
}

// decodeWeek decodes the JSON object b, keyed by weekday names, into w.
// Names match in any case; two spellings of one day in one object are
// refused, since which one won would depend on map order. Keys are visited
// in sorted order, so the same text always gives the same answer, errors
// included.
func decodeWeek(errs *itsm.FieldErrors, at string, b []byte, w *Week) {
	if isNull(b) {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		errs.Addf(at, "must be a JSON object keyed by weekday names, not %s", jsonKind(b))
		return
	}
	var named [7]string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d, ok := parseWeekday(k)
		switch {
		case !ok:
			errs.Addf(at, "%q is not a weekday name", k)
			continue
		case named[d] != "":
			errs.Addf(at, "%q and %q name the same weekday", named[d], k)
			continue
		}
		named[d] = k
		w[d] = decodeSpans(errs, joinPath(at, weekdayKey(d)), m[k])
	}
}

// parseWeekday returns the weekday whose English name is s, in any case.
func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(weekdayKey(d), s) {
			return d, true
		}
	}
	return 0, false
}

// decodeHoliday decodes the holiday b into h.
func decodeHoliday(errs *itsm.FieldErrors, at string, b []byte, h *Holiday) {
	type plain Holiday
	raw := struct {
		*plain
		Date   json.RawMessage   `json:"date"`
		Yearly json.RawMessage   `json:"yearly"`
		Closed []json.RawMessage `json:"closed"`
	}{plain: (*plain)(h)}
	if !decodeObject(errs, at, b, &raw) {
		return
	}
	decodeText(errs, joinPath(at, "date"), raw.Date, &h.Date)
	if !isNull(raw.Yearly) {
		h.Yearly = new(YearlyRule)
		decodeObject(errs, joinPath(at, "yearly"), raw.Yearly, h.Yearly)
	}
	if raw.Closed != nil {
		h.Closed = decodeSpanList(errs, joinPath(at, "closed"), raw.Closed)
	}
}

// decodeException decodes the exception b into e.
func decodeException(errs *itsm.FieldErrors, at string, b []byte, e *Exception) {
	type plain Exception
	raw := struct {
		*plain
		Date  json.RawMessage   `json:"date"`
		Hours []json.RawMessage `json:"hours"`
	}{plain: (*plain)(e)}
	if !decodeObject(errs, at, b, &raw) {
		return
	}
	decodeText(errs, joinPath(at, "date"), raw.Date, &e.Date)
	if raw.Hours != nil {
		e.Hours = decodeSpanList(errs, joinPath(at, "hours"), raw.Hours)
	}
}

// decodeSpans decodes the JSON array of spans b; null gives nil.
func decodeSpans(errs *itsm.FieldErrors, at string, b []byte) []Span {
	if isNull(b) {
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		errs.Addf(at, "must be a JSON array of spans, not %s", jsonKind(b))
		return nil
	}
	return decodeSpanList(errs, at, list)
}

// decodeSpanList decodes each span of list, naming it at[i]. A null span
// is the zero Span, as encoding/json reads it (NewSchedule refuses it).
func decodeSpanList(errs *itsm.FieldErrors, at string, list []json.RawMessage) []Span {
	out := make([]Span, len(list))
	for i, sb := range list {
		f := fieldIndex(at, i)
		var raw struct {
			Start json.RawMessage `json:"start"`
			End   json.RawMessage `json:"end"`
		}
		if !decodeObject(errs, f, sb, &raw) {
			continue
		}
		decodeText(errs, f+".start", raw.Start, &out[i].Start)
		decodeText(errs, f+".end", raw.End, &out[i].End)
	}
	return out
}

// decodeObject decodes the JSON value b into v, a pointer to a struct,
// recording a value that is not an object, or a field of the wrong type,
// under at. It reports whether b was an object (or null).
func decodeObject(errs *itsm.FieldErrors, at string, b []byte, v any) bool {
	if repeated(errs, at, b) {
		return false
	}
	err := json.Unmarshal(b, v)
	if err == nil {
		return true
	}
	recordDecodeError(errs, "", at, err)
	var typ *json.UnmarshalTypeError
	return !errors.As(err, &typ) || typ.Field != ""
}

// decodeText decodes the JSON string b with u's UnmarshalText, recording
// a value that is not a string, or text u refuses, under at. Null (or an
// absent value) leaves u as it is, as encoding/json does.
func decodeText(errs *itsm.FieldErrors, at string, b []byte, u encoding.TextUnmarshaler) {
	if isNull(b) {
		return
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		errs.Addf(at, "must be a JSON string, not %s", jsonKind(b))
		return
	}
	if err := u.UnmarshalText([]byte(s)); err != nil {
		var ve *itsm.ValidationError
		if errors.As(err, &ve) {
			errs.Add(at, ve.Reason)
		} else {
			errs.Add(at, err.Error())
		}
	}
}

// repeated records in errs, and reports, a member the JSON object b at
// the path at names twice (see repeatedMember): under the member's path,
// or the object's for a member with the empty name.
func repeated(errs *itsm.FieldErrors, at string, b []byte) bool {
	name, ok := repeatedMember(b)
	switch {
	case !ok:
		return false
	case name == "":
		errs.Add(cmp.Or(at, "calendar"), `names the member "" twice`)
	default:
		errs.Add(joinPath(at, name), "is named twice in one object")
	}
	return true
}

// repeatedMember returns the first member name of the JSON object b that
// an earlier member already used, matching names in any case as
// encoding/json matches them to fields, and whether
// there was one. Of a name given twice, encoding/json keeps a later value
// but skips a later null, and merges two objects; reading each value on its
// own could not follow that, so a repeated name is refused instead. It
// answers false for anything that is not an object, or not valid JSON
// (the decoding that follows reports those).
func repeatedMember(b []byte) (string, bool) {
	if len(b) == 0 || b[0] != '{' {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	var seen map[string]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		name, _ := tok.(string)
		key := strings.ToLower(strings.ToUpper(name)) // as encoding/json folds: ſ is s
		if seen[key] {
			return name, true
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

// isNull reports whether b is absent or the JSON null.
func isNull(b []byte) bool { return len(b) == 0 || string(b) == "null" }

// jsonKind names the kind of the JSON value b as encoding/json does in its
// errors: "object", "array", "string", "bool", "null" or "number".
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// recordDecodeError records err, met while decoding the part at path at,
// in errs under a full path; root names a whole value that is not a JSON
// object when at is empty. It reports false, recording nothing, for a
// syntax error, which the caller returns as it is.
func recordDecodeError(errs *itsm.FieldErrors, root, at string, err error) bool {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return false
	}
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		// The decoders embed the type as "plain"; its fields are the part's.
		errs.Addf(joinPath(at, strings.TrimPrefix(typ.Field, "plain.")), "must not be a JSON %s", typ.Value)
	case errors.As(err, &typ):
		errs.Addf(cmp.Or(at, root), "must be a JSON object, not %s", typ.Value)
	default:
		errs.Merge(cmp.Or(at, root), err)
	}
	return true
}
