//! Service containers (add-on servers), named volumes, and exec with streamed, bounded
//! standard input and output.

use std::collections::{BTreeMap, HashMap};

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount, MountType, NetworkingConfig,
    RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{CreateContainerOptions, ListVolumesOptions, RemoveVolumeOptions};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::images::to_hash;
use super::util::{engine, hardened, is_status, tar_stream};
use crate::{
    DockerError, ExecInput, ExecOutput, ExecResult, ExecSpec, ServiceSpec, TarSource, VolumeInfo,
    MAX_EXEC_STDERR,
};

pub(crate) async fn run_service(
    docker: &Docker,
    spec: ServiceSpec,
    ncpu: f64,
) -> Result<String, DockerError> {
    let networking_config = spec.network.as_ref().map(|net| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            net.clone(),
            EndpointSettings {
                aliases: (!spec.aliases.is_empty()).then(|| spec.aliases.clone()),
                ..Default::default()
            },
        )])),
    });
    let mounts = spec
        .volumes
        .iter()
        .map(|v| Mount {
            target: Some(v.path.clone()),
            source: Some(v.volume.clone()),
            typ: Some(MountType::VOLUME),
            ..Default::default()
        })
        .collect::<Vec<_>>();
    let host_config = HostConfig {
        network_mode: Some(spec.network.clone().unwrap_or_else(|| "none".to_string())),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        }),
        init: Some(true),
        mounts: (!mounts.is_empty()).then_some(mounts),
        shm_size: spec.shm_bytes.and_then(|b| i64::try_from(b).ok()),
        ..hardened(&spec.limits, &spec.cap_add, ncpu)
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.cmd,
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        user: spec.user,
        labels: Some(to_hash(&spec.labels)),
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(spec.name.clone()),
        ..Default::default()
    };
    let id = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| engine("create service", &spec.name, e))?
        .id;
    if let Err(e) = docker.start_container(&id, None).await {
        let err = engine("start service", &spec.name, e);
        let _ = super::containers::remove(docker, &id, true).await;
        return Err(err);
    }
    Ok(id)
}

pub(crate) async fn ensure_volume(
    docker: &Docker,
    name: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), DockerError> {
    if docker.inspect_volume(name).await.is_ok() {
        return Ok(());
    }
    let mut labels = labels.clone();
    labels.insert(crate::LABEL_MANAGED.to_string(), "true".to_string());
    let request = VolumeCreateRequest {
        name: Some(name.to_string()),
        labels: Some(to_hash(&labels)),
        ..Default::default()
    };
    docker
        .create_volume(request)
        .await
        .map_err(|e| engine("create volume", name, e))?;
    Ok(())
}

pub(crate) async fn list_volumes(
    docker: &Docker,
    label: &str,
) -> Result<Vec<VolumeInfo>, DockerError> {
    let options = ListVolumesOptions {
        filters: Some(HashMap::from([(
            "label".to_string(),
            vec![label.to_string()],
        )])),
    };
    let list = docker
        .list_volumes(Some(options))
        .await
        .map_err(|e| engine("list volumes", label, e))?;
    Ok(list
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| VolumeInfo {
            name: v.name,
            labels: v.labels.into_iter().collect(),
        })
        .collect())
}

pub(crate) async fn remove_volume(docker: &Docker, name: &str) -> Result<(), DockerError> {
    match docker
        .remove_volume(name, Some(RemoveVolumeOptions { force: false }))
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if is_status(&e, &[404]) => Ok(()),
        Err(e) => Err(engine("remove volume", name, e)),
    }
}

pub(crate) async fn exec(
    docker: &Docker,
    container: &str,
    spec: ExecSpec,
) -> Result<ExecResult, DockerError> {
    let target = format!(
        "{container}: {}",
        spec.cmd.first().map_or("", String::as_str)
    );
    let options = CreateExecOptions::<String> {
        attach_stdin: Some(spec.stdin != ExecInput::Empty),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        cmd: Some(spec.cmd.clone()),
        user: spec.user.clone(),
        ..Default::default()
    };
    let created = docker
        .create_exec(container, options)
        .await
        .map_err(|e| engine("exec", &target, e))?;
    let started = docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: false,
                output_capacity: Some(256 * 1024),
            }),
        )
        .await
        .map_err(|e| engine("exec", &target, e))?;
    let StartExecResults::Attached { mut output, input } = started else {
        return Err(DockerError::Engine {
            op: "exec",
            target,
            message: "the engine did not attach to the command".to_string(),
        });
    };
    let feeder = tokio::spawn(feed(input, spec.stdin));
    let mut sink = OutputSink::open(&spec.stdout).await?;
    let mut result = ExecResult::default();
    let mut failure = None;
    while let Some(chunk) = output.next().await {
        match chunk {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                result.stdout_bytes += message.len() as u64;
                if let Err(e) = sink.write(&message).await {
                    failure = Some(e);
                    break;
                }
            }
            Ok(LogOutput::StdErr { message }) => {
                let room = MAX_EXEC_STDERR.saturating_sub(result.stderr.len());
                result
                    .stderr
                    .extend_from_slice(&message[..message.len().min(room)]);
            }
            Ok(LogOutput::StdIn { .. }) => {}
            Err(e) => {
                failure = Some(engine("exec output", &target, e));
                break;
            }
        }
    }
    feeder.abort();
    if let Some(e) = failure {
        sink.discard().await;
        return Err(e);
    }
    result.stdout = sink.finish().await?;
    let inspected = docker
        .inspect_exec(&created.id)
        .await
        .map_err(|e| engine("inspect exec", &target, e))?;
    result.exit_code = inspected.exit_code.unwrap_or(-1);
    Ok(result)
}

/// Writes the command's standard input, then closes it (EOF for the command).
async fn feed(mut input: std::pin::Pin<Box<dyn AsyncWrite + Send>>, source: ExecInput) {
    let outcome = match source {
        ExecInput::Empty => Ok(()),
        ExecInput::Bytes(bytes) => input.write_all(&bytes).await,
        ExecInput::File(path) => copy_file(&mut input, path).await,
    };
    if let Err(e) = outcome {
        // The command may have stopped reading (it failed early); its exit code says why.
        tracing::debug!(error = %e, "exec standard input ended early");
    }
    let _ = input.shutdown().await;
}

async fn copy_file(
    input: &mut std::pin::Pin<Box<dyn AsyncWrite + Send>>,
    path: std::path::PathBuf,
) -> std::io::Result<()> {
    let mut chunks = tar_stream(TarSource::File(path))
        .await
        .map_err(std::io::Error::other)?;
    while let Some(chunk) = chunks.next().await {
        input.write_all(&chunk?).await?;
    }
    Ok(())
}

/// Where standard output goes, enforcing its limit.
enum OutputSink {
    Memory {
        buf: Vec<u8>,
        max: u64,
    },
    File {
        file: tokio::fs::File,
        path: std::path::PathBuf,
        written: u64,
        max: u64,
    },
}

impl OutputSink {
    async fn open(output: &ExecOutput) -> Result<OutputSink, DockerError> {
        Ok(match output {
            ExecOutput::Capture { max_bytes } => OutputSink::Memory {
                buf: Vec::new(),
                max: *max_bytes,
            },
            ExecOutput::File { path, max_bytes } => OutputSink::File {
                file: tokio::fs::File::create(path)
                    .await
                    .map_err(|source| io_err("create", path, source))?,
                path: path.clone(),
                written: 0,
                max: *max_bytes,
            },
        })
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), DockerError> {
        match self {
            OutputSink::Memory { buf, max } => {
                if (buf.len() + data.len()) as u64 > *max {
                    return Err(too_large(*max));
                }
                buf.extend_from_slice(data);
            }
            OutputSink::File {
                file,
                path,
                written,
                max,
            } => {
                *written += data.len() as u64;
                if *written > *max {
                    return Err(too_large(*max));
                }
                file.write_all(data)
                    .await
                    .map_err(|source| io_err("write", path, source))?;
            }
        }
        Ok(())
    }

    async fn finish(self) -> Result<Vec<u8>, DockerError> {
        match self {
            OutputSink::Memory { buf, .. } => Ok(buf),
            OutputSink::File { mut file, path, .. } => {
                file.flush()
                    .await
                    .and(file.sync_all().await)
                    .map_err(|source| io_err("write", &path, source))?;
                Ok(Vec::new())
            }
        }
    }

    async fn discard(self) {
        if let OutputSink::File { file, path, .. } = self {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
        }
    }
}

fn too_large(limit: u64) -> DockerError {
    DockerError::TooLarge {
        what: "the command's output".to_string(),
        limit,
    }
}

fn io_err(op: &'static str, path: &std::path::Path, source: std::io::Error) -> DockerError {
    DockerError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}
