package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

func TestSimulationReport(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, options{seed: 3, incidents: 300, days: 5, format: "mermaid"}))
	s := out.String()
	for _, want := range []string{
		"== Simulated service desk ==",
		"seed 3: 300 incidents over 5 business days",
		"Incidents by state",
		"SLA attainment (Standard support), business time",
		"response   P1",
		"resolution P5",
		"Mean time to resolve",
		"Busiest groups",
		"service-desk",
	} {
		assert.Contains(t, s, want)
	}
	// Every incident is counted once by state.
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^  (new|in_progress|on_hold|resolved|closed|canceled) +(\d+)$`).FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[2])
		total += n
	}
	assert.Equal(t, 300, total)

	// The same seed gives the same desk.
	var again bytes.Buffer
	require.NoError(t, run(context.Background(), &again, options{seed: 3, incidents: 300, days: 5, format: "mermaid"}))
	assert.Equal(t, s, again.String())
}

// The report covers the period up to reportEnd: every live timer must have
// been brought that far, or a breach between the last action and the end
// goes uncounted (seed 3 once missed one, due at 17:39 on its last day).
func TestEveryTimerReachesTheReportsEnd(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []uint64{3, 8, 10} {
		s, err := newSim(simConfig{Seed: seed, Incidents: 300, Days: 5, Start: time.Date(2026, time.January, 5, 8, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		require.NoError(t, s.run(ctx))
		all, err := s.all(ctx)
		require.NoError(t, err)
		for _, d := range all {
			for _, tm := range d.SLA.Timers {
				if tm.Stage == sla.StageRunning && !tm.Breached && !tm.DueAt.IsZero() {
					assert.False(t, tm.DueAt.Before(s.reportEnd()), "seed %d: %s %s breaches at %v, before the report ends at %v, but was brought only to %v",
						seed, d.Number, tm.Metric, tm.DueAt, s.reportEnd(), tm.AsOf)
				}
			}
		}
	}
}

func TestDiagramsAndBadFlags(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, options{seed: 1, incidents: 5, days: 1, diagrams: true, format: "dot"}))
	assert.Contains(t, out.String(), `digraph "incident"`)
	assert.Contains(t, out.String(), `digraph "major-incident"`)
	assert.Contains(t, out.String(), "Service management practices (17)")
	err := run(context.Background(), &out, options{incidents: 0, days: 0, format: "svg"})
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.All(), 3)
}

// With -store postgres://…, a second run continues from what the first
// stored: numbers follow on, IDs never collide, and the report counts every
// stored incident.
func TestPostgresRunsContinue(t *testing.T) {
	url := os.Getenv("ITSMKIT_POSTGRES_URL")
	if url == "" {
		if os.Getenv("ITSMKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ITSMKIT_POSTGRES_URL is not set and ITSMKIT_REQUIRE_POSTGRES=1")
		}
		t.Skip("ITSMKIT_POSTGRES_URL is not set: no PostgreSQL server to run the durable desk against")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("servicedesk_%d", os.Getpid())
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	store := url + sep + "search_path=" + schema

	totals := []int{}
	for i := range 2 {
		var out bytes.Buffer
		require.NoError(t, run(ctx, &out, options{seed: uint64(i + 1), incidents: 40, days: 2, format: "mermaid", store: store}))
		m := regexp.MustCompile(`seed \d+: (\d+) incidents`).FindStringSubmatch(out.String())
		require.NotNil(t, m, out.String())
		n, _ := strconv.Atoi(m[1])
		totals = append(totals, n)
	}
	assert.Equal(t, []int{40, 80}, totals, "the second report covers both runs")
	var count, distinct int
	var lo, hi string
	require.NoError(t, admin.QueryRow(ctx, "SELECT count(*), count(DISTINCT number), min(number), max(number) FROM "+schema+".incidents").Scan(&count, &distinct, &lo, &hi))
	assert.Equal(t, 80, count)
	assert.Equal(t, 80, distinct)
	assert.Equal(t, "INC0000001", lo)
	assert.Equal(t, "INC0000080", hi, "numbers continue from the first run's")
}
