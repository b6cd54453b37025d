//! Unit tests of the build flow decisions against the shared `FakeRuntime`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use doppel_docker::FakeRuntime;
use doppel_types::ImageKind;
use tokio::sync::mpsc;

use super::*;

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        crate::tarball::append_file(&mut b, name, data, 0o644).expect("append");
    }
    b.into_inner().expect("tar")
}

fn request(dir: &Path, files: &[(&str, &[u8])]) -> BuildRequest {
    let source = dir.join("src.tar");
    std::fs::write(&source, tar_of(files)).expect("write source");
    BuildRequest {
        build_id: "b1".into(),
        env_name: "app-staging".into(),
        app_name: "app".into(),
        commit: "abc".into(),
        source_tar: source,
        config: BTreeMap::from([("SECRET".to_string(), "s3cret".to_string())]),
        stack: StackImages {
            stack: "heroku-24".into(),
            run_image: "doppel/heroku-24:latest".into(),
            build_image: "doppel/heroku-24-build:latest".into(),
        },
        build_env: BTreeMap::from([(
            "DOPPEL_STACK_PYTHONS".to_string(),
            "debian-12=3.11".to_string(),
        )]),
        cache_dir: dir.join("cache"),
        ca_bundle: None,
        limits: BuildLimits::default(),
        network: Some("build-net-id".into()),
        image_repo: "doppel/app-app-staging".into(),
    }
}

fn fake(result: &str, procfile: Option<&[u8]>, app: &[u8]) -> FakeRuntime {
    let rt = FakeRuntime::new()
        .with_image("doppel/heroku-24:latest")
        .with_image("doppel/heroku-24-build:latest");
    {
        let mut st = rt.state();
        st.script.log_lines = vec!["-----> Python app detected".into()];
        st.script.image_size = 1234;
        let d = &mut st.script.downloads;
        d.insert(
            "/tmp/doppel-result.json".into(),
            tar_of(&[("doppel-result.json", result.as_bytes())]),
        );
        if let Some(p) = procfile {
            d.insert("/app/Procfile".into(), tar_of(&[("Procfile", p)]));
        }
        d.insert("/app".into(), app.to_vec());
    }
    rt
}

async fn run(
    rt: &FakeRuntime,
    req: BuildRequest,
) -> (Result<BuildOutput, BuildError>, Vec<String>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let out = build(rt, req, tx).await;
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    (out, lines)
}

const PY: &str =
    r#"{"buildpack":"Python","default_process_types":{"web":"python app.py","console":"python"}}"#;

#[tokio::test]
async fn buildpack_build_commits_app_and_launcher() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(
        PY,
        Some(b"web: gunicorn app\n"),
        &tar_of(&[("app/app.py", b"print(1)")]),
    );
    let (out, lines) = run(&rt, request(dir.path(), &[("app.py", b"print(1)")])).await;
    let out = out.expect("build");
    assert_eq!(out.kind, ImageKind::Buildpack);
    assert_eq!(out.image_tag, "doppel/app-app-staging:b1");
    assert_eq!(out.buildpack.as_deref(), Some("Python"));
    assert_eq!(
        out.process_types.get("web").map(String::as_str),
        Some("gunicorn app")
    );
    assert_eq!(
        out.process_types.get("console").map(String::as_str),
        Some("python")
    );
    assert!(lines.contains(&"-----> Python app detected".to_string()));
    assert!(lines.contains(&"-----> Compressing...".to_string()));
    let st = rt.state();
    assert!(st.containers.is_empty(), "temporary containers removed");
    assert_eq!(st.removed.len(), 2);
    let commit = &st.commits[0];
    assert_eq!(
        commit.labels.get(LABEL_KIND).map(String::as_str),
        Some("buildpack")
    );
    assert_eq!(
        commit.labels.get(LABEL_ENV).map(String::as_str),
        Some("app-staging")
    );
    assert!(commit.changes.contains(&"WORKDIR /app".to_string()));
    // Config values never reach the log.
    assert!(!lines.iter().any(|l| l.contains("s3cret")));
}

#[tokio::test]
async fn build_container_gets_source_buildpacks_and_env() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, &tar_of(&[("app/x", b"")]));
    let mut req = request(dir.path(), &[("app.py", b"")]);
    req.ca_bundle = Some("/etc/ssl/certs/ca-certificates.crt".into());
    // Keep the containers around to inspect them: make the build fail after uploads.
    rt.state().script.exit_code = 1;
    let (out, _) = run(&rt, req).await;
    assert!(matches!(
        out,
        Err(BuildError::CompileFailed { exit_code: 1 })
    ));
    let st = rt.state();
    assert!(st.containers.is_empty());
    assert_eq!(st.removed.len(), 1);
    let c = st.graveyard.values().next().expect("build container");
    assert_eq!(c.spec.image, "doppel/heroku-24-build:latest");
    assert_eq!(c.spec.user.as_deref(), Some("1000:1000"));
    assert_eq!(c.spec.network.as_deref(), Some("build-net-id"));
    assert_eq!(c.spec.limits, BuildLimits::default().resources);
    assert!(c.spec.cap_add.is_empty());
    assert_eq!(
        c.spec.labels.get(LABEL_ROLE).map(String::as_str),
        Some("build")
    );
    assert_eq!(
        c.spec.env.get("STACK").map(String::as_str),
        Some("heroku-24")
    );
    assert_eq!(
        c.spec.env.get("SOURCE_VERSION").map(String::as_str),
        Some("abc")
    );
    assert_eq!(
        c.spec.env.get("PIP_CERT").map(String::as_str),
        Some("/etc/ssl/certs/ca-certificates.crt")
    );
    assert!(
        !c.spec.env.contains_key("SECRET"),
        "config vars are not in the environment"
    );
    assert!(c
        .spec
        .binds
        .iter()
        .any(|b| b.ends_with(":/etc/ssl/certs/ca-certificates.crt:ro")));
    assert!(c.spec.binds.iter().any(|b| b.ends_with(":/cache")));
    let dests: Vec<&str> = c.uploads.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(dests, vec!["/app", "/tmp", "/tmp"]);
    // The source is owned by heroku; the env dir has one file per var.
    let mut src = tar::Archive::new(c.uploads[0].1.as_slice());
    for e in src.entries().expect("entries") {
        let e = e.expect("entry");
        assert_eq!(
            (
                e.header().uid().expect("uid"),
                e.header().gid().expect("gid")
            ),
            (1000, 1000)
        );
    }
    let mut env = tar::Archive::new(c.uploads[2].1.as_slice());
    let names: Vec<String> = env
        .entries()
        .expect("entries")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .display()
                .to_string()
        })
        .collect();
    assert!(names.contains(&"env/SECRET".to_string()));
}

#[tokio::test]
async fn missing_web_is_rejected() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(
        r#"{"buildpack":"Procfile","default_process_types":{}}"#,
        Some(b"worker: w"),
        b"",
    );
    let (out, _) = run(&rt, request(dir.path(), &[("Procfile", b"worker: w")])).await;
    let err = out.expect_err("no web");
    assert!(matches!(err, BuildError::NoWebProcess));
    assert_eq!(
        err.to_string(),
        "no web process type: add `web: <command>` to your Procfile"
    );
    assert!(rt.state().containers.is_empty());
}

#[tokio::test]
async fn bad_procfile_names_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, Some(b"web: ok\nbroken line\n"), b"");
    let (out, _) = run(&rt, request(dir.path(), &[("app.py", b"")])).await;
    let err = out.expect_err("bad procfile");
    assert!(matches!(err, BuildError::BadProcfile(_)));
    assert!(err.to_string().contains("line 2"));
}

#[tokio::test]
async fn oversized_slug_is_rejected() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, &vec![0u8; 4096]);
    let mut req = request(dir.path(), &[("app.py", b"")]);
    req.limits.max_slug_bytes = 1000;
    let (out, _) = run(&rt, req).await;
    assert!(matches!(out, Err(BuildError::SlugTooLarge { limit: 1000 })));
    assert!(rt.state().commits.is_empty());
}

#[tokio::test]
async fn no_buildpack_and_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, b"");
    rt.state().script.exit_code = 2;
    let (out, _) = run(&rt, request(dir.path(), &[("x", b"")])).await;
    assert!(matches!(out, Err(BuildError::NoBuildpack)));

    let rt = fake(PY, None, b"");
    rt.state().script.hang = true;
    let mut req = request(dir.path(), &[("x", b"")]);
    req.limits.timeout = Duration::from_millis(50);
    let (out, _) = run(&rt, req).await;
    assert!(matches!(out, Err(BuildError::Timeout(_))));
    assert!(rt.state().containers.is_empty());
}

#[tokio::test]
async fn dockerfile_at_root_selects_a_dockerfile_build() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, b"");
    rt.state().script.build_lines = vec!["Step 1/2 : FROM doppel/heroku-24".into()];
    let req = request(
        dir.path(),
        &[
            ("./Dockerfile", b"FROM doppel/heroku-24\n"),
            ("Procfile", b"worker: w\n"),
        ],
    );
    let (out, lines) = run(&rt, req).await;
    let out = out.expect("build");
    assert_eq!(out.kind, ImageKind::Dockerfile);
    assert_eq!(
        out.process_types.get("worker").map(String::as_str),
        Some("w")
    );
    assert!(
        !out.process_types.contains_key("web"),
        "web falls back to CMD"
    );
    assert_eq!(
        lines,
        vec![
            "-----> Building with the app's Dockerfile (local images only)".to_string(),
            "       Step 1/2 : FROM doppel/heroku-24".to_string()
        ]
    );
    let st = rt.state();
    assert_eq!(st.builds[0].network.as_deref(), Some("build-net-id"));
    assert_eq!(st.builds[0].limits, BuildLimits::default().resources);
    assert_eq!(
        st.builds[0].labels.get(LABEL_KIND).map(String::as_str),
        Some("dockerfile")
    );
    assert!(st.commits.is_empty());
}

#[tokio::test]
async fn dockerfile_in_a_subdirectory_is_not_a_dockerfile_build() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, b"");
    let (out, _) = run(&rt, request(dir.path(), &[("sub/Dockerfile", b"FROM x")])).await;
    assert_eq!(out.expect("build").kind, ImageKind::Buildpack);
}

#[tokio::test]
async fn dockerfile_failures_and_limits() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, b"");
    rt.state().script.build_error =
        Some("pull access denied for python, repository does not exist".into());
    let (out, _) = run(&rt, request(dir.path(), &[("Dockerfile", b"FROM python")])).await;
    let err = out.expect_err("missing base");
    assert!(err
        .to_string()
        .contains("FROM must name a local image such as doppel/heroku-24"));

    let rt = fake(PY, None, b"");
    rt.state().script.image_size = 10_000;
    let mut req = request(dir.path(), &[("Dockerfile", b"FROM x")]);
    req.limits.max_slug_bytes = 100;
    let (out, _) = run(&rt, req).await;
    assert!(matches!(
        out,
        Err(BuildError::TooLarge { size: 10_000, .. })
    ));
    assert!(!rt.state().images.contains_key("doppel/app-app-staging:b1"));

    let rt = fake(PY, None, b"");
    let (out, _) = run(
        &rt,
        request(
            dir.path(),
            &[("Dockerfile", b"FROM x"), ("Procfile", b"bad")],
        ),
    )
    .await;
    assert!(matches!(out, Err(BuildError::BadProcfile(_))));
}

#[tokio::test]
async fn output_without_newlines_stops_the_build() {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = fake(PY, None, &tar_of(&[("app/app.py", b"")]));
    rt.state().script.log_line_too_long = true;
    let (out, lines) = run(&rt, request(dir.path(), &[("app.py", b"")])).await;
    let err = out.expect_err("refused");
    assert!(matches!(err, BuildError::OutputLineTooLong { .. }), "{err}");
    assert!(err.to_string().contains("without a newline"));
    assert_eq!(lines, vec!["-----> Python app detected".to_string()]);
    let st = rt.state();
    let c = st.graveyard.values().next().expect("build container");
    assert!(c.killed, "the build container must be killed");
    assert!(st.commits.is_empty());
}

#[tokio::test]
async fn huge_files_out_of_the_build_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let huge = vec![b'x'; (MAX_PROCFILE_BYTES + 1) as usize];
    let rt = fake(PY, Some(&huge), &tar_of(&[("app/app.py", b"")]));
    let (out, _) = run(&rt, request(dir.path(), &[("app.py", b"")])).await;
    let err = out.expect_err("refused");
    assert!(
        err.to_string().contains("Procfile is larger than 1024 KiB"),
        "{err}"
    );

    let big_result = format!(
        "{{\"buildpack\":\"{}\"}}",
        "x".repeat((MAX_RESULT_BYTES + 1) as usize)
    );
    let rt = fake(&big_result, None, &tar_of(&[("app/app.py", b"")]));
    let (out, _) = run(&rt, request(dir.path(), &[("app.py", b"")])).await;
    let err = out.expect_err("refused");
    assert!(matches!(err, BuildError::FileTooLarge { .. }), "{err}");

    // A pushed Procfile is read with the same bound (Dockerfile builds read it first).
    let rt = fake(PY, None, b"");
    let req = request(
        dir.path(),
        &[("Dockerfile", b"FROM x\n"), ("Procfile", &huge)],
    );
    let (out, _) = run(&rt, req).await;
    let err = out.expect_err("refused");
    assert!(err.to_string().contains("Procfile is larger than"), "{err}");
}
