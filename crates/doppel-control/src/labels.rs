//! The labels doppel puts on its dyno containers, and their roles: the supervisor, the route
//! table and the shared state find this installation's containers by them. A leaf: it names
//! nothing else of the crate.

/// Labels doppel puts on every dyno container; the reconciler finds dynos by them.
pub const LABEL_ROLE: &str = "doppel.role";
pub const LABEL_INSTANCE: &str = "doppel.instance";
pub const LABEL_ENV: &str = "doppel.env";
pub const LABEL_ENV_ID: &str = "doppel.env-id";
pub const LABEL_RELEASE: &str = "doppel.release";
pub const LABEL_DYNO: &str = "doppel.dyno";
/// The dyno size the container was made with (a resize replaces it).
pub const LABEL_SIZE: &str = "doppel.size";
/// How many times in a row the dyno of this name crashed before this container (back-off).
pub const LABEL_RESTARTS: &str = "doppel.restarts";
/// Unix time after which a one-off dyno is stopped (its `time_to_live`).
pub const LABEL_EXPIRES: &str = "doppel.expires";
/// `1` on a one-off dyno a client is attached to (its output is not logged).
pub const LABEL_ATTACH: &str = "doppel.attach";
/// The HTTP path a web dyno's health check gets (absent: a TCP check).
pub const LABEL_HEALTH: &str = "doppel.health";
pub const ROLE_DYNO: &str = "dyno";
/// One-off dynos (`doppel run`, `POST /apps/{app}/dynos`).
pub const ROLE_RUN: &str = "run";
/// The release phase's one-off dyno.
pub const ROLE_RELEASE: &str = "release";
/// The config var that names a web dyno's HTTP health check path (e.g. `/up`); without it
/// the check is a TCP connect to `$PORT`.
pub const HEALTHCHECK_VAR: &str = "DOPPEL_HEALTHCHECK_PATH";
/// Label keeping the command a one-off runs, for `ps`.
pub const LABEL_COMMAND: &str = "doppel.command";
