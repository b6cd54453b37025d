//! Makes the run image's root filesystem on the host: debootstrap, the `heroku` user, the
//! locale, slimming, and a tar of the result.

use std::path::Path;

use tokio::sync::mpsc;

use super::process::run;
use super::{StackConfig, StackError};

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StackError + 'a {
    move |source| StackError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

/// debootstrap `--variant=minbase` with the run packages into `root`.
pub(crate) async fn debootstrap(
    cfg: &StackConfig,
    root: &Path,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let args = vec![
        s("--variant=minbase"),
        format!("--include={}", cfg.spec.run_packages.join(",")),
        cfg.spec.suite.to_string(),
        root.display().to_string(),
        cfg.mirror.clone(),
    ];
    run("debootstrap", &args, progress).await
}

/// Adds `heroku` (1000:1000, home `/app`), the en_US.UTF-8 locale, and dpkg excludes for
/// docs and man pages; removes apt caches and lists.
pub(crate) async fn customize(
    root: &Path,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let chroot = |cmd: &[&str]| -> Vec<String> {
        let mut v = vec![root.display().to_string()];
        v.extend(cmd.iter().map(|c| c.to_string()));
        v
    };
    run(
        "chroot",
        &chroot(&["groupadd", "-g", "1000", "heroku"]),
        progress,
    )
    .await?;
    run(
        "chroot",
        &chroot(&[
            "useradd",
            "-u",
            "1000",
            "-g",
            "1000",
            "-d",
            "/app",
            "-M",
            "-s",
            "/bin/bash",
            "heroku",
        ]),
        progress,
    )
    .await?;
    let app = root.join("app");
    tokio::fs::create_dir_all(&app)
        .await
        .map_err(io("create", &app))?;
    std::os::unix::fs::chown(&app, Some(1000), Some(1000)).map_err(io("chown", &app))?;

    let locale_gen = root.join("etc/locale.gen");
    let text = tokio::fs::read_to_string(&locale_gen)
        .await
        .unwrap_or_default();
    let text = format!("{text}\nen_US.UTF-8 UTF-8\n");
    tokio::fs::write(&locale_gen, text)
        .await
        .map_err(io("write", &locale_gen))?;
    run("chroot", &chroot(&["locale-gen"]), progress).await?;

    let excludes = root.join("etc/dpkg/dpkg.cfg.d/doppel-excludes");
    tokio::fs::write(
        &excludes,
        "path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/info/*\n",
    )
    .await
    .map_err(io("write", &excludes))?;

    for dir in [
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
    ] {
        let path = root.join(dir);
        if path.exists() {
            tokio::fs::remove_dir_all(&path)
                .await
                .map_err(io("remove", &path))?;
        }
        tokio::fs::create_dir_all(&path)
            .await
            .map_err(io("create", &path))?;
    }
    let partial = root.join("var/cache/apt/archives/partial");
    tokio::fs::create_dir_all(&partial)
        .await
        .map_err(io("create", &partial))?;
    let _ = progress
        .send(s(
            "heroku user (1000:1000, home /app) and en_US.UTF-8 locale added",
        ))
        .await;
    Ok(())
}

/// Tars `root` (without the contents of /dev, /proc, /sys) into `out`.
pub(crate) async fn tar_rootfs(
    root: &Path,
    out: &Path,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let args = vec![
        s("--numeric-owner"),
        s("-C"),
        root.display().to_string(),
        s("--exclude=./dev/*"),
        s("--exclude=./proc/*"),
        s("--exclude=./sys/*"),
        s("-cf"),
        out.display().to_string(),
        s("."),
    ];
    run("tar", &args, progress).await
}
