-- Collaborators: which users may see and change an app. `env_id` NULL grants both
-- environments; otherwise only the one named. Admins need no row; an app's owner has one.
-- Keep in step with ../sqlite/20261207000001_collaborators.sql.

CREATE TABLE collaborators (
    id          TEXT PRIMARY KEY NOT NULL,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    env_id      TEXT REFERENCES environments (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (app_id, user_id)
);
CREATE INDEX collaborators_user_id ON collaborators (user_id);

-- Every existing app's owner collaborates on both environments.
INSERT INTO collaborators (id, app_id, env_id, user_id, created_at, updated_at)
SELECT 'owner-' || id, id, NULL, owner_id, created_at, created_at FROM apps;
