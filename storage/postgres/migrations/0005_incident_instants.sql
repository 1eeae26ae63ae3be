-- itsmkit storage/postgres, migration 5: the documents of incidents agree
-- with the instant columns lists filter on (opened_at, updated_at since
-- migration 4; resolved_at since migration 1).
--
-- Before migration 4 the adapter stored an opened or updated instant finer
-- than a microsecond: its document kept the nanoseconds, its column the
-- microsecond below (the adapter's driver truncates). And until migration
-- 5 the document held each instant in its own zone, whose offset JSON
-- writes in whole minutes: an instant in a zone whose offset has seconds
-- (Africa/Monrovia before 1972, -0:44:30) was stored up to 59 seconds off
-- in the document, exactly in the column. Either way the lists (columns)
-- and Get (document) disagreed, and the adapter, which now refuses
-- sub-microsecond opened and updated instants, could not save such an
-- incident again. The column is what lists use and what the adapter
-- writes today, so the document takes the column's instant, in UTC, as
-- the adapter writes it: encoding/json's text for a UTC time.Time
-- (RFC 3339, fraction without trailing zeros, "Z").
--
-- Only documents whose text differs from that are written; the texts are
-- compared rather than cast, as a cast to timestamptz rounds, not
-- truncates, digits beyond the microsecond. A document in a zone other
-- than UTC is rewritten in UTC: the same instant, which the Repository
-- contract lets come back in UTC. The other instants of a document have no
-- column to take theirs from and are left as they are.

-- json is each column's instant as that text (NULL for no resolution).
WITH json AS (
    SELECT tenant_id, id,
           regexp_replace(to_char(opened_at   AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\.?0+$', '') || 'Z' AS opened_at,
           regexp_replace(to_char(updated_at  AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\.?0+$', '') || 'Z' AS updated_at,
           regexp_replace(to_char(resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\.?0+$', '') || 'Z' AS resolved_at
    FROM incidents
)
UPDATE incidents i SET doc = i.doc
    || jsonb_build_object('opened_at', j.opened_at, 'updated_at', j.updated_at)
    || CASE WHEN j.resolved_at IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('resolved_at', j.resolved_at) END
FROM json j
WHERE i.tenant_id = j.tenant_id AND i.id = j.id
  AND (i.doc->>'opened_at' IS DISTINCT FROM j.opened_at
       OR i.doc->>'updated_at' IS DISTINCT FROM j.updated_at
       OR j.resolved_at IS NOT NULL AND i.doc->>'resolved_at' IS DISTINCT FROM j.resolved_at);
