package main

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/sla"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// simStore is what the simulation needs of a store: incidents, numbers and
// an outbox, as storage.IncidentConfig uses them.
type simStore = storage.Store

// simConfig says what to simulate.
type simConfig struct {
	Seed      uint64
	Incidents int
	Days      int
	Start     time.Time
	// Store is where incidents live; nil means a new memory store, with
	// deterministic IDs from the seed. Any other store gets UUIDv7 IDs, so
	// that runs against a store that keeps what earlier runs wrote never
	// collide, and the simulation continues after what is stored.
	Store simStore
}

// sim is a desk being simulated: the service on the embedded store, a
// simulated clock, and a queue of what the agents, callers and scheduler
// will do next.
type sim struct {
	cfg   simConfig
	rng   *rand.Rand
	now   time.Time
	cal   *sla.Schedule
	svc   *incident.Service
	store simStore
	// since is the first instant of an earlier run whose incidents the
	// store holds; zero when it held none.
	since    time.Time
	queue    actions
	seq      int
	end      time.Time
	tenant   itsm.TenantID
	events   int
	refused  int
	ids      []incident.ID
	auto     incident.AutoClose
	closedBy map[string]int
}

// action is something that happens at an instant.
type action struct {
	at  time.Time
	seq int
	do  func(s *sim) error
}

type actions []action

func (a actions) Len() int { return len(a) }
func (a actions) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a actions) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *actions) Push(x any)   { *a = append(*a, x.(action)) }
func (a *actions) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

var groups = []struct {
	name   string
	weight int
}{
	{"service-desk", 30}, {"workplace", 22}, {"applications", 18}, {"network", 12}, {"identity", 10}, {"database", 8},
}

func newSim(cfg simConfig) (*sim, error) {
	cal, err := deskCalendar()
	if err != nil {
		return nil, err
	}
	engine, err := sla.NewEngine([]sla.Agreement{deskAgreement()}, sla.CalendarMap{"desk": cal})
	if err != nil {
		return nil, err
	}
	var store simStore = memory.New()
	var ids itsm.IDGenerator = itsmtest.NewIDs(cfg.Seed)
	if cfg.Store != nil {
		store, ids = cfg.Store, itsm.UUIDv7Generator()
	}
	icfg, err := storage.IncidentConfig(store)
	if err != nil {
		return nil, err
	}
	s := &sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)), cal: cal, store: store, tenant: "acme", closedBy: map[string]int{}}
	icfg.Clock = func() time.Time { return s.now }
	icfg.IDs = ids
	icfg.SLA = engine
	s.svc, err = incident.NewService(icfg)
	if err != nil {
		return nil, err
	}
	s.auto = incident.AutoClose{Days: 3, Calendar: cal, Location: cal.Location()}
	if cfg.Store != nil {
		if err := s.continueStored(context.Background()); err != nil {
			return nil, err
		}
	}
	start, err := cal.Add(s.cfg.Start, 0)
	if err != nil {
		return nil, err
	}
	s.end, err = cal.Add(start, time.Duration(cfg.Days)*10*time.Hour)
	if err != nil {
		return nil, err
	}
	s.now = start
	return s, nil
}

// at schedules do at an instant.
func (s *sim) at(t time.Time, do func(s *sim) error) {
	s.seq++
	heap.Push(&s.queue, action{at: t, seq: s.seq, do: do})
}

// after schedules do after d of business time from now.
func (s *sim) after(d time.Duration, do func(s *sim) error) {
	t, err := s.cal.Add(s.now, d)
	if err != nil {
		t = s.now.Add(d)
	}
	s.at(t, do)
}

// exp draws an exponential duration with the given mean, at least a minute.
func (s *sim) exp(mean time.Duration) time.Duration {
	d := time.Duration(-math.Log(1-s.rng.Float64()) * float64(mean))
	return max(d.Round(time.Minute), time.Minute)
}

func (s *sim) pick(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := s.rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

func (s *sim) record(res incident.Result, err error) error {
	if err != nil {
		s.refused++
		return err
	}
	s.events += len(res.Events)
	return nil
}

var (
	dispatcher = itsm.Actor{ID: "dispatcher", Name: "Dispatcher", Roles: []string{incident.DefaultOverrideRole}}
	manager    = itsm.Actor{ID: "mim", Name: "Major incident manager", Roles: []string{incident.DefaultMajorRole}}
	scheduler  = itsm.Actor{ID: "scheduler", Name: "Scheduler", Kind: itsm.ActorSystem}
)

// reportEnd is the end of the period the report covers: ten days past the
// last simulated day, so that the incidents opened last can run their
// course. The simulation plays until then and brings every timer up to it.
func (s *sim) reportEnd() time.Time { return s.end.Add(10 * 24 * time.Hour) }

// run plays the whole simulation.
func (s *sim) run(ctx context.Context) error {
	// Arrivals spread over the desk's working time, most of them low
	// priority.
	total := s.cal.Between(s.now, s.end)
	for i := 0; i < s.cfg.Incidents; i++ {
		offset := time.Duration(s.rng.Int64N(int64(total))).Round(time.Minute)
		arrival, err := s.cal.Add(s.now, offset)
		if err != nil {
			return err
		}
		n := i
		s.at(arrival, func(s *sim) error { return s.arrive(ctx, n) })
	}
	// The scheduler's daily run, at the hour the desk starts: auto-close
	// resolved incidents.
	for day := s.now; day.Before(s.reportEnd()); day = day.Add(24 * time.Hour) {
		s.at(day, func(s *sim) error { return s.autoClose(ctx) })
	}
	for s.queue.Len() > 0 {
		a := heap.Pop(&s.queue).(action)
		if a.at.After(s.reportEnd()) {
			break
		}
		if a.at.After(s.now) {
			s.now = a.at
		}
		if err := a.do(s); err != nil && !isRefusal(err) {
			return err
		}
	}
	// Bring every live timer up to the report's end, so that breaches due
	// between the last action and that end are counted too.
	if end := s.reportEnd(); end.After(s.now) {
		s.now = end
	}
	for _, id := range s.ids {
		if err := s.record(s.svc.AdvanceSLA(ctx, s.tenant, id, scheduler)); err != nil {
			return err
		}
	}
	return nil
}

// isRefusal reports a command the desk's rules refused, which a simulated
// agent shrugs off (the incident moved on meanwhile); anything else stops
// the simulation.
func isRefusal(err error) bool {
	return errors.Is(err, itsm.ErrInvalidTransition) || errors.Is(err, itsm.ErrInvalid)
}

func (s *sim) arrive(ctx context.Context, n int) error {
	impact := itsm.Impact(1 + s.pick(8, 30, 62))
	urgency := itsm.Urgency(1 + s.pick(12, 33, 55))
	g := make([]int, len(groups))
	for i, gr := range groups {
		g[i] = gr.weight
	}
	group := groups[s.pick(g...)].name
	channels := []incident.Channel{incident.ChannelPortal, incident.ChannelEmail, incident.ChannelPhone, incident.ChannelChat, incident.ChannelMonitoring}
	res, err := s.svc.Open(ctx, s.tenant, dispatcher, incident.OpenInput{
		Title:   fmt.Sprintf("Simulated incident %d", n+1),
		Caller:  fmt.Sprintf("user-%d", s.rng.IntN(400)),
		Channel: channels[s.pick(40, 25, 20, 10, 5)],
		Impact:  impact, Urgency: urgency, Group: group,
	})
	if err := s.record(res, err); err != nil {
		return err
	}
	inc := res.Incident
	s.ids = append(s.ids, inc.ID())
	p := int(inc.Priority())
	id := inc.ID()
	// A few are duplicates, canceled soon after.
	if s.rng.IntN(100) < 2 {
		s.after(s.exp(20*time.Minute), func(s *sim) error {
			return s.record(s.svc.Cancel(ctx, s.tenant, id, dispatcher, incident.Cancellation{Reason: incident.CancelNotAnIncident, Notes: "raised twice"}))
		})
		return nil
	}
	respond := []time.Duration{6 * time.Minute, 15 * time.Minute, 50 * time.Minute, 100 * time.Minute, 3 * time.Hour}[p-1]
	agent := itsm.Actor{ID: fmt.Sprintf("%s-%d", group, s.rng.IntN(4)+1)}
	agent.Name = agent.ID
	s.after(s.exp(respond), func(s *sim) error { return s.work(ctx, id, p, agent) })
	if p == 1 && s.rng.IntN(100) < 40 {
		s.after(s.exp(10*time.Minute), func(s *sim) error {
			if err := s.record(s.svc.ProposeMajor(ctx, s.tenant, id, agent, "several sites report it")); err != nil {
				return err
			}
			return s.record(s.svc.AcceptMajor(ctx, s.tenant, id, manager, "mim"))
		})
	}
	return nil
}

// work: an agent picks the incident up, may put it on hold, and resolves it.
func (s *sim) work(ctx context.Context, id incident.ID, p int, agent itsm.Actor) error {
	if err := s.record(s.svc.Assign(ctx, s.tenant, id, agent, "", agent.ID, "")); err != nil {
		return err
	}
	effort := []time.Duration{2 * time.Hour, 5 * time.Hour, 14 * time.Hour, 22 * time.Hour, 40 * time.Hour}[p-1]
	resolveIn := s.exp(effort)
	if s.rng.IntN(100) >= 25 {
		s.after(resolveIn, func(s *sim) error { return s.resolve(ctx, id, p, agent, true) })
		return nil
	}
	// A quarter wait on someone part way through: the caller, a vendor or
	// a change. The rest of the work follows the wait.
	holdAfter := resolveIn / 3
	reason := []incident.HoldReason{incident.HoldAwaitingCaller, incident.HoldAwaitingVendor, incident.HoldAwaitingChange}[s.pick(55, 30, 15)]
	s.after(holdAfter, func(s *sim) error {
		comment := ""
		if reason == incident.HoldAwaitingCaller {
			comment = "Could you send a screenshot of the error?"
		}
		if err := s.record(s.svc.Hold(ctx, s.tenant, id, agent, reason, comment)); err != nil {
			return err
		}
		s.at(s.now.Add(s.exp(6*time.Hour)), func(s *sim) error {
			var err error
			if reason == incident.HoldAwaitingCaller {
				err = s.record(s.svc.Comment(ctx, s.tenant, id, itsm.Actor{ID: "caller"}, "Here it is.", incident.CallerComment))
			} else {
				err = s.record(s.svc.Resume(ctx, s.tenant, id, agent, "the wait is over"))
			}
			if err != nil {
				return err
			}
			s.after(resolveIn-holdAfter, func(s *sim) error { return s.resolve(ctx, id, p, agent, true) })
			return nil
		})
		return nil
	})
	return nil
}

func (s *sim) resolve(ctx context.Context, id incident.ID, p int, agent itsm.Actor, first bool) error {
	res, err := s.svc.Resolve(ctx, s.tenant, id, agent, incident.ResolvedPermanently, "Fixed and confirmed with the caller")
	if err := s.record(res, err); err != nil {
		// Still on hold: try again a little later.
		s.after(30*time.Minute, func(s *sim) error { return s.resolve(ctx, id, p, agent, first) })
		return nil
	}
	if res.Incident.IsMajor() {
		s.after(s.exp(4*time.Hour), func(s *sim) error {
			if err := s.record(s.svc.ReviewMajor(ctx, s.tenant, id, manager, "Root cause passed to problem management")); err != nil {
				return err
			}
			return s.record(s.svc.Close(ctx, s.tenant, id, manager, "review done"))
		})
		return nil
	}
	if first && s.rng.IntN(100) < 6 {
		s.after(s.exp(6*time.Hour), func(s *sim) error {
			caller := itsm.Actor{ID: "caller"}
			if err := s.record(s.svc.Reopen(ctx, s.tenant, id, caller, "It is broken again")); err != nil {
				return nil // closed in the meantime
			}
			s.after(s.exp(3*time.Hour), func(s *sim) error { return s.resolve(ctx, id, p, agent, false) })
			return nil
		})
	}
	return nil
}

// autoClose closes what the auto-close rule makes closable now.
func (s *sim) autoClose(ctx context.Context) error {
	due, err := s.svc.DueForAutoClose(ctx, s.tenant, s.now, s.auto)
	if err != nil {
		return err
	}
	for _, d := range due {
		if err := s.record(s.svc.Close(ctx, s.tenant, d.ID, scheduler, "auto-closed after 3 business days")); err == nil {
			s.closedBy["auto"]++
		}
	}
	return nil
}

// all returns every stored incident.
func (s *sim) all(ctx context.Context) ([]incident.Data, error) {
	var out []incident.Data
	page := incident.Page{Limit: incident.MaxPageLimit}
	for {
		lp, err := s.svc.List(ctx, s.tenant, incident.Filter{}, page)
		if err != nil {
			return nil, err
		}
		out = append(out, lp.Items...)
		if lp.Next.IsZero() {
			sort.Slice(out, func(i, j int) bool { return out[i].ID.Compare(out[j].ID) < 0 })
			return out, nil
		}
		page.After = lp.Next
	}
}

// continueStored makes a run on a store that holds earlier runs' incidents
// carry on from them: the simulated clock starts the day after the last
// stored instant, the report covers every stored incident from the first
// one's day, and the final SLA sweep includes the earlier incidents.
func (s *sim) continueStored(ctx context.Context) error {
	stored, err := s.all(ctx)
	if err != nil || len(stored) == 0 {
		return err
	}
	first, last := stored[0].OpenedAt, stored[0].UpdatedAt
	for _, d := range stored {
		if d.OpenedAt.Before(first) {
			first = d.OpenedAt
		}
		if d.UpdatedAt.After(last) {
			last = d.UpdatedAt
		}
		s.ids = append(s.ids, d.ID)
	}
	loc := s.cal.Location()
	day := last.In(loc)
	s.cfg.Start = time.Date(day.Year(), day.Month(), day.Day()+1, 8, 0, 0, 0, loc).UTC()
	f := first.In(loc)
	s.since = time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc).UTC()
	return nil
}
