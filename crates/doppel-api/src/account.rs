//! `/account`, `/account/rate-limits`, `/users` (admins create users), and
//! `/oauth/authorizations` (a user's API tokens).

use super::auth::RATE_LIMIT_REMAINING;
use super::body::Body;
use super::error::ApiError;
use super::views;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use doppel_api_types::account::{
    Account, Authorization, AuthorizationCreate, RateLimits, UserCreate, UserCreated,
};
use doppel_control::logic::{account, Actor};
use doppel_control::state::AppState;

pub async fn show(Extension(actor): Extension<Actor>) -> Json<Account> {
    Json(views::account(&actor.user))
}

pub async fn rate_limits() -> Json<RateLimits> {
    Json(RateLimits {
        remaining: RATE_LIMIT_REMAINING,
    })
}

/// `GET /users/{id|email|~}`.
pub async fn user(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Account>, ApiError> {
    let user = account::user(&state, &actor, &id).await?;
    Ok(Json(views::account(&user)))
}

/// `GET /users` (admins).
pub async fn list_users(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<Vec<Account>>, ApiError> {
    let users = account::list_users(&state, &actor).await?;
    Ok(Json(users.iter().map(views::account).collect()))
}

/// `POST /users {email, admin?}` (admins): the user, its first token and its first dashboard
/// password, shown once.
pub async fn create_user(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<UserCreate>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    let created = account::create_user(&state, &actor, &body.email, body.admin).await?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user: views::account(&created.user),
            token: created.token,
            password: Some(created.password),
        }),
    ))
}

/// `GET /oauth/authorizations`: the caller's tokens (never their secrets).
pub async fn list_authorizations(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<Vec<Authorization>>, ApiError> {
    let tokens = account::tokens(&state, &actor).await?;
    Ok(Json(
        tokens
            .iter()
            .map(|t| views::authorization(t, &actor.user, None))
            .collect(),
    ))
}

/// `POST /oauth/authorizations {description?, scope?, expires_in?}`: a new token, its secret
/// shown once (tokens do not expire; a scope other than `global` is refused).
pub async fn create_authorization(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<AuthorizationCreate>,
) -> Result<(StatusCode, Json<Authorization>), ApiError> {
    let request = account::TokenRequest {
        description: body.description,
        scope: body.scope,
        expires_in: body
            .expires_in
            .filter(|v| !v.is_null())
            .map(|v| v.to_string()),
    };
    let (info, secret) = account::create_token(&state, &actor, &request).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::authorization(&info, &actor.user, Some(secret))),
    ))
}

/// `GET /oauth/authorizations/{id}`.
pub async fn show_authorization(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Authorization>, ApiError> {
    let info = account::token(&state, &actor, &id).await?;
    Ok(Json(views::authorization(&info, &actor.user, None)))
}

/// `DELETE /oauth/authorizations/{id}`: revokes the token at once (API, git and staging).
pub async fn revoke_authorization(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Authorization>, ApiError> {
    let info = account::revoke_token(&state, &actor, &id).await?;
    Ok(Json(views::authorization(&info, &actor.user, None)))
}
