//! What every dashboard handler works from: the control plane's state plus the dashboard's
//! own in-memory parts (the wrong-password limiter, one-shot notices, promotions in progress).

use crate::flash::Flash;
use crate::limiter::Limiter;
use doppel_control::outputs::LiveOutputs;
use doppel_control::state::AppState;
use std::sync::Arc;

/// Cheap to clone.
#[derive(Clone)]
pub struct Dashboard {
    pub(crate) app: AppState,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) flash: Arc<Flash>,
    /// Progress lines of promotions started from the dashboard, by promotion id, while they run.
    pub(crate) promotions: Arc<LiveOutputs>,
    /// `https://dashboard.<domain>[:port]`: the only origin forms may come from.
    pub(crate) origin: String,
}

impl Dashboard {
    pub fn new(app: AppState) -> Dashboard {
        let origin = app.urls().dashboard();
        Dashboard {
            app,
            limiter: Arc::default(),
            flash: Arc::default(),
            promotions: Arc::default(),
            origin,
        }
    }
}
