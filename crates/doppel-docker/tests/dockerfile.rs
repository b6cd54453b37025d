//! Engine tests: classic-builder Dockerfile builds stream their lines and report failures.

mod common;

use std::collections::BTreeMap;

use doppel_docker::{ContainerRuntime, DockerError, DockerfileBuild};
use tokio::sync::mpsc;

fn context(dir: &std::path::Path, dockerfile: &str) -> std::path::PathBuf {
    let path = dir.join("ctx.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).expect("create"));
    let mut h = tar::Header::new_gnu();
    h.set_size(dockerfile.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "Dockerfile", dockerfile.as_bytes())
        .expect("append");
    b.into_inner().expect("finish");
    path
}

async fn run_build(
    rt: &impl ContainerRuntime,
    dockerfile: &str,
    tag: &str,
) -> (Result<String, DockerError>, Vec<String>) {
    let dir = tempfile::tempdir().expect("tmp");
    let build = DockerfileBuild {
        context: context(dir.path(), dockerfile),
        tag: tag.to_string(),
        labels: BTreeMap::from([("doppel.test".to_string(), "dockerfile".to_string())]),
        network: Some("none".to_string()),
        limits: doppel_docker::Limits {
            memory: Some(256 << 20),
            cpus: Some(1.0),
            pids: None,
        },
    };
    let (tx, mut rx) = mpsc::channel(1024);
    let out = rt.build_dockerfile(build, tx).await;
    let mut lines = Vec::new();
    while let Some(l) = rx.recv().await {
        lines.push(l);
    }
    (out, lines)
}

#[tokio::test]
async fn builds_stream_lines_and_fail_clearly() {
    let rt = common::setup().await;
    let tag = format!("doppel-test/df:{}", common::unique());
    let df = format!(
        "FROM {}\nRUN echo built-marker > /tmp/built\nCMD [\"/bin/cat\", \"/tmp/built\"]\n",
        common::MINI
    );
    let (out, lines) = run_build(&rt, &df, &tag).await;
    let id = out.expect("build");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Step 1/") && l.contains(": FROM")),
        "{lines:?}"
    );
    let info = rt.image_info(&tag).await.expect("inspect").expect("image");
    assert_eq!(info.id, id);
    assert_eq!(
        info.labels.get("doppel.test").map(String::as_str),
        Some("dockerfile")
    );
    rt.remove_image(&tag).await.expect("remove");

    let (out, _) = run_build(&rt, &format!("FROM {}\nRUN exit 7\n", common::MINI), &tag).await;
    match out {
        Err(DockerError::BuildFailed(m)) => assert!(m.contains("non-zero code: 7"), "{m}"),
        other => panic!("expected BuildFailed, got {other:?}"),
    }
}
