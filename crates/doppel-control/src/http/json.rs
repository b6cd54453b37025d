//! Heroku-shaped JSON for doppel's records. Every key of the Heroku schema is present
//! (`null` when doppel has no value), plus a `doppel` key with what Heroku has no word for.

use crate::urls::Urls;
use doppel_store::{App, Build, Environment, Release, User};
use serde_json::{json, Value};

/// The stack every environment reports (built from Debian bookworm, named like Heroku's).
pub const STACK_NAME: &str = "heroku-24";

fn stack() -> Value {
    json!({ "id": "00000000-0000-4000-8000-000000000024", "name": STACK_NAME })
}

fn env_summary(env: &Environment, urls: &Urls) -> Value {
    json!({
        "id": env.id,
        "name": env.name,
        "stage": env.stage.as_str(),
        "private": env.private,
        "web_url": urls.web_url(&env.name),
        "git_url": urls.git_url(&env.name),
    })
}

/// One environment as a Heroku app object.
pub fn environment(
    env: &Environment,
    app: &App,
    owner: Option<&User>,
    released_at: Option<&str>,
    urls: &Urls,
) -> Value {
    let environments: Vec<Value> = app
        .environments
        .iter()
        .map(|e| env_summary(e, urls))
        .collect();
    json!({
        "id": env.id,
        "name": env.name,
        "created_at": env.created_at,
        "updated_at": env.updated_at,
        "released_at": released_at,
        "archived_at": null,
        "acm": false,
        "maintenance": false,
        "internal_routing": false,
        "repo_size": null,
        "slug_size": null,
        "web_url": urls.web_url(&env.name),
        "git_url": urls.git_url(&env.name),
        "buildpack_provided_description": null,
        "owner": owner.map(|u| json!({"id": u.id, "email": u.email})),
        "region": { "id": "00000000-0000-4000-8000-000000000001", "name": "local" },
        "stack": stack(),
        "build_stack": stack(),
        "generation": { "id": "00000000-0000-4000-8000-0000000000ce", "name": "cedar" },
        "organization": null,
        "team": null,
        "space": null,
        "doppel": {
            "app": app.name,
            "stage": env.stage.as_str(),
            "private": env.private,
            "environments": environments,
        },
    })
}

/// Users by id, for the `{id, email}` references of builds and releases.
pub type Users = std::collections::HashMap<String, User>;

fn user_ref(id: Option<&str>, users: &Users) -> Value {
    match id {
        Some(id) => json!({ "id": id, "email": users.get(id).map(|u| u.email.as_str()) }),
        None => Value::Null,
    }
}

/// A user as Heroku's account object.
pub fn account(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": null,
        "allow_tracking": false,
        "beta": false,
        "created_at": user.created_at,
        "updated_at": user.created_at,
        "last_login": null,
        "verified": true,
        "two_factor_authentication": false,
        "federated": false,
        "default_team": null,
        "default_organization": null,
        "identity_provider": null,
        "sms_number": null,
        "suspended_at": null,
        "delinquent_at": null,
        "country_of_residence": null,
        "doppel": { "admin": user.admin },
    })
}

/// A release as Heroku's release object.
pub fn release(
    r: &Release,
    env: &Environment,
    current_version: Option<i64>,
    users: &Users,
) -> Value {
    json!({
        "id": r.id,
        "version": r.version,
        "status": r.status.as_str(),
        "current": current_version == Some(r.version),
        "description": r.description,
        "slug": null,
        "artifacts": [{ "type": "oci-image", "id": r.image_id }],
        "addon_plan_names": [],
        "user": user_ref(r.user_id.as_deref(), users),
        "app": { "id": env.id, "name": env.name },
        "output_stream_url": null,
        "eligible_for_rollback": r.status.as_str() == "succeeded",
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "doppel": { "image_id": r.image_id, "process_types": r.process_types },
    })
}

/// A build as Heroku's build object.
pub fn build(b: &Build, env: &Environment, users: &Users) -> Value {
    json!({
        "id": b.id,
        "status": b.status.as_str(),
        "output_stream_url": null,
        "source_blob": { "url": null, "version": b.commit, "checksum": null, "version_description": null },
        "slug": null,
        "release": null,
        "buildpacks": b.buildpack.as_ref().map(|n| vec![json!({"url": n, "name": n})]).unwrap_or_default(),
        "stack": b.stack.clone().unwrap_or_else(|| STACK_NAME.to_string()),
        "generation": { "id": "00000000-0000-4000-8000-0000000000ce", "name": "cedar" },
        "user": user_ref(b.user_id.as_deref(), users),
        "app": { "id": env.id, "name": env.name },
        "created_at": b.created_at,
        "updated_at": b.updated_at,
        "doppel": { "failure": b.failure, "image_id": b.image_id },
    })
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
