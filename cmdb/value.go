package cmdb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// AttrType is the type of an attribute's values.
type AttrType string

// The attribute types.
const (
	// TypeString is UTF-8 text, optionally restricted to a list of values.
	TypeString AttrType = "string"
	// TypeInt is a 64-bit signed integer.
	TypeInt AttrType = "int"
	// TypeBool is true or false.
	TypeBool AttrType = "bool"
	// TypeTime is an instant, normalised by itsm.Normalize.
	TypeTime AttrType = "time"
	// TypeDecimal is an exact decimal number (capacities, prices).
	TypeDecimal AttrType = "decimal"
	// TypeRef is a typed link to another record (itsm.Ref).
	TypeRef AttrType = "ref"
)

// Valid reports whether t is one of the attribute types.
func (t AttrType) Valid() bool {
	switch t {
	case TypeString, TypeInt, TypeBool, TypeTime, TypeDecimal, TypeRef:
		return true
	}
	return false
}

// Value is one typed attribute value. The zero Value has no type and is
// refused by validation. Build values with StringValue, IntValue and the
// other constructors; read them with the accessor of their type.
type Value struct {
	typ AttrType
	s   string
	i   int64
	t   time.Time
	d   decimal.Decimal
	r   itsm.Ref
}

// StringValue returns a string value.
func StringValue(s string) Value { return Value{typ: TypeString, s: s} }

// IntValue returns an integer value.
func IntValue(i int64) Value { return Value{typ: TypeInt, i: i} }

// BoolValue returns a boolean value.
func BoolValue(b bool) Value {
	v := Value{typ: TypeBool}
	if b {
		v.i = 1
	}
	return v
}

// TimeValue returns an instant value, normalised by itsm.Normalize.
func TimeValue(t time.Time) Value { return Value{typ: TypeTime, t: itsm.Normalize(t)} }

// DecimalValue returns a decimal value.
func DecimalValue(d decimal.Decimal) Value { return Value{typ: TypeDecimal, d: d} }

// RefValue returns a link value.
func RefValue(r itsm.Ref) Value { return Value{typ: TypeRef, r: r} }

// Type returns the value's type; "" for the zero Value.
func (v Value) Type() AttrType { return v.typ }

// Str returns the text of a string value, "" otherwise.
func (v Value) Str() string { return v.s }

// Int returns the integer of an int value, 0 otherwise.
func (v Value) Int() int64 {
	if v.typ != TypeInt {
		return 0
	}
	return v.i
}

// Bool returns the truth of a bool value, false otherwise.
func (v Value) Bool() bool { return v.typ == TypeBool && v.i == 1 }

// Time returns the instant of a time value, the zero time otherwise.
func (v Value) Time() time.Time { return v.t }

// Decimal returns the number of a decimal value, zero otherwise.
func (v Value) Decimal() decimal.Decimal { return v.d }

// Ref returns the link of a ref value, the zero Ref otherwise.
func (v Value) Ref() itsm.Ref { return v.r }

// Equal reports whether v and w have the same type and value.
func (v Value) Equal(w Value) bool {
	if v.typ != w.typ {
		return false
	}
	switch v.typ {
	case TypeTime:
		return v.t.Equal(w.t)
	case TypeDecimal:
		return v.d.Equal(w.d)
	}
	return v.s == w.s && v.i == w.i && v.r == w.r
}

// String renders the value for people and diagrams.
func (v Value) String() string {
	switch v.typ {
	case TypeString:
		return v.s
	case TypeInt:
		return fmt.Sprint(v.i)
	case TypeBool:
		return fmt.Sprint(v.Bool())
	case TypeTime:
		return v.t.Format(time.RFC3339Nano)
	case TypeDecimal:
		return v.d.String()
	case TypeRef:
		return v.r.String()
	}
	return ""
}

// valueJSON is the wire form of a Value: its type and its natural JSON.
type valueJSON struct {
	Type  AttrType        `json:"type"`
	Value json.RawMessage `json:"value"`
}

// MarshalJSON writes {"type": "...", "value": ...}.
func (v Value) MarshalJSON() ([]byte, error) {
	var inner any
	switch v.typ {
	case TypeString:
		inner = v.s
	case TypeInt:
		inner = v.i
	case TypeBool:
		inner = v.Bool()
	case TypeTime:
		inner = v.t
	case TypeDecimal:
		inner = v.d
	case TypeRef:
		inner = v.r
	default:
		return []byte("null"), nil
	}
	raw, err := json.Marshal(inner)
	if err != nil {
		return nil, err
	}
	return json.Marshal(valueJSON{Type: v.typ, Value: raw})
}

// UnmarshalJSON reads the form MarshalJSON writes. An unknown type or a value
// that does not match it is a *itsm.ValidationError naming "value".
func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = Value{}
		return nil
	}
	var w valueJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return itsm.NewValidationError("value", "is not an object with type and value")
	}
	bad := func() error {
		return itsm.NewValidationError("value", fmt.Sprintf("is not a valid %s", w.Type))
	}
	switch w.Type {
	case TypeString:
		var s string
		if json.Unmarshal(w.Value, &s) != nil {
			return bad()
		}
		*v = StringValue(s)
	case TypeInt:
		var i int64
		if json.Unmarshal(w.Value, &i) != nil {
			return bad()
		}
		*v = IntValue(i)
	case TypeBool:
		var x bool
		if json.Unmarshal(w.Value, &x) != nil {
			return bad()
		}
		*v = BoolValue(x)
	case TypeTime:
		var t time.Time
		if json.Unmarshal(w.Value, &t) != nil {
			return bad()
		}
		*v = TimeValue(t)
	case TypeDecimal:
		var d decimal.Decimal
		if json.Unmarshal(w.Value, &d) != nil {
			return bad()
		}
		*v = DecimalValue(d)
	case TypeRef:
		var r itsm.Ref
		if json.Unmarshal(w.Value, &r) != nil {
			return bad()
		}
		*v = RefValue(r)
	default:
		return itsm.NewValidationError("value", fmt.Sprintf("type %q is not an attribute type", w.Type))
	}
	return nil
}
