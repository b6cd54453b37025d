//! Domains of an environment: its own name on the platform (`<env>.<domain>`, kind `heroku`,
//! cannot be removed) and custom domains (kind `custom`): DNS host names the router sends to
//! the environment once the user's DNS points them at the platform host name (the CNAME
//! target). A custom domain is unique across the installation and never under the platform's
//! own domain, whose names belong to the platform.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{Domain, Environment, StoreError};
use doppel_types::Hostname;

/// How many custom domains one environment may have.
pub const MAX_DOMAINS_PER_ENV: usize = 100;

/// `heroku`: the environment's name on the platform; `custom`: one a user added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainKind {
    Heroku,
    Custom,
}

impl DomainKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainKind::Heroku => "heroku",
            DomainKind::Custom => "custom",
        }
    }
}

/// One domain of an environment as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainView {
    pub id: String,
    pub hostname: String,
    pub kind: DomainKind,
    /// Where the user's DNS must point a custom domain: the environment's platform host name.
    pub cname: Option<String>,
    /// The uploaded certificate serving it: (id, name).
    pub sni_endpoint: Option<(String, String)>,
    /// ACM's status for it (`pending`, `cert issued`, `failing`, `failed`), when ACM is on.
    pub acm_status: Option<String>,
    pub acm_status_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The environment's own name on the platform, with an id stable for the environment.
fn platform_domain(state: &AppState, env: &Environment) -> DomainView {
    let id = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("doppel:platform-domain:{}", env.id).as_bytes(),
    );
    DomainView {
        id: id.to_string(),
        hostname: state.urls().env_host(&env.name),
        kind: DomainKind::Heroku,
        cname: None,
        sni_endpoint: None,
        acm_status: None,
        acm_status_reason: None,
        created_at: env.created_at.clone(),
        updated_at: env.created_at.clone(),
    }
}

fn custom(state: &AppState, env: &Environment, d: Domain) -> DomainView {
    DomainView {
        id: d.id,
        hostname: d.hostname,
        kind: DomainKind::Custom,
        cname: Some(state.urls().env_host(&env.name)),
        sni_endpoint: None,
        acm_status: None,
        acm_status_reason: None,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

/// The environment's domains: its platform name first, then custom domains by host name.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<DomainView>), LogicError> {
    let EnvAccess { env, .. } = access::environment(state, actor, env).await?;
    let mut out = vec![platform_domain(state, &env)];
    let certs = Certs::read(state, &env).await?;
    for d in state.store().domains(&env.id).await? {
        let mut view = custom(state, &env, d);
        certs.fill(&mut view);
        out.push(view);
    }
    Ok((env, out))
}

/// What serves custom domains' certificates: the environment's uploads and ACM's rows.
struct Certs {
    uploads: Vec<(String, String, Vec<String>)>,
    acm: bool,
    acme: Vec<doppel_store::AcmeCert>,
}

impl Certs {
    async fn read(state: &AppState, env: &Environment) -> Result<Certs, LogicError> {
        let uploads = state
            .store()
            .sni_endpoints(&env.id)
            .await?
            .into_iter()
            .filter_map(|e| {
                let names = doppel_router::certs::inspect(&e.certificate_chain)
                    .ok()?
                    .names;
                Some((e.id, e.name, names))
            })
            .collect();
        let acm = state.store().acm_enabled(&env.id).await?;
        let acme = if acm {
            state.store().acme_certs().await?
        } else {
            Vec::new()
        };
        Ok(Certs { uploads, acm, acme })
    }

    fn fill(&self, view: &mut DomainView) {
        view.sni_endpoint = self
            .uploads
            .iter()
            .find(|(_, _, names)| {
                names
                    .iter()
                    .any(|n| doppel_router::certs::name_covers(n, &view.hostname))
            })
            .map(|(id, name, _)| (id.clone(), name.clone()));
        if !self.acm || view.sni_endpoint.is_some() {
            return;
        }
        match self
            .acme
            .iter()
            .find(|r| r.target.domain_id() == Some(view.id.as_str()))
        {
            Some(row) => {
                view.acm_status = Some(row.status.clone());
                view.acm_status_reason = row.reason.clone();
            }
            None => view.acm_status = Some(crate::acme::schedule::PENDING.to_string()),
        }
    }
}

/// One domain of the environment by id or host name (any case, trailing dot or not).
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    id_or_hostname: &str,
) -> Result<(Environment, DomainView), LogicError> {
    let (env, all) = list(state, actor, env).await?;
    let wanted = id_or_hostname
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let found = all
        .into_iter()
        .find(|d| d.id == wanted || d.hostname == wanted)
        .ok_or_else(|| LogicError::not_found("domain", id_or_hostname))?;
    Ok((env, found))
}

/// Adds custom domain `hostname` to the environment and routes it at once.
pub async fn add(
    state: &AppState,
    actor: &Actor,
    env: &str,
    hostname: &str,
) -> Result<(Environment, DomainView), LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, env).await?;
    let host = Hostname::parse(hostname).map_err(|e| LogicError::Invalid(e.to_string()))?;
    let platform = &state.config().domain;
    if host.is_within(platform) {
        return Err(LogicError::Invalid(format!(
            "{host} is within {platform}, the platform's own domain: those names belong to doppel \
             (each environment already answers at <environment>.{platform}). Add a name of a \
             domain you control, e.g. www.example.com."
        )));
    }
    let added = match state
        .store()
        .add_domain(&env.id, host.as_str(), MAX_DOMAINS_PER_ENV)
        .await
    {
        Ok(d) => d,
        Err(StoreError::NameTaken(_)) => return Err(taken(state, &env, &host).await?),
        Err(e) => return Err(e.into()),
    };
    crate::routes::publish(state).await;
    state.acme().wake();
    super::audit::record(
        state,
        actor,
        &app,
        Some(&env),
        "domain.add",
        serde_json::json!({ "hostname": host.as_str() }),
    )
    .await;
    tracing::info!(env = %env.name, hostname = %host, user = %actor.user.email, "added domain");
    let view = custom(state, &env, added);
    Ok((env, view))
}

/// The error for a host name some environment already has (which one is told only when it
/// is this one: other apps' domains are not the caller's business).
async fn taken(
    state: &AppState,
    env: &Environment,
    host: &Hostname,
) -> Result<LogicError, LogicError> {
    let owner = state.store().domain(host.as_str()).await?;
    Ok(LogicError::Invalid(match owner {
        Some(d) if d.env_id == env.id => format!("{host} is already a domain of {}.", env.name),
        _ => format!(
            "{host} is already in use by another app; remove it there first (a host name routes to one environment)."
        ),
    }))
}

/// Removes a custom domain of the environment; the router stops sending it there at once.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    env: &str,
    id_or_hostname: &str,
) -> Result<(Environment, DomainView), LogicError> {
    let (env, found) = show(state, actor, env, id_or_hostname).await?;
    if found.kind == DomainKind::Heroku {
        return Err(LogicError::Invalid(format!(
            "{} is {}'s own name on the platform; it cannot be removed (custom domains can).",
            found.hostname, env.name
        )));
    }
    let app = access::environment(state, actor, &env.id).await?.app;
    if !state.store().remove_domain(&env.id, &found.id).await? {
        return Err(LogicError::not_found("domain", id_or_hostname));
    }
    crate::routes::publish(state).await;
    super::audit::record(
        state,
        actor,
        &app,
        Some(&env),
        "domain.remove",
        serde_json::json!({ "hostname": found.hostname }),
    )
    .await;
    tracing::info!(env = %env.name, hostname = %found.hostname, user = %actor.user.email, "removed domain");
    Ok((env, found))
}

/// `PATCH /apps/{app}/domains/{domain} {sni_endpoint}` (what the Heroku CLI's `certs:add`
/// sends for the domains a user picks): checks the endpoint is one of the environment's and
/// that it covers the domain. The certificate served is chosen by name, so nothing is stored;
/// the domain as it is served.
pub async fn associate(
    state: &AppState,
    actor: &Actor,
    env: &str,
    id_or_hostname: &str,
    sni_endpoint: Option<&str>,
) -> Result<(Environment, DomainView), LogicError> {
    let (env, found) = show(state, actor, env, id_or_hostname).await?;
    let Some(wanted) = sni_endpoint else {
        return Ok((env, found));
    };
    let (_, endpoint) = super::certs::show(state, actor, &env.id, wanted).await?;
    if !endpoint
        .cert
        .names
        .iter()
        .any(|n| doppel_router::certs::name_covers(n, &found.hostname))
    {
        return Err(LogicError::Invalid(format!(
            "SNI endpoint {} does not cover {} (it names {}).",
            endpoint.name,
            found.hostname,
            endpoint.cert.names.join(", ")
        )));
    }
    Ok((env, found))
}
