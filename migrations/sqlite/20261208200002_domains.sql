-- Custom domains: a host name the router sends to one environment. Host names are unique
-- across the installation (lowercase, no trailing dot); the environment's own
-- <env>.<domain> name is not stored here.
-- Keep in step with ../postgres/20261208200002_domains.sql.

CREATE TABLE domains (
    id          TEXT PRIMARY KEY NOT NULL,
    env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    hostname    TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX domains_env_id ON domains (env_id);
