//! doppel-api-types: the Heroku Platform API's request and response bodies as doppel serves
//! them, shared by the server (which serializes them) and the CLI (which reads them), so a
//! renamed key is a compile error on both sides rather than a silent break.
//!
//! Every response type carries every key of Heroku's schema (`null` when doppel has no
//! value), plus, where doppel knows more than Heroku has words for, a `doppel` object.
//! Request types accept what the official Heroku CLI and `heroku3` send (unknown keys are
//! ignored, as Heroku does). No I/O here.
//!
//! # Layout
//! One module per resource; [`common`] holds the small references (`{id, name}`) they share.

pub mod access_password;
pub mod account;
pub mod addons;
pub mod allowed_ips;
pub mod apps;
pub mod audit;
pub mod builds;
pub mod certs;
pub mod collaborators;
pub mod common;
pub mod config_vars;
pub mod domains;
pub mod dynos;
pub mod error;
pub mod formation;
pub mod logs;
pub mod parity;
pub mod passwords;
pub mod pipelines;
pub mod platform;
pub mod platform_certs;
pub mod releases;

pub use common::{NamedRef, UserRef};
pub use error::ErrorBody;

/// The media type of Heroku API v3; `Accept` may add a variant (`version=3.sdk`).
pub const MEDIA_TYPE: &str = "application/vnd.heroku+json; version=3";
