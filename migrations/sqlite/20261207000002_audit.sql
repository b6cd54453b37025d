-- The audit log: every change to an app or its environments, with who, from where, through
-- which client. `details` is JSON without secrets (config keys, never values).
-- Keep in step with ../postgres/20261207000002_audit.sql.

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY NOT NULL,
    seq         BIGINT NOT NULL,
    app_id      TEXT NOT NULL,
    app_name    TEXT NOT NULL,
    env_id      TEXT,
    env_name    TEXT,
    user_id     TEXT,
    user_email  TEXT,
    action      TEXT NOT NULL,
    details     TEXT NOT NULL,
    client      TEXT NOT NULL,
    address     TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_events_app_seq ON audit_events (app_id, seq);
