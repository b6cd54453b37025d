//! doppel's records as the Heroku API shows them (`doppel-api-types`): every key of the
//! schema present, `null` when doppel has no value, and a `doppel` object for the rest.

use doppel_api_types::account::{
    AccessToken, Account, AccountExtra, Authorization, AuthorizationExtra,
};
use doppel_api_types::apps::{App, AppExtra, EnvironmentSummary};
use doppel_api_types::builds::{Build, BuildExtra, Buildpack, SourceBlob};
use doppel_api_types::collaborators::{Collaborator, CollaboratorExtra, CollaboratorUser};
use doppel_api_types::common::IdRef;
use doppel_api_types::domains::Domain;
use doppel_api_types::formation::Formation;
use doppel_api_types::platform::{DynoSize, DynoSizeExtra};
use doppel_api_types::platform::{ProviderRef, Region, Stack, StackExtra};
use doppel_api_types::releases::{Artifact, Release, ReleaseExtra};
use doppel_api_types::{NamedRef, UserRef};
use doppel_control::logic::apps::EnvView;
use doppel_control::logic::builds::BuildView;
use doppel_control::logic::collaborators::CollaboratorView;
use doppel_control::logic::domains::DomainView;
use doppel_control::logic::formation::Process;
use doppel_control::logic::platform;
use doppel_control::logic::stacks::StackInfo;
use doppel_control::urls::Urls;
use doppel_control::workflows::stacks::stack_id;
use doppel_store::{Environment, TokenInfo, User};
use std::collections::HashMap;

/// The stack a build row without one reports (builds made before builds recorded theirs
/// all ran on the Debian 12 stack, once called heroku-24).
pub const STACK_NAME: &str = "debian-12";
const CEDAR_ID: &str = "00000000-0000-4000-8000-0000000000ce";

/// The one region: this machine.
pub fn region_ref() -> NamedRef {
    NamedRef::new(platform::REGION_ID, platform::REGION_NAME)
}

/// A stack by its canonical name, with its stable id.
pub fn stack_ref(name: &str) -> NamedRef {
    NamedRef::new(stack_id(name), name)
}

/// Always `cedar`: other generations switch the official CLI to code paths doppel lacks.
pub fn cedar() -> NamedRef {
    NamedRef::new(CEDAR_ID, "cedar")
}

pub fn env_ref(env: &Environment) -> NamedRef {
    NamedRef::new(&env.id, &env.name)
}

fn user_ref(user: &User) -> UserRef {
    UserRef {
        id: user.id.clone(),
        email: Some(user.email.clone()),
    }
}

/// One environment as a Heroku app object.
pub fn app(view: &EnvView, urls: &Urls) -> App {
    let env = &view.env;
    let environments = view
        .app
        .environments
        .iter()
        .map(|e| EnvironmentSummary {
            id: e.id.clone(),
            name: e.name.clone(),
            stage: e.stage.as_str().to_string(),
            private: e.private,
            web_url: urls.web_url(&e.name),
            git_url: urls.git_url(&e.name),
        })
        .collect();
    App {
        id: env.id.clone(),
        name: env.name.clone(),
        created_at: env.created_at.clone(),
        updated_at: env.updated_at.clone(),
        released_at: view.released_at.clone(),
        archived_at: None,
        acm: view.acm,
        maintenance: env.maintenance,
        internal_routing: false,
        repo_size: None,
        slug_size: None,
        web_url: urls.web_url(&env.name),
        git_url: urls.git_url(&env.name),
        buildpack_provided_description: None,
        owner: view.owner.as_ref().map(user_ref),
        region: region_ref(),
        stack: stack_ref(&view.stack),
        build_stack: stack_ref(&env.build_stack),
        generation: cedar(),
        organization: None,
        team: None,
        space: None,
        doppel: AppExtra {
            app: view.app.name.clone(),
            stage: env.stage.as_str().to_string(),
            private: env.private,
            environments,
        },
    }
}

/// Users by id, for the `{id, email}` references of builds and releases.
pub type Users = HashMap<String, User>;

fn user_ref_by_id(id: Option<&str>, users: &Users) -> Option<UserRef> {
    id.map(|id| UserRef {
        id: id.to_string(),
        email: users.get(id).map(|u| u.email.clone()),
    })
}

/// A user as Heroku's account object.
pub fn account(user: &User) -> Account {
    Account {
        id: user.id.clone(),
        email: user.email.clone(),
        name: None,
        allow_tracking: false,
        beta: false,
        created_at: user.created_at.clone(),
        updated_at: user.created_at.clone(),
        last_login: None,
        verified: true,
        two_factor_authentication: false,
        federated: false,
        default_team: None,
        default_organization: None,
        identity_provider: None,
        sms_number: None,
        suspended_at: None,
        delinquent_at: None,
        country_of_residence: None,
        doppel: AccountExtra { admin: user.admin },
    }
}

/// An API token as Heroku's OAuth authorization; `secret` only when it was just made.
pub fn authorization(token: &TokenInfo, user: &User, secret: Option<String>) -> Authorization {
    Authorization {
        id: token.id.clone(),
        description: token.description.clone(),
        access_token: Some(AccessToken {
            token: secret,
            expires_in: None,
            id: token.id.clone(),
        }),
        client: None,
        grant: None,
        refresh_token: None,
        session: None,
        scope: vec!["global".to_string()],
        user: user_ref(user),
        created_at: token.created_at.clone(),
        updated_at: token
            .revoked_at
            .clone()
            .unwrap_or_else(|| token.created_at.clone()),
        doppel: AuthorizationExtra {
            last_used_at: token.last_used_at.clone(),
            revoked_at: token.revoked_at.clone(),
        },
    }
}

/// A release as Heroku's release object.
pub fn release(
    r: &doppel_store::Release,
    env: &Environment,
    current_version: Option<i64>,
    users: &Users,
) -> Release {
    Release {
        id: r.id.clone(),
        version: r.version,
        status: r.status.as_str().to_string(),
        current: current_version == Some(r.version),
        description: r.description.clone(),
        slug: None,
        artifacts: r
            .has_image()
            .then(|| Artifact {
                kind: "oci-image".to_string(),
                id: r.image_id.clone(),
            })
            .into_iter()
            .collect(),
        addon_plan_names: Vec::new(),
        user: user_ref_by_id(r.user_id.as_deref(), users),
        app: env_ref(env),
        output_stream_url: None,
        eligible_for_rollback: r.status == doppel_store::ReleaseStatus::Succeeded,
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        doppel: ReleaseExtra {
            image_id: r.image_id.clone(),
            process_types: r.process_types.clone(),
            build_id: r.build_id.clone(),
            promoted_from: r.source_release_id.clone(),
        },
    }
}

/// A build as Heroku's build object.
pub fn build(view: &BuildView, env: &Environment, users: &Users) -> Build {
    let b = &view.build;
    Build {
        id: b.id.clone(),
        status: b.status.as_str().to_string(),
        output_stream_url: Some(view.output_stream_url.clone()),
        source_blob: SourceBlob {
            url: None,
            version: Some(b.commit.clone()),
            checksum: None,
            version_description: None,
        },
        slug: None,
        release: view.release_id.clone().map(|id| IdRef { id }),
        buildpacks: b
            .buildpack
            .iter()
            .map(|n| Buildpack {
                url: n.clone(),
                name: n.clone(),
            })
            .collect(),
        stack: b.stack.clone().unwrap_or_else(|| STACK_NAME.to_string()),
        generation: cedar(),
        user: user_ref_by_id(b.user_id.as_deref(), users),
        app: env_ref(env),
        created_at: b.created_at.clone(),
        updated_at: b.updated_at.clone(),
        doppel: BuildExtra {
            failure: b.failure.clone(),
            image_id: b.image_id.clone(),
        },
    }
}

/// A dyno size's reference `{id, name}`; an unknown name keeps its name.
fn dyno_size_ref(name: &str) -> NamedRef {
    match doppel_types::DynoSize::find(name) {
        Some(size) => NamedRef::new(size.id, size.name),
        None => NamedRef::new("", name),
    }
}

/// A process type's formation as Heroku's formation object.
pub fn formation(p: &Process, env: &Environment) -> Formation {
    let e = &p.entry;
    Formation {
        id: e.id.clone(),
        process_type: e.process_type.clone(),
        command: p.command.clone(),
        quantity: e.quantity,
        size: e.size.clone(),
        dyno_size: dyno_size_ref(&e.size),
        app: env_ref(env),
        created_at: e.created_at.clone(),
        updated_at: e.updated_at.clone(),
    }
}

/// A dyno size as Heroku's dyno-size object (memory in GB, one dyno unit per compute unit).
pub fn dyno_size(size: &doppel_types::DynoSize) -> DynoSize {
    DynoSize {
        id: size.id.to_string(),
        name: size.name.to_string(),
        architecture: "amd64".to_string(),
        compute: size.compute,
        cost: None,
        dedicated: size.name.starts_with("performance"),
        precise_dyno_units: f64::from(size.compute),
        memory: size.memory_mb as f64 / 1024.0,
        private_space_only: false,
        generation: cedar(),
        doppel: DynoSizeExtra {
            memory_mb: size.memory_mb,
            cpus: size.cpus,
            max_processes: size.max_processes,
        },
    }
}

/// Looks up the users that `ids` name (unknown ids are left out).
pub async fn users_named<'a>(
    store: &doppel_store::Store,
    ids: impl Iterator<Item = &'a str>,
) -> Result<Users, doppel_store::StoreError> {
    let mut users = Users::new();
    for id in ids {
        if !users.contains_key(id) {
            if let Some(user) = store.user(id).await? {
                users.insert(id.to_string(), user);
            }
        }
    }
    Ok(users)
}

/// A domain of an environment as Heroku's domain object.
pub fn domain(d: &DomainView, env: &Environment) -> Domain {
    Domain {
        id: d.id.clone(),
        hostname: d.hostname.clone(),
        kind: d.kind.as_str().to_string(),
        cname: d.cname.clone(),
        // Routed as soon as it is added (DNS is the user's part).
        status: "succeeded".to_string(),
        acm_status: d.acm_status.clone(),
        acm_status_reason: d.acm_status_reason.clone(),
        sni_endpoint: d.sni_endpoint.as_ref().map(|(id, name)| NamedRef {
            id: id.clone(),
            name: name.clone(),
        }),
        app: env_ref(env),
        created_at: d.created_at.clone(),
        updated_at: d.updated_at.clone(),
    }
}

/// What a collaborator may do on the environments their access covers: everything.
const PERMISSIONS: [(&str, &str); 4] = [
    ("deploy", "Create builds and releases, run one-off dynos"),
    (
        "manage",
        "Change config vars, domains, maintenance and the stack",
    ),
    ("operate", "Scale and restart dynos"),
    ("view", "See the app, its releases, builds and logs"),
];

/// A collaborator of an environment as Heroku's collaborator object.
pub fn collaborator(c: &CollaboratorView, env: &Environment) -> Collaborator {
    let row = &c.collaborator;
    let scope = match c.environments.as_slice() {
        [one] => one.clone(),
        _ => "both".to_string(),
    };
    Collaborator {
        id: row.id.clone(),
        app: env_ref(env),
        permissions: PERMISSIONS
            .iter()
            .map(
                |(name, description)| serde_json::json!({"name": name, "description": description}),
            )
            .collect(),
        role: Some(if c.owner { "owner" } else { "collaborator" }.to_string()),
        user: CollaboratorUser {
            id: row.user_id.clone(),
            email: row.email.clone(),
            federated: false,
        },
        created_at: row.created_at.clone(),
        updated_at: row.updated_at.clone(),
        doppel: CollaboratorExtra {
            scope,
            environments: c.environments.clone(),
        },
    }
}

/// A stack as Heroku's stack object.
pub fn stack(s: &StackInfo) -> Stack {
    Stack {
        id: s.id.clone(),
        name: s.spec.name.to_string(),
        state: "public".to_string(),
        default: s.default,
        created_at: None,
        updated_at: None,
        doppel: StackExtra {
            aliases: s.spec.aliases.iter().map(|a| a.to_string()).collect(),
            suite: s.spec.suite.to_string(),
            summary: s.spec.summary.to_string(),
            pythons: s.spec.pythons.iter().map(|p| p.to_string()).collect(),
            built: s.built,
        },
    }
}

/// The one region as Heroku's region object.
pub fn region(domain: &str) -> Region {
    Region {
        id: platform::REGION_ID.to_string(),
        name: platform::REGION_NAME.to_string(),
        description: format!("The machine doppel runs on ({domain})"),
        country: String::new(),
        locale: String::new(),
        private_capable: false,
        provider: ProviderRef {
            name: "doppel".to_string(),
            region: platform::REGION_NAME.to_string(),
        },
        created_at: None,
        updated_at: None,
    }
}

/// A dyno as Heroku's dyno object.
pub fn dyno(
    d: &doppel_control::dynos::view::DynoView,
    env: &Environment,
    attach_url: Option<String>,
) -> doppel_api_types::dynos::Dyno {
    doppel_api_types::dynos::Dyno {
        id: d.id.clone(),
        name: d.name.clone(),
        process_type: d.process_type.clone(),
        command: d.command.clone(),
        state: d.state.to_string(),
        size: d.size.clone(),
        attach_url,
        release: doppel_api_types::dynos::DynoRelease {
            id: d.release_id.clone(),
            version: d.release_version.unwrap_or_default(),
        },
        app: env_ref(env),
        created_at: rfc3339(d.created_at),
        updated_at: rfc3339(d.updated_at),
    }
}

/// A log drain as Heroku's log-drain object.
pub fn log_drain(
    d: &doppel_store::LogDrain,
    env: &Environment,
) -> doppel_api_types::logs::LogDrain {
    doppel_api_types::logs::LogDrain {
        id: d.id.clone(),
        url: d.url.clone(),
        token: d.token.clone(),
        addon: None,
        app: env_ref(env),
        created_at: d.created_at.clone(),
        updated_at: d.updated_at.clone(),
    }
}

/// `2026-01-01T12:00:00Z`, as every timestamp of the API: the store's own form, so stored
/// times pass through unchanged.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    doppel_store::stamp(t)
}
