//! Images that the Docker engine lost (a restore onto a fresh VM, a pruned engine) are built
//! again at startup, before the first supervisor pass, from the commit each release's build
//! recorded, in the environment's saved repository. Only the images of current releases are
//! rebuilt (what must serve); every build and release that named the lost image then names
//! the rebuild (`Store::replace_image_id`), so a production release promoted from staging
//! still runs the same image as staging.

use crate::state::AppState;
use doppel_store::{Build, Release};
use std::collections::HashSet;

/// Rebuilds the missing images of the current releases; returns how many it rebuilt. A
/// failure is logged and leaves that environment without dynos until its next deploy.
pub async fn missing_images(state: &AppState) -> usize {
    let envs = match state.store().list_environments().await {
        Ok(envs) => envs,
        Err(e) => {
            tracing::error!(error = %e, "listing environments to find lost images");
            return 0;
        }
    };
    let mut tried = HashSet::new();
    let mut rebuilt = 0;
    for env in envs {
        // Read again each time: a rebuild for staging also fixes production's release.
        let release = match state.store().current_release(&env.id).await {
            Ok(Some(release)) if release.has_image() => release,
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(error = %e, env = %env.name, "reading the current release");
                continue;
            }
        };
        if !tried.insert(release.image_id.clone()) || image_present(state, &release).await {
            continue;
        }
        tracing::warn!(env = %env.name, version = release.version, "the release's image is missing from the Docker engine; rebuilding it from its commit");
        match rebuild(state, &release).await {
            Ok(image) => {
                rebuilt += 1;
                tracing::info!(env = %env.name, version = release.version, image = %image, "image rebuilt");
            }
            Err(reason) => {
                tracing::error!(env = %env.name, version = release.version, %reason, "could not rebuild the release's image; push again to deploy")
            }
        }
    }
    rebuilt
}

async fn image_present(state: &AppState, release: &Release) -> bool {
    match state.runtime().image_info(&release.image_id).await {
        Ok(found) => found.is_some(),
        Err(e) => {
            tracing::warn!(error = %e, image = %release.image_id, "inspecting an image");
            true
        }
    }
}

/// Builds the release's commit again and points its rows at the new image.
async fn rebuild(state: &AppState, release: &Release) -> Result<String, String> {
    let build = source_build(state, release).await?;
    let env = state
        .store()
        .environment(&build.env_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "the environment {} of build {} is gone",
                build.env_id, build.id
            )
        })?;
    let workdir = tempfile::tempdir().map_err(|e| format!("creating a build directory: {e}"))?;
    let source_tar = workdir.path().join("source.tar");
    let repo = state
        .config()
        .data_dir
        .join("repos")
        .join(format!("{}.git", env.name));
    doppel_git::Push::new(env.name.clone(), repo, Vec::new())
        .archive(&build.commit, &source_tar)
        .await
        .map_err(|e| {
            format!(
                "reading commit {} from the saved repository: {e}",
                build.commit
            )
        })?;
    let request =
        super::deploy::build_request(state, &env, &build.id, &build.commit, source_tar, None)
            .await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(256);
    let env_name = env.name.clone();
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            tracing::debug!(env = %env_name, "rebuild: {line}");
        }
    });
    let output = doppel_builder::build(state.runtime(), request, tx).await;
    let _ = printer.await;
    let output = output.map_err(|e| format!("the build failed: {e}"))?;
    state
        .store()
        .replace_image_id(&release.image_id, &output.image_id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(output.image_id)
}

/// The build that made the release's image: its own, or (for a promoted release) that of the
/// staging release it came from.
async fn source_build(state: &AppState, release: &Release) -> Result<Build, String> {
    let mut current = release.clone();
    for _ in 0..8 {
        if let Some(build_id) = &current.build_id {
            return state
                .store()
                .build(build_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("build {build_id} is gone"));
        }
        let Some(source) = &current.source_release_id else {
            break;
        };
        current = state
            .store()
            .release(source)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("release {source} is gone"))?;
    }
    Err(format!(
        "release v{} records no build to make its image from",
        release.version
    ))
}
