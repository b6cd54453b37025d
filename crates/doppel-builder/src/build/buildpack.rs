//! Buildpack builds: run `buildpacks/bin/doppel-build` in a build container, then commit the
//! compiled `/app` and the dyno launcher onto the stack's run image.

use std::collections::BTreeMap;
use std::path::Path;

use doppel_docker::{ContainerRuntime, ContainerSpec, DockerError, TarSource};
use doppel_types::{ImageKind, ProcessTypes};
use tokio::sync::mpsc;

use super::process_types::{resolve, DriverResult};
use super::{
    embedded, image_labels, image_tag, run, source, BuildError, BuildOutput, BuildRequest,
    LABEL_BUILD, LABEL_ENV, LABEL_ROLE, MAX_PROCFILE_BYTES, MAX_RESULT_BYTES,
};
use crate::tarball;

/// Where the CA bundle is mounted (Debian's path, so every tool finds it).
const CA_PATH: &str = "/etc/ssl/certs/ca-certificates.crt";
const RESULT_FILE: &str = "/tmp/doppel-result.json";
const DRIVER: &str = "/tmp/buildpacks/bin/doppel-build";
/// Driver exit status for "no buildpack applies".
const EXIT_NO_BUILDPACK: i64 = 2;

pub(crate) async fn build(
    rt: &dyn ContainerRuntime,
    req: &BuildRequest,
    log: &mpsc::Sender<String>,
) -> Result<BuildOutput, BuildError> {
    let dir = tempfile::tempdir().map_err(BuildError::io("creating a temporary directory"))?;
    let mut made = Vec::new();
    let result = run_build(rt, req, log, dir.path(), &mut made).await;
    for id in made {
        if let Err(e) = rt.remove(&id, true).await {
            tracing::warn!(container = %id, error = %e, "could not remove a build container");
        }
    }
    result
}

fn container_labels(req: &BuildRequest) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_ROLE.to_string(), "build".to_string()),
        (LABEL_ENV.to_string(), req.env_name.clone()),
        (LABEL_BUILD.to_string(), req.build_id.clone()),
    ])
}

fn build_env(req: &BuildRequest) -> BTreeMap<String, String> {
    let mut env = req.build_env.clone();
    env.extend([
        ("STACK".to_string(), req.stack.stack.clone()),
        ("SOURCE_VERSION".to_string(), req.commit.clone()),
        ("HOME".to_string(), "/app".to_string()),
    ]);
    if req.ca_bundle.is_some() {
        for key in [
            "SSL_CERT_FILE",
            "PIP_CERT",
            "REQUESTS_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "npm_config_cafile",
        ] {
            env.insert(key.to_string(), CA_PATH.to_string());
        }
    }
    env
}

/// Makes the cache dir and gives it to uid 1000 (a failure only costs the cache).
fn prepare_cache(cache_dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(cache_dir).map_err(BuildError::io(format!(
        "creating the build cache {}",
        cache_dir.display()
    )))?;
    if let Err(e) = std::os::unix::fs::chown(cache_dir, Some(1000), Some(1000)) {
        tracing::warn!(dir = %cache_dir.display(), error = %e, "cannot chown the build cache to 1000:1000");
    }
    Ok(())
}

/// Reads one file of the container (at most `max_bytes`), or `None` when it does not exist.
/// A larger file is `too_large`, and never read whole.
async fn read_file(
    rt: &dyn ContainerRuntime,
    container: &str,
    path: &str,
    tmp: &Path,
    max_bytes: u64,
    too_large: fn() -> BuildError,
) -> Result<Option<Vec<u8>>, BuildError> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let dest = tmp.join(format!("{name}.tar"));
    // The tar adds headers and padding around the file.
    match rt
        .download_tar(container, path, &dest, max_bytes + 64 * 1024)
        .await
    {
        Ok(_) => match tarball::read_entry(&dest, name, max_bytes) {
            Err(e) if e.get_ref().is_some_and(|i| i.is::<tarball::TooLarge>()) => Err(too_large()),
            other => other.map_err(BuildError::io(format!("reading {path} from the build"))),
        },
        Err(DockerError::NotFound { .. }) => Ok(None),
        Err(DockerError::TooLarge { .. }) => Err(too_large()),
        Err(e) => Err(e.into()),
    }
}

fn procfile_too_large() -> BuildError {
    BuildError::FileTooLarge {
        file: "Procfile",
        limit: MAX_PROCFILE_BYTES,
        advice: "a Procfile names each process type on one line, such as `web: gunicorn app:app`",
    }
}

fn result_too_large() -> BuildError {
    BuildError::FileTooLarge {
        file: "the buildpack's release output",
        limit: MAX_RESULT_BYTES,
        advice: "it lists default process types and must stay small",
    }
}

async fn run_build(
    rt: &dyn ContainerRuntime,
    req: &BuildRequest,
    log: &mpsc::Sender<String>,
    tmp: &Path,
    made: &mut Vec<String>,
) -> Result<BuildOutput, BuildError> {
    let id = prepare_build_container(rt, req, tmp, made).await?;
    rt.start(&id).await?;
    let code = run::follow(rt, &id, log, req.limits.timeout).await?;
    match code {
        0 => {}
        EXIT_NO_BUILDPACK => return Err(BuildError::NoBuildpack),
        exit_code => return Err(BuildError::CompileFailed { exit_code }),
    }
    let (result, process_types) = read_results(rt, &id, tmp).await?;
    let app_tar = download_slug(rt, req, &id, tmp, log).await?;
    let (image_id, tag) = commit_release_image(rt, req, app_tar, made).await?;
    let size_bytes = rt.image_info(&tag).await?.map(|i| i.size).unwrap_or(0);
    tracing::info!(build = %req.build_id, image = %tag, "buildpack build committed");
    Ok(BuildOutput {
        image_id,
        image_tag: tag,
        kind: ImageKind::Buildpack,
        process_types,
        buildpack: result.buildpack,
        stack: req.stack.stack.clone(),
        size_bytes,
    })
}

/// Creates the build container (unprivileged, on the build network, with the cache and the
/// CA bundle mounted) and uploads the source, the buildpacks and the config env dir.
async fn prepare_build_container(
    rt: &dyn ContainerRuntime,
    req: &BuildRequest,
    tmp: &Path,
    made: &mut Vec<String>,
) -> Result<String, BuildError> {
    prepare_cache(&req.cache_dir)?;
    let mut binds = vec![format!("{}:/cache", req.cache_dir.display())];
    if let Some(ca) = &req.ca_bundle {
        binds.push(format!("{}:{CA_PATH}:ro", ca.display()));
    }
    let name = format!("doppel-build-{}-{}", req.env_name, req.build_id);
    // A leftover of an interrupted run with the same name must not block this one.
    let _ = rt.remove(&name, true).await;
    let spec = ContainerSpec {
        name: Some(name),
        image: req.stack.build_image.clone(),
        cmd: Some(vec![DRIVER.to_string()]),
        env: build_env(req),
        user: Some("1000:1000".to_string()),
        working_dir: Some("/app".to_string()),
        labels: container_labels(req),
        binds,
        network: req.network.clone(),
        limits: req.limits.resources,
        cap_add: Vec::new(),
    };
    let id = rt.create_container(spec).await?;
    made.push(id.clone());
    let owned = tmp.join("source.tar");
    source::owned_by_heroku(&req.source_tar, &owned)?;
    rt.upload_tar(&id, "/app", TarSource::File(owned)).await?;
    rt.upload_tar(
        &id,
        "/tmp",
        TarSource::Bytes(embedded::buildpacks_upload()?),
    )
    .await?;
    rt.upload_tar(&id, "/tmp", TarSource::Bytes(source::env_dir(&req.config)?))
        .await?;
    Ok(id)
}

/// The driver's result (buildpack name, default process types) and the process types the
/// app ends up with (its Procfile over the defaults; `web` required). Both reads are bounded.
async fn read_results(
    rt: &dyn ContainerRuntime,
    id: &str,
    tmp: &Path,
) -> Result<(DriverResult, ProcessTypes), BuildError> {
    let result =
        match read_file(rt, id, RESULT_FILE, tmp, MAX_RESULT_BYTES, result_too_large).await? {
            Some(bytes) => DriverResult::parse(&bytes)?,
            None => DriverResult::default(),
        };
    let procfile = read_file(
        rt,
        id,
        "/app/Procfile",
        tmp,
        MAX_PROCFILE_BYTES,
        procfile_too_large,
    )
    .await?;
    let defaults: ProcessTypes = result.default_process_types.clone().unwrap_or_default();
    let process_types = resolve(procfile.as_deref(), &defaults)?;
    Ok((result, process_types))
}

/// Streams the compiled `/app` to a tar on disk, stopping at the slug limit.
async fn download_slug(
    rt: &dyn ContainerRuntime,
    req: &BuildRequest,
    id: &str,
    tmp: &Path,
    log: &mpsc::Sender<String>,
) -> Result<std::path::PathBuf, BuildError> {
    let app_tar = tmp.join("app.tar");
    let limit = req.limits.max_slug_bytes;
    let slug_size = match rt.download_tar(id, "/app", &app_tar, limit).await {
        Ok(size) => size,
        Err(DockerError::TooLarge { .. }) => return Err(BuildError::SlugTooLarge { limit }),
        Err(e) => return Err(e.into()),
    };
    let _ = log.send("-----> Compressing...".to_string()).await;
    let _ = log
        .send(format!(
            "       Done: {:.1}M",
            slug_size as f64 / 1_048_576.0
        ))
        .await;
    Ok(app_tar)
}

/// Puts `/app` and the dyno launcher onto the run image and commits the release image;
/// returns its id and tag.
async fn commit_release_image(
    rt: &dyn ContainerRuntime,
    req: &BuildRequest,
    app_tar: std::path::PathBuf,
    made: &mut Vec<String>,
) -> Result<(String, String), BuildError> {
    let release = ContainerSpec {
        name: None,
        image: req.stack.run_image.clone(),
        labels: container_labels(req),
        ..Default::default()
    };
    let rid = rt.create_container(release).await?;
    made.push(rid.clone());
    rt.upload_tar(&rid, "/", TarSource::File(app_tar)).await?;
    rt.upload_tar(
        &rid,
        "/usr/local/bin",
        TarSource::Bytes(embedded::launcher_upload()?),
    )
    .await?;
    let tag = image_tag(req);
    let mut labels = image_labels(req, ImageKind::Buildpack);
    labels.insert(LABEL_ROLE.to_string(), "release".to_string());
    let changes = ["WORKDIR /app", "USER 1000:1000", "ENV HOME=/app"].map(String::from);
    let image_id = rt.commit(&rid, &tag, &labels, &changes).await?;
    Ok((image_id, tag))
}
