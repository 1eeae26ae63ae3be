// Package jsonw holds the pieces of JSON that itsmkit writes by hand, for
// event payloads that are built on every command and must not pay for
// reflection: a string escaped exactly as encoding/json's Marshal escapes
// it, and an instant written as time.Time's MarshalJSON writes it, so a
// hand-written payload and a marshalled one agree byte for byte.
package jsonw
