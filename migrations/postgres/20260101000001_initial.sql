-- doppel's initial schema (PostgreSQL). Ids are uuid v4 TEXT, timestamps RFC 3339 UTC TEXT,
-- JSON as TEXT, booleans and integers as BIGINT (0/1 for booleans). Keep in step with ../sqlite/20260101000001_initial.sql.

CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    admin       BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest        TEXT NOT NULL UNIQUE,
    description   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE apps (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    owner_id    TEXT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL
);

CREATE TABLE environments (
    id          TEXT PRIMARY KEY NOT NULL,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name        TEXT NOT NULL UNIQUE,
    stage       TEXT NOT NULL,
    private     BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (app_id, stage)
);

CREATE TABLE builds (
    id             TEXT PRIMARY KEY NOT NULL,
    env_id         TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL,
    source_commit  TEXT NOT NULL,
    status         TEXT NOT NULL,
    failure        TEXT,
    image_id       TEXT,
    image_kind     TEXT,
    process_types  TEXT NOT NULL,
    buildpack      TEXT,
    stack          TEXT,
    size_bytes     BIGINT,
    user_id        TEXT REFERENCES users (id) ON DELETE SET NULL,
    output         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX builds_env_id_seq ON builds (env_id, seq);
CREATE INDEX builds_status ON builds (status);

CREATE TABLE config_vars (
    env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (env_id, key)
);

CREATE TABLE releases (
    id             TEXT PRIMARY KEY NOT NULL,
    env_id         TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    build_id       TEXT REFERENCES builds (id) ON DELETE SET NULL,
    image_id       TEXT NOT NULL,
    image_kind     TEXT NOT NULL,
    process_types  TEXT NOT NULL,
    description    TEXT NOT NULL,
    status         TEXT NOT NULL,
    user_id        TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (env_id, version)
);

CREATE TABLE release_config_vars (
    release_id  TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (release_id, key)
);

CREATE TABLE formations (
    id            TEXT PRIMARY KEY NOT NULL,
    env_id        TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    process_type  TEXT NOT NULL,
    quantity      BIGINT NOT NULL,
    size          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (env_id, process_type)
);
