//! The in-process control plane every test of this crate starts from: a real store on
//! SQLite in a temporary directory, the shared fake Docker runtime, the API's axum router.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use doppel_control::state::AppState;
use doppel_control::ServerConfig;
use doppel_docker::FakeRuntime;
use doppel_router::RouteTable;
use doppel_store::Store;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub struct Api {
    pub router: axum::Router,
    pub token: String,
    pub state: AppState,
    pub fake: Arc<FakeRuntime>,
    _dir: tempfile::TempDir,
}

pub async fn api() -> anyhow::Result<Api> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("doppel.db").display());
    let store = Store::open(&url, [7u8; 32]).await?;
    let (_, token) = store
        .ensure_admin("admin@localhost")
        .await?
        .ok_or_else(|| anyhow::anyhow!("admin not created"))?;
    let mut config = ServerConfig::with_defaults();
    config.data_dir = dir.path().to_path_buf();
    config.https_port = 8443;
    let fake = Arc::new(FakeRuntime::new());
    let state = AppState::new(
        store,
        fake.clone(),
        RouteTable::new().into_shared(),
        config,
        "testinstance".into(),
    );
    Ok(Api {
        router: doppel_api::router(state.clone()),
        token,
        state,
        fake,
        _dir: dir,
    })
}

impl Api {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send(method, path, body.map(|b| b.to_string()), auth)
            .await
    }

    /// Sends `body` as it is (for malformed JSON) with `token`.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: &str,
        token: &str,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send(method, path, Some(body.to_string()), Some(token))
            .await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        auth: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("Accept", "application/vnd.heroku+json; version=3");
        if let Some(token) = auth {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        let req = match body {
            Some(b) => req
                .header("Content-Type", "application/json")
                .body(Body::from(b))?,
            None => req.body(Body::empty())?,
        };
        let resp = self.router.clone().oneshot(req).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Creates app `name` as the user of `token`; fails unless it answers 201.
    pub async fn create_app_as(&self, name: &str, token: &str) -> anyhow::Result<()> {
        let body = serde_json::json!({ "name": name });
        let (status, answer) = self.call("POST", "/apps", Some(body), Some(token)).await?;
        anyhow::ensure!(status == StatusCode::CREATED, "creating {name}: {answer}");
        Ok(())
    }

    /// Creates a user through `POST /users` as the admin; returns its first token.
    pub async fn create_user(&self, email: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({ "email": email });
        let (status, answer) = self
            .call("POST", "/users", Some(body), Some(&self.token))
            .await?;
        anyhow::ensure!(status == StatusCode::CREATED, "creating {email}: {answer}");
        Ok(answer["token"].as_str().unwrap_or_default().to_string())
    }

    /// The audit log's actions for app `name`, newest first.
    pub async fn audit_actions(&self, name: &str) -> anyhow::Result<Vec<String>> {
        let store = self.state.store();
        let app = store
            .app(name)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no app {name}"))?;
        let events = store.audit_events(&app.id, &Default::default()).await?;
        Ok(events.into_iter().map(|e| e.action).collect())
    }
}
