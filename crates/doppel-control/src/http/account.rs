//! `GET /account`: who the token belongs to.

use super::json;
use axum::{Extension, Json};
use doppel_store::User;
use serde_json::Value;

pub async fn show(Extension(user): Extension<User>) -> Json<Value> {
    Json(json::account(&user))
}
