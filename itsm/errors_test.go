package itsm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestFieldErrorsCollectsInOrder(t *testing.T) {
	var errs itsm.FieldErrors
	require.NoError(t, errs.Err(), "an empty collector is no error")
	errs.Add("title", "must not be empty")
	errs.Addf("impact", "%d is not a level", 7)
	err := errs.Err()
	require.Error(t, err)
	assert.ErrorIs(t, err, itsm.ErrInvalid)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "title", ve.Field)
	assert.Equal(t, "must not be empty", ve.Reason)
	assert.Equal(t, []itsm.FieldError{{Field: "impact", Reason: "7 is not a level"}}, ve.Others)
	assert.Equal(t, "invalid title: must not be empty; invalid impact: 7 is not a level", err.Error())
	assert.True(t, ve.Has("impact"))
	assert.False(t, ve.Has("urgency"))
}

func TestFieldErrorsMerge(t *testing.T) {
	inner := &itsm.ValidationError{Field: "kind", Reason: "bad", Others: []itsm.FieldError{{Field: "[2]", Reason: "x"}, {Field: "", Reason: "whole"}}}
	tests := []struct {
		name   string
		prefix string
		err    error
		want   []itsm.FieldError
	}{
		{"nil adds nothing", "parent", nil, nil},
		{"prefixes nested fields", "parent", inner, []itsm.FieldError{{"parent.kind", "bad"}, {"parent[2]", "x"}, {"parent", "whole"}}},
		{"empty prefix keeps names", "", inner, []itsm.FieldError{{"kind", "bad"}, {"[2]", "x"}, {"", "whole"}}},
		{"wrapped validation error", "p", fmt.Errorf("ctx: %w", itsm.NewValidationError("a", "b")), []itsm.FieldError{{"p.a", "b"}}},
		{"plain error is recorded against the prefix", "store", errors.New("boom"), []itsm.FieldError{{"store", "boom"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errs itsm.FieldErrors
			errs.Merge(tc.prefix, tc.err)
			if tc.want == nil {
				assert.NoError(t, errs.Err())
				return
			}
			var ve *itsm.ValidationError
			require.ErrorAs(t, errs.Err(), &ve)
			assert.Equal(t, tc.want, ve.All())
		})
	}
}

func TestValidationErrorJSON(t *testing.T) {
	ve := &itsm.ValidationError{Field: "a", Reason: "b", Others: []itsm.FieldError{{Field: "c", Reason: "d"}}}
	b, err := json.Marshal(ve)
	require.NoError(t, err)
	assert.JSONEq(t, `{"field":"a","reason":"b","others":[{"field":"c","reason":"d"}]}`, string(b))
}

func TestTransitionErrorUnwrapsAndReads(t *testing.T) {
	err := error(&itsm.TransitionError{Lifecycle: "change", From: "closed", Action: "cancel", Reason: "closed is terminal"})
	assert.ErrorIs(t, err, itsm.ErrInvalidTransition)
	assert.NotErrorIs(t, err, itsm.ErrInvalid)
	assert.Equal(t, "change: cannot cancel from closed: closed is terminal", err.Error())
}

func TestSentinelsAreDistinct(t *testing.T) {
	all := []error{itsm.ErrNotFound, itsm.ErrAlreadyExists, itsm.ErrConflict, itsm.ErrInvalid, itsm.ErrInvalidTransition, itsm.ErrForbidden}
	for i, a := range all {
		for j, b := range all {
			assert.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
}
