//! The add-on endpoints in-process (real store on SQLite, the shared fake runtime playing
//! Postgres): what the Heroku CLI and heroku3 send to create, list, resolve, attach and
//! destroy, and doppel's backup endpoints (capture, download with checksum, restore across
//! environments, a corrupt backup refused with 422).

mod common;

use axum::http::StatusCode;
use common::api;
use serde_json::{json, Value};

async fn setup(api: &common::Api, name: &str) -> anyhow::Result<()> {
    let stack = api.state.config().stacks.default_stack();
    {
        let mut st = api.fake.state();
        st.images.insert(stack.run_image(), Default::default());
        st.images.insert(stack.build_image(), Default::default());
        st.script.exec_handler = Some(doppel_addons::testing::fake_postgres());
    }
    let (status, body) = api
        .call(
            "POST",
            "/apps",
            Some(json!({ "name": name })),
            Some(&api.token),
        )
        .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "{body}");
    Ok(())
}

/// Polls an add-on until it is no longer provisioning.
async fn provisioned(api: &common::Api, id: &str) -> anyhow::Result<Value> {
    for _ in 0..200 {
        let (_, addon) = api
            .call("GET", &format!("/addons/{id}"), None, Some(&api.token))
            .await?;
        if addon["state"] != "provisioning" {
            return Ok(addon);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    anyhow::bail!("{id} still provisioning")
}

#[tokio::test]
async fn the_heroku_cli_shape_creates_and_the_catalogue_lists() -> anyhow::Result<()> {
    let api = api().await?;
    setup(&api, "hku").await?;
    let t = api.token.clone();
    let (status, services) = api.call("GET", "/addon-services", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = services
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["postgres", "redis"]);
    let (status, plans) = api
        .call(
            "GET",
            "/addon-services/heroku-postgresql/plans",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plans[0]["name"], "postgres:essential-0");
    assert_eq!(plans[0]["default"], true);

    // Verified shape of `heroku addons:create heroku-postgresql:essential-0 --as DB`.
    let body = json!({"attachment": {"name": "DB"}, "config": {}, "plan": {"name": "heroku-postgresql:essential-0"}});
    let (status, created) = api
        .call("POST", "/apps/hku-staging/addons", Some(body), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["state"], "provisioning");
    assert_eq!(created["config_vars"], json!(["DB_URL"]));
    assert_eq!(created["plan"]["name"], "postgres:essential-0");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let addon = provisioned(&api, &id).await?;
    assert_eq!(addon["state"], "provisioned", "{addon}");
    assert_eq!(addon["doppel"]["version"], "PostgreSQL 17.6");
    assert!(
        addon.to_string().find("postgres://").is_none(),
        "no URL (or password) in the object"
    );
    // heroku3's shape: plan as a string.
    let (status, redis) = api
        .call(
            "POST",
            "/apps/hku-staging/addons",
            Some(json!({"plan": "heroku-redis"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{redis}");
    assert_eq!(redis["config_vars"][0], "REDIS_URL");

    // Lists, lookups by name, by attachment, and the resolve action the CLI uses.
    let (_, list) = api
        .call("GET", "/apps/hku-staging/addons", None, Some(&t))
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let name = addon["name"].as_str().unwrap_or_default();
    let (status, by_att) = api
        .call("GET", "/apps/hku-staging/addons/DB_URL", None, Some(&t))
        .await?;
    assert_eq!(
        (status, by_att["name"].as_str()),
        (StatusCode::OK, Some(name))
    );
    let (status, resolved) = api
        .call(
            "POST",
            "/actions/addons/resolve",
            Some(json!({"addon": name, "app": "hku-staging"})),
            Some(&t),
        )
        .await?;
    assert_eq!(
        (status, resolved[0]["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    let (status, _) = api
        .call(
            "POST",
            "/actions/addons/resolve",
            Some(json!({"addon": name, "app": "hku"})),
            Some(&t),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "production does not see staging's add-on"
    );
    let (status, atts) = api
        .call("GET", "/apps/hku-staging/addon-attachments", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(atts
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["name"] == "DB")));
    let (status, err) = api
        .call(
            "POST",
            "/apps/hku-staging/addons",
            Some(json!({"plan": "mongodb"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("postgres, redis")),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn attach_detach_and_destroy_through_heroku_paths() -> anyhow::Result<()> {
    let api = api().await?;
    setup(&api, "att").await?;
    let t = api.token.clone();
    let (_, created) = api
        .call(
            "POST",
            "/apps/att-staging/addons",
            Some(json!({"plan": "postgres", "doppel": {"wait": true}})),
            Some(&t),
        )
        .await?;
    assert_eq!(created["state"], "provisioned", "{created}");
    let name = created["name"].as_str().unwrap_or_default().to_string();
    let (status, att) = api
        .call(
            "POST",
            "/addon-attachments",
            Some(json!({"addon": name, "app": "att-staging", "name": "REPORTING"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    assert_eq!(att["name"], "REPORTING");
    assert_eq!(att["addon"]["name"], name.as_str());
    let (status, _) = api
        .call(
            "POST",
            "/addon-attachments",
            Some(json!({"addon": name, "app": "att"})),
            Some(&t),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no attachment across environments"
    );
    let att_id = att["id"].as_str().unwrap_or_default();
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/addon-attachments/{att_id}"),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let (status, gone) = api
        .call(
            "DELETE",
            &format!("/apps/att-staging/addons/{name}"),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["state"], "deprovisioned");
    assert!(
        gone["provision_message"]
            .as_str()
            .is_some_and(|m| m.contains("b001")),
        "{gone}"
    );
    let (status, _) = api
        .call("GET", &format!("/addons/{name}"), None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn backups_capture_download_restore_and_refuse_corruption() -> anyhow::Result<()> {
    let api = api().await?;
    setup(&api, "bak").await?;
    let t = api.token.clone();
    let (status, created) = api
        .call(
            "POST",
            "/apps/bak/addons",
            Some(json!({"plan": "postgres", "doppel": {"whole_app": true, "wait": true}})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["app"]["name"], "bak");
    assert_eq!(created["doppel"]["twins"].as_array().map(Vec::len), Some(1));
    let (status, b) = api
        .call(
            "POST",
            "/apps/bak/backups",
            Some(json!({"service": "postgres", "wait": true})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(
        (b["name"].as_str(), b["verified"].as_bool()),
        (Some("b001"), Some(true)),
        "{b}"
    );
    assert!(b["checksum"]
        .as_str()
        .is_some_and(|c| c.starts_with("blake3:")));

    // The download streams the file with its checksum.
    let req = axum::http::Request::builder()
        .uri("/apps/bak/backups/b001/download")
        .header("Accept", "application/vnd.heroku+json; version=3")
        .header("Authorization", format!("Bearer {t}"))
        .body(axum::body::Body::empty())?;
    let resp = tower::ServiceExt::oneshot(api.router.clone(), req).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["x-doppel-checksum"].to_str()?,
        b["checksum"].as_str().unwrap_or_default()
    );
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await?
        .to_bytes();
    assert!(bytes.starts_with(b"DUMP of "));

    // Production's backup into staging, masked.
    let body = json!({"source": "bak::b001", "service": "postgres", "mask_script": "UPDATE u SET e = 'x';", "wait": true});
    let (status, r) = api
        .call(
            "POST",
            "/apps/bak-staging/backup-restores",
            Some(body.clone()),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["name"].as_str(), r["status"].as_str()),
        (Some("r001"), Some("succeeded"))
    );
    assert_eq!(r["source"], "bak::b001");

    // Corrupt the file: refused with 422, nothing run, no restore row.
    let dir = api.state.config().data_dir.join("backups");
    let file = std::fs::read_dir(&dir)?
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .next()
        .ok_or_else(|| anyhow::anyhow!("no backup file"))?;
    std::fs::write(&file, b"DUMP of garbage")?;
    let (status, err) = api
        .call(
            "POST",
            "/apps/bak-staging/backup-restores",
            Some(body),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was restored")),
        "{err}"
    );
    let (_, list) = api
        .call("GET", "/apps/bak-staging/backups", None, Some(&t))
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");

    // Schedules.
    let (status, a) = api
        .call(
            "PUT",
            "/apps/bak/backup-schedules",
            Some(json!({"service": "postgres", "at": "03:00 UTC", "keep": 5})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        a["doppel"]["backup_schedule"],
        json!({"hour": 3, "keep": 5, "zone": null})
    );
    // Heroku's syntax with a time zone; an unknown zone is refused.
    let (status, a) = api
        .call(
            "PUT",
            "/apps/bak/backup-schedules",
            Some(json!({"service": "postgres", "at": "03:00 Europe/Paris"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        a["doppel"]["backup_schedule"],
        json!({"hour": 3, "keep": 7, "zone": "Europe/Paris"})
    );
    let (status, _) = api
        .call(
            "PUT",
            "/apps/bak/backup-schedules",
            Some(json!({"service": "postgres", "at": "03:00 Mars/Olympus"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

/// `POST /apps/{app}/addon-sessions` (`pg:psql` on a terminal): a rendezvous URL whose
/// session runs the manifest's client in the add-on's server, as its user, with the terminal
/// asked for; audited; hidden from non-members.
#[tokio::test]
async fn an_interactive_session_is_a_rendezvous_into_the_addons_server() -> anyhow::Result<()> {
    let api = api().await?;
    setup(&api, "ses").await?;
    let t = api.token.clone();
    let (status, created) = api
        .call(
            "POST",
            "/apps/ses-staging/addons",
            Some(json!({"plan": "postgres"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(provisioned(&api, &id).await?["state"], "provisioned");

    let body = json!({"service": "postgres", "tty": true, "rows": 40, "cols": 132, "term": "xterm-256color"});
    let (status, session) = api
        .call(
            "POST",
            "/apps/ses-staging/addon-sessions",
            Some(body.clone()),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let url = session["attach_url"].as_str().unwrap_or_default();
    let secret = url.rsplit('/').next().unwrap_or_default();
    assert!(url.starts_with("rendezvous://"), "{url}");
    let pending = api
        .state
        .attach_sessions()
        .take(secret)
        .ok_or_else(|| anyhow::anyhow!("no pending session for {url}"))?;
    let exec = pending.exec.ok_or_else(|| anyhow::anyhow!("not an exec"))?;
    assert!(exec.tty && pending.tty);
    assert_eq!((pending.rows, pending.cols), (Some(40), Some(132)));
    assert_eq!(exec.user.as_deref(), Some("postgres"));
    assert!(
        exec.cmd.iter().any(|c| c.contains("psql")),
        "{:?}",
        exec.cmd
    );
    assert_eq!(exec.env["TERM"], "xterm-256color");
    let running = api
        .fake
        .state()
        .containers
        .get(&pending.container)
        .is_some_and(|c| c.running && c.service.is_some());
    assert!(running, "the session does not target the add-on's server");
    assert!(api
        .audit_actions("ses")
        .await?
        .contains(&"addon.shell".to_string()));

    // Someone who is not a collaborator gets a 404, and no session.
    let other = api.create_user("stranger@example.com").await?;
    let (status, _) = api
        .call(
            "POST",
            "/apps/ses-staging/addon-sessions",
            Some(body),
            Some(&other),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}
