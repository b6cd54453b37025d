//! The person a page is for: the signed-in user, their session and the token their forms
//! carry. The session guard finds it for every request; pages and the page shell read it.

use doppel_control::logic::Actor;
use doppel_store::{Session, User};
use std::net::IpAddr;

/// The person a page is for: signed in, with the token their forms carry.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub session: Session,
    /// The `_csrf` value of this session's forms.
    pub csrf: String,
    pub address: Option<IpAddr>,
    /// The page's script asked (header [`REFRESH_HEADER`]) to refresh what it shows: a
    /// one-shot notice is left for the page the browser goes to next.
    pub refresh: bool,
}

/// The header the page's script sends when it refreshes a page in place.
pub const REFRESH_HEADER: &str = "x-doppel-refresh";

impl Viewer {
    /// The actor the logic layer acts for: this user, through the dashboard.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.clone(),
            client: "dashboard".to_string(),
            address: self.address,
        }
    }
}
