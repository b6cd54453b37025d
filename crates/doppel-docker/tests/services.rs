//! Engine tests: service containers with a named volume and a network alias (the shape of an
//! add-on's server), data that outlives the container, and exec with standard input from a
//! file, output to memory or a file, bounded output, and exit codes.

mod common;

use std::collections::BTreeMap;

use doppel_docker::{
    ContainerRuntime, DockerError, DockerRuntime, ExecInput, ExecOutput, ExecSpec, ServiceSpec,
    VolumeMount,
};

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

fn service(name: &str, volume: &str, network: &str) -> ServiceSpec {
    ServiceSpec {
        name: name.to_string(),
        image: common::MINI.to_string(),
        cmd: Some(vec!["/bin/sleep".into(), "300".into()]),
        env: BTreeMap::from([("GREETING".to_string(), "hello".to_string())]),
        labels: common::labels(),
        network: Some(network.to_string()),
        aliases: vec![format!("{name}-alias")],
        user: None,
        volumes: vec![VolumeMount {
            volume: volume.to_string(),
            path: "/data".to_string(),
        }],
        limits: doppel_docker::Limits {
            memory: Some(64 << 20),
            cpus: Some(1.0),
            pids: Some(64),
        },
        cap_add: Vec::new(),
        shm_bytes: Some(16 << 20),
    }
}

async fn cleanup_volumes(rt: &DockerRuntime) {
    let run = common::run_id();
    let filter = format!("{}={}", common::TEST_LABEL, common::TEST_VALUE);
    for v in rt.list_volumes(&filter).await.expect("list volumes") {
        if v.labels.get("doppel.test-run").map(String::as_str) != Some(run) {
            let _ = rt.remove_volume(&v.name).await;
        }
    }
}

#[tokio::test]
async fn a_service_keeps_its_data_in_a_volume_and_runs_commands() {
    let rt = common::setup().await;
    common::cleanup_old(&rt).await;
    cleanup_volumes(&rt).await;
    let net = rt
        .ensure_network(&common::network_spec(&format!(
            "doppel-test-svc-{}",
            common::unique()
        )))
        .await
        .expect("network");
    let volume = format!("doppel-test-vol-{}", common::unique());
    rt.ensure_volume(&volume, &common::labels())
        .await
        .expect("volume");
    rt.ensure_volume(&volume, &common::labels())
        .await
        .expect("volume again");
    let listed = rt
        .list_volumes(&format!("doppel.test-run={}", common::run_id()))
        .await
        .expect("list");
    assert!(listed.iter().any(|v| v.name == volume), "{listed:?}");

    let name = format!("doppel-test-svc-{}", common::unique());
    let id = rt
        .run_service(service(&name, &volume, &net))
        .await
        .expect("run service");
    let inspected = common::docker_inspect(&id);
    let host = &inspected["HostConfig"];
    assert_eq!(host["Init"], true, "{host}");
    assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]));
    assert_eq!(host["RestartPolicy"]["Name"], "no");
    assert_eq!(host["ShmSize"], 16 << 20);
    let aliases = &inspected["NetworkSettings"]["Networks"];
    assert!(
        aliases.to_string().contains(&format!("{name}-alias")),
        "{aliases}"
    );

    // Standard input from a file; output captured; the service's and the exec's env.
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("in");
    std::fs::write(&input, b"line one\nline two\n").expect("write");
    let spec = ExecSpec {
        cmd: sh("cat > /data/file && echo \"$GREETING $EXTRA\" && echo warn >&2"),
        env: BTreeMap::from([("EXTRA".to_string(), "world".to_string())]),
        stdin: ExecInput::File(input),
        ..Default::default()
    };
    let out = rt.exec(&id, spec).await.expect("exec");
    assert_eq!(out.exit_code, 0, "{}", out.stderr_text());
    assert_eq!(out.stdout_text(), "hello world\n");
    assert_eq!(out.stderr_text(), "warn\n");

    // A non-zero exit is reported, not an error.
    let out = rt
        .exec(
            &id,
            ExecSpec {
                cmd: sh("exit 3"),
                ..Default::default()
            },
        )
        .await
        .expect("exec");
    assert_eq!(out.exit_code, 3);

    // Output to a file, and a limit that stops it.
    let dest = dir.path().join("out");
    let spec = ExecSpec {
        cmd: sh("cat /data/file"),
        stdout: ExecOutput::File {
            path: dest.clone(),
            max_bytes: 1024,
        },
        ..Default::default()
    };
    let out = rt.exec(&id, spec).await.expect("exec to file");
    assert_eq!(out.stdout_bytes, 18);
    assert_eq!(std::fs::read(&dest).expect("read"), b"line one\nline two\n");
    let spec = ExecSpec {
        cmd: sh("cat /data/file /data/file"),
        stdout: ExecOutput::File {
            path: dest.clone(),
            max_bytes: 20,
        },
        ..Default::default()
    };
    let err = rt.exec(&id, spec).await.err();
    assert!(matches!(err, Some(DockerError::TooLarge { .. })), "{err:?}");
    assert!(!dest.exists(), "a file past its limit is removed");

    // A volume in use cannot be removed; the data outlives the container.
    assert!(rt.remove_volume(&volume).await.is_err());
    rt.remove(&id, true).await.expect("remove");
    let again = rt
        .run_service(service(&name, &volume, &net))
        .await
        .expect("run again");
    let out = rt
        .exec(
            &again,
            ExecSpec {
                cmd: sh("cat /data/file"),
                ..Default::default()
            },
        )
        .await
        .expect("exec");
    assert_eq!(out.stdout_text(), "line one\nline two\n");
    rt.remove(&again, true).await.expect("remove");
    rt.remove_volume(&volume).await.expect("remove volume");
    rt.remove_volume(&volume)
        .await
        .expect("a missing volume is not an error");
    let _ = rt.remove_network(&net).await;
}
