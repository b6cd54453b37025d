//! The per-request router log line, in Heroku's router format, and where it goes: a
//! [`LogSink`] the router calls once per proxied request. In the router process the sink feeds
//! the control socket's log stream (`GET /v1/logs`), which the control plane reads and puts
//! into each environment's log stream (its own `LogSink` implementation).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::uri::PathAndQuery;
use http::{HeaderValue, Method};
use serde::{Deserialize, Serialize};

/// One router log line for one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterLine {
    /// The environment's name (`myapp-staging`).
    pub env: Arc<str>,
    /// When the request arrived, Unix milliseconds.
    pub at_ms: u64,
    /// `at=info method=GET path="/" host=… status=200 …` (no timestamp, no `heroku[router]:`).
    pub line: String,
}

/// Receives the router's log lines. Called on the request path: it must not block.
pub trait LogSink: Send + Sync + 'static {
    /// Whether any line would be kept now; when false the router does not format them.
    fn enabled(&self) -> bool {
        true
    }
    /// One line; dropping it (a full buffer, no reader) is allowed, blocking is not.
    fn router_line(&self, line: RouterLine);
}

/// A sink that writes lines to the process's own log (`tracing`, target `doppel_router::router`).
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingSink;

impl LogSink for TracingSink {
    fn enabled(&self) -> bool {
        tracing::enabled!(target: "doppel_router::router", tracing::Level::INFO)
    }

    fn router_line(&self, line: RouterLine) {
        tracing::info!(target: "doppel_router::router", env = %line.env, "{}", line.line);
    }
}

/// A sink that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSink;

impl LogSink for NoSink {
    fn enabled(&self) -> bool {
        false
    }

    fn router_line(&self, _line: RouterLine) {}
}

/// Fields of one router log line; emitted once per proxied request.
#[derive(Debug, Clone)]
pub(crate) struct RouterLog {
    pub env: Arc<str>,
    pub at: SystemTime,
    pub method: Method,
    /// Path and query, as the client sent them.
    pub path: PathAndQuery,
    pub host: String,
    pub request_id: HeaderValue,
    pub fwd: HeaderValue,
    pub dyno: Option<Arc<str>>,
    pub connect_ms: Option<u64>,
    pub service_ms: Option<u64>,
    pub status: u16,
    pub bytes: u64,
    /// `http1.1` or `http2.0` (client side).
    pub protocol: &'static str,
    pub tls: bool,
    pub tls_version: &'static str,
    /// Heroku error code and description (`H12`, `Request timeout`).
    pub error: Option<(&'static str, &'static str)>,
    /// `at=info` codes (H80 maintenance, H81 blank app) are not errors.
    pub info_code: bool,
}

/// Appends `s` for a quoted log value: `\` and `"` escaped, line breaks as spaces.
fn push_quoted(l: &mut String, s: &str) {
    if !s.contains(['\\', '"', '\n', '\r']) {
        l.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => l.push_str("\\\\"),
            '"' => l.push_str("\\\""),
            '\n' | '\r' => l.push(' '),
            c => l.push(c),
        }
    }
}

fn push_num(l: &mut String, n: impl itoa::Integer) {
    l.push_str(itoa::Buffer::new().format(n));
}

impl RouterLog {
    /// The line, e.g. `at=info method=GET path="/" host=… status=200 bytes=13 protocol=http1.1 tls=true`.
    pub(crate) fn line(&self) -> String {
        let mut l = String::with_capacity(320);
        match self.error {
            Some((code, desc)) => {
                l.push_str(if self.info_code {
                    "at=info code="
                } else {
                    "at=error code="
                });
                l.push_str(code);
                l.push_str(" desc=\"");
                l.push_str(desc);
                l.push_str("\" ");
            }
            None => l.push_str("at=info "),
        }
        l.push_str("method=");
        l.push_str(self.method.as_str());
        l.push_str(" path=\"");
        push_quoted(&mut l, self.path.as_str());
        l.push_str("\" host=");
        l.push_str(&self.host);
        l.push_str(" request_id=");
        l.push_str(self.request_id.to_str().unwrap_or(""));
        l.push_str(" fwd=\"");
        push_quoted(&mut l, self.fwd.to_str().unwrap_or(""));
        l.push_str("\" dyno=");
        l.push_str(self.dyno.as_deref().unwrap_or(""));
        l.push_str(" connect=");
        if let Some(ms) = self.connect_ms {
            push_num(&mut l, ms);
            l.push_str("ms");
        }
        l.push_str(" service=");
        if let Some(ms) = self.service_ms {
            push_num(&mut l, ms);
            l.push_str("ms");
        }
        l.push_str(" status=");
        push_num(&mut l, self.status);
        l.push_str(" bytes=");
        push_num(&mut l, self.bytes);
        l.push_str(" protocol=");
        l.push_str(self.protocol);
        l.push_str(if self.tls {
            " tls=true tls_version="
        } else {
            " tls=false"
        });
        if self.tls {
            l.push_str(self.tls_version);
        }
        l
    }

    /// Hands the line to `sink` (formatting it only if the sink keeps lines).
    pub(crate) fn emit(&self, sink: &dyn LogSink) {
        if !sink.enabled() {
            return;
        }
        let at_ms = self
            .at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        sink.router_line(RouterLine {
            env: self.env.clone(),
            at_ms,
            line: self.line(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> RouterLog {
        RouterLog {
            env: Arc::from("myapp"),
            at: SystemTime::now(),
            method: Method::GET,
            path: PathAndQuery::from_static("/a?b=%22c%22"),
            host: "myapp.localhost".into(),
            request_id: HeaderValue::from_static("rid"),
            fwd: HeaderValue::from_static("127.0.0.1"),
            dyno: Some(Arc::from("web.1")),
            connect_ms: Some(1),
            service_ms: Some(18),
            status: 200,
            bytes: 13,
            protocol: "http1.1",
            tls: true,
            tls_version: "tls1.3",
            error: None,
            info_code: false,
        }
    }

    #[test]
    fn heroku_format() {
        assert_eq!(
            log().line(),
            "at=info method=GET path=\"/a?b=%22c%22\" host=myapp.localhost request_id=rid fwd=\"127.0.0.1\" \
dyno=web.1 connect=1ms service=18ms status=200 bytes=13 protocol=http1.1 tls=true tls_version=tls1.3"
        );
        let err = RouterLog {
            error: Some(("H12", "Request timeout")),
            connect_ms: None,
            service_ms: None,
            dyno: None,
            ..log()
        };
        assert!(err
            .line()
            .starts_with("at=error code=H12 desc=\"Request timeout\" method=GET"));
        assert!(err.line().contains(" dyno= connect= service= status="));
        let maint = RouterLog {
            error: Some(("H80", "Maintenance mode")),
            info_code: true,
            ..log()
        };
        assert!(maint
            .line()
            .starts_with("at=info code=H80 desc=\"Maintenance mode\""));
    }
}
