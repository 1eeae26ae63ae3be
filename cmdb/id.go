package cmdb

import (
	"github.com/google/uuid"

	"github.com/itsmkit/itsmkit/itsm"
)

// ciRecord marks CI IDs.
type ciRecord struct{}

// RecordKind returns itsm.KindCI.
func (ciRecord) RecordKind() itsm.Kind { return itsm.KindCI }

// ID identifies a configuration item.
type ID = itsm.ID[ciRecord]

// NewID draws a fresh CI ID from gen (see itsm.NewID for errors).
func NewID(gen itsm.IDGenerator) (ID, error) { return itsm.NewID[ciRecord](gen) }

// IDFromUUID wraps an existing UUID as a CI ID.
func IDFromUUID(u uuid.UUID) ID { return itsm.IDFromUUID[ciRecord](u) }

// ParseID parses a CI ID from its canonical UUID text; errors are
// *itsm.ValidationError naming "id".
func ParseID(s string) (ID, error) { return itsm.ParseID[ciRecord](s) }

// KindRelationship is the record kind of a relationship between two CIs.
const KindRelationship itsm.Kind = "ci_relationship"

// relRecord marks relationship IDs.
type relRecord struct{}

// RecordKind returns KindRelationship.
func (relRecord) RecordKind() itsm.Kind { return KindRelationship }

// RelationshipID identifies a relationship between two CIs.
type RelationshipID = itsm.ID[relRecord]

// NewRelationshipID draws a fresh relationship ID from gen (see itsm.NewID
// for errors).
func NewRelationshipID(gen itsm.IDGenerator) (RelationshipID, error) {
	return itsm.NewID[relRecord](gen)
}

// RelationshipIDFromUUID wraps an existing UUID as a relationship ID.
func RelationshipIDFromUUID(u uuid.UUID) RelationshipID { return itsm.IDFromUUID[relRecord](u) }

// ParseRelationshipID parses a relationship ID from its canonical UUID text;
// errors are *itsm.ValidationError naming "id".
func ParseRelationshipID(s string) (RelationshipID, error) { return itsm.ParseID[relRecord](s) }
