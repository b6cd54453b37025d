-- An environment's IP allow-list: when it has one, the router answers 403 to clients outside
-- these networks (CIDR, one per line) before any other check. No row: everyone.
-- Keep in step with ../sqlite/20261209500001_allowed_ips.sql.

CREATE TABLE env_allowed_ips (
    env_id      TEXT PRIMARY KEY NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    networks    TEXT NOT NULL,
    set_at      TEXT NOT NULL
);
