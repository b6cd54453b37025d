-- Process groups (issue 8): rollouts, whose every step is recorded so a restart of doppel
-- resumes or unwinds them, and log drains. Keep in step with
-- ../postgres/20261208400001_processes.sql.

CREATE TABLE rollouts (
    id          TEXT PRIMARY KEY NOT NULL,
    env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    release_id  TEXT REFERENCES releases (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    phase       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    output      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX rollouts_env_id ON rollouts (env_id, created_at);
CREATE INDEX rollouts_phase ON rollouts (phase);

-- A drain's URL may carry credentials: it is kept encrypted, with a digest for uniqueness.
CREATE TABLE log_drains (
    id          TEXT PRIMARY KEY NOT NULL,
    env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    url_digest  TEXT NOT NULL,
    token       TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (env_id, url_digest)
);
