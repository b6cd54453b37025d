//! IP allow-lists end to end: `doppel access:ips` sets an environment's list through the API,
//! the router process answers 403 to a client outside it (this test's client is 127.0.0.1)
//! within a second or so and lets it through once its address is listed, bad networks are
//! refused changing nothing, `-p` sets both environments alike, and parity shows a
//! difference between them as expected.

use anyhow::Result;
use doppel_e2e::{wait_for, Server};
use std::process::Output;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether the router answers `url` with `status` within 15 s.
fn answers(server: &Server, url: &str, status: u16) -> Result<bool> {
    wait_for(15, || Ok(server.get(url, None)?.0 == status))
}

#[test]
fn an_allow_list_keeps_other_clients_out_and_parity_shows_it() -> Result<()> {
    let server = Server::start()?;
    server.create_app("fence")?;
    let production = server.env_url("fence");
    let (open, _) = server.get(&production, None)?;
    assert_ne!(open, 403, "no list yet");

    // A list without this client: 403 from the router, staging untouched (still asks a login).
    let out = server.cli(&["access:ips", "-a", "fence", "10.9.0.0/16", "192.0.2.7"])?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("10.9.0.0/16, 192.0.2.7/32"),
        "{}",
        text(&out)
    );
    assert!(
        answers(&server, &production, 403)?,
        "an unlisted client got through"
    );
    let (staging, _) = server.get(&server.env_url("fence-staging"), None)?;
    assert_eq!(staging, 401);

    // Bad input is refused whole and changes nothing.
    let out = server.cli(&["access:ips", "-a", "fence", "127.0.0.1", "office"])?;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("is not a network"), "{}", text(&out));
    let (status, shown) = server.api("GET", "/apps/fence/allowed-ips", None)?;
    assert_eq!(status, 200);
    assert_eq!(
        shown["networks"],
        serde_json::json!(["10.9.0.0/16", "192.0.2.7/32"])
    );
    assert_eq!(server.get(&production, None)?.0, 403);

    // Parity: the lists differ, an expected difference (not drift).
    let parity = text(&server.cli(&["parity", "-p", "fence"])?);
    assert!(
        parity.contains("IP allow-list 10.9.0.0/16, 192.0.2.7/32"),
        "{parity}"
    );
    assert!(parity.contains("The IP allow-lists differ"), "{parity}");

    // Listing this client lets it through; -p sets both environments alike.
    let out = server.cli(&["access:ips", "-p", "fence", "127.0.0.0/8"])?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        answers(&server, &production, open)?,
        "a listed client was kept out"
    );
    let parity = text(&server.cli(&["parity", "-p", "fence"])?);
    assert!(!parity.contains("The IP allow-lists differ"), "{parity}");

    // Clearing admits everyone again; the audit log has each change with its networks.
    let out = server.cli(&["access:ips", "-a", "fence", "10.9.0.0/16"])?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(answers(&server, &production, 403)?);
    let out = server.cli(&["access:ips", "-a", "fence", "--clear"])?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(answers(&server, &production, open)?);
    let (_, shown) = server.api("GET", "/apps/fence/allowed-ips", None)?;
    assert_eq!(shown["networks"], serde_json::json!([]));
    let audit = text(&server.cli(&["audit", "-p", "fence"])?);
    assert!(
        audit.contains("allowed_ips.set") && audit.contains("allowed_ips.clear"),
        "{audit}"
    );
    Ok(())
}
