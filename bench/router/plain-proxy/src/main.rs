//! The plainest hyper reverse proxy: TLS (rustls, ALPN h2 and http/1.1) in front, a pool of
//! HTTP/1.1 keep-alive connections to one backend behind, every request forwarded as it came
//! (only `Host` set from HTTP/2's `:authority`). doppel's router is built on the same
//! libraries with the same settings (mimalloc, fat LTO); the difference between the two in
//! `bench/router/instructions.sh` is the cost of doppel's own work per request.
//!
//!   plain-proxy CERT KEY LISTEN_PORT BACKEND_ADDR

use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, HOST};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Pool = Arc<Mutex<Vec<SendRequest<Incoming>>>>;
type BoxError = Box<dyn Error + Send + Sync>;

async fn forward(
    pool: Pool,
    backend: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Incoming>, BoxError> {
    let (mut parts, body) = req.into_parts();
    if let Some(authority) = parts.uri.authority() {
        parts.headers.insert(HOST, HeaderValue::from_str(authority.as_str())?);
    }
    parts.uri = match parts.uri.path_and_query() {
        Some(p) => p.as_str().parse()?,
        None => hyper::Uri::from_static("/"),
    };
    parts.version = hyper::Version::HTTP_11;
    let mut sender = loop {
        let idle = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(s) if s.is_ready() => break s,
            Some(_) => continue,
            None => {
                let tcp = tokio::net::TcpStream::connect(backend).await?;
                tcp.set_nodelay(true)?;
                let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
                tokio::spawn(conn);
                break s;
            }
        }
    };
    let response = sender.send_request(hyper::Request::from_parts(parts, body)).await?;
    // The connection is ready again once the response body has been read.
    tokio::spawn(async move {
        if sender.ready().await.is_ok() {
            pool.lock().unwrap_or_else(|e| e.into_inner()).push(sender);
        }
    });
    Ok(response)
}

fn tls(cert: &str, key: &str) -> Result<tokio_rustls::TlsAcceptor, BoxError> {
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(std::fs::File::open(cert)?))
        .collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(std::fs::File::open(key)?))?
        .ok_or("no private key in the key file")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let [_, cert, key, port, backend] = args.as_slice() else {
        return Err("usage: plain-proxy CERT KEY LISTEN_PORT BACKEND_ADDR".into());
    };
    let acceptor = tls(cert, key)?;
    let backend: SocketAddr = backend.parse()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
    let pool: Pool = Arc::default();
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let (acceptor, pool) = (acceptor.clone(), pool.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let service = service_fn(move |req| forward(pool.clone(), backend, req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
