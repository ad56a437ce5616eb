-- +goose Up
-- Webhook endpoints. state is 'enabled', 'disabled' or 'auto-disabled'.
-- headers, events and content_types hold JSON. previous_secret keeps signing
-- beside secret until previous_secret_until, after a rotation.
-- first_failure_at is the first failed attempt since last_success_at; it
-- drives automatic disabling.
CREATE TABLE webhooks (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT NOT NULL,
    url                   TEXT NOT NULL,
    headers               TEXT NOT NULL DEFAULT '{}',
    events                TEXT NOT NULL DEFAULT '[]',
    content_types         TEXT NOT NULL DEFAULT '[]',
    state                 TEXT NOT NULL DEFAULT 'enabled',
    disabled_reason       TEXT NOT NULL DEFAULT '',
    secret                TEXT NOT NULL,
    previous_secret       TEXT NOT NULL DEFAULT '',
    previous_secret_until DATETIME,
    first_failure_at      DATETIME,
    last_success_at       DATETIME,
    created_at            DATETIME NOT NULL,
    updated_at            DATETIME NOT NULL
);

-- The outbox: one row per content event, written in the change's own
-- transaction. id is the webhook-id header; payload the exact body sent.
CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    uid         TEXT NOT NULL DEFAULT '',
    document_id TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);

CREATE INDEX webhook_events_created ON webhook_events (created_at);

-- One row per event and webhook. webhook_id has no foreign key on purpose:
-- a content change must never fail because a webhook was deleted a moment
-- earlier; deleting a webhook deletes its deliveries, and pruning removes
-- any stragglers. A leased row (lease_until in the future) is in flight on
-- the instance named by lease_owner. retry_base is the attempt count at
-- which the current retry schedule started (a redelivery restarts it);
-- next_trigger is the trigger of the next attempt.
CREATE TABLE webhook_deliveries (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id           BIGINT NOT NULL,
    event_id             TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    event                TEXT NOT NULL,
    uid                  TEXT NOT NULL DEFAULT '',
    document_id          TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'pending',
    attempt_count        INTEGER NOT NULL DEFAULT 0,
    retry_base           INTEGER NOT NULL DEFAULT 0,
    next_trigger         TEXT NOT NULL DEFAULT 'scheduled',
    last_response_status INTEGER,
    next_attempt_at      DATETIME,
    lease_owner          TEXT,
    lease_until          DATETIME,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook_id, status, next_attempt_at, id);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until, webhook_id)
    WHERE lease_until IS NOT NULL;
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (status, updated_at);

-- One row per attempt to send a delivery. triggered_by is 'scheduled',
-- 'manual' or 'test'; request_headers and response_headers hold JSON.
CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    triggered_by     TEXT NOT NULL,
    request_headers  TEXT NOT NULL DEFAULT '{}',
    response_status  INTEGER,
    response_headers TEXT NOT NULL DEFAULT '{}',
    response_body    TEXT NOT NULL DEFAULT '',
    duration_ms      BIGINT NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, number);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
