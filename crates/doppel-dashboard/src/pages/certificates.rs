//! Platform certificates, for admins: where the certificates of the platform's own names
//! come from (`--platform-certs`) and each name's status, expiry and why an order failed
//! (`logic::platform_certs`, as `doppel admin:certs`).

use super::notice;
use crate::error::PageError;
use crate::layout::{self, when};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::State;
use doppel_control::acme::PlatformCerts;
use doppel_control::logic::platform_certs::{self, NameStatus};
use maud::{html, Markup};

/// What the certificates of this installation's platform names are, in a sentence.
fn source_text(source: PlatformCerts) -> &'static str {
    match source {
        PlatformCerts::Ca => {
            "From doppel's own CA (--platform-certs ca): browsers and git trust them only once \
             <data-dir>/ca.pem is installed. A public domain can use --platform-certs acme, or \
             files with your own certificate for the domain and its wildcard."
        }
        PlatformCerts::Acme => {
            "From ACME (--platform-certs acme): one certificate per name, renewed before it \
             expires; until a name's is issued, doppel's CA serves it."
        }
        PlatformCerts::Files => {
            "From your certificate files (--platform-certs files), read again at least every \
             30 seconds: renewing them in time is yours."
        }
    }
}

/// A failure's reason with the next attempt, if any.
fn reason(n: &NameStatus) -> String {
    match (&n.reason, &n.next_attempt_at) {
        (Some(r), Some(next)) => format!("{r} (next try {})", when(next)),
        (Some(r), None) => r.clone(),
        (None, _) => String::new(),
    }
}

/// `GET /certificates` (admins).
pub async fn show(State(dash): State<Dashboard>, viewer: Viewer) -> Result<Markup, PageError> {
    let (source, names) = platform_certs::list(&dash.app, &viewer.actor()).await?;
    let body = html! {
        h1 { "Platform certificates" }
        p { (source_text(source)) }
        table.certs {
            thead { tr { th { "Name" } th { "Status" } th { "Expires" } th { "Reason" } } }
            tbody {
                @for n in &names {
                    tr {
                        th scope="row" { (n.hostname) }
                        td { (n.status) }
                        td { @if let Some(at) = &n.expires_at { (when(at)) } }
                        td { (reason(n)) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        "Platform certificates",
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}
