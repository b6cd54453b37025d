//! Auth, discovery, malformed and corrupt requests, probe POSTs, gzip bodies, clone, and the
//! hook binary without a socket.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::{basic_auth, pkt, raw_request, text, Client, Server, TOKEN};
use doppel_git::ZERO_OID;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_get_basic_challenge() {
    let srv = Server::start().await;
    let r = raw_request(
        srv.port,
        "GET",
        "/app.git/info/refs?service=git-receive-pack",
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"doppel\""));
    let r = raw_request(srv.port, "POST", "/app.git/git-receive-pack", &[], b"0000").await;
    assert_eq!(r.status, 401);

    let c = Client::new().await;
    c.commit("a", b"a", "a").await;
    let out = c.git(&["push", &srv.url_with("app", None), "main"]).await;
    assert!(!out.status.success());
    let out = c
        .git(&["push", &srv.url_with("app", Some("wrong")), "main"])
        .await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Authentication failed"),
        "{}",
        text(&out)
    );
    assert!(srv.handler.pushes().is_empty());
    assert_eq!(srv.server_ref("app", "refs/heads/main").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_app_message_reaches_git() {
    let srv = Server::start().await;
    srv.handler.unknown.lock().unwrap().insert("missing".into());
    let c = Client::new().await;
    c.commit("a", b"a", "a").await;
    let out = c.git(&["push", &srv.url("missing"), "main"]).await;
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("remote: App not found: missing. Check the name with `doppel apps`."),
        "{t}"
    );
    assert!(!srv.repo_dir("missing").exists());

    let r = raw_request(
        srv.port,
        "GET",
        "/app/info/refs?service=git-upload-pack",
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advertisement_format() {
    let srv = Server::start().await;
    let auth = basic_auth();
    let r = raw_request(
        srv.port,
        "GET",
        "/app.git/info/refs?service=git-receive-pack",
        &[("Authorization", &auth), ("Git-Protocol", "version=2")],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-git-receive-pack-advertisement")
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let body = r.body_text();
    assert!(
        body.starts_with("001f# service=git-receive-pack\n0000"),
        "{body}"
    );
    // Empty repository, v0 advertisement regardless of Git-Protocol.
    assert!(
        body.contains(&format!("{ZERO_OID} capabilities^{{}}\0")),
        "{body}"
    );
    assert!(
        body.contains("report-status") && body.contains("side-band-64k"),
        "{body}"
    );

    let r = raw_request(
        srv.port,
        "GET",
        "/app.git/info/refs?service=git-upload-pack",
        &[("Authorization", &auth)],
        b"",
    )
    .await;
    assert_eq!(
        r.header("content-type"),
        Some("application/x-git-upload-pack-advertisement")
    );
    assert!(r
        .body_text()
        .starts_with("001e# service=git-upload-pack\n0000"));

    let r = raw_request(
        srv.port,
        "GET",
        "/app.git/info/refs",
        &[("Authorization", &auth)],
        b"",
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_post_gets_empty_ok() {
    let srv = Server::start().await;
    let auth = basic_auth();
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-receive-pack",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-git-receive-pack-request"),
        ],
        b"0000",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-git-receive-pack-result")
    );
    assert!(r.body.is_empty(), "{:?}", r.body_text());
    assert!(srv.handler.pushes().is_empty());
}

/// A repo with one pushed commit; returns the server's main.
async fn seeded(srv: &Server) -> (Client, String) {
    let c = Client::new().await;
    let head = c.commit("a", b"a", "a").await;
    c.ok(&["push", &srv.url("app"), "main"]).await;
    (c, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_pkt_line_is_rejected_and_repo_unchanged() {
    let srv = Server::start().await;
    let (_c, head) = seeded(&srv).await;
    let auth = basic_auth();
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-receive-pack",
        &[("Authorization", &auth)],
        b"zzzzthis is not a pkt-line",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body_text());
    assert!(
        r.body_text().contains("protocol error"),
        "{}",
        r.body_text()
    );
    assert_eq!(srv.server_ref("app", "refs/heads/main").await, Some(head));
    assert_eq!(srv.handler.pushes().len(), 1);
    srv.fsck("app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_pack_is_reported_and_repo_unchanged() {
    let srv = Server::start().await;
    let (c, head) = seeded(&srv).await;
    let new = c.commit("b", &common::noise(20_000, 3), "b").await;
    // A real pack for the new commit, with one byte flipped in the middle.
    let mut cmd = std::process::Command::new("git");
    cmd.args(["pack-objects", "--stdout", "--revs", "-q"])
        .current_dir(c.work())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{new}\n^{head}\n").as_bytes())
        .unwrap();
    let mut pack = child.wait_with_output().unwrap().stdout;
    assert!(pack.starts_with(b"PACK"));
    let mid = pack.len() / 2;
    pack[mid] ^= 0xff;

    let mut body =
        pkt(format!("{head} {new} refs/heads/main\0report-status side-band-64k\n").as_bytes());
    body.extend_from_slice(b"0000");
    body.extend_from_slice(&pack);
    let auth = basic_auth();
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-receive-pack",
        &[("Authorization", &auth)],
        &body,
    )
    .await;
    let t = r.body_text();
    assert_eq!(r.status, 200);
    assert!(t.contains("unpack ") && !t.contains("unpack ok"), "{t:?}");
    assert!(t.contains("ng refs/heads/main"), "{t:?}");
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await,
        Some(head.clone())
    );
    assert!(!srv.has_object("app", &new).await);
    assert_eq!(srv.handler.pushes().len(), 1);
    srv.fsck("app").await;

    // Truncated garbage after the commands: same outcome.
    let mut body = pkt(format!("{head} {new} refs/heads/main\0report-status\n").as_bytes());
    body.extend_from_slice(b"0000PACK\0\0\0\x02\0\0\0\x01garbage");
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-receive-pack",
        &[("Authorization", &auth)],
        &body,
    )
    .await;
    let t = r.body_text();
    assert!(
        !t.contains("unpack ok") && t.contains("ng refs/heads/main"),
        "{t:?}"
    );
    assert_eq!(srv.server_ref("app", "refs/heads/main").await, Some(head));
    srv.fsck("app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_and_clone() {
    let srv = Server::start().await;
    let (c, head) = seeded(&srv).await;
    c.ok(&["push", &srv.url("app"), "main:refs/heads/feature"])
        .await;
    let auth = basic_auth();

    // gzip upload-pack negotiation.
    let mut req = pkt(format!("want {head} side-band-64k ofs-delta\n").as_bytes());
    req.extend_from_slice(b"0000");
    req.extend(pkt(b"done\n"));
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-upload-pack",
        &[("Authorization", &auth), ("Content-Encoding", "gzip")],
        &gzip(&req),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-git-upload-pack-result")
    );
    assert!(r.body.windows(4).any(|w| w == b"PACK"));

    // gzip receive-pack: a delete (no pack).
    let mut req = pkt(format!("{head} {ZERO_OID} refs/heads/feature\0report-status\n").as_bytes());
    req.extend_from_slice(b"0000");
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-receive-pack",
        &[("Authorization", &auth), ("Content-Encoding", "gzip")],
        &gzip(&req),
    )
    .await;
    assert!(
        r.body_text().contains("ok refs/heads/feature"),
        "{}",
        r.body_text()
    );
    assert_eq!(srv.server_ref("app", "refs/heads/feature").await, None);

    // A real clone (protocol v2 via Git-Protocol) and a v0 clone.
    let (cl, out) = Client::clone_from(&srv.url("app")).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(cl.head().await, head);
    assert_eq!(std::fs::read(cl.work().join("a")).unwrap(), b"a");
    let (cl0, out) = Client::clone_from(&srv.url("app")).await;
    assert!(out.status.success());
    let out = cl0
        .git(&["-c", "protocol.version=0", "fetch", "origin"])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    // Reading is authorized too.
    let (_x, out) = Client::clone_from(&srv.url_with("app", Some("nope"))).await;
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_and_delete_repo() {
    let srv = Server::start().await;
    let path = srv.svc.ensure_repo("made").await.unwrap();
    assert!(path.join("HEAD").is_file());
    let hook = std::fs::read_to_string(path.join("hooks/pre-receive")).unwrap();
    assert!(hook.contains("doppel-git-hook"));
    let cfg = common::git_in(&path, &["config", "receive.fsckObjects"]).await;
    assert_eq!(String::from_utf8_lossy(&cfg.stdout).trim(), "true");
    assert_eq!(srv.svc.ensure_repo("made").await.unwrap(), path);
    srv.svc.delete_repo("made").await.unwrap();
    assert!(!path.exists());
    srv.svc.delete_repo("made").await.unwrap();
    assert!(srv.svc.ensure_repo("../evil").await.is_err());
}

#[test]
fn hook_without_socket_rejects() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_doppel-git-hook"))
        .env_remove(doppel_git::hook::SOCKET_ENV)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let line = format!("{ZERO_OID} {} refs/heads/main\n", "1".repeat(40));
    // The hook may exit before reading its stdin (git ignores that SIGPIPE too).
    let _ = child.stdin.take().unwrap().write_all(line.as_bytes());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("accepts pushes only through the doppel git endpoint"),
        "{err}"
    );
    let _ = TOKEN;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_build_gets_keepalives() {
    let srv = Server::start().await;
    let (_c, head) = seeded(&srv).await;
    *srv.handler.delay_ms.lock().unwrap() = 6_500;
    let mut req = pkt(format!(
        "{ZERO_OID} {head} refs/heads/other\0report-status side-band-64k quiet\n"
    )
    .as_bytes());
    req.extend_from_slice(b"0000");
    req.extend_from_slice(&empty_pack());
    let auth = basic_auth();
    let r = raw_request(
        srv.port,
        "POST",
        "/app.git/git-receive-pack",
        &[("Authorization", &auth)],
        &req,
    )
    .await;
    assert!(
        r.body.windows(5).any(|w| w == b"0005\x01"),
        "{:?}",
        r.body_text()
    );
    assert!(
        r.body_text().contains("ok refs/heads/other"),
        "{:?}",
        r.body_text()
    );
}

/// A valid pack with no objects.
fn empty_pack() -> Vec<u8> {
    let out = std::process::Command::new("git")
        .args(["pack-objects", "--stdout", "-q"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.stdout.starts_with(b"PACK"));
    out.stdout
}
