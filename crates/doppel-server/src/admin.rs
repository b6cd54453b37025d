//! The first admin's credentials on disk: its API token in `<data-dir>/admin-token` and its
//! dashboard password in `<data-dir>/admin-password`, both mode 0600, written once.

use anyhow::Context;
use doppel_control::secrets;
use doppel_control::ServerConfig;
use doppel_store::Store;

/// Creates the admin user and token on first start and writes the token to `admin-token`;
/// returns the token when it was made now.
pub async fn ensure_admin(store: &Store, config: &ServerConfig) -> anyhow::Result<Option<String>> {
    let created = store.ensure_admin(&config.admin_email).await?;
    let token = match created {
        Some((_user, token)) => {
            let path = config.data_dir.join("admin-token");
            secrets::write_private(&path, format!("{token}\n").as_bytes())?;
            Some(token)
        }
        None => None,
    };
    ensure_admin_password(store, config).await?;
    Ok(token)
}

/// Gives the first admin a dashboard password when no admin has one yet (a first start, or
/// the first start of an installation from before the dashboard): the password in
/// `admin-password` if that file exists (a start cut off between writing the file and storing
/// the password), else a new one written there first. Returns whether it set one.
async fn ensure_admin_password(store: &Store, config: &ServerConfig) -> anyhow::Result<bool> {
    let mut admins: Vec<_> = store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.admin)
        .collect();
    for admin in &admins {
        if store.has_password(&admin.id).await? {
            return Ok(false);
        }
    }
    admins.sort_by(|a, b| (&a.created_at, &a.email).cmp(&(&b.created_at, &b.email)));
    let Some(first) = admins.first() else {
        return Ok(false);
    };
    let path = config.data_dir.join("admin-password");
    let kept = std::fs::read_to_string(&path)
        .ok()
        .map(|p| p.trim().to_string())
        .filter(|p| doppel_control::logic::passwords::validate(p).is_ok());
    let password = match kept {
        Some(p) => p,
        None => {
            let p = doppel_control::logic::passwords::generate();
            secrets::write_private(&path, format!("{p}\n").as_bytes())?;
            p
        }
    };
    store
        .set_password(&first.id, &password)
        .await
        .context("setting the admin's dashboard password")?;
    tracing::info!(user = %first.email, file = %path.display(), "the admin's dashboard password is in the file");
    Ok(true)
}
