package itsm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonCase is one input for validJSON with the verdict json.Valid gives it.
type jsonCase struct {
	name string
	in   string
	want bool
}

// nest wraps inner in depth levels of open (and close) brackets.
func nest(open, inner, close string, depth int) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

// jsonCases covers the grammar's corners; want is what json.Valid says, and
// TestValidJSONMatchesEncodingJSON checks that too.
var jsonCases = []jsonCase{
	// Empty input and whitespace.
	{"empty", "", false},
	{"space only", " ", false},
	{"all whitespace", " \t\r\n", false},
	{"object", "{}", true},
	{"object surrounded by whitespace", " \t\r\n{}\n\r\t ", true},
	{"object with trailing newline", "{}\n", true},
	{"whitespace inside object", "{ \"a\" \t:\n1 \r, \"b\" : [ ] }", true},
	{"whitespace inside array", "[ 1 , 2 ]", true},
	{"form feed is not whitespace", "\f{}", false},
	{"vertical tab is not whitespace", "{}\v", false},
	{"NUL is not whitespace", "{}\x00", false},
	{"no-break space is not whitespace", "\u00a0{}", false},
	{"BOM", "\xef\xbb\xbf{}", false},
	{"BOM alone", "\xef\xbb\xbf", false},

	// Trailing garbage and several values.
	{"two objects", "{}{}", false},
	{"two numbers", "1 2", false},
	{"object then comma", "{},", false},
	{"object then extra brace", "{}}", false},
	{"trailing garbage after literal", "truex", false},
	{"trailing garbage after number", "1x", false},
	{"trailing garbage after string", `"a"b`, false},

	// Literals.
	{"true", "true", true},
	{"false", "false", true},
	{"null", "null", true},
	{"literals in array", "[true,false,null]", true},
	{"truncated true", "tru", false},
	{"truncated false", "fals", false},
	{"truncated null", "nul", false},
	{"t alone", "t", false},
	{"f alone", "f", false},
	{"n alone", "n", false},
	{"capitalised True", "True", false},
	{"capitalised NULL", "NULL", false},
	{"misspelt literal", "nulL", false},
	{"truncated literal in array", "[tru]", false},
	{"literal prefix of another", "[nulls]", false},
	{"NaN", "NaN", false},
	{"Infinity", "Infinity", false},
	{"undefined", "undefined", false},

	// Numbers.
	{"zero", "0", true},
	{"negative zero", "-0", true},
	{"integer", "123", true},
	{"negative integer", "-123", true},
	{"fraction", "1.5", true},
	{"zero fraction", "0.0", true},
	{"negative zero fraction", "-0.0001", true},
	{"exponent", "1e5", true},
	{"upper-case exponent", "1E5", true},
	{"exponent with plus", "1e+5", true},
	{"exponent with minus", "1e-5", true},
	{"zero exponent", "0e0", true},
	{"fraction and exponent", "-1.25E-10", true},
	{"exponent with leading zeros", "1e007", true},
	{"long integer", "123456789012345678901234567890", true},
	{"huge exponent", "1e999999999999", true},
	{"minus alone", "-", false},
	{"minus in array", "[-]", false},
	{"minus then space", "- 1", false},
	{"double minus", "--1", false},
	{"leading plus", "+1", false},
	{"leading zero", "01", false},
	{"leading zeros", "00", false},
	{"negative leading zero", "-01", false},
	{"leading zero in array", "[01]", false},
	{"trailing dot", "1.", false},
	{"trailing dot in array", "[1.]", false},
	{"leading dot", ".1", false},
	{"minus dot", "-.1", false},
	{"dot then exponent", "1.e5", false},
	{"two dots", "1.2.3", false},
	{"exponent without digits", "1e", false},
	{"exponent sign without digits", "1e+", false},
	{"exponent minus without digits", "1E-", false},
	{"exponent without digits in object", `{"a":1e}`, false},
	{"double exponent sign", "1e+-5", false},
	{"fractional exponent", "1e5.5", false},
	{"two exponents", "1e5e5", false},
	{"exponent alone", "e5", false},
	{"hex number", "0x10", false},
	{"number with space", "1 0", false},
	{"number with underscore", "1_000", false},
	{"number with comma", "1,000", false},
	{"number then letter", "12a", false},

	// Strings.
	{"empty string", `""`, true},
	{"string", `"hello"`, true},
	{"all simple escapes", `"\"\\\/\b\f\n\r\t"`, true},
	{"unicode escape", `"\u00e9"`, true},
	{"upper-case unicode escape", `"\u00E9\uABCD"`, true},
	{"surrogate pair", `"\uD83D\uDE00"`, true},
	{"lone high surrogate", `"\uD800"`, true},
	{"lone low surrogate", `"\uDC00"`, true},
	{"reversed surrogates", `"\uDC00\uD800"`, true},
	{"escaped NUL", `"\u0000"`, true},
	{"truncated unicode escape", `"\u00"`, false},
	{"truncated unicode escape at end", `"\u00`, false},
	{"unicode escape with non-hex", `"\u00g0"`, false},
	{"unicode escape with upper-case U", `"\U00e9"`, false},
	{"unicode escape braces", `"\u{e9}"`, false},
	{"escaped single quote", `"\'"`, false},
	{"escaped letter", `"\a"`, false},
	{"escaped zero", `"\0"`, false},
	{"escaped x", `"\x41"`, false},
	{"escaped space", `"\ "`, false},
	{"escaped raw newline", "\"\\\n\"", false},
	{"backslash at end", `"\`, false},
	{"backslash before closing quote only", `"\"`, false},
	{"unterminated string", `"abc`, false},
	{"unterminated empty string", `"`, false},
	{"single-quoted string", `'a'`, false},
	{"raw tab", "\"a\tb\"", false},
	{"raw newline", "\"a\nb\"", false},
	{"raw carriage return", "\"a\rb\"", false},
	{"raw NUL", "\"a\x00b\"", false},
	{"raw 0x1f", "\"a\x1fb\"", false},
	{"raw space", `" "`, true},
	{"raw DEL", "\"a\x7fb\"", true},
	{"raw slash", `"a/b"`, true},
	{"two-byte UTF-8", `"é"`, true},
	{"three-byte UTF-8", `"€"`, true},
	{"four-byte UTF-8", `"😀"`, true},
	{"raw U+2028", "\"\u2028\"", true},
	{"invalid UTF-8 byte 0xff", "\"\xff\"", true},
	{"invalid UTF-8 byte 0xfe", "\"a\xfeb\"", true},
	{"lone continuation byte", "\"\x80\"", true},
	{"truncated two-byte sequence", "\"\xc3\"", true},
	{"overlong encoding", "\"\xc0\xaf\"", true},
	{"encoded surrogate", "\"\xed\xa0\x80\"", true},
	{"invalid UTF-8 in key", "{\"\xff\":1}", true},
	{"invalid UTF-8 outside string", "{\xff}", false},
	{"high byte as value", "\xff", false},

	// Arrays.
	{"empty array", "[]", true},
	{"array", `[1,"a",true,null,{},[]]`, true},
	{"nested arrays", "[[[]],[[]]]", true},
	{"unclosed array", "[", false},
	{"unclosed array with value", "[1", false},
	{"unclosed array with comma", "[1,", false},
	{"unopened array", "]", false},
	{"leading comma in array", "[,1]", false},
	{"trailing comma in array", "[1,]", false},
	{"double comma in array", "[1,,2]", false},
	{"lone comma in array", "[,]", false},
	{"missing comma in array", "[1 2]", false},
	{"colon in array", "[1:2]", false},
	{"array closed by brace", "[1}", false},
	{"empty array closed by brace", "[}", false},

	// Objects.
	{"object with members", `{"a":1,"b":"x","c":[true],"d":{"e":null}}`, true},
	{"duplicate keys", `{"a":1,"a":2}`, true},
	{"empty key", `{"":0}`, true},
	{"escaped key", `{"\u0041\n":0}`, true},
	{"unclosed object", "{", false},
	{"unclosed object with key", `{"a"`, false},
	{"unclosed object with colon", `{"a":`, false},
	{"unclosed object with value", `{"a":1`, false},
	{"unclosed object with comma", `{"a":1,`, false},
	{"unopened object", "}", false},
	{"unquoted key", `{a:1}`, false},
	{"number key", `{1:1}`, false},
	{"literal key", `{null:1}`, false},
	{"object key", `{{}:1}`, false},
	{"single-quoted key", `{'a':1}`, false},
	{"missing colon", `{"a" 1}`, false},
	{"missing value", `{"a":}`, false},
	{"double colon", `{"a"::1}`, false},
	{"equals instead of colon", `{"a"=1}`, false},
	{"key without value then comma", `{"a",}`, false},
	{"leading comma in object", `{,"a":1}`, false},
	{"trailing comma in object", `{"a":1,}`, false},
	{"double comma in object", `{"a":1,,"b":2}`, false},
	{"missing comma in object", `{"a":1 "b":2}`, false},
	{"object closed by bracket", `{"a":1]`, false},
	{"empty object closed by bracket", "{]", false},
	{"bad value in object", `{"a":tru}`, false},
	{"comment", "{/*x*/}", false},
	{"line comment", "{}//", false},

	// Nesting: encoding/json allows 10000 levels and no more.
	{"depth 128 arrays", nest("[", "", "]", 128), true},
	{"depth 129 arrays", nest("[", "", "]", 129), true},
	{"depth 129 arrays unbalanced", nest("[", "", "]", 129) + "]", false},
	{"depth 9999 arrays", nest("[", "", "]", 9999), true},
	{"depth 10000 arrays", nest("[", "", "]", 10000), true},
	{"depth 10000 arrays holding a value", nest("[", "1", "]", 10000), true},
	{"depth 10001 arrays", nest("[", "", "]", 10001), false},
	{"depth 10000 arrays unclosed", strings.Repeat("[", 10000), false},
	{"depth 10001 arrays unclosed", strings.Repeat("[", 10001), false},
	{"depth 10000 arrays one close short", nest("[", "", "]", 10000)[1:], false},
	{"depth 10000 objects", nest(`{"a":`, "{}", "}", 9999), true},
	{"depth 10001 objects", nest(`{"a":`, "{}", "}", 10000), false},
	{"depth 10000 mixed", nest(`{"a":[`, "", "]}", 5000), true},
	{"depth 10002 mixed", nest(`{"a":[`, "{}", "]}", 5000) + "", false},
	{"depth 10000 mixed mismatched at the bottom", nest(`{"a":[`, "", "}]", 5000), false},
	{"depth 10000 then a second deep array", "[" + nest("[", "", "]", 9999) + "," + nest("[", "", "]", 9999) + "]", true},
	{"deep array closed by brace", nest("[", "", "]", 200)[:399] + "}", false},
	{"deep object closed by bracket", nest(`{"a":`, "{}", "}", 200)[:200*5+2+199] + "]", false},
	{"deep then trailing garbage", nest("[", "", "]", 300) + "x", false},

	// Event payloads.
	{"payload", payloadSmall, true},
	{"large payload", payloadLarge, true},
	{"payload missing its closing brace", payloadSmall[:len(payloadSmall)-1], false},
}

// payloadSmall is a typical ~150-byte event payload.
const payloadSmall = `{"from":"in_progress","to":"resolved","resolution":{"code":"fixed","note":"Restarted the mail relay"},"at":"2025-03-14T09:26:53.589793Z","reopen":2}`

// payloadLarge is a ~2 KB event payload: a snapshot with nested objects,
// arrays, numbers, escapes and non-ASCII text.
var payloadLarge = func() string {
	var b strings.Builder
	b.WriteString(`{"incident":{"id":"0195a3c4-7e1f-7b2a-9c3d-4e5f6a7b8c9d","number":"INC-004217","title":"VPN drops every few minutes for the Zürich office",`)
	b.WriteString(`"description":"Users report \"connection reset\" on the VPN client.\nStarted after the firewall update at 08:00.\tSee the attached trace.",`)
	b.WriteString(`"state":"in_progress","impact":2,"urgency":1,"priority":{"value":2,"label":"high","matrix":"default"},`)
	b.WriteString(`"opened_at":"2025-03-14T08:12:05.123456Z","updated_at":"2025-03-14T09:26:53.589793Z","version":17,`)
	b.WriteString(`"caller":{"kind":"user","id":"u-8812","name":"Élodie Martin","email":"elodie.martin@example.com"},`)
	b.WriteString(`"assignment":{"group":"network-ops","assignee":{"kind":"user","id":"u-1042","name":"Kenji Watanabe"}},`)
	b.WriteString(`"cis":[{"id":"ci-fw-zrh-01","class":"firewall","impacted":true},{"id":"ci-vpn-gw-02","class":"vpn_gateway","impacted":true},{"id":"ci-isp-link-zrh","class":"wan_link","impacted":false}],`)
	b.WriteString(`"sla":[{"name":"response","target_minutes":30,"elapsed_minutes":12.5,"breached":false,"due":"2025-03-14T08:42:05Z"},{"name":"resolution","target_minutes":480,"elapsed_minutes":74.8,"breached":false,"due":"2025-03-14T16:12:05Z","paused":null}],`)
	b.WriteString(`"custom":{"site":"ZRH-2","floor":4,"affected_users":137,"ratio":0.685,"tiny":1.5e-7,"big":-2.75E+12,"tags":["vpn","firewall","p2","regression"]},`)
	b.WriteString(`"work_notes":[`)
	for i := range 4 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"seq":%d,"at":"2025-03-14T09:%02d:%02d.%06dZ","by":"u-1042","text":"Checked tunnel %d: rekey interval \u2192 3600s, DPD on; no drops for %d min \u2014 monitoring."}`,
			i+1, 10+i*3, 7*i%60, 123456*i%1000000, i+1, 5*i+5)
	}
	b.WriteString(`]},"changed":["state","assignment","work_notes"],"reason":null,"automated":false}`)
	return b.String()
}()

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			require.Equal(t, tc.want, json.Valid(in), "json.Valid disagrees with the table")
			assert.Equal(t, tc.want, validJSON(in), "validJSON")
			assert.Equal(t, tc.want, validJSONDeep(in), "validJSONDeep")
		})
	}
}

func TestValidJSONPayloadSizes(t *testing.T) {
	assert.InDelta(t, 150, len(payloadSmall), 10)
	assert.InDelta(t, 2048, len(payloadLarge), 200)
}

// TestValidJSONEveryPrefix checks every prefix and every one-byte deletion of
// the payloads, which exercises each place input can end or go wrong.
func TestValidJSONEveryPrefix(t *testing.T) {
	for _, p := range []string{payloadSmall, payloadLarge, `[{"a":[-0.5e+3,"\u12ab\n",true,false,null]}]`} {
		for i := 0; i <= len(p); i++ {
			prefix := []byte(p[:i])
			require.Equal(t, json.Valid(prefix), validJSON(prefix), "prefix %q", prefix)
			if i < len(p) {
				cut := []byte(p[:i] + p[i+1:])
				require.Equal(t, json.Valid(cut), validJSON(cut), "deletion %q", cut)
			}
		}
	}
}

// TestValidJSONEveryByte puts each byte value in each kind of position.
func TestValidJSONEveryByte(t *testing.T) {
	templates := []string{"%s", "[%s]", `{"a":%s}`, `"%s"`, `"\%s"`, `"\u00%s0"`, "1%s", "-%s", "1.%s", "1e%s", "[1%s2]", `{"a"%s1}`, `{%s}`, "tru%s"}
	for _, tmpl := range templates {
		for c := range 256 {
			in := []byte(strings.Replace(tmpl, "%s", string([]byte{byte(c)}), 1))
			require.Equal(t, json.Valid(in), validJSON(in), "input %q", in)
		}
	}
}

// TestJSONSpecialFindsTheFirstSpecialByte puts every byte value at every
// position of a word, over fillers plain and special, and checks that the
// mask's lowest set bit is in the first byte that is not plain.
func TestJSONSpecialFindsTheFirstSpecialByte(t *testing.T) {
	for _, fill := range []byte{'a', ' ', 0x7f, 0x80, 0xff, 0x1f, '"', '\\', 0x00, 0x21, 0x5d} {
		for pos := range 8 {
			for c := range 256 {
				var word [8]byte
				for k := range word {
					word[k] = fill
				}
				word[pos] = byte(c)
				first := 8
				for k, x := range word {
					if !jsonPlain[x] {
						first = k
						break
					}
				}
				m := jsonSpecial(binary.LittleEndian.Uint64(word[:]))
				if first == 8 {
					require.Zero(t, m, "word % x", word)
				} else {
					require.Equal(t, first, bits.TrailingZeros64(m)>>3, "word % x", word)
				}
			}
		}
	}
}

func TestValidJSONDoesNotAllocate(t *testing.T) {
	for _, in := range []string{payloadSmall, payloadLarge, nest("[", "", "]", 10000), nest(`{"a":[`, "", "]}", 5000)} {
		b := []byte(in)
		allocs := testing.AllocsPerRun(100, func() {
			if !validJSON(b) {
				t.Fatal("rejected valid input")
			}
		})
		assert.Zero(t, allocs)
	}
}

func TestIsJSONObject(t *testing.T) {
	for _, tc := range []struct {
		in                string
		object, wellShape bool
	}{
		{`{}`, true, true},
		{" \n{\"a\":[1]} ", true, true},
		{`{"a":}`, false, true},
		{`{`, false, true},
		{`[]`, false, false},
		{`null`, false, false},
		{`"{}"`, false, false},
		{``, false, false},
		{"\xef\xbb\xbf{}", false, false},
	} {
		assert.Equal(t, tc.object, isJSONObject([]byte(tc.in), true), "full check of %q", tc.in)
		assert.Equal(t, tc.wellShape, isJSONObject([]byte(tc.in), false), "shape check of %q", tc.in)
	}
}

// FuzzJSONValid checks validJSON against json.Valid on arbitrary input.
func FuzzJSONValid(f *testing.F) {
	for _, tc := range jsonCases {
		if len(tc.in) <= 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if got := validJSON(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
		if want && b[0] != '{' {
			// Also check the input at depth 129, past validJSON's first pass.
			deep := []byte(nest("[", string(b), "]", 129))
			if got := validJSON(deep); got != json.Valid(deep) {
				t.Fatalf("validJSON(129 arrays around %q) = %v, json.Valid = %v", b, got, !got)
			}
		}
	})
}

// BenchmarkJSONValid compares validJSON with json.Valid on event payloads.
func BenchmarkJSONValid(b *testing.B) {
	impls := []struct {
		name  string
		valid func([]byte) bool
	}{
		{"itsmkit", validJSON},
		{"encoding-json", json.Valid},
	}
	for _, p := range []struct{ name, in string }{{"150B", payloadSmall}, {"2KB", payloadLarge}} {
		in := []byte(p.in)
		for _, impl := range impls {
			b.Run("payload="+p.name+"/impl="+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				b.ReportAllocs()
				for b.Loop() {
					if !impl.valid(in) {
						b.Fatal("rejected a valid payload")
					}
				}
			})
		}
	}
}
