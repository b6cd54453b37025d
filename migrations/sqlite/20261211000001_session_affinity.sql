-- Session affinity per environment (Heroku's `http-session-affinity` feature,
-- `heroku features:enable http-session-affinity`): the router sends a client's requests to
-- the web dyno its `heroku-session-affinity` cookie names while that dyno serves.
-- Keep in step with ../postgres/20261211000001_session_affinity.sql.

ALTER TABLE environments ADD COLUMN session_affinity INTEGER NOT NULL DEFAULT 0;
