//! Test harness: a running router on 127.0.0.1:0 with a platform served on a Unix socket, an
//! echoing upstream, a log sink that keeps the router's lines, reqwest and curl clients.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::get;
use doppel_router::{
    Backend, LogSink, PlatformCa, Route, RouteStatus, RouteTable, RouterConfig, RouterLine,
    RouterOptions, SharedRouteTable, Upstream,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Keeps every router log line.
#[derive(Default)]
pub struct Lines(Mutex<Vec<RouterLine>>);

impl LogSink for Lines {
    fn router_line(&self, line: RouterLine) {
        self.0.lock().unwrap().push(line);
    }
}

impl Lines {
    /// The lines so far (waits briefly: a line is emitted when its response body ends).
    pub async fn wait_for(&self, needle: &str) -> Vec<RouterLine> {
        for _ in 0..50 {
            let lines = self.0.lock().unwrap().clone();
            if lines.iter().any(|l| l.line.contains(needle)) {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.0.lock().unwrap().clone()
    }
}

pub const DOMAIN: &str = "localhost";

/// A router serving for the duration of a test.
pub struct Router {
    pub https: SocketAddr,
    pub http: SocketAddr,
    pub table: SharedRouteTable,
    pub ca: Arc<PlatformCa>,
    pub ca_path: PathBuf,
    pub lines: Arc<Lines>,
    pub platform: Upstream,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), doppel_router::RouterError>>>,
}

impl Router {
    pub async fn start() -> anyhow::Result<Router> {
        Self::start_with(RouterOptions::default()).await
    }

    pub async fn start_with(opts: RouterOptions) -> anyhow::Result<Router> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("doppel_router=debug")
            .with_test_writer()
            .try_init();
        doppel_router::install_crypto_provider();
        let dir = tempfile::tempdir()?;
        let ca = Arc::new(PlatformCa::load_or_create(dir.path(), DOMAIN)?);
        let https = TcpListener::bind("127.0.0.1:0").await?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let (https_addr, http_addr) = (https.local_addr()?, http.local_addr()?);
        let platform_app = axum::Router::new()
            .route("/", get(|| async { "doppel platform" }))
            .route(
                "/echo-host",
                get(|req: Request| async move { format!("{:?}", req.uri()) }),
            );
        let socket = dir.path().join("platform.sock");
        let platform_listener = tokio::net::UnixListener::bind(&socket)?;
        tokio::spawn(async move { axum::serve(platform_listener, platform_app).await });
        let platform = Upstream::Unix(socket);
        let table = RouteTable {
            platform: Some(platform.clone()),
            ..RouteTable::default()
        }
        .into_shared();
        let lines = Arc::new(Lines::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let cfg = RouterConfig {
            domain: DOMAIN.into(),
            https,
            http: Some(http),
            https_port: https_addr.port(),
            ca: ca.clone(),
        };
        let task = tokio::spawn(doppel_router::serve(
            cfg,
            table.clone(),
            async move {
                let _ = stopped.await;
            },
            opts,
            lines.clone(),
        ));
        Ok(Router {
            https: https_addr,
            http: http_addr,
            table,
            ca_path: dir.path().join("ca.pem"),
            ca,
            lines,
            platform,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Replaces the whole route table (the platform upstream stays).
    pub fn publish(&self, routes: Vec<(&str, Route)>) {
        let routes: HashMap<String, Route> =
            routes.into_iter().map(|(h, r)| (h.to_owned(), r)).collect();
        self.publish_table(RouteTable {
            routes,
            platform: Some(self.platform.clone()),
            ..RouteTable::default()
        });
    }

    /// Replaces the whole route table as given.
    pub fn publish_table(&self, table: RouteTable) {
        self.table.store(Arc::new(table));
    }

    /// An HTTPS URL on the router for `host`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.https.port())
    }

    /// A reqwest client trusting only the platform CA, resolving `hosts` to the router.
    pub fn client(&self, hosts: &[&str]) -> anyhow::Result<reqwest::Client> {
        self.client_with(hosts, |b| b)
    }

    pub fn client_with(
        &self,
        hosts: &[&str],
        f: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> anyhow::Result<reqwest::Client> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.ca_der().clone())?;
        let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut b = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(20))
            .no_proxy();
        for host in hosts {
            b = b.resolve(host, self.https);
        }
        Ok(f(b).build()?)
    }

    /// A TLS connection to the router for `host` (SNI), speaking HTTP/1.1, for raw requests.
    pub async fn tls_stream(
        &self,
        host: &str,
    ) -> anyhow::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.ca_der().clone())?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
        let tcp = tokio::net::TcpStream::connect(self.https).await?;
        let name = rustls::pki_types::ServerName::try_from(host.to_string())?;
        Ok(connector.connect(name, tcp).await?)
    }

    /// Stops the router and waits for it to drain.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .context("router did not stop")???;
        }
        Ok(())
    }
}

/// Backends named `web.1`, `web.2`… for these addresses.
pub fn dynos(addrs: Vec<SocketAddr>) -> Vec<Backend> {
    addrs
        .into_iter()
        .enumerate()
        .map(|(i, a)| Backend::new(a, &format!("web.{}", i + 1)))
        .collect()
}

/// A route to `backends`, public; with none it has no release yet.
pub fn public(env: &str, backends: Vec<SocketAddr>) -> Route {
    Route {
        status: if backends.is_empty() {
            RouteStatus::NoRelease
        } else {
            RouteStatus::Up
        },
        ..Route::public(env, dynos(backends))
    }
}

/// A private route accepting `tokens`.
pub fn private(env: &str, backends: Vec<SocketAddr>, tokens: &[&str]) -> Route {
    let digests: HashSet<String> = tokens
        .iter()
        .map(|t| doppel_types::token_digest(t))
        .collect();
    Route {
        private: Some(Arc::new(digests)),
        ..public(env, backends)
    }
}

/// An upstream that answers with a JSON object of what it received; `/slow` waits 3 s first.
pub async fn echo_upstream(name: &'static str) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "slow"
            }),
        )
        .fallback(move |req: Request| echo(name, req));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

async fn echo(name: &'static str, req: Request) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut headers = serde_json::Map::new();
    for (k, v) in &parts.headers {
        headers.insert(
            k.as_str().to_owned(),
            serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        );
    }
    let json = serde_json::json!({
        "upstream": name,
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    (
        [
            ("content-type", "application/json"),
            ("connection", "x-secret"),
            ("x-secret", "1"),
        ],
        Body::from(json.to_string()),
    )
        .into_response()
}

/// An address nothing listens on.
pub async fn dead_backend() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").await?;
    let addr = l.local_addr()?;
    drop(l);
    Ok(addr)
}

/// Runs curl with the platform CA as the only trust anchor; returns (exit code, stdout, stderr).
pub async fn curl(router: &Router, args: &[&str]) -> anyhow::Result<(i32, String, String)> {
    let out = tokio::process::Command::new("curl")
        .arg("--silent")
        .arg("--show-error")
        .arg("--max-time")
        .arg("20")
        .arg("--cacert")
        .arg(&router.ca_path)
        .args(args)
        .output()
        .await
        .context("running curl")?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}
