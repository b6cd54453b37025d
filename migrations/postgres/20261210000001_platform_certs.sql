-- ACME certificates of the platform's own host names (`--platform-certs acme`): the platform
-- host, `dashboard.<domain>` and every environment's `<env>.<domain>`. Keyed by the host name
-- (no foreign key: the ACM task removes the row of a name no longer wanted). Same columns as
-- acme_certs; the key is sealed with the master key (AAD `platform-cert:<hostname>`).
-- Keep in step with ../sqlite/20261210000001_platform_certs.sql.

CREATE TABLE platform_certs (
    hostname           TEXT PRIMARY KEY NOT NULL,
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
