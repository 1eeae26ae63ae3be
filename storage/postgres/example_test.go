package postgres_test

import (
	"fmt"

	"github.com/itsmkit/itsmkit/storage/postgres"
)

// The schema is a list of versioned migrations embedded in the package;
// Migrate applies the ones a database lacks.
func ExampleMigrations() {
	for _, m := range postgres.Migrations() {
		fmt.Printf("%04d %s\n", m.Version, m.Name)
	}
	// Output:
	// 0001 init
	// 0002 cmdb
	// 0003 cmdb_native_keys
	// 0004 incident_filters
	// 0005 incident_instants
}

// Options are checked before anything touches the database.
func ExampleOptions_Validate() {
	fmt.Println(postgres.Options{Migrate: true}.Validate())
	fmt.Println(postgres.Options{Retries: 500}.Validate())
	// Output:
	// <nil>
	// invalid retries: is 500; at most 100
}
