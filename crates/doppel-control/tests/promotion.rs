//! Promotion on the shared fake: production gets staging's exact image with its own config,
//! bad input and drift change nothing, a failure at each step (and a crash between steps)
//! leaves production on its old release, running a promotion twice does no harm, and
//! everything is in the audit log.

mod common;

use common::Api;
use doppel_control::logic::promotions::{self, PromoteRequest, PromotionView};
use doppel_control::logic::{parity, pipelines, Actor, LogicError};
use doppel_control::workflows::progress::{Lines, Silent};
use doppel_control::workflows::promote;
use doppel_control::workflows::release::{self, ReleaseRequest};
use doppel_docker::ImageInfo;
use doppel_store::{App, Environment, PromotionStatus, Release, ReleaseStatus};
use doppel_types::{ImageKind, ProcessTypes, Stage};
use std::collections::BTreeMap;

type R<T = ()> = anyhow::Result<T>;

fn types() -> ProcessTypes {
    ProcessTypes::from([
        ("web".to_string(), "serve".to_string()),
        ("worker".to_string(), "work".to_string()),
    ])
}

/// An app whose environments run only a worker (web is scaled to 0: the fake's dynos cannot
/// answer a health check), with `images` on the fake.
async fn setup(name: &str, images: &[&str]) -> R<(Api, App)> {
    let api = common::api().await?;
    for image in images {
        add_image(&api, image);
    }
    let app = doppel_control::logic::apps::create(&api.state, &api.admin, Some(name)).await?;
    for env in &app.environments {
        let store = api.state.store();
        store.ensure_formation(&env.id, &types()).await?;
        store
            .update_formation(&env.id, "web", Some(0), None)
            .await?;
        store
            .update_formation(&env.id, "worker", Some(1), None)
            .await?;
    }
    Ok((api, app))
}

/// Puts an image on the fake, named by its id as a build would leave it.
fn add_image(api: &Api, image: &str) {
    api.fake.state().images.insert(
        image.to_string(),
        ImageInfo {
            id: image.to_string(),
            ..Default::default()
        },
    );
}

fn env(app: &App, stage: Stage) -> Environment {
    app.environment(stage)
        .cloned()
        .unwrap_or_else(|| unreachable!())
}

/// Releases `image` on staging as a deploy would.
async fn release_staging(api: &Api, app: &App, image: &str) -> R<Release> {
    let req = ReleaseRequest {
        image_id: image.to_string(),
        image_kind: ImageKind::Dockerfile,
        process_types: types(),
        build_id: None,
        description: format!("Deploy {image}"),
        user_id: Some(api.admin.user.id.clone()),
        config: None,
    };
    let made = release::release(&api.state, &env(app, Stage::Staging), req, &Silent).await?;
    converge(api).await;
    Ok(made)
}

/// Runs supervisor passes until the fake's containers stop changing and none is being
/// retired (a release starts its other process types and retires old dynos after it
/// commits, in passes and tasks of their own).
async fn converge(api: &Api) {
    let seen = || {
        let table = &api.state.supervisor().table;
        api.fake
            .state()
            .containers
            .iter()
            .map(|(id, c)| {
                let phase = table.get(id).map(|d| d.phase.as_str());
                (id.clone(), c.running, phase)
            })
            .collect::<Vec<_>>()
    };
    let mut last = None;
    for _ in 0..200 {
        doppel_control::supervisor::run_once(&api.state).await;
        let now = seen();
        let retiring = now.iter().any(|(_, _, p)| *p == Some("stopping"));
        if !retiring && last.as_ref() == Some(&now) {
            return;
        }
        last = Some(now);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect()
}

fn promote_req(app: &App) -> PromoteRequest {
    PromoteRequest {
        pipeline: app.name.clone(),
        ..Default::default()
    }
}

/// Promotes and waits; returns the view, the ended promotion and the progress lines.
async fn promote_now(
    api: &Api,
    req: &PromoteRequest,
) -> R<(PromotionView, doppel_store::Promotion, Vec<String>)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let (view, handle) =
        promotions::start(&api.state, &api.admin, req, Box::new(Lines(tx))).await?;
    let done = handle
        .await?
        .ok_or_else(|| anyhow::anyhow!("promotion did not run"))?;
    let mut lines = Vec::new();
    while let Some(line) = rx.recv().await {
        lines.push(line);
    }
    converge(api).await;
    Ok((view, done, lines))
}

/// The running dyno containers of `env` on the fake: (image, env vars).
fn dynos_of(api: &Api, env: &Environment) -> Vec<(String, BTreeMap<String, String>)> {
    api.fake
        .state()
        .containers
        .values()
        .filter(|c| c.running && c.spec.labels.get("doppel.env-id") == Some(&env.id))
        .map(|c| (c.spec.image.clone(), c.spec.env.clone()))
        .collect()
}

async fn actions(api: &Api, app: &App) -> R<Vec<String>> {
    let events =
        doppel_control::logic::audit::events(&api.state, &api.admin, &app.name, None, None, None)
            .await?;
    Ok(events.into_iter().map(|e| e.action).collect())
}

#[tokio::test]
async fn production_runs_the_exact_staging_image_with_its_own_config() -> R {
    let (api, app) = setup("shop", &["sha256:one"]).await?;
    let (staging, production) = (env(&app, Stage::Staging), env(&app, Stage::Production));
    let store = api.state.store();
    store
        .set_config_vars(&staging.id, &set(&[("GREETING", "hi staging")]))
        .await?;
    store
        .set_config_vars(&production.id, &set(&[("GREETING", "hi production")]))
        .await?;
    let source = release_staging(&api, &app, "sha256:one").await?;

    let (view, done, lines) = promote_now(&api, &promote_req(&app)).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded, "{done:?}");
    assert_eq!(view.source_release.as_ref().map(|r| r.version), Some(1));
    let current = store
        .current_release(&production.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("production has no release"))?;
    assert_eq!(current.image_id, "sha256:one");
    assert_eq!(
        current.source_release_id.as_deref(),
        Some(source.id.as_str())
    );
    assert_eq!(current.description, "Promote shop-staging v1");
    assert_eq!(current.user_id.as_deref(), Some(api.admin.user.id.as_str()));
    assert_eq!(done.target_release_id.as_deref(), Some(current.id.as_str()));
    // Docker runs that image with production's config; no image was built or imported.
    let running = dynos_of(&api, &production);
    assert_eq!(running.len(), 1, "{running:?}");
    assert_eq!(running[0].0, "sha256:one");
    assert_eq!(
        running[0].1.get("GREETING").map(String::as_str),
        Some("hi production")
    );
    assert!(api.fake.state().builds.is_empty() && api.fake.state().commits.is_empty());
    let text = lines.join("\n");
    assert!(
        text.contains("Promoting shop-staging v1 (image one) to shop"),
        "{text}"
    );
    assert!(
        text.contains("Promoted shop-staging v1 to shop as v1"),
        "{text}"
    );
    assert!(!text.contains("hi production"), "{text}");
    let acts = actions(&api, &app).await?;
    assert_eq!(
        acts[..2],
        ["promotion.succeeded", "promotion.start"],
        "{acts:?}"
    );
    // Both now run the same image: nothing left to promote.
    let report = parity::report(&api.state, &api.admin, "shop").await?;
    assert!(report.drift().is_empty(), "{:?}", report.drift());
    assert!(!report.differences().any(|d| d.aspect == "release"));
    // Running it again changes nothing.
    let again = promote::run(&api.state, &done.id, &Silent).await?;
    assert_eq!(again, done);
    assert_eq!(store.list_releases(&production.id).await?.len(), 1);
    Ok(())
}

fn invalid(result: Result<PromotionView, LogicError>) -> String {
    match result {
        Err(e @ (LogicError::Invalid(_) | LogicError::Conflict(_))) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_promotions_are_refused_and_change_nothing() -> R {
    let (api, app) = setup("shop", &["sha256:one"]).await?;
    let (other_api_app, _) = (
        doppel_control::logic::apps::create(&api.state, &api.admin, Some("other")).await?,
        (),
    );
    let (staging, production) = (env(&app, Stage::Staging), env(&app, Stage::Production));
    let (s, a) = (&api.state, &api.admin);
    let msg = invalid(promotions::create(s, a, &promote_req(&app)).await);
    assert!(
        msg.contains("shop-staging has no release to promote yet"),
        "{msg}"
    );
    release_staging(&api, &app, "sha256:one").await?;

    let with = |f: &dyn Fn(&mut PromoteRequest)| {
        let mut r = promote_req(&app);
        f(&mut r);
        r
    };
    let to_staging = with(&|r| r.targets = Some(vec![staging.id.clone()]));
    assert!(
        invalid(promotions::create(s, a, &to_staging).await).contains("shop-staging is staging")
    );
    let other_prod = env(&other_api_app, Stage::Production);
    let elsewhere = with(&|r| r.targets = Some(vec![other_prod.id.clone()]));
    assert!(invalid(promotions::create(s, a, &elsewhere).await)
        .contains("not production of pipeline shop"));
    let none = with(&|r| r.targets = Some(Vec::new()));
    assert!(invalid(promotions::create(s, a, &none).await).contains("Name the target"));
    let backwards = with(&|r| r.source = Some(production.id.clone()));
    assert!(
        invalid(promotions::create(s, a, &backwards).await).contains("from staging to production")
    );
    // A release of another app, a version staging does not have.
    let other_staging = env(&other_api_app, Stage::Staging);
    let foreign = s
        .store()
        .create_release(&doppel_store::NewRelease {
            env_id: other_staging.id.clone(),
            build_id: None,
            image_id: "sha256:one".into(),
            image_kind: ImageKind::Dockerfile,
            process_types: types(),
            description: "Deploy".into(),
            user_id: None,
            status: ReleaseStatus::Succeeded,
            config: None,
        })
        .await?;
    for wanted in [foreign.id.clone(), "v9".to_string()] {
        let req = with(&|r| r.release = Some(wanted.clone()));
        let msg = invalid(promotions::create(s, a, &req).await);
        assert!(msg.contains("is not a release of shop-staging"), "{msg}");
    }
    let no_reason = with(&|r| {
        r.force = true;
        r.reason = Some("  ".into());
    });
    assert!(invalid(promotions::create(s, a, &no_reason).await).contains("needs a reason"));

    // Drift: a key staging has and production lacks, named with its fix.
    s.store()
        .set_config_vars(&staging.id, &set(&[("API_KEY", "x")]))
        .await?;
    let msg = invalid(promotions::create(s, a, &promote_req(&app)).await);
    assert!(msg.contains("[config/API_KEY]"), "{msg}");
    assert!(
        msg.contains("doppel config:set API_KEY=<value> -a shop"),
        "{msg}"
    );

    // Nothing was recorded, nothing released.
    assert!(s.store().list_promotions(&app.id).await?.is_empty());
    assert!(s.store().list_releases(&production.id).await?.is_empty());
    assert!(!actions(&api, &app)
        .await?
        .iter()
        .any(|x| x.starts_with("promotion")));

    // Two promotions never interleave: the second waits for the first to end.
    s.store()
        .set_config_vars(&production.id, &set(&[("API_KEY", "y")]))
        .await?;
    let first = promotions::create(s, a, &promote_req(&app)).await?;
    let msg = invalid(promotions::create(s, a, &promote_req(&app)).await);
    assert!(msg.contains("already in progress"), "{msg}");
    assert_eq!(s.store().list_promotions(&app.id).await?.len(), 1);
    let done = promote::run(s, &first.promotion.id, &Silent).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    Ok(())
}

#[tokio::test]
async fn a_forced_promotion_is_recorded_with_its_reason() -> R {
    let (api, app) = setup("shop", &["sha256:one"]).await?;
    let staging = env(&app, Stage::Staging);
    api.state
        .store()
        .set_config_vars(&staging.id, &set(&[("NEW_FLAG", "1")]))
        .await?;
    release_staging(&api, &app, "sha256:one").await?;
    let mut req = promote_req(&app);
    req.force = true;
    req.reason = Some("hotfix for incident 42".into());
    let (_, done, _) = promote_now(&api, &req).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    assert!(done.forced);
    assert_eq!(done.reason.as_deref(), Some("hotfix for incident 42"));
    let events = doppel_control::logic::audit::events(
        &api.state,
        &api.admin,
        "shop",
        Some("shop"),
        None,
        None,
    )
    .await?;
    let forced = events
        .iter()
        .find(|e| e.action == "promotion.forced")
        .ok_or_else(|| anyhow::anyhow!("no promotion.forced event: {events:?}"))?;
    let details: serde_json::Value = serde_json::from_str(&forced.details)?;
    assert_eq!(details["reason"], "hotfix for incident 42");
    assert_eq!(details["drift"], serde_json::json!(["config/NEW_FLAG"]));
    assert_eq!(forced.user_email.as_deref(), Some("admin@localhost"));
    assert_eq!(forced.env_name.as_deref(), Some("shop"));
    Ok(())
}

#[tokio::test]
async fn an_earlier_staging_release_can_be_promoted() -> R {
    let (api, app) = setup("shop", &["sha256:one", "sha256:two"]).await?;
    let production = env(&app, Stage::Production);
    release_staging(&api, &app, "sha256:one").await?;
    release_staging(&api, &app, "sha256:two").await?;
    let mut req = promote_req(&app);
    req.release = Some("v1".into());
    let (_, done, _) = promote_now(&api, &req).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    let current = api.state.store().current_release(&production.id).await?;
    assert_eq!(current.map(|r| r.image_id), Some("sha256:one".to_string()));
    assert_eq!(dynos_of(&api, &production)[0].0, "sha256:one");
    let report = parity::report(&api.state, &api.admin, "shop-staging").await?;
    let d = report
        .differences()
        .find(|d| d.id() == "release/image")
        .ok_or_else(|| anyhow::anyhow!("no release difference"))?;
    assert_eq!(d.class, parity::Class::Expected);
    assert!(d.message.contains("staging v1") && d.message.contains("v2 is not promoted"));
    Ok(())
}

#[tokio::test]
async fn a_crashing_or_failed_staging_release_is_refused() -> R {
    let (api, app) = setup("shop", &["sha256:one"]).await?;
    let staging = env(&app, Stage::Staging);
    release_staging(&api, &app, "sha256:one").await?;
    for c in api.fake.state().containers.values_mut() {
        if c.spec.labels.get("doppel.env-id") == Some(&staging.id) {
            c.running = false;
            c.exit_code = Some(3);
        }
    }
    let msg = invalid(promotions::create(&api.state, &api.admin, &promote_req(&app)).await);
    assert!(
        msg.contains("worker.1 of shop-staging v1 is crashing (exit code 3)"),
        "{msg}"
    );
    // A release that failed never served.
    let failed = api
        .state
        .store()
        .create_release(&doppel_store::NewRelease {
            env_id: staging.id.clone(),
            build_id: None,
            image_id: "sha256:one".into(),
            image_kind: ImageKind::Dockerfile,
            process_types: types(),
            description: "Deploy broken".into(),
            user_id: None,
            status: ReleaseStatus::Failed,
            config: None,
        })
        .await?;
    let mut req = promote_req(&app);
    req.release = Some(failed.id);
    let msg = invalid(promotions::create(&api.state, &api.admin, &req).await);
    assert!(
        msg.contains("failed (Deploy broken) and never served"),
        "{msg}"
    );
    assert!(api.state.store().list_promotions(&app.id).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_failed_rollout_fails_the_promotion_and_production_keeps_serving() -> R {
    let (api, app) = setup("shop", &["sha256:one", "sha256:two"]).await?;
    let production = env(&app, Stage::Production);
    // Web dynos this time: a rollout waits for them (the other types follow its commit).
    for e in &app.environments {
        api.state
            .store()
            .update_formation(&e.id, "web", Some(1), None)
            .await?;
    }
    release_staging(&api, &app, "sha256:one").await?;
    promote_now(&api, &promote_req(&app)).await?;
    let before = api.state.store().current_release(&production.id).await?;
    release_staging(&api, &app, "sha256:two").await?;
    let view = promotions::create(&api.state, &api.admin, &promote_req(&app)).await?;
    // The image vanishes between the checks and the rollout: the new dyno cannot start.
    api.fake.state().images.remove("sha256:two");
    let done = promote::run(&api.state, &view.promotion.id, &Silent).await?;
    assert_eq!(done.status, PromotionStatus::Failed);
    let error = done.error_message.clone().unwrap_or_default();
    assert!(
        error.contains("Release v2 failed") && error.contains("keeps serving"),
        "{error}"
    );
    let after = api.state.store().current_release(&production.id).await?;
    assert_eq!(after, before);
    let made = api.state.store().list_releases(&production.id).await?;
    assert_eq!(made.last().map(|r| r.status), Some(ReleaseStatus::Failed));
    converge(&api).await;
    let running = dynos_of(&api, &production);
    assert_eq!(running.len(), 2, "web and worker: {running:?}");
    assert!(running.iter().all(|(image, _)| image == "sha256:one"));
    // The next promotion may go ahead.
    add_image(&api, "sha256:two");
    let (_, done, _) = promote_now(&api, &promote_req(&app)).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    Ok(())
}

/// A restart: pending releases are failed, then cut-off promotions end.
async fn restart(api: &Api) -> R {
    api.state.store().fail_interrupted_releases().await?;
    promotions::recover(&api.state).await;
    Ok(())
}

#[tokio::test]
async fn a_crash_at_any_step_ends_the_promotion_cleanly() -> R {
    let (api, app) = setup("shop", &["sha256:one"]).await?;
    let production = env(&app, Stage::Production);
    let store = api.state.store().clone();
    let source = release_staging(&api, &app, "sha256:one").await?;
    let new_release = || doppel_store::NewRelease {
        env_id: production.id.clone(),
        build_id: None,
        image_id: "sha256:one".into(),
        image_kind: ImageKind::Dockerfile,
        process_types: types(),
        description: "Promote shop-staging v1".into(),
        user_id: None,
        status: ReleaseStatus::Pending,
        config: None,
    };

    // 1. Cut off after the promotion row, before production's release: it fails.
    let p = promotions::create(&api.state, &api.admin, &promote_req(&app))
        .await?
        .promotion;
    restart(&api).await?;
    let ended = store.promotion(&p.id).await?;
    assert_eq!(
        ended.as_ref().map(|p| p.status),
        Some(PromotionStatus::Failed)
    );
    assert_eq!(
        ended.and_then(|p| p.error_message).as_deref(),
        Some(promote::INTERRUPTED)
    );
    assert!(store.current_release(&production.id).await?.is_none());

    // 2. Cut off while production's release rolled out: release and promotion fail.
    let p = promotions::create(&api.state, &api.admin, &promote_req(&app))
        .await?
        .promotion;
    let r = store
        .create_promoted_release(&new_release(), &p.id, &source.id)
        .await?;
    restart(&api).await?;
    assert_eq!(
        store.promotion(&p.id).await?.map(|p| p.status),
        Some(PromotionStatus::Failed)
    );
    assert_eq!(
        store.release(&r.id).await?.map(|r| r.status),
        Some(ReleaseStatus::Failed)
    );
    assert!(store.current_release(&production.id).await?.is_none());

    // 3. Cut off after the release served, before the promotion was marked: it completes.
    let p = promotions::create(&api.state, &api.admin, &promote_req(&app))
        .await?
        .promotion;
    let r = store
        .create_promoted_release(&new_release(), &p.id, &source.id)
        .await?;
    store.succeed_release(&r.id, false).await?;
    restart(&api).await?;
    assert_eq!(
        store.promotion(&p.id).await?.map(|p| p.status),
        Some(PromotionStatus::Succeeded)
    );
    assert_eq!(
        store.current_release(&production.id).await?.map(|r| r.id),
        Some(r.id.clone())
    );
    let events =
        doppel_control::logic::audit::events(&api.state, &api.admin, "shop", None, None, None)
            .await?;
    assert_eq!(events[0].action, "promotion.succeeded");
    assert_eq!(events[0].client, "doppel-server");

    // 4. The workflow run again on a promotion whose release exists settles it, no second release.
    let p = promotions::create(&api.state, &api.admin, &promote_req(&app))
        .await?
        .promotion;
    let r = store
        .create_promoted_release(&new_release(), &p.id, &source.id)
        .await?;
    store.succeed_release(&r.id, false).await?;
    let count = store.list_releases(&production.id).await?.len();
    let done = promote::run(&api.state, &p.id, &Silent).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    assert_eq!(store.list_releases(&production.id).await?.len(), count);
    assert!(store.pending_promotions().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn only_admins_allow_direct_pushes_and_mark_differences() -> R {
    let (api, app) = setup("shop", &["sha256:one"]).await?;
    let store = api.state.store();
    let member = store.create_user("dev@example.com", false).await?;
    store.grant_access(&app.id, &member.id, None).await?;
    let dev = Actor::api(member);
    let refused = pipelines::set_direct_pushes(&api.state, &dev, "shop", true).await;
    assert!(
        matches!(refused, Err(LogicError::Forbidden(_))),
        "{refused:?}"
    );
    assert!(!store.direct_pushes_allowed(&app.id).await?);
    pipelines::set_direct_pushes(&api.state, &api.admin, "shop", true).await?;
    assert!(pipelines::direct_pushes(&api.state, &dev, "shop").await?.1);
    assert_eq!(actions(&api, &app).await?[0], "app.direct_pushes");

    let staging = env(&app, Stage::Staging);
    store
        .set_config_vars(&staging.id, &set(&[("QA_ONLY", "1")]))
        .await?;
    release_staging(&api, &app, "sha256:one").await?;
    let refused = parity::mark(&api.state, &dev, "shop", "config/QA_ONLY", "qa").await;
    assert!(
        matches!(refused, Err(LogicError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = parity::mark(&api.state, &api.admin, "shop", "config/QA_ONLY", " ").await;
    assert!(
        matches!(refused, Err(LogicError::Invalid(_))),
        "{refused:?}"
    );
    let refused = parity::mark(&api.state, &api.admin, "shop", "colour/QA_ONLY", "x").await;
    assert!(
        matches!(refused, Err(LogicError::Invalid(_))),
        "{refused:?}"
    );
    assert!(promotions::create(&api.state, &dev, &promote_req(&app))
        .await
        .is_err());
    parity::mark(
        &api.state,
        &api.admin,
        "shop",
        "config/QA_ONLY",
        "QA tooling",
    )
    .await?;
    // The member promotes: the intended difference no longer blocks.
    let (_, handle) =
        promotions::start(&api.state, &dev, &promote_req(&app), Box::new(Silent)).await?;
    let done = handle
        .await?
        .ok_or_else(|| anyhow::anyhow!("did not run"))?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    assert!(!done.forced);
    parity::unmark(&api.state, &api.admin, "shop", "config/QA_ONLY").await?;
    let gone = parity::unmark(&api.state, &api.admin, "shop", "config/QA_ONLY").await;
    assert!(matches!(gone, Err(LogicError::NotFound { .. })), "{gone:?}");
    Ok(())
}

#[tokio::test]
async fn a_new_app_has_no_drift_and_production_gets_stagings_sizes() -> R {
    let api = common::api().await?;
    let app = doppel_control::logic::apps::create(&api.state, &api.admin, Some("fresh")).await?;
    let report = parity::report(&api.state, &api.admin, "fresh").await?;
    assert!(report.drift().is_empty(), "{:?}", report.drift());
    let (staging, production) = (env(&app, Stage::Staging), env(&app, Stage::Production));
    add_image(&api, "sha256:one");
    let store = api.state.store();
    store.ensure_formation(&staging.id, &types()).await?;
    store
        .update_formation(&staging.id, "web", Some(0), None)
        .await?;
    store
        .update_formation(&staging.id, "worker", Some(1), Some("standard-2X"))
        .await?;
    // Production has only web (scaled to 0: the fake's dynos answer no health check).
    let web = ProcessTypes::from([("web".to_string(), String::new())]);
    store.ensure_formation(&production.id, &web).await?;
    store
        .update_formation(&production.id, "web", Some(0), None)
        .await?;
    release_staging(&api, &app, "sha256:one").await?;
    let report = parity::report(&api.state, &api.admin, "fresh").await?;
    let worker = report
        .differences()
        .find(|d| d.id() == "process/worker")
        .ok_or_else(|| anyhow::anyhow!("no worker difference"))?;
    assert_eq!(worker.class, parity::Class::Expected, "{worker:?}");
    let (_, done, _) = promote_now(&api, &promote_req(&app)).await?;
    assert_eq!(done.status, PromotionStatus::Succeeded);
    let formation = store.formation(&production.id).await?;
    let worker = formation
        .iter()
        .find(|f| f.process_type == "worker")
        .ok_or_else(|| anyhow::anyhow!("production has no worker entry"))?;
    assert_eq!((worker.size.as_str(), worker.quantity), ("standard-2X", 0));
    let report = parity::report(&api.state, &api.admin, "fresh").await?;
    assert!(report.drift().is_empty(), "{:?}", report.drift());
    Ok(())
}

#[tokio::test]
async fn old_dynos_draining_behind_a_committed_release_are_not_drift() -> R {
    let (api, app) = setup("shop", &["sha256:one", "sha256:two"]).await?;
    release_staging(&api, &app, "sha256:one").await?;
    // v2 commits; its caller is answered while v1's worker is still to be replaced.
    let req = ReleaseRequest {
        image_id: "sha256:two".to_string(),
        image_kind: ImageKind::Dockerfile,
        process_types: types(),
        build_id: None,
        description: "Deploy sha256:two".to_string(),
        user_id: Some(api.admin.user.id.clone()),
        config: None,
    };
    release::release(&api.state, &env(&app, Stage::Staging), req, &Silent).await?;
    let report = parity::report(&api.state, &api.admin, "shop").await?;
    let d = report
        .differences()
        .find(|d| d.id() == "running/staging:worker.1")
        .ok_or_else(|| anyhow::anyhow!("v1's worker is not shown: {report:?}"))?;
    assert_eq!(d.class, parity::Class::Expected, "{d:?}");
    assert!(d.message.contains("still runs v1"), "{d:?}");
    // Once it is replaced, nothing is left to show.
    converge(&api).await;
    let report = parity::report(&api.state, &api.admin, "shop").await?;
    assert!(
        !report.differences().any(|d| d.id().starts_with("running/")),
        "{report:?}"
    );
    Ok(())
}
