//! Session affinity (Heroku's `http-session-affinity`): the router sets a
//! `heroku-session-affinity` cookie and sends the requests carrying it to the same dyno while
//! that dyno is in the route; a cookie naming a dyno that left gets a new one; environments
//! without the feature set no cookie and spread requests over their dynos.

use std::collections::HashSet;

use reqwest::StatusCode;

use crate::harness::{echo_upstream, public, Router};

/// The upstream that answered, and the affinity cookie set (if any).
async fn hit(
    client: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
) -> anyhow::Result<(String, Option<String>)> {
    let mut req = client.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("theme=dark; {c}"));
    }
    let resp = req.send().await?;
    anyhow::ensure!(resp.status() == StatusCode::OK, "status {}", resp.status());
    let set: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("heroku-session-affinity="))
        .map(str::to_string)
        .collect();
    anyhow::ensure!(set.len() <= 1, "{set:?}");
    let body: serde_json::Value = resp.json().await?;
    let upstream = body["upstream"].as_str().unwrap_or_default().to_string();
    Ok((upstream, set.into_iter().next()))
}

#[tokio::test]
async fn requests_stick_to_the_dyno_the_cookie_names() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let (a, b, c) = (
        echo_upstream("a").await?,
        echo_upstream("b").await?,
        echo_upstream("c").await?,
    );
    let mut sticky = public("sticky", vec![a, b, c]);
    sticky.session_affinity = true;
    router.publish(vec![
        ("sticky.localhost", sticky.clone()),
        ("plain.localhost", public("plain", vec![a, b, c])),
    ]);
    let client = router.client(&["sticky.localhost", "plain.localhost"])?;
    let url = router.url("sticky.localhost", "/");

    // A new client gets the cookie, HttpOnly and Secure over HTTPS.
    let (first, set) = hit(&client, &url, None).await?;
    let set = set.ok_or_else(|| anyhow::anyhow!("no affinity cookie"))?;
    assert!(
        set.contains("Path=/") && set.contains("HttpOnly") && set.contains("Secure"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap_or_default().to_string();

    // With it, every request goes to the same dyno, and the cookie is not set again.
    for _ in 0..30 {
        let (upstream, again) = hit(&client, &url, Some(&cookie)).await?;
        assert_eq!(upstream, first);
        assert_eq!(again, None);
    }

    // A cookie that names no dyno of the route: balanced, and a cookie for the dyno chosen.
    let (_, fresh) = hit(
        &client,
        &url,
        Some("heroku-session-affinity=0123456789abcdef"),
    )
    .await?;
    assert!(fresh.is_some());

    // The dyno leaves the route (scaled down, replaced): another serves, with a new cookie
    // that sticks from then on.
    let remaining: Vec<_> = [("a", a), ("b", b), ("c", c)]
        .into_iter()
        .filter(|(name, _)| *name != first)
        .collect();
    let mut smaller = sticky.clone();
    smaller.backends = crate::harness::dynos(remaining.iter().map(|(_, addr)| *addr).collect());
    router.publish(vec![
        ("sticky.localhost", smaller),
        ("plain.localhost", public("plain", vec![a, b, c])),
    ]);
    let (moved, renewed) = hit(&client, &url, Some(&cookie)).await?;
    assert_ne!(moved, first);
    let renewed = renewed.ok_or_else(|| anyhow::anyhow!("no new cookie"))?;
    let renewed = renewed.split(';').next().unwrap_or_default().to_string();
    assert_ne!(renewed, cookie);
    for _ in 0..10 {
        assert_eq!(hit(&client, &url, Some(&renewed)).await?.0, moved);
    }

    // Without the feature: no cookie, and the requests spread over the dynos.
    let plain = router.url("plain.localhost", "/");
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let (upstream, set) = hit(&client, &plain, Some(&cookie)).await?;
        assert_eq!(set, None);
        seen.insert(upstream);
    }
    assert!(seen.len() > 1, "{seen:?}");
    router.stop().await
}
