package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/sla"
)

// report prints what the simulated desk did.
func (s *sim) report(ctx context.Context, w io.Writer) error {
	all, err := s.all(ctx)
	if err != nil {
		return err
	}
	loc := s.cal.Location()
	fmt.Fprintf(w, "\n== Simulated service desk ==\n")
	fmt.Fprintf(w, "seed %d: %d incidents over %d business days, %s to %s (%s)\n",
		s.cfg.Seed, len(all), s.cfg.Days, s.now.In(loc).Format("Mon 2 Jan 2006"), s.end.In(loc).Format("Mon 2 Jan 2006"), s.cal)
	fmt.Fprintf(w, "%d events emitted to the outbox; %d commands refused by the rules\n", s.events, s.refused)

	// Counts by state.
	byState := map[incident.Status]int{}
	for _, d := range all {
		byState[d.Status]++
	}
	fmt.Fprintf(w, "\nIncidents by state\n")
	for _, st := range s.svc.Policy().Lifecycle.States() {
		fmt.Fprintf(w, "  %-12s %6d\n", st, byState[st])
	}
	reopened, major := 0, 0
	for _, d := range all {
		if d.Reopens > 0 {
			reopened++
		}
		if d.Major.Status == incident.MajorAccepted {
			major++
		}
	}
	fmt.Fprintf(w, "  reopened at least once: %d; major incidents: %d; auto-closed: %d\n", reopened, major, s.closedBy["auto"])

	// SLA attainment by priority.
	var timers []sla.Timer
	for _, d := range all {
		timers = append(timers, d.SLA.Timers...)
	}
	rows, err := sla.Compliance(timers, sla.ComplianceOptions{Period: sla.ReportPeriod{From: s.start(), To: s.reportEnd()}, Percentiles: []int{50, 90}})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nSLA attainment (%s), business time\n", deskAgreement().Name)
	fmt.Fprintf(w, "  %-10s %-4s %6s %8s %9s %11s %10s %10s\n", "metric", "prio", "met", "breached", "in flight", "attainment", "p50", "p90")
	breaches, open := map[string]int{}, map[string]int{}
	for _, r := range rows {
		p50, p90 := "-", "-"
		if len(r.BusinessElapsed) == 2 {
			p50, p90 = hours(r.BusinessElapsed[0].Value), hours(r.BusinessElapsed[1].Value)
		}
		fmt.Fprintf(w, "  %-10s P%-3d %6d %8d %9d %10s%% %10s %10s\n", r.Metric, int(r.Priority), r.Met, r.Breached, r.InFlight,
			r.Attainment.StringFixed(2), p50, p90)
		breaches[r.Metric] += r.Breached + r.InFlightBreached
		open[r.Metric] += r.InFlightBreached
	}
	// The table's breached column counts decided cycles only; the line
	// adds those still in flight that have already breached.
	fmt.Fprintf(w, "  breaches: response %d (%d still open), resolution %d (%d still open)\n",
		breaches["response"], open["response"], breaches["resolution"], open["resolution"])

	// Mean time to resolve.
	type acc struct {
		n              int
		wall, business time.Duration
	}
	mttr := map[itsm.Priority]*acc{}
	var overall acc
	for _, d := range all {
		if d.ResolvedAt.IsZero() {
			continue
		}
		a := mttr[d.Priority]
		if a == nil {
			a = &acc{}
			mttr[d.Priority] = a
		}
		wall, business := d.ResolvedAt.Sub(d.OpenedAt), s.cal.Between(d.OpenedAt, d.ResolvedAt)
		a.n, a.wall, a.business = a.n+1, a.wall+wall, a.business+business
		overall.n, overall.wall, overall.business = overall.n+1, overall.wall+wall, overall.business+business
	}
	fmt.Fprintf(w, "\nMean time to resolve (resolved and closed incidents)\n")
	prios := make([]itsm.Priority, 0, len(mttr))
	for p := range mttr {
		prios = append(prios, p)
	}
	sort.Slice(prios, func(i, j int) bool { return prios[i] < prios[j] })
	for _, p := range prios {
		a := mttr[p]
		fmt.Fprintf(w, "  P%d  %5d incidents  %10s wall  %10s business\n", int(p), a.n, short(a.wall/time.Duration(a.n)), hours(a.business/time.Duration(a.n)))
	}
	if overall.n > 0 {
		fmt.Fprintf(w, "  all %5d incidents  %10s wall  %10s business\n", overall.n, short(overall.wall/time.Duration(overall.n)), hours(overall.business/time.Duration(overall.n)))
	}

	// Busiest groups.
	type group struct {
		name                         string
		total, open, breached, moved int
	}
	byGroup := map[string]*group{}
	for _, d := range all {
		g := byGroup[d.Group]
		if g == nil {
			g = &group{name: d.Group}
			byGroup[d.Group] = g
		}
		g.total++
		if c, _ := s.svc.Policy().Lifecycle.Category(d.Status); c.IsOpen() {
			g.open++
		}
		if d.SLABreached() {
			g.breached++
		}
		g.moved += d.Reassignments
	}
	list := make([]*group, 0, len(byGroup))
	for _, g := range byGroup {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].total != list[j].total {
			return list[i].total > list[j].total
		}
		return list[i].name < list[j].name
	})
	fmt.Fprintf(w, "\nBusiest groups\n  %-14s %9s %6s %13s\n", "group", "incidents", "open", "SLA breached")
	for _, g := range list {
		fmt.Fprintf(w, "  %-14s %9d %6d %13d\n", g.name, g.total, g.open, g.breached)
	}
	return nil
}

// start is the first instant of the simulation.
func (s *sim) start() time.Time {
	if !s.since.IsZero() {
		t, _ := s.cal.Add(s.since, 0)
		return t
	}
	t, _ := s.cal.Add(s.cfg.Start, 0)
	return t
}

// short renders a duration as "1d 4h", "3h 12m" or "45m".
func short(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := d/(24*time.Hour), (d%(24*time.Hour))/time.Hour, (d%time.Hour)/time.Minute
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if hours > 0 || days > 0 {
		parts = append(parts, fmt.Sprintf("%dh", hours))
	}
	if days == 0 {
		parts = append(parts, fmt.Sprintf("%dm", mins))
	}
	return strings.Join(parts, " ")
}

// hours renders business time in working hours and minutes, "37h 5m": a
// business day is whatever the calendar says, so days would mislead.
func hours(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Hour {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%dh %dm", d/time.Hour, (d%time.Hour)/time.Minute)
}
