package incident

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/itsmkit/itsmkit/itsm"
)

// Limits on an incident's text and collections. Input over a limit is a
// *itsm.ValidationError naming the field, never truncated silently.
const (
	MaxTitleLen         = 200      // bytes
	MaxDescriptionLen   = 32 << 10 // bytes
	MaxCommentLen       = 32 << 10 // bytes
	MaxNotesLen         = 16 << 10 // bytes, for resolution notes and reasons
	MaxShortTextLen     = 128      // bytes, for names, codes, groups, categories
	MaxCIs              = 256      // affected CIs per incident
	MaxCustomFields     = 64       // custom fields per incident
	MaxCustomValueLen   = 4 << 10  // bytes per custom field value
	MaxComments         = 10_000   // comments and work notes per incident
	maxHistoryEntries   = 100_000  // a guard against runaway automation
	numberDigits        = 7        // INC0001234
	defaultNumberPrefix = "INC"
)

// Channel is how an incident reached the desk.
type Channel string

// The channels.
const (
	ChannelPhone      Channel = "phone"
	ChannelEmail      Channel = "email"
	ChannelPortal     Channel = "portal"
	ChannelChat       Channel = "chat"
	ChannelMonitoring Channel = "monitoring"
	ChannelWalkIn     Channel = "walk_in"
	ChannelAPI        Channel = "api"
)

// Valid reports whether c is one of the declared channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelPhone, ChannelEmail, ChannelPortal, ChannelChat, ChannelMonitoring, ChannelWalkIn, ChannelAPI:
		return true
	}
	return false
}

// HoldReason says what an on-hold incident waits for.
type HoldReason string

// The hold reasons.
const (
	// HoldAwaitingCaller waits for the caller; it needs a comment saying
	// what was asked, and the caller's reply resumes the incident.
	HoldAwaitingCaller HoldReason = "awaiting_caller"
	// HoldAwaitingChange waits for a change to be implemented.
	HoldAwaitingChange HoldReason = "awaiting_change"
	// HoldAwaitingProblem waits for a problem's fix; resolving the problem
	// resolves the incident.
	HoldAwaitingProblem HoldReason = "awaiting_problem"
	// HoldAwaitingVendor waits for a supplier.
	HoldAwaitingVendor HoldReason = "awaiting_vendor"
)

// Valid reports whether r is one of the declared hold reasons.
func (r HoldReason) Valid() bool {
	switch r {
	case HoldAwaitingCaller, HoldAwaitingChange, HoldAwaitingProblem, HoldAwaitingVendor:
		return true
	}
	return false
}

// cascades reports whether a parent's hold with this reason carries over to
// its children (DOMAIN.md §3: change, problem and vendor holds do; a hold
// awaiting the parent's caller does not).
func (r HoldReason) cascades() bool {
	return r == HoldAwaitingChange || r == HoldAwaitingProblem || r == HoldAwaitingVendor
}

// CancelReason says why an incident was canceled.
type CancelReason string

// The cancel reasons.
const (
	CancelDuplicate     CancelReason = "duplicate"
	CancelNotAnIncident CancelReason = "not_an_incident"
	CancelRaisedInError CancelReason = "raised_in_error"
)

// Valid reports whether r is one of the declared cancel reasons.
func (r CancelReason) Valid() bool {
	return r == CancelDuplicate || r == CancelNotAnIncident || r == CancelRaisedInError
}

// ResolutionCode classifies how an incident was resolved. Desks define their
// own codes; a code is 1 to 64 lower-case letters, digits and underscores.
type ResolutionCode string

// Common resolution codes.
const (
	ResolvedPermanently     ResolutionCode = "solved_permanently"
	ResolvedWorkaround      ResolutionCode = "solved_workaround"
	ResolvedNotReproducible ResolutionCode = "not_reproducible"
	ResolvedByCaller        ResolutionCode = "resolved_by_caller"
	ResolvedByChange        ResolutionCode = "resolved_by_change"
	ResolvedByProblem       ResolutionCode = "resolved_by_problem"
)

// Validate returns a *itsm.ValidationError naming "resolution.code" when c is
// not a well-formed code.
func (c ResolutionCode) Validate() error {
	if !isSlug(string(c)) {
		return itsm.NewValidationError("resolution.code", fmt.Sprintf("%q must be 1 to 64 lower-case letters, digits and underscores", clip(string(c))))
	}
	return nil
}

func isSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkText validates free text: valid UTF-8, at most max bytes, and no
// control characters other than newline, carriage return and tab when
// multiline (none at all otherwise).
func checkText(errs *itsm.FieldErrors, field, s string, max int, multiline bool) bool {
	if textOK(s, max, multiline) {
		return true
	}
	switch {
	case len(s) > max:
		errs.Addf(field, "must be at most %d bytes, got %d", max, len(s))
	case !utf8.ValidString(s):
		errs.Add(field, "must be valid UTF-8")
	case hasControl(s, multiline):
		errs.Add(field, "must not contain control characters")
	default:
		return true
	}
	return false
}

// textOK reports whether checkText accepts s, recording nothing. Text is
// mostly printable ASCII, checked a byte at a time; from the first
// non-ASCII byte on, the rest is decoded as UTF-8.
func textOK(s string, max int, multiline bool) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch textClass[s[i]] {
		case textPlain:
		case textBreak:
			if !multiline {
				return false
			}
		case textControl:
			return false
		default:
			rest := s[i:]
			return utf8.ValidString(rest) && !hasControl(rest, multiline)
		}
	}
	return true
}

// The classes of a byte of text, for textOK.
const (
	textPlain   = iota // printable ASCII
	textBreak          // newline, carriage return, tab
	textControl        // another ASCII control character
	textOther          // the first byte of something not ASCII
)

// textClass classifies each byte for textOK.
var textClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
			t[c] = textBreak
		case c < 0x20 || c == 0x7f:
			t[c] = textControl
		case c >= utf8.RuneSelf:
			t[c] = textOther
		}
	}
	return t
}()

// hasControl reports whether s holds a control character checkText
// refuses.
func hasControl(s string, multiline bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	})
}

// checkRequired is checkText for a field that must not be blank.
func checkRequired(errs *itsm.FieldErrors, field, s string, max int, multiline bool) bool {
	if !notBlank(s) {
		errs.Add(field, "must not be empty")
		return false
	}
	return checkText(errs, field, s, max, multiline)
}

// requiredOK reports whether checkRequired accepts s, recording nothing.
func requiredOK(s string, max int, multiline bool) bool {
	return notBlank(s) && textOK(s, max, multiline)
}

// shortOK reports whether validateShort accepts s, recording nothing.
func shortOK(s string) bool { return s == "" || textOK(s, MaxShortTextLen, false) }

// notBlank reports whether s holds more than white space
// (strings.TrimSpace(s) != ""), looking no further than its first
// character that is not ASCII white space.
func notBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
		case c < utf8.RuneSelf:
			return true
		default:
			return strings.TrimSpace(s[i:]) != ""
		}
	}
	return false
}

func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Number is an incident's human-readable number, unique per tenant, e.g.
// "INC0001234".
type Number string

// FormatNumber renders sequence value n with prefix, zero-padded to seven
// digits ("INC", 1234 → "INC0001234"); values beyond seven digits keep all
// their digits.
func FormatNumber(prefix string, n int64) Number {
	if n < 0 {
		return Number(fmt.Sprintf("%s%0*d", prefix, numberDigits, n))
	}
	// The string is the only allocation (fmt would box its arguments too).
	var buf [64]byte
	b := append(buf[:0], prefix...)
	for k := numberDigits - 1; k > 0 && n < pow10[k]; k-- {
		b = append(b, '0')
	}
	return Number(strconv.AppendInt(b, n, 10))
}

// pow10[k] is 10 to the power k.
var pow10 = [numberDigits]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000}
