//! Live progress while something rolls out: a change that makes a release (`config:set`,
//! `config:unset`, `rollback`) is followed to its end: "Setting FOO and restarting
//! myapp-staging... done, v7", with the release's output stream (`output_stream_url`)
//! shown while it runs when the server offers one; and dynos being scaled or restarted
//! are watched until they are up.

use crate::client::{Client, ROLLOUT_TIMEOUT};
use crate::context::Context;
use crate::error::CliError;
use doppel_api_types::dynos::Dyno;
use doppel_api_types::releases::Release;
use doppel_types::EnvName;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How often the release list and dynos are looked at.
const POLL: Duration = Duration::from_millis(700);
/// How long the dynos of a scale or restart are watched before the command gives up
/// waiting (and says where to look).
const DYNO_WAIT: Duration = Duration::from_secs(120);
/// How long a release that never appears is waited for after the call that makes it.
const APPEAR_WAIT: Duration = Duration::from_secs(3);

/// The newest release of `env`, if it has any.
pub async fn latest_release(client: &Client, env: &EnvName) -> Result<Option<Release>, CliError> {
    let list: Vec<Release> = client
        .get_range(
            &format!("/apps/{env}/releases"),
            "version ..; order=desc,max=1",
        )
        .await?;
    Ok(list.into_iter().max_by_key(|r| r.version))
}

/// What is known of the release a change made, and its output stream.
struct Watch {
    client: Client,
    env: EnvName,
    before: Option<i64>,
    release: Option<Release>,
    stream: Option<JoinHandle<()>>,
    tx: Option<mpsc::Sender<String>>,
    /// Output lines were shown, so the label is repeated before the verdict.
    streamed: bool,
}

impl Watch {
    /// Looks for the release newer than `before`; starts streaming its output once it has a
    /// stream. Errors are left for the next look (the change itself reports real ones).
    async fn poll(&mut self) {
        let Ok(Some(latest)) = latest_release(&self.client, &self.env).await else {
            return;
        };
        if self.before.is_some_and(|b| latest.version <= b) {
            return;
        }
        if self.stream.is_none() {
            if let (Some(url), Some(tx)) = (&latest.output_stream_url, &self.tx) {
                self.stream = Some(tokio::spawn(stream(
                    self.client.clone(),
                    url.clone(),
                    tx.clone(),
                )));
            }
        }
        self.release = Some(latest);
    }

    fn pending(&self) -> bool {
        self.release.as_ref().is_some_and(|r| r.status == "pending")
    }

    /// Shows one line of the release's output under the label.
    fn show(&mut self, ctx: &mut Context, line: &str) -> Result<(), CliError> {
        if !self.streamed {
            ctx.note("\n")?;
            self.streamed = true;
        }
        ctx.note(&format!("{line}\n"))
    }
}

/// Follows an output stream, retrying while it does not exist yet (404), for as long as
/// the release could be rolling out.
async fn stream(client: Client, url: String, tx: mpsc::Sender<String>) {
    let started = Instant::now();
    while started.elapsed() < ROLLOUT_TIMEOUT {
        match client.stream_lines(&url, tx.clone()).await {
            Ok(true) | Err(_) => return,
            Ok(false) => tokio::time::sleep(POLL).await,
        }
    }
}

/// Runs `change`, a call that makes a release of `env`, printing `label... ` before and
/// `done, vN` after the release it made has rolled out (`failed, vN` and an error when it
/// did not). Returns the call's answer and that release (`None` when none appeared).
pub async fn follow_release<T, F>(
    ctx: &mut Context,
    client: &Client,
    env: &EnvName,
    label: &str,
    change: F,
) -> Result<(T, Option<Release>), CliError>
where
    F: Future<Output = Result<T, CliError>>,
{
    let before = latest_release(client, env).await?.map(|r| r.version);
    ctx.note(&format!("{label}... "))?;
    let (tx, mut rx) = mpsc::channel::<String>(256);
    let mut watch = Watch {
        client: client.clone(),
        env: env.clone(),
        before,
        release: None,
        stream: None,
        tx: Some(tx),
        streamed: false,
    };
    tokio::pin!(change);
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outcome = loop {
        tokio::select! {
            res = &mut change => break res,
            Some(line) = rx.recv() => watch.show(ctx, &line)?,
            _ = tick.tick() => watch.poll().await,
        }
    };
    let value = match outcome {
        Ok(value) => value,
        Err(e) => {
            if let Some(task) = watch.stream.take() {
                task.abort();
            }
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    finish(ctx, &mut watch, &mut rx).await?;
    let release = watch.release.clone();
    verdict(ctx, &watch, label)?;
    Ok((value, release))
}

/// After the change answered: waits for its release to appear and leave `pending`,
/// showing output as it comes, then lets the stream end.
async fn finish(
    ctx: &mut Context,
    watch: &mut Watch,
    rx: &mut mpsc::Receiver<String>,
) -> Result<(), CliError> {
    let started = Instant::now();
    watch.poll().await;
    while (watch.release.is_none() && started.elapsed() < APPEAR_WAIT)
        || (watch.pending() && started.elapsed() < ROLLOUT_TIMEOUT)
    {
        tokio::select! {
            Some(line) = rx.recv() => watch.show(ctx, &line)?,
            _ = tokio::time::sleep(POLL) => watch.poll().await,
        }
    }
    // The stream ends with the release; give it a moment to deliver its last lines.
    watch.tx = None;
    if let Some(task) = watch.stream.take() {
        let deadline = tokio::time::sleep(Duration::from_secs(3));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                line = rx.recv() => match line {
                    Some(line) => watch.show(ctx, &line)?,
                    None => break,
                },
                _ = &mut deadline => break,
            }
        }
        task.abort();
    }
    while let Ok(line) = rx.try_recv() {
        watch.show(ctx, &line)?;
    }
    Ok(())
}

/// `done, v7` / `failed, v7` (an error) / `done` (no release seen).
fn verdict(ctx: &mut Context, watch: &Watch, label: &str) -> Result<(), CliError> {
    if watch.streamed {
        ctx.note(&format!("{label}... "))?;
    }
    match &watch.release {
        None => ctx.note("done\n"),
        Some(r) if r.status == "succeeded" => ctx.note(&format!("done, v{}\n", r.version)),
        Some(r) if r.status == "pending" => ctx.note(&format!(
            "still rolling out, v{} (`doppel releases -a {}` shows when it is done)\n",
            r.version, watch.env
        )),
        Some(r) => {
            ctx.note(&format!("{}, v{}\n", r.status, r.version))?;
            Err(CliError::ReleaseFailed {
                env: watch.env.to_string(),
                version: r.version,
                status: r.status.clone(),
            })
        }
    }
}

/// The dynos of `env` whose type is a key of `expected`, by type.
async fn dynos_by_type(
    client: &Client,
    env: &EnvName,
    expected: &BTreeMap<String, i64>,
) -> Result<BTreeMap<String, Vec<Dyno>>, CliError> {
    let dynos: Vec<Dyno> = client.get(&format!("/apps/{env}/dynos")).await?;
    let mut by_type: BTreeMap<String, Vec<Dyno>> = BTreeMap::new();
    for d in dynos {
        if expected.contains_key(&d.process_type) {
            by_type.entry(d.process_type.clone()).or_default().push(d);
        }
    }
    Ok(by_type)
}

/// What the dynos of each type are doing, or `None` once each type runs its expected
/// number, all up. A crashed dyno is an error.
fn dyno_progress(
    env: &EnvName,
    expected: &BTreeMap<String, i64>,
    by_type: &BTreeMap<String, Vec<Dyno>>,
) -> Result<Option<String>, CliError> {
    let mut waiting = Vec::new();
    for (kind, want) in expected {
        let dynos = by_type.get(kind).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(crashed) = dynos.iter().find(|d| d.state == "crashed") {
            return Err(CliError::DynoCrashed {
                env: env.to_string(),
                dyno: crashed.name.clone(),
            });
        }
        let live: Vec<&Dyno> = dynos
            .iter()
            .filter(|d| d.state == "up" || d.state == "starting")
            .collect();
        let up = live.iter().filter(|d| d.state == "up").count();
        let want = usize::try_from(*want).unwrap_or(0);
        if live.len() != want || up != want {
            waiting.push(format!("{kind} {up}/{want} up"));
        }
    }
    Ok(if waiting.is_empty() {
        None
    } else {
        Some(waiting.join(", "))
    })
}

/// Waits until none of the dynos in `old` (container ids) is listed any more: a restart
/// replaces them one at a time behind the server's answer.
pub async fn wait_until_replaced(
    ctx: &mut Context,
    client: &Client,
    env: &EnvName,
    old: &[String],
) -> Result<(), CliError> {
    if old.is_empty() {
        return Ok(());
    }
    ctx.note(&format!("Replacing {} dynos of {env}... ", old.len()))?;
    let started = Instant::now();
    loop {
        let dynos: Vec<Dyno> = client.get(&format!("/apps/{env}/dynos")).await?;
        let left = dynos.iter().filter(|d| old.contains(&d.id)).count();
        if left == 0 {
            return ctx.note("done\n");
        }
        if started.elapsed() >= DYNO_WAIT {
            return ctx.note(&format!(
                "{left} not replaced after {}s. `doppel ps -a {env}` shows them.\n",
                DYNO_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Watches `env`'s dynos until each type in `expected` runs that many dynos, all up.
/// A server without the dynos list is not watched; a dyno that crashes is an error; one
/// still starting after a while is reported, not failed.
pub async fn wait_for_dynos(
    ctx: &mut Context,
    client: &Client,
    env: &EnvName,
    expected: &BTreeMap<String, i64>,
) -> Result<(), CliError> {
    if expected.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = expected.keys().map(String::as_str).collect();
    ctx.note(&format!(
        "Waiting for {} dynos of {env}... ",
        kinds.join(", ")
    ))?;
    let started = Instant::now();
    loop {
        let by_type = match dynos_by_type(client, env, expected).await {
            Ok(by_type) => by_type,
            Err(e) if e.is_not_found() => return ctx.note("(the server does not list dynos)\n"),
            Err(e) => {
                ctx.note("!\n")?;
                return Err(e);
            }
        };
        let progress = match dyno_progress(env, expected, &by_type) {
            Ok(p) => p,
            Err(e) => {
                ctx.note("crashed\n")?;
                return Err(e);
            }
        };
        match progress {
            None => {
                let total: i64 = expected.values().sum();
                return ctx.note(&format!("done, {total} up\n"));
            }
            Some(state) if started.elapsed() >= DYNO_WAIT => {
                return ctx.note(&format!(
                    "still starting after {}s ({state}). `doppel ps -a {env}` shows them.\n",
                    DYNO_WAIT.as_secs()
                ));
            }
            Some(_) => tokio::time::sleep(POLL).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_api_types::dynos::DynoRelease;
    use doppel_api_types::NamedRef;

    fn dyno(name: &str, state: &str) -> Dyno {
        Dyno {
            id: name.into(),
            name: name.into(),
            process_type: name.split('.').next().unwrap_or("web").into(),
            command: "x".into(),
            state: state.into(),
            size: "Basic".into(),
            attach_url: None,
            release: DynoRelease::default(),
            app: NamedRef::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn dyno_progress_counts_live_dynos() -> Result<(), Box<dyn std::error::Error>> {
        let env = EnvName::parse("myapp-staging")?;
        let expected: BTreeMap<String, i64> = [("web".to_string(), 2)].into();
        let mut by_type = BTreeMap::new();
        by_type.insert(
            "web".to_string(),
            vec![dyno("web.1", "up"), dyno("web.2", "starting")],
        );
        assert_eq!(
            dyno_progress(&env, &expected, &by_type)?,
            Some("web 1/2 up".into())
        );
        by_type.insert(
            "web".to_string(),
            vec![
                dyno("web.1", "up"),
                dyno("web.2", "up"),
                dyno("web.3", "down"),
            ],
        );
        assert_eq!(dyno_progress(&env, &expected, &by_type)?, None);
        let none: BTreeMap<String, i64> = [("worker".to_string(), 0)].into();
        assert_eq!(dyno_progress(&env, &none, &BTreeMap::new())?, None);
        by_type.insert("web".to_string(), vec![dyno("web.1", "crashed")]);
        let err = dyno_progress(&env, &expected, &by_type).err();
        assert!(matches!(err, Some(CliError::DynoCrashed { dyno, .. }) if dyno == "web.1"));
        Ok(())
    }
}
