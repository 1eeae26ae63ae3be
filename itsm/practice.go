package itsm

// PracticeGroup is one of the three groups the 34 ITIL 4 practices fall into.
type PracticeGroup uint8

// The practice groups.
const (
	GroupGeneral PracticeGroup = iota + 1
	GroupService
	GroupTechnical
)

var practiceGroups = enumTable[PracticeGroup]{field: "practice_group", entries: []enumEntry{
	{"general_management", "General management practices"},
	{"service_management", "Service management practices"},
	{"technical_management", "Technical management practices"},
}}

// PracticeGroups returns the three groups.
func PracticeGroups() []PracticeGroup { return practiceGroups.all() }

// ParsePracticeGroup parses a group's slug or name. Errors are
// *ValidationError naming "practice_group".
func ParsePracticeGroup(s string) (PracticeGroup, error) { return practiceGroups.parse(s) }

// Valid reports whether g is one of the three groups.
func (g PracticeGroup) Valid() bool { return practiceGroups.valid(g) }

// String returns the slug.
func (g PracticeGroup) String() string { return practiceGroups.slug(g) }

// Name returns the display name.
func (g PracticeGroup) Name() string { return practiceGroups.name(g) }

// MarshalText returns the slug.
func (g PracticeGroup) MarshalText() ([]byte, error) { return practiceGroups.marshal(g) }

// UnmarshalText parses the slug or name.
func (g *PracticeGroup) UnmarshalText(b []byte) error { return practiceGroups.unmarshal(g, b) }

// Practice is one of the 34 ITIL 4 management practices.
type Practice uint8

// The 34 practices: 14 general, 17 service and 3 technical management
// practices, each group in alphabetical order.
const (
	PracticeArchitectureManagement Practice = iota + 1
	PracticeContinualImprovement
	PracticeInformationSecurityManagement
	PracticeKnowledgeManagement
	PracticeMeasurementAndReporting
	PracticeOrganizationalChangeManagement
	PracticePortfolioManagement
	PracticeProjectManagement
	PracticeRelationshipManagement
	PracticeRiskManagement
	PracticeServiceFinancialManagement
	PracticeStrategyManagement
	PracticeSupplierManagement
	PracticeWorkforceAndTalentManagement

	PracticeAvailabilityManagement
	PracticeBusinessAnalysis
	PracticeCapacityAndPerformanceManagement
	PracticeChangeEnablement
	PracticeIncidentManagement
	PracticeITAssetManagement
	PracticeMonitoringAndEventManagement
	PracticeProblemManagement
	PracticeReleaseManagement
	PracticeServiceCatalogueManagement
	PracticeServiceConfigurationManagement
	PracticeServiceContinuityManagement
	PracticeServiceDesign
	PracticeServiceDesk
	PracticeServiceLevelManagement
	PracticeServiceRequestManagement
	PracticeServiceValidationAndTesting

	PracticeDeploymentManagement
	PracticeInfrastructureAndPlatformManagement
	PracticeSoftwareDevelopmentAndManagement
)

type practiceInfo struct {
	group      PracticeGroup
	purpose    string
	activities []Activity
	clause     string
}

const (
	plan    = ActivityPlan
	improve = ActivityImprove
	engage  = ActivityEngage
	design  = ActivityDesignAndTransition
	build   = ActivityObtainBuild
	deliver = ActivityDeliverAndSupport
)

var practices = enumTable[Practice]{field: "practice", entries: []enumEntry{
	{"architecture_management", "Architecture management"},
	{"continual_improvement", "Continual improvement"},
	{"information_security_management", "Information security management"},
	{"knowledge_management", "Knowledge management"},
	{"measurement_and_reporting", "Measurement and reporting"},
	{"organizational_change_management", "Organizational change management"},
	{"portfolio_management", "Portfolio management"},
	{"project_management", "Project management"},
	{"relationship_management", "Relationship management"},
	{"risk_management", "Risk management"},
	{"service_financial_management", "Service financial management"},
	{"strategy_management", "Strategy management"},
	{"supplier_management", "Supplier management"},
	{"workforce_and_talent_management", "Workforce and talent management"},
	{"availability_management", "Availability management"},
	{"business_analysis", "Business analysis"},
	{"capacity_and_performance_management", "Capacity and performance management"},
	{"change_enablement", "Change enablement"},
	{"incident_management", "Incident management"},
	{"it_asset_management", "IT asset management"},
	{"monitoring_and_event_management", "Monitoring and event management"},
	{"problem_management", "Problem management"},
	{"release_management", "Release management"},
	{"service_catalogue_management", "Service catalogue management"},
	{"service_configuration_management", "Service configuration management"},
	{"service_continuity_management", "Service continuity management"},
	{"service_design", "Service design"},
	{"service_desk", "Service desk"},
	{"service_level_management", "Service level management"},
	{"service_request_management", "Service request management"},
	{"service_validation_and_testing", "Service validation and testing"},
	{"deployment_management", "Deployment management"},
	{"infrastructure_and_platform_management", "Infrastructure and platform management"},
	{"software_development_and_management", "Software development and management"},
}}

// practiceTable is indexed by Practice-1, in the order of the constants. The
// purposes are itsmkit's own one-line summaries; clause names the ISO/IEC
// 20000-1:2018 clause that sets requirements for the same work, where one does.
var practiceTable = [...]practiceInfo{
	{GroupGeneral, "Keep a coherent picture of how the organisation's structures, systems and technology fit together, so that change is planned against it.", []Activity{plan, improve, design}, ""},
	{GroupGeneral, "Keep services and ways of working in step with changing needs through small, measured, continuing improvements.", []Activity{improve, plan, engage}, "10.2"},
	{GroupGeneral, "Protect the confidentiality, integrity and availability of the information the organisation relies on.", []Activity{plan, design, deliver}, "8.7.3"},
	{GroupGeneral, "Capture, share and reuse what people know, so that answers are found instead of rediscovered.", []Activity{improve, engage, deliver}, "7.6"},
	{GroupGeneral, "Turn data into evidence for decisions by collecting, analysing and reporting it against agreed measures.", []Activity{improve, plan}, "9.1"},
	{GroupGeneral, "Help people adopt new ways of working so that changes to the organisation land and last.", []Activity{improve, engage, design}, ""},
	{GroupGeneral, "Choose the mix of services, products, programmes and projects that best uses limited funding and capacity.", []Activity{plan, engage}, "8.2"},
	{GroupGeneral, "Deliver projects on time, within budget and to the agreed scope.", []Activity{design, build}, ""},
	{GroupGeneral, "Build and keep trusted links with stakeholders, understanding what they value and need.", []Activity{engage, plan}, "8.3.2"},
	{GroupGeneral, "Identify, assess and treat risks so that the organisation takes them knowingly.", []Activity{plan, improve}, "6.1"},
	{GroupGeneral, "Support service decisions with reliable financial information: budgets, costs and charges.", []Activity{plan, engage}, "8.4.1"},
	{GroupGeneral, "Set the organisation's goals and the course of action and resources to reach them.", []Activity{plan, improve}, ""},
	{GroupGeneral, "Make sure suppliers and their performance support the services promised to customers.", []Activity{engage, build}, "8.3.4"},
	{GroupGeneral, "Have people with the right skills and attitudes in the right roles, now and in future.", []Activity{plan, improve}, "7.2"},

	{GroupService, "Make services available when and as agreed, at a justifiable cost.", []Activity{plan, design, deliver}, "8.7.1"},
	{GroupService, "Understand the business and its needs well enough to recommend fitting solutions.", []Activity{plan, engage, design}, ""},
	{GroupService, "Make services perform as expected and meet current and future demand cost-effectively.", []Activity{plan, design, deliver}, "8.4.3"},
	{GroupService, "Maximise the number of successful changes by assessing risk, authorising changes and managing their schedule.", []Activity{design, build, deliver}, "8.5.1"},
	{GroupService, "Restore normal service as quickly as possible to limit the harm an unplanned disruption does.", []Activity{deliver, engage, improve}, "8.6.1"},
	{GroupService, "Plan and manage the whole life of IT assets to maximise value, control cost and manage risk.", []Activity{plan, build, deliver}, "8.2.5"},
	{GroupService, "Watch services and their components, and record and act on meaningful changes of state.", []Activity{deliver, improve}, ""},
	{GroupService, "Reduce how often incidents happen and how much they hurt by finding causes, workarounds and known errors.", []Activity{improve, deliver}, "8.6.3"},
	{GroupService, "Make new and changed services and features available for use.", []Activity{design, deliver}, "8.5.3"},
	{GroupService, "Keep one consistent, current source of information on every service and offering.", []Activity{engage, plan}, "8.2.4"},
	{GroupService, "Keep accurate, reliable information on how services and their configuration items are built and related.", []Activity{design, build, deliver}, "8.2.6"},
	{GroupService, "Keep services available and performing well enough through a disaster, and recover them in agreed times.", []Activity{plan, design}, "8.7.2"},
	{GroupService, "Design products and services that are fit for purpose and fit for use.", []Activity{design, plan}, "8.5.2"},
	{GroupService, "Be the single point of contact that captures demand for incident resolution and service requests.", []Activity{engage, deliver}, ""},
	{GroupService, "Agree business-based targets for service levels, then measure, report and manage against them.", []Activity{plan, engage, improve}, "8.3.3"},
	{GroupService, "Handle pre-defined, user-initiated requests effectively and in a friendly way.", []Activity{engage, deliver}, "8.6.2"},
	{GroupService, "Make sure new and changed products and services meet their requirements before release.", []Activity{design, build}, "8.5.2"},

	{GroupTechnical, "Move new or changed hardware, software, documentation and processes into live or other environments.", []Activity{design, build}, "8.5.3"},
	{GroupTechnical, "Oversee the infrastructure and platforms, on premises or in the cloud, that services run on.", []Activity{build, deliver}, ""},
	{GroupTechnical, "Build and maintain applications that meet the needs of users and the organisation.", []Activity{build, design}, ""},
}

// Practices returns all 34 practices: general, then service, then technical.
func Practices() []Practice { return practices.all() }

// PracticesIn returns the practices of group g, in order.
func PracticesIn(g PracticeGroup) []Practice {
	var out []Practice
	for _, p := range Practices() {
		if p.Group() == g {
			out = append(out, p)
		}
	}
	return out
}

// ParsePractice parses a practice's slug ("incident_management") or name
// ("Incident management"). Errors are *ValidationError naming "practice".
func ParsePractice(s string) (Practice, error) { return practices.parse(s) }

// Valid reports whether p is one of the 34 practices.
func (p Practice) Valid() bool { return practices.valid(p) }

// String returns the slug.
func (p Practice) String() string { return practices.slug(p) }

// Name returns the display name, e.g. "Service level management".
func (p Practice) Name() string { return practices.name(p) }

// Group returns the practice's group, or 0 for an invalid practice.
func (p Practice) Group() PracticeGroup {
	if !p.Valid() {
		return 0
	}
	return practiceTable[p-1].group
}

// Purpose returns a one-line statement of what the practice is for.
func (p Practice) Purpose() string {
	if !p.Valid() {
		return ""
	}
	return practiceTable[p-1].purpose
}

// Activities returns the value chain activities the practice contributes to
// most, the main one first.
func (p Practice) Activities() []Activity {
	if !p.Valid() {
		return nil
	}
	return append([]Activity(nil), practiceTable[p-1].activities...)
}

// ISOClause returns the ISO/IEC 20000-1:2018 clause that sets requirements for
// the same work (e.g. "8.6.1" for incident management), or "" when no single
// clause does.
func (p Practice) ISOClause() string {
	if !p.Valid() {
		return ""
	}
	return practiceTable[p-1].clause
}

// MarshalText returns the slug.
func (p Practice) MarshalText() ([]byte, error) { return practices.marshal(p) }

// UnmarshalText parses the slug or name.
func (p *Practice) UnmarshalText(b []byte) error { return practices.unmarshal(p, b) }
