// Package bench compares itsmkit with peer libraries side by side. It is a
// nested module so that peers never enter itsmkit's own go.mod.
package bench
