// Package wire holds the primitives of itsmkit's compact binary encodings:
// varints, length-prefixed strings, UUIDs and instants appended to a byte
// slice, and a Reader that takes them back out of an immutable string.
//
// Encodings built on it (incident.Data's, for the memory store) are for
// storage and caches, not for exchange: they start with a format byte of
// their own so that a later format can still read an earlier one.
//
// A Reader never panics on bad input: the first problem sticks as its error
// (naming the field being read), every later read returns a zero value, and
// lengths read from the input are bounded by what is left of it, so a
// corrupt length cannot make a reader allocate more than its input.
// Strings a Reader returns are substrings of its input: reading a record
// kept as a string costs no allocation per string field.
package wire
