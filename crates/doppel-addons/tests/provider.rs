//! The providers on the shared fake runtime: the server container's shape, and the commands
//! (backup, verify, restore, rotate, info) with the add-on's variables, input and output.

use std::collections::BTreeMap;

use doppel_addons::{Catalog, Instance, Provider};
use doppel_docker::{ContainerRuntime, FakeExecHandler, FakeExecReply, FakeRuntime};

fn instance() -> Instance {
    Instance {
        name: "postgresql-curly-12345".into(),
        memory_mb: 512,
        user: "uabc".into(),
        password: "secret-password".into(),
        database: "dabc".into(),
    }
}

fn postgres() -> Result<Provider, Box<dyn std::error::Error>> {
    Ok(Provider::new(Catalog::embedded()?.service("postgres")?))
}

async fn server(rt: &FakeRuntime, p: &Provider) -> Result<String, Box<dyn std::error::Error>> {
    let net = rt
        .ensure_network(&doppel_docker::NetworkSpec {
            name: "n".into(),
            labels: BTreeMap::new(),
            pool: doppel_docker::SubnetPool::default_pool(),
            inter_container: true,
        })
        .await?;
    rt.state().images.insert("img".into(), Default::default());
    let spec = p.service_spec(&instance(), "c", "img", "vol", &net, BTreeMap::new());
    Ok(rt.run_service(spec).await?)
}

#[tokio::test]
async fn the_server_container_is_hardened_and_named_on_its_network(
) -> Result<(), Box<dyn std::error::Error>> {
    let p = postgres()?;
    let spec = p.service_spec(&instance(), "c", "img", "vol", "net", BTreeMap::new());
    assert_eq!(spec.aliases, ["postgresql-curly-12345"]);
    assert_eq!(spec.user.as_deref(), Some("postgres"));
    assert_eq!(spec.volumes[0].path, "/var/lib/doppel-addon");
    assert_eq!(spec.limits.memory, Some(512 << 20));
    assert!(spec.cap_add.is_empty());
    assert!(!spec.env.contains_key("DOPPEL_ADDON_PASSWORD"));
    assert!(!format!("{:?}", spec.env).contains("secret-password"));
    assert_eq!(spec.cmd.as_ref().map(|c| c[0].as_str()), Some("/bin/bash"));
    assert_eq!(
        p.url(&instance()),
        "postgres://uabc:secret-password@postgresql-curly-12345:5432/dabc"
    );
    assert!(!format!("{:?}", instance()).contains("secret-password"));
    Ok(())
}

#[tokio::test]
async fn backup_verify_and_restore_pass_files_and_counts() -> Result<(), Box<dyn std::error::Error>>
{
    let p = postgres()?;
    let rt = FakeRuntime::new();
    let id = server(&rt, &p).await?;
    // The fake plays a server whose scratch restore finds what the capture counted, unless
    // the input is not the dump it gave.
    rt.state().script.exec_handler = Some(FakeExecHandler::new(|exec| {
        let script = exec.cmd.last().cloned().unwrap_or_default();
        if script.contains("pg_dump") {
            FakeExecReply {
                stdout: b"DUMPDATA".to_vec(),
                stderr: b"doppel-count\tpublic.items\t3\n".to_vec(),
                ..Default::default()
            }
        } else if script.contains("doppel_verify") && exec.stdin == b"DUMPDATA" {
            FakeExecReply {
                stdout: b"doppel-count\tpublic.items\t3\n".to_vec(),
                ..Default::default()
            }
        } else if script.contains("doppel_verify") {
            FakeExecReply {
                exit_code: 1,
                stderr: b"pg_restore: error: could not read from input file".to_vec(),
                ..Default::default()
            }
        } else {
            FakeExecReply::default()
        }
    }));
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("b001.dump");
    let capture = p.backup(&rt, &id, &instance(), &file, 1024).await?;
    assert_eq!(capture.size, 8);
    assert_eq!(capture.counts.get("public.items"), Some(&3));
    assert!(capture.checksum.starts_with("blake3:"));
    assert_eq!(std::fs::read(&file)?, b"DUMPDATA");

    let ok = p
        .verify(&rt, &id, &instance(), &file, &capture.counts)
        .await?;
    assert!(ok.ok, "{}", ok.message);
    std::fs::write(&file, b"DUMPDA")?;
    let bad = p
        .verify(&rt, &id, &instance(), &file, &capture.counts)
        .await?;
    assert!(
        !bad.ok && bad.message.contains("could not read"),
        "{}",
        bad.message
    );

    p.restore(&rt, &id, &instance(), &file, Some("UPDATE x SET y = 1"))
        .await?;
    p.rotate(&rt, &id, &instance(), "new-password").await?;
    let execs = rt.state().execs.clone();
    let restore = &execs[3];
    assert_eq!(restore.stdin, b"DUMPDA");
    assert_eq!(restore.env["DOPPEL_SCRIPT"], "UPDATE x SET y = 1");
    assert_eq!(restore.user.as_deref(), Some("postgres"));
    let rotate = &execs[4];
    assert_eq!(rotate.env["DOPPEL_NEW_PASSWORD"], "new-password");
    assert_eq!(rotate.env["DOPPEL_ADDON_USER"], "uabc");
    Ok(())
}

#[tokio::test]
async fn failures_say_what_failed_and_leave_no_file() -> Result<(), Box<dyn std::error::Error>> {
    let p = postgres()?;
    let rt = FakeRuntime::new();
    let id = server(&rt, &p).await?;
    rt.state().script.exec_handler = Some(FakeExecHandler::new(|_| FakeExecReply {
        exit_code: 2,
        stdout: b"partial".to_vec(),
        stderr: b"doppel-count\tt\t1\npg_dump: error: connection refused\n".to_vec(),
    }));
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("b.dump");
    let err = p.backup(&rt, &id, &instance(), &file, 1024).await.err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("backup command failed (exit code 2)"),
        "{text}"
    );
    assert!(
        text.contains("connection refused") && !text.contains("doppel-count"),
        "{text}"
    );
    assert!(!file.exists());
    let err = p.restore(&rt, &id, &instance(), &file, None).await.err();
    assert!(err.is_some());
    let err = p
        .wait_ready(&rt, &id, &instance(), std::time::Duration::from_millis(10))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("did not become ready"), "{err}");
    rt.state().script.exec_handler = Some(FakeExecHandler::new(|_| FakeExecReply {
        stdout: b"Connections: 3\nData Size: 8 MB\n".to_vec(),
        ..Default::default()
    }));
    let info = p.info(&rt, &id, &instance()).await?;
    assert_eq!(info[0], ("Connections".to_string(), "3".to_string()));
    p.wait_ready(&rt, &id, &instance(), std::time::Duration::from_secs(1))
        .await?;
    Ok(())
}
