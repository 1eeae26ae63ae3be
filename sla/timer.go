package sla

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/itsmkit/itsmkit/itsm"
)

// Stage is where a timer is in its life. Breach is a separate flag.
type Stage uint8

// The stages. The zero Stage is invalid.
const (
	// StageRunning: the timer counts working time towards its goal.
	StageRunning Stage = iota + 1
	// StagePaused: the timer accrues pause instead; its breach instant is
	// undefined (see Engine.DueIfResumed).
	StagePaused
	// StageCompleted: the stop condition held; the cycle is met or breached.
	StageCompleted
	// StageCanceled: the cycle was canceled or reset; it counts neither as
	// met nor as breached.
	StageCanceled
)

var stageNames = [...]string{"", "running", "paused", "completed", "canceled"}

// String returns "running", "paused", "completed" or "canceled".
func (s Stage) String() string {
	if s < StageRunning || s > StageCanceled {
		return fmt.Sprintf("stage(%d)", uint8(s))
	}
	return stageNames[s]
}

// Live reports whether the timer still runs or is paused.
func (s Stage) Live() bool { return s == StageRunning || s == StagePaused }

// MarshalText returns the stage's name; an invalid stage is an error.
func (s Stage) MarshalText() ([]byte, error) {
	if s < StageRunning || s > StageCanceled {
		return nil, itsm.NewValidationError("stage", fmt.Sprintf("%d is not a stage", uint8(s)))
	}
	return []byte(stageNames[s]), nil
}

// UnmarshalText parses a stage's name. Errors are *itsm.ValidationError
// naming "stage".
func (s *Stage) UnmarshalText(b []byte) error {
	for i := StageRunning; i <= StageCanceled; i++ {
		if stageNames[i] == string(b) {
			*s = i
			return nil
		}
	}
	return itsm.NewValidationError("stage", fmt.Sprintf("%q is not a stage", b))
}

// SegmentKind says how a closed stretch of a timer's life was spent.
type SegmentKind string

// The segment kinds.
const (
	// SegmentRunning: the timer ran (working time in it counts).
	SegmentRunning SegmentKind = "running"
	// SegmentPaused: the timer was paused.
	SegmentPaused SegmentKind = "paused"
	// SegmentStopped: the cycle was completed and later resumed by a reopen
	// (ReopenResume); nothing in it counts.
	SegmentStopped SegmentKind = "stopped"
)

// Segment is a closed stretch [From, To) of a timer's life.
type Segment struct {
	Kind SegmentKind `json:"kind"`
	From time.Time   `json:"from"`
	To   time.Time   `json:"to"`
}

// Mark records a warning threshold that is behind a timer: fired with an
// event, or skipped because it was already behind at (re)attach.
type Mark struct {
	// Threshold is the percentage, as decimal text ("75").
	Threshold string `json:"threshold"`
	// At is the instant the timer's business elapsed time reached it.
	At time.Time `json:"at"`
	// Skipped reports that no event was emitted for it.
	Skipped bool `json:"skipped,omitempty"`
}

// Change records that the goal a live timer measures against changed: a
// retarget (another goal matched the record) or a migration onto another
// agreement version (Engine.Migrate, or a ReopenResume cycle reopened after
// its version left the engine). A migration is recorded even when the goal
// keeps its name, because its duration or calendar may differ. Explain reads
// the calendars here to recount each stretch on the calendar it was counted
// on.
type Change struct {
	// At is the instant of the change.
	At time.Time `json:"at"`
	// From and To name the goals before and after.
	From string `json:"from"`
	To   string `json:"to"`
	// FromCalendar and ToCalendar name the calendars before and after.
	FromCalendar string `json:"from_calendar,omitempty"`
	ToCalendar   string `json:"to_calendar,omitempty"`
	// FromVersion and ToVersion are the agreement versions before and after;
	// equal for a retarget.
	FromVersion int `json:"from_version,omitempty"`
	ToVersion   int `json:"to_version,omitempty"`
	// How says how time accrued before the change carries over.
	// RetargetRetroactive recounts the whole life on the new goal's
	// calendar; a migration keeps what was consumed (RetargetKeepElapsed).
	How RetargetPolicy `json:"how"`
	// Migrated reports a move onto another agreement version.
	Migrated bool `json:"migrated,omitempty"`
	// BreachedAt is set when a retroactive recount put the timer's breach
	// instant before the change, or moved an earlier breach instant back.
	// Such a breach is recorded without a breached event of its own (the
	// retargeted event carries it instead, see Event.Breached).
	BreachedAt time.Time `json:"breached_at,omitzero"`
	// PriorBreachedAt is, when BreachedAt is set, the timer's breach
	// instant just before the change: zero when it had not breached
	// (a recount only ever adds a breach or moves one back). With it a
	// compliance report undoes the change to see the breach as it stood
	// at an earlier period's end. Changes recorded before this field
	// existed have it zero, and read as adding a breach.
	PriorBreachedAt time.Time `json:"prior_breached_at,omitzero"`
}

// Timer measures one cycle of one target of one agreement on one record.
//
// # How timers work
//
// An Engine compiles agreements and, for each Observation of a record
// (its fields and state category at an instant), returns the record's new
// State and the Events that happened. Between observations the record is
// taken to be as last observed, so time is accrued piecewise: a running
// timer counts the working time of its goal's calendar as business elapsed
// time and all time as actual elapsed time; a paused timer accrues business
// and actual pause instead. All arithmetic is on integer durations; the
// breach decision compares durations and instants, never a percentage.
//
// The breach instant (DueAt) is the earliest instant at which business
// elapsed time reaches the goal. A timer breaches when it is still running
// after that instant; one stopped exactly at it has met its goal. While a
// timer is paused DueAt is zero (undefined); Engine.DueIfResumed answers
// "breach at if resumed now". Warning thresholds work alike: a threshold is
// reached at the instant business elapsed time reaches its share of the
// goal and fires, once per cycle, when the timer runs past it. Events carry
// that instant, not the instant the host happened to look, so replaying a
// record's full history and feeding it observation by observation, with any
// Advance calls in between, yield identical timers and the same events.
//
// The package never reads the clock and starts nothing. The host asks
// State.NextEventAt when to look again and calls Engine.Advance then.
//
// Timers are values, and their methods have value receivers. Treat a State
// and its Timers as immutable: the Engine returns new ones, never modifies
// what it is given, and what it returns shares no memory with its input, so
// a caller may modify either freely. The exceptions are
// Engine.ObserveInPlace and Engine.AdvanceInPlace, which update a State
// where it is, to spare the copy; they follow a copy-on-write rule, so a
// State that shares memory with others needs only State.Detach first.
type Timer struct {
	// Record is the record measured.
	Record itsm.Ref `json:"record"`
	// Agreement and Version identify the agreement definition in force.
	Agreement string `json:"agreement"`
	// Version is the agreement version the timer evaluates under.
	Version int `json:"version"`
	// Metric is the target's metric.
	Metric string `json:"metric"`
	// Cycle counts the target's cycles on this record from 1.
	Cycle int `json:"cycle"`
	// Priority is the record's priority as last observed while live.
	Priority itsm.Priority `json:"priority"`
	// Goal names the goal measured against.
	Goal string `json:"goal"`
	// Within is the goal's duration.
	Within time.Duration `json:"within"`
	// Calendar names the calendar Within counts in.
	Calendar string `json:"calendar"`
	// Kind is the agreement's kind. (It is declared here, beside the
	// other one-byte fields, so that they share one word: a Timer is
	// copied on every command.)
	Kind itsm.AgreementKind `json:"kind"`

	// Stage is running, paused, completed or canceled.
	Stage Stage `json:"stage"`
	// Breached reports that the timer ran past its breach instant. A breach
	// is a historical fact of the cycle: once set it stays set, even when a
	// retarget or migration later moves the timer onto a longer goal it has
	// not yet reached (DueAt then lies ahead again, and no second breach
	// event ever fires for the cycle).
	Breached bool `json:"breached,omitempty"`

	// Decided reports that DecidedBreached and DecidedPriority hold the
	// cycle's decision, as it stood when the cycle first completed: the
	// engine records it then and never changes it afterwards (a reopen, a
	// resume, a retarget or a migration leaves it), so that Compliance
	// counts the cycle alike however the timer moves on. The decision's
	// instant is the first completion itself: EndedAt, or the start of the
	// first stopped stretch once a reopen resumed the cycle (see
	// SegmentStopped), which nothing rewrites either.
	//
	// It is false for a cycle never completed and for one completed
	// before these fields existed; such a cycle gets its decision, from
	// the timer as it stands then, when a reopen resumes it or it
	// completes again.
	Decided bool `json:"decided,omitempty"`
	// DecidedBreached reports whether the cycle had breached when it
	// first completed. A retroactive retarget after a reopen may later
	// find an earlier breach (Breached, BreachedAt); this stays as it was.
	DecidedBreached bool `json:"decided_breached,omitempty"`
	// DecidedPriority is the record's priority when the cycle first
	// completed: the priority row the cycle is decided in, which a reopen
	// at another priority does not move.
	DecidedPriority itsm.Priority `json:"decided_priority,omitempty"`
	// BreachedAt is the breach instant when Breached: the instant business
	// elapsed time reached the goal in force then. A retroactive retarget
	// whose recount reaches the new goal earlier moves it back.
	BreachedAt time.Time `json:"breached_at,omitzero"`
	// EndReason says why a canceled timer was canceled: "cancel" (the cancel
	// condition), "start_failed" (the start condition no longer holds while
	// the pause condition does, or at all with CancelWhenStartFails),
	// "scope", "reset", "no_goal", or "removed" (the engine no longer holds
	// the timer's agreement version, or the version migrated to dropped its
	// metric).
	EndReason string `json:"end_reason,omitempty"`

	// StartedAt is where the cycle starts counting (before AttachedAt under
	// a retroactive start).
	StartedAt time.Time `json:"started_at"`
	// AttachedAt is the observation at which the cycle attached.
	AttachedAt time.Time `json:"attached_at"`
	// EndedAt is when the timer completed or was canceled; zero while live.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// AsOf is the instant the figures below are accrued up to.
	AsOf time.Time `json:"as_of"`
	// Since is when the current stage began, for a live timer.
	Since time.Time `json:"since,omitzero"`

	// BusinessElapsed is the working time counted while running.
	BusinessElapsed time.Duration `json:"business_elapsed"`
	// ActualElapsed is the wall-clock time spent running.
	ActualElapsed time.Duration `json:"actual_elapsed"`
	// BusinessPaused is the working time spent paused.
	BusinessPaused time.Duration `json:"business_paused"`
	// ActualPaused is the wall-clock time spent paused.
	ActualPaused time.Duration `json:"actual_paused"`

	// DueAt is, for a running timer, the instant its business elapsed time
	// reaches Within of the current goal, always computed from the current
	// goal:
	//
	//   - not breached: the breach instant. When the goal is still ahead, the
	//     instant the remaining business time runs out counting from AsOf;
	//     when it is already reached (a retarget or migration onto a shorter
	//     goal, at the instant of the change), AsOf: the timer breaches as
	//     soon as it runs on.
	//   - breached, goal ahead (moved onto a longer goal): the instant the
	//     remaining business time runs out counting from AsOf.
	//   - breached, goal behind: the instant business elapsed time, counted
	//     stretch by stretch on the calendar in force in each, reached
	//     Within; BreachedAt when the goal never changed.
	//
	// Zero while paused or finished, or when the calendar never gets there.
	DueAt time.Time `json:"due_at,omitzero"`
	// NextAt is the instant of the next threshold or breach event of a
	// running timer (a breached timer has no breach left to fire); zero when
	// there is none.
	NextAt time.Time `json:"next_at,omitzero"`

	// Marks lists the thresholds behind the timer, in the order reached.
	Marks []Mark `json:"marks,omitzero"`
	// Segments lists the closed stretches of the timer's life; the current
	// one is [Since, AsOf).
	Segments []Segment `json:"segments,omitzero"`
	// Changes lists retargets.
	Changes []Change `json:"changes,omitzero"`
	// Seq counts the lifecycle events (attached, paused, resumed,
	// retargeted, completed, canceled) emitted for the timer; their
	// idempotency keys end in it.
	Seq int `json:"seq"`
}

// Key returns "record/agreement/metric/cycle", the stem of the timer's
// idempotency keys.
func (t Timer) Key() string {
	return string(t.appendKey(make([]byte, 0, 96)))
}

// appendKey appends the timer's Key to b without intermediate strings;
// the separators around the UUID come with the template its digits are
// written over.
func (t *Timer) appendKey(b []byte) []byte {
	b = append(b, t.Record.Kind...)
	b = append(b, ":xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/"...)
	putUUID((*[36]byte)(b[len(b)-37:]), t.Record.ID)
	b = append(b, t.Agreement...)
	b = append(b, '/')
	b = append(b, t.Metric...)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(t.Cycle), 10)
}

// eventKey returns the key of t's event of kind (see Event.Key): t's Key,
// "/" and kind, then "/" and threshold for a threshold, nothing more for
// the breach, "/" and t.Seq for a lifecycle event.
func (t *Timer) eventKey(kind EventKind, threshold string) string {
	var buf [128]byte
	b := t.appendKey(buf[:0])
	b = append(b, '/')
	b = append(b, kind...)
	switch kind {
	case EventThreshold:
		b = append(b, '/')
		b = append(b, threshold...)
	case EventBreached:
	default:
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(t.Seq), 10)
	}
	return string(b)
}

// Remaining returns the business time left before the goal is reached;
// negative never (zero once reached).
func (t Timer) Remaining() time.Duration {
	if t.BusinessElapsed >= t.Within {
		return 0
	}
	if t.BusinessElapsed <= 0 {
		return max(t.Within, 0)
	}
	return t.Within - t.BusinessElapsed
}

// percentPlaces is how many decimal places Percent keeps.
const percentPlaces = 6

// Percent returns business elapsed time as a percentage of the goal,
// truncated (never rounded up) to six decimal places, so 99.9999999 % reads
// 99.999999 and never 100. It is for display: breach is decided on integer
// durations.
func (t Timer) Percent() decimal.Decimal {
	if t.Within <= 0 {
		return decimal.Zero
	}
	num := decimal.NewFromInt(int64(t.BusinessElapsed)).Mul(decimal.NewFromInt(100))
	q, _ := num.QuoRem(decimal.NewFromInt(int64(t.Within)), percentPlaces)
	return q
}

// NextEventAt returns the first instant at which Engine.Advance would emit
// this timer's next threshold or breach event, never earlier than now, and
// false when nothing is pending (paused or finished timers, all thresholds
// behind and breached). Because a timer stopped exactly at a threshold has
// not run past it, that instant is one microsecond after NextAt.
func (t Timer) NextEventAt(now time.Time) (time.Time, bool) {
	if t.Stage != StageRunning || t.NextAt.IsZero() {
		return time.Time{}, false
	}
	at := t.NextAt.Add(time.Microsecond)
	now = itsm.Normalize(now)
	if at.Before(now) {
		return now, true
	}
	return at, true
}

// hasMark reports whether threshold th is behind the timer.
func (t *Timer) hasMark(th string) bool {
	for i := range t.Marks {
		if t.Marks[i].Threshold == th {
			return true
		}
	}
	return false
}

// State is everything the Engine keeps about one record: its timers, every
// cycle included, and what it remembers of the previous observation. The
// zero State with Record set is a record never observed.
type State struct {
	// Record is the record the state belongs to.
	Record itsm.Ref `json:"record"`
	// AsOf is the instant of the last observation or advance.
	AsOf time.Time `json:"as_of,omitzero"`
	// Observed reports that at least one observation was applied.
	Observed bool `json:"observed,omitempty"`
	// Previous holds the previous observation's values of the fields that
	// OpChanged conditions compare, by condition path.
	Previous map[string]string `json:"previous,omitzero"`
	// Timers lists every timer in the order attached.
	Timers []Timer `json:"timers,omitzero"`
}

// NextEventAt returns the earliest NextEventAt of the state's timers, and
// false when none has anything pending. The host schedules an Advance then.
func (s State) NextEventAt(now time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for i := range s.Timers {
		if at, ok := s.Timers[i].NextEventAt(now); ok && (!found || at.Before(best)) {
			best, found = at, true
		}
	}
	return best, found
}

// Find returns the latest cycle of agreement's metric, and false when none
// attached.
func (s State) Find(agreement, metric string) (Timer, bool) {
	if i := s.latest(agreement, metric); i >= 0 {
		return s.Timers[i], true
	}
	return Timer{}, false
}

// latest returns the index of the latest cycle of agreement's metric, or -1.
// The metric is compared first: an agreement's metrics mostly differ in
// length, which rejects a timer of another target without comparing bytes,
// while its timers all share the agreement's ID.
func (s *State) latest(agreement, metric string) int {
	best, cycle := -1, 0
	for i := range s.Timers {
		t := &s.Timers[i]
		if t.Metric == metric && t.Agreement == agreement && (best < 0 || t.Cycle >= cycle) {
			best, cycle = i, t.Cycle
		}
	}
	return best
}

// EventKind says what happened to a timer.
type EventKind string

// The event kinds.
const (
	// EventAttached: a cycle attached (running or paused).
	EventAttached EventKind = "attached"
	// EventPaused: a running timer paused.
	EventPaused EventKind = "paused"
	// EventResumed: a paused timer resumed, or a completed one was reopened
	// under ReopenResume.
	EventResumed EventKind = "resumed"
	// EventCompleted: the stop condition held.
	EventCompleted EventKind = "completed"
	// EventCanceled: the timer was canceled (see Timer.EndReason).
	EventCanceled EventKind = "canceled"
	// EventRetargeted: the goal changed.
	EventRetargeted EventKind = "retargeted"
	// EventThreshold: a warning threshold was reached.
	EventThreshold EventKind = "threshold"
	// EventBreached: the timer ran past its breach instant.
	EventBreached EventKind = "breached"
)

// Event is something that happened to a timer. Key is an idempotency key:
// the same event always has the same key, so a host that replays history or
// retries a command can drop events it has already acted on.
type Event struct {
	// Key is unique per event: the timer's Key, then the kind and, for
	// thresholds, the percentage ("…/2/threshold/75"); "…/2/breached" for
	// the breach; for lifecycle events the timer's Seq after it
	// ("…/2/paused/3").
	Key string `json:"key"`
	// Kind says what happened.
	Kind EventKind `json:"kind"`
	// At is the instant it happened.
	At time.Time `json:"at"`
	// Record, Agreement, Metric, Cycle and Goal identify the timer.
	Record    itsm.Ref `json:"record"`
	Agreement string   `json:"agreement"`
	Metric    string   `json:"metric"`
	Cycle     int      `json:"cycle"`
	Goal      string   `json:"goal"`
	// Threshold is the percentage for EventThreshold; zero otherwise. The
	// JSON leaves it out when it is zero, as it leaves out Breached and
	// BreachedAt: a threshold is never zero (agreements refuse one).
	Threshold decimal.Decimal `json:"threshold,omitzero"`
	// Breached and BreachedAt are set on an attached or retargeted event
	// when a retroactive start or a retroactive recount put the timer past
	// its breach instant (or moved that instant back). Such a breach lies
	// before the event, so it gets no breached event of its own and no
	// warning side effects; this is how the host learns of it.
	Breached   bool      `json:"breached,omitempty"`
	BreachedAt time.Time `json:"breached_at,omitzero"`
}

// addEvent appends an event of kind of t to *evs and returns it, for the
// caller to set what only some kinds carry; it counts a lifecycle event in
// t.Seq. threshold names a threshold event's percentage, as decimal text.
// The event is filled where it lies in the list: an Event is some 200
// bytes, and building one to return and append copied it twice.
func addEvent(evs *[]Event, t *Timer, kind EventKind, at time.Time, threshold string) *Event {
	if kind != EventThreshold && kind != EventBreached {
		t.Seq++
	}
	if *evs == nil {
		// The first event of an observation, mostly its only one: make
		// costs less than growing a nil slice.
		*evs = make([]Event, 0, 1)
	}
	*evs = append(*evs, Event{})
	ev := &(*evs)[len(*evs)-1]
	key := t.eventKey(kind, threshold)
	ev.Key, ev.Kind, ev.At = key, kind, at
	ev.Record.ID, ev.Cycle, ev.Goal = t.Record.ID, t.Cycle, t.Goal
	// The record's kind, the agreement and the metric are taken from the
	// key, which holds them (see appendKey): equal strings, and the same
	// bytes, so that AppendJSON's comparison of each with its place in
	// the key (Event.plainKey) ends on their addresses.
	n, a := len(t.Record.Kind), len(t.Record.Kind)+38
	m := a + len(t.Agreement) + 1
	ev.Record.Kind = itsm.Kind(key[:n])
	ev.Agreement, ev.Metric = key[a:a+len(t.Agreement)], key[m:m+len(t.Metric)]
	return ev
}
