//! `/apps/{app}/formation`: how many dynos of which size each process type runs. Quantities
//! come as numbers, strings or `+N`/`-N`; sizes as `size` (a name in any case) or
//! `dyno_size {id|name}`.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use doppel_api_types::formation::{Formation, FormationBatch, FormationUpdate, Quantity};
use doppel_control::logic::formation::{self, Update};
use doppel_control::logic::Actor;
use doppel_control::state::AppState;
use doppel_store::QuantityChange;

const FIELDS: &[Field<Formation>] = &[
    ("type", |f| SortKey::Text(f.process_type.clone())),
    ("id", |f| SortKey::Text(f.id.clone())),
];

/// `GET /apps/{app}/formation`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Formation>, ApiError> {
    let (env, processes) = formation::list(&state, &actor, &app).await?;
    let items = processes
        .iter()
        .map(|p| views::formation(p, &env))
        .collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

/// `GET /apps/{app}/formation/{type or id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, process)): Path<(String, String)>,
) -> Result<Json<Formation>, ApiError> {
    let (env, p) = formation::show(&state, &actor, &app, &process).await?;
    Ok(Json(views::formation(&p, &env)))
}

/// `PATCH /apps/{app}/formation {"updates": [{type, quantity?, size?|dyno_size?}]}`.
pub async fn update_batch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(batch): Body<FormationBatch>,
) -> Result<Json<Vec<Formation>>, ApiError> {
    let updates: Vec<Update> = batch
        .updates
        .iter()
        .map(|u| update_of(u, u.process_type.as_deref().unwrap_or_default()))
        .collect();
    let (env, changed) = formation::update(&state, &actor, &app, &updates).await?;
    Ok(Json(
        changed.iter().map(|p| views::formation(p, &env)).collect(),
    ))
}

/// `PATCH /apps/{app}/formation/{type or id} {quantity?, size?|dyno_size?}`.
pub async fn update_one(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, process)): Path<(String, String)>,
    Body(change): Body<FormationUpdate>,
) -> Result<Json<Formation>, ApiError> {
    let update = update_of(&change, &process);
    let (env, changed) = formation::update(&state, &actor, &app, &[update]).await?;
    let first = changed
        .first()
        .ok_or_else(|| ApiError::invalid("nothing was changed"))?;
    Ok(Json(views::formation(first, &env)))
}

fn update_of(u: &FormationUpdate, process_type: &str) -> Update {
    Update {
        process_type: process_type.to_string(),
        quantity: u.quantity.map(|q| match q {
            Quantity::Absolute(n) => QuantityChange::Set(n),
            Quantity::Relative(d) => QuantityChange::Add(d),
        }),
        size: u.size_key().map(str::to_string),
    }
}
