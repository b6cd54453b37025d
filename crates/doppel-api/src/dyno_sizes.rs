//! `/dyno-sizes` and `/apps/{app}/available-dyno-sizes`: the sizes dynos can have.

use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use doppel_api_types::platform::DynoSize;
use doppel_control::logic::{dyno_sizes, Actor};
use doppel_control::state::AppState;

const FIELDS: &[Field<DynoSize>] = &[
    ("memory", |s| {
        SortKey::Num((s.doppel.memory_mb * 1024) as i64 + s.compute as i64)
    }),
    ("id", |s| SortKey::Text(s.id.clone())),
    ("name", |s| SortKey::Text(s.name.clone())),
];

/// `GET /dyno-sizes`.
pub async fn list(headers: HeaderMap) -> Page<DynoSize> {
    let items = dyno_sizes::list().iter().map(views::dyno_size).collect();
    paginate(items, &RangeSpec::from_headers(&headers), FIELDS)
}

/// `GET /dyno-sizes/{id or name}` (names in any case).
pub async fn show(Path(size): Path<String>) -> Result<Json<DynoSize>, ApiError> {
    Ok(Json(views::dyno_size(dyno_sizes::find(&size)?)))
}

/// `GET /apps/{app}/available-dyno-sizes`.
pub async fn for_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<DynoSize>, ApiError> {
    let sizes = dyno_sizes::for_env(&state, &actor, &app).await?;
    let items = sizes.iter().map(views::dyno_size).collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}
