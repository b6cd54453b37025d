//! The supervisor's decisions for one environment, as a pure function of what it observed:
//! the current release and formation (desired), the containers (actual), and what the dyno
//! table knows. Executing the actions is [`super::execute`]'s job; keeping this pure is what
//! lets every rule be tested without Docker.
//!
//! Rules:
//! - each wanted dyno (`web.1`…) has one running container of the current release and size;
//!   a missing one is started (a web dyno alongside any old one, so the app keeps serving;
//!   another type only once the old one is gone, so singletons never run twice);
//! - a crashed one is restarted after its back-off (at once, then 5 s doubling up to
//!   20 min), once its output was read to the end;
//! - old web dynos (another release or size) are retired once the new ones are up (or none
//!   is booting any more); dynos nobody wants are retired (scale down);
//! - one-off dynos run until they end or their time to live passes; release-phase dynos
//!   outside a rollout are stopped; exited containers are removed once their output is read.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use super::observed::{Observed, Role};
use super::table::{Phase, Snapshot};
use crate::workflows::dynos::WantedDyno;

/// A crashed dyno that had run this long starts its back-off again from zero.
pub const RESET_AFTER: Duration = Duration::minutes(10);
/// The longest back-off (Heroku's: about 20 minutes).
pub const MAX_BACKOFF: Duration = Duration::minutes(20);
/// A one-off dyno created but never started (nobody attached) is removed after this.
pub const UNSTARTED_ONE_OFF: Duration = Duration::minutes(2);

/// How long a dyno that crashed `crashes` times in a row waits before its next start.
pub fn backoff(crashes: u32) -> Duration {
    match crashes {
        0 => Duration::ZERO,
        n => {
            let secs = 5i64.saturating_mul(1i64 << (n - 1).min(20));
            Duration::seconds(secs).min(MAX_BACKOFF)
        }
    }
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start `dyno` of the current release; `restarts` crashes in a row preceded it.
    Start { dyno: WantedDyno, restarts: u32 },
    /// Drain, stop and remove a running container.
    Retire(String),
    /// Remove an exited container.
    Remove(String),
    /// Stop a one-off past its time to live, or a release phase nobody waits for.
    Kill(String),
    /// Record that an exited dyno crashed (its back-off counts from now).
    MarkCrashed(String),
    /// A running container the table does not know (after a restart of doppel): probe a web
    /// dyno before it gets requests; anything else is up.
    Adopt(String),
}

/// What one pass decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// When a back-off ends and the environment needs another look.
    pub wake_at: Option<OffsetDateTime>,
    /// No container of another release, size or dyno name is left (a rollout is done).
    pub converged: bool,
}

/// What the planner reads.
pub struct Inputs<'a> {
    /// The current release's id (`None`: nothing should run).
    pub release: Option<&'a str>,
    pub wanted: &'a [WantedDyno],
    /// The environment's containers.
    pub containers: &'a [Observed],
    pub table: &'a Snapshot,
    pub now: OffsetDateTime,
}

impl Inputs<'_> {
    fn phase(&self, c: &Observed) -> Option<Phase> {
        self.table.dynos.get(&c.id).map(|d| d.phase)
    }

    fn busy(&self, c: &Observed) -> bool {
        self.table.busy.contains(&c.id)
    }

    fn followed(&self, c: &Observed) -> bool {
        c.attached || self.table.followed.contains(&c.id)
    }

    fn fresh(&self, c: &Observed, w: &WantedDyno) -> bool {
        Some(c.release_id.as_str()) == self.release && c.has_size(&w.size)
    }

    /// Running and not on its way out.
    fn live(&self, c: &Observed) -> bool {
        c.running && self.phase(c) != Some(Phase::Stopping)
    }

    fn time(&self, unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap_or(self.now)
    }
}

/// Collects actions without repeating one for the same container.
#[derive(Default)]
struct Builder {
    plan: Plan,
    touched: HashSet<String>,
}

impl Builder {
    fn on(&mut self, id: &str, action: Action) {
        if self.touched.insert(id.to_string()) {
            self.plan.actions.push(action);
        }
    }

    fn wake(&mut self, at: OffsetDateTime) {
        self.plan.wake_at = Some(self.plan.wake_at.map_or(at, |w| w.min(at)));
    }
}

/// Plans one pass for one environment.
pub fn plan(inputs: &Inputs) -> Plan {
    let mut b = Builder::default();
    let mut converged = true;
    let mut web_booting = false;
    let mut web_ready = true;
    for w in inputs.release.map_or(&[][..], |_| inputs.wanted) {
        let outcome = plan_wanted(inputs, w, &mut b);
        if w.process_type == "web" {
            web_ready &= outcome.up;
            web_booting |= outcome.booting;
        }
    }
    let wanted_names: HashSet<String> = match inputs.release {
        Some(_) => inputs.wanted.iter().map(WantedDyno::name).collect(),
        None => HashSet::new(),
    };
    for c in inputs.containers.iter().filter(|c| !inputs.busy(c)) {
        match c.role {
            Role::Dyno => {
                let stale = plan_stale(inputs, c, &wanted_names, web_ready || !web_booting, &mut b);
                converged &= !stale;
            }
            Role::Run => plan_one_off(inputs, c, &mut b),
            Role::Release => {
                if c.running {
                    b.on(&c.id, Action::Kill(c.id.clone()));
                } else if inputs.followed(c) {
                    b.on(&c.id, Action::Remove(c.id.clone()));
                }
            }
        }
    }
    b.plan.converged = converged;
    b.plan
}

/// How one wanted dyno stands after planning it.
struct Wanted {
    /// A fresh container runs for it and is up.
    up: bool,
    /// A fresh web container is booting (or about to).
    booting: bool,
}

fn plan_wanted(inputs: &Inputs, w: &WantedDyno, b: &mut Builder) -> Wanted {
    let name = w.name();
    let same: Vec<&Observed> = inputs
        .containers
        .iter()
        .filter(|c| c.role == Role::Dyno && c.dyno == name)
        .collect();
    let fresh: Vec<&Observed> = same
        .iter()
        .copied()
        .filter(|c| inputs.fresh(c, w))
        .collect();
    let running: Vec<&Observed> = fresh.iter().copied().filter(|c| inputs.live(c)).collect();
    if let Some(newest) = running.iter().max_by_key(|c| (c.created, c.id.clone())) {
        let phase = inputs.phase(newest);
        if phase.is_none() && !inputs.busy(newest) {
            b.on(&newest.id, Action::Adopt(newest.id.clone()));
        }
        let up = phase == Some(Phase::Up);
        if up {
            // A restart's leftovers: older containers of the same dyno.
            for old in running
                .iter()
                .filter(|c| c.id != newest.id && !inputs.busy(c))
            {
                b.on(&old.id, Action::Retire(old.id.clone()));
            }
        }
        for gone in fresh.iter().filter(|c| !c.running && !inputs.busy(c)) {
            if inputs.followed(gone) {
                b.on(&gone.id, Action::Remove(gone.id.clone()));
            }
        }
        return Wanted { up, booting: !up };
    }
    let crashed = fresh
        .iter()
        .copied()
        .filter(|c| !c.running && !inputs.busy(c))
        .max_by_key(|c| (c.created, c.id.clone()));
    if let Some(c) = crashed {
        plan_restart(inputs, w, c, &fresh, b);
        return Wanted {
            up: false,
            booting: false,
        };
    }
    if fresh.iter().any(|c| inputs.busy(c)) {
        // Being started or stopped right now: look again next pass.
        return Wanted {
            up: false,
            booting: true,
        };
    }
    let others: Vec<&Observed> = same
        .iter()
        .copied()
        .filter(|c| c.running && !inputs.fresh(c, w))
        .collect();
    if w.process_type == "web" || others.is_empty() {
        b.plan.actions.push(Action::Start {
            dyno: w.clone(),
            restarts: 0,
        });
    } else {
        for o in others.iter().filter(|c| !inputs.busy(c)) {
            b.on(&o.id, Action::Retire(o.id.clone()));
        }
    }
    Wanted {
        up: false,
        booting: w.process_type == "web",
    }
}

/// A crashed dyno: restart it when its back-off is over (and its output was read).
fn plan_restart(
    inputs: &Inputs,
    w: &WantedDyno,
    crashed: &Observed,
    fresh: &[&Observed],
    b: &mut Builder,
) {
    let Some(info) = inputs
        .table
        .dynos
        .get(&crashed.id)
        .filter(|d| d.phase == Phase::Crashed)
    else {
        b.on(&crashed.id, Action::MarkCrashed(crashed.id.clone()));
        b.wake(inputs.now);
        return;
    };
    if !inputs.followed(crashed) {
        return;
    }
    let ran = info.since - inputs.time(crashed.created);
    let crashes = if ran > RESET_AFTER {
        1
    } else {
        crashed.restarts + 1
    };
    // The first crash restarts at once; then the waits grow.
    let due = info.since + backoff(crashes - 1);
    if due > inputs.now {
        b.wake(due);
        return;
    }
    for gone in fresh.iter().filter(|c| !c.running && !inputs.busy(c)) {
        if inputs.followed(gone) {
            b.on(&gone.id, Action::Remove(gone.id.clone()));
        }
    }
    b.plan.actions.push(Action::Start {
        dyno: w.clone(),
        restarts: crashes,
    });
}

/// A dyno container that is not the fresh one of a wanted dyno. Returns whether it still
/// holds the environment back from having converged.
fn plan_stale(
    inputs: &Inputs,
    c: &Observed,
    wanted: &HashSet<String>,
    retire_old_web: bool,
    b: &mut Builder,
) -> bool {
    let is_wanted = wanted.contains(&c.dyno);
    let fresh = Some(c.release_id.as_str()) == inputs.release
        && inputs
            .wanted
            .iter()
            .find(|w| w.name() == c.dyno)
            .is_some_and(|w| c.has_size(&w.size));
    if is_wanted && fresh {
        return false;
    }
    if !c.running {
        if inputs.followed(c) {
            b.on(&c.id, Action::Remove(c.id.clone()));
        }
        return true;
    }
    if inputs.phase(c) == Some(Phase::Stopping) {
        return true;
    }
    if !is_wanted || !c.is_web() || retire_old_web {
        b.on(&c.id, Action::Retire(c.id.clone()));
    } else if inputs.phase(c).is_none() {
        // An old web dyno found after a restart of doppel keeps serving meanwhile.
        b.on(&c.id, Action::Adopt(c.id.clone()));
    }
    true
}

fn plan_one_off(inputs: &Inputs, c: &Observed, b: &mut Builder) {
    if c.running {
        let expired = c.expires.is_some_and(|e| inputs.time(e) <= inputs.now);
        if expired {
            b.on(&c.id, Action::Kill(c.id.clone()));
        } else if inputs.phase(c).is_none() {
            b.on(&c.id, Action::Adopt(c.id.clone()));
        }
        return;
    }
    let never_started = c.exit_code.is_none();
    if never_started {
        if inputs.time(c.created) + UNSTARTED_ONE_OFF <= inputs.now {
            b.on(&c.id, Action::Remove(c.id.clone()));
        }
        return;
    }
    if inputs.followed(c) {
        b.on(&c.id, Action::Remove(c.id.clone()));
    }
}

#[cfg(test)]
mod tests;
