//! `/apps/{app}/domains`: an environment's platform host name (kind `heroku`) and its custom
//! domains (kind `custom`, with the CNAME target a user's DNS must point at).

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::domains::{Domain, DomainCreate, DomainUpdate};
use doppel_control::logic::{certs, domains, Actor};
use doppel_control::state::AppState;

const FIELDS: &[Field<Domain>] = &[
    ("hostname", |d| SortKey::Text(d.hostname.clone())),
    ("id", |d| SortKey::Text(d.id.clone())),
];

/// `GET /apps/{app}/domains`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Domain>, ApiError> {
    let (env, all) = domains::list(&state, &actor, &app).await?;
    let items = all.iter().map(|d| views::domain(d, &env)).collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

/// `GET /apps/{app}/domains/{id|hostname}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, domain)): Path<(String, String)>,
) -> Result<Json<Domain>, ApiError> {
    let (env, found) = domains::show(&state, &actor, &app, &domain).await?;
    Ok(Json(views::domain(&found, &env)))
}

/// `POST /apps/{app}/domains {hostname, sni_endpoint}` → 201. `sni_endpoint` is null or
/// names one of the environment's SNI endpoints (the certificate served is the one whose names
/// cover the host name, whichever is named).
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<DomainCreate>,
) -> Result<(StatusCode, Json<Domain>), ApiError> {
    match body.sni_endpoint.as_ref() {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(name)) => {
            if certs::show(&state, &actor, &app, name).await.is_err() {
                return Err(ApiError::invalid(format!(
                    "{app} has no SNI endpoint {name}; add it with certs:add, or send \"sni_endpoint\": null."
                )));
            }
        }
        Some(_) => return Err(ApiError::invalid("sni_endpoint must be null or a name.")),
    }
    let (env, added) = domains::add(&state, &actor, &app, &body.hostname).await?;
    Ok((StatusCode::CREATED, Json(views::domain(&added, &env))))
}

/// `DELETE /apps/{app}/domains/{id|hostname}`: the removed domain.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, domain)): Path<(String, String)>,
) -> Result<Json<Domain>, ApiError> {
    let (env, removed) = domains::remove(&state, &actor, &app, &domain).await?;
    Ok(Json(views::domain(&removed, &env)))
}

/// `PATCH /apps/{app}/domains/{id|hostname} {sni_endpoint}`: the domain; `sni_endpoint` must
/// name one of the environment's SNI endpoints that covers it (or be null).
pub async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, domain)): Path<(String, String)>,
    Body(body): Body<DomainUpdate>,
) -> Result<Json<Domain>, ApiError> {
    let (env, found) =
        domains::associate(&state, &actor, &app, &domain, body.sni_endpoint.as_deref()).await?;
    Ok(Json(views::domain(&found, &env)))
}
