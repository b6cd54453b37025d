//! doppel's control plane: the logic behind every API call, the git push handler, the
//! release workflow, and the reconciler that makes Docker match the store. It knows nothing
//! of HTTP (`doppel-api`) or of how the server is wired together (`doppel-server`).
//!
//! # Layout
//! - [`config`]: the server's settings (flags and `DOPPEL_*` variables are parsed by the binary).
//! - [`state`]: the handles every part works from. It and the small files of what it holds
//!   ([`labels`], `acme::settings`, `acme::handle`, `supervisor::handle`, `dynos::sessions`)
//!   import no module that uses it: those import downward only.
//! - [`logic`]: one file per resource, with access checks; what API handlers call.
//! - [`push`]: what happens when git receives a push (the `PushHandler`).
//! - [`workflows`]: durable multi-step work (building a push, rolling out a release).
//! - [`supervisor`]: the background task that converges dynos and networks from the store,
//!   woken by Docker's events; [`reconcile`]: its startup chores.
//! - [`logs`]: one log stream per environment (files, tails, log sessions, drains).
//! - [`dynos`]: dynos as users see them (`ps`), one-off dynos and attaching to them.
//! - [`routes`]: the route table the router serves from (its only writer).
//! - [`router_link`]: sends that table to the router process, brings its log lines back.
//! - [`networks`]: the network model (one network per environment, one for builds).
//! - [`outputs`]: live output of running builds, bounded, for their stream URLs.
//! - [`datadir`], [`secrets`]: the data directory, its lock, keys and the instance id.
//! - [`addons`]: add-on servers (one container and volume each), their supervision, and
//!   scheduled backups.
//! - [`admin`]: doppel's own backups (`admin:backup`, `admin:restore`).

pub mod acme;
pub mod addons;
pub mod admin;
pub mod config;
pub mod datadir;
pub mod dynos;
pub mod labels;
pub mod logic;
pub mod logs;
pub mod networks;
pub mod outputs;
pub mod push;
pub mod reconcile;
pub mod router_link;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod supervisor;
pub mod urls;
pub mod workflows;

pub use config::ServerConfig;
