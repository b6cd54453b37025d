//! HTTPS against a server whose certificate comes from a private CA: refused with a hint
//! about DOPPEL_CA_CERT without it, accepted when that CA is trusted.

use doppel_cli::{CliError, Client};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Starts a one-route HTTPS server on 127.0.0.1 answering every request with an account;
/// returns its URL and the CA's PEM.
async fn start_tls_server() -> Result<(String, String), Box<dyn std::error::Error>> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["localhost".to_string()])?.signed_by(&leaf_key, &ca)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = r#"{"id":"u1","email":"tls@example.com"}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Ok((format!("https://localhost:{port}"), ca.as_ref().pem()))
}

#[tokio::test]
async fn private_ca_is_refused_until_trusted() -> TestResult {
    let (host, ca_pem) = start_tls_server().await?;

    let untrusted = Client::new(&host, "tok", None);
    // Without any system roots the client cannot even be built; either way the hint is there.
    let err = match untrusted {
        Ok(client) => client
            .get::<Value>("/account")
            .await
            .err()
            .ok_or("expected a TLS error")?,
        Err(e) => e,
    };
    assert!(matches!(err, CliError::Tls { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("DOPPEL_CA_CERT") && msg.contains("ca.pem"),
        "{msg}"
    );

    let dir = tempfile::tempdir()?;
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca_pem)?;
    let trusted = Client::new(&host, "tok", Some(&ca_path))?;
    let account: Value = trusted.get("/account").await?;
    assert_eq!(account["email"], "tls@example.com");

    let not_pem = dir.path().join("junk.pem");
    std::fs::write(&not_pem, "hello")?;
    let err = Client::new(&host, "tok", Some(&not_pem)).err();
    assert!(matches!(err, Some(CliError::CaCert { .. })), "{err:?}");
    Ok(())
}
