//! doppel's records as the Heroku API shows them (`doppel-api-types`): every key of the
//! schema present, `null` when doppel has no value, and a `doppel` object for the rest.

use doppel_api_types::account::{
    AccessToken, Account, AccountExtra, Authorization, AuthorizationExtra,
};
use doppel_api_types::apps::{App, AppExtra, EnvironmentSummary};
use doppel_api_types::builds::{Build, BuildExtra, Buildpack, SourceBlob};
use doppel_api_types::releases::{Artifact, Release, ReleaseExtra};
use doppel_api_types::{NamedRef, UserRef};
use doppel_control::logic::apps::EnvView;
use doppel_control::urls::Urls;
use doppel_store::{Environment, TokenInfo, User};
use std::collections::HashMap;

/// The stack every environment reports until stacks are per environment.
pub const STACK_NAME: &str = "heroku-24";
const STACK_ID: &str = "00000000-0000-4000-8000-000000000024";
const REGION_ID: &str = "00000000-0000-4000-8000-000000000001";
const CEDAR_ID: &str = "00000000-0000-4000-8000-0000000000ce";

/// The one region: this machine.
pub fn region_ref() -> NamedRef {
    NamedRef::new(REGION_ID, "local")
}

pub fn stack_ref() -> NamedRef {
    NamedRef::new(STACK_ID, STACK_NAME)
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
        acm: false,
        maintenance: false,
        internal_routing: false,
        repo_size: None,
        slug_size: None,
        web_url: urls.web_url(&env.name),
        git_url: urls.git_url(&env.name),
        buildpack_provided_description: None,
        owner: view.owner.as_ref().map(user_ref),
        region: region_ref(),
        stack: stack_ref(),
        build_stack: stack_ref(),
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
        artifacts: vec![Artifact {
            kind: "oci-image".to_string(),
            id: r.image_id.clone(),
        }],
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
        },
    }
}

/// A build as Heroku's build object.
pub fn build(b: &doppel_store::Build, env: &Environment, users: &Users) -> Build {
    Build {
        id: b.id.clone(),
        status: b.status.as_str().to_string(),
        output_stream_url: None,
        source_blob: SourceBlob {
            url: None,
            version: Some(b.commit.clone()),
            checksum: None,
            version_description: None,
        },
        slug: None,
        release: None,
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

/// `2026-01-01T12:00:00Z`, as every timestamp of the API.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
