package incident_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
)

// The README shows the default incident lifecycle; it must be the diagram
// the lifecycle itself draws, edge for edge.
func TestReadmeShowsTheDefaultLifecycle(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)```mermaid\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "README has no Mermaid block")
	assert.Equal(t, incident.DefaultLifecycle().Mermaid(), string(block[1]))
}
