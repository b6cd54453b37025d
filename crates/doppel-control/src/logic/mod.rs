//! The logic layer: one file per resource, between the thin HTTP handlers (`doppel-api`) and
//! the store. Each function takes the [`Actor`] it acts for and checks access first
//! ([`access`]), validates input (bad input changes nothing), then calls the store or a
//! workflow. It knows nothing of HTTP or JSON; errors are [`LogicError`].

pub mod access;
pub mod access_password;
pub mod account;
pub mod acm;
pub mod addon_attachments;
pub mod addon_sessions;
pub mod addons;
pub mod allowed_ips;
pub mod apps;
pub mod audit;
pub mod backups;
pub mod builds;
pub mod certs;
pub mod collaborators;
pub mod config_vars;
pub mod domains;
pub mod dyno_sizes;
pub mod dynos;
mod error;
pub mod features;
pub mod formation;
pub mod logs;
pub mod maintenance;
pub mod overview;
pub mod parity;
pub mod passwords;
pub mod pipelines;
pub mod platform;
pub mod platform_certs;
pub mod promotions;
pub mod releases;
pub mod stacks;

pub use error::LogicError;

use doppel_store::User;

/// Who is acting, from where and through which client: what the audit log records.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    /// `api`, `git`, `doppel-cli`, `heroku-cli`, `heroku3`…
    pub client: String,
    /// The client's address, when known.
    pub address: Option<std::net::IpAddr>,
}

impl Actor {
    /// An actor calling through the API.
    pub fn api(user: User) -> Actor {
        Actor {
            user,
            client: "api".to_string(),
            address: None,
        }
    }
}
