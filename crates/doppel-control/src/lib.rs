//! doppel's control plane: the logic behind every API call, the git push handler, the
//! release workflow, and the reconciler that makes Docker match the store. It knows nothing
//! of HTTP (`doppel-api`) or of how the server is wired together (`doppel-server`).
//!
//! # Layout
//! - [`config`]: the server's settings (flags and `DOPPEL_*` variables are parsed by the binary).
//! - [`state`]: the handles every part works from.
//! - [`logic`]: one file per resource, with access checks; what API handlers call.
//! - [`push`]: what happens when git receives a push (the `PushHandler`).
//! - [`workflows`]: durable multi-step work (building a push, rolling out a release).
//! - [`reconcile`]: the loop that converges networks, dynos and the route table from the store.
//! - [`routes`]: the route table the router serves from (its only writer).
//! - [`router_link`]: sends that table to the router process, brings its log lines back.
//! - [`networks`]: the network model (one network per environment, one for builds).
//! - [`outputs`]: live output of running builds, bounded, for their stream URLs.
//! - [`datadir`], [`secrets`]: the data directory, its lock, keys and the instance id.

pub mod config;
pub mod datadir;
pub mod logic;
pub mod networks;
pub mod outputs;
pub mod push;
pub mod reconcile;
pub mod router_link;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod urls;
pub mod workflows;

pub use config::ServerConfig;
