package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
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
