// Package incidents builds valid incidents for tests: records that the
// incident package's own rules produced, so a test never starts from data
// the service could not have written.
//
//	d := incidents.Data(t, incidents.Priority(1, 1), incidents.Resolved())
//
// Each record is built by replaying a short history through the default
// policy (see incident.Replay); options choose the classification, the
// assignment, the state the history ends in and the identity. Records are
// deterministic: the same options give the same record.
package incidents
