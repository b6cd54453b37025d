//! The one API error type, answered as Heroku's `{"id", "message"}` body with Heroku's status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use doppel_api_types::ErrorBody;
use doppel_control::logic::LogicError;

/// An API failure with its Heroku error id and a message saying what to do.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub id: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            id,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Invalid credentials provided. Use an API token from `doppel login` (or <data-dir>/admin-token).",
        )
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_params", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<LogicError> for ApiError {
    fn from(err: LogicError) -> ApiError {
        let message = err.to_string();
        match err {
            LogicError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            LogicError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            LogicError::Invalid(_) | LogicError::NameTaken(_) => ApiError::invalid(message),
            LogicError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            LogicError::Failed(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "release_failed", message)
            }
            LogicError::Internal { context, source } => {
                // Logged here, where it is handled; the client gets no internals.
                tracing::error!(error = %source, "could not {context}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_server_error",
                    message,
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            id: self.id.to_string(),
            message: self.message,
            url: None,
        };
        (self.status, Json(body)).into_response()
    }
}
