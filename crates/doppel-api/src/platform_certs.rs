//! `GET /platform-certs` (a doppel extension, admins only): where the platform's own host
//! names get their certificates and each name's state (`doppel admin:certs`).

use super::error::ApiError;
use axum::extract::State;
use axum::{Extension, Json};
use doppel_api_types::platform_certs::{PlatformCert, PlatformCerts};
use doppel_control::logic::{platform_certs, Actor};
use doppel_control::state::AppState;

/// `GET /platform-certs`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<PlatformCerts>, ApiError> {
    let (source, names) = platform_certs::list(&state, &actor).await?;
    Ok(Json(PlatformCerts {
        source: source.as_str().to_string(),
        certificates: names
            .into_iter()
            .map(|n| PlatformCert {
                hostname: n.hostname,
                status: n.status,
                status_reason: n.reason,
                expires_at: n.expires_at,
                issued_at: n.issued_at,
                next_attempt_at: n.next_attempt_at,
            })
            .collect(),
    }))
}
