package itsm

// Category classifies a lifecycle state by what it means for the rules that
// apply to it, so that rules and SLA pause conditions key off categories
// rather than state names, and a desk can rename or add states freely.
type Category uint8

// The state categories. The zero Category is unset and invalid.
const (
	// CategoryNew: recorded, nobody working on it yet.
	CategoryNew Category = iota + 1
	// CategoryActive: being worked on.
	CategoryActive
	// CategoryWaiting: work is suspended on someone else (caller, vendor,
	// change, problem); SLA targets commonly pause here.
	CategoryWaiting
	// CategoryResolved: a solution is in place, awaiting confirmation or
	// closure; may be reopened.
	CategoryResolved
	// CategoryClosed: finished; the record is final.
	CategoryClosed
	// CategoryCanceled: abandoned without a resolution (duplicate, raised in
	// error).
	CategoryCanceled
)

var categories = enumTable[Category]{field: "category", entries: []enumEntry{
	{"new", "New"},
	{"active", "Active"},
	{"waiting", "Waiting"},
	{"resolved", "Resolved"},
	{"closed", "Closed"},
	{"canceled", "Canceled"},
}}

// Categories returns every category in lifecycle order.
func Categories() []Category { return categories.all() }

// ParseCategory parses a category's slug ("waiting") or name, ignoring case.
// Errors are *ValidationError naming "category".
func ParseCategory(s string) (Category, error) { return categories.parse(s) }

// Valid reports whether c is one of the declared categories.
func (c Category) Valid() bool { return categories.valid(c) }

// String returns the slug, e.g. "waiting".
func (c Category) String() string { return categories.slug(c) }

// IsOpen reports whether records in this category still need work: new,
// active or waiting.
func (c Category) IsOpen() bool {
	return c == CategoryNew || c == CategoryActive || c == CategoryWaiting
}

// IsDone reports whether records in this category are finished: closed or
// canceled.
func (c Category) IsDone() bool { return c == CategoryClosed || c == CategoryCanceled }

// MarshalText returns the slug; an invalid category is an error.
func (c Category) MarshalText() ([]byte, error) { return categories.marshal(c) }

// UnmarshalText parses the slug or name.
func (c *Category) UnmarshalText(b []byte) error { return categories.unmarshal(c, b) }
