// Package sla is itsmkit's service level engine: business calendars and exact
// business-time arithmetic, agreements, timers, compliance, availability and
// service credits. It is pure: values and functions over them, no goroutines,
// no timers, no clock of its own. The host passes instants in and schedules
// itself from the answers.
//
// # Calendars
//
// A Calendar is working time laid over the time line. Its four methods are
// all an agreement or a timer needs: Add (the instant after exactly d of
// working time), Between (working time inside [a, b)), IsWorking and
// NextTransition.
//
// The package builds calendars from a CalendarSpec, the JSON form hosts
// store, with NewSchedule (or ParseSchedule from JSON):
//
//   - weekly (CalendarWeekly): half-open spans [start, end) of local wall
//     time per weekday in an IANA zone; several spans a day (lunch breaks);
//     "24:00" ends at midnight; an end at or before the start makes an
//     overnight span, owned by the day it starts on. Holidays close a date
//     wholly or in part, one-off or yearly (fixed date, nth weekday, Easter,
//     plus an offset in days), with an observance that moves weekend dates
//     (Saturday to Friday and Sunday to Monday, or both to Monday).
//     Exceptions replace one date's hours (extra hours, closures) and win
//     over holidays.
//   - 24×7 (CalendarAlways, or Always(loc)): every instant works.
//   - union and intersection (CalendarUnion, CalendarIntersection, or Union
//     and Intersection): customer coverage ∩ team hours.
//
// NewSchedule rejects overlapping spans (overnight spans and the week's wrap
// included) and calendars without working time with a *itsm.ValidationError
// naming the field ("week.monday[1]", "holidays[0].yearly.nth", "zone").
// Reading JSON (ParseSchedule, ParseCalendarSpec) names a value it
// cannot read with the same paths ("week.monday[0].start" for "9:00",
// "holidays[2].date" for "2026-12-32", "parts[1].exceptions[0].hours[1].end").
//
// # Time zones and DST
//
// Every span bound is resolved on its own local date, never as midnight plus
// a duration. A bound inside a spring-forward gap moves forward to the
// instant the clocks jumped; a bound in wall time shown twice takes its first
// occurrence, so a span open when the clocks go back also covers the repeated
// hour. Consequently a 24×7 day is 23 h or 25 h long on change days (23.5 h
// and 24.5 h on Lord Howe Island), while a 09:00–17:00 day stays 8 h.
// Equivalently, an instant is working when its wall-clock time lies in a
// working span, and during the second pass of a repeated hour when the wall
// clock was working just before the clocks went back.
//
// # Arithmetic
//
// Durations are exact integers (nanoseconds); nothing is a float.
// Add(t, 0) at a non-working instant returns the next opening, so a timer
// started at night starts counting when work starts; at a working instant it
// returns t. For d > 0 Add returns the earliest instant at which d of working
// time has passed (the close of a span when it fits exactly), and
// Between(t, Add(t, d)) == d. A negative d is a *itsm.ValidationError for
// field "d". Results are in UTC.
//
// Weekly calendars precompute their weekly prefix sums and an index of
// irregular days (holidays, exceptions, DST days) over a fixed horizon, local
// dates 1970-01-01 to 2199-12-31, so Add, Between and IsWorking cost a few
// binary searches at any span and no search can loop: outside the horizon a
// weekly calendar has no working time, and Add returns ErrNoWorkingTime when
// the answer would lie beyond it. Unions and intersections in one zone are
// compiled into one such table; across zones they walk the parts'
// transitions, so their cost grows with the span.
//
// # Availability
//
// Availability measures a service over its agreed service hours from outage
// intervals: agreed service time, downtime, breaks, MTRS and MTBF as exact
// durations, the percentage as a decimal cut (never rounded up) after
// AvailabilityScale decimals, and Meets for an exact comparison with a
// target.
//
// # Timers
//
// An Engine compiles agreements and, for each Observation of a record (its
// fields and state category at an instant), returns the record's new State
// and the Events that happened: attached, paused, resumed, threshold,
// breached, completed, canceled, retargeted. Conditions are declarative and
// serialisable; precedence is stop, then cancel, then reset, then goal
// re-match (retarget, or cancel with "no_goal" when no goal matches), then
// pause, and a pause condition that holds where the start condition does not
// cancels the cycle instead of pausing it (see Target).
// Timers measure business time on a goal's calendar with exact integer
// durations; a timer breaches only when it is still running after its due
// instant, and no rounded percentage ever decides a breach. While paused a
// timer has no due instant; Engine.DueIfResumed answers "breach at if resumed
// now". Replaying a record's whole history and feeding it observation by
// observation give identical timers and events. See Timer for the details.
//
// A host that owns the State it loaded (decoded or cloned for the call) can
// advance it with Engine.ObserveInPlace and Engine.AdvanceInPlace instead,
// which give the same results without copying it. They follow a
// copy-on-write rule, so a State that shares memory with others (one a
// store lends to every reader) needs only State.Detach, which copies its
// Timers array, before them.
//
// # Storage
//
// State encodes to JSON and, for storage, to a compact binary form
// (State.MarshalBinary, State.AppendBinary, State.UnmarshalBinary) several
// times smaller, whose decoder is safe on any input. Event.AppendJSON
// writes an event's JSON without reflection.
//
// # Compliance and credits
//
// Compliance summarises completed and in-flight timers per agreement, metric
// and priority for a period. A cycle is decided once, in the period and
// priority row of its first completion, met or breached as it stood then
// (the timer records that decision), so a report on a past period gives the
// same figures whenever it is run. CreditPolicy turns an attainment or
// availability percentage into a service credit by tiered bands with a cap.
//
// # Errors
//
// Invalid input returns a *itsm.ValidationError (errors.Is(err,
// itsm.ErrInvalid)) naming the field; ErrNoWorkingTime reports that a
// calendar has no working time where an answer was asked for. Nothing
// panics on bad input.
//
// # Concurrency
//
// Calendars are immutable after construction and safe for concurrent use.
package sla
