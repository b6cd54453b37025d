//! Pushes with the real git client: create, fast-forward, force, delete, empty and thin packs,
//! large pushes, handler output and rejection, concurrency.
#![allow(clippy::unwrap_used)]

mod common;

use common::{noise, text, Client, Server};
use doppel_git::ZERO_OID;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_push_fast_forward_and_archive() {
    let srv = Server::start().await;
    let c = Client::new().await;
    let c1 = c.commit("Procfile", b"web: ./run\n", "one").await;
    let out = c.ok(&["push", &srv.url("app"), "main"]).await;
    assert!(text(&out).contains("[new branch]"), "{}", text(&out));
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(c1.as_str())
    );

    let pushes = srv.handler.pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].repo, "app");
    assert_eq!(pushes[0].pusher.as_deref(), Some("tester"));
    assert_eq!(pushes[0].updates[0].old, ZERO_OID);
    assert_eq!(pushes[0].updates[0].new, c1);
    assert_eq!(pushes[0].updates[0].refname, "refs/heads/main");
    assert_eq!(pushes[0].archived[0], vec!["Procfile".to_owned()]);

    // Fast-forward with a modified large-ish file: git sends a thin pack with a delta.
    let base: Vec<u8> = (0..4000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    let c2 = c.commit("data.txt", &base, "two").await;
    c.ok(&["push", &srv.url("app"), "main"]).await;
    let mut changed = base.clone();
    changed.extend_from_slice(b"one more line\n");
    let c3 = c.commit("data.txt", &changed, "three").await;
    let out = c.ok(&["push", &srv.url("app"), "main"]).await;
    assert!(
        text(&out).contains(&format!("{}..{}", &c2[..7], &c3[..7])),
        "{}",
        text(&out)
    );
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(c3.as_str())
    );
    let pushes = srv.handler.pushes();
    assert_eq!(pushes.len(), 3);
    assert_eq!(pushes[2].updates[0].old, c2);
    assert!(pushes[2].archived[0].contains(&"data.txt".to_owned()));
    srv.fsck("app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_fast_forward_needs_force() {
    let srv = Server::start().await;
    let c = Client::new().await;
    c.commit("a", b"a", "a").await;
    let c2 = c.commit("b", b"b", "b").await;
    c.ok(&["push", &srv.url("app"), "main"]).await;
    c.ok(&["reset", "-q", "--hard", "HEAD~1"]).await;
    let c3 = c.commit("c", b"c", "c").await;

    let out = c.git(&["push", &srv.url("app"), "main"]).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("rejected"), "{}", text(&out));
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(c2.as_str())
    );

    let out = c.ok(&["push", "--force", &srv.url("app"), "main"]).await;
    assert!(text(&out).contains("forced update"), "{}", text(&out));
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(c3.as_str())
    );
    srv.fsck("app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_branch_at_existing_commit_then_delete() {
    let srv = Server::start().await;
    let c = Client::new().await;
    let c1 = c.commit("a", b"a", "a").await;
    c.ok(&["push", &srv.url("app"), "main"]).await;

    // Same commit under a new name: an empty pack.
    c.ok(&["push", &srv.url("app"), "main:refs/heads/feature"])
        .await;
    assert_eq!(
        srv.server_ref("app", "refs/heads/feature").await.as_deref(),
        Some(c1.as_str())
    );
    let p = srv.handler.pushes();
    assert_eq!(p[1].updates[0].refname, "refs/heads/feature");
    assert!(p[1].updates[0].is_create());

    // Delete: no pack at all; the handler still sees it.
    let out = c.ok(&["push", &srv.url("app"), ":feature"]).await;
    assert!(text(&out).contains("[deleted]"), "{}", text(&out));
    assert_eq!(srv.server_ref("app", "refs/heads/feature").await, None);
    let p = srv.handler.pushes();
    assert_eq!(p.len(), 3);
    assert!(p[2].updates[0].is_delete());
    assert_eq!(p[2].updates[0].old, c1);

    // The handler may refuse deletes (Heroku refuses deleting the deploy branch).
    srv.handler
        .reject_with("!\tPush rejected, cannot delete main branch");
    let out = c.git(&["push", &srv.url("app"), ":main"]).await;
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("remote: !\tPush rejected, cannot delete main branch"),
        "{t}"
    );
    assert!(t.contains("pre-receive hook declined"), "{t}");
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(c1.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_output_and_rejection() {
    let srv = Server::start().await;
    let c = Client::new().await;
    let c1 = c.commit("a", b"a", "a").await;

    // Success with output lines.
    srv.handler
        .say(&["-----> Building on the doppel stack", "       Released v1"]);
    let out = c.ok(&["push", &srv.url("app"), "main"]).await;
    let t = text(&out);
    assert!(
        t.contains("remote: -----> Building on the doppel stack"),
        "{t}"
    );
    assert!(t.contains("remote:        Released v1"), "{t}");

    // Rejection: output, reason, `pre-receive hook declined`, ref and objects unchanged.
    let c2 = c.commit("b", b"b", "b").await;
    srv.handler.say(&["-----> Python app detected"]);
    srv.handler
        .reject_with(" !     Push rejected, failed to compile Python app.");
    let out = c.git(&["push", &srv.url("app"), "main"]).await;
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    println!("{t}");
    assert!(t.contains("remote: -----> Python app detected"), "{t}");
    assert!(
        t.contains("remote:  !     Push rejected, failed to compile Python app."),
        "{t}"
    );
    assert!(
        t.contains("! [remote rejected] main -> main (pre-receive hook declined)"),
        "{t}"
    );
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(c1.as_str())
    );
    // Quarantine: the rejected push's objects were not kept.
    assert!(!srv.has_object("app", &c2).await);
    srv.fsck("app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_first_push_leaves_empty_repo() {
    let srv = Server::start().await;
    let c = Client::new().await;
    let c1 = c.commit("a", b"a", "a").await;
    srv.handler.reject_with("no buildpack");
    let out = c.git(&["push", &srv.url("app"), "main"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("remote: no buildpack"),
        "{}",
        text(&out)
    );
    assert_eq!(srv.server_ref("app", "refs/heads/main").await, None);
    assert!(!srv.has_object("app", &c1).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_larger_than_post_buffer() {
    let srv = Server::start().await;
    let c = Client::new().await;
    c.commit("a", b"a", "a").await;
    let big = c
        .commit("blob.bin", &noise(3 * 1024 * 1024, 7), "big")
        .await;
    let out = c.ok(&["push", &srv.url("app"), "main"]).await;
    assert_eq!(
        srv.server_ref("app", "refs/heads/main").await.as_deref(),
        Some(big.as_str()),
        "{}",
        text(&out)
    );
    // The probe POST did not reach the handler.
    assert_eq!(srv.handler.pushes().len(), 1);
    assert!(srv.handler.pushes()[0].archived[0].contains(&"blob.bin".to_owned()));
    srv.fsck("app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_over_limit_is_rejected_with_reason() {
    let srv = Server::start_with(|s| s.with_max_push_bytes(256 * 1024)).await;
    let c = Client::new().await;
    c.commit("blob.bin", &noise(2 * 1024 * 1024, 9), "big")
        .await;
    let out = c.git(&["push", &srv.url("app"), "main"]).await;
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    println!("{t}");
    assert!(t.contains("exceeds the limit of 262144 bytes"), "{t}");
    assert_eq!(srv.server_ref("app", "refs/heads/main").await, None);
    assert!(srv.handler.pushes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_are_serialized() {
    let srv = Server::start().await;
    let base = Client::new().await;
    base.commit("a", b"a", "a").await;
    base.ok(&["push", &srv.url("app"), "main"]).await;
    *srv.handler.delay_ms.lock().unwrap() = 300;

    let (a, _) = Client::clone_from(&srv.url("app")).await;
    let (b, _) = Client::clone_from(&srv.url("app")).await;
    let ha = a.commit("from-a", &noise(100_000, 1), "a2").await;
    let hb = b.commit("from-b", &noise(100_000, 2), "b2").await;
    let url = srv.url("app");
    let args = ["push", url.as_str(), "main"];
    let (oa, ob) = tokio::join!(a.git(&args), b.git(&args));
    let ok = [oa.status.success(), ob.status.success()];
    assert_eq!(
        ok.iter().filter(|x| **x).count(),
        1,
        "{}\n{}",
        text(&oa),
        text(&ob)
    );
    let head = srv.server_ref("app", "refs/heads/main").await.unwrap();
    assert!(head == ha || head == hb);
    assert_eq!(head, if ok[0] { ha } else { hb });
    // The loser was refused before its build ran: the handler saw the base push and the winner.
    let loser = text(if ok[0] { &ob } else { &oa });
    if loser.contains("concurrent push") {
        assert_eq!(srv.handler.pushes().len(), 2, "{loser}");
    }
    srv.fsck("app").await;
}
