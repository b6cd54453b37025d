//! The router through a live doppel, as a user sees it: real Docker dynos of the `edge`
//! fixture (which logs every request it gets) behind `doppel router`. Staging's Basic auth
//! (401 with a login prompt, tokens of users with access, the access password, another
//! app's member refused, the dyno never contacted on 401), the headers the dyno receives,
//! HTTP/2 by ALPN, a WebSocket echo, malformed and slow clients, the H-code pages with their
//! router log lines in `doppel logs` (H10, H12, H13, H14, H80), a killed dyno failing no
//! request, and session affinity turned on with the Heroku CLI keeping a client on one dyno.
//! One server and one app per test; the tests run in parallel.

use anyhow::{bail, Context as _, Result};
use doppel_e2e::{docker, wait_for, AppRepo, HerokuCli, Server};
use futures_util::{SinkExt, StreamExt};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A server whose app `app` has the `edge` fixture serving on staging.
fn live(app: &str) -> Result<(Server, String)> {
    let server = Server::start()?;
    server.create_app(app)?;
    let env = format!("{app}-staging");
    let repo = AppRepo::from_fixture("edge")?;
    let (ok, transcript) = repo.push(&server, &env, "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert!(
        server.wait_serves(&env, "hello from edge", 60)?,
        "staging never served:\n{}",
        server.log()
    );
    Ok((server, env))
}

/// One answer seen by curl.
struct Answer {
    status: u16,
    /// The response head, lowercased.
    head: String,
    body: String,
}

/// curl `path` on `env`'s host through the router, with `password` as Basic auth and `extra`
/// curl arguments.
fn curl(
    server: &Server,
    env: &str,
    path: &str,
    password: Option<&str>,
    extra: &[&str],
) -> Result<Answer> {
    let url = format!("{}{}", server.env_url(env), path.trim_start_matches('/'));
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-D",
        "-",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "--max-time",
        "50",
    ])
    .arg("--cacert")
    .arg(server.ca())
    .args(extra);
    if let Some(p) = password {
        cmd.args(["-u", &format!(":{p}")]);
    }
    let out = cmd.arg(&url).output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (rest, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    let status = code.trim().parse().with_context(|| {
        format!(
            "curl {url}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let (head, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
    Ok(Answer {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

/// The last 1500 lines of `env`'s log stream (`doppel logs`).
fn logs(server: &Server, env: &str) -> Result<String> {
    let out = server.cli(&["logs", "-a", env, "-n", "1500"])?;
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// Waits up to `secs` for `env`'s logs to hold every one of `needles` on one line; the line.
fn wait_log_line(server: &Server, env: &str, needles: &[&str], secs: u64) -> Result<String> {
    let mut found = String::new();
    wait_for(secs, || {
        let text = logs(server, env)?;
        if let Some(line) = text.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            found = line.to_string();
            return Ok(true);
        }
        Ok(false)
    })?;
    if found.is_empty() {
        bail!(
            "no log line of {env} with {needles:?}:\n{}",
            logs(server, env)?
        );
    }
    Ok(found)
}

/// Runs a doppel CLI command, failing unless it succeeds; its standard output.
fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    if !out.status.success() {
        bail!(
            "doppel {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// A member of another app: returns their token.
fn member_of_another_app(server: &Server) -> Result<String> {
    server.create_app("elsewhere")?;
    let body = serde_json::json!({ "email": "other@example.com" });
    let (status, user) = server.api("POST", "/users", Some(&body))?;
    assert_eq!(status, 201, "{user}");
    let body = serde_json::json!({ "user": "other@example.com" });
    let (status, grant) =
        server.api("POST", "/apps/elsewhere-staging/collaborators", Some(&body))?;
    assert_eq!(status, 201, "{grant}");
    Ok(user["token"].as_str().unwrap_or_default().to_string())
}

#[test]
fn staging_admits_only_its_credentials_and_the_dyno_sees_the_proxy_headers() -> Result<()> {
    let (server, env) = live("gated")?;

    // No credentials, a wrong password, another app's member: 401 with a login prompt, and
    // the dyno never hears of these requests.
    let other = member_of_another_app(&server)?;
    let (status, account) = {
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(server.ca())
            .args(["-H", "Accept: application/vnd.heroku+json; version=3"])
            .args(["-H", &format!("Authorization: Bearer {other}")])
            .arg(format!("{}/account", server.platform_url()))
            .output()?;
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            other.clone(),
        )
    };
    assert_eq!(
        status, "200",
        "the other member's token works on the API ({account})"
    );
    for (password, path) in [
        (None, "/never-anonymous"),
        (Some("not-a-token-nor-a-password"), "/never-wrong"),
        (Some(other.as_str()), "/never-other-member"),
    ] {
        let a = curl(&server, &env, path, password, &[])?;
        assert_eq!(a.status, 401, "{path}: {}", a.body);
        assert!(
            a.head.contains("www-authenticate: basic realm=\""),
            "{path}: no login prompt: {}",
            a.head
        );
    }

    // The token of a user with access: 200.
    let ok = curl(&server, &env, "/with-token", Some(&server.token), &[])?;
    assert_eq!(ok.status, 200, "{}", ok.body);

    // The access password: generated once by the CLI, admitted, then removed.
    let said = cli_ok(&server, &["access:password", "-a", &env, "--generate"])?;
    let password = said
        .lines()
        .find(|l| l.starts_with("    ") && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .with_context(|| format!("no password printed: {said}"))?;
    assert!(password.len() >= 16, "{said}");
    assert!(
        wait_for(5, || Ok(curl(
            &server,
            &env,
            "/with-password",
            Some(&password),
            &[]
        )?
        .status
            == 200))?,
        "the access password was not admitted within 5 s"
    );
    let shown = cli_ok(&server, &["access:password", "-a", &env])?;
    assert!(
        shown.contains("has an access password") && !shown.contains(&password),
        "{shown}"
    );
    cli_ok(&server, &["access:password", "-a", &env, "--remove"])?;
    assert!(
        wait_for(5, || Ok(curl(
            &server,
            &env,
            "/never-removed",
            Some(&password),
            &[]
        )?
        .status
            == 401))?,
        "the removed access password still passes"
    );
    // The dyno logged the admitted requests and none of the refused ones.
    wait_log_line(&server, &env, &["REQ GET /with-password"], 20)?;
    let text = logs(&server, &env)?;
    assert!(text.contains("REQ GET /with-token"), "{text}");
    assert!(
        !text.contains("REQ GET /never"),
        "a refused request reached the dyno:\n{text}"
    );

    // Headers as the dyno sees them; credentials stripped.
    let a = curl(
        &server,
        &env,
        "/headers",
        Some(&server.token),
        &[
            "-H",
            "X-Request-Id: e2e-request-0123456789",
            "-H",
            "X-Forwarded-For: 203.0.113.7",
        ],
    )?;
    assert_eq!(a.status, 200, "{}", a.body);
    let seen: serde_json::Value = serde_json::from_str(&a.body)?;
    assert_eq!(seen["x-forwarded-for"], "203.0.113.7, 127.0.0.1", "{seen}");
    assert_eq!(seen["x-forwarded-proto"], "https", "{seen}");
    assert_eq!(
        seen["x-forwarded-port"],
        server.https_port.to_string(),
        "{seen}"
    );
    assert_eq!(seen["x-request-id"], "e2e-request-0123456789", "{seen}");
    assert!(
        a.head.contains("x-request-id: e2e-request-0123456789"),
        "{}",
        a.head
    );
    assert!(
        seen["via"].as_str().unwrap_or_default().contains("doppel"),
        "{seen}"
    );
    assert!(
        seen.get("authorization").is_none(),
        "credentials reached the dyno: {seen}"
    );
    let start: u128 = seen["x-request-start"]
        .as_str()
        .unwrap_or_default()
        .parse()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    assert!(
        now.abs_diff(start) < 60_000,
        "X-Request-Start {start} vs now {now}"
    );
    // An invalid request id is replaced by a generated one.
    let a = curl(
        &server,
        &env,
        "/headers",
        Some(&server.token),
        &["-H", "X-Request-Id: bad id"],
    )?;
    let seen: serde_json::Value = serde_json::from_str(&a.body)?;
    let id = seen["x-request-id"].as_str().unwrap_or_default();
    assert!(id.len() >= 20 && id != "bad id", "{seen}");

    // HTTP/2 by ALPN.
    let h2 = curl(&server, &env, "/", Some(&server.token), &["--http2"])?;
    assert!(h2.head.starts_with("http/2 200"), "{}", h2.head);
    assert!(h2.body.contains("hello from edge"), "{}", h2.body);

    websocket_echo(&server, &env)?;
    malformed_and_silent_clients(&server, &env)?;
    Ok(())
}

/// A WebSocket through the router: text and binary frames come back, then a clean close.
fn websocket_echo(server: &Server, env: &str) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let tls = tls_to(server, env).await?;
        let url = format!("wss://{env}.localhost:{}/ws", server.https_port);
        let mut request = url.into_client_request()?;
        let basic = base64_basic(&server.token);
        request
            .headers_mut()
            .insert("Authorization", basic.parse()?);
        let (mut ws, response) = tokio_tungstenite::client_async(request, tls).await?;
        assert_eq!(response.status().as_u16(), 101);
        ws.send(Message::text("echo through the router")).await?;
        let back = tokio::time::timeout(Duration::from_secs(10), ws.next()).await?;
        assert_eq!(
            back.context("closed")??,
            Message::text("echo through the router")
        );
        ws.send(Message::binary(vec![0u8, 1, 2, 255])).await?;
        let back = tokio::time::timeout(Duration::from_secs(10), ws.next()).await?;
        assert_eq!(
            back.context("closed")??,
            Message::binary(vec![0u8, 1, 2, 255])
        );
        ws.close(None).await?;
        anyhow::Ok(())
    })
}

/// `Basic` credentials with `password` and an empty user name.
fn base64_basic(password: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!(":{password}"));
    format!("Basic {encoded}")
}

/// A TLS connection to the router for `env`'s host (HTTP/1.1 by ALPN), trusting the platform CA.
async fn tls_to(
    server: &Server,
    env: &str,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(server.ca())?;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.https_port)).await?;
    let name = rustls::pki_types::ServerName::try_from(format!("{env}.localhost"))?;
    Ok(connector.connect(name, tcp).await?)
}

/// Garbage instead of a request gets 400 (over TLS and plain HTTP); a client that never
/// finishes its TLS handshake is cut off; the router serves on.
fn malformed_and_silent_clients(server: &Server, env: &str) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tls = tls_to(server, env).await?;
        tls.write_all(b"THIS IS NOT HTTP\r\n\r\n").await?;
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut buf)).await??;
        anyhow::Ok(String::from_utf8_lossy(&buf).to_string())
    })?;
    assert!(answer.starts_with("HTTP/1.1 400"), "over TLS: {answer}");
    let mut plain = TcpStream::connect(("127.0.0.1", server.http_port))?;
    plain.set_read_timeout(Some(Duration::from_secs(10)))?;
    plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n")?;
    let mut answer = String::new();
    plain.read_to_string(&mut answer)?;
    assert!(answer.starts_with("HTTP/1.1 400"), "plain: {answer}");

    // A client that connects and says nothing is closed after the TLS handshake timeout (10 s).
    let started = Instant::now();
    let mut silent = TcpStream::connect(("127.0.0.1", server.https_port))?;
    silent.set_read_timeout(Some(Duration::from_secs(40)))?;
    let mut buf = [0u8; 64];
    let closed = matches!(silent.read(&mut buf), Ok(0) | Err(_));
    assert!(
        closed && started.elapsed() < Duration::from_secs(30),
        "a silent client was kept"
    );
    let ok = curl(server, env, "/", Some(&server.token), &[])?;
    assert_eq!(ok.status, 200, "the router stopped serving: {}", ok.body);
    Ok(())
}

#[test]
fn h_codes_answer_their_pages_and_log_heroku_router_lines() -> Result<()> {
    let (server, env) = live("codes")?;
    let token = server.token.clone();

    // A client sending half a request head is cut off by the header read timeout (30 s),
    // meanwhile (the H12 wait runs in parallel).
    let http_port = server.http_port;
    let slow = std::thread::spawn(move || -> Result<Duration> {
        let started = Instant::now();
        let mut c = TcpStream::connect(("127.0.0.1", http_port))?;
        c.set_read_timeout(Some(Duration::from_secs(50)))?;
        c.write_all(b"GET / HTTP/1.1\r\nHost: slow.example\r\n")?;
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
        Ok(started.elapsed())
    });

    // H12: no first byte within 30 s.
    let a = curl(&server, &env, "/sleep?s=40", Some(&token), &[])?;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.body.contains("H12"), "{}", a.body);
    let line = wait_log_line(&server, &env, &["code=H12", "path=\"/sleep?s=40\""], 20)?;
    for part in [
        "at=error",
        "desc=\"Request timeout\"",
        "method=GET",
        "host=codes-staging.localhost",
        "request_id=",
        "fwd=\"127.0.0.1\"",
        "dyno=web.1",
        "connect=",
        "service=",
        "status=503",
        "bytes=",
        "protocol=http2.0",
        "tls=true",
    ] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
    assert!(!line.contains(" connect= "), "no connect time: {line}");
    let waited = slow
        .join()
        .map_err(|_| anyhow::anyhow!("the slow client panicked"))??;
    assert!(
        waited < Duration::from_secs(45),
        "a slow header was kept {waited:?}"
    );

    // H13: the dyno closes the connection without a response.
    let a = curl(&server, &env, "/close", Some(&token), &[])?;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.body.contains("H13"), "{}", a.body);
    wait_log_line(
        &server,
        &env,
        &["code=H13", "path=\"/close\"", "status=503"],
        20,
    )?;

    // H80: maintenance mode; the dyno is not asked.
    cli_ok(&server, &["maintenance:on", "-a", &env])?;
    let a = curl(&server, &env, "/in-maintenance", Some(&token), &[])?;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.body.contains("H80"), "{}", a.body);
    wait_log_line(&server, &env, &["code=H80", "path=\"/in-maintenance\""], 20)?;
    cli_ok(&server, &["maintenance:off", "-a", &env])?;
    assert!(
        server.wait_serves(&env, "hello from edge", 20)?,
        "not back after maintenance"
    );

    // H10: the web dyno crashed (its restarts back off, so a crash soon shows the page).
    let mut crashed = None;
    for _ in 0..6 {
        let _ = curl(&server, &env, "/crash", Some(&token), &["--max-time", "10"]);
        let seen = wait_for(8, || {
            let a = curl(&server, &env, "/", Some(&token), &["--max-time", "10"])?;
            if a.status == 503 && a.body.contains("H10") {
                crashed = Some(a.body);
                return Ok(true);
            }
            Ok(false)
        })?;
        if seen {
            break;
        }
        server.wait_serves(&env, "hello from edge", 60)?;
    }
    assert!(
        crashed.is_some(),
        "never saw H10:\n{}",
        logs(&server, &env)?
    );
    wait_log_line(&server, &env, &["code=H10", "desc=\"App crashed\""], 20)?;

    // H14: no web dyno.
    cli_ok(&server, &["ps:scale", "web=0", "-a", &env])?;
    assert!(
        wait_for(30, || {
            let a = curl(&server, &env, "/", Some(&token), &[])?;
            Ok(a.status == 503 && a.body.contains("H14"))
        })?,
        "never saw H14"
    );
    wait_log_line(
        &server,
        &env,
        &["code=H14", "desc=\"No web processes running\""],
        20,
    )?;
    Ok(())
}

/// A request that did not get 200: its number, status and body.
type Failed = (usize, u16, String);

#[test]
fn a_killed_dyno_fails_no_request() -> Result<()> {
    let (server, env) = live("sturdy")?;
    cli_ok(&server, &["ps:scale", "web=2", "-a", &env])?;
    let token = server.token.clone();
    let mut dynos = std::collections::HashSet::new();
    wait_for(60, || {
        let a = curl(&server, &env, "/", Some(&token), &[])?;
        if let Some(d) = a.body.trim().strip_prefix("hello from edge ") {
            dynos.insert(d.to_string());
        }
        Ok(dynos.len() == 2)
    })?;
    assert_eq!(dynos.len(), 2, "both web dynos never served: {dynos:?}");
    let ids = server.dyno_ids(&env)?;
    assert!(ids.len() >= 2, "{ids:?}");
    // Requests run before, during and after the kill, so some meet the dead dyno before
    // the route table drops it.
    let server = Arc::new(server);
    let load = {
        let (server, env, token) = (server.clone(), env.clone(), token.clone());
        std::thread::spawn(move || -> Result<(usize, Vec<Failed>)> {
            let mut failed = Vec::new();
            let started = Instant::now();
            let mut i = 0;
            while started.elapsed() < Duration::from_secs(8) {
                let a = curl(
                    &server,
                    &env,
                    &format!("/during-kill-{i}"),
                    Some(&token),
                    &[],
                )?;
                if a.status != 200 {
                    failed.push((i, a.status, a.body));
                }
                i += 1;
            }
            Ok((i, failed))
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    let (ok, out) = docker(&["kill", &ids[0]])?;
    assert!(ok, "docker kill: {out}");
    let (sent, mut failed) = load
        .join()
        .map_err(|_| anyhow::anyhow!("the load panicked"))??;
    assert!(sent > 10, "only {sent} requests");
    for i in 0..20 {
        let a = curl(
            &server,
            &env,
            &format!("/after-kill-{i}"),
            Some(&token),
            &[],
        )?;
        if a.status != 200 {
            failed.push((i, a.status, a.body));
        }
    }
    assert!(
        failed.is_empty(),
        "requests failed after a dyno was killed: {failed:?}"
    );
    Ok(())
}

/// The dyno that answered (the `edge` fixture says `hello from edge <dyno>`).
fn dyno_of(a: &Answer) -> Option<String> {
    a.body
        .trim()
        .strip_prefix("hello from edge ")
        .map(str::to_string)
}

#[test]
fn session_affinity_keeps_a_client_on_one_dyno() -> Result<()> {
    let (server, env) = live("sticky")?;
    let token = server.token.clone();
    server
        .heroku(
            HerokuCli::V11,
            &["features:enable", "http-session-affinity", "-a", &env],
        )?
        .ok()?;
    let listed = server
        .heroku(HerokuCli::V11, &["features", "-a", &env])?
        .ok()?;
    assert!(
        listed.text().contains("[+] http-session-affinity"),
        "{}",
        listed.text()
    );
    cli_ok(&server, &["ps:scale", "web=2", "-a", &env])?;
    // Both dynos serve clients that bring no cookie.
    let mut dynos = std::collections::HashSet::new();
    wait_for(60, || {
        let a = curl(&server, &env, "/", Some(&token), &[])?;
        dynos.extend(dyno_of(&a));
        Ok(dynos.len() == 2)
    })?;
    assert_eq!(dynos.len(), 2, "both web dynos never served: {dynos:?}");

    // A client keeping its cookies stays on the dyno of its first answer.
    let jar = tempfile::NamedTempFile::new()?;
    let jar_path = jar.path().display().to_string();
    let keep = ["-b", jar_path.as_str(), "-c", jar_path.as_str()];
    let first = curl(&server, &env, "/", Some(&token), &keep)?;
    assert!(
        first.head.contains("set-cookie: heroku-session-affinity="),
        "{}",
        first.head
    );
    let home = dyno_of(&first).context("no dyno in the first answer")?;
    for i in 0..20 {
        let a = curl(&server, &env, &format!("/again-{i}"), Some(&token), &keep)?;
        assert_eq!(dyno_of(&a).as_deref(), Some(home.as_str()), "request {i}");
        assert!(!a.head.contains("heroku-session-affinity"), "{}", a.head);
    }

    // Off again (our CLI): no cookie is set, and the same client reaches both dynos.
    cli_ok(
        &server,
        &["features:disable", "http-session-affinity", "-a", &env],
    )?;
    let mut seen = std::collections::HashSet::new();
    wait_for(60, || {
        let a = curl(&server, &env, "/", Some(&token), &keep)?;
        if a.head.contains("set-cookie: heroku-session-affinity=") {
            return Ok(false);
        }
        seen.extend(dyno_of(&a));
        Ok(seen.len() == 2)
    })?;
    assert_eq!(
        seen.len(),
        2,
        "still sticky after features:disable: {seen:?}"
    );
    Ok(())
}
