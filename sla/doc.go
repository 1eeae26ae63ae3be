// Package sla is itsmkit's service level engine: agreements (SLA with a
// customer, OLA between teams, UC with a supplier) with targets per metric,
// timers driven by observations of a record, compliance reports and service
// credits, all computed over business calendars.
//
// # Timers
//
// An Engine compiles agreements and, for each Observation of a record (its
// fields and state category at an instant), returns the record's new State
// and the Events that happened: attached, paused, resumed, threshold,
// breached, completed, canceled, retargeted. Conditions are declarative and
// serialisable; precedence is stop, then cancel, then reset, then pause,
// and a pause condition that holds where the start condition does not
// cancels the cycle instead of pausing it (see Target).
// Timers measure business time on a goal's calendar with exact integer
// durations; a timer breaches only when it is still running after its due
// instant, and no rounded percentage ever decides a breach. While paused a
// timer has no due instant; Engine.DueIfResumed answers "breach at if resumed
// now". Replaying a record's whole history and feeding it observation by
// observation give identical timers and events. See Timer for the details.
//
// # Reporting
//
// Compliance summarises completed and in-flight timers per agreement, metric
// and priority for a period; CreditPolicy turns an attainment or availability
// percentage into a service credit by tiered bands with a cap.
//
// # Purity
//
// The package never reads the clock and starts nothing: the host asks
// State.NextEventAt when to look again and calls Engine.Advance then.
// Every function is pure and safe for concurrent use.
package sla
