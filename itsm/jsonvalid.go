package itsm

import (
	"encoding/binary"
	"math/bits"
)

// This file holds an allocation-free JSON syntax check that accepts exactly
// what encoding/json.Valid accepts (the default, v1 scanner): RFC 8259 with
// encoding/json's choices. Strings may hold any byte from 0x20 up, invalid
// UTF-8 and DEL included; \u escapes need four hex digits but lone
// surrogates pass; nesting deeper than 10000 arrays and objects is invalid.
//
// It exists because outboxes validate every event they store, and
// json.Valid's byte-at-a-time state machine showed up at ~8% of the CPU of a
// service-desk command.

// maxJSONDepth is encoding/json's nesting limit: the 10000th nested array or
// object is accepted, the 10001st is not.
const maxJSONDepth = 10000

// jsonShallowWords is how many 64-bit words of nesting bits validJSON keeps
// on its first pass: payloads are shallow, and deeper input is rescanned with
// room for maxJSONDepth levels.
const jsonShallowWords = 2

var (
	// jsonPlain[c] is true for bytes that stand for themselves inside a
	// string: everything from 0x20 up except '"' and '\\'.
	jsonPlain [256]bool
	// jsonSpace[c] is true for the four bytes JSON treats as whitespace.
	jsonSpace [256]bool
	// jsonHex[c] is true for hexadecimal digits, either case.
	jsonHex [256]bool
)

func init() {
	for c := 0x20; c < 256; c++ {
		jsonPlain[c] = c != '"' && c != '\\'
	}
	for _, c := range []byte(" \t\n\r") {
		jsonSpace[c] = true
	}
	for _, c := range []byte("0123456789abcdefABCDEF") {
		jsonHex[c] = true
	}
}

// jsonSpecial takes eight bytes of a string, read little-endian, and returns
// zero when they are all plain. Otherwise it returns a mask with the top bit
// set in each byte that is below 0x20, '"' or '\\', and possibly in bytes
// after such a byte (the subtractions borrow out of flagged bytes only), so
// the lowest set bit always marks the first byte that needs attention. Bytes
// from 0x80 up are plain: &^ w clears their flags.
func jsonSpecial(w uint64) uint64 {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	below := w - 0x20*ones
	quote := (w ^ '"'*ones) - ones
	backslash := (w ^ '\\'*ones) - ones
	return (below | quote | backslash) &^ w & highs
}

// validJSON reports whether b is one well-formed JSON value, optionally
// surrounded by whitespace, exactly as json.Valid would. It does not allocate.
func validJSON(b []byte) bool {
	var stack [jsonShallowWords]uint64
	ok, deep := scanJSON(b, stack[:])
	if deep {
		return validJSONDeep(b)
	}
	return ok
}

// validJSONDeep is validJSON with room for maxJSONDepth levels of nesting,
// kept apart so the common shallow case does not zero 1.25 KB of stack.
//
//go:noinline
func validJSONDeep(b []byte) bool {
	var stack [(maxJSONDepth + 63) / 64]uint64
	ok, _ := scanJSON(b, stack[:])
	return ok
}

// scanJSON checks b's syntax, keeping one bit per open container in stack
// (set for an object, clear for an array). It reports deep, and gives up,
// when the nesting outgrows stack but not maxJSONDepth.
//
// The scanner is a loop over bytes with three re-entry points: value (a value
// is expected), key (an object key is expected, whitespace skipped) and next
// (a value just ended). str, shared by keys and values, scans a string body.
func scanJSON(b []byte, stack []uint64) (ok, deep bool) {
	var (
		i, depth int
		n        = len(b)
		c        byte
		isKey    bool
		inObject bool // whether the innermost open container is an object
	)

value:
	for i < n && jsonSpace[b[i]] {
		i++
	}
	if i >= n {
		return false, false
	}
	c = b[i]
	i++
	switch c {
	case '"':
		isKey = false
		goto str
	case '{', '[':
		if depth >= maxJSONDepth {
			return false, false
		}
		if depth >= len(stack)*64 {
			return false, true
		}
		for i < n && jsonSpace[b[i]] {
			i++
		}
		if c == '{' {
			if i < n && b[i] == '}' {
				i++
				goto next
			}
			stack[depth>>6] |= 1 << (depth & 63)
			depth++
			inObject = true
			goto key
		}
		if i < n && b[i] == ']' {
			i++
			goto next
		}
		stack[depth>>6] &^= 1 << (depth & 63)
		depth++
		inObject = false
		goto value
	case 't':
		if n-i >= 3 && string(b[i:i+3]) == "rue" {
			i += 3
			goto next
		}
		return false, false
	case 'f':
		if n-i >= 4 && string(b[i:i+4]) == "alse" {
			i += 4
			goto next
		}
		return false, false
	case 'n':
		if n-i >= 3 && string(b[i:i+3]) == "ull" {
			i += 3
			goto next
		}
		return false, false
	case '-':
		if i >= n {
			return false, false
		}
		c = b[i]
		i++
		if c-'0' > 9 {
			return false, false
		}
	default:
		if c-'0' > 9 {
			return false, false
		}
	}
	// A number, whose first digit c has been consumed: no leading zeros, a
	// fraction needs a digit after the dot, an exponent a digit after its
	// optional sign.
	if c != '0' {
		for i < n && b[i]-'0' <= 9 {
			i++
		}
	}
	if i < n && b[i] == '.' {
		i++
		if i >= n || b[i]-'0' > 9 {
			return false, false
		}
		for i < n && b[i]-'0' <= 9 {
			i++
		}
	}
	if i < n && b[i]|0x20 == 'e' {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= n || b[i]-'0' > 9 {
			return false, false
		}
		for i < n && b[i]-'0' <= 9 {
			i++
		}
	}
	goto next

key:
	if i >= n || b[i] != '"' {
		return false, false
	}
	i++
	isKey = true

str:
	// i is just past the opening quote.
	for {
		// Eight bytes at a time while they are plain, then byte by byte.
		for i+8 <= n {
			w := binary.LittleEndian.Uint64(b[i:])
			if m := jsonSpecial(w); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < n && jsonPlain[b[i]] {
			i++
		}
		if i >= n {
			return false, false
		}
		c = b[i]
		i++
		if c == '"' {
			break
		}
		if c != '\\' || i >= n {
			return false, false // a control character, or a lone backslash at the end
		}
		c = b[i]
		i++
		switch c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if n-i < 4 || !jsonHex[b[i]] || !jsonHex[b[i+1]] || !jsonHex[b[i+2]] || !jsonHex[b[i+3]] {
				return false, false
			}
			i += 4
		default:
			return false, false
		}
	}
	if isKey {
		for i < n && jsonSpace[b[i]] {
			i++
		}
		if i >= n || b[i] != ':' {
			return false, false
		}
		i++
		goto value
	}

next:
	for i < n && jsonSpace[b[i]] {
		i++
	}
	if depth == 0 {
		return i == n, false
	}
	if i >= n {
		return false, false
	}
	c = b[i]
	i++
	switch {
	case c == ',' && inObject:
		for i < n && jsonSpace[b[i]] {
			i++
		}
		goto key
	case c == ',':
		goto value
	case c == '}' && inObject, c == ']' && !inObject:
		depth--
		if depth > 0 {
			inObject = stack[(depth-1)>>6]&(1<<((depth-1)&63)) != 0
		}
		goto next
	}
	return false, false
}
