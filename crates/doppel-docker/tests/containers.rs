//! Engine tests: a build-container round trip (create, upload, start, logs, wait, download,
//! commit, remove), and image import/tag/remove.

mod common;

use std::collections::BTreeMap;
use std::io::Read;

use doppel_docker::{ContainerRuntime, ContainerSpec, TarSource};
use futures_util::StreamExt;

fn one_file_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, data).expect("append");
    b.into_inner().expect("tar")
}

#[tokio::test]
async fn build_container_round_trip() {
    let rt = common::setup().await;
    common::cleanup_old(&rt).await;
    let name = format!("doppel-test-build-{}", common::unique());
    let spec = ContainerSpec {
        name: Some(name.clone()),
        image: common::MINI.to_string(),
        cmd: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            "cat /tmp/hello.txt; echo to-stderr >&2; echo $GREETING > /tmp/out.txt; exit 3".into(),
        ]),
        env: BTreeMap::from([("GREETING".to_string(), "hi there".to_string())]),
        user: Some("1000:1000".into()),
        working_dir: Some("/tmp".into()),
        labels: common::labels(),
        network: Some("none".into()),
        limits: doppel_docker::Limits {
            memory: Some(64 << 20),
            cpus: Some(0.5),
            pids: Some(64),
        },
        ..Default::default()
    };
    let id = rt.create_container(spec).await.expect("create");
    rt.upload_tar(
        &id,
        "/tmp",
        TarSource::Bytes(one_file_tar("hello.txt", b"hello\nworld")),
    )
    .await
    .expect("upload");
    rt.start(&id).await.expect("start");
    let lines: Vec<String> = rt
        .logs(&id)
        .await
        .expect("logs")
        .map(|l| l.expect("line"))
        .collect()
        .await;
    assert_eq!(rt.wait(&id).await.expect("wait"), 3);
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["hello", "to-stderr", "world"], "got {lines:?}");

    let dir = tempfile::tempdir().expect("tmp");
    let dest = dir.path().join("out.tar");
    let size = rt
        .download_tar(&id, "/tmp/out.txt", &dest, 1 << 20)
        .await
        .expect("download");
    assert!(size > 0);
    let mut archive = tar::Archive::new(std::fs::File::open(&dest).expect("open"));
    let mut entry = archive
        .entries()
        .expect("entries")
        .next()
        .expect("one")
        .expect("entry");
    assert_eq!(entry.path().expect("path").to_string_lossy(), "out.txt");
    let mut text = String::new();
    entry.read_to_string(&mut text).expect("read");
    assert_eq!(text, "hi there\n");
    let missing = rt.download_tar(&id, "/nope", &dest, 1 << 20).await;
    assert!(missing.expect_err("missing path").is_not_found());

    let tag = format!("doppel-test/commit:{}", common::unique());
    let labels = BTreeMap::from([("doppel.test".to_string(), "commit".to_string())]);
    let changes = vec![
        "ENV FOO=bar".to_string(),
        "CMD [\"/bin/cat\", \"/tmp/out.txt\"]".to_string(),
        "USER 1000".to_string(),
    ];
    let image = rt
        .commit(&id, &tag, &labels, &changes)
        .await
        .expect("commit");
    let info = rt
        .image_info(&tag)
        .await
        .expect("inspect")
        .expect("committed image");
    assert_eq!(info.id, image);
    assert_eq!(
        info.labels.get("doppel.test").map(String::as_str),
        Some("commit")
    );
    assert_eq!(
        info.cmd,
        Some(vec!["/bin/cat".to_string(), "/tmp/out.txt".to_string()])
    );

    rt.kill(&id)
        .await
        .expect("kill of an exited container is fine");
    rt.remove(&id, true).await.expect("remove");
    rt.remove(&id, true).await.expect("remove twice is fine");
    assert!(rt
        .inspect_container(&id, None)
        .await
        .expect("inspect")
        .is_none());

    let alias = format!("doppel-test/alias:{}", common::unique());
    rt.tag_image(&tag, &alias).await.expect("tag");
    assert!(rt.image_info(&alias).await.expect("inspect").is_some());
    rt.remove_image(&alias).await.expect("remove alias");
    rt.remove_image(&tag).await.expect("remove image");
    rt.remove_image(&tag).await.expect("remove twice is fine");
    assert!(rt.image_info(&tag).await.expect("inspect").is_none());
}

#[tokio::test]
async fn mini_image_is_imported_with_labels() {
    let rt = common::setup().await;
    let info = rt
        .image_info(common::MINI)
        .await
        .expect("inspect")
        .expect("mini");
    assert_eq!(
        info.labels.get(common::TEST_LABEL).map(String::as_str),
        Some(common::TEST_VALUE)
    );
    assert_eq!(info.cmd, Some(vec!["/bin/sh".to_string()]));
    assert!(rt
        .image_info("doppel-test/never-made:nope")
        .await
        .expect("inspect")
        .is_none());
}
