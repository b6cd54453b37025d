-- Add-ons (issue 11): service instances owned by one environment, their attachments (the
-- config-var prefixes an environment gets), and their backups. Credentials are sealed by the
-- store's cipher (JSON, AAD = the add-on's id); backup rows outlive the add-on they were
-- taken of (no foreign key to it), so a destroyed add-on's final backup stays listed.
-- Keep in step with ../postgres/20261208600001_addons.sql.

CREATE TABLE addons (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL UNIQUE,
    env_id         TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    service        TEXT NOT NULL,
    plan           TEXT NOT NULL,
    version        TEXT,
    state          TEXT NOT NULL,
    failure        TEXT,
    image          TEXT,
    volume         TEXT NOT NULL,
    color          TEXT NOT NULL,
    credentials    TEXT NOT NULL,
    schedule_hour  INTEGER,
    schedule_keep  INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX addons_env_id ON addons (env_id);

CREATE TABLE addon_attachments (
    id          TEXT PRIMARY KEY NOT NULL,
    addon_id    TEXT NOT NULL REFERENCES addons (id) ON DELETE CASCADE,
    env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (env_id, name)
);
CREATE INDEX addon_attachments_addon_id ON addon_attachments (addon_id);

CREATE TABLE addon_backups (
    id              TEXT PRIMARY KEY NOT NULL,
    env_id          TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    addon_id        TEXT,
    addon_name      TEXT NOT NULL,
    service         TEXT NOT NULL,
    version         TEXT,
    kind            TEXT NOT NULL,
    num             INTEGER NOT NULL,
    status          TEXT NOT NULL,
    size_bytes      INTEGER,
    checksum        TEXT,
    file            TEXT,
    counts          TEXT,
    verified        INTEGER,
    verify_message  TEXT,
    source          TEXT,
    note            TEXT,
    error           TEXT,
    user_id         TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT,
    UNIQUE (env_id, kind, num)
);
