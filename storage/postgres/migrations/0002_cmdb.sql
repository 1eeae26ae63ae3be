-- itsmkit storage/postgres, migration 2: the CMDB (CI records and the
-- relationships between them).
--
-- A CI is keyed by (tenant_id, id). The whole cmdb.Record (the CI, its
-- sources' claims, provenance) lives in doc (JSONB); what listings filter
-- on and what integrity checks look up is copied into plain columns, kept
-- in step by the adapter on every write. Foreign keys carry the tenant, so
-- nothing can point into another tenant; they back up the adapter's own
-- checks, which run first under row locks (see cmdb.go).

CREATE TABLE cmdb_cis (
    tenant_id    text   NOT NULL,
    id           uuid   NOT NULL,
    version      bigint NOT NULL CHECK (version >= 1),
    class        text   NOT NULL,
    status       text   NOT NULL,
    name         text   NOT NULL,
    duplicate_of uuid,
    -- The sources that reported the CI (present or gone), for Filter.Source.
    sources      text[] NOT NULL DEFAULT '{}',
    doc          jsonb  NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (duplicate_of <> id),
    FOREIGN KEY (tenant_id, duplicate_of) REFERENCES cmdb_cis (tenant_id, id)
) WITH (fillfactor = 80);

-- Listings are ordered by id and paginated with id > cursor; the indexes of
-- filtered columns end with id so that a filtered page is a range scan.
CREATE INDEX cmdb_cis_class  ON cmdb_cis (tenant_id, class, id);
CREATE INDEX cmdb_cis_status ON cmdb_cis (tenant_id, status, id);
-- Who points at a CI: the no-chain check, clearing pointers on delete,
-- the foreign key, and Filter.Duplicates.
CREATE INDEX cmdb_cis_duplicate_of ON cmdb_cis (tenant_id, duplicate_of, id) WHERE duplicate_of IS NOT NULL;
CREATE INDEX cmdb_cis_sources ON cmdb_cis USING gin (sources);

-- A relationship is plain columns: it has no free text and no nested data.
CREATE TABLE cmdb_relationships (
    tenant_id text        NOT NULL,
    id        uuid        NOT NULL,
    type      text        NOT NULL,
    from_id   uuid        NOT NULL,
    to_id     uuid        NOT NULL,
    created   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK (from_id <> to_id),
    -- One relationship of a type between the same two CIs; the index also
    -- finds a CI's relationships by their From end.
    UNIQUE (tenant_id, from_id, type, to_id),
    FOREIGN KEY (tenant_id, from_id) REFERENCES cmdb_cis (tenant_id, id),
    FOREIGN KEY (tenant_id, to_id) REFERENCES cmdb_cis (tenant_id, id)
);

CREATE INDEX cmdb_relationships_to ON cmdb_relationships (tenant_id, to_id);
