package incident_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// The memory store lends incident.Service the records it keeps decoded and
// adopts the records the service saves, without copying either (see
// incident/share.go). These tests guard that rule: a store wrapper keeps a
// deep copy of every record it lends or adopts and, after each command,
// checks that the record is still equal to its copy. A command that
// changed memory the store shares with other readers fails them.

// The store methods the guard wraps, as incident declares them unexported.
type (
	sharedGetter interface {
		GetShared(ctx context.Context, tenant itsm.TenantID, id incident.ID) (*incident.Data, any, error)
	}
	ownedWriter interface {
		CreateOwned(ctx context.Context, d *incident.Data, owner any) error
		UpdateOwned(ctx context.Context, d *incident.Data, owner any) error
	}
	ownedCommitter interface {
		CommitOwned(ctx context.Context, d *incident.Data, create bool, events []itsm.Event, owner any) error
	}
)

// witness is a record the store shares, with a deep copy of what it held
// when the store lent or adopted it, and checks that the spare capacity
// of each of its slices is untouched (an append into it would change
// what another reader of the record appends to).
type witness struct {
	how string
	// step is the check that followed the command it was noted in.
	step int
	// shared is the record itself, as the store keeps it.
	shared *incident.Data
	want   incident.Data
	tails  []func() bool
}

// tail returns a check that s's spare capacity still holds what it holds
// now.
func tail[T any](s []T) func() bool {
	spare := s[len(s):cap(s)]
	was := slices.Clone(spare)
	return func() bool { return reflect.DeepEqual(was, slices.Clone(spare)) }
}

// claimedTail returns a check that each slot of s's spare capacity is
// written at most once: the versions of a record share their history array
// and a command appends its entry into the first free slot past its
// version (see historyTail in share.go), but a slot once written belongs to
// a successor and must never change again.
func claimedTail[T any](s []T) func() bool {
	spare := s[len(s):cap(s)]
	was := slices.Clone(spare)
	var zero T
	return func() bool {
		for k := range spare {
			if !reflect.DeepEqual(was[k], zero) && !reflect.DeepEqual(was[k], spare[k]) {
				return false
			}
			was[k] = spare[k]
		}
		return true
	}
}

// tails returns the checks of every slice d reaches.
func tails(d *incident.Data) []func() bool {
	out := []func() bool{tail(d.CIs), tail(d.ImpactedServices), tail(d.Comments), claimedTail(d.History), tail(d.SLA.Timers)}
	for k := range d.History {
		out = append(out, tail(d.History[k].Changes))
	}
	for k := range d.SLA.Timers {
		tm := &d.SLA.Timers[k]
		out = append(out, tail(tm.Marks), tail(tm.Segments), tail(tm.Changes))
	}
	return out
}

// ledger collects witnesses.
type ledger struct {
	mu  sync.Mutex
	all []witness
	// steps counts the checks made.
	steps int
	// events are those the service handed the store without validation.
	events []itsm.Event
	// pol is the service's policy; refused are the errors of restoring the
	// records the store adopted under it.
	pol     *incident.Policy
	refused []error
}

func (l *ledger) note(how string, d *incident.Data) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if how == "adopted" && l.pol != nil {
		// The service does not check again a record it saved itself: it
		// must be one that restoring would accept.
		if _, err := incident.Restore(*l.pol, *d); err != nil {
			l.refused = append(l.refused, err)
		}
	}
	l.all = append(l.all, witness{how: how, step: l.steps, shared: d, want: d.Clone(), tails: tails(d)})
}

// window is for how many checks a witness is kept. A command changes what
// it was lent while it runs, or later when the store lends the same memory
// again (noted again then); the window also covers a Result's incident
// used after its command.
const window = 8

// check fails t when a shared record changed. It forgets the witnesses
// older than window checks, so that a long run costs linear time.
func (l *ledger) check(t *testing.T, step string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps++
	l.all = slices.DeleteFunc(l.all, func(w witness) bool { return l.steps-w.step > window })
	for _, w := range l.all {
		// Clone drops what Data keeps unexported: a history tail's count
		// of claimed slots moves on as successors append.
		if got := w.shared.Clone(); !reflect.DeepEqual(w.want, got) {
			require.Equal(t, w.want, got, "after %s, a record the store %s was changed", step, w.how)
		}
		for k, same := range w.tails {
			require.True(t, same(), "after %s, the spare capacity of slice %d of a record the store %s was written", step, k, w.how)
		}
	}
	for _, e := range l.events {
		require.NoError(t, e.Validate(), "after %s, the service committed an invalid event", step)
	}
	require.Empty(t, l.refused, "after %s, the service saved a record that restoring refuses", step)
	l.events = l.events[:0]
}

// guardRepo wraps the memory store's incident repository and notes what it
// shares. Without commit it hides CommitOwned, so that the service saves
// through Atomically and the transaction's UpdateOwned.
type guardRepo struct {
	incident.Repository
	l      *ledger
	commit bool
}

func (g *guardRepo) GetShared(ctx context.Context, tenant itsm.TenantID, id incident.ID) (*incident.Data, any, error) {
	d, owner, err := g.Repository.(sharedGetter).GetShared(ctx, tenant, id)
	if err == nil {
		g.l.note("lent", d)
	}
	return d, owner, err
}

func (g *guardRepo) Atomically(ctx context.Context, fn func(ctx context.Context, tx incident.Tx) error) error {
	return g.Repository.(incident.Atomic).Atomically(ctx, func(ctx context.Context, tx incident.Tx) error {
		return fn(ctx, &guardTx{Tx: tx, l: g.l})
	})
}

// guardCommitRepo is guardRepo with CommitOwned.
type guardCommitRepo struct{ *guardRepo }

func (g guardCommitRepo) CommitOwned(ctx context.Context, d *incident.Data, create bool, events []itsm.Event, owner any) error {
	err := g.Repository.(ownedCommitter).CommitOwned(ctx, d, create, events, owner)
	if err == nil {
		g.l.note("adopted", d)
		g.l.mu.Lock()
		g.l.events = append(g.l.events, events...)
		g.l.mu.Unlock()
	}
	return err
}

type guardTx struct {
	incident.Tx
	l *ledger
}

func (g *guardTx) CreateOwned(ctx context.Context, d *incident.Data, owner any) error {
	err := g.Tx.(ownedWriter).CreateOwned(ctx, d, owner)
	if err == nil {
		g.l.note("adopted", d)
	}
	return err
}

func (g *guardTx) UpdateOwned(ctx context.Context, d *incident.Data, owner any) error {
	err := g.Tx.(ownedWriter).UpdateOwned(ctx, d, owner)
	if err == nil {
		g.l.note("adopted", d)
	}
	return err
}

// guardAgreement attaches timers that pause, stop, reset on a change of
// group (so the engine keeps its previous observation), cross thresholds
// and retarget with the priority and a custom field.
func guardAgreement() sla.Agreement {
	a := deskAgreement()
	a.Targets = append(a.Targets, sla.Target{
		Metric: "update",
		Pause:  sla.StateIn(itsm.CategoryWaiting),
		Stop:   sla.StateIn(itsm.CategoryResolved, itsm.CategoryClosed),
		Cancel: sla.StateIn(itsm.CategoryCanceled),
		Reset:  sla.FieldChanged("fields.group"),
		Goals: []sla.Goal{
			{Name: "vip", When: sla.FieldIs("fields.custom.vip", "yes"), Within: 20 * time.Minute},
			{Name: "p1", When: sla.PriorityIn(1), Within: 30 * time.Minute},
			{Name: "other", Within: 2 * time.Hour},
		},
	})
	return a
}

// guardDesk is a service on a guarded memory store.
type guardDesk struct {
	svc   *incident.Service
	clock *itsmtest.Clock
	l     *ledger
}

func newGuardDesk(t *testing.T, commit, reopenClosed bool) *guardDesk {
	t.Helper()
	cfg, err := storage.IncidentConfig(memory.New())
	require.NoError(t, err)
	l := &ledger{}
	g := &guardRepo{Repository: cfg.Repository, l: l, commit: commit}
	cfg.Repository = g
	if commit {
		cfg.Repository = guardCommitRepo{g}
	}
	engine, err := sla.NewEngine([]sla.Agreement{guardAgreement()}, nil)
	require.NoError(t, err)
	clock := itsmtest.NewClock(monday9)
	cfg.Clock = clock.Func()
	cfg.IDs = itsmtest.NewIDs(7)
	cfg.SLA = engine
	cfg.Impact = func(_ context.Context, _ itsm.TenantID, cis []itsm.Ref) ([]itsm.Ref, error) {
		// Each CI reaches a service of its own: a change of CIs changes
		// the impact, which the service adds to the command's last entry.
		out := make([]itsm.Ref, len(cis))
		for k, c := range cis {
			out[k] = itsm.Ref{Kind: itsm.KindService, ID: c.ID}
		}
		return out, nil
	}
	if reopenClosed {
		cfg.Policy = incident.DefaultPolicy()
		cfg.Policy.Lifecycle = incident.ReopenFromClosedLifecycle()
		cfg.Policy.ReopenClosedWithin = 72 * time.Hour
	}
	svc, err := incident.NewService(cfg)
	require.NoError(t, err)
	pol := svc.Policy()
	l.pol = &pol
	return &guardDesk{svc: svc, clock: clock, l: l}
}

// guardOpen opens an incident with CIs and custom fields.
func guardOpen(ctx context.Context, svc *incident.Service) (incident.Result, error) {
	in := mailDown()
	in.CIs = []itsm.Ref{{Kind: itsm.KindCI, ID: uuidOf(1)}}
	in.Custom = map[string]string{"site": "paris"}
	return svc.Open(ctx, tenant, agent, in)
}

// guardCommands are every command of the service, each on one of the
// latest incidents of *ids; "open" adds one.
func guardCommands(ctx context.Context, svc *incident.Service, ids *[]incident.ID, r *rand.Rand) []struct {
	name string
	run  func() (incident.Result, error)
} {
	id := func() incident.ID {
		all := *ids
		return all[len(all)-1-r.IntN(min(4, len(all)))]
	}
	ref := func(kind itsm.Kind, n int) itsm.Ref {
		return itsm.Ref{Kind: kind, ID: uuidOf(n)}
	}
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	type cmd = struct {
		name string
		run  func() (incident.Result, error)
	}
	return []cmd{
		{"open", func() (incident.Result, error) {
			res, err := guardOpen(ctx, svc)
			if err == nil {
				*ids = append(*ids, res.Incident.ID())
			}
			return res, err
		}},
		{"update", func() (incident.Result, error) {
			u := incident.Update{}
			switch r.IntN(5) {
			case 0:
				title := pick("Mail is down", "Mail is slow")
				u.Title = &title
			case 1:
				cis := []itsm.Ref{ref(itsm.KindCI, r.IntN(3)+1)}
				if r.IntN(2) == 0 {
					cis = append(cis, ref(itsm.KindCI, 9))
				}
				u.CIs = &cis
			case 2:
				u.Custom = map[string]string{"vip": pick("yes", "no", ""), "site": pick("paris", "")}
			case 3:
				imp := itsm.Impact(r.IntN(3) + 1)
				u.Impact = &imp
			default:
				cat := pick("email", "network")
				u.Category = &cat
			}
			return svc.Update(ctx, tenant, id(), agent, u)
		}},
		{"override_priority", func() (incident.Result, error) {
			return svc.OverridePriority(ctx, tenant, id(), agent, itsm.Priority(r.IntN(4)+1), "customer escalation")
		}},
		{"assign", func() (incident.Result, error) {
			return svc.Assign(ctx, tenant, id(), agent, pick("messaging", "network", ""), pick("ana", "carl", ""), "")
		}},
		{"hold", func() (incident.Result, error) {
			reasons := []incident.HoldReason{incident.HoldAwaitingCaller, incident.HoldAwaitingChange, incident.HoldAwaitingVendor, incident.HoldAwaitingProblem}
			return svc.Hold(ctx, tenant, id(), agent, reasons[r.IntN(len(reasons))], pick("", "Which mailbox?"))
		}},
		{"resume", func() (incident.Result, error) { return svc.Resume(ctx, tenant, id(), agent, "") }},
		{"comment", func() (incident.Result, error) {
			kind := incident.CommentKind(r.IntN(3))
			by := agent
			if kind == incident.CallerComment {
				by = caller
			}
			return svc.Comment(ctx, tenant, id(), by, pick("Looking", "Still broken"), kind)
		}},
		{"resolve", func() (incident.Result, error) {
			return svc.Resolve(ctx, tenant, id(), agent, incident.ResolvedPermanently, "Restarted the relay")
		}},
		{"reopen", func() (incident.Result, error) { return svc.Reopen(ctx, tenant, id(), agent, "It is back") }},
		{"close", func() (incident.Result, error) { return svc.Close(ctx, tenant, id(), agent, "") }},
		{"cancel", func() (incident.Result, error) {
			if r.IntN(3) > 0 {
				return svc.Comment(ctx, tenant, id(), agent, "Not canceled yet", incident.WorkNote)
			}
			return svc.Cancel(ctx, tenant, id(), agent, incident.Cancellation{Reason: incident.CancelRaisedInError})
		}},
		{"escalate", func() (incident.Result, error) {
			if r.IntN(2) == 0 {
				return svc.Escalate(ctx, tenant, id(), agent, incident.EscalateHierarchical, "", "late")
			}
			return svc.Escalate(ctx, tenant, id(), agent, incident.EscalateFunctional, pick("experts", "tier3"), "hard")
		}},
		{"major", func() (incident.Result, error) {
			switch r.IntN(5) {
			case 0:
				return svc.ProposeMajor(ctx, tenant, id(), agent, "Everyone is affected")
			case 1:
				return svc.AcceptMajor(ctx, tenant, id(), agent, "carol")
			case 2:
				return svc.RejectMajor(ctx, tenant, id(), agent, "Only one team")
			case 3:
				return svc.DemoteMajor(ctx, tenant, id(), agent, "Contained")
			}
			return svc.ReviewMajor(ctx, tenant, id(), agent, "Lessons learnt")
		}},
		{"link_parent", func() (incident.Result, error) { return svc.LinkParent(ctx, tenant, id(), id(), agent) }},
		{"unlink_parent", func() (incident.Result, error) { return svc.UnlinkParent(ctx, tenant, id(), agent) }},
		{"link_problem", func() (incident.Result, error) {
			return svc.LinkProblem(ctx, tenant, id(), agent, ref(itsm.KindProblem, r.IntN(2)+1))
		}},
		{"link_change", func() (incident.Result, error) {
			return svc.LinkChange(ctx, tenant, id(), agent, ref(itsm.KindChange, r.IntN(2)+1))
		}},
		{"advance_sla", func() (incident.Result, error) { return svc.AdvanceSLA(ctx, tenant, id(), agent) }},
		{"cascade", func() (incident.Result, error) { return svc.Cascade(ctx, tenant, id(), agent) }},
	}
}

// uuidOf returns a fixed UUID numbered n.
func uuidOf(n int) [16]byte {
	var u [16]byte
	u[6], u[8], u[15] = 0x70, 0x80, byte(n)
	return u
}

// runGuarded runs steps random commands on a few incidents.
func runGuarded(t *testing.T, seed uint64, steps int, commit, reopenClosed bool) {
	ctx := context.Background()
	d := newGuardDesk(t, commit, reopenClosed)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var ids []incident.ID
	for range 3 {
		res, err := guardOpen(ctx, d.svc)
		require.NoError(t, err)
		ids = append(ids, res.Incident.ID())
	}
	d.l.check(t, "open")
	cmds := guardCommands(ctx, d.svc, &ids, r)
	for step := range steps {
		d.clock.Advance(time.Duration(r.IntN(90)+1) * time.Minute)
		c := cmds[r.IntN(len(cmds))]
		res, err := c.run()
		name := fmt.Sprintf("step %d (%s)", step, c.name)
		if err == nil && res.Incident != nil {
			// What a caller gets must not reach the store's memory.
			poke(res.Incident)
		}
		d.l.check(t, name)
	}
}

// poke changes everything a caller can reach through an incident: the
// copies its accessors return, its data, and a clone's.
func poke(inc *incident.Incident) {
	h := inc.History()
	for k := range h {
		h[k].Command = "poked"
		for j := range h[k].Changes {
			h[k].Changes[j].To = "poked"
		}
	}
	st := inc.SLA()
	for k := range st.Timers {
		tm := &st.Timers[k]
		tm.Goal = "poked"
		for j := range tm.Marks {
			tm.Marks[j].Threshold = "poked"
		}
		for j := range tm.Segments {
			tm.Segments[j].From = time.Time{}
		}
	}
	for k := range st.Previous {
		st.Previous[k] = "poked"
	}
	svcs := inc.ImpactedServices()
	for k := range svcs {
		svcs[k] = itsm.Ref{}
	}
	data := inc.Data()
	mutateData(&data)
	_, _ = inc.MarshalJSON()
	c := inc.Clone().Data()
	mutateData(&c)
}

// mutateData changes everything d reaches.
func mutateData(d *incident.Data) {
	for k := range d.History {
		d.History[k].Reason = "poked"
		for j := range d.History[k].Changes {
			d.History[k].Changes[j].From = "poked"
		}
	}
	for k := range d.Comments {
		d.Comments[k].Text = "poked"
	}
	for k := range d.CIs {
		d.CIs[k] = itsm.Ref{}
	}
	for k := range d.Custom {
		d.Custom[k] = "poked"
	}
	if d.Override != nil {
		d.Override.Reason = "poked"
	}
	if d.Cancellation != nil {
		d.Cancellation.Notes = "poked"
	}
	for k := range d.SLA.Timers {
		tm := &d.SLA.Timers[k]
		tm.Goal = "poked"
		for j := range tm.Marks {
			tm.Marks[j].Threshold = "poked"
		}
		for j := range tm.Segments {
			tm.Segments[j].To = time.Time{}
		}
	}
	for k := range d.SLA.Previous {
		d.SLA.Previous[k] = "poked"
	}
}

// TestServiceKeepsSharedRecordsIntact runs random command sequences through
// the service on a store that lends and adopts records, and checks after
// every command that no record shared with the store was changed, and that
// every event committed without the outbox's validation is valid.
func TestServiceKeepsSharedRecordsIntact(t *testing.T) {
	runs := 12
	if testing.Short() {
		runs = 6
	}
	for seed := range uint64(runs) {
		commit, reopen := seed%2 == 0, seed%3 == 0
		t.Run(fmt.Sprintf("seed=%d/commit=%t/reopen_closed=%t", seed, commit, reopen), func(t *testing.T) {
			runGuarded(t, seed, 120, commit, reopen)
		})
	}
}

// FuzzServiceKeepsSharedRecordsIntact is the test above on fuzzed seeds.
func FuzzServiceKeepsSharedRecordsIntact(f *testing.F) {
	f.Add(uint64(1), true, false)
	f.Add(uint64(2), false, true)
	f.Fuzz(func(t *testing.T, seed uint64, commit, reopen bool) {
		runGuarded(t, seed, 60, commit, reopen)
	})
}

// TestServiceChecksRecordsItDidNotSave requires the service to restore (and
// so check) a record that reached the store through Repository rather than
// through one of its own commands: only the records it saved itself skip
// the check.
func TestServiceChecksRecordsItDidNotSave(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper func(d *incident.Data)
		field  string
	}{
		{"priority outside the matrix", func(d *incident.Data) { d.Priority = 42 }, "priority"},
		{"undeclared status", func(d *incident.Data) { d.Status = "limbo" }, "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, false)
			inc := d.open(t)
			repo, err := storage.IncidentConfig(d.store)
			require.NoError(t, err)
			data, err := repo.Repository.Get(ctx, tenant, inc.ID())
			require.NoError(t, err)
			tc.tamper(&data)
			require.NoError(t, repo.Repository.Update(ctx, data))

			_, err = d.svc.Assign(ctx, tenant, inc.ID(), agent, "", "ana", "")
			var verr *itsm.ValidationError
			require.ErrorAs(t, err, &verr)
			require.ErrorContains(t, err, "stored record")
			require.ErrorContains(t, err, tc.field)
		})
	}
}
