//! Shared helpers of the integration tests: the real runtime and the shared stack images.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use doppel_builder::{build, BuildLimits, BuildOutput, BuildRequest, StackCatalog, StackImages};
use doppel_docker::DockerRuntime;
use tokio::sync::{mpsc, Mutex};

static STACK_LOCK: Mutex<()> = Mutex::const_new(());

/// Connects to the engine.
pub async fn runtime() -> Arc<DockerRuntime> {
    Arc::new(
        DockerRuntime::connect()
            .await
            .expect("docker engine reachable"),
    )
}

/// Builds the shared images of the default stack (real names; reused by other tests and the
/// e2e suite) if missing.
pub async fn stack(rt: &DockerRuntime) -> StackImages {
    let name = StackCatalog::default().default_stack().name;
    named_stack(rt, name).await
}

/// Builds the shared images of the stack called `name` if missing.
pub async fn named_stack(rt: &DockerRuntime, name: &str) -> StackImages {
    let _guard = STACK_LOCK.lock().await;
    let (tx, mut rx) = mpsc::channel(64);
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            println!("stack: {line}");
        }
    });
    let started = Instant::now();
    let images = StackCatalog::default()
        .ensure(rt, name, false, tx)
        .await
        .expect("stack images");
    let _ = printer.await;
    println!("ensure_stack took {:?}", started.elapsed());
    images
}

pub fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git")
        .success();
    assert!(ok, "git {args:?}");
}

/// A git tree with `files`, committed and archived as `git archive` does for a push.
pub fn source_tar(dir: &Path, files: &[(&str, &str)]) -> (PathBuf, String) {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    for (name, text) in files {
        std::fs::write(repo.join(name), text).expect("write");
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "app"]);
    let sha = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&repo)
            .output()
            .expect("rev-parse")
            .stdout,
    )
    .expect("utf8")
    .trim()
    .to_string();
    let tar = dir.join("source.tar");
    git(
        &repo,
        &[
            "archive",
            "--format=tar",
            "-o",
            tar.to_str().expect("path"),
            "HEAD",
        ],
    );
    (tar, sha)
}

pub fn request(dir: &Path, stack: StackImages, files: &[(&str, &str)]) -> BuildRequest {
    let (source_tar, commit) = source_tar(dir, files);
    let ca = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    BuildRequest {
        build_id: format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
        env_name: "doppeltest-staging".into(),
        app_name: "doppeltest".into(),
        commit,
        source_tar,
        config: BTreeMap::from([("SECRET_KEY".to_string(), "do-not-log-me".to_string())]),
        stack,
        build_env: doppel_builder::StackCatalog::default().build_env(),
        cache_dir: dir.join("cache"),
        ca_bundle: ca.exists().then_some(ca),
        limits: BuildLimits::default(),
        // Docker's default bridge: outbound access, not the host's network.
        network: Some("bridge".into()),
        image_repo: "doppel-test/app-doppeltest-staging".into(),
    }
}

pub async fn run_build(rt: &DockerRuntime, req: BuildRequest) -> BuildOutput {
    let (tx, mut rx) = mpsc::channel(256);
    let printer = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(line) = rx.recv().await {
            println!("build: {line}");
            lines.push(line);
        }
        lines
    });
    let out = build(rt, req, tx).await;
    let lines = printer.await.expect("printer");
    assert!(
        !lines.iter().any(|l| l.contains("do-not-log-me")),
        "config value logged"
    );
    out.expect("build succeeds")
}
