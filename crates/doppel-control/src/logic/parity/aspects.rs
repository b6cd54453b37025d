//! The aspects parity compares, one pure function each over [`Inputs`]. Each lists what
//! staging and production have, and classes every difference; none ever shows a config value.

use super::inputs::{Inputs, Side};
use super::model::{Aspect, Class, Difference};
use doppel_store::Release;
use std::collections::BTreeMap;

/// Every aspect, in the order parity shows them.
pub const ALL: &[fn(&Inputs) -> Aspect] = &[
    config, addons, process, stack, buildpacks, health, router, pushes, release, running,
];

/// The aspects' names (what marks name before the `/`).
pub const NAMES: &[&str] = &[
    "config",
    "addons",
    "process",
    "stack",
    "buildpacks",
    "health",
    "router",
    "pushes",
    "release",
    "running",
];

fn aspect(name: &'static str, title: &'static str) -> Aspect {
    Aspect {
        name,
        title,
        staging: Vec::new(),
        production: Vec::new(),
        differences: Vec::new(),
    }
}

/// `sha256:0123456789ab…` → `0123456789ab`, for showing and comparing image ids.
pub fn short_image(id: &str) -> &str {
    let bare = id.strip_prefix("sha256:").unwrap_or(id);
    bare.get(..12).unwrap_or(bare)
}

fn same_image(a: &str, b: &str) -> bool {
    a.strip_prefix("sha256:").unwrap_or(a) == b.strip_prefix("sha256:").unwrap_or(b)
}

/// Config var keys: a key only staging has is drift (the code staging ran expects it);
/// keys only production has and values that differ are expected.
fn config(inp: &Inputs) -> Aspect {
    let mut a = aspect("config", "Config var keys (values are never shown)");
    let (s, p) = (&inp.staging.config, &inp.production.config);
    a.staging = s.keys().cloned().collect();
    a.production = p.keys().cloned().collect();
    let prod = &inp.production.env.name;
    for key in s.keys().filter(|k| !p.contains_key(*k)) {
        a.differences.push(
            Difference::new("config", key, Class::Drift)
                .says(format!("{prod} lacks config var {key}, which staging has."))
                .fix(format!("doppel config:set {key}=<value> -a {prod}")),
        );
    }
    for key in p.keys().filter(|k| !s.contains_key(*k)) {
        a.differences.push(
            Difference::new("config", key, Class::Expected)
                .says(format!("Only {prod} sets {key}.")),
        );
    }
    for (key, value) in s {
        if p.get(key).is_some_and(|v| v != value) {
            a.differences.push(
                Difference::new("config", key, Class::Expected)
                    .says(format!("{key} has its own value in each environment.")),
            );
        }
    }
    a
}

/// Add-ons by service: one attached only in staging is drift; other plans, or add-ons
/// only production has, are expected.
fn addons(inp: &Inputs) -> Aspect {
    let mut a = aspect("addons", "Add-ons (service:plan as attachment)");
    let show = |side: &Side| -> Vec<String> {
        side.addons
            .iter()
            .map(|x| format!("{}:{} as {}", x.service, x.plan, x.name))
            .collect()
    };
    a.staging = show(&inp.staging);
    a.production = show(&inp.production);
    let prod = &inp.production.env.name;
    for s in &inp.staging.addons {
        match inp
            .production
            .addons
            .iter()
            .find(|p| p.service == s.service)
        {
            None => a.differences.push(
                Difference::new("addons", &s.service, Class::Drift)
                    .says(format!(
                        "{prod} has no {} add-on; staging has {}:{} as {}.",
                        s.service, s.service, s.plan, s.name
                    ))
                    .fix(format!(
                        "doppel addons:create {}:{} --as {} -a {prod}",
                        s.service, s.plan, s.name
                    )),
            ),
            Some(p) if p.plan != s.plan => {
                a.differences
                    .push(
                        Difference::new("addons", &s.service, Class::Expected).says(format!(
                            "{} runs plan {} in staging and {} in production.",
                            s.service, s.plan, p.plan
                        )),
                    )
            }
            Some(p) if p.version != s.version => {
                a.differences
                    .push(
                        Difference::new("addons", &s.service, Class::Expected).says(format!(
                            "{} runs {} in staging and {} in production.",
                            s.service,
                            s.version.as_deref().unwrap_or("an unknown version"),
                            p.version.as_deref().unwrap_or("an unknown version")
                        )),
                    )
            }
            Some(_) => {}
        }
    }
    for p in &inp.production.addons {
        if !inp.staging.addons.iter().any(|s| s.service == p.service) {
            a.differences.push(
                Difference::new("addons", &p.service, Class::Expected)
                    .says(format!("Only {prod} has a {} add-on.", p.service)),
            );
        }
    }
    a
}

/// The formation entries that are dynos (`release` is the release phase's command).
fn dyno_types(side: &Side) -> impl Iterator<Item = &doppel_store::FormationEntry> {
    side.formation
        .iter()
        .filter(|f| f.process_type != "release")
}

/// Process types with their sizes: a type running at another size in production is drift;
/// dyno counts differ as expected; a type production has no entry for yet gets staging's
/// size with the next promotion.
fn process(inp: &Inputs) -> Aspect {
    let mut a = aspect("process", "Process types (size × dynos)");
    let show = |side: &Side| -> Vec<String> {
        dyno_types(side)
            .map(|f| format!("{}: {} × {}", f.process_type, f.size, f.quantity))
            .collect()
    };
    a.staging = show(&inp.staging);
    a.production = show(&inp.production);
    let prod = &inp.production.env.name;
    for s in dyno_types(&inp.staging) {
        let t = &s.process_type;
        match dyno_types(&inp.production).find(|p| &p.process_type == t) {
            None => a
                .differences
                .push(Difference::new("process", t, Class::Expected).says(format!(
                    "{prod} has no {t} dynos yet; the next promotion sizes them {} as in staging.",
                    s.size
                ))),
            Some(p) if !p.size.eq_ignore_ascii_case(&s.size) => a.differences.push(
                Difference::new("process", t, Class::Drift)
                    .says(format!(
                        "{t} runs on {} in staging but {} in production.",
                        s.size, p.size
                    ))
                    .fix(format!("doppel ps:resize {t}={} -a {prod}", s.size)),
            ),
            Some(p) if p.quantity != s.quantity => {
                a.differences
                    .push(Difference::new("process", t, Class::Expected).says(format!(
                        "{t}: {} dyno(s) in staging, {} in production.",
                        s.quantity, p.quantity
                    )))
            }
            Some(_) => {}
        }
    }
    for p in dyno_types(&inp.production) {
        if !dyno_types(&inp.staging).any(|s| s.process_type == p.process_type) {
            a.differences.push(
                Difference::new("process", &p.process_type, Class::Expected).says(format!(
                    "Only {prod} has {} dynos (from an earlier release).",
                    p.process_type
                )),
            );
        }
    }
    a
}

/// The stack each environment builds and runs on: a different stack is drift.
fn stack(inp: &Inputs) -> Aspect {
    let mut a = aspect("stack", "Stack");
    let show = |side: &Side| -> Vec<String> {
        let mut out = vec![side.stack.clone()];
        if let Some(built) = side.build.as_ref().and_then(|b| b.stack.as_deref()) {
            out.push(format!("current image built on {built}"));
        }
        out
    };
    a.staging = show(&inp.staging);
    a.production = show(&inp.production);
    let (s, p) = (&inp.staging.stack, &inp.production.stack);
    if s != p {
        let prod = &inp.production.env.name;
        a.differences.push(
            Difference::new("stack", "stack", Class::Drift)
                .says(format!("Staging builds on {s}, {prod} on {p}."))
                .fix(format!("doppel stack:set {s} -a {prod}")),
        );
    }
    a
}

/// How each environment's current image was built. Production's image comes from staging,
/// so a difference follows the release (per-environment buildpack settings would be drift).
fn buildpacks(inp: &Inputs) -> Aspect {
    let mut a = aspect("buildpacks", "Buildpacks of the current image");
    let show = |side: &Side| -> Vec<String> {
        match (&side.current, &side.build) {
            (None, _) => Vec::new(),
            (Some(r), Some(b)) => vec![b
                .buildpack
                .clone()
                .unwrap_or_else(|| format!("{} build", r.image_kind.as_str()))],
            (Some(r), None) => vec![format!("{} image", r.image_kind.as_str())],
        }
    };
    a.staging = show(&inp.staging);
    a.production = show(&inp.production);
    if !a.staging.is_empty() && !a.production.is_empty() && a.staging != a.production {
        a.differences.push(
            Difference::new("buildpacks", "buildpacks", Class::Expected).says(
                "The images were built differently; promoting staging's release makes them the same.",
            ),
        );
    }
    a
}

/// How new dynos are judged healthy before they take traffic.
fn health(inp: &Inputs) -> Aspect {
    let mut a = aspect("health", "Health checks");
    // One rule for every environment today; per-environment checks (a path, a timeout)
    // will be compared here, a difference being drift.
    a.staging = vec![inp.health_check.clone()];
    a.production = vec![inp.health_check.clone()];
    a
}

/// Router settings: privacy (staging private, production public, by design), the access
/// password a private environment may take besides tokens, the IP allow-lists (a
/// difference is expected: an office network on staging, a CDN's ranges on production), and
/// session affinity (a difference is drift: the app is routed differently).
/// Maintenance mode joins here when compared.
fn router(inp: &Inputs) -> Aspect {
    let mut a = aspect("router", "Router settings");
    a.staging = router_lines(&inp.staging);
    a.production = router_lines(&inp.production);
    if inp.staging.env.private != inp.production.env.private {
        a.differences.push(
            Difference::new("router", "private", Class::Expected).says(format!(
                "Staging is {}, production {}.",
                privacy(&inp.staging),
                privacy(&inp.production)
            )),
        );
    }
    let password = |side: &Side| side.env.private && side.access_password;
    if password(&inp.staging) != password(&inp.production) {
        let (with, without) = if password(&inp.staging) {
            ("staging", "production")
        } else {
            ("production", "staging")
        };
        a.differences.push(
            Difference::new("router", "access-password", Class::Expected).says(format!(
                "Only {with} admits its own access password besides tokens of users with access; {without} does not ({}).",
                privacy(if with == "staging" { &inp.production } else { &inp.staging })
            )),
        );
    }
    if inp.staging.env.session_affinity != inp.production.env.session_affinity {
        let (on, off) = if inp.staging.env.session_affinity {
            ("staging", "production")
        } else {
            ("production", "staging")
        };
        a.differences.push(
            Difference::new("router", "session-affinity", Class::Drift).says(format!(
                "Only {on} routes each client to the same web dyno (http-session-affinity); \
                 {off} spreads its requests over every dyno, so an app keeping sessions in \
                 a dyno's memory behaves differently there. Turn it on or off on both \
                 (`heroku features:enable http-session-affinity -a APP`)."
            )),
        );
    }
    if inp.staging.allowed_ips != inp.production.allowed_ips {
        a.differences.push(
            Difference::new("router", "allowed-ips", Class::Expected).says(format!(
                "The IP allow-lists differ: staging {}, production {}.",
                allow_list(&inp.staging),
                allow_list(&inp.production)
            )),
        );
    }
    a
}

/// The clients an environment's allow-list admits, in words.
fn allow_list(side: &Side) -> String {
    if side.allowed_ips.is_empty() {
        "no IP allow-list".to_string()
    } else {
        format!("IP allow-list {}", side.allowed_ips.join(", "))
    }
}

/// Who the router lets through to one environment.
fn privacy(side: &Side) -> String {
    match (side.env.private, side.access_password) {
        (false, _) => "public".to_string(),
        (true, true) => "private (tokens of users with access, or its access password)".to_string(),
        (true, false) => "private (tokens of users with access only)".to_string(),
    }
}

fn router_lines(side: &Side) -> Vec<String> {
    let affinity = if side.env.session_affinity {
        "session affinity (http-session-affinity)"
    } else {
        "no session affinity"
    };
    vec![privacy(side), allow_list(side), affinity.to_string()]
}

/// Whether production takes git pushes besides promotions (an admin's choice).
fn pushes(inp: &Inputs) -> Aspect {
    let mut a = aspect("pushes", "What deploys");
    a.staging = vec!["git pushes".to_string()];
    a.production = vec![if inp.direct_pushes {
        "promotions and git pushes (allowed by an admin)".to_string()
    } else {
        "promotions only".to_string()
    }];
    if inp.direct_pushes {
        a.differences
            .push(Difference::new("pushes", "direct", Class::Expected).says(
                "An admin allowed git pushes to production: it may run images staging never ran.",
            ));
    }
    a
}

fn release_line(r: &Release) -> String {
    format!(
        "v{} {} ({})",
        r.version,
        short_image(&r.image_id),
        r.description
    )
}

/// The release and image each runs: production running an image staging never ran is
/// drift; a staging release not yet promoted is expected.
fn release(inp: &Inputs) -> Aspect {
    let mut a = aspect("release", "Current release and image");
    a.staging = inp.staging.current.iter().map(release_line).collect();
    a.production = inp.production.current.iter().map(release_line).collect();
    let (s, p) = (&inp.staging.current, &inp.production.current);
    let app = &inp.production.env.app_name;
    // A release with the config alone (set before anything was built) runs nothing yet.
    let p = &p.as_ref().filter(|p| !p.image_id.is_empty()).cloned();
    let d = match (s, p) {
        (_, None) => Difference::new("release", "image", Class::Expected).says(format!(
            "{} has no release yet: `doppel promote -p {app}` gives it staging's.",
            inp.production.env.name
        )),
        (None, Some(_)) => {
            Difference::new("release", "image", Class::Expected).says("Staging has no release.")
        }
        (Some(s), Some(p)) if same_image(&s.image_id, &p.image_id) => return a,
        (Some(s), Some(p)) => {
            let ran = inp
                .staging_releases
                .iter()
                .find(|r| same_image(&r.image_id, &p.image_id));
            match ran {
                Some(from) => Difference::new("release", "image", Class::Expected).says(format!(
                    "Production runs the image of staging v{}; staging's v{} is not promoted yet.",
                    from.version, s.version
                )),
                None => Difference::new("release", "image", Class::Drift)
                    .says(format!(
                        "Production runs image {}, which never ran in staging (a direct push).",
                        short_image(&p.image_id)
                    ))
                    .fix(format!("doppel promote -p {app}")),
            }
        }
    };
    a.differences.push(d);
    a
}

/// Stored against running: every dyno container must run its environment's current release,
/// with that release's image and environment. Anything else (a container changed by hand, a
/// store rewound) is drift on that environment.
fn running(inp: &Inputs) -> Aspect {
    let mut a = aspect("running", "Running dynos against their releases");
    for side in inp.sides() {
        let lines = side
            .dynos
            .iter()
            .map(|d| {
                let version = d
                    .release_id
                    .as_ref()
                    .and_then(|id| inp.known_releases.get(id))
                    .map(|k| format!("v{}", k.release.version))
                    .unwrap_or_else(|| "an unknown release".to_string());
                let state = if d.running { "running" } else { "stopped" };
                format!("{} {version} {state}", d.dyno)
            })
            .collect();
        match side.env.stage {
            doppel_types::Stage::Staging => a.staging = lines,
            doppel_types::Stage::Production => a.production = lines,
        }
        for d in side.dynos.iter().filter(|d| d.running) {
            if let Some(diff) = running_dyno(inp, side, d) {
                a.differences.push(diff);
            }
        }
    }
    a
}

/// What is wrong with one running dyno, if anything.
fn running_dyno(
    inp: &Inputs,
    side: &Side,
    d: &super::inputs::DynoObservation,
) -> Option<Difference> {
    let env = &side.env.name;
    let item = format!("{}:{}", side.env.stage.as_str(), d.dyno);
    let restart = format!("doppel ps:restart {} -a {env}", d.dyno);
    let known = d
        .release_id
        .as_ref()
        .and_then(|id| inp.known_releases.get(id));
    let Some(known) = known else {
        return Some(
            Difference::new("running", item, Class::Drift)
                .says(format!(
                    "{} of {env} runs a release the store does not know (the store was rewound, or the container was made by hand).",
                    d.dyno
                ))
                .fix(restart),
        );
    };
    let current = side.current.as_ref();
    if current.is_none_or(|c| c.id != known.release.id) {
        if side.rolling_out {
            return Some(
                Difference::new("running", item, Class::Expected).says(format!(
                    "{} of {env} still runs v{} while a new release rolls out.",
                    d.dyno, known.release.version
                )),
            );
        }
        let now = current
            .map(|c| format!("v{}", c.version))
            .unwrap_or_else(|| "none".to_string());
        return Some(
            Difference::new("running", item, Class::Drift)
                .says(format!(
                    "{} of {env} runs v{}, but its current release is {now}.",
                    d.dyno, known.release.version
                ))
                .fix(restart),
        );
    }
    let config = d.config.as_ref()?;
    let mut wrong = Vec::new();
    if !same_image(&config.image_id, &known.release.image_id) {
        wrong.push(format!(
            "image {} instead of {}",
            short_image(&config.image_id),
            short_image(&known.release.image_id)
        ));
    }
    let changed = env_changes(&known.config, d, config);
    if !changed.is_empty() {
        wrong.push(format!("environment differs ({})", changed.join(", ")));
    }
    if wrong.is_empty() {
        return None;
    }
    Some(
        Difference::new("running", item, Class::Drift)
            .says(format!(
                "{} of {env} does not match its release v{}: {}.",
                d.dyno,
                known.release.version,
                wrong.join("; ")
            ))
            .fix(restart),
    )
}

/// Keys whose value in the container is not what the release gives it (names only):
/// `FOO changed`, `BAR missing`, `BAZ added`.
fn env_changes(
    release_config: &BTreeMap<String, String>,
    d: &super::inputs::DynoObservation,
    config: &doppel_docker::ContainerConfig,
) -> Vec<String> {
    let mut wanted = release_config.clone();
    wanted.insert("DYNO".to_string(), d.dyno.clone());
    wanted.insert("PORT".to_string(), doppel_types::WEB_PORT.to_string());
    let mut out = Vec::new();
    for (key, value) in &wanted {
        match config.env.get(key) {
            None => out.push(format!("{key} missing")),
            Some(v) if v != value => out.push(format!("{key} changed")),
            Some(_) => {}
        }
    }
    for (key, value) in config.env.iter().filter(|(k, _)| !wanted.contains_key(*k)) {
        // Variables the image itself sets are inherited, unless given another value.
        match config.image_env.get(key) {
            Some(inherited) if inherited == value => {}
            Some(_) => out.push(format!("{key} changed")),
            None => out.push(format!("{key} added")),
        }
    }
    out
}
