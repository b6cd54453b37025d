//! `PUT /users/{account}/password` (a doppel extension): sets a user's dashboard password,
//! an admin's for anyone, anyone's for themselves; without a password in the body the
//! server generates one and answers it once (`doppel users:password EMAIL`).

use super::body::Body;
use super::error::ApiError;
use super::views;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use doppel_api_types::passwords::{PasswordSet, PasswordSetResult};
use doppel_control::logic::{passwords, Actor};
use doppel_control::state::AppState;

/// `PUT /users/{account}/password {password?}`.
pub async fn set(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(account): Path<String>,
    Body(body): Body<PasswordSet>,
) -> Result<Json<PasswordSetResult>, ApiError> {
    let (user, generated) =
        passwords::set(&state, &actor, &account, body.password.as_deref()).await?;
    Ok(Json(PasswordSetResult {
        user: views::account(&user),
        password: generated,
    }))
}
