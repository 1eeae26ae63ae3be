package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/itsmkit/itsmkit/cmdb"
	"github.com/itsmkit/itsmkit/itsm"
	"github.com/itsmkit/itsmkit/itsmtest"
)

// The CMDB locks rows and then reads what they guard, which only sees
// other writers' commits at READ COMMITTED. A server (or role) whose
// default isolation is REPEATABLE READ must not weaken that: every
// transaction the store begins asks for READ COMMITTED itself.
func TestCMDBIntegrityHoldsWhateverTheServerDefaultIsolation(t *testing.T) {
	s, _ := openStore(t, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["default_transaction_isolation"] = "repeatable read"
	})
	reg := cmdb.NewRegistry()
	require.NoError(t, reg.AddRelType(cmdb.RelType{
		Name: relBackedUpBy, Parent: "Backed up by", Child: "Backs up", Kind: cmdb.KindUsage,
		Flow: cmdb.FlowToFrom, Cardinality: cmdb.ManyToOne, OnDelete: cmdb.DeleteDetach,
		Allowed: []cmdb.ClassPair{{From: cmdb.ClassCI, To: cmdb.ClassCI}},
	}))
	f := &cmdbFixture{t: t, repo: s.CMDB(reg), ids: itsmtest.NewIDs(7)}
	for round := range 10 {
		f.tenant = itsm.TenantID(fmt.Sprintf("rr-%d", round))
		app := f.create(cmdb.ClassApplication)
		var rels []cmdb.Relationship
		for range 6 {
			rels = append(rels, f.rel(relBackedUpBy, app, f.create(cmdb.ClassServer)))
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, rel := range rels {
			wg.Go(func() { <-start; _ = f.repo.CreateRelationship(context.Background(), rel) })
		}
		close(start)
		wg.Wait()
		assert.Len(t, f.allRelationships(), 1, "round %d: the N:1 end of %s holds one relationship", round, app.ID)
	}
}
