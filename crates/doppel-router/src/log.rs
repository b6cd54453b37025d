//! The per-request router log line, in Heroku's router format.

use std::fmt::Write;

/// Fields of one router log line; emitted once per proxied request.
#[derive(Debug, Clone, Default)]
pub(crate) struct RouterLog {
    pub method: String,
    pub path: String,
    pub host: String,
    pub request_id: String,
    pub fwd: String,
    pub dyno: Option<String>,
    pub connect_ms: Option<u128>,
    pub service_ms: Option<u128>,
    pub status: u16,
    pub bytes: u64,
    /// `http1.1` or `http2.0` (client side).
    pub protocol: &'static str,
    pub tls: bool,
    /// Heroku error code and description (`H12`, `Request timeout`).
    pub error: Option<(&'static str, &'static str)>,
}

/// Replaces characters that would break a quoted log value.
fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl RouterLog {
    /// The line, e.g. `at=info method=GET path="/" host=… status=200 bytes=13 protocol=http1.1 tls=true`.
    pub(crate) fn line(&self) -> String {
        let mut l = String::with_capacity(256);
        match self.error {
            Some((code, desc)) => {
                let _ = write!(l, "at=error code={code} desc=\"{desc}\" ");
            }
            None => l.push_str("at=info "),
        }
        let ms = |v: Option<u128>| v.map(|v| format!("{v}ms")).unwrap_or_default();
        let _ = write!(
            l,
            "method={} path=\"{}\" host={} request_id={} fwd=\"{}\" dyno={} connect={} service={} status={} bytes={} protocol={} tls={}",
            self.method,
            quoted(&self.path),
            self.host,
            self.request_id,
            quoted(&self.fwd),
            self.dyno.as_deref().unwrap_or(""),
            ms(self.connect_ms),
            ms(self.service_ms),
            self.status,
            self.bytes,
            self.protocol,
            self.tls,
        );
        l
    }

    /// Emits the line at info level (target `doppel_router::router`) and hands it to the
    /// observer as a line of environment `env`.
    pub(crate) fn emit(&self, env: &str, observer: &crate::Observer) {
        let line = self.line();
        tracing::info!(target: "doppel_router::router", "{line}");
        observer.line(env, &line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heroku_format() {
        let log = RouterLog {
            method: "GET".into(),
            path: "/a?b=\"c\"".into(),
            host: "myapp.localhost".into(),
            request_id: "rid".into(),
            fwd: "127.0.0.1".into(),
            dyno: Some("127.0.0.1:5000".into()),
            connect_ms: Some(1),
            service_ms: Some(18),
            status: 200,
            bytes: 13,
            protocol: "http1.1",
            tls: true,
            error: None,
        };
        assert_eq!(
            log.line(),
            "at=info method=GET path=\"/a?b=\\\"c\\\"\" host=myapp.localhost request_id=rid fwd=\"127.0.0.1\" \
dyno=127.0.0.1:5000 connect=1ms service=18ms status=200 bytes=13 protocol=http1.1 tls=true"
        );
        let err = RouterLog {
            error: Some(("H12", "Request timeout")),
            ..log
        };
        assert!(err
            .line()
            .starts_with("at=error code=H12 desc=\"Request timeout\" method=GET"));
    }
}
