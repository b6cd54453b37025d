//! The error body every failing API call answers with.

use serde::{Deserialize, Serialize};

/// `{"id": "not_found", "message": "Couldn't find that app."}`: Heroku's error shape. The
/// official CLI prints `message`, then the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub id: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
