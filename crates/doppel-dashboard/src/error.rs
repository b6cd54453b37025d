//! Pages for what went wrong, with the logic layer's words (which never hold a secret).
//! Internal failures are logged here, where they are handled, and shown without detail.

use crate::layout;
use axum::response::{IntoResponse, Response};
use doppel_control::logic::LogicError;
use http::StatusCode;
use maud::html;

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Logic(#[from] LogicError),
    /// A form from another site, or without a valid token.
    #[error("This form came from another site, or the page it was on expired. Reload the page and try again.")]
    CrossSite,
    #[error("That form is too large.")]
    TooLarge,
    #[error("There is no such page.")]
    NotFound,
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::Logic(e) => match e {
                LogicError::NotFound { .. } => StatusCode::NOT_FOUND,
                LogicError::Forbidden(_) => StatusCode::FORBIDDEN,
                LogicError::Invalid(_) | LogicError::NameTaken(_) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                LogicError::Conflict(_) => StatusCode::CONFLICT,
                LogicError::Failed(_) => StatusCode::UNPROCESSABLE_ENTITY,
                LogicError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            },
            PageError::CrossSite => StatusCode::FORBIDDEN,
            PageError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PageError::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let PageError::Logic(LogicError::Internal { context, source }) = &self {
            tracing::error!(error = %source, context, "dashboard page failed");
        }
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
            _ => "That did not work",
        };
        let body = html! {
            h1 { (title) }
            p.error-text { (self.to_string()) }
            p { a href="/" { "Back to your apps" } }
        };
        (status, layout::bare(title, body)).into_response()
    }
}
