package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestEngineReadsField(t *testing.T) {
	a := Agreement{
		ID: "a", Version: 1, Kind: itsm.AgreementSLA,
		Scope: AnyOf(FieldIs("fields.segment", "vip"), Not(FieldIs("fields.region", "eu"))),
		Targets: []Target{{
			Metric: "response",
			Start:  FieldChanged("fields.queue"),
			Stop:   StateIn(itsm.CategoryResolved),
			Goals:  []Goal{{Name: "gold", When: FieldIs("fields.tier", "gold"), Within: time.Hour}, {Name: "all", Within: 2 * time.Hour}},
		}},
	}
	e, err := NewEngine([]Agreement{a}, nil)
	require.NoError(t, err)
	for _, f := range []string{"segment", "region", "queue", "tier"} {
		assert.True(t, e.ReadsField(f), f)
	}
	for _, f := range []string{"", "fields.segment", "priority", "state", "other"} {
		assert.False(t, e.ReadsField(f), f)
	}
	none, err := NewEngine([]Agreement{{ID: "b", Version: 1, Kind: itsm.AgreementSLA, Targets: []Target{{
		Metric: "r", Stop: StateIn(itsm.CategoryResolved), Goals: []Goal{{Name: "all", Within: time.Hour}},
	}}}}, nil)
	require.NoError(t, err)
	assert.False(t, none.ReadsField("segment"))
}
