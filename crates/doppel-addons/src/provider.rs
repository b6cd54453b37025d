//! A provider in doppel's words over the container runtime: the server container of one
//! add-on, its readiness and version, and the manifest's commands (backup, verify, restore,
//! rotate, info, run) executed inside it with the add-on's variables in their environment.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use doppel_docker::{
    ContainerRuntime, ExecInput, ExecOutput, ExecResult, ExecSpec, Limits, ServiceSpec, VolumeMount,
};

use crate::counts::{self, Counts};
use crate::error::AddonError;
use crate::manifest::Manifest;

/// Most output `info`, `version` and `run` keep.
pub const MAX_OUTPUT_BYTES: u64 = 4 * 1024 * 1024;

/// The variable holding the add-on's password in its commands' environment (never in its
/// server container's).
pub const PASSWORD_VAR: &str = "DOPPEL_ADDON_PASSWORD";
/// The file in the add-on's data directory holding its current password (0600).
pub const PASSWORD_FILE: &str = "doppel-password";
/// Writes [`PASSWORD_FILE`] when it is missing (atomically, readable by its owner only).
const SEED_PASSWORD: &str = r#"set -eu
umask 077
f="$DOPPEL_ADDON_DATA/doppel-password"
if [ ! -s "$f" ]; then
  printf '%s' "$DOPPEL_ADDON_PASSWORD" > "$f.seed"
  mv "$f.seed" "$f"
fi"#;

/// One add-on as its commands see it. `password` is the current one.
#[derive(Clone, PartialEq, Eq)]
pub struct Instance {
    /// The add-on's name: its host name on the environment's network.
    pub name: String,
    pub memory_mb: u64,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.name)
            .field("memory_mb", &self.memory_mb)
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// One script to run with its extra variables, input and output.
struct Run<'a> {
    script: &'a str,
    env: BTreeMap<String, String>,
    stdin: ExecInput,
    stdout: ExecOutput,
}

/// What a capture wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub size: u64,
    /// `blake3:<hex>` of the file.
    pub checksum: String,
    /// What the backup command said the backup holds.
    pub counts: Counts,
}

/// The outcome of restoring a backup into a scratch database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub message: String,
    pub counts: Counts,
}

/// A service's provider: its manifest and what can be done with it.
#[derive(Debug, Clone)]
pub struct Provider {
    pub manifest: Arc<Manifest>,
}

impl Provider {
    pub fn new(manifest: Arc<Manifest>) -> Provider {
        Provider { manifest }
    }

    /// The variables every command and the server get.
    pub fn env(&self, inst: &Instance) -> BTreeMap<String, String> {
        let m = &self.manifest;
        BTreeMap::from([
            ("DOPPEL_ADDON_NAME".to_string(), inst.name.clone()),
            ("DOPPEL_ADDON_USER".to_string(), inst.user.clone()),
            (PASSWORD_VAR.to_string(), inst.password.clone()),
            ("DOPPEL_ADDON_DATABASE".to_string(), inst.database.clone()),
            ("DOPPEL_ADDON_PORT".to_string(), m.port.to_string()),
            ("DOPPEL_ADDON_DATA".to_string(), m.data_path.clone()),
            (
                "DOPPEL_ADDON_MEMORY_MB".to_string(),
                inst.memory_mb.to_string(),
            ),
        ])
    }

    /// The URL an attachment gives the app.
    pub fn url(&self, inst: &Instance) -> String {
        self.manifest
            .render_url(&inst.user, &inst.password, &inst.name, &inst.database)
    }

    fn script(&self, script: &str) -> Vec<String> {
        let mut cmd = self.manifest.interpreter.clone();
        cmd.push(script.to_string());
        cmd
    }

    /// The server container of `inst`: its volume at the data path, its name as host name on
    /// `network`, memory from its plan, hardened (no capabilities, its own user). Its
    /// environment holds no password (`docker inspect` shows it to anyone who can read the
    /// engine, and it would be stale after a rotation): [`Provider::seed_password`] puts it in
    /// the volume once the container runs.
    pub fn service_spec(
        &self,
        inst: &Instance,
        container_name: &str,
        image: &str,
        volume: &str,
        network: &str,
        labels: BTreeMap<String, String>,
    ) -> ServiceSpec {
        let m = &self.manifest;
        ServiceSpec {
            name: container_name.to_string(),
            image: image.to_string(),
            cmd: Some(self.script(&m.commands.start)),
            env: self
                .env(inst)
                .into_iter()
                .filter(|(k, _)| k != PASSWORD_VAR)
                .collect(),
            labels,
            network: Some(network.to_string()),
            aliases: vec![inst.name.clone()],
            user: Some(m.user.clone()),
            volumes: vec![VolumeMount {
                volume: volume.to_string(),
                path: m.data_path.clone(),
            }],
            limits: Limits {
                memory: Some(inst.memory_mb * 1024 * 1024),
                cpus: Some(1.0),
                pids: Some(512),
            },
            cap_add: Vec::new(),
            shm_bytes: m.shm_mb.map(|mb| mb * 1024 * 1024),
        }
    }

    /// Writes the add-on's password to [`PASSWORD_FILE`] in its volume (mode 0600, as the
    /// manifest's user) unless the file is there: a new server's `start` waits for it, and from
    /// then on the file is the current password (`rotate` keeps it so). The password travels
    /// in the exec's environment only, which the container's configuration does not keep.
    pub async fn seed_password(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
    ) -> Result<(), AddonError> {
        let spec = ExecSpec {
            cmd: vec!["/bin/sh".into(), "-c".into(), SEED_PASSWORD.into()],
            env: self.env(inst),
            user: Some(self.manifest.user.clone()),
            stdin: ExecInput::Empty,
            stdout: ExecOutput::Capture {
                max_bytes: MAX_OUTPUT_BYTES,
            },
        };
        let out = rt.exec(container, spec).await?;
        check("writing the password file", &out)
    }

    /// Runs one of the manifest's scripts in `container`.
    async fn exec(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        run: Run<'_>,
    ) -> Result<ExecResult, AddonError> {
        let mut env = self.env(inst);
        env.extend(run.env);
        let spec = ExecSpec {
            cmd: self.script(run.script),
            env,
            user: Some(self.manifest.user.clone()),
            stdin: run.stdin,
            stdout: run.stdout,
        };
        Ok(rt.exec(container, spec).await?)
    }

    /// Runs a script with no input and its output captured; fails unless it exits 0.
    async fn simple(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        step: &'static str,
        script: &str,
    ) -> Result<String, AddonError> {
        let out = self
            .exec(
                rt,
                container,
                inst,
                Run {
                    script,
                    env: BTreeMap::new(),
                    stdin: ExecInput::Empty,
                    stdout: ExecOutput::Capture {
                        max_bytes: MAX_OUTPUT_BYTES,
                    },
                },
            )
            .await?;
        check(step, &out)?;
        Ok(out.stdout_text())
    }

    /// Waits until the health check passes, the container stops, or `timeout` passes.
    pub async fn wait_ready(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        timeout: Duration,
    ) -> Result<(), AddonError> {
        let deadline = Instant::now() + timeout;
        loop {
            let running = rt
                .inspect_container(container, None)
                .await?
                .is_some_and(|c| c.running);
            if !running {
                return Err(AddonError::NotReady {
                    addon: inst.name.clone(),
                    secs: timeout.as_secs(),
                    last: "its server exited (see `docker logs` of its container)".to_string(),
                });
            }
            let last = match self
                .simple(
                    rt,
                    container,
                    inst,
                    "the health check",
                    &self.manifest.commands.health,
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(AddonError::NotReady {
                    addon: inst.name.clone(),
                    secs: timeout.as_secs(),
                    last,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The server's version (the first line its version command prints), or `unknown`.
    pub async fn version(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
    ) -> Result<String, AddonError> {
        let Some(script) = &self.manifest.commands.version else {
            return Ok("unknown".to_string());
        };
        let out = self
            .simple(rt, container, inst, "the version command", script)
            .await?;
        Ok(out.lines().next().unwrap_or("unknown").trim().to_string())
    }

    /// Captures a backup into `dest` (at most `max_bytes`); the file is removed on failure.
    pub async fn backup(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<Capture, AddonError> {
        let script = self.command(&self.manifest.commands.backup, "backups")?;
        let out = self
            .exec(
                rt,
                container,
                inst,
                Run {
                    script,
                    env: BTreeMap::new(),
                    stdin: ExecInput::Empty,
                    stdout: ExecOutput::File {
                        path: dest.to_path_buf(),
                        max_bytes,
                    },
                },
            )
            .await?;
        if out.exit_code != 0 {
            let _ = std::fs::remove_file(dest);
            return Err(failed("the backup command", &out, true));
        }
        Ok(Capture {
            size: out.stdout_bytes,
            checksum: checksum(dest)?,
            counts: counts::parse(&out.stderr_text()),
        })
    }

    /// Restores `file` into a scratch database and compares what it holds with `captured`.
    /// A backup that cannot be restored is `Ok` with `ok: false` (that is the finding).
    pub async fn verify(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        file: &Path,
        captured: &Counts,
    ) -> Result<Verification, AddonError> {
        let script = self.command(&self.manifest.commands.verify, "backups")?;
        let out = self
            .exec(
                rt,
                container,
                inst,
                Run {
                    script,
                    env: BTreeMap::new(),
                    stdin: ExecInput::File(file.to_path_buf()),
                    stdout: ExecOutput::Capture {
                        max_bytes: MAX_OUTPUT_BYTES,
                    },
                },
            )
            .await?;
        if out.exit_code != 0 {
            return Ok(Verification {
                ok: false,
                message: failed("restoring into a scratch database", &out, false).to_string(),
                counts: Counts::new(),
            });
        }
        let restored = counts::parse(&out.stdout_text());
        Ok(match counts::compare(captured, &restored) {
            Ok(message) => Verification {
                ok: true,
                message,
                counts: restored,
            },
            Err(diff) => Verification {
                ok: false,
                message: format!("the scratch restore differs from the capture: {diff}"),
                counts: restored,
            },
        })
    }

    /// Makes the add-on's data exactly `file` (with `script` run on it first, when given).
    pub async fn restore(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        file: &Path,
        script: Option<&str>,
    ) -> Result<(), AddonError> {
        let command = self.command(&self.manifest.commands.restore, "restores")?;
        let env = script
            .map(|s| BTreeMap::from([("DOPPEL_SCRIPT".to_string(), s.to_string())]))
            .unwrap_or_default();
        let out = self
            .exec(
                rt,
                container,
                inst,
                Run {
                    script: command,
                    env,
                    stdin: ExecInput::File(file.to_path_buf()),
                    stdout: ExecOutput::Capture {
                        max_bytes: MAX_OUTPUT_BYTES,
                    },
                },
            )
            .await?;
        if out.exit_code != 0 {
            return Err(failed("the restore", &out, false));
        }
        Ok(())
    }

    /// Sets the add-on's password to `new_password` (safe to repeat).
    pub async fn rotate(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        new_password: &str,
    ) -> Result<(), AddonError> {
        let script = self.command(&self.manifest.commands.rotate, "credential rotation")?;
        let env = BTreeMap::from([("DOPPEL_NEW_PASSWORD".to_string(), new_password.to_string())]);
        let out = self
            .exec(
                rt,
                container,
                inst,
                Run {
                    script,
                    env,
                    stdin: ExecInput::Empty,
                    stdout: ExecOutput::Capture {
                        max_bytes: MAX_OUTPUT_BYTES,
                    },
                },
            )
            .await?;
        if out.exit_code != 0 {
            return Err(failed("the rotation", &out, false));
        }
        Ok(())
    }

    /// `Key: value` lines about the running server.
    pub async fn info(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
    ) -> Result<Vec<(String, String)>, AddonError> {
        let Some(script) = &self.manifest.commands.info else {
            return Ok(Vec::new());
        };
        let out = self
            .simple(rt, container, inst, "the info command", script)
            .await?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect())
    }

    /// Runs `input` (SQL, commands) as the app would; returns what the command printed. A
    /// non-zero exit is in the result, not an error.
    pub async fn run(
        &self,
        rt: &dyn ContainerRuntime,
        container: &str,
        inst: &Instance,
        input: Vec<u8>,
    ) -> Result<ExecResult, AddonError> {
        let script = self.command(&self.manifest.commands.run, "running commands")?;
        self.exec(
            rt,
            container,
            inst,
            Run {
                script,
                env: BTreeMap::new(),
                stdin: ExecInput::Bytes(input),
                stdout: ExecOutput::Capture {
                    max_bytes: MAX_OUTPUT_BYTES,
                },
            },
        )
        .await
    }

    /// The interactive client's command line, for a terminal session.
    pub fn shell_command(&self) -> Result<Vec<String>, AddonError> {
        let script = self.command(&self.manifest.commands.shell, "interactive sessions")?;
        Ok(self.script(script))
    }

    fn command<'a>(
        &self,
        script: &'a Option<String>,
        what: &'static str,
    ) -> Result<&'a str, AddonError> {
        script.as_deref().ok_or_else(|| AddonError::Unsupported {
            service: self.manifest.human_name.clone(),
            what,
        })
    }
}

/// Fails unless the command exited 0.
fn check(step: &'static str, out: &ExecResult) -> Result<(), AddonError> {
    if out.exit_code == 0 {
        Ok(())
    } else {
        Err(failed(step, out, false))
    }
}

fn failed(step: &'static str, out: &ExecResult, strip_counts: bool) -> AddonError {
    let text = out.stderr_text();
    let text = if strip_counts {
        counts::strip(&text)
    } else {
        text
    };
    let mut stderr = text.trim().to_string();
    if stderr.is_empty() {
        stderr = "no message".to_string();
    }
    AddonError::CommandFailed {
        step,
        code: out.exit_code,
        stderr,
    }
}

/// `blake3:<hex>` of a file, read in chunks.
pub fn checksum(path: &Path) -> Result<String, AddonError> {
    let mut file = std::fs::File::open(path).map_err(|e| AddonError::io("opening", path, e))?;
    let mut hasher = blake3::Hasher::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| AddonError::io("reading", path, e))?;
    Ok(format!("blake3:{}", hasher.finalize().to_hex()))
}
