package itsm

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file carries the ITIL 4 vocabulary as typed values. Each type is a
// small closed set: it prints and marshals as a stable slug
// ("deliver_and_support"), parses the slug or the display name in any case,
// and reports its display name with Name.

// Dimension is one of the four dimensions of service management. Every
// service, change and improvement should be considered in all four.
type Dimension uint8

// The four dimensions.
const (
	DimensionOrganizationsAndPeople Dimension = iota + 1
	DimensionInformationAndTechnology
	DimensionPartnersAndSuppliers
	DimensionValueStreamsAndProcesses
)

var dimensions = enumTable[Dimension]{field: "dimension", entries: []enumEntry{
	{"organizations_and_people", "Organizations and people"},
	{"information_and_technology", "Information and technology"},
	{"partners_and_suppliers", "Partners and suppliers"},
	{"value_streams_and_processes", "Value streams and processes"},
}}

// Dimensions returns the four dimensions in their usual order.
func Dimensions() []Dimension { return dimensions.all() }

// ParseDimension parses a dimension's slug or name. Errors are
// *ValidationError naming "dimension".
func ParseDimension(s string) (Dimension, error) { return dimensions.parse(s) }

// Valid reports whether d is one of the four dimensions.
func (d Dimension) Valid() bool { return dimensions.valid(d) }

// String returns the slug.
func (d Dimension) String() string { return dimensions.slug(d) }

// Name returns the display name, e.g. "Partners and suppliers".
func (d Dimension) Name() string { return dimensions.name(d) }

// MarshalText returns the slug.
func (d Dimension) MarshalText() ([]byte, error) { return dimensions.marshal(d) }

// UnmarshalText parses the slug or name.
func (d *Dimension) UnmarshalText(b []byte) error { return dimensions.unmarshal(d, b) }

// Activity is one of the six activities of the service value chain.
type Activity uint8

// The six value chain activities.
const (
	ActivityPlan Activity = iota + 1
	ActivityImprove
	ActivityEngage
	ActivityDesignAndTransition
	ActivityObtainBuild
	ActivityDeliverAndSupport
)

var activities = enumTable[Activity]{field: "activity", entries: []enumEntry{
	{"plan", "Plan"},
	{"improve", "Improve"},
	{"engage", "Engage"},
	{"design_and_transition", "Design and transition"},
	{"obtain_build", "Obtain/build"},
	{"deliver_and_support", "Deliver and support"},
}}

// Activities returns the six value chain activities.
func Activities() []Activity { return activities.all() }

// ParseActivity parses an activity's slug or name ("Obtain/build",
// "obtain_build"). Errors are *ValidationError naming "activity".
func ParseActivity(s string) (Activity, error) {
	return activities.parse(strings.ReplaceAll(s, "/", "_"))
}

// Valid reports whether a is one of the six activities.
func (a Activity) Valid() bool { return activities.valid(a) }

// String returns the slug.
func (a Activity) String() string { return activities.slug(a) }

// Name returns the display name, e.g. "Deliver and support".
func (a Activity) Name() string { return activities.name(a) }

// MarshalText returns the slug.
func (a Activity) MarshalText() ([]byte, error) { return activities.marshal(a) }

// UnmarshalText parses the slug or name.
func (a *Activity) UnmarshalText(b []byte) error {
	v, err := ParseActivity(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ValueStream is a named, ordered sequence of value chain activities that
// turns one kind of demand into value, e.g. "restore a service": engage,
// deliver and support, improve. Build one with NewValueStream.
type ValueStream struct {
	name  string
	steps []Activity
}

// MaxValueStreamSteps bounds the length of a value stream.
const MaxValueStreamSteps = 64

// NewValueStream validates and builds a value stream. It returns a
// *ValidationError listing every problem: an empty or malformed name, no
// steps, too many steps, an unknown activity, or a step that repeats the one
// before it.
func NewValueStream(name string, steps ...Activity) (ValueStream, error) {
	var errs FieldErrors
	trimmed := strings.TrimSpace(name)
	switch {
	case trimmed == "":
		errs.Add("name", "must not be empty")
	case len(name) > 128 || !utf8.ValidString(name):
		errs.Add("name", "must be valid UTF-8 of at most 128 bytes")
	}
	switch {
	case len(steps) == 0:
		errs.Add("steps", "must list at least one activity")
	case len(steps) > MaxValueStreamSteps:
		errs.Addf("steps", "must list at most %d activities", MaxValueStreamSteps)
	}
	for i, s := range steps {
		switch {
		case !s.Valid():
			errs.Addf(fmt.Sprintf("steps[%d]", i), "%d is not a value chain activity", uint8(s))
		case i > 0 && steps[i-1] == s:
			errs.Addf(fmt.Sprintf("steps[%d]", i), "repeats the previous step %s", s)
		}
	}
	if err := errs.Err(); err != nil {
		return ValueStream{}, err
	}
	return ValueStream{name: trimmed, steps: append([]Activity(nil), steps...)}, nil
}

// RestoreServiceStream returns the value stream of an incident: a user
// reports a disruption (engage), the desk restores service (deliver and
// support), and the cause feeds improvement (improve).
func RestoreServiceStream() ValueStream {
	return ValueStream{name: "Restore a service", steps: []Activity{ActivityEngage, ActivityDeliverAndSupport, ActivityImprove}}
}

// Name returns the stream's name.
func (v ValueStream) Name() string { return v.name }

// Steps returns the activities in order.
func (v ValueStream) Steps() []Activity { return append([]Activity(nil), v.steps...) }

// String renders "Restore a service: engage → deliver_and_support → improve".
func (v ValueStream) String() string {
	parts := make([]string, len(v.steps))
	for i, s := range v.steps {
		parts[i] = s.String()
	}
	return v.name + ": " + strings.Join(parts, " → ")
}

type valueStreamJSON struct {
	Name  string     `json:"name"`
	Steps []Activity `json:"steps"`
}

// MarshalJSON writes {"name": ..., "steps": [...]}.
func (v ValueStream) MarshalJSON() ([]byte, error) {
	return json.Marshal(valueStreamJSON{Name: v.name, Steps: v.steps})
}

// UnmarshalJSON reads {"name": ..., "steps": [...]} and validates it as
// NewValueStream does.
func (v *ValueStream) UnmarshalJSON(b []byte) error {
	var raw valueStreamJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return NewValidationError("value_stream", "is not a valid JSON value stream: "+err.Error())
	}
	vs, err := NewValueStream(raw.Name, raw.Steps...)
	if err != nil {
		return err
	}
	*v = vs
	return nil
}

// GuidingPrinciple is one of the seven ITIL 4 guiding principles.
type GuidingPrinciple uint8

// The seven guiding principles.
const (
	PrincipleFocusOnValue GuidingPrinciple = iota + 1
	PrincipleStartWhereYouAre
	PrincipleProgressIteratively
	PrincipleCollaborate
	PrincipleThinkHolistically
	PrincipleKeepItSimple
	PrincipleOptimizeAndAutomate
)

var principles = enumTable[GuidingPrinciple]{field: "guiding_principle", entries: []enumEntry{
	{"focus_on_value", "Focus on value"},
	{"start_where_you_are", "Start where you are"},
	{"progress_iteratively_with_feedback", "Progress iteratively with feedback"},
	{"collaborate_and_promote_visibility", "Collaborate and promote visibility"},
	{"think_and_work_holistically", "Think and work holistically"},
	{"keep_it_simple_and_practical", "Keep it simple and practical"},
	{"optimize_and_automate", "Optimize and automate"},
}}

// GuidingPrinciples returns the seven principles in their usual order.
func GuidingPrinciples() []GuidingPrinciple { return principles.all() }

// ParseGuidingPrinciple parses a principle's slug or name. Errors are
// *ValidationError naming "guiding_principle".
func ParseGuidingPrinciple(s string) (GuidingPrinciple, error) { return principles.parse(s) }

// Valid reports whether p is one of the seven principles.
func (p GuidingPrinciple) Valid() bool { return principles.valid(p) }

// String returns the slug.
func (p GuidingPrinciple) String() string { return principles.slug(p) }

// Name returns the display name, e.g. "Keep it simple and practical".
func (p GuidingPrinciple) Name() string { return principles.name(p) }

// MarshalText returns the slug.
func (p GuidingPrinciple) MarshalText() ([]byte, error) { return principles.marshal(p) }

// UnmarshalText parses the slug or name.
func (p *GuidingPrinciple) UnmarshalText(b []byte) error { return principles.unmarshal(p, b) }

// ImprovementStep is one step of the continual improvement model, the loop
// every entry of a continual improvement register goes through.
type ImprovementStep uint8

// The seven steps of the continual improvement model, in order.
const (
	StepWhatIsTheVision ImprovementStep = iota + 1
	StepWhereAreWeNow
	StepWhereDoWeWantToBe
	StepHowDoWeGetThere
	StepTakeAction
	StepDidWeGetThere
	StepKeepTheMomentum
)

var improvementSteps = enumTable[ImprovementStep]{field: "improvement_step", entries: []enumEntry{
	{"what_is_the_vision", "What is the vision?"},
	{"where_are_we_now", "Where are we now?"},
	{"where_do_we_want_to_be", "Where do we want to be?"},
	{"how_do_we_get_there", "How do we get there?"},
	{"take_action", "Take action"},
	{"did_we_get_there", "Did we get there?"},
	{"keep_the_momentum_going", "How do we keep the momentum going?"},
}}

// ImprovementSteps returns the seven steps in order.
func ImprovementSteps() []ImprovementStep { return improvementSteps.all() }

// ParseImprovementStep parses a step's slug or name. Errors are
// *ValidationError naming "improvement_step".
func ParseImprovementStep(s string) (ImprovementStep, error) { return improvementSteps.parse(s) }

// Valid reports whether s is one of the seven steps.
func (s ImprovementStep) Valid() bool { return improvementSteps.valid(s) }

// String returns the slug.
func (s ImprovementStep) String() string { return improvementSteps.slug(s) }

// Name returns the display name, e.g. "Where are we now?".
func (s ImprovementStep) Name() string { return improvementSteps.name(s) }

// Next returns the step after s; the last step leads back to the first,
// because the model is a loop.
func (s ImprovementStep) Next() ImprovementStep {
	if !s.Valid() {
		return 0
	}
	if s == StepKeepTheMomentum {
		return StepWhatIsTheVision
	}
	return s + 1
}

// MarshalText returns the slug.
func (s ImprovementStep) MarshalText() ([]byte, error) { return improvementSteps.marshal(s) }

// UnmarshalText parses the slug or name.
func (s *ImprovementStep) UnmarshalText(b []byte) error { return improvementSteps.unmarshal(s, b) }

// AgreementKind says who an agreement is with: the customer (SLA), another
// internal team (OLA) or a supplier (UC).
type AgreementKind uint8

// The agreement kinds.
const (
	// AgreementSLA is a service level agreement with a customer.
	AgreementSLA AgreementKind = iota + 1
	// AgreementOLA is an operational level agreement between internal teams
	// that supports an SLA.
	AgreementOLA
	// AgreementUC is an underpinning contract with an external supplier that
	// supports an SLA.
	AgreementUC
)

var agreementKinds = enumTable[AgreementKind]{field: "agreement_kind", entries: []enumEntry{
	{"sla", "Service level agreement"},
	{"ola", "Operational level agreement"},
	{"uc", "Underpinning contract"},
}}

// AgreementKinds returns SLA, OLA and UC.
func AgreementKinds() []AgreementKind { return agreementKinds.all() }

// ParseAgreementKind parses "SLA", "ola", "Underpinning contract" and the
// like. Errors are *ValidationError naming "agreement_kind".
func ParseAgreementKind(s string) (AgreementKind, error) { return agreementKinds.parse(s) }

// Valid reports whether k is SLA, OLA or UC.
func (k AgreementKind) Valid() bool { return agreementKinds.valid(k) }

// String returns the slug: "sla", "ola" or "uc".
func (k AgreementKind) String() string { return agreementKinds.slug(k) }

// Name returns the display name, e.g. "Underpinning contract".
func (k AgreementKind) Name() string { return agreementKinds.name(k) }

// Counterparty says who the agreement is with.
func (k AgreementKind) Counterparty() string {
	switch k {
	case AgreementSLA:
		return "customer"
	case AgreementOLA:
		return "internal team"
	case AgreementUC:
		return "supplier"
	}
	return ""
}

// MarshalText returns the slug.
func (k AgreementKind) MarshalText() ([]byte, error) { return agreementKinds.marshal(k) }

// UnmarshalText parses the slug or name.
func (k *AgreementKind) UnmarshalText(b []byte) error { return agreementKinds.unmarshal(k, b) }
