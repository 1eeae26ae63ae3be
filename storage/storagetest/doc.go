// Package storagetest is the conformance suite of the storage contract: the
// executable form of package storage's documentation. Every adapter runs it
// from its own tests in a few lines:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return memory.New() })
//	}
//
// Run opens a fresh, empty store for every test through the function it is
// given, and checks the repositories (round trips, duplicates, missing
// records, stale versions, 20 concurrent writers with exactly one winner,
// no aliasing, every incident.Filter field and its bounds against
// Filter.Matches, filtered cursor pagination under concurrent writes,
// cancelled contexts, tenant isolation, bad input) and then each optional
// capability the store implements (transactions, the outbox and its
// consumers, sequences, the CMDB with one CI per native key, concurrent
// reconciles included); a capability the store lacks is reported as a
// skipped subtest. Run it with -race.
//
// The incidents the suite stores are realistic: incident.Restore under the
// default policy accepts every one of them, and the suite checks that it
// does, so an adapter is tested with data the service could have written.
package storagetest
