//! A small Heroku Platform API v3 client: base URL, bearer token, optional extra CA.

use crate::config::Config;
use crate::error::CliError;
use doppel_api_types::ErrorBody;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::{Method, StatusCode, Url};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The Accept header of Platform API v3.
pub const ACCEPT_V3: &str = doppel_api_types::MEDIA_TYPE;
/// The User-Agent this client sends.
pub const USER_AGENT_VALUE: &str = concat!("doppel-cli/", env!("CARGO_PKG_VERSION"));

/// A Platform API client for one server and token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    /// The host as the user wrote it, for messages.
    host: String,
    token: String,
    /// `Authorization: Bearer <token>`, sent to this server only.
    auth: HeaderValue,
    /// How long one call may take.
    timeout: Duration,
}

/// The longest output line held before it is passed on.
const MAX_LINE: usize = 64 * 1024;

/// How long an ordinary call may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a call that rolls a release out may take (the server answers when the new
/// dynos are up, or the rollout failed).
pub const ROLLOUT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.host)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Client {
    /// A client for `host` (`https://…`, or `http://…` on a loopback address) with `token`,
    /// trusting `ca_cert` (a PEM file) in addition to the system's roots.
    pub fn new(host: &str, token: &str, ca_cert: Option<&Path>) -> Result<Client, CliError> {
        let host = host.trim().trim_end_matches('/').to_string();
        let base = parse_host(&host)?;
        if token.trim().is_empty() {
            return Err(CliError::NoToken);
        }
        let auth = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
            CliError::InvalidHost {
                host: host.clone(),
                reason: "the API token contains characters not allowed in an HTTP header".into(),
            }
        })?;
        let mut auth = auth;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_V3));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));

        let tls = tls_config(&host, base.scheme() == "https", ca_cert)?;
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::InvalidHost {
                host: host.clone(),
                reason: error_reason(&e),
            })?;
        Ok(Client {
            http,
            base,
            host,
            token: token.trim().to_string(),
            auth,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with calls allowed to take `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            timeout,
            ..self.clone()
        }
    }

    /// A client from resolved configuration; fails with a hint when no token is set.
    pub fn from_config(cfg: &Config) -> Result<Client, CliError> {
        Client::new(&cfg.host, cfg.token()?, cfg.ca_cert.as_deref())
    }

    /// The server's base URL as configured.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The token this client sends (for `auth:token` and saving after `login`).
    pub fn token(&self) -> &str {
        &self.token
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.send(Method::GET, path, None::<&()>, None).await
    }

    /// GET with a Heroku `Range` header (e.g. `version ..; max=15, order=desc`).
    pub async fn get_range<T: DeserializeOwned>(
        &self,
        path: &str,
        range: &str,
    ) -> Result<T, CliError> {
        self.send(Method::GET, path, None::<&()>, Some(range)).await
    }

    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send(Method::POST, path, Some(body), None).await
    }

    pub async fn patch<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send(Method::PATCH, path, Some(body), None).await
    }

    pub async fn put<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send(Method::PUT, path, Some(body), None).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.send(Method::DELETE, path, None::<&()>, None).await
    }

    /// DELETE with a JSON body (`addons:destroy` sends `{force}`).
    pub async fn delete_with<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send(Method::DELETE, path, Some(body), None).await
    }

    /// Streams the body of `GET path` into the file `dest` (an hour allowed: backups can be
    /// large). A `X-Doppel-Checksum` header (`blake3:<hex>`) is checked against what arrived:
    /// on a mismatch the file is removed and the download fails. Returns the size and the
    /// checksum.
    pub async fn download(
        &self,
        path: &str,
        dest: &Path,
    ) -> Result<(u64, Option<String>), CliError> {
        use std::io::Write;
        let mut resp = self
            .http
            .get(self.url(path)?)
            .header(AUTHORIZATION, self.auth.clone())
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| transport_error(&self.host, &e))?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| transport_error(&self.host, &e))?;
            return Err(api_error(&self.host, status, &bytes));
        }
        let checksum = resp
            .headers()
            .get("x-doppel-checksum")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut file = std::fs::File::create(dest).map_err(CliError::Output)?;
        let mut size = 0u64;
        let mut hasher = blake3::Hasher::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_error(&self.host, &e))?
        {
            size += chunk.len() as u64;
            hasher.update(&chunk);
            file.write_all(&chunk).map_err(CliError::Output)?;
        }
        file.sync_all().map_err(CliError::Output)?;
        let got = format!("blake3:{}", hasher.finalize().to_hex());
        if let Some(want) = checksum.as_deref().filter(|w| !w.is_empty() && *w != got) {
            let _ = std::fs::remove_file(dest);
            return Err(CliError::BadResponse {
                host: self.host.clone(),
                status: status.as_u16(),
                reason: format!(
                    "the download's checksum is {got}, the server recorded {want}; the file was removed"
                ),
            });
        }
        Ok((size, checksum))
    }

    /// DELETE whose answer carries nothing to read (`{}` for dyno restarts).
    pub async fn delete_ignoring_body(&self, path: &str) -> Result<(), CliError> {
        self.send::<serde::de::IgnoredAny, ()>(Method::DELETE, path, None, None)
            .await
            .map(|_| ())
    }

    /// POST whose answer carries nothing to read.
    pub async fn post_ignoring_body<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(), CliError> {
        self.send::<serde::de::IgnoredAny, B>(Method::POST, path, Some(body), None)
            .await
            .map(|_| ())
    }

    /// Reads a plain-text stream (a release's or build's `output_stream_url`) line by
    /// line into `lines` until the server ends it. The token goes only to this server.
    /// `Ok(false)`: the stream does not exist (yet): Heroku answers 404 until it starts.
    pub async fn stream_lines(
        &self,
        url: &str,
        lines: tokio::sync::mpsc::Sender<String>,
    ) -> Result<bool, CliError> {
        let url = self.base.join(url).map_err(|e| CliError::BadResponse {
            host: self.host.clone(),
            status: 0,
            reason: format!("output stream URL {url:?} is not valid ({e})"),
        })?;
        let mut req = self.http.get(url.clone()).header(ACCEPT, "text/plain");
        if url.origin() == self.base.origin() {
            req = req.header(AUTHORIZATION, self.auth.clone());
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| transport_error(&self.host, &e))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(api_error(&self.host, status, &body));
        }
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_error(&self.host, &e))?
        {
            pending.extend_from_slice(&chunk);
            for text in take_lines(&mut pending) {
                if lines.send(text).await.is_err() {
                    return Ok(true);
                }
            }
        }
        if !pending.is_empty() {
            let _ = lines
                .send(String::from_utf8_lossy(&pending).into_owned())
                .await;
        }
        Ok(true)
    }

    /// POSTs `body` and reads the answer as a stream of text lines (doppel's promotion),
    /// handing each complete line to `on_line` as it arrives. Returns the value of the
    /// response header `header`. Waits as long as the server streams (up to two hours).
    pub async fn post_lines<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        header: &str,
        mut on_line: impl FnMut(&str) -> Result<(), CliError>,
    ) -> Result<Option<String>, CliError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CliError::BadResponse {
            host: self.host.clone(),
            status: 0,
            reason: format!("could not encode the request: {e}"),
        })?;
        let mut resp = self
            .http
            .post(self.url(path)?)
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(bytes)
            .timeout(Duration::from_secs(2 * 3600))
            .send()
            .await
            .map_err(|e| transport_error(&self.host, &e))?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| transport_error(&self.host, &e))?;
            return Err(api_error(&self.host, status, &bytes));
        }
        let value = resp
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_error(&self.host, &e))?
        {
            pending.extend_from_slice(&chunk);
            for line in take_lines(&mut pending) {
                on_line(&line)?;
            }
        }
        if !pending.is_empty() {
            on_line(&String::from_utf8_lossy(&pending))?;
        }
        Ok(value)
    }

    /// Streams the body of `url` (a capability URL the server handed out, e.g. a log
    /// session's), without a time limit, as it arrives.
    pub async fn stream(
        &self,
        url: &str,
    ) -> Result<impl futures_util::Stream<Item = Result<bytes::Bytes, CliError>>, CliError> {
        use futures_util::StreamExt;
        let resp = self
            .http
            .get(url)
            .header(ACCEPT, "text/plain")
            .timeout(Duration::from_secs(365 * 24 * 60 * 60))
            .send()
            .await
            .map_err(|e| transport_error(&self.host, &e))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.bytes().await.unwrap_or_default();
            return Err(api_error(&self.host, status, &body));
        }
        let host = self.host.clone();
        Ok(resp
            .bytes_stream()
            .map(move |chunk| chunk.map_err(|e| transport_error(&host, &e))))
    }

    fn url(&self, path: &str) -> Result<Url, CliError> {
        let joined = format!(
            "{}/{}",
            self.base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        Url::parse(&joined).map_err(|e| CliError::InvalidHost {
            host: self.host.clone(),
            reason: e.to_string(),
        })
    }

    async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        range: Option<&str>,
    ) -> Result<T, CliError> {
        let mut req = self
            .http
            .request(method, self.url(path)?)
            .header(AUTHORIZATION, self.auth.clone())
            .timeout(self.timeout);
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| CliError::BadResponse {
                host: self.host.clone(),
                status: 0,
                reason: format!("could not encode the request: {e}"),
            })?;
            req = req.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport_error(&self.host, &e))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| transport_error(&self.host, &e))?;
        if !status.is_success() {
            return Err(api_error(&self.host, status, &bytes));
        }
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map_err(|e| CliError::BadResponse {
            host: self.host.clone(),
            status: status.as_u16(),
            reason: format!("the body is not the expected JSON ({e})"),
        })
    }
}

/// Takes the complete lines off the front of `pending` (without `\n` or `\r\n`). A run
/// longer than [`MAX_LINE`] without a newline is passed on as a line rather than held.
fn take_lines(pending: &mut Vec<u8>) -> Vec<String> {
    if pending.len() > MAX_LINE && !pending.contains(&b'\n') {
        pending.push(b'\n');
    }
    let mut lines = Vec::new();
    while let Some(n) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=n).collect();
        lines.push(
            String::from_utf8_lossy(&line[..n])
                .trim_end_matches('\r')
                .to_string(),
        );
    }
    lines
}

/// Checks the host URL: https anywhere, plain http only on loopback (the token would
/// otherwise cross the network in clear text).
pub fn parse_host(host: &str) -> Result<Url, CliError> {
    let invalid = |reason: String| CliError::InvalidHost {
        host: host.to_string(),
        reason,
    };
    let url = Url::parse(host).map_err(|e| invalid(format!("{e}")))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(invalid(
                    "plain http is allowed only for localhost; use https so the API token is not sent in clear text".into(),
                ));
            }
        }
        other => {
            return Err(invalid(format!(
                "unsupported scheme {other:?}, use https://"
            )))
        }
    }
    if url.host_str().is_none() {
        return Err(invalid("the URL has no host name".into()));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The TLS settings the client trusts (the system's roots and `ca_cert`), for connections
/// other than API calls (attaching to one-off dynos).
pub fn trust(host: &str, ca_cert: Option<&Path>) -> Result<rustls::ClientConfig, CliError> {
    let mut config = tls_config(host, true, ca_cert)?;
    config.alpn_protocols.clear();
    Ok(config)
}

fn tls_config(
    host: &str,
    https: bool,
    ca_cert: Option<&Path>,
) -> Result<rustls::ClientConfig, CliError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| CliError::Tls {
            host: host.to_string(),
            reason: e.to_string(),
        })?;
    let extra = match ca_cert {
        Some(path) => load_pem(path)?,
        None => Vec::new(),
    };
    let mut config = if https || !extra.is_empty() {
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
            .map_err(|e| CliError::Tls {
                host: host.to_string(),
                reason: format!("no certificate authority to trust ({e})"),
            })?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        // Plain http: TLS is never used, but the HTTP client wants a configuration.
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads every certificate in a PEM file.
pub fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, CliError> {
    let fail = |reason: String| CliError::CaCert {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(fail("the file holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// The next error in a chain. `io::Error::source()` skips the error it wraps (it returns
/// that error's source), so wrapped io errors are opened with `get_ref` instead.
fn next_cause<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner);
        }
    }
    err.source()
}

/// The innermost message of an error chain, which names the actual cause
/// ("Connection refused (os error 111)", "invalid peer certificate: UnknownIssuer").
fn error_reason(err: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = err.to_string();
    let mut cur = next_cause(err);
    while let Some(e) = cur {
        reason = e.to_string();
        cur = next_cause(e);
    }
    reason
}

fn is_tls_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        cur = next_cause(e);
    }
    false
}

/// Maps a failure to talk to the server at all.
pub(crate) fn transport_error(host: &str, err: &reqwest::Error) -> CliError {
    let reason = error_reason(err);
    if is_tls_error(err) {
        CliError::Tls {
            host: host.to_string(),
            reason,
        }
    } else if err.is_timeout() {
        CliError::Unreachable {
            host: host.to_string(),
            reason: format!("timed out ({reason})"),
        }
    } else {
        CliError::Unreachable {
            host: host.to_string(),
            reason,
        }
    }
}

/// Maps an error response: 401 to a login hint, Heroku `{"id","message"}` bodies to
/// `CliError::Api`, anything else to `BadResponse`.
pub fn api_error(host: &str, status: StatusCode, body: &[u8]) -> CliError {
    if status == StatusCode::UNAUTHORIZED {
        return CliError::Unauthorized;
    }
    if let Ok(ErrorBody { id, message, .. }) = serde_json::from_slice::<ErrorBody>(body) {
        if !message.trim().is_empty() {
            return CliError::Api {
                status: status.as_u16(),
                id,
                message,
            };
        }
    }
    let text = String::from_utf8_lossy(body);
    let snippet: String = text.trim().chars().take(200).collect();
    CliError::BadResponse {
        host: host.to_string(),
        status: status.as_u16(),
        reason: if snippet.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no error message")
                .to_string()
        } else {
            snippet
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_heroku_error_bodies() {
        let err = api_error(
            "http://x",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"id":"invalid_params","message":"Name is already taken"}"#,
        );
        assert!(matches!(
            &err,
            CliError::Api { status: 422, id, message } if id == "invalid_params" && message == "Name is already taken"
        ));
        assert_eq!(err.to_string(), "Name is already taken");
    }

    #[test]
    fn maps_401_to_login_hint() {
        let err = api_error(
            "http://x",
            StatusCode::UNAUTHORIZED,
            br#"{"id":"unauthorized","message":"Invalid credentials provided."}"#,
        );
        assert!(matches!(err, CliError::Unauthorized));
        let msg = err.to_string();
        assert!(
            msg.contains("Invalid credentials") && msg.contains("DOPPEL_API_KEY"),
            "{msg}"
        );
        assert!(msg.contains("doppel login"));
    }

    #[test]
    fn maps_bodies_without_message() {
        let err = api_error("http://x", StatusCode::BAD_GATEWAY, b"<html>oops</html>");
        assert!(matches!(err, CliError::BadResponse { status: 502, .. }));
        assert!(err.to_string().contains("oops"));
        let err = api_error("http://x", StatusCode::NOT_FOUND, b"");
        assert!(err.to_string().contains("Not Found"));
    }

    #[test]
    fn lines_are_split_and_bounded() {
        let mut pending = b"one\r\ntwo\npart".to_vec();
        assert_eq!(take_lines(&mut pending), ["one", "two"]);
        assert_eq!(pending, b"part");
        let mut long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(take_lines(&mut long).len(), 1);
        assert!(long.is_empty());
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(parse_host("http://127.0.0.1:5000").is_ok());
        assert!(parse_host("http://localhost:5000").is_ok());
        assert!(parse_host("http://[::1]:5000").is_ok());
        assert!(parse_host("https://paas.example.org").is_ok());
        let err = parse_host("http://paas.example.org").err();
        assert!(err.is_some_and(|e| e.to_string().contains("clear text")));
        assert!(parse_host("ftp://localhost").is_err());
        assert!(parse_host("localhost:8443").is_err());
    }

    #[tokio::test]
    async fn connection_refused_names_host_and_server() -> Result<(), Box<dyn std::error::Error>> {
        // Bind then drop a listener to find a port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let host = format!("http://127.0.0.1:{port}");
        let client = Client::new(&host, "t0ken", None)?;
        let err = client
            .get::<serde_json::Value>("/account")
            .await
            .err()
            .ok_or("expected an error")?;
        let msg = err.to_string();
        assert!(matches!(err, CliError::Unreachable { .. }), "{msg}");
        assert!(
            msg.starts_with(&format!("Could not reach doppel at {host}: ")),
            "{msg}"
        );
        assert!(msg.contains("Is `doppel server` running?"), "{msg}");
        assert!(!msg.contains("t0ken"));
        Ok(())
    }

    #[test]
    fn missing_ca_file_is_reported() {
        let err = Client::new(
            "https://localhost:8443",
            "t",
            Some(Path::new("/nonexistent/ca.pem")),
        )
        .err();
        assert!(matches!(err, Some(CliError::CaCert { .. })));
    }

    #[test]
    fn debug_hides_token() -> Result<(), CliError> {
        let client = Client::new("http://127.0.0.1:1", "sekrit", None)?;
        assert!(!format!("{client:?}").contains("sekrit"));
        Ok(())
    }
}
