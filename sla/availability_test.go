package sla

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestAvailability(t *testing.T) {
	loc := mustZone(t, ny)
	cal := mustSchedule(t, CalendarSpec{Zone: ny, Week: nineToFive()})
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, loc) }
	// Monday 2026-03-02 to Monday 03-09: 40 h agreed.
	from, to := at(2, 0, 0), at(9, 0, 0)
	tests := []struct {
		name      string
		outages   []Outage
		excluded  []Outage
		agreed    time.Duration
		downtime  time.Duration
		breaks    int
		percent   string
		mtrs      time.Duration
		mtbf      time.Duration
		meets     string
		missesNow string
	}{
		{name: "no outage", agreed: 40 * time.Hour, percent: "100", meets: "100"},
		{name: "one hour", outages: []Outage{{at(3, 10, 0), at(3, 11, 0)}}, agreed: 40 * time.Hour, downtime: time.Hour, breaks: 1,
			percent: "97.5", mtrs: time.Hour, mtbf: 39 * time.Hour, meets: "97.5", missesNow: "97.500000001"},
		{name: "outage at night is no break", outages: []Outage{{at(3, 20, 0), at(4, 6, 0)}}, agreed: 40 * time.Hour, percent: "100", meets: "100"},
		{name: "overnight outage counts business time only", outages: []Outage{{at(3, 16, 0), at(4, 10, 0)}}, agreed: 40 * time.Hour,
			downtime: 2 * time.Hour, breaks: 1, percent: "95", mtrs: 2 * time.Hour, mtbf: 38 * time.Hour, meets: "95"},
		{name: "overlapping outages merge", outages: []Outage{{at(3, 10, 0), at(3, 12, 0)}, {at(3, 11, 0), at(3, 13, 0)}, {at(5, 9, 0), at(5, 10, 0)}},
			agreed: 40 * time.Hour, downtime: 4 * time.Hour, breaks: 2, percent: "90", mtrs: 2 * time.Hour, mtbf: 18 * time.Hour, meets: "90"},
		{name: "clipped to the period", outages: []Outage{{at(1, 0, 0), at(2, 10, 0)}, {at(6, 16, 0), at(10, 0, 0)}},
			agreed: 40 * time.Hour, downtime: 2 * time.Hour, breaks: 2, percent: "95", mtrs: time.Hour, mtbf: 19 * time.Hour, meets: "95"},
		{name: "maintenance excluded", outages: []Outage{{at(4, 9, 0), at(4, 12, 0)}}, excluded: []Outage{{at(4, 9, 0), at(4, 11, 0)}},
			agreed: 38 * time.Hour, downtime: time.Hour, breaks: 1, percent: "97.368421052", mtrs: time.Hour, mtbf: 37 * time.Hour,
			meets: "97.368421052", missesNow: "97.368421053"},
		{name: "repeating decimal is cut, not rounded", outages: []Outage{{at(2, 9, 0), at(2, 9, 20)}}, agreed: 40 * time.Hour, downtime: 20 * time.Minute, breaks: 1,
			percent: "99.166666666", mtrs: 20 * time.Minute, mtbf: 39*time.Hour + 40*time.Minute, meets: "99.1666666666666", missesNow: "99.166666667"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Availability(AvailabilityInput{Calendar: cal, From: from, To: to, Outages: tc.outages, Excluded: tc.excluded})
			require.NoError(t, err)
			assert.Equal(t, tc.agreed, r.Agreed)
			assert.Equal(t, tc.downtime, r.Downtime)
			assert.Equal(t, tc.agreed-tc.downtime, r.Uptime)
			assert.Equal(t, tc.breaks, r.Breaks)
			assert.Equal(t, tc.percent, r.Percent.String())
			assert.Equal(t, tc.mtrs, r.MTRS)
			assert.Equal(t, tc.mtbf, r.MTBF)
			assert.True(t, r.Meets(decimal.RequireFromString(tc.meets)))
			if tc.missesNow != "" {
				assert.False(t, r.Meets(decimal.RequireFromString(tc.missesNow)))
			}
		})
	}
}

func TestAvailabilityErrors(t *testing.T) {
	loc := mustZone(t, ny)
	cal := mustSchedule(t, CalendarSpec{Zone: ny, Week: nineToFive()})
	mon := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	tests := []struct {
		name  string
		in    AvailabilityInput
		field string
	}{
		{"nil calendar", AvailabilityInput{From: mon, To: mon.Add(time.Hour)}, "calendar"},
		{"nil schedule", AvailabilityInput{Calendar: (*Schedule)(nil), From: mon, To: mon.Add(time.Hour)}, "calendar"},
		{"zero schedule", AvailabilityInput{Calendar: &Schedule{}, From: mon, To: mon.Add(time.Hour)}, "calendar"},
		{"empty period", AvailabilityInput{Calendar: cal, From: mon, To: mon}, "to"},
		{"reversed outage", AvailabilityInput{Calendar: cal, From: mon, To: mon.AddDate(0, 0, 7), Outages: []Outage{{mon.Add(time.Hour), mon}}}, "outages[0].end"},
		{"reversed exclusion", AvailabilityInput{Calendar: cal, From: mon, To: mon.AddDate(0, 0, 7), Excluded: []Outage{{mon, mon}}}, "excluded[0].end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Availability(tc.in)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), "%v", ve.All())
		})
	}
	t.Run("no agreed service time", func(t *testing.T) {
		sat := time.Date(2026, 3, 7, 0, 0, 0, 0, loc)
		_, err := Availability(AvailabilityInput{Calendar: cal, From: sat, To: sat.AddDate(0, 0, 2)})
		assert.ErrorIs(t, err, ErrNoWorkingTime)
	})
}
