//! Where the router keeps its files in the data directory: its folder, the control socket, the
//! last applied table and the pid file. A leaf: the process code and the control client both
//! find the socket here.

use std::path::{Path, PathBuf};

/// `<data-dir>/router`
pub fn router_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("router")
}

/// `<data-dir>/router/control.sock`
pub fn control_socket(data_dir: &Path) -> PathBuf {
    router_dir(data_dir).join("control.sock")
}

/// `<data-dir>/router/state.json`: the last table applied.
pub fn state_file(data_dir: &Path) -> PathBuf {
    router_dir(data_dir).join("state.json")
}

/// `<data-dir>/router/router.pid`: the process serving now.
pub fn pid_file(data_dir: &Path) -> PathBuf {
    router_dir(data_dir).join("router.pid")
}
