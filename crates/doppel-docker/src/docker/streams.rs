//! Long-lived streams from the engine: a dyno's timestamped output, container events, and
//! attaching to a container's standard streams.

use std::collections::{HashMap, VecDeque};

use bollard::container::LogOutput;
use bollard::models::EventMessage;
use bollard::query_parameters::{AttachContainerOptions, EventsOptions, LogsOptions};
use bollard::Docker;
use futures_util::StreamExt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::util::engine;
use crate::{
    AttachIo, ContainerAction, ContainerEvent, DockerError, EventStream, LineSplitter, LogLine,
    LogStream,
};

/// The engine's events for containers labelled `label`.
pub(crate) fn events(docker: &Docker, label: &str) -> EventStream {
    let options = EventsOptions {
        filters: Some(HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            ("label".to_string(), vec![label.to_string()]),
        ])),
        ..Default::default()
    };
    let target = label.to_string();
    Box::pin(
        docker
            .events(Some(options))
            .map(move |item| item.map(event).map_err(|e| engine("events", &target, e))),
    )
}

fn event(msg: EventMessage) -> ContainerEvent {
    let action = match msg.action.as_deref().unwrap_or_default() {
        "start" => ContainerAction::Start,
        "die" => ContainerAction::Die,
        "oom" => ContainerAction::Oom,
        "destroy" => ContainerAction::Destroy,
        _ => ContainerAction::Other,
    };
    let actor = msg.actor.unwrap_or_default();
    let mut labels: std::collections::BTreeMap<String, String> =
        actor.attributes.unwrap_or_default().into_iter().collect();
    let exit_code = labels.get("exitCode").and_then(|c| c.parse().ok());
    // Attributes mix the labels with the engine's own keys; drop those that are not labels.
    for key in ["exitCode", "image", "name", "signal", "execDuration"] {
        labels.remove(key);
    }
    ContainerEvent {
        id: actor.id.unwrap_or_default(),
        action,
        labels,
        exit_code,
        time_nanos: msg.time_nano.unwrap_or_default(),
    }
}

/// Attaches to a container's stdin, stdout and stderr (before it starts: nothing is missed,
/// and the log is not replayed, which would repeat what the stream carries).
pub(crate) async fn attach(docker: &Docker, id: &str) -> Result<AttachIo, DockerError> {
    let options = AttachContainerOptions {
        stream: true,
        logs: false,
        stdin: true,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let attached = docker
        .attach_container(id, Some(options))
        .await
        .map_err(|e| engine("attach to", id, e))?;
    let target = id.to_string();
    let output = attached.output.map(move |item| match item {
        Ok(out) => Ok(out.into_bytes()),
        Err(e) => Err(engine("attach to", &target, e)),
    });
    Ok(AttachIo {
        output: Box::pin(output),
        input: attached.input,
    })
}

/// Where a followed log is: lines split per stream, the last timestamp handed out and how
/// many lines carried exactly it (to skip them when the log is read again from that second).
#[derive(Default)]
struct Follow {
    out: LineSplitter,
    err: LineSplitter,
    queue: VecDeque<LogLine>,
    last: Option<OffsetDateTime>,
    at_last: usize,
    done: bool,
}

impl Follow {
    fn push(&mut self, output: LogOutput) {
        let (stderr, bytes) = match output {
            LogOutput::StdErr { message } => (true, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => (false, message),
            LogOutput::StdIn { .. } => return,
        };
        let splitter = if stderr { &mut self.err } else { &mut self.out };
        let lines = match splitter.push(&bytes) {
            Ok(lines) => lines,
            Err(e) => vec![format!("[doppel: {e}; the line was cut]")],
        };
        for raw in lines {
            self.queue.push_back(parse_line(&raw, stderr));
        }
    }

    fn finish(&mut self) {
        for (rest, stderr) in [(self.out.finish(), false), (self.err.finish(), true)] {
            if let Some(raw) = rest {
                self.queue.push_back(parse_line(&raw, stderr));
            }
        }
    }

    /// The next line not handed out before: lines older than the last one handed out are
    /// dropped, and `skip` lines at exactly its time (already handed out by an earlier read).
    fn next_new(&mut self, skip: &mut usize) -> Option<LogLine> {
        while let Some(line) = self.queue.pop_front() {
            match self.last {
                Some(last) if line.time < last => continue,
                Some(last) if line.time == last && *skip > 0 => {
                    *skip -= 1;
                    continue;
                }
                _ => {}
            }
            if self.last == Some(line.time) {
                self.at_last += 1;
            } else {
                self.last = Some(line.time);
                self.at_last = 1;
                *skip = 0;
            }
            return Some(line);
        }
        None
    }
}

/// A line as the engine writes it with `timestamps`: `2026-01-01T12:00:00.123456789Z text`.
fn parse_line(raw: &str, stderr: bool) -> LogLine {
    if let Some((stamp, text)) = raw.split_once(' ') {
        if let Ok(time) = OffsetDateTime::parse(stamp, &Rfc3339) {
            return LogLine {
                time,
                stderr,
                text: text.to_string(),
            };
        }
    }
    LogLine {
        time: OffsetDateTime::now_utc(),
        stderr,
        text: raw.to_string(),
    }
}

fn log_options(follow: bool, since: Option<OffsetDateTime>) -> LogsOptions {
    LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        timestamps: true,
        since: since
            .map(|t| i32::try_from(t.unix_timestamp()).unwrap_or(0))
            .unwrap_or(0),
        tail: "all".to_string(),
        ..Default::default()
    }
}

/// Follows `id`'s output from `since`. When the follow ends (the container exited), the log
/// is read once more from the last second seen, and only lines not yet handed out are added:
/// the engine's follow can end before the last entries are readable.
pub(crate) fn follow_logs(docker: &Docker, id: &str, since: Option<OffsetDateTime>) -> LogStream {
    let name = id.to_string();
    let docker = docker.clone();
    let chunks = docker.logs(id, Some(log_options(true, since)));
    let state = Follow {
        last: since,
        ..Follow::default()
    };
    // Lines at or before `since` were taken by an earlier follower.
    let skip = if since.is_some() { usize::MAX } else { 0 };
    let stream = futures_util::stream::unfold(
        (chunks, state, skip),
        move |(mut chunks, mut st, mut skip)| {
            let name = name.clone();
            let docker = docker.clone();
            async move {
                loop {
                    if let Some(line) = st.next_new(&mut skip) {
                        return Some((Ok(line), (chunks, st, skip)));
                    }
                    if st.done {
                        return None;
                    }
                    match chunks.next().await {
                        Some(Ok(output)) => st.push(output),
                        Some(Err(e)) => {
                            st.done = true;
                            return Some((Err(engine("logs", &name, e)), (chunks, st, skip)));
                        }
                        None => {
                            st.done = true;
                            skip = st.at_last;
                            if !reread(&docker, &name, &mut st).await {
                                st.finish();
                            }
                        }
                    }
                }
            }
        },
    );
    Box::pin(stream)
}

/// Reads the log again (not following) from the last second handed out into `st.queue`;
/// `false` when it could not be read (the container is gone).
async fn reread(docker: &Docker, id: &str, st: &mut Follow) -> bool {
    let mut again = Follow::default();
    let mut chunks = docker.logs(id, Some(log_options(false, st.last)));
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(output) => again.push(output),
            Err(e) => {
                tracing::debug!(container = %id, error = %e, "could not re-read the log's end");
                return false;
            }
        }
    }
    again.finish();
    st.queue.extend(again.queue);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_handed_out_once_by_time() {
        let mut f = Follow::default();
        let t = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        f.push(LogOutput::StdOut {
            message: "2026-01-01T00:00:01.5Z a\n2026-01-01T00:00:02Z b\n2026-01-01T00:00:02Z c\n"
                .into(),
        });
        let mut skip = 0;
        let got: Vec<String> = std::iter::from_fn(|| f.next_new(&mut skip))
            .map(|l| l.text)
            .collect();
        assert_eq!(got, ["a", "b", "c"]);
        assert_eq!(f.last, Some(t("2026-01-01T00:00:02Z")));
        // Read again from that second: the two lines at it are skipped, the new one kept.
        let mut skip = f.at_last;
        f.push(LogOutput::StdOut {
            message: "2026-01-01T00:00:02Z b\n2026-01-01T00:00:02Z c\n2026-01-01T00:00:03Z d\n"
                .into(),
        });
        let got: Vec<String> = std::iter::from_fn(|| f.next_new(&mut skip))
            .map(|l| l.text)
            .collect();
        assert_eq!(got, ["d"]);
        let plain = parse_line("no stamp here", true);
        assert_eq!(plain.text, "no stamp here");
        assert!(plain.stderr);
    }
}
