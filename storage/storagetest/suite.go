package storagetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
)

// Opener returns a new, empty store for one test. It may register cleanups
// with t (closing a connection, dropping a schema) and should fail t when it
// cannot open the store.
type Opener func(t *testing.T) storage.Store

// Run runs the whole suite against stores made by open: the repository
// tests, then one group of tests per optional capability, each skipped when
// the store does not implement the capability.
func Run(t *testing.T, open Opener) {
	t.Run("Incidents", func(t *testing.T) { runIncidents(t, open) })
	t.Run("Transactor", func(t *testing.T) { runTransactor(t, open) })
	t.Run("Outbox", func(t *testing.T) { runOutbox(t, open) })
	t.Run("Sequences", func(t *testing.T) { runSequences(t, open) })
	t.Run("CMDB", func(t *testing.T) { runCMDB(t, open) })
}

// Tenants the suite writes to.
const (
	tenantA itsm.TenantID = "acme"
	tenantB itsm.TenantID = "globex"
)

// writers is how many goroutines race in the concurrency tests.
const writers = 20

// env is one test's store and the means to fill it.
type env struct {
	t     *testing.T
	store storage.Store
	repo  incident.Repository
	ids   *itsmtest.IDs
	n     atomic.Int64
}

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	s := open(t)
	require.NotNil(t, s, "the opener returned no store")
	repo := s.Incidents()
	require.NotNil(t, repo, "the store returned no incident repository")
	return &env{t: t, store: s, repo: repo, ids: itsmtest.NewIDs(20260302)}
}

// capability returns the store as C, skipping the test when it is not one.
func capability[C any](t *testing.T, s storage.Store) C {
	t.Helper()
	c, err := storage.Require[C](s)
	if err != nil {
		t.Skip(err.Error())
	}
	return c
}

// base is the instant the suite's incidents open at.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var agent = itsm.ActorRef{ID: "agent-7", Name: "Ada Agent", Kind: itsm.ActorHuman}

// sameKindID makes an ID of the same type as like from a UUID; it lets the
// suite make incident IDs although their marker type is unexported.
func sameKindID[T itsm.Kinded](_ itsm.ID[T], u uuid.UUID) itsm.ID[T] {
	return itsm.IDFromUUID[T](u)
}

func (e *env) uuid() uuid.UUID {
	u, err := e.ids.NewUUID()
	require.NoError(e.t, err)
	return u
}

func (e *env) newID() incident.ID { return sameKindID(incident.ID{}, e.uuid()) }

// data returns a new incident of tenant, version 0, as the service would
// open it: status new, one history entry, priority from the default
// matrix, normalised UTC instants. Every call gets a fresh ID and number.
func (e *env) data(tenant itsm.TenantID) incident.Data {
	n := e.n.Add(1)
	at := base.Add(time.Duration(n) * time.Minute)
	title := fmt.Sprintf("Mail delivery delayed (%d)", n)
	return incident.Data{
		ID:          e.newID(),
		Tenant:      tenant,
		Number:      incident.FormatNumber("INC", n),
		Title:       title,
		Description: "Messages to external domains wait in the queue for an hour.",
		Caller:      "caller-42",
		Channel:     incident.ChannelPortal,
		Category:    "email",
		Subcategory: "delivery",
		Service:     itsm.Ref{Kind: itsm.KindService, ID: e.uuid()},
		CIs:         []itsm.Ref{{Kind: itsm.KindCI, ID: e.uuid()}, {Kind: itsm.KindCI, ID: e.uuid()}},
		Impact:      2,
		Urgency:     2,
		Priority:    3,
		Group:       "service-desk",
		Status:      incident.StatusNew,
		OpenedAt:    at,
		UpdatedAt:   at,
		Custom:      map[string]string{"site": "lyon", "floor": "3"},
		Major:       incident.Major{Status: incident.MajorNone},
		Comments:    []incident.Comment{{At: at, By: agent, Text: "Looking into it.", WorkNote: true}},
		History: []incident.Entry{{
			Seq: 1, At: at, By: agent, Command: "open",
			From: incident.StatusNew, To: incident.StatusNew,
			Changes: []incident.FieldChange{{Field: "title", To: title}},
		}},
	}
}

// realistic fails the test unless the default policy accepts d.
func realistic(t *testing.T, d incident.Data) {
	t.Helper()
	_, err := incident.Restore(incident.DefaultPolicy(), d)
	require.NoError(t, err, "the suite's own data must be what the service could store")
}

// create stores a new incident of tenant, changed by mods first, and
// returns it as stored (version 1).
func (e *env) create(tenant itsm.TenantID, mods ...func(*incident.Data)) incident.Data {
	e.t.Helper()
	d := e.data(tenant)
	for _, m := range mods {
		m(&d)
	}
	require.NoError(e.t, e.repo.Create(context.Background(), d))
	d.Version = 1
	return d
}

// assign moves d to in_progress with group and assignee, appending the
// history entry the service would, and returns the next version to save.
func assign(d incident.Data, group, assignee string) incident.Data {
	d = d.Clone()
	at := d.UpdatedAt.Add(time.Minute)
	d.Group, d.Assignee = group, assignee
	d.History = append(d.History, incident.Entry{
		Seq: len(d.History) + 1, At: at, By: agent, Command: "assign",
		From: d.Status, To: incident.StatusInProgress,
		Changes: []incident.FieldChange{{Field: "assignee", To: assignee}},
	})
	d.Status = incident.StatusInProgress
	d.UpdatedAt = at
	if d.FirstResponseAt.IsZero() {
		d.FirstResponseAt = at
	}
	return d
}

// retitle changes the title with an "update" history entry.
func retitle(d incident.Data, title string) incident.Data {
	d = d.Clone()
	at := d.UpdatedAt.Add(time.Second)
	d.History = append(d.History, incident.Entry{
		Seq: len(d.History) + 1, At: at, By: agent, Command: "update",
		From: d.Status, To: d.Status,
		Changes: []incident.FieldChange{{Field: "title", From: d.Title, To: title}},
	})
	d.Title = title
	d.UpdatedAt = at
	return d
}

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// validationField requires err to be a *itsm.ValidationError that names
// field.
func validationField(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, itsm.ErrInvalid)
	var ve *itsm.ValidationError
	require.ErrorAs(t, err, &ve)
	require.True(t, ve.Has(field), "the error should name %q: %v", field, err)
}
