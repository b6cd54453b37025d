-- The dashboard's sign-in: one password per user (an Argon2id PHC string, never the password)
-- and the browser sessions signed in with it (only a digest of each cookie's secret).
-- Keep in step with ../postgres/20261208700001_dashboard.sql.

CREATE TABLE user_passwords (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash        TEXT NOT NULL,
    set_at      TEXT NOT NULL
);

CREATE TABLE dashboard_sessions (
    digest      TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    address     TEXT
);
CREATE INDEX dashboard_sessions_user_id ON dashboard_sessions (user_id);
CREATE INDEX dashboard_sessions_expires_at ON dashboard_sessions (expires_at);
