package incident

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEventSpace checks every shape eventSpace hands out and its fallback:
// exactly n clipped events, and an empty buffer with room for size bytes.
func TestEventSpace(t *testing.T) {
	tests := []struct {
		name    string
		n, size int
	}{
		{"one event", 1, 192},
		{"one event, full shape", 1, 256},
		{"two events", 2, 512},
		{"one large event", 1, 600},
		{"three events", 3, 832},
		{"four events", 4, 1376},
		{"five events", 5, 1600},
		{"four events, large payloads", 4, 4000},
		{"none", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, buf := eventSpace(tt.n, tt.size)
			assert.Len(t, events, tt.n)
			assert.Equal(t, tt.n, cap(events), "events must be clipped")
			assert.Empty(t, buf)
			assert.GreaterOrEqual(t, cap(buf), tt.size)
			for i := range events {
				assert.Zero(t, events[i])
			}
		})
	}
}
