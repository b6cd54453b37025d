//! A service's image: the admin's local image as named, or one made from the manifest's
//! recipe (Debian packages on a stack's run image, from the Debian archive, never from a
//! registry), tagged `doppel/addon-<service>:<stack>-<recipe>` so a changed recipe makes a
//! new image while add-ons keep running the one they were made with.

use std::collections::BTreeMap;

use doppel_docker::{ContainerRuntime, DockerfileBuild};
use tokio::sync::{mpsc, Mutex};

use crate::error::AddonError;
use crate::manifest::Manifest;

/// Label on recipe images: the service.
pub const LABEL_SERVICE: &str = "doppel.addon-service";
/// Label on recipe images: the fingerprint of the recipe.
pub const LABEL_RECIPE: &str = "doppel.addon-recipe";

/// Bump when the way images are made changes in a way the Dockerfile does not show.
const REVISION: &str = "1";

/// One image build at a time in this process (provisioning both environments of an app at
/// once would otherwise build the same image twice).
static BUILD_LOCK: Mutex<()> = Mutex::const_new(());

/// The Dockerfile of a recipe image on `run_image`.
pub fn dockerfile(manifest: &Manifest, run_image: &str) -> String {
    let recipe = &manifest.image;
    let mut steps = Vec::new();
    if let Some(before) = recipe.before.as_deref().filter(|s| !s.trim().is_empty()) {
        steps.push(before.trim().to_string());
    }
    steps.push("apt-get -o Acquire::Check-Valid-Until=false update".to_string());
    steps.push(format!(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
        recipe.packages.join(" ")
    ));
    steps.push("rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb".to_string());
    if let Some(after) = recipe.after.as_deref().filter(|s| !s.trim().is_empty()) {
        steps.push(after.trim().to_string());
    }
    let data = &manifest.data_path;
    let user = &manifest.user;
    // A new volume takes the mount point's owner and mode from the image.
    steps.push(format!(
        "mkdir -p {data} && chown {user}: {data} && chmod 700 {data}"
    ));
    format!(
        "FROM {run_image}\nUSER root\nRUN {}\nUSER {user}\n",
        steps.join(" && \\\n    ")
    )
}

/// The tag of the recipe image of `manifest` on stack `stack`.
pub fn recipe_tag(manifest: &Manifest, stack: &str, run_image: &str) -> String {
    format!(
        "doppel/addon-{}:{stack}-{}",
        manifest.name,
        fingerprint(manifest, run_image)
    )
}

fn fingerprint(manifest: &Manifest, run_image: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(REVISION.as_bytes());
    h.update(b"\0");
    h.update(dockerfile(manifest, run_image).as_bytes());
    h.finalize().to_hex()[..12].to_string()
}

/// The image an add-on of `manifest` runs: the admin's image (which must exist), or the
/// recipe image on `stack`, made when missing. Progress lines go to `progress`.
pub async fn ensure(
    rt: &dyn ContainerRuntime,
    manifest: &Manifest,
    stack: &str,
    run_image: &str,
    progress: &mpsc::Sender<String>,
) -> Result<String, AddonError> {
    if let Some(image) = &manifest.image.image {
        if rt.image_info(image).await?.is_none() {
            return Err(AddonError::Manifest {
                source_name: manifest.name.clone(),
                reason: format!(
                    "its image {image} is not on this machine (doppel pulls nothing; load it with `docker load`)"
                ),
            });
        }
        return Ok(image.clone());
    }
    let tag = recipe_tag(manifest, stack, run_image);
    if rt.image_info(&tag).await?.is_some() {
        return Ok(tag);
    }
    let _guard = BUILD_LOCK.lock().await;
    if rt.image_info(&tag).await?.is_some() {
        return Ok(tag);
    }
    let _ = progress
        .send(format!(
            "building the {} image {tag} from Debian's archive",
            manifest.human_name
        ))
        .await;
    let dir =
        tempfile::tempdir().map_err(|e| AddonError::io("creating", &std::env::temp_dir(), e))?;
    let context = dir.path().join("context.tar");
    write_context(&context, &dockerfile(manifest, run_image))?;
    let build = DockerfileBuild {
        context,
        tag: tag.clone(),
        labels: BTreeMap::from([
            (LABEL_SERVICE.to_string(), manifest.name.clone()),
            (LABEL_RECIPE.to_string(), fingerprint(manifest, run_image)),
        ]),
        // Docker's default bridge: the archive is reachable, nothing of doppel's is.
        network: Some("bridge".to_string()),
        limits: doppel_docker::Limits::default(),
    };
    rt.build_dockerfile(build, progress.clone()).await?;
    tracing::info!(service = %manifest.name, image = %tag, "add-on image built");
    Ok(tag)
}

/// A build context holding only the Dockerfile.
fn write_context(path: &std::path::Path, dockerfile: &str) -> Result<(), AddonError> {
    let file = std::fs::File::create(path).map_err(|e| AddonError::io("creating", path, e))?;
    let mut tar = tar::Builder::new(file);
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, "Dockerfile", dockerfile.as_bytes())
        .and_then(|()| tar.into_inner())
        .and_then(|f| f.sync_all())
        .map_err(|e| AddonError::io("writing", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;
    use doppel_docker::FakeRuntime;

    #[tokio::test]
    async fn the_recipe_image_is_built_once_from_the_stack() -> Result<(), AddonError> {
        let catalog = Catalog::embedded()?;
        let pg = catalog.service("postgres")?;
        let text = dockerfile(&pg, "doppel/debian-13");
        assert!(
            text.starts_with("FROM doppel/debian-13\nUSER root\n"),
            "{text}"
        );
        assert!(text.contains("create_main_cluster = false"));
        assert!(text.contains("install -y --no-install-recommends postgresql"));
        assert!(text.contains("chown postgres: /var/lib/doppel-addon"));
        assert!(text.ends_with("USER postgres\n"));

        let rt = FakeRuntime::new();
        let (tx, _rx) = mpsc::channel(16);
        let tag = ensure(&rt, &pg, "debian-13", "doppel/debian-13", &tx).await?;
        assert!(tag.starts_with("doppel/addon-postgres:debian-13-"), "{tag}");
        assert_eq!(
            tag,
            ensure(&rt, &pg, "debian-13", "doppel/debian-13", &tx).await?
        );
        assert_eq!(rt.state().builds.len(), 1, "built once");
        assert_eq!(rt.state().builds[0].network.as_deref(), Some("bridge"));
        let other = ensure(&rt, &pg, "debian-12", "doppel/heroku-24", &tx).await?;
        assert_ne!(tag, other, "another stack, another image");
        Ok(())
    }
}
