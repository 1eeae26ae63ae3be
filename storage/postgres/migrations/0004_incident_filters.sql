-- itsmkit storage/postgres, migration 4: lists select incidents by caller,
-- category, service, and when they were opened or last changed.
--
-- Like the other filter columns these are copies of the document's fields,
-- kept in step by the adapter on every write: caller and category as they
-- are, the affected service as "kind:uuid" (itsm.Ref.String; a UUID has a
-- fixed length, so no two references share the text), '' for none.
-- opened_at and updated_at exist since migration 1; they gain indexes.

ALTER TABLE incidents
    ADD COLUMN caller   text NOT NULL DEFAULT '',
    ADD COLUMN category text NOT NULL DEFAULT '',
    ADD COLUMN service  text NOT NULL DEFAULT '';

-- The incidents already stored, from their documents: the JSON of
-- incident.Data always has caller, leaves out an empty category and a
-- zero service, and writes a service as {"kind": …, "id": <canonical
-- UUID>}, the text of uuid.UUID.String.
UPDATE incidents SET
    caller   = COALESCE(doc->>'caller', ''),
    category = COALESCE(doc->>'category', ''),
    service  = COALESCE((doc->'service'->>'kind') || ':' || (doc->'service'->>'id'), '')
WHERE COALESCE(doc->>'caller', '') <> '' OR doc ? 'category' OR doc ? 'service';

-- The equality filters end with id, as in migration 1, so that a filtered
-- page is one index range scan.
CREATE INDEX incidents_caller   ON incidents (tenant_id, caller, id) WHERE caller <> '';
CREATE INDEX incidents_category ON incidents (tenant_id, category, id) WHERE category <> '';
CREATE INDEX incidents_service  ON incidents (tenant_id, service, id) WHERE service <> '';
-- The range filters are indexed by (tenant, instant), like resolved_at;
-- their matches are sorted by id for the page. updated_at is what an
-- incremental export polls (Filter.UpdatedSince).
CREATE INDEX incidents_opened   ON incidents (tenant_id, opened_at);
CREATE INDEX incidents_updated  ON incidents (tenant_id, updated_at);
