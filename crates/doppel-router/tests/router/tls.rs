//! TLS: the platform CA verifies per-host leaves (curl without -k), ALPN negotiates h2,
//! uploaded certificates are chosen by SNI and swapped without a restart.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use doppel_router::{Certificate, RouteTable};

use crate::harness::{curl, echo_upstream, public, Router};

#[tokio::test]
async fn curl_verifies_localhost_and_env_hosts() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("a").await?;
    router.publish(vec![(
        "myapp-staging.localhost",
        public("myapp-staging", vec![up]),
    )]);
    let (code, out, err) = curl(&router, &[&router.url("localhost", "/")]).await?;
    assert_eq!(code, 0, "curl localhost failed: {err}");
    assert_eq!(out, "doppel platform");

    let (code, out, err) = curl(
        &router,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &router.url("myapp-staging.localhost", "/"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "curl myapp-staging.localhost failed: {err}");
    assert_eq!(out, "200");

    // By IP, without SNI: the fallback certificate carries 127.0.0.1.
    let (code, out, err) = curl(
        &router,
        &[&format!("https://127.0.0.1:{}/", router.https.port())],
    )
    .await?;
    assert_eq!(code, 0, "curl 127.0.0.1 failed: {err}");
    assert_eq!(out, "doppel platform");
    router.stop().await
}

#[tokio::test]
async fn leaf_san_is_exactly_the_host() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let (code, _out, err) = curl(
        &router,
        &[
            "-v",
            "-o",
            "/dev/null",
            &router.url("deep.name.myapp.localhost", "/"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("subjectAltName: host \"deep.name.myapp.localhost\" matched cert's \"deep.name.myapp.localhost\""),
        "{err}"
    );
    router.stop().await
}

#[tokio::test]
async fn http2_via_alpn() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("a").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);

    let (code, out, err) = curl(
        &router,
        &[
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
            &router.url("localhost", "/"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "2 200");

    let (code, out, err) = curl(
        &router,
        &["--http2", &router.url("myapp.localhost", "/h2?x=1")],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["version"], "HTTP/1.1", "dyno side is HTTP/1.1");
    assert_eq!(v["uri"], "/h2?x=1");
    assert_eq!(
        v["headers"]["host"],
        format!("myapp.localhost:{}", router.https.port())
    );

    // Cookie fields an HTTP/2 client split reach the HTTP/1.1 dyno as one line.
    let (code, out, err) = curl(
        &router,
        &[
            "--http2",
            "-H",
            "cookie: a=1",
            "-H",
            "cookie: b=2",
            &router.url("myapp.localhost", "/cookies"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["headers"]["cookie"], "a=1; b=2", "{out}");

    let client = router.client(&["myapp.localhost"])?;
    let resp = client
        .get(router.url("myapp.localhost", "/"))
        .send()
        .await?;
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);

    // Many responses on one connection, each with its own request id: the id is sent as a
    // never-indexed literal (it would only churn HPACK's table), which must decode each time.
    let mut ids = std::collections::HashSet::new();
    for _ in 0..40 {
        let resp = client
            .get(router.url("myapp.localhost", "/"))
            .send()
            .await?;
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.headers()["via"], "1.1 doppel");
        let id = resp.headers()["x-request-id"].to_str()?.to_owned();
        assert_eq!(id.len(), 36, "a generated UUID: {id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 40, "every response has its own request id");
    router.stop().await
}

/// A CA of the test's own (as a customer's certificate authority would be).
struct TestCa {
    der: rustls::pki_types::CertificateDer<'static>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

fn test_ca() -> anyhow::Result<TestCa> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok(TestCa {
        der: cert.der().clone(),
        issuer: rcgen::Issuer::new(params, key),
    })
}

/// A certificate for `names` as uploaded through the SNI endpoints, and its leaf's DER.
fn uploaded(ca: &TestCa, id: &str, names: &[&str]) -> anyhow::Result<(Certificate, Vec<u8>)> {
    let key = rcgen::KeyPair::generate()?;
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    let cert = params.signed_by(&key, &ca.issuer)?;
    let upload = Certificate {
        id: id.into(),
        names: names.iter().map(|n| n.to_string()).collect(),
        chain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    Ok((upload, cert.der().to_vec()))
}

/// The leaf certificate the router presents for `host` (SNI), verified against `root`.
async fn served_leaf(
    router: &Router,
    host: &str,
    root: &rustls::pki_types::CertificateDer<'static>,
) -> anyhow::Result<Vec<u8>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone())?;
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
    let tcp = tokio::net::TcpStream::connect(router.https).await?;
    let name = rustls::pki_types::ServerName::try_from(host.to_string())?;
    let stream = connector.connect(name, tcp).await?;
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .context("no certificate")?;
    Ok(leaf.to_vec())
}

#[tokio::test]
async fn uploaded_certificates_are_chosen_by_sni_and_swapped_live() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("a").await?;
    let ca = test_ca()?;
    let (first, first_der) = uploaded(&ca, "sni-1", &["www.example.com"])?;
    let (wild, wild_der) = uploaded(&ca, "sni-2", &["*.example.org"])?;
    let table = |certs: Vec<Certificate>| RouteTable {
        routes: HashMap::from([
            ("www.example.com".to_string(), public("myapp", vec![up])),
            ("api.example.org".to_string(), public("myapp", vec![up])),
        ]),
        platform: Some(router.platform.clone()),
        certs,
        ..RouteTable::default()
    };
    router.publish_table(table(vec![first.clone(), wild.clone()]));

    // Each name gets the uploaded certificate that covers it (exact or wildcard)...
    assert_eq!(
        served_leaf(&router, "www.example.com", &ca.der).await?,
        first_der
    );
    assert_eq!(
        served_leaf(&router, "api.example.org", &ca.der).await?,
        wild_der
    );
    // ...and a full request over it reaches the app.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone())?;
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .resolve("www.example.com", router.https)
        .no_proxy()
        .build()?;
    let resp = client
        .get(router.url("www.example.com", "/"))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    // (Its idle keep-alive connection would hold the router's drain at stop.)
    drop(client);
    // Platform names keep the platform CA's leaves.
    served_leaf(&router, "myapp.localhost", router.ca.ca_der()).await?;

    // A renewed certificate is served to the next connection, without a restart.
    let (renewed, renewed_der) = uploaded(&ca, "sni-1", &["www.example.com"])?;
    router.publish_table(table(vec![renewed, wild]));
    assert_eq!(
        served_leaf(&router, "www.example.com", &ca.der).await?,
        renewed_der
    );
    // Removed: the name gets only the fallback certificate (the platform CA issues nothing
    // for names outside the platform domain), which no client accepts for it.
    router.publish_table(table(Vec::new()));
    let err = served_leaf(&router, "www.example.com", &ca.der).await;
    assert!(err.is_err(), "the removed certificate is still served");
    let err = served_leaf(&router, "www.example.com", router.ca.ca_der()).await;
    assert!(
        format!("{:?}", err.err()).contains("not valid for name"),
        "the fallback certificate should be served"
    );
    router.stop().await
}
