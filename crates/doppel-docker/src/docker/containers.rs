//! Build-container operations: create, upload/download tars, start, logs, wait, commit, kill, remove.

use std::collections::BTreeMap;
use std::path::Path;

use bollard::container::LogOutput;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CommitContainerOptions, CreateContainerOptions, DownloadFromContainerOptions,
    KillContainerOptions, LogsOptions, RemoveContainerOptions, UploadToContainerOptions,
    WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::images::to_hash;
use super::util::{engine, hardened, is_status, split_repo_tag, tar_stream};
use crate::{ContainerSpec, DockerError, LineSplitter, LineStream, TarSource};

fn env_list(env: &BTreeMap<String, String>) -> Vec<String> {
    env.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

pub(crate) async fn create(
    docker: &Docker,
    spec: ContainerSpec,
    ncpu: f64,
) -> Result<String, DockerError> {
    let target = spec.name.clone().unwrap_or_else(|| spec.image.clone());
    let host_config = HostConfig {
        binds: (!spec.binds.is_empty()).then_some(spec.binds),
        network_mode: Some(spec.network.unwrap_or_else(|| "none".to_string())),
        ..hardened(&spec.limits, &spec.cap_add, ncpu)
    };
    let body = ContainerCreateBody {
        image: Some(spec.image),
        cmd: spec.cmd,
        env: Some(env_list(&spec.env)),
        user: spec.user,
        working_dir: spec.working_dir,
        labels: Some(to_hash(&spec.labels)),
        host_config: Some(host_config),
        ..Default::default()
    };
    let options = spec.name.map(|name| CreateContainerOptions {
        name: Some(name),
        ..Default::default()
    });
    let created = docker
        .create_container(options, body)
        .await
        .map_err(|e| engine("create container", &target, e))?;
    Ok(created.id)
}

pub(crate) async fn upload_tar(
    docker: &Docker,
    container: &str,
    dest: &str,
    tar: TarSource,
) -> Result<(), DockerError> {
    let options = UploadToContainerOptions {
        path: dest.to_string(),
        ..Default::default()
    };
    let body = bollard::body_try_stream(tar_stream(tar).await?);
    docker
        .upload_to_container(container, Some(options), body)
        .await
        .map_err(|e| engine("upload to", &format!("{container}:{dest}"), e))
}

pub(crate) async fn start(docker: &Docker, container: &str) -> Result<(), DockerError> {
    docker
        .start_container(container, None)
        .await
        .map_err(|e| engine("start container", container, e))
}

/// Follows a container's output as lines. The engine's follow stream can end at exit before
/// the last log entries are readable (a race in the json-file driver), so when it ends the
/// whole log is read once more without following and the lines not yet seen are added:
/// the last lines of a build (often the reason it failed) are never lost.
pub(crate) fn logs(docker: &Docker, container: &str) -> LineStream {
    let options = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let name = container.to_string();
    let docker = docker.clone();
    let chunks = docker.logs(container, Some(options));
    let state = FollowState::default();
    let stream = futures_util::stream::unfold((chunks, state), move |(mut chunks, mut st)| {
        let name = name.clone();
        let docker = docker.clone();
        async move {
            loop {
                if let Some(line) = st.queue.pop_front() {
                    st.emitted += 1;
                    return Some((Ok(line), (chunks, st)));
                }
                if st.done {
                    return None;
                }
                match chunks.next().await {
                    Some(Ok(output)) => {
                        if let Err(e) = st.push(output) {
                            st.done = true;
                            return Some((Err(e), (chunks, st)));
                        }
                    }
                    Some(Err(e)) => {
                        st.done = true;
                        return Some((Err(engine("logs", &name, e)), (chunks, st)));
                    }
                    None => {
                        st.done = true;
                        match all_lines(&docker, &name).await {
                            Ok(all) => st.queue.extend(all.into_iter().skip(st.emitted)),
                            Err(e) => {
                                tracing::warn!(container = %name, error = %e, "could not re-read the log's end");
                                st.finish();
                            }
                        }
                    }
                }
            }
        }
    });
    Box::pin(stream)
}

/// Line-splitting state of one followed log: separate splitters for stdout and stderr so
/// interleaved partial lines do not mix.
#[derive(Default)]
struct FollowState {
    out: LineSplitter,
    err: LineSplitter,
    queue: std::collections::VecDeque<String>,
    emitted: usize,
    done: bool,
}

impl FollowState {
    fn push(&mut self, output: LogOutput) -> Result<(), DockerError> {
        let lines = match output {
            LogOutput::StdErr { message } => self.err.push(&message)?,
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                self.out.push(&message)?
            }
            LogOutput::StdIn { .. } => Vec::new(),
        };
        self.queue.extend(lines);
        Ok(())
    }

    fn finish(&mut self) {
        self.queue.extend(self.out.finish());
        self.queue.extend(self.err.finish());
    }
}

/// Every line of a container's log so far, split exactly as [`logs`] splits them.
async fn all_lines(docker: &Docker, container: &str) -> Result<Vec<String>, DockerError> {
    let options = LogsOptions {
        follow: false,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let mut chunks = docker.logs(container, Some(options));
    let mut st = FollowState::default();
    while let Some(chunk) = chunks.next().await {
        st.push(chunk.map_err(|e| engine("logs", container, e))?)?;
    }
    st.finish();
    Ok(st.queue.into_iter().collect())
}

pub(crate) async fn wait(docker: &Docker, container: &str) -> Result<i64, DockerError> {
    let options = WaitContainerOptions {
        condition: "not-running".to_string(),
    };
    let mut stream = docker.wait_container(container, Some(options));
    match stream.next().await {
        Some(Ok(resp)) => Ok(resp.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(engine("wait", container, e)),
        None => Err(DockerError::Engine {
            op: "wait",
            target: container.to_string(),
            message: "the engine closed the wait without an exit code".to_string(),
        }),
    }
}

pub(crate) async fn download_tar(
    docker: &Docker,
    container: &str,
    path: &str,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, DockerError> {
    let io = |op, source| DockerError::Io {
        op,
        path: dest.display().to_string(),
        source,
    };
    let options = DownloadFromContainerOptions {
        path: path.to_string(),
    };
    let target = format!("{container}:{path}");
    let mut stream = docker.download_from_container(container, Some(options));
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| io("create", e))?;
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| engine("download", &target, e))?;
        size += chunk.len() as u64;
        if size > max_bytes {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
            return Err(DockerError::TooLarge {
                what: format!("the tar of {path}"),
                limit: max_bytes,
            });
        }
        file.write_all(&chunk).await.map_err(|e| io("write", e))?;
    }
    file.flush().await.map_err(|e| io("write", e))?;
    Ok(size)
}

pub(crate) async fn commit(
    docker: &Docker,
    container: &str,
    repo_tag: &str,
    labels: &BTreeMap<String, String>,
    changes: &[String],
) -> Result<String, DockerError> {
    let (repo, tag) = split_repo_tag(repo_tag);
    let options = CommitContainerOptions {
        container: Some(container.to_string()),
        repo: Some(repo),
        tag: Some(tag),
        pause: true,
        // The engine parses the changes as Dockerfile lines.
        changes: (!changes.is_empty()).then(|| changes.join("\n")),
        ..Default::default()
    };
    let config = ContainerConfig {
        labels: Some(to_hash(labels)),
        ..Default::default()
    };
    let id = docker
        .commit_container(options, config)
        .await
        .map_err(|e| engine("commit", container, e))?;
    Ok(id.id)
}

pub(crate) async fn kill(docker: &Docker, container: &str) -> Result<(), DockerError> {
    let options = KillContainerOptions {
        signal: "SIGKILL".to_string(),
    };
    match docker.kill_container(container, Some(options)).await {
        Ok(()) => Ok(()),
        // 409: not running.
        Err(e) if is_status(&e, &[304, 409]) => Ok(()),
        Err(e) => Err(engine("kill", container, e)),
    }
}

pub(crate) async fn remove(
    docker: &Docker,
    container: &str,
    force: bool,
) -> Result<(), DockerError> {
    let options = RemoveContainerOptions {
        force,
        v: true,
        ..Default::default()
    };
    match docker.remove_container(container, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_status(&e, &[404]) => Ok(()),
        Err(e) => Err(engine("remove container", container, e)),
    }
}
