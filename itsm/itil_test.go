package itsm_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/itsm"
)

func TestPracticesAreThe34InThreeGroups(t *testing.T) {
	all := itsm.Practices()
	require.Len(t, all, 34)
	assert.Len(t, itsm.PracticesIn(itsm.GroupGeneral), 14)
	assert.Len(t, itsm.PracticesIn(itsm.GroupService), 17)
	assert.Len(t, itsm.PracticesIn(itsm.GroupTechnical), 3)
	slugs := map[string]bool{}
	for _, p := range all {
		t.Run(p.String(), func(t *testing.T) {
			assert.True(t, p.Valid())
			assert.NotEmpty(t, p.Purpose())
			assert.NotEmpty(t, p.Activities())
			for _, a := range p.Activities() {
				assert.True(t, a.Valid())
			}
			assert.False(t, slugs[p.String()], "duplicate slug")
			slugs[p.String()] = true
			back, err := itsm.ParsePractice(p.Name())
			require.NoError(t, err)
			assert.Equal(t, p, back)
		})
	}
	assert.Equal(t, "8.6.1", itsm.PracticeIncidentManagement.ISOClause())
	assert.Equal(t, "8.5.1", itsm.PracticeChangeEnablement.ISOClause())
	assert.Equal(t, "7.6", itsm.PracticeKnowledgeManagement.ISOClause(), "7.6 Knowledge")
	assert.Equal(t, itsm.ActivityDeliverAndSupport, itsm.PracticeIncidentManagement.Activities()[0])
	assert.Equal(t, itsm.GroupTechnical, itsm.PracticeDeploymentManagement.Group())
	var bad itsm.Practice = 99
	assert.False(t, bad.Valid())
	assert.Empty(t, bad.Purpose())
	assert.Nil(t, bad.Activities())
	assert.Zero(t, bad.Group())
	assert.Empty(t, bad.ISOClause())
}

// Each vocabulary parses its slug and its display name in any case, prints
// its slug, and round-trips through JSON.
func TestVocabularyRoundTrips(t *testing.T) {
	type entry struct {
		name  string
		count int
		slugs []string
		parse func(string) (string, error)
		json  func(string) (string, error)
	}
	via := func(v any) func(string) (string, error) {
		return func(s string) (string, error) {
			if err := json.Unmarshal([]byte(`"`+s+`"`), v); err != nil {
				return "", err
			}
			out, err := json.Marshal(v)
			return string(out), err
		}
	}
	slugsOf := func(vals ...interface{ String() string }) []string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = v.String()
		}
		return out
	}
	var (
		d itsm.Dimension
		a itsm.Activity
		g itsm.GuidingPrinciple
		s itsm.ImprovementStep
		k itsm.AgreementKind
		c itsm.Category
		p itsm.PracticeGroup
	)
	entries := []entry{
		{"dimensions", 4, slugsOf(toStringers(itsm.Dimensions())...), func(x string) (string, error) { v, err := itsm.ParseDimension(x); return v.String(), err }, via(&d)},
		{"activities", 6, slugsOf(toStringers(itsm.Activities())...), func(x string) (string, error) { v, err := itsm.ParseActivity(x); return v.String(), err }, via(&a)},
		{"principles", 7, slugsOf(toStringers(itsm.GuidingPrinciples())...), func(x string) (string, error) { v, err := itsm.ParseGuidingPrinciple(x); return v.String(), err }, via(&g)},
		{"improvement steps", 7, slugsOf(toStringers(itsm.ImprovementSteps())...), func(x string) (string, error) { v, err := itsm.ParseImprovementStep(x); return v.String(), err }, via(&s)},
		{"agreement kinds", 3, slugsOf(toStringers(itsm.AgreementKinds())...), func(x string) (string, error) { v, err := itsm.ParseAgreementKind(x); return v.String(), err }, via(&k)},
		{"categories", 6, slugsOf(toStringers(itsm.Categories())...), func(x string) (string, error) { v, err := itsm.ParseCategory(x); return v.String(), err }, via(&c)},
		{"practice groups", 3, slugsOf(toStringers(itsm.PracticeGroups())...), func(x string) (string, error) { v, err := itsm.ParsePracticeGroup(x); return v.String(), err }, via(&p)},
	}
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			require.Len(t, e.slugs, e.count)
			for _, slug := range e.slugs {
				got, err := e.parse(slug)
				require.NoError(t, err)
				assert.Equal(t, slug, got)
				got, err = e.json(slug)
				require.NoError(t, err)
				assert.Equal(t, `"`+slug+`"`, got)
			}
			_, err := e.parse("no such thing")
			assert.ErrorIs(t, err, itsm.ErrInvalid)
			_, err = e.json("no such thing")
			assert.ErrorIs(t, err, itsm.ErrInvalid)
		})
	}
}

func toStringers[T interface{ String() string }](vals []T) []interface{ String() string } {
	out := make([]interface{ String() string }, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

func TestVocabularyParsesDisplayForms(t *testing.T) {
	act, err := itsm.ParseActivity("Obtain/build")
	require.NoError(t, err)
	assert.Equal(t, itsm.ActivityObtainBuild, act)
	act, err = itsm.ParseActivity("DELIVER AND SUPPORT")
	require.NoError(t, err)
	assert.Equal(t, itsm.ActivityDeliverAndSupport, act)
	k, err := itsm.ParseAgreementKind("UC")
	require.NoError(t, err)
	assert.Equal(t, itsm.AgreementUC, k)
	assert.Equal(t, "supplier", k.Counterparty())
	assert.Equal(t, "internal team", itsm.AgreementOLA.Counterparty())
	assert.Equal(t, "Underpinning contract", k.Name())
	dim, err := itsm.ParseDimension("partners-and-suppliers")
	require.NoError(t, err)
	assert.Equal(t, "Partners and suppliers", dim.Name())
	gp, err := itsm.ParseGuidingPrinciple("Keep it simple and practical")
	require.NoError(t, err)
	assert.Equal(t, itsm.PrincipleKeepItSimple, gp)
	_, err = json.Marshal(itsm.Dimension(0))
	assert.ErrorIs(t, err, itsm.ErrInvalid, "the zero value does not marshal")
}

func TestImprovementStepsLoop(t *testing.T) {
	s := itsm.StepWhatIsTheVision
	seen := 0
	for {
		seen++
		s = s.Next()
		if s == itsm.StepWhatIsTheVision {
			break
		}
	}
	assert.Equal(t, 7, seen)
	assert.Zero(t, itsm.ImprovementStep(0).Next())
	assert.Equal(t, "Where are we now?", itsm.StepWhereAreWeNow.Name())
}

func TestCategoryPredicates(t *testing.T) {
	open := map[itsm.Category]bool{itsm.CategoryNew: true, itsm.CategoryActive: true, itsm.CategoryWaiting: true}
	done := map[itsm.Category]bool{itsm.CategoryClosed: true, itsm.CategoryCanceled: true}
	for _, c := range itsm.Categories() {
		assert.Equal(t, open[c], c.IsOpen(), c.String())
		assert.Equal(t, done[c], c.IsDone(), c.String())
	}
	assert.False(t, itsm.Category(0).Valid())
	assert.Equal(t, "category(0)", itsm.Category(0).String())
}

func TestValueStreams(t *testing.T) {
	vs, err := itsm.NewValueStream(" Fulfil a request ", itsm.ActivityEngage, itsm.ActivityDeliverAndSupport, itsm.ActivityEngage)
	require.NoError(t, err)
	assert.Equal(t, "Fulfil a request", vs.Name())
	assert.Equal(t, "Fulfil a request: engage → deliver_and_support → engage", vs.String())
	steps := vs.Steps()
	steps[0] = itsm.ActivityPlan
	assert.Equal(t, itsm.ActivityEngage, vs.Steps()[0], "Steps returns a copy")

	raw, err := json.Marshal(vs)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"Fulfil a request","steps":["engage","deliver_and_support","engage"]}`, string(raw))
	var back itsm.ValueStream
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, vs, back)

	assert.Equal(t, []itsm.Activity{itsm.ActivityEngage, itsm.ActivityDeliverAndSupport, itsm.ActivityImprove}, itsm.RestoreServiceStream().Steps())

	tests := []struct {
		name   string
		vsName string
		steps  []itsm.Activity
		field  string
	}{
		{"empty name", "  ", []itsm.Activity{itsm.ActivityPlan}, "name"},
		{"no steps", "x", nil, "steps"},
		{"unknown activity", "x", []itsm.Activity{itsm.ActivityPlan, 42}, "steps[1]"},
		{"repeated step", "x", []itsm.Activity{itsm.ActivityPlan, itsm.ActivityPlan}, "steps[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := itsm.NewValueStream(tc.vsName, tc.steps...)
			var ve *itsm.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tc.field), err.Error())
		})
	}
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"name":"x","steps":["engage","bogus"]}`), &back), itsm.ErrInvalid)
}

func TestKindValidate(t *testing.T) {
	for k, ok := range map[itsm.Kind]bool{"incident": true, "known_error": true, "ci2": true, "": false, "Incident": false, "_x": false, "2x": false, "a-b": false} {
		assert.Equal(t, ok, k.Validate() == nil, string(k))
	}
}
