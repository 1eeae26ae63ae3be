package cmdb

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// ClassName names a CI class: 1 to 64 lower-case ASCII letters, digits and
// underscores, starting with a letter ("virtual_machine").
type ClassName string

// The built-in classes. The tree (abstract classes marked *); a CI of a
// database needs the attribute engine, of a container image, of a server
// or virtual machine hostname (the package doc lists every class's
// required and recommended attributes):
//
//	ci*
//	├── service*
//	│   ├── business_service
//	│   ├── application_service
//	│   └── service_offering
//	├── software*
//	│   ├── application
//	│   ├── database
//	│   └── container
//	├── computer*
//	│   ├── server
//	│   └── virtual_machine
//	├── device*
//	│   ├── network_device
//	│   └── storage_device
//	├── group
//	│   └── cluster
//	└── location
const (
	ClassCI                 ClassName = "ci"
	ClassService            ClassName = "service"
	ClassBusinessService    ClassName = "business_service"
	ClassApplicationService ClassName = "application_service"
	ClassServiceOffering    ClassName = "service_offering"
	ClassSoftware           ClassName = "software"
	ClassApplication        ClassName = "application"
	ClassDatabase           ClassName = "database"
	ClassContainer          ClassName = "container"
	ClassComputer           ClassName = "computer"
	ClassServer             ClassName = "server"
	ClassVirtualMachine     ClassName = "virtual_machine"
	ClassDevice             ClassName = "device"
	ClassNetworkDevice      ClassName = "network_device"
	ClassStorageDevice      ClassName = "storage_device"
	ClassGroup              ClassName = "group"
	ClassCluster            ClassName = "cluster"
	ClassLocation           ClassName = "location"
)

// AttrMinUp is the int attribute of a redundancy group (class group and
// below, or any CI that receives impact through a redundant relationship
// type) giving the fewest providers that must stay up for it to stay up.
// Absent, it is 1: the group is impacted only when every provider is down.
const AttrMinUp = "min_up"

// MaxNameLen is the longest class, attribute or relationship type name.
const MaxNameLen = 64

// validName reports whether s is a usable class, attribute or relationship
// type name.
func validName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c == '_' && i > 0 || c >= '0' && c <= '9' && i > 0
		if !ok {
			return false
		}
	}
	return true
}

// Attribute declares one attribute of a class.
type Attribute struct {
	// Name is the attribute's key in CI.Attributes (a name as for classes).
	Name string `json:"name"`
	// Type is the type every value must have.
	Type AttrType `json:"type"`
	// Required attributes must be present on every CI of the class.
	Required bool `json:"required,omitempty"`
	// Recommended attributes may be absent; data-quality metrics count them.
	Recommended bool `json:"recommended,omitempty"`
	// Values, for string attributes, lists the only values allowed; empty
	// allows any text.
	Values []string `json:"values,omitempty"`
}

// validate checks the attribute on its own; field is its path.
func (a Attribute) validate(errs *itsm.FieldErrors, field string) {
	if !validName(a.Name) {
		errs.Addf(field+".name", "%q must be 1 to %d lower-case letters, digits and underscores, starting with a letter", clip(a.Name), MaxNameLen)
	}
	if !a.Type.Valid() {
		errs.Addf(field+".type", "%q is not an attribute type", clip(string(a.Type)))
	}
	if a.Required && a.Recommended {
		errs.Add(field+".recommended", "a required attribute cannot also be merely recommended")
	}
	if len(a.Values) > 0 && a.Type != TypeString {
		errs.Add(field+".values", "only string attributes can list values")
	}
	for i, v := range a.Values {
		if v == "" || !utf8.ValidString(v) || slices.Index(a.Values, v) != i {
			errs.Addf(fmt.Sprintf("%s.values[%d]", field, i), "must be non-empty, valid UTF-8 and listed once")
		}
	}
}

// Class declares a CI class: its place in the tree and its own attributes.
// A class inherits every attribute of its ancestors.
type Class struct {
	// Name identifies the class.
	Name ClassName `json:"name"`
	// Parent is the class this one specialises; empty only for the root "ci".
	Parent ClassName `json:"parent,omitempty"`
	// Label is a display name ("Virtual machine"); empty means Name.
	Label string `json:"label,omitempty"`
	// Abstract classes organise the tree; no CI may be of an abstract class.
	Abstract bool `json:"abstract,omitempty"`
	// Attributes are the class's own attributes, added to the inherited ones.
	Attributes []Attribute `json:"attributes,omitempty"`
}

// clip shortens text quoted in error messages.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
