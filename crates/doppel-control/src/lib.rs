//! doppel's control plane: the Heroku-style API, the git push handler, the deploy workflow,
//! the reconciler that makes Docker match the store, and the server that wires them together.
//!
//! # Layout
//! - [`config`]: the server's settings (flags and `DOPPEL_*` variables are parsed by the binary).
//! - [`server`]: startup order and shutdown.
//! - [`http`]: thin API handlers, one file per resource, and the Heroku error shape.
//! - [`push`]: what happens when git receives a push (the `PushHandler`).
//! - [`workflows`]: durable multi-step work (deploying a build).
//! - [`reconcile`]: the loop that converges dynos and the route table from the store.
//! - [`networks`]: the network model (one network per environment, one for builds).

pub mod config;
pub mod datadir;
pub mod http;
pub mod networks;
pub mod push;
pub mod reconcile;
pub mod secrets;
pub mod server;
pub mod state;
pub mod urls;
pub mod workflows;

pub use config::ServerConfig;
pub use server::run;
