package incident

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/itsm"
)

// env carries what every command needs: the policy, the instant and the
// actor.
type env struct {
	pol *Policy
	at  time.Time
	by  itsm.Actor
}

// OpenInput is what opening an incident takes.
type OpenInput struct {
	// Title is a one-line summary. Required.
	Title string `json:"title"`
	// Description is the full account, multi-line.
	Description string `json:"description,omitempty"`
	// Caller identifies who reported it, in the host's directory. Required.
	Caller string `json:"caller"`
	// Channel is how it was reported; empty means unknown.
	Channel Channel `json:"channel,omitempty"`
	// Category and Subcategory classify it in the desk's own taxonomy.
	Category    string `json:"category,omitempty"`
	Subcategory string `json:"subcategory,omitempty"`
	// Service is the affected business service: a Ref of kind
	// itsm.KindService, or itsm.KindCI for a business service the CMDB
	// holds as a CI. Another kind is a *itsm.ValidationError naming
	// "service.kind".
	Service itsm.Ref `json:"service,omitzero"`
	// CIs are the affected configuration items, each a Ref of kind
	// itsm.KindCI; another kind is a *itsm.ValidationError naming
	// "cis[i].kind".
	CIs []itsm.Ref `json:"cis,omitempty"`
	// Impact and Urgency must be levels of the policy's matrix.
	Impact  itsm.Impact  `json:"impact"`
	Urgency itsm.Urgency `json:"urgency"`
	// Group and Assignee optionally pre-fill the assignment without moving
	// the incident out of New; the assign command starts work.
	Group    string `json:"group,omitempty"`
	Assignee string `json:"assignee,omitempty"`
	// Custom holds the desk's own fields.
	Custom map[string]string `json:"custom,omitempty"`
}

// validateRefs checks affected CIs and a service reference.
func validateRefs(errs *itsm.FieldErrors, service itsm.Ref, cis []itsm.Ref) {
	if refsOK(service, cis) {
		return
	}
	if !service.IsZero() {
		errs.Merge("service", service.Validate())
	}
	if len(cis) > MaxCIs {
		errs.Addf("cis", "must list at most %d CIs, got %d", MaxCIs, len(cis))
		return
	}
	seen := make(map[itsm.Ref]bool, len(cis))
	for k, r := range cis {
		if err := r.Validate(); err != nil {
			errs.Merge(fmt.Sprintf("cis[%d]", k), err)
		}
		if seen[r] {
			errs.Addf(fmt.Sprintf("cis[%d]", k), "%s is listed twice", r)
		}
		seen[r] = true
	}
}

// serviceKinds are the kinds of record an incident's Service may name: a
// service of the catalogue, or a business service as the CMDB holds it, a
// CI (what cmdb.Graph.ImpactedServices reports).
var serviceKinds = []itsm.Kind{itsm.KindService, itsm.KindCI}

// validateRefKinds checks what the references set by a command name: the
// service (when setService) must be a service or a CI, each affected CI
// (when setCIs) a CI. A kind that is not even well formed is left to
// validateRefs. Only commands check kinds, not Restore: incidents stored
// before the check with a reference of another kind still load, and keep
// it until a command sets the field again.
func validateRefKinds(errs *itsm.FieldErrors, service itsm.Ref, setService bool, cis []itsm.Ref, setCIs bool) {
	if setService && !service.IsZero() && !slices.Contains(serviceKinds, service.Kind) && service.Kind.Validate() == nil {
		errs.Addf("service.kind", "%q is not a kind the service takes (%v)", service.Kind, serviceKinds)
	}
	if !setCIs {
		return
	}
	for k := range cis {
		if r := &cis[k]; r.Kind != itsm.KindCI && r.Kind.Validate() == nil {
			errs.Addf(fmt.Sprintf("cis[%d].kind", k), "%q is not %q: an affected CI names a configuration item", r.Kind, itsm.KindCI)
		}
	}
}

// refsOK reports whether validateRefs accepts service and cis, recording
// nothing.
func refsOK(service itsm.Ref, cis []itsm.Ref) bool {
	if !service.IsZero() && service.Validate() != nil || len(cis) > MaxCIs {
		return false
	}
	for k := range cis {
		if cis[k].Validate() != nil {
			return false
		}
	}
	switch {
	case len(cis) < 2:
	case len(cis) <= 16:
		// A few CIs: comparing every pair beats building a set.
		for k := 1; k < len(cis); k++ {
			if slices.Contains(cis[:k], cis[k]) {
				return false
			}
		}
	default:
		seen := make(map[itsm.Ref]struct{}, len(cis))
		for _, r := range cis {
			if _, dup := seen[r]; dup {
				return false
			}
			seen[r] = struct{}{}
		}
	}
	return true
}

func validateCustom(errs *itsm.FieldErrors, custom map[string]string, allowEmpty bool) {
	if customOK(custom, allowEmpty) {
		return
	}
	if len(custom) > MaxCustomFields {
		errs.Addf("custom", "must hold at most %d fields, got %d", MaxCustomFields, len(custom))
		return
	}
	keys := slices.Sorted(maps.Keys(custom))
	for _, k := range keys {
		if !isSlug(k) {
			errs.Addf("custom", "field name %q must be 1 to 64 lower-case letters, digits and underscores", clip(k))
			continue
		}
		v := custom[k]
		if v == "" && !allowEmpty {
			errs.Addf("custom."+k, "must not be empty (omit the field instead)")
			continue
		}
		checkText(errs, "custom."+k, v, MaxCustomValueLen, true)
	}
}

// customOK reports whether validateCustom accepts custom, recording
// nothing (and sorting nothing: the order matters only to the errors).
func customOK(custom map[string]string, allowEmpty bool) bool {
	switch {
	case len(custom) == 0:
		return true
	case len(custom) > MaxCustomFields:
		return false
	}
	for k, v := range custom {
		if !isSlug(k) || v == "" && !allowEmpty || !textOK(v, MaxCustomValueLen, true) {
			return false
		}
	}
	return true
}

func validateShort(errs *itsm.FieldErrors, field, s string) {
	if s != "" {
		checkText(errs, field, s, MaxShortTextLen, false)
	}
}

// open builds a new incident in the lifecycle's initial state.
func open(e env, id ID, tenant itsm.TenantID, number Number, in OpenInput) (*Incident, error) {
	var errs itsm.FieldErrors
	if id.IsZero() {
		errs.Add("id", "must not be the zero ID")
	}
	errs.Merge("", tenant.Validate())
	checkRequired(&errs, "title", in.Title, MaxTitleLen, false)
	checkText(&errs, "description", in.Description, MaxDescriptionLen, true)
	checkRequired(&errs, "caller", in.Caller, MaxShortTextLen, false)
	if in.Channel != "" && !in.Channel.Valid() {
		errs.Addf("channel", "%q is not a known channel", clip(string(in.Channel)))
	}
	validateShort(&errs, "category", in.Category)
	validateShort(&errs, "subcategory", in.Subcategory)
	validateShort(&errs, "group", in.Group)
	validateShort(&errs, "assignee", in.Assignee)
	validateRefs(&errs, in.Service, in.CIs)
	validateRefKinds(&errs, in.Service, true, in.CIs, true)
	validateCustom(&errs, in.Custom, false)
	priority, err := e.pol.Matrix.Lookup(in.Impact, in.Urgency)
	errs.Merge("", err)
	errs.Merge("", e.by.Validate())
	if err := errs.Err(); err != nil {
		return nil, err
	}
	at := itsm.Normalize(e.at)
	inc := newIncident(&Data{
		ID:          id,
		Tenant:      tenant,
		Number:      number,
		Title:       strings.TrimSpace(in.Title),
		Description: in.Description,
		Caller:      in.Caller,
		Channel:     in.Channel,
		Category:    in.Category,
		Subcategory: in.Subcategory,
		Service:     in.Service,
		CIs:         slices.Clone(in.CIs),
		Impact:      in.Impact,
		Urgency:     in.Urgency,
		Priority:    priority,
		Group:       in.Group,
		Assignee:    in.Assignee,
		Status:      e.pol.Lifecycle.Initial(),
		OpenedAt:    at,
		Custom:      maps.Clone(in.Custom),
		Major:       Major{Status: MajorNone},
	})
	inc.record(at, &e.by, "open", inc.d.Status, "", nil)
	return inc, nil
}

// refuse builds the *itsm.TransitionError a guard returns.
func (i *Incident) refuse(e env, command, reason string) error {
	return &itsm.TransitionError{
		Lifecycle: e.pol.Lifecycle.Name(),
		From:      string(i.d.Status),
		Action:    command,
		Reason:    reason,
	}
}

// requireOpen refuses commands on incidents that are resolved, closed or
// canceled.
func (i *Incident) requireOpen(e env, command string) error {
	if !e.pol.category(i.d.Status).IsOpen() {
		return i.refuse(e, command, fmt.Sprintf("the incident is %s", e.pol.category(i.d.Status)))
	}
	return nil
}

// requireNotDone refuses commands on closed or canceled incidents, whose
// records are final.
func (i *Incident) requireNotDone(e env, command string) error {
	if e.pol.category(i.d.Status).IsDone() {
		return i.refuse(e, command, fmt.Sprintf("the incident is %s and its record is final", e.pol.category(i.d.Status)))
	}
	return nil
}

// move applies a lifecycle action: it asks the lifecycle for the next state
// before changing anything, then updates the instants the new state's
// category implies and appends the history entry.
func (i *Incident) move(e env, action Action, reason string, changes []FieldChange) error {
	from := i.d.Status
	to, err := e.pol.Lifecycle.Next(from, action)
	if err != nil {
		return err
	}
	at := i.stamp(e.at)
	i.d.Status = to
	fromCat, toCat := e.pol.category(from), e.pol.category(to)
	if fromCat == itsm.CategoryWaiting && toCat != itsm.CategoryWaiting {
		if i.d.HoldReason != "" {
			changes = append(changes, FieldChange{Field: "hold_reason", From: string(i.d.HoldReason)})
		}
		i.d.HoldReason = ""
	}
	switch toCat {
	case itsm.CategoryActive:
		if i.d.FirstResponseAt.IsZero() {
			i.d.FirstResponseAt = at
		}
	case itsm.CategoryResolved:
		i.d.ResolvedAt = at
	case itsm.CategoryClosed:
		i.d.ClosedAt = at
	}
	i.record(at, &e.by, string(action), from, reason, changes)
	return nil
}

// Update changes descriptive fields of an incident. Nil fields are left as
// they are. Changing impact or urgency recomputes the priority and clears a
// manual override, whose reason referred to the old classification. Service
// and CIs take the kinds OpenInput's do; the kinds are checked only when
// the update changes the field (an older record's references sent back
// unchanged are accepted).
type Update struct {
	Title       *string       `json:"title,omitempty"`
	Description *string       `json:"description,omitempty"`
	Caller      *string       `json:"caller,omitempty"`
	Channel     *Channel      `json:"channel,omitempty"`
	Category    *string       `json:"category,omitempty"`
	Subcategory *string       `json:"subcategory,omitempty"`
	Service     *itsm.Ref     `json:"service,omitempty"`
	CIs         *[]itsm.Ref   `json:"cis,omitempty"`
	Impact      *itsm.Impact  `json:"impact,omitempty"`
	Urgency     *itsm.Urgency `json:"urgency,omitempty"`
	// Custom sets the named custom fields; an empty value removes one.
	Custom map[string]string `json:"custom,omitempty"`
}

// update applies u. It reports whether anything changed; an update that
// changes nothing appends no history.
func (i *Incident) update(e env, u Update) (bool, error) {
	if err := i.requireNotDone(e, "update"); err != nil {
		return false, err
	}
	var errs itsm.FieldErrors
	if u.Title != nil {
		checkRequired(&errs, "title", *u.Title, MaxTitleLen, false)
	}
	if u.Description != nil {
		checkText(&errs, "description", *u.Description, MaxDescriptionLen, true)
	}
	if u.Caller != nil {
		checkRequired(&errs, "caller", *u.Caller, MaxShortTextLen, false)
	}
	if u.Channel != nil && *u.Channel != "" && !u.Channel.Valid() {
		errs.Addf("channel", "%q is not a known channel", clip(string(*u.Channel)))
	}
	if u.Category != nil {
		validateShort(&errs, "category", *u.Category)
	}
	if u.Subcategory != nil {
		validateShort(&errs, "subcategory", *u.Subcategory)
	}
	service, cis := i.d.Service, i.d.CIs
	if u.Service != nil {
		service = *u.Service
	}
	if u.CIs != nil {
		cis = *u.CIs
	}
	validateRefs(&errs, service, cis)
	// Kinds are checked on what changes: a form that sends back an older
	// record's unchanged references is not refused for them.
	validateRefKinds(&errs, service, u.Service != nil && service != i.d.Service, cis, u.CIs != nil && !slices.Equal(cis, i.d.CIs))
	validateCustom(&errs, u.Custom, true)
	impact, urgency := i.d.Impact, i.d.Urgency
	if u.Impact != nil {
		impact = *u.Impact
	}
	if u.Urgency != nil {
		urgency = *u.Urgency
	}
	derived, err := e.pol.Matrix.Lookup(impact, urgency)
	errs.Merge("", err)
	if len(i.d.Custom)+len(u.Custom) > MaxCustomFields {
		merged := maps.Clone(i.d.Custom)
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range u.Custom {
			if v == "" {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		if len(merged) > MaxCustomFields {
			errs.Addf("custom", "would hold %d fields, more than %d", len(merged), MaxCustomFields)
		}
	}
	if err := errs.Err(); err != nil {
		return false, err
	}

	var changes []FieldChange
	set := func(field string, dst *string, v *string) {
		if v != nil && *v != *dst {
			changes = append(changes, FieldChange{Field: field, From: *dst, To: *v})
			*dst = *v
		}
	}
	if u.Title != nil {
		t := strings.TrimSpace(*u.Title)
		set("title", &i.d.Title, &t)
	}
	set("description", &i.d.Description, u.Description)
	set("caller", &i.d.Caller, u.Caller)
	if u.Channel != nil && *u.Channel != i.d.Channel {
		changes = append(changes, FieldChange{Field: "channel", From: string(i.d.Channel), To: string(*u.Channel)})
		i.d.Channel = *u.Channel
	}
	set("category", &i.d.Category, u.Category)
	set("subcategory", &i.d.Subcategory, u.Subcategory)
	if service != i.d.Service {
		changes = append(changes, FieldChange{Field: "service", From: refText(i.d.Service), To: refText(service)})
		i.d.Service = service
	}
	if u.CIs != nil && !slices.Equal(cis, i.d.CIs) {
		changes = append(changes, FieldChange{Field: "cis", From: refsText(i.d.CIs), To: refsText(cis)})
		i.d.CIs = slices.Clone(cis)
	}
	for _, k := range slices.Sorted(maps.Keys(u.Custom)) {
		v, old := u.Custom[k], i.d.Custom[k]
		if v == old {
			continue
		}
		changes = append(changes, FieldChange{Field: "custom." + k, From: old, To: v})
		if v == "" {
			delete(i.d.Custom, k)
			continue
		}
		if i.d.Custom == nil {
			i.d.Custom = map[string]string{}
		}
		i.d.Custom[k] = v
	}
	if impact != i.d.Impact || urgency != i.d.Urgency {
		if impact != i.d.Impact {
			changes = append(changes, FieldChange{Field: "impact", From: i.d.Impact.String(), To: impact.String()})
		}
		if urgency != i.d.Urgency {
			changes = append(changes, FieldChange{Field: "urgency", From: i.d.Urgency.String(), To: urgency.String()})
		}
		i.d.Impact, i.d.Urgency = impact, urgency
		if i.d.Override != nil {
			changes = append(changes, FieldChange{Field: "override", From: i.d.Override.Priority.String()})
			i.d.Override = nil
		}
		if derived != i.d.Priority {
			changes = append(changes, FieldChange{Field: "priority", From: i.d.Priority.String(), To: derived.String()})
			i.d.Priority = derived
		}
	}
	if len(changes) == 0 {
		return false, nil
	}
	i.record(i.stamp(e.at), &e.by, "update", i.d.Status, "", changes)
	return true, nil
}

func refText(r itsm.Ref) string {
	if r.IsZero() {
		return ""
	}
	return r.String()
}

func refsText(rs []itsm.Ref) string {
	parts := make([]string, len(rs))
	for k, r := range rs {
		parts[k] = r.String()
	}
	return strings.Join(parts, ",")
}

// overridePriority sets the priority by hand. It needs the policy's
// override role and a reason.
func (i *Incident) overridePriority(e env, p itsm.Priority, reason string) error {
	if !e.by.HasRole(e.pol.OverrideRole) {
		return fmt.Errorf("%w: overriding the priority needs the role %q", itsm.ErrForbidden, e.pol.OverrideRole)
	}
	if err := i.requireNotDone(e, "override_priority"); err != nil {
		return err
	}
	var errs itsm.FieldErrors
	checkRequired(&errs, "reason", reason, MaxNotesLen, true)
	if _, ok := e.pol.Matrix.PriorityLevel(p); !ok {
		errs.Addf("priority", "%d is not a priority of the matrix", int(p))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	derived, err := e.pol.Matrix.Lookup(i.d.Impact, i.d.Urgency)
	if err != nil {
		return err
	}
	at := i.stamp(e.at)
	changes := []FieldChange{{Field: "priority", From: i.d.Priority.String(), To: p.String()}}
	i.d.Override = &Override{Priority: p, Derived: derived, Reason: reason, By: e.by.Brief(), At: at}
	i.d.Priority = p
	i.record(at, &e.by, "override_priority", i.d.Status, reason, changes)
	return nil
}

// assign sets the assignment. From a new-category state it also moves the
// incident into work (the assign action); elsewhere it is a reassignment.
// Changing the group of an incident that had one counts a reassignment.
func (i *Incident) assign(e env, group, assignee string, reason string) error {
	return i.setAssignment(e, group, assignee, reason, true)
}

// setAssignment is assign, moving a new incident into work only when start
// is set. Replay clears it for an assignment the source tool recorded while
// it still showed the incident as new: the incident gets the assignment,
// checked and counted as any other, and stays where the tool kept it.
func (i *Incident) setAssignment(e env, group, assignee, reason string, start bool) error {
	if err := i.requireOpen(e, "assign"); err != nil {
		return err
	}
	var errs itsm.FieldErrors
	validateShort(&errs, "group", group)
	validateShort(&errs, "assignee", assignee)
	if group == "" && assignee == "" {
		errs.Add("group", "a group or an assignee is required")
	}
	checkText(&errs, "reason", reason, MaxNotesLen, true)
	if err := errs.Err(); err != nil {
		return err
	}
	if group == "" {
		group = i.d.Group
	}
	// The changes are gathered on the stack and kept in one allocation of
	// their exact size. Nothing changes until the move below is allowed.
	var gathered [3]FieldChange
	scratch := gathered[:0]
	reassigned := group != i.d.Group && i.d.Group != ""
	if group != i.d.Group {
		scratch = append(scratch, FieldChange{Field: "group", From: i.d.Group, To: group})
		if reassigned {
			scratch = append(scratch, FieldChange{Field: "reassignments", From: strconv.Itoa(i.d.Reassignments), To: strconv.Itoa(i.d.Reassignments + 1)})
		}
	}
	if assignee != i.d.Assignee {
		scratch = append(scratch, FieldChange{Field: "assignee", From: i.d.Assignee, To: assignee})
	}
	changes := keep(scratch)
	startsWork := start && e.pol.category(i.d.Status) == itsm.CategoryNew && e.pol.Lifecycle.Can(i.d.Status, ActionAssign)
	if len(changes) == 0 && !startsWork {
		return nil
	}
	oldGroup, oldAssignee := i.d.Group, i.d.Assignee
	i.d.Group, i.d.Assignee = group, assignee
	if startsWork {
		if err := i.move(e, ActionAssign, reason, changes); err != nil {
			i.d.Group, i.d.Assignee = oldGroup, oldAssignee
			return err
		}
	} else {
		i.record(i.stamp(e.at), &e.by, "reassign", i.d.Status, reason, changes)
	}
	if reassigned {
		i.d.Reassignments++
	}
	return nil
}

// hold suspends work for reason. Awaiting the caller needs a comment saying
// what was asked; it is added as a comment the caller sees. On an incident
// already waiting, hold changes the reason it waits for (a no-op when the
// reason and comment add nothing).
func (i *Incident) hold(e env, reason HoldReason, comment string) error {
	var errs itsm.FieldErrors
	if !reason.Valid() {
		errs.Addf("hold_reason", "%q is not awaiting_caller, awaiting_change, awaiting_problem or awaiting_vendor", clip(string(reason)))
	}
	if reason == HoldAwaitingCaller && !notBlank(comment) {
		errs.Add("comment", "an awaiting_caller hold needs a comment saying what was asked of the caller")
	} else {
		checkText(&errs, "comment", comment, MaxCommentLen, true)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if len(i.d.Comments) >= MaxComments && comment != "" {
		return itsm.NewValidationError("comment", fmt.Sprintf("the incident already holds %d comments", MaxComments))
	}
	prev := i.d.HoldReason
	if e.pol.category(i.d.Status) == itsm.CategoryWaiting && !e.pol.Lifecycle.Can(i.d.Status, ActionHold) {
		// Already waiting: holding again changes what it waits for, or is a
		// no-op when the reason is the same (so a retried command is
		// harmless).
		if reason == prev && (comment == "" || i.lastCommentIs(comment)) {
			return nil
		}
		var changes []FieldChange
		if reason != prev {
			changes = append(changes, FieldChange{Field: "hold_reason", From: string(prev), To: string(reason)})
		}
		i.d.HoldReason = reason
		i.record(i.stamp(e.at), &e.by, "hold", i.d.Status, string(reason), changes)
		if comment != "" && !i.lastCommentIs(comment) {
			i.d.Comments = append(i.d.Comments, Comment{At: i.lastAt(), By: e.by.Brief(), Text: comment})
		}
		return nil
	}
	if err := i.move(e, ActionHold, string(reason), []FieldChange{{Field: "hold_reason", From: string(prev), To: string(reason)}}); err != nil {
		return err
	}
	i.d.HoldReason = reason
	if comment != "" {
		at := i.lastAt()
		i.d.Comments = append(i.d.Comments, Comment{At: at, By: e.by.Brief(), Text: comment})
		// A question the caller sees is a response.
		if i.d.FirstResponseAt.IsZero() {
			i.d.FirstResponseAt = at
		}
	}
	return nil
}

// lastCommentIs reports whether the latest comment says text, so that a
// retried hold with the same question adds nothing.
func (i *Incident) lastCommentIs(text string) bool {
	n := len(i.d.Comments)
	return n > 0 && i.d.Comments[n-1].Text == text
}

// resume continues work on an on-hold incident.
func (i *Incident) resume(e env, reason string) error {
	var errs itsm.FieldErrors
	checkText(&errs, "reason", reason, MaxNotesLen, true)
	if err := errs.Err(); err != nil {
		return err
	}
	return i.move(e, ActionResume, reason, nil)
}

// comment adds a comment or work note. A comment from the caller on an
// incident on hold awaiting the caller resumes it. A comment the caller
// sees, written by someone else, is the first response if none came before.
func (i *Incident) comment(e env, text string, workNote, fromCaller bool) error {
	if err := i.requireNotDone(e, "comment"); err != nil {
		return err
	}
	var errs itsm.FieldErrors
	checkRequired(&errs, "comment", text, MaxCommentLen, true)
	if workNote && fromCaller {
		errs.Add("work_note", "a caller's comment cannot be a work note")
	}
	if len(i.d.Comments) >= MaxComments {
		errs.Addf("comment", "the incident already holds %d comments", MaxComments)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	at := i.stamp(e.at)
	if fromCaller && i.d.HoldReason == HoldAwaitingCaller && e.pol.Lifecycle.Can(i.d.Status, ActionResume) {
		if err := i.move(e, ActionResume, "the caller replied", nil); err != nil {
			return err
		}
	}
	i.d.Comments = append(i.d.Comments, Comment{At: at, By: e.by.Brief(), Text: text, WorkNote: workNote, FromCaller: fromCaller})
	if !workNote && !fromCaller && i.d.FirstResponseAt.IsZero() {
		i.d.FirstResponseAt = at
	}
	i.d.UpdatedAt = at
	return nil
}

// resolve records a solution.
func (i *Incident) resolve(e env, code ResolutionCode, notes string) error {
	var errs itsm.FieldErrors
	errs.Merge("", code.Validate())
	checkRequired(&errs, "resolution.notes", notes, MaxNotesLen, true)
	if err := errs.Err(); err != nil {
		return err
	}
	changes := []FieldChange{{Field: "resolution.code", From: string(i.d.Resolution.Code), To: string(code)}}
	if err := i.move(e, ActionResolve, "", changes); err != nil {
		return err
	}
	i.d.Resolution = Resolution{Code: code, Notes: notes}
	return nil
}

// reopen sends a resolved incident back to work; a closed one too, within
// the policy's window.
func (i *Incident) reopen(e env, reason string) error {
	var errs itsm.FieldErrors
	checkRequired(&errs, "reason", reason, MaxNotesLen, true)
	if err := errs.Err(); err != nil {
		return err
	}
	if e.pol.category(i.d.Status) == itsm.CategoryClosed {
		at := i.stamp(e.at)
		switch {
		case e.pol.ReopenClosedWithin <= 0:
			return i.refuse(e, string(ActionReopen), "closed incidents are final under this policy; open a new incident")
		case at.Sub(i.d.ClosedAt) > e.pol.ReopenClosedWithin:
			return i.refuse(e, string(ActionReopen), fmt.Sprintf("closed %s ago, beyond the reopen window of %s", at.Sub(i.d.ClosedAt), e.pol.ReopenClosedWithin))
		}
	}
	changes := []FieldChange{{Field: "reopens", From: strconv.Itoa(i.d.Reopens), To: strconv.Itoa(i.d.Reopens + 1)}}
	if i.d.Major.Status == MajorAccepted && !i.d.Major.ReviewedAt.IsZero() {
		changes = append(changes, FieldChange{Field: "major.reviewed_at", From: i.d.Major.ReviewedAt.Format(time.RFC3339)})
	}
	if err := i.move(e, ActionReopen, reason, changes); err != nil {
		return err
	}
	i.d.Reopens++
	i.d.Resolution = Resolution{}
	i.d.ResolvedAt, i.d.ClosedAt = time.Time{}, time.Time{}
	// The review covered the resolution that failed; the next one needs its
	// own.
	if i.d.Major.Status == MajorAccepted && !i.d.Major.ReviewedAt.IsZero() {
		i.d.Major.ReviewedAt, i.d.Major.ReviewNotes = time.Time{}, ""
	}
	return nil
}

// close finishes a resolved incident. An accepted major incident closes only
// after its post-incident review is recorded.
func (i *Incident) close(e env, reason string) error {
	var errs itsm.FieldErrors
	checkText(&errs, "reason", reason, MaxNotesLen, true)
	if err := errs.Err(); err != nil {
		return err
	}
	if i.d.Major.Status == MajorAccepted && i.d.Major.ReviewedAt.IsZero() {
		return i.refuse(e, string(ActionClose), "an accepted major incident needs its post-incident review before it closes")
	}
	return i.move(e, ActionClose, reason, nil)
}

// cancel abandons an open incident.
func (i *Incident) cancel(e env, c Cancellation) error {
	var errs itsm.FieldErrors
	if !c.Reason.Valid() {
		errs.Addf("cancellation.reason", "%q is not duplicate, not_an_incident or raised_in_error", clip(string(c.Reason)))
	}
	checkText(&errs, "cancellation.notes", c.Notes, MaxNotesLen, true)
	switch {
	case c.Reason == CancelDuplicate && c.DuplicateOf.IsZero():
		errs.Add("cancellation.duplicate_of", "a duplicate must name the incident it duplicates")
	case c.Reason == CancelDuplicate && c.DuplicateOf == i.d.ID:
		errs.Add("cancellation.duplicate_of", "an incident cannot duplicate itself")
	case c.Reason != CancelDuplicate && !c.DuplicateOf.IsZero():
		errs.Add("cancellation.duplicate_of", "only a duplicate names another incident")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if err := i.move(e, ActionCancel, string(c.Reason), nil); err != nil {
		return err
	}
	i.d.Cancellation = &c
	return nil
}

// EscalationKind says how an incident is escalated.
type EscalationKind string

// The escalation kinds.
const (
	// EscalateFunctional hands the incident to another group with more
	// expertise; it counts as a reassignment.
	EscalateFunctional EscalationKind = "functional"
	// EscalateHierarchical draws management's attention; the incident stays
	// where it is and its escalation count rises.
	EscalateHierarchical EscalationKind = "hierarchical"
)

// escalate escalates an open incident. Both kinds need a reason; functional
// escalation needs a group other than the current one.
func (i *Incident) escalate(e env, kind EscalationKind, group, reason string) error {
	if err := i.requireOpen(e, "escalate"); err != nil {
		return err
	}
	var errs itsm.FieldErrors
	checkRequired(&errs, "reason", reason, MaxNotesLen, true)
	switch kind {
	case EscalateFunctional:
		switch {
		case group == "":
			errs.Add("group", "functional escalation needs the group to hand over to")
		case group == i.d.Group:
			errs.Addf("group", "the incident is already with %q", group)
		default:
			validateShort(&errs, "group", group)
		}
	case EscalateHierarchical:
		if group != "" {
			errs.Add("group", "hierarchical escalation does not change the group")
		}
	default:
		errs.Addf("kind", "%q is not functional or hierarchical", clip(string(kind)))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	at := i.stamp(e.at)
	var gathered [4]FieldChange
	scratch := append(gathered[:0], FieldChange{Field: "escalations", From: strconv.Itoa(i.d.Escalations), To: strconv.Itoa(i.d.Escalations + 1)})
	command := "escalate.hierarchical"
	if kind == EscalateFunctional {
		command = "escalate.functional"
		scratch = append(scratch, FieldChange{Field: "group", From: i.d.Group, To: group}, FieldChange{Field: "assignee", From: i.d.Assignee})
		if i.d.Group != "" {
			i.d.Reassignments++
			scratch = append(scratch, FieldChange{Field: "reassignments", From: strconv.Itoa(i.d.Reassignments - 1), To: strconv.Itoa(i.d.Reassignments)})
		}
		i.d.Group, i.d.Assignee = group, ""
	}
	i.d.Escalations++
	i.record(at, &e.by, command, i.d.Status, reason, keep(scratch))
	return nil
}

// majorMove applies an action on the major-incident track.
func (i *Incident) majorMove(e env, action MajorAction, reason, owner string) error {
	command := majorCommand(action)
	if err := i.requireNotDone(e, command); err != nil {
		return err
	}
	if action != MajorPropose && !e.by.HasRole(e.pol.MajorRole) {
		return fmt.Errorf("%w: %s a major incident needs the role %q", itsm.ErrForbidden, action, e.pol.MajorRole)
	}
	var errs itsm.FieldErrors
	switch action {
	case MajorAccept:
		checkRequired(&errs, "owner", owner, MaxShortTextLen, false)
		checkText(&errs, "reason", reason, MaxNotesLen, true)
	case MajorPropose, MajorReject, MajorDemote:
		checkRequired(&errs, "reason", reason, MaxNotesLen, true)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	from := i.d.Major.Status
	to, err := e.pol.majorLifecycle().Next(from, action)
	if err != nil {
		return err
	}
	changes := []FieldChange{{Field: "major", From: string(from), To: string(to)}}
	if owner != "" && owner != i.d.Major.Owner {
		changes = append(changes, FieldChange{Field: "major.owner", From: i.d.Major.Owner, To: owner})
		i.d.Major.Owner = owner
	}
	i.d.Major.Status = to
	if reason != "" {
		i.d.Major.Reason = reason
	}
	i.record(i.stamp(e.at), &e.by, command, i.d.Status, reason, changes)
	return nil
}

// review records the post-incident review of an accepted major incident,
// once it is resolved.
func (i *Incident) review(e env, notes string) error {
	if i.d.Major.Status != MajorAccepted {
		return i.refuse(e, "major.review", "only an accepted major incident has a post-incident review")
	}
	if c := e.pol.category(i.d.Status); c != itsm.CategoryResolved && c != itsm.CategoryClosed {
		return i.refuse(e, "major.review", "the review follows resolution")
	}
	var errs itsm.FieldErrors
	checkRequired(&errs, "review_notes", notes, MaxNotesLen, true)
	if err := errs.Err(); err != nil {
		return err
	}
	at := i.stamp(e.at)
	i.d.Major.ReviewedAt, i.d.Major.ReviewNotes = at, notes
	i.record(at, &e.by, "major.review", i.d.Status, "", []FieldChange{{Field: "major.reviewed_at", To: at.Format(time.RFC3339)}})
	return nil
}

// linkParent makes parent this incident's parent. ancestors lists parent's
// own ancestors, nearest first, as the caller loaded them; the link is
// refused when it would make the incident its own ancestor.
func (i *Incident) linkParent(e env, parent ID, ancestors []ID) error {
	if err := i.requireNotDone(e, "link_parent"); err != nil {
		return err
	}
	switch {
	case parent.IsZero():
		return itsm.NewValidationError("parent", "must not be the zero ID")
	case parent == i.d.ID:
		return itsm.NewValidationError("parent", "an incident cannot be its own parent")
	case slices.Contains(ancestors, i.d.ID):
		return itsm.NewValidationError("parent", fmt.Sprintf("%s descends from this incident; linking would make a cycle", parent))
	case parent == i.d.Parent:
		return nil
	}
	changes := []FieldChange{{Field: "parent", From: i.d.Parent.String(), To: parent.String()}}
	i.d.Parent = parent
	i.record(i.stamp(e.at), &e.by, "link_parent", i.d.Status, "", changes)
	return nil
}

// unlinkParent removes the parent link.
func (i *Incident) unlinkParent(e env) error {
	if err := i.requireNotDone(e, "unlink_parent"); err != nil {
		return err
	}
	if i.d.Parent.IsZero() {
		return nil
	}
	changes := []FieldChange{{Field: "parent", From: i.d.Parent.String()}}
	i.d.Parent = ID{}
	i.record(i.stamp(e.at), &e.by, "unlink_parent", i.d.Status, "", changes)
	return nil
}

// CascadeOutcome says what a cascade did to one child.
type CascadeOutcome string

// The cascade outcomes.
const (
	// CascadeApplied: the child moved with its parent.
	CascadeApplied CascadeOutcome = "applied"
	// CascadeAlready: the child was already where the cascade would put it,
	// or further along; nothing changed (cascades never move backwards).
	CascadeAlready CascadeOutcome = "already"
	// CascadeRefused: the child's lifecycle does not allow the move from its
	// state; nothing changed.
	CascadeRefused CascadeOutcome = "refused"
	// CascadeDetached: the child was unlinked from its parent before the
	// cascade reached it; nothing changed.
	CascadeDetached CascadeOutcome = "detached"
	// CascadeSkipped: the child left the cascaded state by a command of its
	// own after the cascade's root entered it (reopened after the root was
	// resolved, resumed after the root went on hold), or, for a resume, its
	// hold is not its parent's to end (it was put on hold by a command of
	// its own, or put on hold again since its parent's cascade held it).
	// Someone decided that the child differs from its parent; running the
	// cascade again does not undo that. Nothing changed.
	CascadeSkipped CascadeOutcome = "skipped"
)

// holdParentField is the field change that marks a hold made by a cascade:
// the hold entry of a child its parent's hold put on hold (or whose reason
// it changed) carries {hold_parent: "" → the parent's ID}, and the resume
// by the parent's resume cascade {hold_parent: the parent's ID → ""}. A
// resume cascade ends only holds so marked with the child's parent.
const holdParentField = "hold_parent"

// heldWith returns the ID, as text, of the parent whose hold cascade set
// the incident's current hold (its latest hold entry, within the current
// wait), or "" when a command of its own did.
func (i *Incident) heldWith(e env) string {
	h := i.d.History
	for k := len(h) - 1; k >= 0; k-- {
		if h[k].Command == string(ActionHold) {
			for _, c := range h[k].Changes {
				if c.Field == holdParentField {
					return c.To
				}
			}
			return ""
		}
		if e.pol.category(h[k].From) != itsm.CategoryWaiting {
			return "" // the wait began without a hold entry
		}
	}
	return ""
}

// markHeldWithParent records on the latest history entry, a hold the
// cascade just made, that the incident's parent put it on hold.
func (i *Incident) markHeldWithParent() {
	h := &i.d.History[len(i.d.History)-1]
	h.Changes = append(slices.Clip(h.Changes), FieldChange{Field: holdParentField, To: i.d.Parent.String()})
}

// leftSince reports whether a command at or after since moved the incident
// out of a state the cascade puts children in: left says, by the states'
// categories, whether one move did.
func (i *Incident) leftSince(e env, since time.Time, left func(from, to itsm.Category) bool) bool {
	h := i.d.History
	for k := len(h) - 1; k >= 0 && !h[k].At.Before(since); k-- {
		if h[k].From != h[k].To && left(e.pol.category(h[k].From), e.pol.category(h[k].To)) {
			return true
		}
	}
	return false
}

// heldSince returns when the incident's current hold reason was set: the
// instant of its latest hold entry (a move on hold, or a change of reason
// while waiting).
func (i *Incident) heldSince() time.Time {
	h := i.d.History
	for k := len(h) - 1; k >= 0; k-- {
		if h[k].Command == string(ActionHold) {
			return h[k].At
		}
	}
	return time.Time{}
}

// reopenedFrom reports a move from resolved or closed back into work.
func reopenedFrom(from, to itsm.Category) bool {
	return (from == itsm.CategoryResolved || from == itsm.CategoryClosed) && to.IsOpen()
}

// resumedFrom reports a move from waiting back to new or active work.
func resumedFrom(from, to itsm.Category) bool {
	return from == itsm.CategoryWaiting && (to == itsm.CategoryNew || to == itsm.CategoryActive)
}

// cascadeResolve resolves an open child with its parent's resolution,
// unless the child was reopened after the parent was resolved.
func (i *Incident) cascadeResolve(e env, parent *Incident) CascadeOutcome {
	if !e.pol.category(i.d.Status).IsOpen() {
		return CascadeAlready
	}
	if i.leftSince(e, parent.d.ResolvedAt, reopenedFrom) {
		return CascadeSkipped
	}
	if !e.pol.Lifecycle.Can(i.d.Status, ActionResolve) {
		return CascadeRefused
	}
	notes := fmt.Sprintf("Resolved with parent %s: %s", parent.d.Number, parent.d.Resolution.Notes)
	if len(notes) > MaxNotesLen {
		notes = clipBytes(notes, MaxNotesLen)
	}
	if err := i.resolve(e, parent.d.Resolution.Code, notes); err != nil {
		return CascadeRefused
	}
	return CascadeApplied
}

// cascadeHold puts a new or active child on hold with its parent's reason,
// unless the child was resumed after the parent's hold began. A child
// already waiting for a change, problem or vendor takes its parent's
// reason, so that a parent whose wait changes (from a vendor to a change)
// carries its children along; one waiting for its caller keeps its own.
//
// A hold it makes, or a reason it changes on a hold its parent made, is
// marked as its parent's (see holdParentField), so that the parent's
// resume ends it.
func (i *Incident) cascadeHold(e env, parent *Incident) CascadeOutcome {
	cat := e.pol.category(i.d.Status)
	if cat == itsm.CategoryWaiting && i.d.HoldReason.cascades() && i.d.HoldReason != parent.d.HoldReason {
		// A child that waits on a hold of its own takes the new reason but
		// stays its own: its parent's resume leaves it waiting.
		followed := !i.d.Parent.IsZero() && i.heldWith(e) == i.d.Parent.String()
		if err := i.hold(e, parent.d.HoldReason, ""); err != nil {
			return CascadeRefused
		}
		if followed {
			i.markHeldWithParent()
		}
		return CascadeApplied
	}
	if cat != itsm.CategoryNew && cat != itsm.CategoryActive {
		return CascadeAlready
	}
	if since := parent.heldSince(); !since.IsZero() && i.leftSince(e, since, resumedFrom) {
		return CascadeSkipped
	}
	if !e.pol.Lifecycle.Can(i.d.Status, ActionHold) {
		return CascadeRefused
	}
	if err := i.hold(e, parent.d.HoldReason, ""); err != nil {
		return CascadeRefused
	}
	i.markHeldWithParent()
	return CascadeApplied
}

// cascadeResume resumes a waiting child whose current hold its parent's
// hold cascade made (the parent being via, by number, for the history):
// one held on its own, or held again by a command of its own since, keeps
// waiting (CascadeSkipped); one not waiting is left as it is
// (CascadeAlready: resumed already, never held, or further along).
func (i *Incident) cascadeResume(e env, via Number) CascadeOutcome {
	if e.pol.category(i.d.Status) != itsm.CategoryWaiting {
		return CascadeAlready
	}
	if i.d.Parent.IsZero() || i.heldWith(e) != i.d.Parent.String() {
		return CascadeSkipped
	}
	if !e.pol.Lifecycle.Can(i.d.Status, ActionResume) {
		return CascadeRefused
	}
	changes := []FieldChange{{Field: holdParentField, From: i.d.Parent.String()}}
	// Nobody answered the child's caller: a move into work that a cascade
	// makes is no first response (a response target stopping on
	// fields.responded keeps running).
	first := i.d.FirstResponseAt
	if err := i.move(e, ActionResume, "Resumed with parent "+string(via), changes); err != nil {
		return CascadeRefused
	}
	i.d.FirstResponseAt = first
	return CascadeApplied
}

func clipBytes(s string, max int) string {
	for max > 0 && max < len(s) && (s[max]&0xC0) == 0x80 {
		max--
	}
	return s[:max]
}

// linkRecord sets the problem or change the incident is linked to; the zero
// Ref unlinks. kinds lists the kinds of record the link may name.
func (i *Incident) linkRecord(e env, field string, dst *itsm.Ref, ref itsm.Ref, kinds ...itsm.Kind) error {
	link, unlink := linkCommands(field)
	if err := i.requireNotDone(e, link); err != nil {
		return err
	}
	if !ref.IsZero() {
		var errs itsm.FieldErrors
		errs.Merge(field, ref.Validate())
		if !slices.Contains(kinds, ref.Kind) {
			errs.Addf(field+".kind", "%q is not a kind this link takes (%v)", ref.Kind, kinds)
		}
		if err := errs.Err(); err != nil {
			return err
		}
	}
	if *dst == ref {
		return nil
	}
	changes := []FieldChange{{Field: field, From: refText(*dst), To: refText(ref)}}
	*dst = ref
	command := link
	if ref.IsZero() {
		command = unlink
	}
	i.record(i.stamp(e.at), &e.by, command, i.d.Status, "", changes)
	return nil
}

// keep copies changes gathered in a scratch array into a slice of their
// own, of their exact length (nil when there are none).
func keep(changes []FieldChange) []FieldChange {
	if len(changes) == 0 {
		return nil
	}
	return append(make([]FieldChange, 0, len(changes)), changes...)
}

// majorCommand names the command of a major-incident action, e.g.
// "major.accept", without building the name for the actions the package
// declares.
func majorCommand(action MajorAction) string {
	switch action {
	case MajorPropose:
		return "major.propose"
	case MajorAccept:
		return "major.accept"
	case MajorReject:
		return "major.reject"
	case MajorDemote:
		return "major.demote"
	}
	return "major." + string(action)
}

// linkCommands names the commands that link and unlink a record field,
// e.g. "link_problem" and "unlink_problem".
func linkCommands(field string) (link, unlink string) {
	switch field {
	case "problem":
		return "link_problem", "unlink_problem"
	case "change":
		return "link_change", "unlink_change"
	}
	return "link_" + field, "unlink_" + field
}
