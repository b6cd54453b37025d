//! Request bodies: JSON read into `doppel-api-types` structs, with Heroku-style errors (400
//! for text that is not JSON, 422 for JSON of the wrong shape) instead of axum's plain text.

use super::error::ApiError;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body of type `T`; an empty body is `T::default()`.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("The request body could not be read: {e}"))
            })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::bad_request(
                "The request body is larger than 1 MiB.",
            ));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(T::default()));
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ApiError::bad_request(format!("The request body is not valid JSON: {e}"))
            } else {
                ApiError::invalid(format!("The request body has the wrong shape: {e}"))
            }
        })
    }
}
