package faults

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every combination of capabilities is built with exactly those
// capabilities: the spelled-out switch must not drift.
func TestBuildCoversEveryCombination(t *testing.T) {
	for mask := 0; mask <= capAll; mask++ {
		t.Run(fmt.Sprintf("mask=%04b", mask), func(t *testing.T) {
			s := build(&core{inj: &Injector{}}, mask)
			assert.Equal(t, mask, capabilities(s))
		})
	}
}
