package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestRunPrintsTheDesk(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, "mermaid"))
	s := out.String()
	for _, want := range []string{
		"1 - High           1 - Critical   2 - High       3 - Moderate",
		"stateDiagram-v2",
		"resolved --> closed : close",
		"opened with impact 2, urgency 1: priority 2 - High",
		"09:07  assign   new         -> in_progress by dispatcher",
		"refused: incident: cannot reopen from closed: closed is terminal",
		"final state: closed (closed)",
		"Service management practices (17)",
	} {
		assert.Contains(t, s, want)
	}
}

func TestRunDOTAndBadFormat(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, "dot"))
	assert.Contains(t, out.String(), `digraph "incident"`)
	assert.ErrorIs(t, run(&out, "svg"), itsm.ErrInvalid)
}
