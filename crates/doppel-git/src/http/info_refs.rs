//! `GET /{repo}/info/refs?service=…`: the smart-HTTP ref advertisement.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, StatusCode, Uri};

use super::access::{authorize, internal, not_a_repo, plain};
use super::{git_protocol, parse_repo_segment, Service};
use crate::command::{git_bare, run};
use crate::pkt::service_header;
use crate::GitService;

pub(crate) async fn info_refs(
    State(svc): State<Arc<GitService>>,
    Path(segment): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(repo) = parse_repo_segment(&segment) else {
        return not_a_repo();
    };
    let service = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("service="))
        .and_then(Service::parse);
    let Some(service) = service else {
        return plain(
            StatusCode::FORBIDDEN,
            "doppel speaks only git's smart HTTP protocol; use a git newer than 1.6.6.",
        );
    };
    if let Err(resp) = authorize(&svc, repo, &headers, service.is_write()).await {
        return resp;
    }
    let path = match svc.open_repo(repo).await {
        Ok(p) => p,
        Err(e) => return internal(repo, "opening repository", &e),
    };
    let mut cmd = git_bare();
    cmd.args([service.subcommand(), "--stateless-rpc", "--advertise-refs"])
        .arg(&path);
    if service == Service::UploadPack {
        if let Some(proto) = git_protocol(&headers) {
            cmd.env("GIT_PROTOCOL", proto);
        }
    }
    let refs = match run(cmd, service.subcommand()).await {
        Ok(out) => out,
        Err(e) => return internal(repo, "advertising refs", &e),
    };
    let mut body = service_header(service.name());
    body.extend_from_slice(&refs);
    let content_type = format!("application/x-{}-advertisement", service.name());
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        body,
    )
        .into_response()
}
