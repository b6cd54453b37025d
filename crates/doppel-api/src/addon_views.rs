//! Add-ons, attachments, services, plans and backups as the API shows them
//! (`doppel-api-types::addons`): every key of Heroku's schema present, doppel's extras under
//! `doppel`, never a credential.

use doppel_addons::{Manifest, Plan};
use doppel_api_types::addons::{
    Addon, AddonExtra, AddonPlan, AddonService, Attachment, AttachmentAddon, Backup,
    BackupScheduleView, BillingEntity, PlanExtra, Price, ServiceExtra,
};
use doppel_api_types::NamedRef;
use doppel_control::logic::addon_attachments::AttachmentView;
use doppel_control::logic::addons::AddonView;
use doppel_store::{BackupKind, Environment};

use super::views::{cedar, env_ref, Users};

/// A stable uuid-shaped id for a name that has no row (services, plans).
fn synthetic_id(kind: &str, name: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.bytes().chain([0]).chain(name.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("00000000-0000-4000-8000-{:012x}", hash & 0xffff_ffff_ffff)
}

/// The `{id, name}` of a service.
pub fn service_ref(service: &str) -> NamedRef {
    NamedRef::new(synthetic_id("service", service), service)
}

/// The `{id, name}` of a plan: `postgres:essential-0`.
pub fn plan_ref(service: &str, plan: &str) -> NamedRef {
    let name = format!("{service}:{plan}");
    NamedRef::new(synthetic_id("plan", &name), name)
}

const EPOCH: &str = "2026-01-01T00:00:00Z";

fn free() -> Price {
    Price {
        cents: 0,
        contract: false,
        unit: "month".to_string(),
    }
}

/// An add-on as Heroku's add-on object; `twins` are the add-ons the same request made for
/// the app's other environment.
pub fn addon(v: &AddonView, twins: &[NamedRef]) -> Addon {
    let a = &v.addon;
    Addon {
        id: a.id.clone(),
        name: a.name.clone(),
        actions: Vec::new(),
        addon_service: service_ref(&a.service),
        app: env_ref(&v.env),
        billed_price: Some(free()),
        billing_entity: BillingEntity {
            id: v.env.id.clone(),
            name: v.env.name.clone(),
            kind: "app".to_string(),
        },
        config_vars: v.config_vars(),
        created_at: a.created_at.clone(),
        updated_at: a.updated_at.clone(),
        plan: plan_ref(&a.service, &a.plan),
        provider_id: a.id.clone(),
        provision_message: a.failure.clone(),
        state: a.state.as_str().to_string(),
        web_url: None,
        doppel: AddonExtra {
            service: a.service.clone(),
            human_name: v
                .manifest
                .as_ref()
                .map(|m| m.human_name.clone())
                .unwrap_or_else(|| a.service.clone()),
            plan: a.plan.clone(),
            version: a.version.clone(),
            stage: v.env.stage.as_str().to_string(),
            attachments: v.attachments.iter().map(|x| x.name.clone()).collect(),
            failure: a.failure.clone(),
            backups: v.manifest.as_ref().is_some_and(|m| m.supports_backups()),
            backup_schedule: a.schedule.as_ref().map(|s| BackupScheduleView {
                hour: s.hour,
                keep: s.keep,
                zone: s.zone.clone(),
            }),
            twins: twins.to_vec(),
        },
    }
}

/// An attachment as Heroku's add-on attachment object.
pub fn attachment(v: &AttachmentView) -> Attachment {
    Attachment {
        id: v.attachment.id.clone(),
        name: v.attachment.name.clone(),
        addon: AttachmentAddon {
            id: v.addon.addon.id.clone(),
            name: v.addon.addon.name.clone(),
            app: env_ref(&v.addon.env),
        },
        app: env_ref(&v.env),
        namespace: None,
        log_input_url: None,
        web_url: None,
        created_at: v.attachment.created_at.clone(),
        updated_at: v.attachment.updated_at.clone(),
    }
}

/// A service as Heroku's add-on service object.
pub fn service(m: &Manifest) -> AddonService {
    AddonService {
        id: synthetic_id("service", &m.name),
        name: m.name.clone(),
        human_name: m.human_name.clone(),
        cli_plugin_name: None,
        created_at: EPOCH.to_string(),
        updated_at: EPOCH.to_string(),
        state: "ga".to_string(),
        supported_generations: vec![cedar()],
        supports_multiple_installations: true,
        supports_sharing: false,
        doppel: ServiceExtra {
            aliases: m.aliases.clone(),
            description: m.description.clone(),
            backups: m.supports_backups(),
        },
    }
}

/// A plan as Heroku's plan object.
pub fn plan(m: &Manifest, p: &Plan) -> AddonPlan {
    let is_default = m.default_plan().is_some_and(|d| d.name == p.name);
    let r = plan_ref(&m.name, &p.name);
    AddonPlan {
        id: r.id,
        name: r.name,
        human_name: p.name.clone(),
        description: format!("{} {} ({} MB of memory)", m.human_name, p.name, p.memory_mb),
        addon_service: service_ref(&m.name),
        compliance: None,
        created_at: EPOCH.to_string(),
        updated_at: EPOCH.to_string(),
        default: is_default,
        installable_inside_private_network: true,
        installable_outside_private_network: true,
        price: free(),
        space_default: false,
        state: "public".to_string(),
        visible: true,
        doppel: PlanExtra {
            memory_mb: p.memory_mb,
        },
    }
}

/// A backup or restore of `env`.
pub fn backup(b: &doppel_store::Backup, env: &Environment, users: &Users) -> Backup {
    Backup {
        id: b.id.clone(),
        name: b.label(),
        kind: match b.kind {
            BackupKind::Manual => "backup",
            BackupKind::Scheduled => "scheduled",
            BackupKind::Restore => "restore",
        }
        .to_string(),
        status: b.status.as_str().to_string(),
        app: env_ref(env),
        addon: NamedRef::new(b.addon_id.clone().unwrap_or_default(), b.addon_name.clone()),
        service: b.service.clone(),
        version: b.version.clone(),
        size_bytes: b.size_bytes,
        checksum: b.checksum.clone(),
        counts: b.counts.clone(),
        verified: b.verified,
        verify_message: b.verify_message.clone(),
        source: b.source.clone(),
        note: b.note.clone(),
        error: b.error.clone(),
        user: b.user_id.as_ref().map(|id| doppel_api_types::UserRef {
            id: id.clone(),
            email: users.get(id).map(|u| u.email.clone()),
        }),
        created_at: b.created_at.clone(),
        finished_at: b.finished_at.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_ids_are_stable_and_distinct() {
        assert_eq!(service_ref("postgres").id, service_ref("postgres").id);
        assert_ne!(service_ref("postgres").id, service_ref("redis").id);
        assert_eq!(
            plan_ref("postgres", "essential-0").name,
            "postgres:essential-0"
        );
        assert_eq!(service_ref("x").id.len(), 36);
    }
}
