package bench

import (
	"testing"
	"time"
)

// starts are working instants spread over 2026 on which every benchmark
// cycles, so no single path is measured hot.
func starts(tb testing.TB) []time.Time {
	loc := newYork(tb)
	cal := itsmkitCalendar(tb)
	var out []time.Time
	t := time.Date(2026, 1, 5, 9, 17, 0, 0, loc)
	for len(out) < 64 {
		if cal.IsWorking(t) {
			out = append(out, t.In(loc))
		}
		t = t.Add(5*24*time.Hour + 97*time.Minute)
	}
	return out
}

var (
	sinkTime     time.Time
	sinkDuration time.Duration
)

func BenchmarkCalendarAdd(b *testing.B) {
	ours, theirs := itsmkitCalendar(b), rickarCalendar()
	ts := starts(b)
	for _, span := range []struct {
		name string
		d    time.Duration
	}{{"4h", 4 * time.Hour}, {"40h", 40 * time.Hour}, {"2000h", 2000 * time.Hour}} {
		b.Run("span="+span.name, func(b *testing.B) {
			b.Run("impl=itsmkit", func(b *testing.B) {
				i := 0
				for b.Loop() {
					t, err := ours.Add(ts[i%len(ts)], span.d)
					if err != nil {
						b.Fatal(err)
					}
					sinkTime = t
					i++
				}
			})
			b.Run("impl=rickar", func(b *testing.B) {
				i := 0
				for b.Loop() {
					sinkTime = theirs.AddWorkHours(ts[i%len(ts)], span.d)
					i++
				}
			})
		})
	}
}

func BenchmarkCalendarBetween(b *testing.B) {
	ours, theirs := itsmkitCalendar(b), rickarCalendar()
	ts := starts(b)
	for _, span := range []struct {
		name string
		days int
	}{{"1d", 1}, {"7d", 7}, {"365d", 365}} {
		ends := make([]time.Time, len(ts))
		for i, t := range ts {
			ends[i] = t.AddDate(0, 0, span.days)
		}
		b.Run("span="+span.name, func(b *testing.B) {
			b.Run("impl=itsmkit", func(b *testing.B) {
				i := 0
				for b.Loop() {
					k := i % len(ts)
					sinkDuration = ours.Between(ts[k], ends[k])
					i++
				}
			})
			b.Run("impl=rickar", func(b *testing.B) {
				i := 0
				for b.Loop() {
					k := i % len(ts)
					sinkDuration = theirs.WorkHoursInRange(ts[k], ends[k])
					i++
				}
			})
		})
	}
}
