//! doppel-git: the receiving side of git's smart HTTP protocol for doppel.
//!
//! # How a push flows
//!
//! ```text
//! git push ──HTTP──▶ GitService (axum) ──stdin──▶ git receive-pack --stateless-rpc <repo>.git
//!                         ▲                                   │ (pack indexed into quarantine)
//!                         │ unix socket (per push, 0700 dir)  ▼
//!                         └──────────────────────────── hooks/pre-receive → `doppel git-hook pre-receive`
//!                                                              (doppel_git::hook::main)
//! ```
//!
//! * `GET /<repo>.git/info/refs?service=…` answers the `# service=` header pkt and flush, then
//!   the output of `git <service> --stateless-rpc --advertise-refs`.
//! * `POST /<repo>.git/git-receive-pack` streams the (possibly gzip-decoded) request body into
//!   `git receive-pack --stateless-rpc` and its stdout back out, pkt by pkt, while holding a
//!   per-repository lock. The repository's `pre-receive` hook execs the configured
//!   `hook_command`; the hook connects to a per-push Unix socket whose path it finds in
//!   [`hook::SOCKET_ENV`], and the server calls [`PushHandler::pre_receive`] with a [`Push`]
//!   and a [`ProgressSink`]. Every line written to the sink is relayed through the hook's
//!   stdout, which receive-pack forwards on sideband 2 (`remote: …`) with its own keepalives.
//!   The handler's verdict becomes the hook's exit status: non-zero rejects every ref with
//!   `pre-receive hook declined`.
//! * `POST /<repo>.git/git-upload-pack` does the same with `git upload-pack` (clone/fetch).
//!
//! # Why the real `git` and not `git2` for receiving
//!
//! libgit2 (and therefore `git2`) has no server side: it speaks no receive-pack protocol, runs no
//! hooks, has no object quarantine (objects of a rejected push would stay in the repository), no
//! connectivity check after indexing a pack and no fsck of incoming objects. `git receive-pack`
//! gives all of that — plus thin packs, atomic compare-and-swap ref updates, `receive.fsckObjects`
//! and sideband keepalives — for the price of a process per request.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod callback;
mod command;
mod error;
mod handler;
pub mod hook;
mod http;
mod pkt;
mod progress;
mod push;
mod relay;
mod repo;
mod service;
mod wire;

pub use error::{GitAccessError, GitError};
pub use handler::PushHandler;
pub use progress::ProgressSink;
pub use push::{Push, RefUpdate, ZERO_OID};
pub use service::{GitService, DEFAULT_MAX_PUSH_BYTES};
