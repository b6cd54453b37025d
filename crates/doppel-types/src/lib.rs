//! doppel's domain vocabulary: validated names, the two stages of an app, Procfiles and
//! process types, and the commands a dyno runs. Pure functions only: no I/O, no async.
//!
//! Every other crate speaks in these types; the wire formats (Heroku JSON, SQL rows, Docker
//! labels) are converted at the edges.

pub mod dyno;
pub mod hostname;
pub mod names;
pub mod procfile;
pub mod size;
pub mod stage;
pub mod token;

pub use dyno::{dyno_command, ImageKind, DYNO_LAUNCHER, WEB_PORT};
pub use hostname::{Hostname, HostnameError};
pub use names::{AppName, EnvName, NameError, DASHBOARD_NAME, RESERVED_NAMES};
pub use procfile::{
    merge_process_types, valid_process_type, ProcessTypes, Procfile, ProcfileError,
};
pub use size::{DynoSize, DEFAULT_DYNO_SIZE, DYNO_SIZES};
pub use stage::Stage;
pub use token::token_digest;
