//! The axum routes of the git endpoint.

mod access;
mod body;
mod info_refs;
mod pump;
mod rpc;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::GitService;

impl GitService {
    /// `GET /{repo}/info/refs?service=…`, `POST /{repo}/git-receive-pack`,
    /// `POST /{repo}/git-upload-pack`, where `{repo}` is `<name>.git`. Mount with `Router::merge`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/{repo}/info/refs", get(info_refs::info_refs))
            .route("/{repo}/git-receive-pack", post(rpc::receive_pack))
            .route("/{repo}/git-upload-pack", post(rpc::upload_pack))
            .with_state(self)
    }
}

/// `<name>.git` → `<name>` when the name is valid.
pub(crate) fn parse_repo_segment(segment: &str) -> Option<&str> {
    let name = segment.strip_suffix(".git")?;
    crate::repo::validate_name(name).ok().map(|()| name)
}

/// The two services git speaks over smart HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    ReceivePack,
    UploadPack,
}

impl Service {
    pub(crate) fn parse(s: &str) -> Option<Service> {
        match s {
            "git-receive-pack" => Some(Service::ReceivePack),
            "git-upload-pack" => Some(Service::UploadPack),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Service::ReceivePack => "git-receive-pack",
            Service::UploadPack => "git-upload-pack",
        }
    }

    /// The git subcommand.
    pub(crate) fn subcommand(self) -> &'static str {
        match self {
            Service::ReceivePack => "receive-pack",
            Service::UploadPack => "upload-pack",
        }
    }

    pub(crate) fn is_write(self) -> bool {
        self == Service::ReceivePack
    }
}

/// The `Git-Protocol` header as `GIT_PROTOCOL`, for upload-pack only, if it looks sane.
pub(crate) fn git_protocol(headers: &http::HeaderMap) -> Option<String> {
    let v = headers.get("git-protocol")?.to_str().ok()?;
    let sane = v.len() <= 256
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b':' | b'.' | b'_' | b'-'));
    sane.then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(parse_repo_segment("app.git"), Some("app"));
        assert_eq!(parse_repo_segment("app"), None);
        assert_eq!(parse_repo_segment(".git"), None);
        assert_eq!(parse_repo_segment("a..b.git"), None);
    }
}
