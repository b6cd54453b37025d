//! Uploaded certificates of an environment (Heroku's SNI endpoints): a PEM chain and its
//! key, checked (the chain parses, the key matches, not expired) and served by the router for
//! the environment's custom domains the certificate covers. Keys are sealed at rest and never
//! logged or audited; only the certificate's names are.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_router::certs::{self as pem, CertError, CertInfo};
use doppel_store::{Environment, SniEndpoint};

/// How many uploaded certificates one environment may have.
pub const MAX_SNI_ENDPOINTS_PER_ENV: usize = 20;

/// One SNI endpoint as the API shows it (never its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SniView {
    pub id: String,
    pub name: String,
    pub certificate_chain: String,
    pub cert: CertInfo,
    /// The environment's custom domains it serves: (id, host name).
    pub domains: Vec<(String, String)>,
    pub created_at: String,
    pub updated_at: String,
}

/// Checks an uploaded chain and key; the certificate's facts, or why it is refused.
pub fn validate(chain: &str, key: &str) -> Result<CertInfo, LogicError> {
    if chain.trim().is_empty() || key.trim().is_empty() {
        return Err(LogicError::Invalid(
            "certificate_chain and private_key are required (PEM).".to_string(),
        ));
    }
    let bad = |e: CertError| LogicError::Invalid(format!("Invalid certificate or key: {e}."));
    pem::certified_key(chain, key).map_err(bad)?;
    let info = pem::inspect(chain).map_err(bad)?;
    let now = time::OffsetDateTime::now_utc();
    if info.not_after <= now {
        return Err(LogicError::Invalid(format!(
            "The certificate expired at {}; upload a current one.",
            rfc3339(info.not_after)
        )));
    }
    if info.names.is_empty() {
        return Err(LogicError::Invalid(
            "The certificate names no host (no DNS subject alternative name or common name)."
                .to_string(),
        ));
    }
    Ok(info)
}

/// A time as the API shows it (RFC 3339, UTC, seconds): the store's own format.
pub use doppel_store::stamp as rfc3339;

async fn view(state: &AppState, env: &Environment, e: SniEndpoint) -> Result<SniView, LogicError> {
    let cert = pem::inspect(&e.certificate_chain)
        .map_err(|err| LogicError::internal("read a stored certificate", err))?;
    let domains = state
        .store()
        .domains(&env.id)
        .await?
        .into_iter()
        .filter(|d| cert.names.iter().any(|n| pem::name_covers(n, &d.hostname)))
        .map(|d| (d.id, d.hostname))
        .collect();
    Ok(SniView {
        id: e.id,
        name: e.name,
        certificate_chain: e.certificate_chain,
        cert,
        domains,
        created_at: e.created_at,
        updated_at: e.updated_at,
    })
}

/// The environment's SNI endpoints, oldest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<SniView>), LogicError> {
    let EnvAccess { env, .. } = access::environment(state, actor, env).await?;
    let mut out = Vec::new();
    for e in state.store().sni_endpoints(&env.id).await? {
        out.push(view(state, &env, e).await?);
    }
    Ok((env, out))
}

/// One SNI endpoint of the environment by id or name.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    id_or_name: &str,
) -> Result<(Environment, SniView), LogicError> {
    let (env, all) = list(state, actor, env).await?;
    let found = all
        .into_iter()
        .find(|e| e.id == id_or_name || e.name == id_or_name)
        .ok_or_else(|| LogicError::not_found("SNI endpoint", id_or_name))?;
    Ok((env, found))
}

/// Adds an uploaded certificate to the environment; the router serves it at once for the
/// custom domains it covers.
pub async fn add(
    state: &AppState,
    actor: &Actor,
    env: &str,
    chain: &str,
    key: &str,
) -> Result<(Environment, SniView), LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, env).await?;
    let info = validate(chain, key)?;
    if state.store().sni_endpoints(&env.id).await?.len() >= MAX_SNI_ENDPOINTS_PER_ENV {
        return Err(LogicError::Invalid(format!(
            "An app has at most {MAX_SNI_ENDPOINTS_PER_ENV} SNI endpoints; remove one first."
        )));
    }
    let added = state
        .store()
        .create_sni_endpoint(&env.id, chain, key)
        .await?;
    crate::routes::publish(state).await;
    let details = serde_json::json!({ "name": added.name, "cert_domains": info.names });
    super::audit::record(state, actor, &app, Some(&env), "sni_endpoint.add", details).await;
    tracing::info!(env = %env.name, sni_endpoint = %added.name, user = %actor.user.email, "added SNI endpoint");
    let shown = view(state, &env, added).await?;
    Ok((env, shown))
}

/// Replaces the chain and key of one SNI endpoint.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    env: &str,
    id_or_name: &str,
    chain: &str,
    key: &str,
) -> Result<(Environment, SniView), LogicError> {
    let (env, found) = show(state, actor, env, id_or_name).await?;
    let app = access::environment(state, actor, &env.id).await?.app;
    let info = validate(chain, key)?;
    let updated = state
        .store()
        .update_sni_endpoint(&env.id, &found.id, chain, key)
        .await?;
    crate::routes::publish(state).await;
    let details = serde_json::json!({ "name": updated.name, "cert_domains": info.names });
    super::audit::record(
        state,
        actor,
        &app,
        Some(&env),
        "sni_endpoint.update",
        details,
    )
    .await;
    tracing::info!(env = %env.name, sni_endpoint = %updated.name, user = %actor.user.email, "updated SNI endpoint");
    let shown = view(state, &env, updated).await?;
    Ok((env, shown))
}

/// Removes one SNI endpoint; its domains fall back to ACME's or the default certificate.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    env: &str,
    id_or_name: &str,
) -> Result<(Environment, SniView), LogicError> {
    let (env, found) = show(state, actor, env, id_or_name).await?;
    let app = access::environment(state, actor, &env.id).await?.app;
    if !state
        .store()
        .remove_sni_endpoint(&env.id, &found.id)
        .await?
    {
        return Err(LogicError::not_found("SNI endpoint", id_or_name));
    }
    crate::routes::publish(state).await;
    let details = serde_json::json!({ "name": found.name });
    super::audit::record(
        state,
        actor,
        &app,
        Some(&env),
        "sni_endpoint.remove",
        details,
    )
    .await;
    tracing::info!(env = %env.name, sni_endpoint = %found.name, user = %actor.user.email, "removed SNI endpoint");
    Ok((env, found))
}
