//! Parity's aspects on synthetic inputs: what is drift, what is expected, marks, and the
//! words of a refused promotion. (The inputs' reading from the store and Docker is covered by
//! the promotion tests on the shared fake and end to end.)

use super::*;
use doppel_docker::ContainerConfig;
use doppel_store::{FormationEntry, ParityMark, Release, ReleaseStatus};
use doppel_types::{ImageKind, Stage};
use std::collections::{BTreeMap, HashMap};

fn env(stage: Stage) -> Environment {
    let name = match stage {
        Stage::Staging => "shop-staging",
        Stage::Production => "shop",
    };
    Environment {
        id: format!("{name}-id"),
        app_id: "app-id".into(),
        app_name: "shop".into(),
        name: name.into(),
        stage,
        private: stage.private_by_default(),
        build_stack: "debian-testing".into(),
        maintenance: false,
        session_affinity: false,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn release(env: &Environment, version: i64, image: &str) -> Release {
    Release {
        id: format!("{}-v{version}", env.name),
        env_id: env.id.clone(),
        version,
        build_id: None,
        image_id: image.into(),
        image_kind: ImageKind::Dockerfile,
        process_types: BTreeMap::new(),
        description: format!("Deploy v{version}"),
        status: ReleaseStatus::Succeeded,
        user_id: None,
        source_release_id: None,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn formation(env: &Environment, entries: &[(&str, i64, &str)]) -> Vec<FormationEntry> {
    entries
        .iter()
        .map(|(t, q, s)| FormationEntry {
            id: format!("{}-{t}", env.name),
            env_id: env.id.clone(),
            process_type: t.to_string(),
            quantity: *q,
            size: s.to_string(),
            created_at: String::new(),
            updated_at: String::new(),
        })
        .collect()
}

fn side(stage: Stage) -> Side {
    let env = env(stage);
    Side {
        config: BTreeMap::from([("DATABASE_URL".to_string(), format!("postgres://{stage}"))]),
        current: Some(release(&env, 1, "sha256:aaaa")),
        build: None,
        formation: formation(&env, &[("web", 1, "standard-1X")]),
        stack: "debian-testing".into(),
        addons: Vec::new(),
        dynos: Vec::new(),
        rolling_out: false,
        access_password: false,
        allowed_ips: Vec::new(),
        env,
    }
}

/// Two environments that are the same where it matters.
fn twins() -> Inputs {
    let staging = side(Stage::Staging);
    Inputs {
        staging_releases: staging.current.iter().cloned().collect(),
        staging,
        production: side(Stage::Production),
        known_releases: HashMap::new(),
        direct_pushes: false,
        health_check: "web dynos accept TCP on $PORT within 60 s".into(),
    }
}

fn app() -> App {
    App {
        id: "app-id".into(),
        name: "shop".into(),
        owner_id: "owner".into(),
        created_at: String::new(),
        environments: vec![env(Stage::Staging), env(Stage::Production)],
    }
}

fn report(inp: &Inputs) -> Report {
    assemble(app(), inp, &[])
}

fn find<'a>(r: &'a Report, id: &str) -> &'a Difference {
    r.differences()
        .find(|d| d.id() == id)
        .unwrap_or_else(|| panic!("no difference {id}: {:#?}", r.aspects))
}

#[test]
fn twins_have_no_drift_and_every_aspect_is_shown() {
    let r = report(&twins());
    assert!(r.drift().is_empty(), "{:#?}", r.drift());
    let names: Vec<&str> = r.aspects.iter().map(|a| a.name).collect();
    assert_eq!(names, aspects::NAMES);
    // Values differ (expected), staging private and production public (expected).
    assert_eq!(find(&r, "config/DATABASE_URL").class, Class::Expected);
    assert_eq!(find(&r, "router/private").class, Class::Expected);
    let config = &r.aspects[0];
    assert_eq!(config.staging, ["DATABASE_URL"]);
    for d in r.differences() {
        assert!(!d.message.contains("postgres://"), "a value leaked: {d:?}");
    }
}

#[test]
fn a_config_key_only_staging_has_is_drift_with_its_fix() {
    let mut inp = twins();
    inp.staging.config.insert("API_KEY".into(), "s3cret".into());
    inp.production.config.insert("SENTRY".into(), "x".into());
    let r = report(&inp);
    let d = find(&r, "config/API_KEY");
    assert_eq!(d.class, Class::Drift);
    assert!(d.message.contains("shop lacks config var API_KEY"), "{d:?}");
    assert_eq!(
        d.fix.as_deref(),
        Some("doppel config:set API_KEY=<value> -a shop")
    );
    assert_eq!(find(&r, "config/SENTRY").class, Class::Expected);
    let text = refusal(&r);
    assert!(text.contains("[config/API_KEY]"), "{text}");
    assert!(
        text.contains("doppel config:set API_KEY=<value> -a shop"),
        "{text}"
    );
    assert!(text.contains("--force --reason"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn addons_compare_by_service_then_plan() {
    let addon = |service: &str, plan: &str| AddonRef {
        name: "DATABASE".into(),
        service: service.into(),
        plan: plan.into(),
        version: Some("17.6".into()),
    };
    let mut inp = twins();
    inp.staging.addons = vec![
        addon("heroku-postgresql", "essential-0"),
        addon("heroku-redis", "mini"),
    ];
    inp.production.addons = vec![
        addon("heroku-postgresql", "standard-0"),
        addon("papertrail", "free"),
    ];
    let r = report(&inp);
    let redis = find(&r, "addons/heroku-redis");
    assert_eq!(redis.class, Class::Drift);
    assert!(redis
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("addons:create heroku-redis:mini")));
    assert_eq!(find(&r, "addons/heroku-postgresql").class, Class::Expected);
    assert_eq!(find(&r, "addons/papertrail").class, Class::Expected);
    // Same plan, another server version: reported.
    inp.production.addons = vec![AddonRef {
        version: Some("18.1".into()),
        ..addon("heroku-postgresql", "essential-0")
    }];
    let r = report(&inp);
    let pg = find(&r, "addons/heroku-postgresql");
    assert!(
        pg.message
            .contains("17.6 in staging and 18.1 in production"),
        "{}",
        pg.message
    );
}

#[test]
fn sizes_must_match_counts_may_differ() {
    let mut inp = twins();
    let (s, p) = (inp.staging.env.clone(), inp.production.env.clone());
    inp.staging.formation = formation(
        &s,
        &[
            ("web", 1, "standard-2X"),
            ("worker", 1, "standard-1X"),
            ("clock", 1, "basic"),
        ],
    );
    inp.production.formation = formation(
        &p,
        &[
            ("web", 3, "standard-1X"),
            ("worker", 4, "standard-1x"),
            ("old", 1, "basic"),
            ("release", 0, "basic"),
        ],
    );
    let r = report(&inp);
    assert!(!r.differences().any(|d| d.item == "release"), "not a dyno");
    let web = find(&r, "process/web");
    assert_eq!(web.class, Class::Drift, "{web:?}");
    assert_eq!(
        web.fix.as_deref(),
        Some("doppel ps:resize web=standard-2X -a shop")
    );
    assert_eq!(find(&r, "process/worker").class, Class::Expected);
    let clock = find(&r, "process/clock");
    assert_eq!(clock.class, Class::Expected);
    assert!(clock.message.contains("sizes them basic"), "{clock:?}");
    assert_eq!(find(&r, "process/old").class, Class::Expected);
}

#[test]
fn a_different_stack_is_drift() {
    let mut inp = twins();
    inp.production.stack = "debian-12".into();
    let r = report(&inp);
    let d = find(&r, "stack/stack");
    assert_eq!(d.class, Class::Drift);
    assert_eq!(
        d.fix.as_deref(),
        Some("doppel stack:set debian-testing -a shop")
    );
}

#[test]
fn production_images_must_come_from_staging() {
    let mut inp = twins();
    let s = inp.staging.env.clone();
    // Staging moved on to v2: production runs v1's image, which is expected.
    let v2 = release(&s, 2, "sha256:bbbb");
    inp.staging_releases.push(v2.clone());
    inp.staging.current = Some(v2);
    let r = report(&inp);
    let d = find(&r, "release/image");
    assert_eq!(d.class, Class::Expected);
    assert!(
        d.message.contains("staging v1") && d.message.contains("v2"),
        "{d:?}"
    );
    // An image staging never ran (a direct push) is drift, fixed by promoting.
    let p = inp.production.env.clone();
    inp.production.current = Some(release(&p, 4, "sha256:cccc"));
    let r = report(&inp);
    let d = find(&r, "release/image");
    assert_eq!(d.class, Class::Drift);
    assert_eq!(d.fix.as_deref(), Some("doppel promote -p shop"));
    // A production release with config alone (set before anything was built): expected.
    inp.production.current = Some(release(&p, 1, ""));
    assert_eq!(find(&report(&inp), "release/image").class, Class::Expected);
    // No production release yet: expected.
    inp.production.current = None;
    assert_eq!(find(&report(&inp), "release/image").class, Class::Expected);
    inp.direct_pushes = true;
    let r = report(&inp);
    assert_eq!(find(&r, "pushes/direct").class, Class::Expected);
    assert!(r.aspects[7].production[0].contains("git pushes"));
}

fn observed(dyno: &str, release: &Release, env: &[(&str, &str)], image: &str) -> DynoObservation {
    DynoObservation {
        dyno: dyno.into(),
        container: format!("doppel.x.{dyno}"),
        release_id: Some(release.id.clone()),
        running: true,
        config: Some(ContainerConfig {
            image_id: image.into(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            image_env: BTreeMap::from([("PATH".to_string(), "/usr/bin".to_string())]),
            labels: BTreeMap::new(),
        }),
    }
}

#[test]
fn dynos_must_run_their_release_as_stored() {
    let mut inp = twins();
    let current = inp
        .production
        .current
        .clone()
        .unwrap_or_else(|| unreachable!());
    let config = BTreeMap::from([(
        "DATABASE_URL".to_string(),
        "postgres://production".to_string(),
    )]);
    inp.known_releases.insert(
        current.id.clone(),
        inputs::KnownRelease {
            release: current.clone(),
            config: config.clone(),
        },
    );
    let good = [
        ("DATABASE_URL", "postgres://production"),
        ("DYNO", "web.1"),
        ("PORT", "5000"),
        ("PATH", "/usr/bin"),
    ];
    inp.production.dynos = vec![observed("web.1", &current, &good, "sha256:aaaa")];
    assert!(report(&inp).drift().is_empty());

    // Someone recreated the container with another value and an extra variable.
    let changed = [
        ("DATABASE_URL", "postgres://elsewhere"),
        ("DYNO", "web.1"),
        ("PORT", "5000"),
        ("DEBUG", "1"),
        ("PATH", "/usr/bin"),
    ];
    inp.production.dynos = vec![observed("web.1", &current, &changed, "sha256:aaaa")];
    let r = report(&inp);
    let d = find(&r, "running/production:web.1");
    assert_eq!(d.class, Class::Drift);
    assert!(d.message.contains("DATABASE_URL changed"), "{d:?}");
    assert!(d.message.contains("DEBUG added"), "{d:?}");
    assert!(!d.message.contains("elsewhere"), "a value leaked: {d:?}");
    assert_eq!(d.fix.as_deref(), Some("doppel ps:restart web.1 -a shop"));

    // Another image under the release's label.
    inp.production.dynos = vec![observed("web.1", &current, &good, "sha256:ffff")];
    let d = find(&report(&inp), "running/production:web.1").clone();
    assert!(d.message.contains("image ffff"), "{d:?}");

    // A release the store does not know (the store was rewound).
    let mut ghost = observed("web.1", &current, &good, "sha256:aaaa");
    ghost.release_id = Some("forgotten".into());
    inp.production.dynos = vec![ghost];
    assert_eq!(
        find(&report(&inp), "running/production:web.1").class,
        Class::Drift
    );

    // An old release's dyno: expected while a rollout holds the environment, drift after.
    let p = inp.production.env.clone();
    let newer = release(&p, 2, "sha256:aaaa");
    inp.production.current = Some(newer);
    inp.production.dynos = vec![observed("web.1", &current, &good, "sha256:aaaa")];
    assert_eq!(
        find(&report(&inp), "running/production:web.1").class,
        Class::Drift
    );
    inp.production.rolling_out = true;
    assert_eq!(
        find(&report(&inp), "running/production:web.1").class,
        Class::Expected
    );
}

#[test]
fn marks_turn_drift_into_intended_with_the_reason() {
    let mut inp = twins();
    inp.staging
        .config
        .insert("DEBUG_TOOLBAR".into(), "1".into());
    inp.staging.config.insert("API_KEY".into(), "1".into());
    let mark = ParityMark {
        id: "m".into(),
        app_id: "app-id".into(),
        aspect: "config".into(),
        item: "DEBUG_TOOLBAR".into(),
        reason: "only for QA".into(),
        user_id: None,
        created_at: String::new(),
    };
    let r = assemble(app(), &inp, &[mark]);
    let d = find(&r, "config/DEBUG_TOOLBAR");
    assert_eq!(d.class, Class::Intended);
    assert_eq!(
        d.mark.as_ref().map(|m| m.reason.as_str()),
        Some("only for QA")
    );
    assert_eq!(r.drift().len(), 1);
    assert_eq!(r.count(Class::Intended), 1);
    assert!(!refusal(&r).contains("DEBUG_TOOLBAR"));
}

#[test]
fn difference_ids_name_a_known_aspect() {
    assert!(split_id("config/FOO").is_ok());
    assert!(split_id("running/production:web.1").is_ok());
    for bad in ["config", "nope/FOO", "config/", ""] {
        assert!(split_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_router_aspect_shows_privacy_and_the_access_password() {
    let r = report(&twins());
    let router = r
        .aspects
        .iter()
        .find(|a| a.name == "router")
        .expect("a router aspect");
    assert_eq!(
        router.staging,
        [
            "private (tokens of users with access only)",
            "no IP allow-list",
            "no session affinity"
        ]
    );
    assert_eq!(
        router.production,
        ["public", "no IP allow-list", "no session affinity"]
    );
    assert!(r.differences().all(|d| d.id() != "router/access-password"));

    let mut inp = twins();
    inp.staging.access_password = true;
    let r = report(&inp);
    let router = r
        .aspects
        .iter()
        .find(|a| a.name == "router")
        .expect("a router aspect");
    assert_eq!(
        router.staging[0],
        "private (tokens of users with access, or its access password)"
    );
    let d = find(&r, "router/access-password");
    assert_eq!(d.class, Class::Expected);
    assert!(d.message.contains("Only staging"), "{}", d.message);
    assert!(r.drift().is_empty(), "{:#?}", r.drift());
}

#[test]
fn session_affinity_on_one_side_only_is_drift() {
    assert!(report(&twins())
        .differences()
        .all(|d| d.id() != "router/session-affinity"));
    for staging_on in [true, false] {
        let mut inp = twins();
        inp.staging.env.session_affinity = staging_on;
        inp.production.env.session_affinity = !staging_on;
        let r = report(&inp);
        let d = find(&r, "router/session-affinity");
        assert_eq!(d.class, Class::Drift);
        let only = if staging_on {
            "Only staging"
        } else {
            "Only production"
        };
        assert!(d.message.contains(only), "{}", d.message);
        let router = r
            .aspects
            .iter()
            .find(|a| a.name == "router")
            .expect("router");
        let line = |on: bool| {
            if on {
                "session affinity (http-session-affinity)"
            } else {
                "no session affinity"
            }
        };
        assert_eq!(router.staging[2], line(staging_on));
        assert_eq!(router.production[2], line(!staging_on));
    }
    let mut inp = twins();
    inp.staging.env.session_affinity = true;
    inp.production.env.session_affinity = true;
    assert!(report(&inp)
        .differences()
        .all(|d| d.id() != "router/session-affinity"));
}

#[test]
fn differing_ip_allow_lists_are_shown_and_expected() {
    let mut inp = twins();
    inp.staging.allowed_ips = vec!["10.1.0.0/16".to_string()];
    let r = report(&inp);
    let router = r
        .aspects
        .iter()
        .find(|a| a.name == "router")
        .expect("a router aspect");
    assert_eq!(router.staging[1], "IP allow-list 10.1.0.0/16");
    assert_eq!(router.production[1], "no IP allow-list");
    let d = find(&r, "router/allowed-ips");
    assert_eq!(d.class, Class::Expected);
    assert!(d.message.contains("10.1.0.0/16"), "{}", d.message);
    assert!(r.drift().is_empty(), "{:#?}", r.drift());

    inp.production.allowed_ips = inp.staging.allowed_ips.clone();
    let r = report(&inp);
    assert!(r.differences().all(|d| d.id() != "router/allowed-ips"));
}
