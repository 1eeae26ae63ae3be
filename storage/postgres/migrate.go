package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned step of the schema, embedded in the package.
type Migration struct {
	// Version numbers the step, from 1, without gaps.
	Version int
	// Name says what the step does, from its file name.
	Name string
	// SQL is the step's statements.
	SQL string
}

// ErrSchemaVersion reports a database whose schema is not at the version
// this package expects: Migrate brings an older one up to date; a newer one
// belongs to a newer release of itsmkit.
var ErrSchemaVersion = errors.New("postgres: the schema is not at the version this package expects")

// migrationsTable records which migrations a schema has had. It is the one
// table without tenant_id: it describes the schema, not a tenant's data.
const migrationsTable = "itsmkit_schema_migrations"

// Migrations returns the embedded migrations in order. The result is a new
// slice each time; changing it changes nothing.
func Migrations() []Migration {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(fmt.Sprintf("postgres: embedded migrations unreadable: %v", err)) // the build embeds them
	}
	var out []Migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		num, name, found := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || !found || err != nil {
			panic(fmt.Sprintf("postgres: embedded migration %q is not named NNNN_name.sql", e.Name()))
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("postgres: embedded migration %q unreadable: %v", e.Name(), err))
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out
}

// latest is the version of the newest embedded migration.
func latest() int {
	m := Migrations()
	return m[len(m)-1].Version
}

// Migrate brings the schema that pool's connections use (the first schema
// of their search_path) up to the newest embedded migration, applying each
// missing one in its own transaction and recording it. It is idempotent:
// on an up-to-date schema it applies nothing. Processes migrating the same
// schema at once take turns on a PostgreSQL advisory lock, so each
// migration is applied exactly once. It returns the versions it applied.
//
// Errors: an error wrapping ErrSchemaVersion when the schema has a
// migration this package does not know (a newer release created it); SQL
// errors of a migration, which leave that migration unapplied; ctx.Err().
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	if pool == nil {
		return nil, errors.New("postgres: migrate: no pool")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, mapError(ctx, "migrate", err)
	}
	defer conn.Release()
	// The lock is per schema, so that schemas of one database (tests, a
	// tenant per schema) migrate side by side.
	const lockKey = `hashtextextended('itsmkit.migrate.' || current_schema(), 0)`
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock("+lockKey+")"); err != nil {
		return nil, mapError(ctx, "migrate: lock", err)
	}
	defer func() {
		// Unlock even when ctx has ended; a connection that cannot unlock is
		// closed, which releases the lock too.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+lockKey+")"); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	table, err := migrationsTableIn(ctx, conn)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, mapError(ctx, "migrate: bookkeeping table", err)
	}
	applied, err := appliedVersions(ctx, conn.Conn(), table)
	if err != nil {
		return nil, err
	}
	all := Migrations()
	for _, v := range applied {
		if v > all[len(all)-1].Version {
			return nil, fmt.Errorf("%w: it has migration %d; this package knows up to %d", ErrSchemaVersion, v, all[len(all)-1].Version)
		}
	}
	var did []int
	for _, m := range all {
		if slices.Contains(applied, m.Version) {
			continue
		}
		err := pgx.BeginTxFunc(ctx, conn, readCommitted(), func(t pgx.Tx) error {
			if _, err := t.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := t.Exec(ctx, `INSERT INTO `+table+` (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return did, fmt.Errorf("postgres: migration %d (%s): %w", m.Version, m.Name, mapError(ctx, "migrate", err))
		}
		did = append(did, m.Version)
	}
	return did, nil
}

// migrationsTableIn returns the bookkeeping table's name qualified with the
// schema q's connection creates tables in (current_schema(): the first
// existing schema of its search_path), so that a table of that name in a
// later schema of the path is never taken for it.
func migrationsTableIn(ctx context.Context, q querier) (string, error) {
	var schema *string
	if err := q.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", mapError(ctx, "migrate: current schema", err)
	}
	if schema == nil {
		return "", fmt.Errorf("%w: no schema of the connection's search_path exists", ErrSchemaVersion)
	}
	return pgx.Identifier{*schema, migrationsTable}.Sanitize(), nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn, table string) ([]int, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM `+table+` ORDER BY version`)
	if err != nil {
		return nil, mapError(ctx, "migrate: applied versions", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, mapError(ctx, "migrate: applied versions", err)
	}
	return vs, nil
}

// checkSchema returns an error wrapping ErrSchemaVersion unless the schema
// tables are created in (current_schema(), where Migrate puts them) has
// had exactly the embedded migrations.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return mapError(ctx, "open", err)
	}
	defer conn.Release()
	table, err := migrationsTableIn(ctx, conn)
	if err != nil {
		return err
	}
	var v *int
	err = conn.QueryRow(ctx, `SELECT max(version) FROM `+table).Scan(&v)
	if pgCode(err) == "42P01" { // undefined_table: never migrated
		return fmt.Errorf("%w: no migration has been applied; call Migrate or open with Options.Migrate", ErrSchemaVersion)
	}
	if err != nil {
		return mapError(ctx, "open", err)
	}
	want := latest()
	switch {
	case v == nil || *v < want:
		return fmt.Errorf("%w: migrations up to %d are missing; call Migrate or open with Options.Migrate", ErrSchemaVersion, want)
	case *v > want:
		return fmt.Errorf("%w: the schema is at migration %d; this package knows up to %d", ErrSchemaVersion, *v, want)
	}
	return nil
}
