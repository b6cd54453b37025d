-- Which doppel version first brought the store to each schema version (the newest migration
-- applied), so an older doppel that finds migrations it does not know can name the version
-- that made them when it refuses to start (see crates/doppel-store/src/schema_guard.rs).
-- Keep in step with ../sqlite/20261209400001_schema_writers.sql.

CREATE TABLE schema_writers (
    schema_version   BIGINT PRIMARY KEY NOT NULL,
    doppel_version   TEXT NOT NULL,
    first_opened_at  TEXT NOT NULL
);
