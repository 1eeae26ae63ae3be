package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/incident"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
	"github.com/itsmkit/itsmkit/storage"
	"github.com/itsmkit/itsmkit/storage/memory"
)

// countingStore is a host's decorator: same data, its own outbox hook.
type countingStore struct {
	*memory.Store
	appended int
}

func (c *countingStore) Append(ctx context.Context, evs ...itsm.Event) error {
	c.appended += len(evs)
	return c.Store.Append(ctx, evs...)
}

func (c *countingStore) InTx(ctx context.Context, fn func(context.Context, storage.Store) error) error {
	return c.Store.InTx(ctx, func(ctx context.Context, tx storage.Store) error {
		return fn(ctx, &countingTx{Store: tx, c: c})
	})
}

type countingTx struct {
	storage.Store
	c *countingStore
}

func (t *countingTx) Append(ctx context.Context, evs ...itsm.Event) error {
	t.c.appended += len(evs)
	return t.Store.(storage.Outbox).Append(ctx, evs...)
}

func TestIncidentConfigKeepsADecoratorsOutbox(t *testing.T) {
	s := &countingStore{Store: memory.New()}
	cfg, err := storage.IncidentConfig(s)
	require.NoError(t, err)
	cfg.Clock = itsmtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)).Func()
	cfg.IDs = itsmtest.NewIDs(8)
	svc, err := incident.NewService(cfg)
	require.NoError(t, err)
	res, err := svc.Open(context.Background(), "acme", itsm.Actor{ID: "ana"}, incident.OpenInput{Title: "t", Caller: "bob", Impact: 2, Urgency: 2})
	require.NoError(t, err)
	require.NotEmpty(t, res.Events)
	require.Equal(t, len(res.Events), s.appended, "events went past the store's own Transactor/Outbox")
}
