//! An in-process mock of doppel's Heroku-style API for the CLI's tests: it keeps apps,
//! config vars, releases, formation, dynos, domains and collaborators in memory and
//! answers with `doppel-api-types`, so a renamed key breaks these tests at compile time.
//! Releases can be made `pending` with an output stream that completes them when read.

#![allow(dead_code)]
// Handlers return a ready error response as `Err` so `?` can short-circuit a route.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use doppel_api_types::account::{Account, AccountExtra, UserCreate, UserCreated};
use doppel_api_types::apps::{App, AppExtra, AppUpdate, EnvironmentSummary};
use doppel_api_types::collaborators::{
    Collaborator, CollaboratorCreate, CollaboratorExtra, CollaboratorUser,
};
use doppel_api_types::config_vars::{ConfigVars, ConfigVarsUpdate};
use doppel_api_types::domains::{Domain, DomainCreate};
use doppel_api_types::dynos::{Dyno, DynoRelease};
use doppel_api_types::formation::{Formation, FormationBatch};
use doppel_api_types::releases::{Release, ReleaseCreate, ReleaseExtra};
use doppel_api_types::{ErrorBody, NamedRef, UserRef};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub const TOKEN: &str = "good-token-123";
pub const EMAIL: &str = "admin@example.com";
/// The timestamp every mock object carries.
pub const WHEN: &str = "2026-01-01T12:00:00Z";

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    pub range: Option<String>,
    pub body: String,
}

/// One environment's state.
#[derive(Debug, Clone, Default)]
pub struct EnvState {
    pub config: ConfigVars,
    pub releases: Vec<Release>,
    /// The config each release ran with, by release id.
    pub snapshots: BTreeMap<String, ConfigVars>,
    pub formation: BTreeMap<String, (i64, String)>,
    pub domains: Vec<String>,
    /// email → scope (`both` or the environment's name).
    pub collaborators: BTreeMap<String, String>,
    pub maintenance: bool,
    pub restarts: Vec<String>,
}

#[derive(Debug, Default)]
pub struct MockState {
    pub apps: BTreeSet<String>,
    pub envs: BTreeMap<String, EnvState>,
    /// New releases start `pending` with an output stream that completes them.
    pub pending_releases: bool,
    /// Dynos start `crashed` instead of `up`.
    pub crash_dynos: bool,
}

pub struct Mock {
    pub host: String,
    pub seen: Mutex<Vec<Seen>>,
    pub state: Mutex<MockState>,
}

impl Mock {
    pub fn state(&self) -> MutexGuard<'_, MockState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        match self.seen.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Creates `app` with both environments, each with a first release and one web dyno.
    pub fn seed_app(&self, app: &str) {
        let mut st = self.state();
        st.apps.insert(app.to_string());
        for env in [format!("{app}-staging"), app.to_string()] {
            let mut e = EnvState::default();
            e.formation.insert("web".into(), (1, "Basic".into()));
            e.collaborators.insert(EMAIL.into(), "both".into());
            st.envs.insert(env.clone(), e);
            new_release(&self.host, &mut st, &env, "Initial release", false);
        }
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub fn err(status: StatusCode, id: &str, message: &str) -> Response {
    let body = ErrorBody {
        id: id.into(),
        message: message.into(),
        url: None,
    };
    (status, Json(body)).into_response()
}

fn not_found() -> Response {
    err(
        StatusCode::NOT_FOUND,
        "not_found",
        "Couldn't find that app.",
    )
}

fn stage_of(env: &str) -> (&str, &str) {
    match env.strip_suffix("-staging") {
        Some(app) => (app, "staging"),
        None => (env, "production"),
    }
}

pub fn account(email: &str, admin: bool) -> Account {
    Account {
        id: format!("id-{email}"),
        email: email.into(),
        name: None,
        allow_tracking: false,
        beta: false,
        created_at: WHEN.into(),
        updated_at: WHEN.into(),
        last_login: None,
        verified: true,
        two_factor_authentication: false,
        federated: false,
        default_team: None,
        default_organization: None,
        identity_provider: None,
        sms_number: None,
        suspended_at: None,
        delinquent_at: None,
        country_of_residence: None,
        doppel: AccountExtra { admin },
    }
}

fn summary(host: &str, env: &str) -> EnvironmentSummary {
    let (_, stage) = stage_of(env);
    EnvironmentSummary {
        id: format!("id-{env}"),
        name: env.into(),
        stage: stage.into(),
        private: stage == "staging",
        web_url: format!("https://{env}.localhost:8443/"),
        git_url: format!("{host}/{env}.git"),
    }
}

pub fn app_obj(host: &str, env: &str, maintenance: bool) -> App {
    let (app, stage) = stage_of(env);
    let s = summary(host, env);
    App {
        id: s.id.clone(),
        name: env.into(),
        created_at: WHEN.into(),
        updated_at: WHEN.into(),
        released_at: None,
        archived_at: None,
        acm: false,
        maintenance,
        internal_routing: false,
        repo_size: None,
        slug_size: None,
        web_url: s.web_url,
        git_url: s.git_url,
        buildpack_provided_description: None,
        owner: Some(UserRef {
            id: "u1".into(),
            email: Some(EMAIL.into()),
        }),
        region: NamedRef::new("r", "local"),
        stack: NamedRef::new("s", "debian-testing"),
        build_stack: NamedRef::new("s", "debian-testing"),
        generation: NamedRef::new("g", "cedar"),
        organization: None,
        team: None,
        space: None,
        doppel: AppExtra {
            app: app.into(),
            stage: stage.into(),
            private: stage == "staging",
            environments: vec![summary(host, &format!("{app}-staging")), summary(host, app)],
        },
    }
}

/// Records a new release of `env` with its config as it is now.
pub fn new_release(
    host: &str,
    st: &mut MockState,
    env: &str,
    description: &str,
    pending: bool,
) -> Release {
    let Some(e) = st.envs.get_mut(env) else {
        return release_obj(env, 0, description, "failed", false, None);
    };
    let version = e.releases.iter().map(|r| r.version).max().unwrap_or(0) + 1;
    let failed = e.config.contains_key("BREAK");
    let status = if failed {
        "failed"
    } else if pending {
        "pending"
    } else {
        "succeeded"
    };
    let stream = pending.then(|| format!("{host}/streams/{env}/{version}"));
    let r = release_obj(
        env,
        version,
        description,
        status,
        status == "succeeded",
        stream,
    );
    if status == "succeeded" {
        for old in &mut e.releases {
            old.current = false;
        }
    }
    e.snapshots.insert(r.id.clone(), e.config.clone());
    e.releases.push(r.clone());
    r
}

pub fn release_obj(
    env: &str,
    version: i64,
    description: &str,
    status: &str,
    current: bool,
    stream: Option<String>,
) -> Release {
    Release {
        id: format!("rel-{env}-{version}"),
        version,
        status: status.into(),
        current,
        description: description.into(),
        slug: None,
        artifacts: Vec::new(),
        addon_plan_names: Vec::new(),
        user: Some(UserRef {
            id: "u1".into(),
            email: Some(EMAIL.into()),
        }),
        app: NamedRef::new(format!("id-{env}"), env),
        output_stream_url: stream,
        eligible_for_rollback: true,
        created_at: format!("2026-01-01T12:00:{version:02}Z"),
        updated_at: WHEN.into(),
        doppel: ReleaseExtra {
            image_id: format!("sha256:{version:064}"),
            process_types: [("web".to_string(), "./server".to_string())].into(),
            build_id: None,
            promoted_from: None,
        },
    }
}

fn formation_list(env: &str, e: &EnvState) -> Vec<Formation> {
    e.formation
        .iter()
        .map(|(kind, (quantity, size))| Formation {
            id: format!("f-{env}-{kind}"),
            process_type: kind.clone(),
            command: "./server".into(),
            quantity: *quantity,
            size: size.clone(),
            dyno_size: NamedRef::new("d", size.clone()),
            app: NamedRef::new(format!("id-{env}"), env),
            created_at: WHEN.into(),
            updated_at: WHEN.into(),
        })
        .collect()
}

fn dynos(env: &str, e: &EnvState, crashed: bool) -> Vec<Dyno> {
    let version = e
        .releases
        .iter()
        .filter(|r| r.current)
        .map(|r| r.version)
        .max()
        .unwrap_or(0);
    let mut list = Vec::new();
    for (kind, (quantity, size)) in &e.formation {
        for n in 1..=*quantity {
            list.push(Dyno {
                // A restart replaces every container (new ids), as the server's does.
                id: format!("dyno-{env}-{kind}-{n}-{}", e.restarts.len()),
                name: format!("{kind}.{n}"),
                process_type: kind.clone(),
                command: "./server".into(),
                state: if crashed { "crashed" } else { "up" }.into(),
                size: size.clone(),
                attach_url: None,
                release: DynoRelease {
                    id: format!("rel-{env}-{version}"),
                    version,
                },
                app: NamedRef::new(format!("id-{env}"), env),
                created_at: WHEN.into(),
                updated_at: WHEN.into(),
            });
        }
    }
    list
}

fn domain_obj(env: &str, host: &str, kind: &str) -> Domain {
    Domain {
        id: format!("dom-{host}"),
        hostname: host.into(),
        kind: kind.into(),
        cname: (kind == "custom").then(|| format!("{env}.localhost")),
        status: "succeeded".into(),
        acm_status: None,
        acm_status_reason: None,
        sni_endpoint: None,
        app: NamedRef::new(format!("id-{env}"), env),
        created_at: WHEN.into(),
        updated_at: WHEN.into(),
    }
}

fn collaborator_obj(env: &str, email: &str, scope: &str) -> Collaborator {
    Collaborator {
        id: format!("c-{email}"),
        app: NamedRef::new(format!("id-{env}"), env),
        permissions: Vec::new(),
        role: Some(
            if email == EMAIL {
                "owner"
            } else {
                "collaborator"
            }
            .into(),
        ),
        user: CollaboratorUser {
            id: format!("id-{email}"),
            email: email.into(),
            federated: false,
        },
        created_at: WHEN.into(),
        updated_at: WHEN.into(),
        doppel: CollaboratorExtra {
            scope: scope.into(),
            environments: if scope == "both" {
                let (app, _) = stage_of(env);
                vec![format!("{app}-staging"), app.to_string()]
            } else {
                vec![scope.to_string()]
            },
        },
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        err(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!("bad body: {e}"),
        )
    })
}

fn json<T: serde::Serialize>(value: T) -> Response {
    Json(value).into_response()
}

async fn handler(
    State(mock): State<Arc<Mock>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if let Ok(mut seen) = mock.seen.lock() {
        seen.push(Seen {
            method: method.to_string(),
            path: path.clone(),
            authorization: header(&headers, "authorization"),
            accept: header(&headers, "accept"),
            user_agent: header(&headers, "user-agent"),
            range: header(&headers, "range"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Output streams are capability URLs, plain text, no Accept check.
    if let ("GET", ["streams", env, version]) = (method.as_str(), segments.as_slice()) {
        return stream(&mock, env, version);
    }
    if header(&headers, "authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Invalid credentials provided.",
        );
    }
    if header(&headers, "accept").as_deref() != Some(doppel_api_types::MEDIA_TYPE) {
        return err(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "Wrong Accept header",
        );
    }
    match route(&mock, method.as_str(), &segments, &body) {
        Ok(r) | Err(r) => r,
    }
}

/// Serves a pending release's output and completes it.
fn stream(mock: &Mock, env: &str, version: &str) -> Response {
    let mut st = mock.state();
    let Some(e) = st.envs.get_mut(env) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let v: i64 = version.parse().unwrap_or(-1);
    for r in &mut e.releases {
        r.current = false;
    }
    if let Some(r) = e.releases.iter_mut().find(|r| r.version == v) {
        r.status = "succeeded".into();
        r.current = true;
    }
    "-----> Starting web.1 of the new release\n-----> web.1 is up\n".into_response()
}

fn route(mock: &Mock, method: &str, segments: &[&str], body: &[u8]) -> Result<Response, Response> {
    let host = mock.host.as_str();
    let mut st = mock.state();
    if let Some(r) = route_global(host, &mut st, method, segments, body)? {
        return Ok(r);
    }
    let ["apps", env, rest @ ..] = segments else {
        return Err(err(StatusCode::NOT_FOUND, "not_found", "Not found"));
    };
    let env = env.to_string();
    if !st.envs.contains_key(&env) {
        return Err(not_found());
    }
    let pending = st.pending_releases;
    let crash = st.crash_dynos;
    match (method, rest) {
        ("GET", []) => Ok(json(app_obj(host, &env, st.envs[&env].maintenance))),
        ("PATCH", []) => {
            let update: AppUpdate = parse(body)?;
            let e = st.envs.get_mut(&env).ok_or_else(not_found)?;
            if let Some(m) = update.maintenance {
                e.maintenance = m;
            }
            Ok(json(app_obj(host, &env, e.maintenance)))
        }
        ("GET", ["config-vars"]) => Ok(json(st.envs[&env].config.clone())),
        ("PATCH", ["config-vars"]) => {
            let update: ConfigVarsUpdate = parse(body)?;
            let e = st.envs.get_mut(&env).ok_or_else(not_found)?;
            let (mut set, mut unset) = (Vec::new(), Vec::new());
            for (k, v) in update {
                match v {
                    Some(v) => {
                        e.config.insert(k.clone(), v);
                        set.push(k);
                    }
                    None => {
                        e.config.remove(&k);
                        unset.push(k);
                    }
                }
            }
            let config = e.config.clone();
            let words = if set.is_empty() {
                format!("Remove {} config vars", unset.join(", "))
            } else {
                format!("Set {} config vars", set.join(", "))
            };
            new_release(host, &mut st, &env, &words, pending);
            Ok(json(config))
        }
        ("GET", ["releases"]) => {
            let mut list = st.envs[&env].releases.clone();
            list.sort_by_key(|r| std::cmp::Reverse(r.version));
            Ok(json(list))
        }
        ("GET", ["releases", which]) => st.envs[&env]
            .releases
            .iter()
            .find(|r| r.id == *which || r.version.to_string() == *which)
            .cloned()
            .map(json)
            .ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that release.",
                )
            }),
        ("GET", ["releases", which, "config-vars"]) => st.envs[&env]
            .snapshots
            .get(*which)
            .cloned()
            .map(json)
            .ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that release.",
                )
            }),
        ("POST", ["releases"]) => {
            let req: ReleaseCreate = parse(body)?;
            let id = req
                .release
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let e = st.envs.get_mut(&env).ok_or_else(not_found)?;
            let Some(to) = e.releases.iter().find(|r| r.id == id).cloned() else {
                return Err(err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that release.",
                ));
            };
            e.config = e.snapshots.get(&to.id).cloned().unwrap_or_default();
            let r = new_release(
                host,
                &mut st,
                &env,
                &format!("Rollback to v{}", to.version),
                pending,
            );
            Ok((StatusCode::CREATED, Json(r)).into_response())
        }
        _ => route_formation(host, &mut st, &env, method, rest, body, crash),
    }
}

fn route_global(
    host: &str,
    st: &mut MockState,
    method: &str,
    segments: &[&str],
    body: &[u8],
) -> Result<Option<Response>, Response> {
    Ok(Some(match (method, segments) {
        ("GET", ["account"]) => json(account(EMAIL, true)),
        ("POST", ["users"]) => {
            let req: UserCreate = parse(body)?;
            if req.email == "taken@example.com" {
                return Err(err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "Email is already taken",
                ));
            }
            let created = UserCreated {
                user: account(&req.email, req.admin),
                token: "fresh-token-456".into(),
                password: Some("fresh-password-789".into()),
            };
            (StatusCode::CREATED, Json(created)).into_response()
        }
        ("PUT", ["users", email, "password"]) => {
            if *email == "nobody@x.io" {
                return Err(err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that user.",
                ));
            }
            json(doppel_api_types::passwords::PasswordSetResult {
                user: account(email, false),
                password: Some("new-password-321".into()),
            })
        }
        ("GET", ["apps"]) => {
            let list: Vec<App> = st
                .envs
                .iter()
                .map(|(env, e)| app_obj(host, env, e.maintenance))
                .collect();
            json(list)
        }
        ("POST", ["apps"]) => {
            let req: doppel_api_types::apps::AppCreate = parse(body)?;
            let name = req.name.unwrap_or_default();
            if name == "taken" || st.apps.contains(&name) {
                return Err(err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "Name is already taken",
                ));
            }
            st.apps.insert(name.clone());
            for env in [format!("{name}-staging"), name.clone()] {
                let mut e = EnvState::default();
                e.collaborators.insert(EMAIL.into(), "both".into());
                st.envs.insert(env, e);
            }
            (StatusCode::CREATED, Json(app_obj(host, &name, false))).into_response()
        }
        ("DELETE", ["apps", name]) => {
            if !st.apps.remove(*name) {
                return Err(not_found());
            }
            st.envs.remove(&format!("{name}-staging"));
            st.envs.remove(*name);
            json(app_obj(host, name, false))
        }
        _ => return Ok(None),
    }))
}

fn route_formation(
    host: &str,
    st: &mut MockState,
    env: &str,
    method: &str,
    rest: &[&str],
    body: &[u8],
    crash: bool,
) -> Result<Response, Response> {
    let e = st.envs.get_mut(env).ok_or_else(not_found)?;
    match (method, rest) {
        ("GET", ["formation"]) => Ok(json(formation_list(env, e))),
        ("PATCH", ["formation"]) => {
            let batch: FormationBatch = parse(body)?;
            for u in batch.updates {
                let kind = u.process_type.clone().unwrap_or_default();
                let Some(entry) = e.formation.get_mut(&kind) else {
                    return Err(err(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        &format!("Couldn't find that process type ({kind})."),
                    ));
                };
                if let Some(q) = u.quantity {
                    entry.0 = q.apply(entry.0).max(0);
                }
                if let Some(size) = u.size_key() {
                    entry.1 = size.to_string();
                }
            }
            Ok(json(formation_list(env, e)))
        }
        ("GET", ["dynos"]) => Ok(json(dynos(env, e, crash))),
        ("DELETE", ["dynos"]) => {
            e.restarts.push("all".into());
            Ok(json(serde_json::Map::new()))
        }
        ("DELETE", ["dynos", name]) | ("DELETE", ["formations", name]) => {
            e.restarts.push(name.to_string());
            Ok(json(serde_json::Map::new()))
        }
        ("GET", ["domains"]) => {
            let mut list = vec![domain_obj(env, &format!("{env}.localhost"), "heroku")];
            list.extend(e.domains.iter().map(|d| domain_obj(env, d, "custom")));
            Ok(json(list))
        }
        ("POST", ["domains"]) => {
            let req: DomainCreate = parse(body)?;
            if e.domains.contains(&req.hostname) {
                return Err(err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "Hostname is already in use.",
                ));
            }
            e.domains.push(req.hostname.clone());
            Ok((
                StatusCode::CREATED,
                Json(domain_obj(env, &req.hostname, "custom")),
            )
                .into_response())
        }
        ("DELETE", ["domains", hostname]) => {
            let before = e.domains.len();
            e.domains.retain(|d| d != hostname);
            if e.domains.len() == before {
                return Err(err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that domain.",
                ));
            }
            Ok(json(domain_obj(env, hostname, "custom")))
        }
        ("GET", ["collaborators"]) => Ok(json(
            e.collaborators
                .iter()
                .map(|(email, scope)| collaborator_obj(env, email, scope))
                .collect::<Vec<_>>(),
        )),
        ("POST", ["collaborators"]) => {
            let req: CollaboratorCreate = parse(body)?;
            let both = req.both_environments.unwrap_or(true);
            let (app, _) = stage_of(env);
            let scope = if both {
                "both".to_string()
            } else {
                env.to_string()
            };
            let targets = if both {
                vec![format!("{app}-staging"), app.to_string()]
            } else {
                vec![env.to_string()]
            };
            for t in targets {
                if let Some(te) = st.envs.get_mut(&t) {
                    te.collaborators.insert(req.user.clone(), scope.clone());
                }
            }
            Ok((
                StatusCode::CREATED,
                Json(collaborator_obj(env, &req.user, &scope)),
            )
                .into_response())
        }
        ("DELETE", ["collaborators", email]) => {
            let Some(scope) = e.collaborators.remove(*email) else {
                return Err(err(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Couldn't find that collaborator.",
                ));
            };
            if scope == "both" {
                let (app, _) = stage_of(env);
                for t in [format!("{app}-staging"), app.to_string()] {
                    if let Some(te) = st.envs.get_mut(&t) {
                        te.collaborators.remove(*email);
                    }
                }
            }
            let _ = host;
            Ok(json(collaborator_obj(env, email, &scope)))
        }
        _ => Err(err(StatusCode::NOT_FOUND, "not_found", "Not found")),
    }
}

/// Starts the mock on 127.0.0.1 (plain http, allowed on loopback).
pub async fn start() -> Result<Arc<Mock>, std::io::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mock = Arc::new(Mock {
        host: format!("http://{addr}"),
        seen: Mutex::new(Vec::new()),
        state: Mutex::new(MockState::default()),
    });
    let app = axum::Router::new()
        .fallback(handler)
        .with_state(mock.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(mock)
}

/// An environment pointing at the mock with the good token, and HOME at `home`.
pub fn env_for(mock: &Mock, home: &std::path::Path) -> doppel_cli::Env {
    let home = home.display().to_string();
    doppel_cli::Env::from_pairs([
        ("DOPPEL_HOST", mock.host.as_str()),
        ("DOPPEL_API_KEY", TOKEN),
        ("HOME", home.as_str()),
    ])
}
