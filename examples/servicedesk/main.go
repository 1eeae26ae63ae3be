// Command servicedesk is itsmkit's main example: a simulated service desk on
// the library's embedded defaults. A seeded generator opens incidents over
// a London business calendar; agents assign, hold, resolve and reopen them;
// callers reply; a daily scheduler auto-closes resolved incidents after
// three business days; SLA timers run on every command. The program then
// prints counts by state, SLA attainment by priority, breaches, mean time to
// resolve and the busiest groups.
//
//	go run ./examples/servicedesk
//	go run ./examples/servicedesk -seed 7 -incidents 10000 -days 60
//	go run ./examples/servicedesk -diagrams           # also the matrix and lifecycles
//	go run ./examples/servicedesk -diagrams -format dot
//	go run ./examples/servicedesk -store postgres://localhost/desk   # durable; run again to continue
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/storage/postgres"
)

func main() {
	var opts options
	flag.Uint64Var(&opts.seed, "seed", 1, "random seed; the same seed gives the same desk")
	flag.IntVar(&opts.incidents, "incidents", 2000, "number of incidents to open")
	flag.IntVar(&opts.days, "days", 20, "business days over which incidents arrive")
	flag.BoolVar(&opts.diagrams, "diagrams", false, "also print the priority matrix, the lifecycles and the ITIL practices")
	flag.StringVar(&opts.format, "format", "mermaid", "diagram format with -diagrams: mermaid or dot")
	flag.StringVar(&opts.store, "store", "memory", "where incidents live: memory, or a PostgreSQL URL (postgres://…) to keep them; a later run continues from what is stored")
	flag.Parse()
	started := time.Now()
	if err := run(context.Background(), os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "servicedesk:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "simulated %d incidents in %s\n", opts.incidents, time.Since(started).Round(time.Millisecond))
}

// options are the command line's settings.
type options struct {
	seed      uint64
	incidents int
	days      int
	diagrams  bool
	format    string
	store     string
}

func run(ctx context.Context, w io.Writer, o options) error {
	var errs itsm.FieldErrors
	if o.format != "mermaid" && o.format != "dot" {
		errs.Addf("format", "%q is not mermaid or dot", o.format)
	}
	if o.incidents < 1 || o.incidents > 1_000_000 {
		errs.Add("incidents", "must be between 1 and 1,000,000")
	}
	if o.days < 1 || o.days > 1000 {
		errs.Add("days", "must be between 1 and 1000")
	}
	if o.store != "" && o.store != "memory" && !strings.HasPrefix(o.store, "postgres://") && !strings.HasPrefix(o.store, "postgresql://") {
		errs.Addf("store", "%q is not memory or a postgres:// URL", o.store)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	var store simStore
	if o.store != "" && o.store != "memory" {
		pool, err := pgxpool.New(ctx, o.store)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		defer pool.Close()
		pg, err := postgres.Open(ctx, pool, postgres.Options{Migrate: true})
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		store = pg
	}
	if o.diagrams {
		printDiagrams(w, o.format)
	}
	s, err := newSim(simConfig{
		Seed: o.seed, Incidents: o.incidents, Days: o.days,
		Start: time.Date(2026, time.January, 5, 8, 0, 0, 0, time.UTC),
		Store: store,
	})
	if err != nil {
		return err
	}
	if err := s.run(ctx); err != nil {
		return err
	}
	s.now = s.start()
	return s.report(ctx, w)
}

// printDiagrams shows what the desk runs on: its priority matrix, the
// incident lifecycles and the ITIL 4 practices.
func printDiagrams(w io.Writer, format string) {
	section(w, "Priority matrix (impact × urgency)")
	fmt.Fprint(w, incident.DefaultPolicy().Matrix)
	for _, lc := range []interface {
		Name() string
		Mermaid() string
		DOT() string
	}{incident.DefaultLifecycle(), incident.MajorLifecycle()} {
		section(w, "Lifecycle: "+lc.Name())
		if format == "dot" {
			fmt.Fprint(w, lc.DOT())
		} else {
			fmt.Fprint(w, lc.Mermaid())
		}
	}
	section(w, "ITIL 4 practices")
	for _, g := range itsm.PracticeGroups() {
		var names []string
		for _, p := range itsm.PracticesIn(g) {
			names = append(names, p.Name())
		}
		fmt.Fprintf(w, "%s (%d): %s\n", g.Name(), len(names), strings.Join(names, ", "))
	}
	fmt.Fprintln(w, itsm.RestoreServiceStream())
}

func section(w io.Writer, title string) {
	fmt.Fprintf(w, "\n== %s ==\n", title)
}
