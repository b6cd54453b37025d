-- Promotion and parity (issue 7): the staging release a promoted production release came
-- from, the per-app rule on direct pushes to production, promotions (one row per promotion,
-- each with its one target: production), and admins' marks of intended differences.
-- Keep in step with ../sqlite/20261208300001_promotions.sql.

ALTER TABLE releases ADD COLUMN source_release_id TEXT;

-- 1: production also accepts git pushes (an admin's choice, shown by parity).
ALTER TABLE apps ADD COLUMN allow_direct_push BIGINT NOT NULL DEFAULT 0;

CREATE TABLE promotions (
    id                 TEXT PRIMARY KEY NOT NULL,
    -- The id of the promotion's one target (Heroku's promotion-target).
    target_id          TEXT NOT NULL UNIQUE,
    app_id             TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    source_env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    target_env_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    source_release_id  TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    -- Set in the transaction that inserts the target's release.
    target_release_id  TEXT REFERENCES releases (id) ON DELETE SET NULL,
    -- pending, succeeded or failed.
    status             TEXT NOT NULL,
    error_message      TEXT,
    forced             BIGINT NOT NULL DEFAULT 0,
    reason             TEXT,
    user_id            TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- Two promotions to one environment never interleave: at most one is pending.
CREATE UNIQUE INDEX promotions_one_pending ON promotions (target_env_id) WHERE status = 'pending';
CREATE INDEX promotions_app_id ON promotions (app_id);

CREATE TABLE parity_marks (
    id          TEXT PRIMARY KEY NOT NULL,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    aspect      TEXT NOT NULL,
    item        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (app_id, aspect, item)
);
