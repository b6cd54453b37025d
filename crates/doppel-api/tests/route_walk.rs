//! Every API endpoint rejects unauthenticated calls. The routes are read from this crate's
//! source (every `.route("<path>", <method>(…)…)` in `src/`), so a route added anywhere in
//! the crate is walked without anyone listing it here; each is then called with the admin's
//! token to prove the router really serves it (the walk cannot drift from the router).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::api;
use http_body_util::BodyExt;
use std::path::Path;
use tower::ServiceExt;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The source file holding the only routes served without a token.
const CAPABILITY_ROUTES: [&str; 2] = ["streams.rs", "log_sessions.rs"];

/// One route as written in the source: its path and the HTTP methods it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceRoute {
    file: String,
    path: String,
    methods: Vec<String>,
}

/// The text of a balanced `( … )` starting at `open` (which must be `(`), without the parens.
fn balanced(text: &str, open: usize) -> Option<&str> {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The method routers named in a `.route(...)` call's second argument: `get(h)`,
/// `.post(h)`, and `on(MethodFilter::X, h)` / `any(h)`, which this walk refuses to guess.
fn methods_of(handler: &str) -> Vec<String> {
    let bytes = handler.as_bytes();
    let mut out = Vec::new();
    for m in METHODS {
        let mut from = 0;
        while let Some(at) = handler[from..].find(&format!("{m}(")) {
            let start = from + at;
            let before = start.checked_sub(1).map(|i| bytes[i]);
            // `get(` at the start or after `.`/whitespace, not `foo_get(` or `x::get(`.
            if before.is_none_or(|b| b == b'.' || b.is_ascii_whitespace()) {
                out.push(m.to_uppercase());
            }
            from = start + m.len() + 1;
        }
    }
    for unsupported in ["any(", "on("] {
        assert!(
            !handler.contains(unsupported),
            "route handler {handler:?} uses {unsupported}…): give it explicit methods so the walk can call them"
        );
    }
    out
}

/// Every `.route(...)` in the crate's `src/` directory.
fn source_routes() -> Vec<SourceRoute> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<_> = std::fs::read_dir(&src)
        .expect("src/ is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut routes = Vec::new();
    for file in files {
        // The exceptions, on purpose: output streams and log sessions are capability URLs (the
        // unguessable path is the credential, as Heroku's); `build_output.rs` and `dynos.rs`
        // prove a wrong one is 404.
        if file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| CAPABILITY_ROUTES.contains(&n))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source file is readable");
        let mut from = 0;
        while let Some(at) = text[from..].find(".route(") {
            let open = from + at + ".route".len();
            let args = balanced(&text, open).expect("balanced .route( … )");
            from = open + args.len();
            let args = args.trim();
            let Some(rest) = args.strip_prefix('"') else {
                panic!(
                    "{}: .route( with a path that is not a literal: {args}",
                    file.display()
                );
            };
            let (path, handler) = rest.split_once('"').expect("closing quote of the path");
            let methods = methods_of(handler);
            assert!(
                !methods.is_empty(),
                "{}: route {path} has no method this walk understands",
                file.display()
            );
            routes.push(SourceRoute {
                file: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                path: path.to_string(),
                methods,
            });
        }
    }
    routes
}

/// `/apps/{app}/domains/{domain}` → `/apps/x/domains/x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

async fn send(
    router: &axum::Router,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> anyhow::Result<(StatusCode, String)> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("Accept", "application/vnd.heroku+json; version=3")
        .header("Content-Type", "application/json");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let resp = router.clone().oneshot(req.body(Body::from("{}"))?).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[test]
fn the_source_scan_reads_routes_and_their_methods() {
    assert_eq!(
        methods_of(" get(apps::show).patch(apps::update).delete(apps::destroy)"),
        ["GET", "PATCH", "DELETE"]
    );
    assert_eq!(
        methods_of("\n get(account::list_authorizations).post(account::create_authorization),\n"),
        ["GET", "POST"]
    );
    assert_eq!(methods_of(" post(x::target_get)"), ["POST"]);
    let routes = source_routes();
    assert!(
        routes
            .iter()
            .any(|r| r.path == "/apps/{app}" && r.methods.contains(&"DELETE".to_string())),
        "{routes:?}"
    );
    assert!(routes.iter().all(|r| r.path.starts_with('/')), "{routes:?}");
}

#[tokio::test]
async fn every_route_rejects_calls_without_a_valid_token() -> anyhow::Result<()> {
    let api = api().await?;
    let routes = source_routes();
    assert!(routes.len() >= 20, "only {} routes found", routes.len());
    let bearer = format!("Bearer {}", api.token);
    let mut walked = 0;
    for route in &routes {
        let path = concrete(&route.path);
        for method in &route.methods {
            let what = format!("{method} {} ({})", route.path, route.file);
            for auth in [None, Some("Bearer dpl_not_a_token"), Some("Basic Og==")] {
                let (status, body) = send(&api.router, method, &path, auth).await?;
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{what} with {auth:?}: {body}"
                );
                let json: serde_json::Value = serde_json::from_str(&body)?;
                assert_eq!(json["id"], "unauthorized", "{what}: {body}");
            }
            // The same call with a token reaches a handler: not the router's empty 404, not
            // 405. (Handlers answer 404 with a JSON body for the made-up `x` names.)
            let (status, body) = send(&api.router, method, &path, Some(&bearer)).await?;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}: not served");
            assert!(
                status != StatusCode::NOT_FOUND || body.contains("\"id\""),
                "{what}: the router does not serve it ({status}, {body:?})"
            );
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}: token refused");
            walked += 1;
        }
    }
    // Paths that are not routes are refused too, before anything else is looked at.
    let (status, _) = send(&api.router, "GET", "/no/such/route", None).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(walked >= routes.len());
    Ok(())
}
