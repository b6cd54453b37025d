-- Private environments' own access passwords (the router's Basic auth besides collaborators'
-- tokens): only the digest the router checks (doppel_types::token_digest), never the password.
-- Keep in step with ../postgres/20261209100001_access_passwords.sql.

CREATE TABLE env_access_passwords (
    env_id      TEXT PRIMARY KEY NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    digest      TEXT NOT NULL,
    set_by      TEXT,
    set_at      TEXT NOT NULL
);
