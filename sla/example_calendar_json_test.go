package sla_test

import (
	"errors"
	"fmt"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// A calendar read from JSON names every value it cannot read by its full
// path, as NewSchedule names the rules a spec breaks.
func ExampleParseCalendarSpec() {
	stored := `{
		"zone": "Europe/London",
		"week": {"monday": [{"start": "09:00", "end": "17:00"}], "tuesday": [{"start": "9:00", "end": "17:00"}]},
		"holidays": [{"name": "new year", "date": "2026-01-01"}, {"name": "boxing day", "date": "2026-12-32"}]
	}`
	_, err := sla.ParseCalendarSpec([]byte(stored))
	var ve *itsm.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.All() {
			fmt.Println(f)
		}
	}
	// Output:
	// week.tuesday[0].start: "9:00" is not a time of day HH:MM between 00:00 and 24:00
	// holidays[1].date: "2026-12-32" is not a date YYYY-MM-DD
}
