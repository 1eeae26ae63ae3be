package cmdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/itsmkit/itsmkit/itsm"
)

// MaxReconcileAttempts bounds how often Reconcile re-reads and re-plans a
// batch after a conflict.
const MaxReconcileAttempts = 3

// Apply writes p to repo: the creates, then the updates (each checked
// against the version the plan read), then the relationship removals and
// additions. When repo implements Atomic every write commits together or
// none does. Otherwise a failure leaves the writes made before it; running
// the same batch again completes the work, since reconciliation finds what
// was already written.
//
// Errors: repo's; a relationship to remove that is already gone, or to add
// that already exists, is reported wrapping itsm.ErrConflict, like a stale
// version, so that callers re-read and re-plan.
func (p *Plan) Apply(ctx context.Context, repo Repository) error {
	if a, ok := repo.(Atomic); ok {
		return a.Atomically(ctx, p.write)
	}
	return p.write(ctx, repo)
}

func (p *Plan) write(ctx context.Context, repo Repository) error {
	for _, r := range p.Creates {
		if err := repo.CreateCI(ctx, r); err != nil {
			return conflictIf(err, itsm.ErrAlreadyExists, "creating CI %s", r.ID)
		}
	}
	for _, u := range p.Updates {
		r := u.After
		r.Version = u.Before.Version
		if err := repo.UpdateCI(ctx, r); err != nil {
			return conflictIf(err, itsm.ErrNotFound, "updating CI %s", r.ID)
		}
	}
	for _, rel := range p.RemoveRelationships {
		if err := repo.DeleteRelationship(ctx, rel.Tenant, rel.ID); err != nil {
			return conflictIf(err, itsm.ErrNotFound, "removing relationship %s", rel.ID)
		}
	}
	for _, rel := range p.AddRelationships {
		if err := repo.CreateRelationship(ctx, rel); err != nil {
			return conflictIf(err, itsm.ErrAlreadyExists, "adding relationship %s", rel.ID)
		}
	}
	return nil
}

// conflictIf wraps err with what failed, turning sentinel into a conflict.
func conflictIf(err, sentinel error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, sentinel) {
		return fmt.Errorf("cmdb: %s: the store changed since the plan was made (%w): %w", what, err, itsm.ErrConflict)
	}
	return fmt.Errorf("cmdb: %s: %w", what, err)
}

// DryRun reads the tenant's CMDB from repo and returns what reconciling b
// would change, changing nothing. Errors are LoadSnapshot's and Plan's.
func (rc *Reconciler) DryRun(ctx context.Context, repo Repository, gen itsm.IDGenerator, b Batch) (*Plan, error) {
	snap, err := LoadSnapshot(ctx, repo, b.Tenant)
	if err != nil {
		return nil, err
	}
	return rc.plan(snap, b, gen, true)
}

// Reconcile reads the tenant's CMDB from repo, plans b and applies the
// plan, re-reading and re-planning up to MaxReconcileAttempts times when
// the store changed meanwhile (itsm.ErrConflict). When repo implements
// Atomic each attempt reads and writes in one transaction. It returns the
// applied plan, or the last error: LoadSnapshot's, Plan's (a
// *itsm.ValidationError for a bad batch, nothing written), Apply's.
func (rc *Reconciler) Reconcile(ctx context.Context, repo Repository, gen itsm.IDGenerator, b Batch) (*Plan, error) {
	if err := b.Tenant.Validate(); err != nil {
		return nil, err
	}
	var err error
	for range MaxReconcileAttempts {
		var plan *Plan
		attempt := func(ctx context.Context, repo Repository) error {
			snap, err := LoadSnapshot(ctx, repo, b.Tenant)
			if err != nil {
				return err
			}
			if plan, err = rc.plan(snap, b, gen, true); err != nil {
				return err
			}
			return plan.write(ctx, repo)
		}
		if a, ok := repo.(Atomic); ok {
			err = a.Atomically(ctx, attempt)
		} else {
			err = attempt(ctx, repo)
		}
		if err == nil {
			return plan, nil
		}
		if !errors.Is(err, itsm.ErrConflict) {
			return nil, err
		}
	}
	return nil, err
}
