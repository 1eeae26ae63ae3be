-- itsmkit storage/postgres, migration 3: native keys are unique.
--
-- A source's native key (source, native ID) identifies a CI; at most one
-- CI of a tenant may carry it. Each key a CI carries is a row here, written
-- in the same transaction as the CI (see cmdb.go): the primary key makes
-- two writers of one key take turns, and the second finds it taken, even
-- at READ COMMITTED, where a check made by reading would race.

CREATE TABLE cmdb_native_keys (
    tenant_id text NOT NULL,
    source    text NOT NULL,
    native_id text NOT NULL,
    ci_id     uuid NOT NULL,
    PRIMARY KEY (tenant_id, source, native_id),
    FOREIGN KEY (tenant_id, ci_id) REFERENCES cmdb_cis (tenant_id, id)
);

-- A CI's keys: updates and deletions find them, and the foreign key.
CREATE INDEX cmdb_native_keys_ci ON cmdb_native_keys (tenant_id, ci_id);

-- The keys of the CIs already stored. Before this migration nothing
-- stopped two CIs from carrying one key; the key goes to the CI
-- reconciliation already keeps it on (cmdb.NewSnapshot): an original
-- before a duplicate, then the older, then the lower ID. The other CI keeps
-- its copy, which no longer reserves anything.
INSERT INTO cmdb_native_keys (tenant_id, source, native_id, ci_id)
SELECT DISTINCT ON (c.tenant_id, s.key, s.value->>'native_id')
       c.tenant_id, s.key, s.value->>'native_id', c.id
FROM cmdb_cis c, jsonb_each(c.doc->'sources') s
ORDER BY c.tenant_id, s.key, s.value->>'native_id',
         c.duplicate_of IS NOT NULL, (c.doc->>'created')::timestamptz, c.id;
