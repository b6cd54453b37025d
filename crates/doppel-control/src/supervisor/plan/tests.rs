//! The planner's rules, one situation each.

use super::*;
use crate::supervisor::table::DynoInfo;

const NOW: i64 = 1_800_000_000;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW + secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn wanted(name: &str) -> WantedDyno {
    let (t, i) = name.split_once('.').unwrap_or((name, "1"));
    WantedDyno {
        process_type: t.into(),
        index: i.parse().unwrap_or(1),
        size: "standard-1X".into(),
    }
}

fn dyno(id: &str, name: &str, release: &str, running: bool) -> Observed {
    Observed {
        id: id.into(),
        role: Role::Dyno,
        env_id: "env".into(),
        dyno: name.into(),
        release_id: release.into(),
        size: Some("standard-1X".into()),
        restarts: 0,
        running,
        exit_code: (!running).then_some(1),
        created: NOW - 60,
        expires: None,
        attached: false,
        ip: None,
        health: None,
        networks: Vec::new(),
        command: None,
    }
}

fn table(entries: &[(&str, Phase, i64)]) -> Snapshot {
    let mut t = Snapshot::default();
    for (id, phase, since) in entries {
        t.dynos.insert(
            id.to_string(),
            DynoInfo {
                phase: *phase,
                since: at(*since),
            },
        );
    }
    t
}

fn run(release: Option<&str>, w: &[WantedDyno], c: &[Observed], t: &Snapshot) -> Plan {
    plan(&Inputs {
        release,
        wanted: w,
        containers: c,
        table: t,
        now: at(0),
    })
}

fn start(name: &str, restarts: u32) -> Action {
    Action::Start {
        dyno: wanted(name),
        restarts,
    }
}

#[test]
fn backoff_is_immediate_then_doubles_to_twenty_minutes() {
    assert_eq!(backoff(0), Duration::ZERO);
    assert_eq!(backoff(1), Duration::seconds(5));
    assert_eq!(backoff(2), Duration::seconds(10));
    assert_eq!(backoff(9), Duration::seconds(1200));
    assert_eq!(backoff(40), MAX_BACKOFF);
}

#[test]
fn missing_dynos_start_and_up_ones_are_left_alone() {
    let w = [wanted("web.1"), wanted("web.2"), wanted("worker.1")];
    let c = [dyno("a", "web.1", "r2", true)];
    let t = table(&[("a", Phase::Up, -30)]);
    let p = run(Some("r2"), &w, &c, &t);
    assert_eq!(p.actions, [start("web.2", 0), start("worker.1", 0)]);
    assert!(p.converged);
}

#[test]
fn old_web_dynos_serve_until_the_new_ones_are_up() {
    let w = [wanted("web.1")];
    let mut c = vec![
        dyno("old", "web.1", "r1", true),
        dyno("new", "web.1", "r2", true),
    ];
    let booting = table(&[("old", Phase::Up, -100), ("new", Phase::Starting, -1)]);
    let p = run(Some("r2"), &w, &c, &booting);
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert!(!p.converged);
    let up = table(&[("old", Phase::Up, -100), ("new", Phase::Up, -1)]);
    assert_eq!(
        run(Some("r2"), &w, &c, &up).actions,
        [Action::Retire("old".into())]
    );
    // Once the old one is gone, the environment has converged.
    c.remove(0);
    assert!(run(Some("r2"), &w, &c, &up).converged);
}

#[test]
fn a_new_web_dyno_starts_alongside_but_a_worker_only_after_the_old_one_stops() {
    let w = [wanted("web.1"), wanted("worker.1")];
    let c = [
        dyno("oldweb", "web.1", "r1", true),
        dyno("oldwork", "worker.1", "r1", true),
    ];
    let t = table(&[("oldweb", Phase::Up, -100), ("oldwork", Phase::Up, -100)]);
    let p = run(Some("r2"), &w, &c, &t);
    assert_eq!(
        p.actions,
        [start("web.1", 0), Action::Retire("oldwork".into())]
    );
}

#[test]
fn a_crash_restarts_at_once_and_a_second_waits_its_backoff() {
    let w = [wanted("web.1")];
    let mut crashed = dyno("c", "web.1", "r1", false);
    // Not yet known as crashed: recorded first.
    let p = run(Some("r1"), &w, std::slice::from_ref(&crashed), &table(&[]));
    assert_eq!(p.actions, [Action::MarkCrashed("c".into())]);
    // Known, but its output is not read to the end yet: wait.
    let mut t = table(&[("c", Phase::Crashed, 0)]);
    assert!(run(Some("r1"), &w, std::slice::from_ref(&crashed), &t)
        .actions
        .is_empty());
    t.followed.insert("c".into());
    let p = run(Some("r1"), &w, std::slice::from_ref(&crashed), &t);
    assert_eq!(p.actions, [Action::Remove("c".into()), start("web.1", 1)]);
    // The restarted one crashes too, one second later: 5 s of back-off.
    crashed.restarts = 1;
    crashed.created = NOW - 1;
    let p = run(Some("r1"), &w, std::slice::from_ref(&crashed), &t);
    assert!(p.actions.is_empty());
    assert_eq!(p.wake_at, Some(at(5)));
}

#[test]
fn a_dyno_that_ran_long_before_crashing_restarts_at_once() {
    let w = [wanted("web.1")];
    let mut c = dyno("c", "web.1", "r1", false);
    c.restarts = 6;
    c.created = NOW - 3600;
    let mut t = table(&[("c", Phase::Crashed, 0)]);
    t.followed.insert("c".into());
    let p = run(Some("r1"), &w, &[c], &t);
    assert_eq!(p.actions, [Action::Remove("c".into()), start("web.1", 1)]);
}

#[test]
fn scaling_down_and_resizing_retire_what_is_not_wanted() {
    let mut w = [wanted("web.1")];
    let c = [
        dyno("a", "web.1", "r1", true),
        dyno("b", "web.2", "r1", true),
    ];
    let t = table(&[("a", Phase::Up, -5), ("b", Phase::Up, -5)]);
    let p = run(Some("r1"), &w, &c, &t);
    assert_eq!(p.actions, [Action::Retire("b".into())]);
    // A resize: a new one of the new size first, the old one retired once it is up.
    w[0].size = "standard-2X".into();
    let p = run(Some("r1"), &w, &c[..1], &t);
    assert_eq!(
        p.actions,
        [Action::Start {
            dyno: w[0].clone(),
            restarts: 0
        }]
    );
}

#[test]
fn restart_leftovers_and_busy_containers() {
    let w = [wanted("web.1")];
    let mut newer = dyno("new", "web.1", "r1", true);
    newer.created = NOW - 1;
    let c = [dyno("old", "web.1", "r1", true), newer];
    let t = table(&[("old", Phase::Up, -60), ("new", Phase::Up, -1)]);
    assert_eq!(
        run(Some("r1"), &w, &c, &t).actions,
        [Action::Retire("old".into())]
    );
    let mut busy = t.clone();
    busy.busy.insert("old".into());
    assert!(run(Some("r1"), &w, &c, &busy).actions.is_empty());
}

#[test]
fn after_a_restart_of_doppel_running_dynos_are_adopted() {
    let w = [wanted("web.1")];
    let c = [dyno("a", "web.1", "r1", true)];
    assert_eq!(
        run(Some("r1"), &w, &c, &table(&[])).actions,
        [Action::Adopt("a".into())]
    );
}

#[test]
fn one_offs_run_until_done_or_expired_and_release_phases_are_stopped() {
    let mut one = dyno("run", "run.1234", "r1", true);
    one.role = Role::Run;
    one.expires = Some(NOW + 10);
    let mut expired = one.clone();
    expired.id = "exp".into();
    expired.expires = Some(NOW - 1);
    let mut done = one.clone();
    done.id = "done".into();
    done.running = false;
    done.exit_code = Some(0);
    let mut never = done.clone();
    never.id = "never".into();
    never.exit_code = None;
    never.created = NOW - 600;
    let mut phase = dyno("rel", "release.1", "r1", true);
    phase.role = Role::Release;
    let mut t = table(&[("run", Phase::Up, -1)]);
    t.followed.insert("done".into());
    let p = run(None, &[], &[one, expired, done, never, phase], &t);
    assert_eq!(
        p.actions,
        [
            Action::Kill("exp".into()),
            Action::Remove("done".into()),
            Action::Remove("never".into()),
            Action::Kill("rel".into()),
        ]
    );
}

#[test]
fn without_a_release_every_dyno_goes() {
    let c = [dyno("a", "web.1", "r1", true)];
    let p = run(None, &[wanted("web.1")], &c, &table(&[("a", Phase::Up, 0)]));
    assert_eq!(p.actions, [Action::Retire("a".into())]);
}
