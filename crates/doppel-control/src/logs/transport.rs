//! Where a drain sends: its URL parsed into a syslog (TCP or TLS) or HTTP(S) target, and the
//! connections to it. TLS trusts the system's roots and the platform CA.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long connecting and each write or answer may take.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A drain's receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `syslog://host:port` or `syslog+tls://host:port`.
    Syslog { host: String, port: u16, tls: bool },
    /// `https://[user:pass@]host[:port]/path` (or `http://`).
    Https {
        host: String,
        port: u16,
        tls: bool,
        path: String,
        /// `Basic …` from the URL's user and password.
        authorization: Option<String>,
    },
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open connection to a syslog receiver.
pub struct Connection(Box<dyn Io>);

impl Connection {
    /// Writes the frames and flushes.
    pub async fn write_frames(&mut self, frames: &[String]) -> Result<(), String> {
        let bytes: String = frames.concat();
        timed(self.0.write_all(bytes.as_bytes())).await?;
        timed(self.0.flush()).await
    }
}

async fn timed<T>(f: impl std::future::Future<Output = std::io::Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(IO_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_string()),
    }
}

impl Target {
    /// Parses a drain URL; `Err` says why it cannot be a drain (without echoing credentials).
    pub fn parse(text: &str) -> Result<Target, String> {
        let url = url::Url::parse(text).map_err(|_| "the drain URL is not a URL".to_string())?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the drain URL names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        match url.scheme() {
            "syslog" | "syslog+tls" => Ok(Target::Syslog {
                port: url.port().ok_or("a syslog drain URL needs a port")?,
                tls: url.scheme() == "syslog+tls",
                host,
            }),
            "https" | "http" => {
                let authorization =
                    (!url.username().is_empty() || url.password().is_some()).then(|| {
                        use base64::Engine;
                        let pair = format!(
                            "{}:{}",
                            percent_decode(url.username()),
                            percent_decode(url.password().unwrap_or(""))
                        );
                        format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode(pair)
                        )
                    });
                let mut path = url.path().to_string();
                if let Some(q) = url.query() {
                    path.push('?');
                    path.push_str(q);
                }
                Ok(Target::Https {
                    port: url.port_or_known_default().unwrap_or(443),
                    tls: url.scheme() == "https",
                    host,
                    path,
                    authorization,
                })
            }
            other => Err(format!(
                "drains take syslog://, syslog+tls:// or https:// URLs, not {other}://"
            )),
        }
    }

    fn endpoint(&self) -> (&str, u16, bool) {
        match self {
            Target::Syslog { host, port, tls }
            | Target::Https {
                host, port, tls, ..
            } => (host, *port, *tls),
        }
    }

    /// Opens a connection (TLS when the target wants it).
    pub async fn connect(&self, tls: &Arc<rustls::ClientConfig>) -> Result<Connection, String> {
        let (host, port, secure) = self.endpoint();
        let tcp = timed(TcpStream::connect((host, port))).await?;
        let _ = tcp.set_nodelay(true);
        if !secure {
            return Ok(Connection(Box::new(tcp)));
        }
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|_| format!("{host} is not a name TLS can check"))?;
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        let stream = timed(connector.connect(name, tcp)).await?;
        Ok(Connection(Box::new(stream)))
    }

    /// POSTs the frames in one logplex request; a 2xx answer delivers them.
    pub async fn post(
        &self,
        tls: &Arc<rustls::ClientConfig>,
        token: &str,
        frames: &[String],
    ) -> Result<(), String> {
        let Target::Https {
            host,
            path,
            authorization,
            ..
        } = self
        else {
            return Err("not an HTTPS drain".to_string());
        };
        let body = frames.concat();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: doppel-logplex\r\n\
             Content-Type: application/logplex-1\r\nLogplex-Msg-Count: {}\r\n\
             Logplex-Frame-Id: {}\r\nLogplex-Drain-Token: {token}\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            frames.len(),
            uuid::Uuid::new_v4(),
            body.len()
        );
        if let Some(auth) = authorization {
            head.push_str(&format!("Authorization: {auth}\r\n"));
        }
        head.push_str("\r\n");
        let mut conn = self.connect(tls).await?;
        timed(conn.0.write_all(head.as_bytes())).await?;
        timed(conn.0.write_all(body.as_bytes())).await?;
        timed(conn.0.flush()).await?;
        let mut answer = [0u8; 64];
        let n = timed(conn.0.read(&mut answer)).await?;
        let status = std::str::from_utf8(&answer[..n])
            .ok()
            .and_then(|t| t.split_whitespace().nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or("the drain gave no HTTP answer")?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("the drain answered {status}"))
        }
    }
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// TLS settings for drains: the system's roots and the platform CA (`ca_pem`, if readable).
pub fn client_config(ca_pem: Option<&std::path::Path>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_pem {
        if let Ok(pem) = std::fs::read(path) {
            for cert in rustls_pemfile::certs(&mut pem.as_slice()).flatten() {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(c) => Arc::new(c),
        Err(e) => {
            tracing::error!(error = %e, "TLS for log drains could not be set up");
            Arc::new(
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_drain_urls() {
        assert_eq!(
            Target::parse("syslog+tls://logs.example.com:6514"),
            Ok(Target::Syslog {
                host: "logs.example.com".into(),
                port: 6514,
                tls: true
            })
        );
        let https = Target::parse("https://u:p%40ss@h.example/in?x=1");
        let Ok(Target::Https {
            port,
            path,
            authorization,
            ..
        }) = https
        else {
            panic!("{https:?}");
        };
        assert_eq!((port, path.as_str()), (443, "/in?x=1"));
        // "u:p@ss"
        assert_eq!(authorization.as_deref(), Some("Basic dTpwQHNz"));
        assert!(Target::parse("syslog://h").is_err());
        let err = Target::parse("ftp://secret:pw@h/")
            .err()
            .unwrap_or_default();
        assert!(!err.contains("pw"), "{err}");
        assert_eq!(percent_decode("a%2Fb%"), "a/b%");
    }
}
