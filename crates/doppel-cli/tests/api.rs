//! Drives `run_in` and `Client` against a local axum mock of doppel's Heroku-style API.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use doppel_cli::apps::{CreateArgs, DestroyArgs, InfoArgs};
use doppel_cli::auth::{JsonArgs, LoginArgs};
use doppel_cli::releases::ReleasesArgs;
use doppel_cli::{run_in, CliError, Client, Command, Context, Env};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TOKEN: &str = "good-token-123";

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    accept: Option<String>,
    user_agent: Option<String>,
    range: Option<String>,
}

#[derive(Default)]
struct Mock {
    seen: Mutex<Vec<Seen>>,
    apps: Mutex<Vec<String>>,
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn env_obj(host: &str, app: &str, stage: &str) -> Value {
    let name = if stage == "staging" {
        format!("{app}-staging")
    } else {
        app.to_string()
    };
    json!({
        "id": format!("00000000-0000-0000-0000-{:012}", name.len()),
        "name": name,
        "web_url": format!("https://{name}.localhost:8443/"),
        "git_url": format!("{host}/{name}.git"),
        "created_at": "2026-01-01T12:00:00Z",
        "owner": {"id": "u1", "email": "admin@example.com"},
        "generation": {"id": "g", "name": "cedar"},
        "doppel": {"app": app, "stage": stage},
    })
}

fn err(status: StatusCode, id: &str, message: &str) -> Response {
    (status, Json(json!({"id": id, "message": message}))).into_response()
}

async fn handler(
    State(mock): State<Arc<Mock>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = "https://localhost:8443";
    let path = uri.path().to_string();
    if let Ok(mut seen) = mock.seen.lock() {
        seen.push(Seen {
            method: method.to_string(),
            path: path.clone(),
            authorization: header(&headers, "authorization"),
            accept: header(&headers, "accept"),
            user_agent: header(&headers, "user-agent"),
            range: header(&headers, "range"),
        });
    }
    if header(&headers, "authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Invalid credentials provided.",
        );
    }
    if header(&headers, "accept").as_deref() != Some("application/vnd.heroku+json; version=3") {
        return err(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "Wrong Accept header",
        );
    }
    let Ok(mut apps) = mock.apps.lock() else {
        return err(StatusCode::INTERNAL_SERVER_ERROR, "internal", "poisoned");
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["account"]) => {
            Json(json!({"id": "u1", "email": "admin@example.com"})).into_response()
        }
        ("POST", ["apps"]) => {
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let Some(name) = req.get("name").and_then(Value::as_str) else {
                return err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "Name is required",
                );
            };
            if name == "taken" || apps.iter().any(|a| a == name) {
                return err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "Name is already taken",
                );
            }
            apps.push(name.to_string());
            let mut prod = env_obj(host, name, "production");
            prod["doppel"]["environments"] = json!([
                {"name": name, "stage": "production", "web_url": prod["web_url"], "git_url": prod["git_url"]},
                {"name": format!("{name}-staging"), "stage": "staging",
                 "web_url": format!("https://{name}-staging.localhost:8443/"),
                 "git_url": format!("{host}/{name}-staging.git")},
            ]);
            (StatusCode::CREATED, Json(prod)).into_response()
        }
        ("GET", ["apps"]) => {
            let mut list = Vec::new();
            for a in apps.iter() {
                list.push(env_obj(host, a, "production"));
                list.push(env_obj(host, a, "staging"));
            }
            Json(Value::Array(list)).into_response()
        }
        ("GET", ["apps", env]) | ("GET", ["apps", env, "releases"]) => {
            let (app, stage) = match env.strip_suffix("-staging") {
                Some(app) => (app, "staging"),
                None => (*env, "production"),
            };
            if !apps.iter().any(|a| a == app) {
                return err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that app.",
                );
            }
            if segments.len() == 3 {
                Json(json!([
                    {"id": "r1", "version": 1, "description": "Initial release", "status": "succeeded",
                     "current": false, "created_at": "2026-01-01T12:00:00Z", "user": {"id": "u1", "email": "admin@example.com"}},
                    {"id": "r2", "version": 2, "description": "Deploy 1a2b3c4", "status": "succeeded",
                     "current": true, "created_at": "2026-01-02T12:00:00Z", "user": {"id": "u1", "email": "admin@example.com"}},
                ]))
                .into_response()
            } else {
                Json(env_obj(host, app, stage)).into_response()
            }
        }
        ("DELETE", ["apps", name]) => {
            let before = apps.len();
            apps.retain(|a| a != name);
            if apps.len() == before {
                return err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that app.",
                );
            }
            Json(env_obj(host, name, "production")).into_response()
        }
        _ => err(StatusCode::NOT_FOUND, "not_found", "Not found"),
    }
}

async fn start_mock() -> Result<(String, Arc<Mock>), std::io::Error> {
    let mock = Arc::new(Mock::default());
    let app = axum::Router::new()
        .fallback(handler)
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}"), mock))
}

fn env_for(host: &str, token: &str) -> Env {
    Env::from_pairs([("DOPPEL_HOST", host), ("DOPPEL_API_KEY", token)])
}

#[tokio::test]
async fn create_list_info_releases_destroy() -> TestResult {
    let (host, mock) = start_mock().await?;
    let (mut ctx, out) = Context::captured(env_for(&host, TOKEN), None);

    let create = |name: &str| {
        Command::AppsCreate(CreateArgs {
            name: name.into(),
            json: false,
        })
    };
    run_in(&mut ctx, create("myapp")).await?;
    assert_eq!(out.stderr(), "Creating myapp... done\n");
    let stdout = out.stdout();
    assert!(stdout.contains(
        "  staging     myapp-staging  https://myapp-staging.localhost:8443/  (private)  git: https://localhost:8443/myapp-staging.git\n"
    ), "{stdout}");
    assert!(stdout.contains(
        "  production  myapp          https://myapp.localhost:8443/          (public)   git: https://localhost:8443/myapp.git\n"
    ), "{stdout}");
    assert!(
        stdout.ends_with("Deploy with: git push https://localhost:8443/myapp-staging.git main\n"),
        "{stdout}"
    );

    // A taken name surfaces the server's message.
    let e = run_in(&mut ctx, create("myapp"))
        .await
        .err()
        .ok_or("expected 422")?;
    assert!(
        matches!(&e, CliError::Api { status: 422, id, .. } if id == "invalid_params"),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "Name is already taken");
    assert!(
        out.stderr().ends_with("Creating myapp... !\n"),
        "{}",
        out.stderr()
    );

    run_in(&mut ctx, create("blog")).await?;
    let (mut ctx, out) = Context::captured(env_for(&host, TOKEN), None);
    run_in(&mut ctx, Command::Apps(JsonArgs { json: false })).await?;
    let listing = out.stdout();
    assert!(
        listing.starts_with("=== Apps\nblog\n  staging     blog-staging "),
        "{listing}"
    );
    assert!(
        listing.contains("\nmyapp\n  staging     myapp-staging  "),
        "{listing}"
    );
    assert!(
        listing.contains("\n  production  myapp          https://myapp.localhost:8443/"),
        "{listing}"
    );

    let (mut ctx, out) = Context::captured(env_for(&host, TOKEN), None);
    run_in(
        &mut ctx,
        Command::AppsInfo(InfoArgs {
            app: Some("myapp-staging".into()),
            env: None,
            json: false,
        }),
    )
    .await?;
    assert!(
        out.stdout().starts_with("=== myapp-staging\n"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains("myapp (staging, private)"),
        "{}",
        out.stdout()
    );

    let (mut ctx, out) = Context::captured(env_for(&host, TOKEN), None);
    run_in(
        &mut ctx,
        Command::AppsInfo(InfoArgs {
            app: None,
            env: Some("myapp".into()),
            json: true,
        }),
    )
    .await?;
    let parsed: Value = serde_json::from_str(&out.stdout())?;
    assert_eq!(parsed["doppel"]["stage"], "production");

    let (mut ctx, out) = Context::captured(env_for(&host, TOKEN), None);
    run_in(
        &mut ctx,
        Command::Releases(ReleasesArgs {
            app: Some("myapp-staging".into()),
            num: 15,
            json: false,
        }),
    )
    .await?;
    let releases = out.stdout();
    assert!(
        releases.starts_with("=== myapp-staging Releases - Current: v2\nv2  Deploy 1a2b3c4"),
        "{releases}"
    );
    assert!(
        releases.contains("v1  Initial release  admin@example.com  2026-01-01T12:00:00Z"),
        "{releases}"
    );

    let (mut ctx, out) = Context::captured(env_for(&host, TOKEN), None);
    let destroy = Command::AppsDestroy(DestroyArgs {
        name: "myapp".into(),
        confirm: Some("myapp".into()),
        json: false,
    });
    run_in(&mut ctx, destroy).await?;
    assert_eq!(
        out.stderr(),
        "Destroying myapp (myapp-staging and myapp)... done\n"
    );

    let (mut ctx, _out) = Context::captured(env_for(&host, TOKEN), None);
    let e = run_in(
        &mut ctx,
        Command::AppsInfo(InfoArgs {
            app: Some("myapp".into()),
            env: None,
            json: false,
        }),
    )
    .await
    .err()
    .ok_or("expected 404")?;
    assert_eq!(e.to_string(), "Couldn't find that app.");

    let seen = mock.seen.lock().map_err(|_| "poisoned")?.clone();
    assert!(seen.len() >= 8, "{seen:?}");
    for s in &seen {
        assert_eq!(
            s.authorization.as_deref(),
            Some(&*format!("Bearer {TOKEN}")),
            "{s:?}"
        );
        assert_eq!(
            s.accept.as_deref(),
            Some("application/vnd.heroku+json; version=3"),
            "{s:?}"
        );
        assert!(
            s.user_agent
                .as_deref()
                .is_some_and(|u| u.starts_with("doppel-cli/")),
            "{s:?}"
        );
    }
    assert!(seen
        .iter()
        .any(|s| s.method == "DELETE" && s.path == "/apps/myapp"));
    let rel = seen
        .iter()
        .find(|s| s.path.ends_with("/releases"))
        .ok_or("no releases request")?;
    assert_eq!(rel.range.as_deref(), Some("version ..; max=15, order=desc"));
    Ok(())
}

#[tokio::test]
async fn login_saves_credentials_and_whoami_uses_them() -> TestResult {
    let (host, _mock) = start_mock().await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("doppel/credentials.json");
    let fresh = || {
        let (ctx, out) = Context::captured(Env::default(), Some(path.clone()));
        (ctx, out)
    };

    // A wrong token is refused and nothing is saved.
    let (ctx, _out) = fresh();
    let mut ctx = ctx.with_stdin("wrong\n");
    let login = |token: Option<&str>| {
        Command::Login(LoginArgs {
            host: Some(host.clone()),
            token: token.map(str::to_string),
            ca_cert: None,
        })
    };
    let e = run_in(&mut ctx, login(None))
        .await
        .err()
        .ok_or("expected 401")?;
    assert!(matches!(e, CliError::Unauthorized));
    assert_eq!(
        e.to_string(),
        "Invalid credentials: set DOPPEL_API_KEY or run `doppel login`."
    );
    assert!(!path.exists());

    // The token read from standard input is checked and saved.
    let (ctx, out) = fresh();
    let mut ctx = ctx.with_stdin(&format!("{TOKEN}\n"));
    run_in(&mut ctx, login(None)).await?;
    assert_eq!(out.stdout(), "Logged in as admin@example.com\n");
    assert!(!out.stdout().contains(TOKEN) && !out.stderr().contains(TOKEN));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o600
        );
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    assert_eq!(saved["host"], host);
    assert_eq!(saved["token"], TOKEN);

    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Whoami(JsonArgs { json: false })).await?;
    assert_eq!(out.stdout(), "admin@example.com\n");

    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Token).await?;
    assert_eq!(out.stdout(), format!("{TOKEN}\n"));

    // The environment wins over the file: a bad DOPPEL_API_KEY is used and refused.
    let (mut ctx, _out) = Context::captured(
        Env::from_pairs([("DOPPEL_API_KEY", "bad")]),
        Some(path.clone()),
    );
    let e = run_in(&mut ctx, Command::Whoami(JsonArgs { json: false }))
        .await
        .err();
    assert!(matches!(e, Some(CliError::Unauthorized)));

    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Logout).await?;
    assert_eq!(out.stdout(), "Logged out\n");
    assert!(!path.exists());
    let (mut ctx, _out) = fresh();
    let e = run_in(&mut ctx, Command::Whoami(JsonArgs { json: false }))
        .await
        .err();
    assert!(matches!(e, Some(CliError::NoToken)));
    Ok(())
}

#[derive(Debug, serde::Deserialize)]
struct Account {
    email: String,
}

#[tokio::test]
async fn client_typed_and_raw_calls() -> TestResult {
    let (host, mock) = start_mock().await?;
    let client = Client::new(&host, TOKEN, None)?;
    let account: Account = client.get("/account").await?;
    assert_eq!(account.email, "admin@example.com");
    let created: Value = client.post("/apps", &json!({"name": "shop"})).await?;
    assert_eq!(created["name"], "shop");
    let e = client
        .post::<Value, _>("/apps", &json!({"name": "taken"}))
        .await
        .err()
        .ok_or("expected 422")?;
    assert!(matches!(&e, CliError::Api { status: 422, id, message }
        if id == "invalid_params" && message == "Name is already taken"));
    let deleted: Value = client.delete("/apps/shop").await?;
    assert_eq!(deleted["name"], "shop");
    let seen = mock.seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(seen.len(), 4);
    assert!(seen
        .iter()
        .all(|s| s.authorization.as_deref() == Some(&*format!("Bearer {TOKEN}"))));
    Ok(())
}
