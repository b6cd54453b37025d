//! `/apps/{app}/sni-endpoints` (uploaded certificates) and `/apps/{app}/acm` (ACME on, off,
//! refresh): thin handlers over `logic::certs` and `logic::acm`.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::apps::App;
use doppel_api_types::certs::{SniEndpoint, SniEndpointBody, SslCert};
use doppel_api_types::NamedRef;
use doppel_control::logic::certs::{self, rfc3339, SniView};
use doppel_control::logic::{acm, Actor};
use doppel_control::state::AppState;
use doppel_store::Environment;

const FIELDS: &[Field<SniEndpoint>] = &[
    ("id", |e| SortKey::Text(e.id.clone())),
    ("name", |e| SortKey::Text(e.name.clone())),
];

/// An SNI endpoint as Heroku's object (never the key).
fn view(e: &SniView, env: &Environment) -> SniEndpoint {
    SniEndpoint {
        id: e.id.clone(),
        name: e.name.clone(),
        display_name: None,
        certificate_chain: e.certificate_chain.clone(),
        domains: e.domains.iter().map(|(id, _)| id.clone()).collect(),
        app: NamedRef {
            id: env.id.clone(),
            name: env.name.clone(),
        },
        ssl_cert: SslCert {
            id: e.id.clone(),
            ca_signed: !e.cert.self_signed,
            self_signed: e.cert.self_signed,
            cert_domains: e.cert.names.clone(),
            starts_at: rfc3339(e.cert.not_before),
            expires_at: rfc3339(e.cert.not_after),
            issuer: e.cert.issuer.clone(),
            subject: e.cert.subject.clone(),
        },
        created_at: e.created_at.clone(),
        updated_at: e.updated_at.clone(),
    }
}

/// `GET /apps/{app}/sni-endpoints`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<SniEndpoint>, ApiError> {
    let (env, all) = certs::list(&state, &actor, &app).await?;
    let items = all.iter().map(|e| view(e, &env)).collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

/// `GET /apps/{app}/sni-endpoints/{id|name}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, id)): Path<(String, String)>,
) -> Result<Json<SniEndpoint>, ApiError> {
    let (env, found) = certs::show(&state, &actor, &app, &id).await?;
    Ok(Json(view(&found, &env)))
}

/// `POST /apps/{app}/sni-endpoints {certificate_chain, private_key}` → 201.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<SniEndpointBody>,
) -> Result<(StatusCode, Json<SniEndpoint>), ApiError> {
    let (env, added) = certs::add(
        &state,
        &actor,
        &app,
        &body.certificate_chain,
        &body.private_key,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&added, &env))))
}

/// `PATCH /apps/{app}/sni-endpoints/{id|name} {certificate_chain, private_key}`.
pub async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, id)): Path<(String, String)>,
    Body(body): Body<SniEndpointBody>,
) -> Result<Json<SniEndpoint>, ApiError> {
    let (env, updated) = certs::update(
        &state,
        &actor,
        &app,
        &id,
        &body.certificate_chain,
        &body.private_key,
    )
    .await?;
    Ok(Json(view(&updated, &env)))
}

/// `DELETE /apps/{app}/sni-endpoints/{id|name}`: the removed endpoint.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, id)): Path<(String, String)>,
) -> Result<Json<SniEndpoint>, ApiError> {
    let (env, removed) = certs::remove(&state, &actor, &app, &id).await?;
    Ok(Json(view(&removed, &env)))
}

/// `POST /apps/{app}/acm`: ACM on; the app.
pub async fn acm_enable(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<App>, ApiError> {
    let view = acm::set(&state, &actor, &app, true).await?;
    Ok(Json(views::app(&view, state.urls())))
}

/// `DELETE /apps/{app}/acm`: ACM off; the app.
pub async fn acm_disable(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<App>, ApiError> {
    let view = acm::set(&state, &actor, &app, false).await?;
    Ok(Json(views::app(&view, state.urls())))
}

/// `PATCH /apps/{app}/acm`: a pass of the ACM task now; the app.
pub async fn acm_refresh(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<App>, ApiError> {
    let view = acm::refresh(&state, &actor, &app).await?;
    Ok(Json(views::app(&view, state.urls())))
}
