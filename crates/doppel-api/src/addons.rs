//! Add-ons at Heroku's paths (`/apps/{app}/addons`, `/addons`, `/addon-attachments`,
//! `/addon-services`, the `resolve` actions) and doppel's extensions for `pg:*`/`redis:*`
//! (`/apps/{app}/addon-info`, `addon-commands`, `addon-credentials/rotate`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::addons::{
    Addon, AddonCreate, AddonDelete, AddonInfo, AddonPlan, AddonResolve, AddonService,
    AddonSession, AddonSessionCreate, AddonTarget, AddonUpdate, Attachment, AttachmentCreate,
    AttachmentResolve, CommandOutput, CommandRun, InfoLine, Rotated,
};
use doppel_api_types::NamedRef;
use doppel_control::logic::addons::{self, CreateRequest};
use doppel_control::logic::{addon_attachments, addon_sessions};
use doppel_control::logic::{Actor, LogicError};
use doppel_control::state::AppState;
use doppel_control::workflows::addon_config::Applied;

use super::addon_views as v;
use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};

const ADDON_FIELDS: &[Field<Addon>] = &[
    ("id", |a| SortKey::Text(a.id.clone())),
    ("name", |a| SortKey::Text(a.name.clone())),
    ("created_at", |a| SortKey::Text(a.created_at.clone())),
];
const ATTACHMENT_FIELDS: &[Field<Attachment>] = &[
    ("id", |a| SortKey::Text(a.id.clone())),
    ("name", |a| SortKey::Text(a.name.clone())),
];
const SERVICE_FIELDS: &[Field<AddonService>] = &[
    ("id", |s| SortKey::Text(s.id.clone())),
    ("name", |s| SortKey::Text(s.name.clone())),
];
const PLAN_FIELDS: &[Field<AddonPlan>] = &[
    ("id", |p| SortKey::Text(p.id.clone())),
    ("name", |p| SortKey::Text(p.name.clone())),
];

fn addons_page(list: &[addons::AddonView], headers: &HeaderMap) -> Page<Addon> {
    let items = list.iter().map(|a| v::addon(a, &[])).collect();
    paginate(items, &RangeSpec::from_headers(headers), ADDON_FIELDS)
}

/// `GET /addon-services`.
pub async fn services(State(state): State<AppState>, headers: HeaderMap) -> Page<AddonService> {
    let items = state
        .addon_catalog()
        .all()
        .iter()
        .map(|m| v::service(m))
        .collect();
    paginate(items, &RangeSpec::from_headers(&headers), SERVICE_FIELDS)
}

fn manifest(
    state: &AppState,
    name: &str,
) -> Result<std::sync::Arc<doppel_addons::Manifest>, ApiError> {
    let catalog = state.addon_catalog();
    catalog
        .service(name)
        .or_else(|_| {
            catalog
                .all()
                .iter()
                .find(|m| v::service_ref(&m.name).id == name)
                .cloned()
                .ok_or_else(|| doppel_addons::AddonError::UnknownService {
                    name: name.to_string(),
                    known: String::new(),
                })
        })
        .map_err(|_| LogicError::not_found("add-on service", name).into())
}

/// `GET /addon-services/{service}` (name, alias or id).
pub async fn service(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<AddonService>, ApiError> {
    let m = manifest(&state, &name)?;
    Ok(Json(v::service(&m)))
}

/// `GET /addon-services/{service}/plans`.
pub async fn plans(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Page<AddonPlan>, ApiError> {
    let m = manifest(&state, &name)?;
    let items = m.plans.iter().map(|p| v::plan(&m, p)).collect();
    // Without a Range, keep the manifest's order (smallest plan first).
    let spec = RangeSpec::from_headers(&headers);
    if spec.field.is_none() && spec.max.is_none() {
        return Ok(paginate(
            items,
            &spec,
            &[("name", |_: &AddonPlan| SortKey::Num(0))],
        ));
    }
    Ok(paginate(items, &spec, PLAN_FIELDS))
}

/// `GET /addon-services/{service}/plans/{plan}` (`essential-0`, `postgres:essential-0` or id).
pub async fn plan(
    State(state): State<AppState>,
    Path((name, plan)): Path<(String, String)>,
) -> Result<Json<AddonPlan>, ApiError> {
    let m = manifest(&state, &name)?;
    let wanted = plan.rsplit(':').next().unwrap_or(&plan);
    let found = m
        .plans
        .iter()
        .find(|p| p.name == wanted || v::plan_ref(&m.name, &p.name).id == plan)
        .ok_or_else(|| LogicError::not_found("plan", plan.clone()))?;
    Ok(Json(v::plan(&m, found)))
}

/// `GET /addons`: every add-on the caller may see.
pub async fn list_all(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Result<Page<Addon>, ApiError> {
    let list = addons::list(&state, &actor, None).await?;
    Ok(addons_page(&list, &headers))
}

/// `GET /apps/{app}/addons`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Addon>, ApiError> {
    let list = addons::list(&state, &actor, Some(&app)).await?;
    Ok(addons_page(&list, &headers))
}

/// `GET /addons/{addon}`.
pub async fn show_any(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(addon): Path<String>,
) -> Result<Json<Addon>, ApiError> {
    let found = addons::find(&state, &actor, None, &addon).await?;
    Ok(Json(v::addon(&found, &[])))
}

/// `GET /apps/{app}/addons/{addon}` (name, id, or attachment name).
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, addon)): Path<(String, String)>,
) -> Result<Json<Addon>, ApiError> {
    let found = addons::find(&state, &actor, Some(&app), &addon).await?;
    Ok(Json(v::addon(&found, &[])))
}

/// `POST /apps/{app}/addons {plan, attachment?{name}, name?}` → 201, state `provisioning`
/// (doppel's `{"doppel": {"whole_app": true}}` provisions both environments).
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<AddonCreate>,
) -> Result<(StatusCode, Json<Addon>), ApiError> {
    let plan = body
        .plan
        .as_ref()
        .map(|p| p.name().to_string())
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            ApiError::invalid("plan is required, e.g. heroku-postgresql or postgres:essential-0")
        })?;
    let extra = body.doppel.clone().unwrap_or_default();
    let req = CreateRequest {
        plan,
        attachment_name: body.attachment.and_then(|a| a.name),
        name: body.name,
        whole_app: extra.whole_app,
        wait: extra.wait,
    };
    let views = addons::create(&state, &actor, &app, &req).await?;
    // The answer is the add-on of the environment named (production when the app's name).
    let named = views
        .iter()
        .position(|x| x.env.name == app || x.env.id == app)
        .unwrap_or(views.len().saturating_sub(1));
    let twins: Vec<NamedRef> = views
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != named)
        .map(|(_, x)| NamedRef::new(&x.addon.id, &x.addon.name))
        .collect();
    let main = views
        .get(named)
        .ok_or_else(|| ApiError::invalid("nothing was provisioned"))?;
    Ok((StatusCode::CREATED, Json(v::addon(main, &twins))))
}

/// `PATCH /apps/{app}/addons/{addon} {plan}`: another plan of the same service.
pub async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, addon)): Path<(String, String)>,
    Body(body): Body<AddonUpdate>,
) -> Result<Json<Addon>, ApiError> {
    let plan = body
        .plan
        .as_ref()
        .map(|p| p.name().to_string())
        .ok_or_else(|| ApiError::invalid("plan is required"))?;
    let found = addons::update_plan(&state, &actor, &app, &addon, &plan).await?;
    Ok(Json(v::addon(&found, &[])))
}

/// `DELETE /apps/{app}/addons/{addon}`: a final backup, then the add-on is gone.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, addon)): Path<(String, String)>,
    Body(body): Body<AddonDelete>,
) -> Result<Json<Addon>, ApiError> {
    let force = body.force.unwrap_or(false);
    let (found, final_backup) = addons::destroy(&state, &actor, Some(&app), &addon, force).await?;
    let mut shown = v::addon(&found, &[]);
    shown.state = "deprovisioned".to_string();
    shown.provision_message = final_backup.map(|b| format!("final backup {b} kept"));
    Ok(Json(shown))
}

/// `POST /actions/addons/resolve {addon, app?}`: the add-on a name means, as a one-item list.
pub async fn resolve(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<AddonResolve>,
) -> Result<Json<Vec<Addon>>, ApiError> {
    let addon = body
        .addon
        .ok_or_else(|| ApiError::invalid("addon is required"))?;
    let found = addons::find(&state, &actor, body.app.as_deref(), &addon).await?;
    if let Some(service) = body.addon_service.as_deref() {
        let same = state
            .addon_catalog()
            .service(service)
            .is_ok_and(|m| m.name == found.addon.service);
        if !same {
            return Err(LogicError::not_found("add-on", addon).into());
        }
    }
    // The schema's answer is a list (the Heroku CLI maps over it).
    Ok(Json(vec![v::addon(&found, &[])]))
}

fn attachments_page(
    list: &[addon_attachments::AttachmentView],
    headers: &HeaderMap,
) -> Page<Attachment> {
    let items = list.iter().map(v::attachment).collect();
    paginate(items, &RangeSpec::from_headers(headers), ATTACHMENT_FIELDS)
}

/// `GET /addon-attachments`.
pub async fn attachments_all(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Result<Page<Attachment>, ApiError> {
    let list = addon_attachments::list(&state, &actor, None, None).await?;
    Ok(attachments_page(&list, &headers))
}

/// `GET /apps/{app}/addon-attachments`.
pub async fn attachments_of_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Attachment>, ApiError> {
    let list = addon_attachments::list(&state, &actor, Some(&app), None).await?;
    Ok(attachments_page(&list, &headers))
}

/// `GET /addons/{addon}/addon-attachments`.
pub async fn attachments_of_addon(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(addon): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Attachment>, ApiError> {
    let list = addon_attachments::list(&state, &actor, None, Some(&addon)).await?;
    Ok(attachments_page(&list, &headers))
}

/// `GET /addon-attachments/{id}`.
pub async fn attachment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Attachment>, ApiError> {
    let found = addon_attachments::find(&state, &actor, None, &id).await?;
    Ok(Json(v::attachment(&found)))
}

/// `GET /apps/{app}/addon-attachments/{name or id}`.
pub async fn attachment_of_app(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Json<Attachment>, ApiError> {
    let found = addon_attachments::find(&state, &actor, Some(&app), &name).await?;
    Ok(Json(v::attachment(&found)))
}

/// `POST /addon-attachments {addon, app, name?}` → 201 (a release with the new var).
pub async fn attach(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<AttachmentCreate>,
) -> Result<(StatusCode, Json<Attachment>), ApiError> {
    let addon = body
        .addon
        .ok_or_else(|| ApiError::invalid("addon is required"))?;
    let app = body
        .app
        .ok_or_else(|| ApiError::invalid("app is required"))?;
    let (found, _) =
        addon_attachments::attach(&state, &actor, &addon, &app, body.name.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(v::attachment(&found))))
}

/// `DELETE /addon-attachments/{id}` (a release without the var).
pub async fn detach(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Attachment>, ApiError> {
    let (found, _) = addon_attachments::detach(&state, &actor, None, &id).await?;
    Ok(Json(v::attachment(&found)))
}

/// `POST /actions/addon-attachments/resolve {addon_attachment, app?}`: the attachments a
/// name means (Heroku answers a list).
pub async fn resolve_attachment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<AttachmentResolve>,
) -> Result<Json<Vec<Attachment>>, ApiError> {
    let name = body
        .addon_attachment
        .ok_or_else(|| ApiError::invalid("addon_attachment is required"))?;
    let found = addon_attachments::find(&state, &actor, body.app.as_deref(), &name).await?;
    Ok(Json(vec![v::attachment(&found)]))
}

/// `GET /apps/{app}/addon-info?addon=&service=` (doppel, `pg:info`).
pub async fn info(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Query(target): Query<AddonTarget>,
) -> Result<Json<AddonInfo>, ApiError> {
    let (found, lines) = addons::info(
        &state,
        &actor,
        &app,
        target.addon.as_deref(),
        target.service.as_deref(),
    )
    .await?;
    Ok(Json(AddonInfo {
        addon: v::addon(&found, &[]),
        info: lines
            .into_iter()
            .map(|(key, value)| InfoLine { key, value })
            .collect(),
    }))
}

/// `POST /apps/{app}/addon-commands {addon?, service?, input}` (doppel, `pg:psql -c`).
pub async fn command(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<CommandRun>,
) -> Result<Json<CommandOutput>, ApiError> {
    let mut input = body.input.into_bytes();
    if !input.ends_with(b"\n") {
        input.push(b'\n');
    }
    let (found, out) = addons::run(
        &state,
        &actor,
        &app,
        body.addon.as_deref(),
        body.service.as_deref(),
        input,
    )
    .await?;
    Ok(Json(CommandOutput {
        addon: found.addon.name,
        exit_code: out.exit_code,
        stdout: out.stdout_text(),
        stderr: out.stderr_text(),
    }))
}

/// `POST /apps/{app}/addon-sessions {addon?, service?, tty, rows?, cols?, term?}` (doppel,
/// `pg:psql` on a terminal): a `rendezvous://` URL to attach the add-on's client to.
pub async fn session(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<AddonSessionCreate>,
) -> Result<(StatusCode, Json<AddonSession>), ApiError> {
    let req = addon_sessions::SessionRequest {
        tty: body.tty,
        rows: body.rows,
        cols: body.cols,
        term: body.term,
    };
    let (found, attach_url) = addon_sessions::open(
        &state,
        &actor,
        &app,
        body.addon.as_deref(),
        body.service.as_deref(),
        req,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(AddonSession {
            addon: found.addon.name,
            attach_url,
        }),
    ))
}

/// `POST /apps/{app}/addon-credentials/rotate {addon?, service?}` (doppel).
pub async fn rotate(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<AddonTarget>,
) -> Result<Json<Rotated>, ApiError> {
    let (found, applied) = addons::rotate(
        &state,
        &actor,
        &app,
        body.addon.as_deref(),
        body.service.as_deref(),
    )
    .await?;
    let (release, release_failed) = match applied {
        Applied::Released(v) => (v, None),
        Applied::ReleaseFailed(reason) => (None, Some(reason)),
        Applied::Unchanged => (None, None),
    };
    Ok(Json(Rotated {
        addon: v::addon(&found, &[]),
        release,
        release_failed,
    }))
}
