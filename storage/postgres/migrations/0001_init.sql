-- itsmkit storage/postgres, migration 1: incidents, the outbox, sequences.
--
-- Every table carries tenant_id. Incidents are keyed by (tenant_id, id) and
-- numbered uniquely per tenant; the whole incident.Data document lives in
-- doc (JSONB) and the fields that lists filter on are copied into plain
-- columns, kept in step by the adapter on every write.

CREATE TABLE incidents (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    number       text        NOT NULL,
    version      bigint      NOT NULL CHECK (version >= 1),
    status       text        NOT NULL,
    priority     integer     NOT NULL,
    group_name   text        NOT NULL DEFAULT '',
    assignee     text        NOT NULL DEFAULT '',
    parent_id    uuid,
    major_status text        NOT NULL DEFAULT '',
    opened_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    resolved_at  timestamptz,
    sla_breached boolean     NOT NULL DEFAULT false,
    sla_next_at  timestamptz,
    sla_stages   text[]      NOT NULL DEFAULT '{}',
    doc          jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number)
) WITH (fillfactor = 80);

-- Lists are ordered by id and paginated with id > cursor, so every index
-- ends with id: a filtered page is an index range scan.
CREATE INDEX incidents_status   ON incidents (tenant_id, status, id);
CREATE INDEX incidents_priority ON incidents (tenant_id, priority, id);
CREATE INDEX incidents_group    ON incidents (tenant_id, group_name, id);
CREATE INDEX incidents_assignee ON incidents (tenant_id, assignee, id) WHERE assignee <> '';
CREATE INDEX incidents_parent   ON incidents (tenant_id, parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX incidents_major    ON incidents (tenant_id, major_status, id) WHERE major_status NOT IN ('', 'none');
CREATE INDEX incidents_resolved ON incidents (tenant_id, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_breached ON incidents (tenant_id, id) WHERE sla_breached;
-- What an SLA scheduler polls: live timers due soonest.
CREATE INDEX incidents_sla_next ON incidents (tenant_id, sla_next_at) WHERE sla_next_at IS NOT NULL;

-- The outbox. seq gives the append order claims follow; an event ID is
-- unique in the whole outbox (the consumer side works across tenants).
CREATE TABLE outbox (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid        NOT NULL UNIQUE,
    tenant_id    text        NOT NULL,
    type         text        NOT NULL,
    subject_kind text        NOT NULL,
    subject_id   uuid        NOT NULL,
    version      bigint      NOT NULL,
    at           timestamptz NOT NULL,
    actor        jsonb       NOT NULL,
    payload      bytea,
    lease_id     text,
    lease_until  timestamptz,
    consumer     text
);

-- Per-tenant counters for human numbers.
CREATE TABLE sequences (
    tenant_id text   NOT NULL,
    name      text   NOT NULL,
    value     bigint NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
