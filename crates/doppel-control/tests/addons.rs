//! Add-ons on the shared fake: provisioning both environments (separate servers, volumes and
//! credentials, one colour), the URL released into the config, supervision (a dead server
//! is recreated, a stray one removed, volumes kept), backups (captured, verified, refused
//! when corrupt), restores across environments, rotation, destroy with a final backup, the
//! unwinding of a failed provisioning, and scheduled backups.

mod common;

use common::api;
use doppel_control::addons::{schedule, supervisor};
use doppel_control::logic::addons::{self, CreateRequest};
use doppel_control::logic::backups::{self, RestoreRequest};
use doppel_control::logic::{addon_attachments, apps};
use doppel_control::workflows::addon_config::Applied;
use doppel_docker::{FakeExecHandler, FakeExecReply};
use doppel_store::{AddonState, BackupKind, BackupSchedule, NewRelease, ReleaseStatus};
use doppel_types::{ImageKind, ProcessTypes};

const APP_IMAGE: &str = "sha256:app-image";

/// The fake plays a healthy Postgres (see `doppel_addons::testing`).
fn play_postgres(api: &common::Api) {
    api.fake.state().script.exec_handler = Some(doppel_addons::testing::fake_postgres());
}

/// The stack images exist (nothing is debootstrapped in tests).
fn stacks_exist(api: &common::Api) {
    let stack = api.state.config().stacks.default_stack();
    let mut st = api.fake.state();
    st.images.insert(stack.run_image(), Default::default());
    st.images.insert(stack.build_image(), Default::default());
    st.images.insert(APP_IMAGE.into(), Default::default());
}

async fn app(api: &common::Api, name: &str) -> anyhow::Result<doppel_store::App> {
    stacks_exist(api);
    play_postgres(api);
    Ok(apps::create(&api.state, &api.admin, Some(name)).await?)
}

/// A succeeded release running one worker (no web dyno to wait for on the fake).
async fn release(api: &common::Api, env_id: &str) -> anyhow::Result<()> {
    let types = ProcessTypes::from([
        ("web".to_string(), "python app.py".to_string()),
        ("worker".to_string(), "python worker.py".to_string()),
    ]);
    let store = api.state.store();
    store.ensure_formation(env_id, &types).await?;
    store.update_formation(env_id, "web", Some(0), None).await?;
    store
        .update_formation(env_id, "worker", Some(1), None)
        .await?;
    store
        .create_release(&NewRelease {
            env_id: env_id.to_string(),
            build_id: None,
            image_id: APP_IMAGE.into(),
            image_kind: ImageKind::Buildpack,
            process_types: types,
            description: "Deploy test".into(),
            user_id: None,
            status: ReleaseStatus::Succeeded,
            config: None,
        })
        .await?;
    Ok(())
}

fn create_req(plan: &str, whole_app: bool) -> CreateRequest {
    CreateRequest {
        plan: plan.to_string(),
        whole_app,
        wait: true,
        ..Default::default()
    }
}

fn addon_containers(api: &common::Api) -> Vec<(String, doppel_docker::FakeContainer)> {
    api.fake
        .state()
        .containers
        .iter()
        .filter(|(_, c)| c.spec.labels.get("doppel.role").map(String::as_str) == Some("addon"))
        .map(|(id, c)| (id.clone(), c.clone()))
        .collect()
}

#[tokio::test]
async fn both_environments_get_their_own_server_with_the_same_plan() -> anyhow::Result<()> {
    let api = api().await?;
    let shop = app(&api, "shop").await?;
    let views = addons::create(
        &api.state,
        &api.admin,
        "shop",
        &create_req("heroku-postgresql", true),
    )
    .await?;
    assert_eq!(views.len(), 2);
    let (staging, production) = (&views[0], &views[1]);
    assert_eq!(staging.env.name, "shop-staging");
    assert_eq!(production.env.name, "shop");
    for v in &views {
        let a = api
            .state
            .store()
            .addon(&v.addon.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("gone"))?;
        assert_eq!(a.state, AddonState::Provisioned, "{:?}", a.failure);
        assert_eq!(a.version.as_deref(), Some("PostgreSQL 17.6"));
        assert_eq!(
            (a.service.as_str(), a.plan.as_str()),
            ("postgres", "essential-0")
        );
        assert!(a
            .image
            .as_deref()
            .is_some_and(|i| i.starts_with("doppel/addon-postgres:")));
    }
    // Separate data, credentials and servers; the same attachment names.
    assert_ne!(staging.addon.volume, production.addon.volume);
    assert_ne!(
        staging.addon.credentials.password,
        production.addon.credentials.password
    );
    assert_ne!(staging.addon.name, production.addon.name);
    assert_eq!(staging.config_vars(), production.config_vars());
    assert_eq!(staging.config_vars()[0], "DATABASE_URL");
    assert!(staging.config_vars()[1].starts_with("HEROKU_POSTGRESQL_"));
    let servers = addon_containers(&api);
    assert_eq!(servers.len(), 2);
    let nets: Vec<String> = servers
        .iter()
        .filter_map(|(_, c)| c.spec.network.clone())
        .collect();
    assert_ne!(
        nets[0], nets[1],
        "each server is on its own environment's network"
    );
    let svc = servers[0]
        .1
        .service
        .clone()
        .ok_or_else(|| anyhow::anyhow!("not a service"))?;
    assert!(svc.cap_add.is_empty());
    assert_eq!(svc.user.as_deref(), Some("postgres"));
    // No release yet: the URL is in the config for the first one.
    let config = api.state.store().config_vars(&staging.env.id).await?;
    let url = config.get("DATABASE_URL").cloned().unwrap_or_default();
    assert!(
        url.starts_with("postgres://") && url.contains(&format!("@{}:5432/", staging.addon.name)),
        "{url}"
    );
    assert_eq!(config.get(&staging.config_vars()[1]), Some(&url));
    // The audit log names the add-ons, never a password.
    let events = api
        .state
        .store()
        .audit_events(&shop.id, &Default::default())
        .await?;
    let created: Vec<_> = events
        .iter()
        .filter(|e| e.action == "addon.create")
        .collect();
    assert_eq!(created.len(), 2);
    assert!(events
        .iter()
        .all(|e| !e.details.contains(&staging.addon.credentials.password)));
    // Parity sees the same service, plan and version on both sides.
    let left = addons::parity_view(&api.state, &staging.env).await?;
    let right = addons::parity_view(&api.state, &production.env).await?;
    assert_eq!(
        (&left[0].service, &left[0].plan, &left[0].version),
        (&right[0].service, &right[0].plan, &right[0].version)
    );
    Ok(())
}

#[tokio::test]
async fn attaching_makes_a_release_with_the_url_and_detaching_removes_it() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "relapp").await?;
    let env = api
        .state
        .store()
        .environment("relapp-staging")
        .await?
        .ok_or_else(|| anyhow::anyhow!("env"))?;
    release(&api, &env.id).await?;
    let views = addons::create(
        &api.state,
        &api.admin,
        "relapp-staging",
        &create_req("postgres", false),
    )
    .await?;
    let addon = &views[0];
    let releases = api.state.store().list_releases(&env.id).await?;
    let last = releases
        .last()
        .ok_or_else(|| anyhow::anyhow!("no release"))?;
    assert_eq!(last.version, 2);
    assert!(
        last.description
            .starts_with("Attach DATABASE, HEROKU_POSTGRESQL_"),
        "{}",
        last.description
    );
    assert_eq!(last.status, ReleaseStatus::Succeeded);
    let snapshot = api.state.store().release_config(&last.id).await?;
    assert!(snapshot.contains_key("DATABASE_URL"));
    // The new worker dyno got the URL (the supervisor boots it in a pass of its own).
    let mut dyno_env = None;
    for _ in 0..200 {
        dyno_env = api
            .fake
            .state()
            .containers
            .values()
            .filter_map(|c| c.dyno.clone())
            .find(|d| d.labels.get("doppel.release") == Some(&last.id))
            .map(|d| d.env);
        if dyno_env.is_some() {
            break;
        }
        doppel_control::supervisor::run_once(&api.state).await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let dyno_env = dyno_env.ok_or_else(|| anyhow::anyhow!("no dyno of the new release"))?;
    assert_eq!(dyno_env.get("DATABASE_URL"), snapshot.get("DATABASE_URL"));

    // A second name for the same add-on, then detached again.
    let (att, applied) = addon_attachments::attach(
        &api.state,
        &api.admin,
        &addon.addon.name,
        "relapp-staging",
        Some("REPORTING"),
    )
    .await?;
    assert_eq!(applied, Applied::Released(Some(3)));
    let config = api.state.store().config_vars(&env.id).await?;
    assert_eq!(config.get("REPORTING_URL"), config.get("DATABASE_URL"));
    addon_attachments::detach(
        &api.state,
        &api.admin,
        Some("relapp-staging"),
        &att.attachment.id,
    )
    .await?;
    assert!(!api
        .state
        .store()
        .config_vars(&env.id)
        .await?
        .contains_key("REPORTING_URL"));
    // Another environment cannot use it: it is on another network.
    let err = addon_attachments::attach(&api.state, &api.admin, &addon.addon.name, "relapp", None)
        .await
        .err();
    assert!(err.is_some_and(|e| e.to_string().contains("reachable only from its network")));
    // A name already attached is refused, with nothing changed.
    let err = addons::create(
        &api.state,
        &api.admin,
        "relapp-staging",
        &CreateRequest {
            attachment_name: Some("DATABASE".into()),
            ..create_req("postgres", false)
        },
    )
    .await
    .err();
    assert!(err.is_some_and(|e| e.to_string().contains("DATABASE is already attached")));
    assert_eq!(api.state.store().addons_of_env(&env.id).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn the_supervisor_recreates_dead_servers_and_removes_strays() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "supa").await?;
    addons::create(
        &api.state,
        &api.admin,
        "supa-staging",
        &create_req("postgres", false),
    )
    .await?;
    let (first, container) = addon_containers(&api)
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no server"))?;
    let volume = container
        .service
        .as_ref()
        .map(|s| s.volumes[0].volume.clone())
        .unwrap_or_default();
    // The server dies (or the engine restarted): the next pass makes a new one, same volume.
    if let Some(c) = api.fake.state().containers.get_mut(&first) {
        c.running = false;
    }
    supervisor::converge(&api.state).await;
    let now = addon_containers(&api);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].0, first);
    assert!(now[0].1.running);
    assert_eq!(
        now[0]
            .1
            .service
            .as_ref()
            .map(|s| s.volumes[0].volume.clone()),
        Some(volume.clone())
    );
    // Converging again changes nothing.
    supervisor::converge(&api.state).await;
    assert_eq!(addon_containers(&api)[0].0, now[0].0);
    // A container of an add-on that no longer exists goes; no volume is ever removed here.
    if let Some(c) = api.fake.state().containers.get_mut(&now[0].0) {
        c.spec
            .labels
            .insert("doppel.addon-id".into(), "gone".into());
    }
    supervisor::converge(&api.state).await;
    assert!(api.fake.state().volumes.contains_key(&volume));
    assert_eq!(
        addon_containers(&api).len(),
        1,
        "the wanted one is made again"
    );
    let desired = supervisor::desired(&api.state).await?;
    assert_eq!(desired.len(), 1);
    assert_eq!(
        desired[0].labels.get("doppel.role").map(String::as_str),
        Some("addon")
    );
    Ok(())
}

#[tokio::test]
async fn backups_verify_restore_across_environments_and_refuse_corrupt_files() -> anyhow::Result<()>
{
    let api = api().await?;
    app(&api, "bkp").await?;
    let views =
        addons::create(&api.state, &api.admin, "bkp", &create_req("postgres", true)).await?;
    let (_, b1) =
        backups::capture(&api.state, &api.admin, "bkp", None, Some("postgres"), true).await?;
    assert_eq!(b1.label(), "b001");
    assert_eq!(b1.verified, Some(true), "{:?}", b1.verify_message);
    assert_eq!(b1.counts.get("public.items"), Some(&3));
    let file = api
        .state
        .config()
        .data_dir
        .join(b1.file.clone().unwrap_or_default());
    assert!(file.exists());
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file)?.permissions().mode() & 0o777,
            0o600
        );
    }
    // Production's backup restored into staging, with a masking script.
    let req = RestoreRequest {
        source: Some("bkp::b001".into()),
        script: Some("UPDATE users SET email = 'x';".into()),
        wait: true,
        ..Default::default()
    };
    let (target, r1) = backups::restore(
        &api.state,
        &api.admin,
        "bkp-staging",
        Some("postgres"),
        &req,
    )
    .await?;
    assert_eq!(target.env.name, "bkp-staging");
    assert_eq!(r1.label(), "r001");
    assert_eq!(r1.source.as_deref(), Some("bkp::b001"));
    let restore_exec = api
        .fake
        .state()
        .execs
        .iter()
        .rev()
        .find(|e| e.cmd.last().is_some_and(|s| s.contains("doppel_restore")))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no restore ran"))?;
    assert_eq!(
        restore_exec.env["DOPPEL_SCRIPT"],
        "UPDATE users SET email = 'x';"
    );
    assert_eq!(
        restore_exec.env["DOPPEL_ADDON_DATABASE"],
        views[0].addon.credentials.database
    );
    assert!(restore_exec.stdin.starts_with(b"DUMP of "));

    // A corrupted file is refused before anything runs; the target is not touched.
    let mut bytes = std::fs::read(&file)?;
    bytes[0] ^= 0xff;
    std::fs::write(&file, &bytes)?;
    let execs_before = api.fake.state().execs.len();
    let err = backups::restore(
        &api.state,
        &api.admin,
        "bkp-staging",
        Some("postgres"),
        &req,
    )
    .await
    .err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("checksum") && text.contains("nothing was restored"),
        "{text}"
    );
    assert_eq!(
        api.fake.state().execs.len(),
        execs_before,
        "nothing ran on the target"
    );
    // A truncated one too.
    std::fs::write(&file, &bytes[..4])?;
    let err = backups::restore(
        &api.state,
        &api.admin,
        "bkp-staging",
        Some("postgres"),
        &req,
    )
    .await
    .err();
    assert!(err.is_some_and(|e| e.to_string().contains("truncated")));
    let (_, list) = backups::list(&api.state, &api.admin, "bkp-staging").await?;
    assert_eq!(list.len(), 1, "refused restores leave no row: {list:?}");
    Ok(())
}

#[tokio::test]
async fn rotation_records_the_new_password_and_releases_it() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "rot").await?;
    let env = api
        .state
        .store()
        .environment("rot-staging")
        .await?
        .ok_or_else(|| anyhow::anyhow!("env"))?;
    release(&api, &env.id).await?;
    let views = addons::create(
        &api.state,
        &api.admin,
        "rot-staging",
        &create_req("postgres", false),
    )
    .await?;
    let old = views[0].addon.credentials.password.clone();
    let old_url = api
        .state
        .store()
        .config_vars(&env.id)
        .await?
        .get("DATABASE_URL")
        .cloned()
        .unwrap_or_default();
    let (after, applied) = addons::rotate(
        &api.state,
        &api.admin,
        "rot-staging",
        None,
        Some("postgres"),
    )
    .await?;
    assert!(matches!(applied, Applied::Released(Some(_))));
    let new = after.addon.credentials.password.clone();
    assert_ne!(new, old);
    assert!(after.addon.credentials.pending_password.is_none());
    let rotate = api
        .fake
        .state()
        .execs
        .iter()
        .rev()
        .find(|e| e.env.contains_key("DOPPEL_NEW_PASSWORD"))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no rotate"))?;
    assert_eq!(rotate.env["DOPPEL_NEW_PASSWORD"], new);
    let url = api
        .state
        .store()
        .config_vars(&env.id)
        .await?
        .get("DATABASE_URL")
        .cloned()
        .unwrap_or_default();
    assert_ne!(url, old_url);
    assert!(url.contains(&new));
    let last = api
        .state
        .store()
        .current_release(&env.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no release"))?;
    assert!(
        last.description.contains("credential rotation"),
        "{}",
        last.description
    );
    Ok(())
}

#[tokio::test]
async fn destroy_keeps_a_final_backup_and_removes_server_and_data() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "gone").await?;
    let views = addons::create(
        &api.state,
        &api.admin,
        "gone-staging",
        &create_req("postgres", false),
    )
    .await?;
    let volume = views[0].addon.volume.clone();
    let (was, final_backup) = addons::destroy(
        &api.state,
        &api.admin,
        Some("gone-staging"),
        "DATABASE_URL",
        false,
    )
    .await?;
    assert_eq!(was.addon.name, views[0].addon.name);
    assert_eq!(final_backup.as_deref(), Some("b001"));
    assert!(api.state.store().addon(&views[0].addon.id).await?.is_none());
    assert!(addon_containers(&api).is_empty());
    assert!(!api.fake.state().volumes.contains_key(&volume));
    let env = api
        .state
        .store()
        .environment("gone-staging")
        .await?
        .ok_or_else(|| anyhow::anyhow!("env"))?;
    assert!(!api
        .state
        .store()
        .config_vars(&env.id)
        .await?
        .contains_key("DATABASE_URL"));
    let (_, list) = backups::list(&api.state, &api.admin, "gone-staging").await?;
    assert_eq!(
        list[0].note.as_deref().map(|n| n.contains("final backup")),
        Some(true)
    );
    assert_eq!(list[0].verified, Some(true));

    // A final backup that fails stops the destroy (unless forced).
    let views = addons::create(
        &api.state,
        &api.admin,
        "gone-staging",
        &create_req("postgres", false),
    )
    .await?;
    api.fake.state().script.exec_handler = Some(FakeExecHandler::new(|e| FakeExecReply {
        exit_code: if e.cmd.last().is_some_and(|s| s.contains("pg_dump")) {
            1
        } else {
            0
        },
        ..Default::default()
    }));
    let err = addons::destroy(
        &api.state,
        &api.admin,
        Some("gone-staging"),
        &views[0].addon.name,
        false,
    )
    .await
    .err();
    assert!(err.is_some_and(|e| e.to_string().contains("--force")));
    let still = api
        .state
        .store()
        .addon(&views[0].addon.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(still.state, AddonState::Provisioned);
    addons::destroy(
        &api.state,
        &api.admin,
        Some("gone-staging"),
        &views[0].addon.name,
        true,
    )
    .await?;
    assert!(api.state.store().addon(&views[0].addon.id).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_failed_provisioning_unwinds() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "fails").await?;
    // Writing the password file works; every other command (the health check) fails.
    api.fake.state().script.exec_handler = Some(FakeExecHandler::new(|exec| {
        let seeding = exec
            .cmd
            .last()
            .is_some_and(|c| c.contains("doppel-password"));
        FakeExecReply {
            exit_code: if seeding { 0 } else { 2 },
            stderr: if seeding {
                Vec::new()
            } else {
                b"no server".to_vec()
            },
            ..Default::default()
        }
    }));
    // The server's container stops at once, so the health check fails fast.
    let state = api.state.clone();
    let fake = api.fake.clone();
    let stopper = tokio::spawn(async move {
        for _ in 0..200 {
            for c in fake.state().containers.values_mut() {
                if c.service.is_some() {
                    c.running = false;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    let err = addons::create(
        &state,
        &api.admin,
        "fails-staging",
        &create_req("postgres", false),
    )
    .await
    .err();
    stopper.abort();
    assert!(err.is_some_and(|e| e.to_string().contains("Provisioning failed")));
    let env = api
        .state
        .store()
        .environment("fails-staging")
        .await?
        .ok_or_else(|| anyhow::anyhow!("env"))?;
    let rows = api.state.store().addons_of_env(&env.id).await?;
    assert_eq!(rows[0].state, AddonState::Failed);
    assert!(
        rows[0]
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("exited")),
        "{:?}",
        rows[0].failure
    );
    assert!(api
        .state
        .store()
        .attachments_of_env(&env.id)
        .await?
        .is_empty());
    assert!(addon_containers(&api).is_empty());
    assert!(api.fake.state().volumes.is_empty());
    assert!(api.state.store().config_vars(&env.id).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn scheduled_backups_run_daily_and_keep_n() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "sched").await?;
    let views = addons::create(
        &api.state,
        &api.admin,
        "sched-staging",
        &create_req("postgres", false),
    )
    .await?;
    backups::schedule(
        &api.state,
        &api.admin,
        "sched-staging",
        None,
        Some("postgres"),
        Some(BackupSchedule {
            hour: 2,
            keep: 2,
            zone: None,
        }),
    )
    .await?;
    let day = |d: u8, h: u8| -> anyhow::Result<time::OffsetDateTime> {
        Ok(time::Date::from_calendar_date(2026, time::Month::March, d)?
            .with_hms(h, 0, 0)?
            .assume_utc())
    };
    schedule::tick(&api.state, day(1, 1)?).await;
    assert_eq!(scheduled_count(&api).await?, 0, "not before the hour");
    let today = time::OffsetDateTime::now_utc().replace_hour(23)?;
    schedule::tick(&api.state, today).await;
    schedule::tick(&api.state, today).await;
    assert_eq!(scheduled_count(&api).await?, 1, "once a day");
    let (_, list) = backups::list(&api.state, &api.admin, "sched-staging").await?;
    assert_eq!(list[0].label(), "a001");
    assert_eq!(list[0].verified, Some(true));
    // Two more days' backups: only the newest two are kept.
    let addon = &views[0].addon;
    for _ in 0..2 {
        doppel_control::workflows::addon_backup::capture(
            &api.state,
            addon,
            BackupKind::Scheduled,
            None,
            None,
        )
        .await?;
    }
    let first_file = api
        .state
        .config()
        .data_dir
        .join(list[0].file.clone().unwrap_or_default());
    schedule::prune(&api.state, &addon.env_id, &addon.id, 2).await;
    let (_, list) = backups::list(&api.state, &api.admin, "sched-staging").await?;
    let names: Vec<String> = list.iter().map(|b| b.label()).collect();
    assert_eq!(names, ["a002", "a003"]);
    assert!(!first_file.exists(), "the pruned backup's file is gone");
    Ok(())
}

async fn scheduled_count(api: &common::Api) -> anyhow::Result<usize> {
    let (_, list) = backups::list(&api.state, &api.admin, "sched-staging").await?;
    Ok(list
        .into_iter()
        .filter(|b| b.kind == BackupKind::Scheduled)
        .count())
}

/// A schedule's hour is its time zone's: at 14:30 UTC an hour of 23 has not come in UTC but
/// has in Tokyo (UTC+9).
#[tokio::test]
async fn a_schedule_counts_hours_in_its_time_zone() -> anyhow::Result<()> {
    let api = api().await?;
    app(&api, "sched").await?;
    addons::create(
        &api.state,
        &api.admin,
        "sched-staging",
        &create_req("postgres", false),
    )
    .await?;
    let at = |at: &str| -> anyhow::Result<BackupSchedule> {
        let (hour, zone) = backups::parse_at(at)?;
        Ok(BackupSchedule {
            hour,
            keep: 2,
            zone,
        })
    };
    let afternoon = time::OffsetDateTime::now_utc().replace_time(time::macros::time!(14:30));
    for (schedule, expected) in [("23:00 UTC", 0), ("23:00 Asia/Tokyo", 1)] {
        backups::schedule(
            &api.state,
            &api.admin,
            "sched-staging",
            None,
            Some("postgres"),
            Some(at(schedule)?),
        )
        .await?;
        schedule::tick(&api.state, afternoon).await;
        assert_eq!(scheduled_count(&api).await?, expected, "{schedule}");
    }
    let (_, list) = backups::list(&api.state, &api.admin, "sched-staging").await?;
    assert_eq!(
        list[0].note.as_deref(),
        Some("scheduled daily at 23:00 Asia/Tokyo")
    );
    Ok(())
}
