package postgres

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// PostgreSQL's text and JSONB cannot hold a NUL byte (SQLSTATE 22021,
// 22P05), and encoding/json silently replaces invalid UTF-8 with U+FFFD, so
// a record holding either could not come back as it was given. The store
// refuses such records with a *itsm.ValidationError naming the field,
// writing nothing; the storage contract allows an adapter that cannot hold
// a value exactly to refuse it, never to change it. The incident service
// never produces such text: its commands refuse control characters and
// invalid UTF-8.

// checkText returns a *itsm.ValidationError naming the first string of v
// (by its JSON path, e.g. "custom.site" or "history[2].reason") that holds
// a NUL byte or invalid UTF-8, or nil. doc is v encoded as JSON: when it
// shows neither an escaped NUL nor a replaced invalid sequence, as for
// nearly every record, v is not walked at all.
func checkText(doc []byte, v any) error {
	if !bytes.Contains(doc, []byte(`\u0000`)) && !bytes.Contains(doc, []byte(`\ufffd`)) {
		return nil
	}
	if path, ok := badText(reflect.ValueOf(v), ""); ok {
		return itsm.NewValidationError(path, "holds a NUL byte or invalid UTF-8, which PostgreSQL cannot store")
	}
	return nil
}

// storable reports whether PostgreSQL text can hold s exactly.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// badText walks v's exported fields, elements and map entries and returns
// the path of the first string that is not storable.
func badText(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, !storable(v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return badText(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			sub := name
			if f.Anonymous && f.Tag.Get("json") == "" {
				sub = path
			} else if path != "" {
				sub = path + "." + name
			}
			if p, bad := badText(v.Field(i), sub); bad {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // bytes: JSON carries them as base64 or raw JSON
		}
		for i := range v.Len() {
			if p, bad := badText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			return strings.Compare(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
		})
		for _, k := range keys {
			key := fmt.Sprint(k.Interface())
			if k.Kind() == reflect.String && !storable(k.String()) {
				return path + "." + strconv.Quote(k.String()), true
			}
			if p, bad := badText(v.MapIndex(k), path+"."+key); bad {
				return p, true
			}
		}
	}
	return "", false
}
