-- Certificates of custom domains: uploaded ones (Heroku's SNI endpoints) and ACME's
-- (Automated Certificate Management). Private keys and the ACME account's credentials are
-- sealed with the store's master key (hex TEXT, see crates/doppel-store/src/crypto.rs).
-- Keep in step with ../sqlite/20261209000001_certificates.sql.

CREATE TABLE sni_endpoints (
    id                 TEXT PRIMARY KEY NOT NULL,
    env_id             TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name               TEXT NOT NULL UNIQUE,
    certificate_chain  TEXT NOT NULL,
    private_key        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX sni_endpoints_env_id ON sni_endpoints (env_id);

-- Environments with ACM on: their custom domains get certificates from ACME.
CREATE TABLE acm_environments (
    env_id      TEXT PRIMARY KEY NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    enabled_at  TEXT NOT NULL
);

-- The ACME account per directory URL (credentials JSON, sealed).
CREATE TABLE acme_accounts (
    directory    TEXT PRIMARY KEY NOT NULL,
    credentials  TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- One ACME certificate (or the state of getting one) per custom domain.
CREATE TABLE acme_certs (
    domain_id          TEXT PRIMARY KEY NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    hostname           TEXT NOT NULL,
    status             TEXT NOT NULL,
    reason             TEXT,
    certificate_chain  TEXT,
    private_key        TEXT,
    expires_at         TEXT,
    issued_at          TEXT,
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    TEXT,
    updated_at         TEXT NOT NULL
);
