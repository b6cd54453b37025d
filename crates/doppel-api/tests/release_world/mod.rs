//! What the release, config and formation tests share: the in-process API (`common`) whose
//! fake dynos pass the rollout's health check (they report a loopback address this world
//! listens on), releases made through the release workflow as a build would, and requests
//! with headers.

#![allow(dead_code)]

use crate::common::{api, Api};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use doppel_control::supervisor::Phase;
use doppel_control::workflows::progress::Silent;
use doppel_control::workflows::release::{self, ReleaseRequest};
use doppel_docker::{FakeContainer, ImageInfo};
use doppel_store::{AuditEvent, AuditFilter, Release};
use doppel_types::{ImageKind, ProcessTypes, WEB_PORT};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeMap;
use tower::ServiceExt;

pub struct World {
    pub api: Api,
    _listener: std::net::TcpListener,
}

/// The API with an app `shop` (`shop-staging`, `shop`) whose dynos answer on `$PORT`.
pub async fn world() -> anyhow::Result<World> {
    let api = api().await?;
    let listener = listen_on_some_loopback()?;
    let ip = listener.local_addr()?.ip().to_string();
    api.fake.state().script.dyno_ip = Some(ip);
    let w = World {
        api,
        _listener: listener,
    };
    let (status, body) = w
        .call(
            "POST",
            "/apps",
            Some(serde_json::json!({"name": "shop"})),
            None,
        )
        .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "creating shop: {body}");
    Ok(w)
}

/// Listens on `127.a.b.c:5000` for random a, b, c (all of 127/8 is loopback on Linux), so
/// parallel tests do not share an address.
fn listen_on_some_loopback() -> anyhow::Result<std::net::TcpListener> {
    let mut last = None;
    for _ in 0..20 {
        let b = uuid::Uuid::new_v4().into_bytes();
        let addr = std::net::SocketAddr::from(([127, b[0].max(1), b[1], b[2].max(2)], WEB_PORT));
        match std::net::TcpListener::bind(addr) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(anyhow::anyhow!(
        "no loopback address to listen on: {last:?}"
    ))
}

pub fn types(pairs: &[(&str, &str)]) -> ProcessTypes {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl World {
    pub fn token(&self) -> String {
        self.api.token.clone()
    }

    /// Puts an image into the fake engine.
    pub fn add_image(&self, id: &str) {
        self.api.fake.state().images.insert(
            id.to_string(),
            ImageInfo {
                id: id.to_string(),
                size: 0,
                labels: BTreeMap::new(),
                cmd: None,
            },
        );
    }

    /// Removes an image from the fake engine (dynos of it can no longer start).
    pub fn remove_image(&self, id: &str) {
        self.api.fake.state().images.remove(id);
    }

    /// Releases image `image` with `types` on `env` the way a build does (config as it is).
    pub async fn deploy(
        &self,
        env: &str,
        image: &str,
        types: ProcessTypes,
    ) -> anyhow::Result<Release> {
        self.add_image(image);
        let env = self
            .api
            .state
            .store()
            .environment(env)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no environment {env}"))?;
        let request = ReleaseRequest {
            image_id: image.to_string(),
            image_kind: ImageKind::Buildpack,
            process_types: types,
            build_id: None,
            description: format!("Deploy {image}"),
            user_id: None,
            config: None,
        };
        Ok(release::release(&self.api.state, &env, request, &Silent).await?)
    }

    /// A request with the admin's token and extra headers; status, headers, JSON body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(StatusCode, HeaderMap, Value)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("Accept", "application/vnd.heroku+json; version=3")
            .header("Authorization", format!("Bearer {}", self.api.token));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header("Content-Type", "application/json")
                .body(Body::from(b.to_string()))?,
            None => req.body(Body::empty())?,
        };
        let resp = self.api.router.clone().oneshot(req).await?;
        let (status, headers) = (resp.status(), resp.headers().clone());
        let bytes = resp.into_body().collect().await?.to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, headers, json))
    }

    /// A JSON request with the admin's token (or `token`).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let t = token.map(str::to_string).unwrap_or_else(|| self.token());
        self.api.call(method, path, body, Some(&t)).await
    }

    /// `PATCH /apps/{env}/config-vars` with `changes` as the admin.
    pub async fn patch_config(
        &self,
        env: &str,
        changes: Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let path = format!("/apps/{env}/config-vars");
        self.call("PATCH", &path, Some(changes), None).await
    }

    /// An environment's config as the store has it.
    pub async fn config(&self, env: &str) -> anyhow::Result<BTreeMap<String, String>> {
        let env = self.api.state.store().environment(env).await?;
        let id = env.map(|e| e.id).unwrap_or_default();
        Ok(self.api.state.store().config_vars(&id).await?)
    }

    /// An environment's releases, oldest first.
    pub async fn releases(&self, env: &str) -> anyhow::Result<Vec<Release>> {
        let env = self.api.state.store().environment(env).await?;
        let id = env.map(|e| e.id).unwrap_or_default();
        Ok(self.api.state.store().list_releases(&id).await?)
    }

    /// The fake engine's dyno containers of `env`, by dyno name (`web.1`), leaving out the
    /// ones the supervisor is retiring (they drain in tasks of their own).
    pub fn dynos(&self, env: &str) -> BTreeMap<String, FakeContainer> {
        let table = &self.api.state.supervisor().table;
        self.api
            .fake
            .state()
            .containers
            .iter()
            .filter(|(id, _)| table.get(id).map(|d| d.phase) != Some(Phase::Stopping))
            .map(|(_, c)| c)
            .filter(|c| {
                c.dyno.is_some() && c.spec.labels.get("doppel.env").map(String::as_str) == Some(env)
            })
            .map(|c| {
                (
                    c.spec
                        .labels
                        .get("doppel.dyno")
                        .cloned()
                        .unwrap_or_default(),
                    c.clone(),
                )
            })
            .collect()
    }

    /// The app `shop`'s audit events, newest first.
    pub async fn audit(&self) -> anyhow::Result<Vec<AuditEvent>> {
        let app = self.api.state.store().app("shop").await?;
        let id = app.map(|a| a.id).unwrap_or_default();
        Ok(self
            .api
            .state
            .store()
            .audit_events(&id, &AuditFilter::default())
            .await?)
    }
}
