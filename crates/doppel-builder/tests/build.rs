//! Engine tests: a buildpack build of a Procfile-only app and a Dockerfile build, each run as a
//! web dyno with PORT=5000 on a test network and fetched over the container IP.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{request, run_build};
use doppel_builder::{build, BuildOutput};
use doppel_docker::{ContainerRuntime, DockerRuntime, DynoSpec, NetworkSpec, SubnetPool};
use doppel_types::{dyno_command, ImageKind, WEB_PORT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const NET: &str = "doppel-test-builder";

/// The test network, as a server makes its networks: made once, found by id afterwards.
async fn network(rt: &DockerRuntime) -> String {
    let spec = NetworkSpec {
        name: NET.to_string(),
        labels: BTreeMap::from([("doppel.test".to_string(), "doppel-builder".to_string())]),
        pool: SubnetPool::parse("10.214.0.0/16:26").expect("pool"),
        inter_container: true,
    };
    rt.ensure_network(&spec).await.expect("network")
}

/// GET / on ip:5000, retrying while the dyno boots; returns the response head line.
async fn fetch(ip: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = tokio::net::TcpStream::connect((ip, WEB_PORT)).await {
            let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").await;
            let mut buf = Vec::new();
            if s.read_to_end(&mut buf).await.is_ok() && !buf.is_empty() {
                return String::from_utf8_lossy(&buf)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "dyno at {ip}:{WEB_PORT} never answered"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn run_web(rt: &DockerRuntime, out: &BuildOutput) -> String {
    let net = network(rt).await;
    let cmd = dyno_command(out.kind, &out.process_types, "web").expect("web command");
    let spec = DynoSpec {
        name: format!("doppel-test-web-{}", uuid::Uuid::new_v4().simple()),
        image: out.image_tag.clone(),
        cmd,
        env: BTreeMap::from([("PORT".to_string(), WEB_PORT.to_string())]),
        labels: BTreeMap::from([("doppel.test".to_string(), "doppel-builder".to_string())]),
        network: Some(net.clone()),
        limits: doppel_docker::Limits {
            memory: Some(256 << 20),
            ..Default::default()
        },
        cap_add: Vec::new(),
        ..Default::default()
    };
    let id = rt.run_dyno(spec).await.expect("run dyno");
    let ip = rt
        .inspect_container(&id, Some(&net))
        .await
        .expect("inspect")
        .and_then(|s| s.ip)
        .expect("dyno ip");
    let head = fetch(&ip).await;
    rt.stop_and_remove(&id, Duration::from_secs(2))
        .await
        .expect("stop dyno");
    head
}

async fn cleanup_old(rt: &DockerRuntime) {
    for c in rt
        .list_containers("doppel.test=doppel-builder")
        .await
        .expect("list")
    {
        if !c.running {
            let _ = rt.remove(&c.id, true).await;
        }
    }
}

#[tokio::test]
async fn procfile_app_builds_and_serves() {
    let rt = common::runtime().await;
    let stack = common::stack(&rt).await;
    cleanup_old(&rt).await;
    let dir = tempfile::tempdir().expect("tmp");
    let req = request(
        dir.path(),
        stack,
        &[
            ("Procfile", "web: python3 -m http.server $PORT\n"),
            ("index.html", "hello\n"),
        ],
    );
    let out = run_build(&rt, req).await;
    assert_eq!(out.kind, ImageKind::Buildpack);
    assert_eq!(
        out.stack,
        doppel_builder::StackCatalog::default().default_stack().name
    );
    assert_eq!(
        out.process_types.get("web").map(String::as_str),
        Some("python3 -m http.server $PORT")
    );
    assert!(out.size_bytes > 0);
    let info = rt
        .image_info(&out.image_tag)
        .await
        .expect("inspect")
        .expect("image");
    assert_eq!(
        info.labels.get("doppel.kind").map(String::as_str),
        Some("buildpack")
    );
    assert!(rt
        .list_containers("doppel.role=build")
        .await
        .expect("list")
        .iter()
        .all(|c| c.labels.get("doppel.build") != info.labels.get("doppel.build")));
    let head = run_web(&rt, &out).await;
    assert!(head.contains("200"), "{head}");
    rt.remove_image(&out.image_tag).await.expect("remove image");
}

#[tokio::test]
async fn dockerfile_app_builds_and_serves() {
    let rt = common::runtime().await;
    let stack = common::stack(&rt).await;
    let dir = tempfile::tempdir().expect("tmp");
    let dockerfile = format!(
        "FROM {}\nCOPY index.html /app/\nCMD [\"python3\", \"-m\", \"http.server\", \"5000\"]\n",
        stack.run_image
    );
    let req = request(
        dir.path(),
        stack,
        &[("Dockerfile", &dockerfile), ("index.html", "hi\n")],
    );
    let out = run_build(&rt, req).await;
    assert_eq!(out.kind, ImageKind::Dockerfile);
    assert!(out.process_types.is_empty());
    let head = run_web(&rt, &out).await;
    assert!(head.contains("200"), "{head}");
    rt.remove_image(&out.image_tag).await.expect("remove image");
}

#[tokio::test]
async fn dockerfile_from_a_missing_image_explains_why() {
    let rt = common::runtime().await;
    let stack = common::stack(&rt).await;
    let dir = tempfile::tempdir().expect("tmp");
    let req = request(
        dir.path(),
        stack,
        &[("Dockerfile", "FROM doppel-test/does-not-exist:1\n")],
    );
    let run_repo = req.stack.run_image.trim_end_matches(":latest").to_string();
    let (tx, _rx) = mpsc::channel(256);
    let err = build(&*rt, req, tx).await.expect_err("missing base");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("FROM must name a local image such as {run_repo}")),
        "{msg}"
    );
}

#[tokio::test]
async fn undetectable_and_failing_apps_leave_nothing_behind() {
    let rt = common::runtime().await;
    let stack = common::stack(&rt).await;
    let dir = tempfile::tempdir().expect("tmp");
    let req = request(
        dir.path(),
        stack.clone(),
        &[("README.md", "nothing to run\n")],
    );
    let build_id = req.build_id.clone();
    let (tx, _rx) = mpsc::channel(256);
    let err = build(&*rt, req, tx).await.expect_err("no buildpack");
    assert!(
        matches!(err, doppel_builder::BuildError::NoBuildpack),
        "{err}"
    );
    let left = rt
        .list_containers(&format!("doppel.build={build_id}"))
        .await
        .expect("list");
    assert!(left.is_empty(), "{left:?}");

    let dir = tempfile::tempdir().expect("tmp");
    let req = request(
        dir.path(),
        stack,
        &[
            (".buildpacks", "no-such-buildpack\n"),
            ("Procfile", "web: true\n"),
        ],
    );
    let (tx, _rx) = mpsc::channel(256);
    let err = build(&*rt, req, tx).await.expect_err("unknown buildpack");
    assert!(
        matches!(err, doppel_builder::BuildError::CompileFailed { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn python_app_installs_from_pypi_through_the_ca_bundle() {
    if !Path::new("/etc/ssl/certs/ca-certificates.crt").exists() {
        println!("skipped: no host CA bundle to reach PyPI with");
        return;
    }
    let rt = common::runtime().await;
    let stack = common::stack(&rt).await;
    let dir = tempfile::tempdir().expect("tmp");
    let app = "import six, http.server, os\nhttp.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(os.environ['PORT']), bind='0.0.0.0')\n";
    let req = request(
        dir.path(),
        stack,
        &[
            ("requirements.txt", "six\n"),
            ("app.py", app),
            ("Procfile", "web: python app.py\n"),
        ],
    );
    let out = run_build(&rt, req).await;
    assert_eq!(out.buildpack.as_deref(), Some("Python"));
    let head = run_web(&rt, &out).await;
    assert!(head.contains("200"), "{head}");
    rt.remove_image(&out.image_tag).await.expect("remove image");
}
