package incident

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

// TestAppendEntrySharesOnlyWhatItClaims runs the cases of historyTail: two
// successors of one version, a version whose array is full, and a record
// without a tail.
func TestAppendEntrySharesOnlyWhatItClaims(t *testing.T) {
	entry := func(cmd string) Entry { return Entry{Seq: 1, Command: cmd} }
	tests := []struct {
		name string
		// base builds the version both successors start from.
		base func() Data
		// inPlace says whether the first successor may append in place.
		inPlace bool
	}{
		{"first successor appends in place", func() Data {
			var d Data
			d.appendEntry(entry("open"))
			return d
		}, true},
		{"a full array moves", func() Data {
			var d Data
			for range minHistoryCap {
				d.appendEntry(entry("x"))
			}
			require.Equal(t, minHistoryCap, cap(d.History))
			return d
		}, false},
		{"a lent array without a tail is clipped by detach", func() Data {
			d := Data{History: make([]Entry, 1, 8)}
			d.History[0] = entry("open")
			d.detach()
			return d
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base()
			n := len(base.History)
			prefix := append([]Entry(nil), base.History...)
			a, b := base, base
			a.appendEntry(entry("a"))
			b.appendEntry(entry("b"))
			assert.Equal(t, tt.inPlace, &a.History[0] == &base.History[0], "first successor in place")
			assert.NotSame(t, &a.History[0], &b.History[0], "the second successor must not share the first's array")
			assert.Equal(t, prefix, base.History, "the version's own history changed")
			assert.Equal(t, "a", a.History[n].Command)
			assert.Equal(t, "b", b.History[n].Command)
			assert.Equal(t, prefix, a.History[:n])
			assert.Equal(t, prefix, b.History[:n])
			// Each successor goes on appending in place into its own array.
			a2 := a
			a2.appendEntry(entry("a2"))
			if n+1 < cap(a.History) {
				assert.Same(t, &a.History[0], &a2.History[0])
			}
			assert.Equal(t, "a", a2.History[n].Command)
		})
	}
}

// TestCloneDropsTheTail checks that a copy handed out owns its history.
func TestCloneDropsTheTail(t *testing.T) {
	var d Data
	d.appendEntry(Entry{Seq: 1, Command: "open"})
	require.NotNil(t, d.tail)
	c := d.Clone()
	assert.Nil(t, c.tail)
	c.appendEntry(Entry{Seq: 2, Command: "x"})
	assert.NotSame(t, &c.History[0], &d.History[0])
	assert.Equal(t, int64(1), d.tail.used.Load(), "a copy's append claimed a slot of the original")
}

// TestRecordWritesEveryField checks that record fills the whole slot
// newEntry hands it, even one that holds something already (an array
// without a tail, whose spare capacity nothing guarantees is zero).
func TestRecordWritesEveryField(t *testing.T) {
	// record sets Entry's fields one by one: a field added to Entry must
	// be added there too.
	require.Equal(t, 8, reflect.TypeFor[Entry]().NumField(), "record must write every field of Entry")
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	dirty := Entry{
		Seq: 99, At: at.Add(time.Hour), By: itsm.ActorRef{ID: "old", Name: "Old", Kind: itsm.ActorSystem},
		Command: "old", From: "x", To: "y", Reason: "old", Changes: []FieldChange{{Field: "f"}},
	}
	tests := []struct {
		name    string
		reason  string
		changes []FieldChange
	}{
		{"no reason, no changes", "", nil},
		{"reason and changes", "why", []FieldChange{{Field: "group", From: "a", To: "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Data{Status: "in_progress", History: make([]Entry, 1, 4)}
			d.History[0] = Entry{Seq: 1, At: at, Command: "open"}
			d.History[:2][1] = dirty
			inc := &Incident{d: &d}
			by := itsm.Actor{ID: "ana", Name: "Ana", Roles: []string{"r"}}
			inc.record(at, &by, "assign", "new", tt.reason, tt.changes)
			require.Len(t, d.History, 2)
			assert.Equal(t, Entry{
				Seq: 2, At: at, By: itsm.ActorRef{ID: "ana", Name: "Ana"}, Command: "assign",
				From: "new", To: "in_progress", Reason: tt.reason, Changes: tt.changes,
			}, d.History[1])
			assert.Equal(t, at, d.UpdatedAt)
		})
	}
}
