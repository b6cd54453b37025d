//! Formation and dyno sizes through the API, in-process (real store, fake engine): scaling
//! and resizing in every form clients send, the reconciler starting and stopping dynos to
//! match (a resize replaces the dynos with ones of the new limits), and bad input that
//! changes nothing.

mod common;
mod release_world;

use axum::http::StatusCode;
use release_world::{types, world, World};
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;

/// (type, quantity, size) of each entry of the formation.
async fn formation(w: &World) -> anyhow::Result<Vec<(String, i64, String)>> {
    let (status, body) = w
        .call("GET", "/apps/shop-staging/formation", None, None)
        .await?;
    anyhow::ensure!(status == StatusCode::OK, "{body}");
    Ok(body
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["type"].as_str().unwrap_or_default().to_string(),
                f["quantity"].as_i64().unwrap_or(-1),
                f["size"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

fn entry(t: &str, q: i64, s: &str) -> (String, i64, String) {
    (t.to_string(), q, s.to_string())
}

#[tokio::test]
async fn scaling_and_resizing_change_the_dynos() -> anyhow::Result<()> {
    let w = world().await?;
    let (_, empty) = w
        .call("GET", "/apps/shop-staging/formation", None, None)
        .await?;
    assert_eq!(empty, json!([]), "no release, no process types");
    w.deploy(
        "shop-staging",
        "sha256:one",
        types(&[("web", "python app.py"), ("worker", "python worker.py")]),
    )
    .await?;
    assert_eq!(
        formation(&w).await?,
        [
            entry("web", 1, "standard-1X"),
            entry("worker", 0, "standard-1X")
        ]
    );
    let (_, web) = w
        .call("GET", "/apps/shop-staging/formation/web", None, None)
        .await?;
    assert_eq!(web["command"], "python app.py");
    assert_eq!(web["dyno_size"]["name"], "standard-1X");
    assert_eq!(web["app"]["name"], "shop-staging");
    let (_, by_id) = w
        .call(
            "GET",
            &format!(
                "/apps/shop-staging/formation/{}",
                web["id"].as_str().unwrap_or("x")
            ),
            None,
            None,
        )
        .await?;
    assert_eq!(by_id["type"], "web");

    // The official CLI: `ps:scale web=2 worker+1:standard-2x` (string quantities, relative).
    let (status, body) = w
        .call(
            "PATCH",
            "/apps/shop-staging/formation",
            Some(json!({"updates": [
                {"quantity": "2", "type": "web"},
                {"quantity": "+1", "size": "standard-2x", "type": "worker"}
            ]})),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    assert_eq!(
        body[1]["size"], "standard-2X",
        "sizes are named as the catalog spells them"
    );
    let dynos = w.dynos("shop-staging");
    let names: Vec<&str> = dynos.keys().map(String::as_str).collect();
    assert_eq!(names, ["web.1", "web.2", "worker.1"]);
    assert_eq!(dynos["worker.1"].spec.limits.memory, Some(1024 * MIB));
    assert_eq!(dynos["web.2"].spec.limits.memory, Some(512 * MIB));
    assert_eq!(
        dynos["worker.1"]
            .spec
            .labels
            .get("doppel.size")
            .map(String::as_str),
        Some("standard-2X")
    );

    // heroku3: integers, the single-type PATCH, `dyno_size` by name in another case.
    let (status, body) = w
        .call(
            "PATCH",
            "/apps/shop-staging/formation/web",
            Some(json!({"quantity": 1})),
            None,
        )
        .await?;
    assert_eq!(
        (status, body["quantity"].clone()),
        (StatusCode::OK, json!(1))
    );
    let web1 = w.dynos("shop-staging")["web.1"].clone();
    let (status, body) = w
        .call(
            "PATCH",
            "/apps/shop-staging/formation/web",
            Some(json!({"dyno_size": {"name": "Performance-M"}})),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["size"], "performance-M");
    let dynos = w.dynos("shop-staging");
    assert_eq!(
        dynos.keys().map(String::as_str).collect::<Vec<_>>(),
        ["web.1", "worker.1"]
    );
    assert_eq!(
        dynos["web.1"].spec.limits.memory,
        Some(2560 * MIB),
        "a resize replaces the dyno"
    );
    assert_ne!(dynos["web.1"].spec.name, web1.spec.name);
    // By size id too, in a batch.
    let small = json!({"updates": [{"type": "web", "dyno_size": {"id": "00000000-0000-4000-8000-0000000d50ba"}}]});
    let (status, _) = w
        .call("PATCH", "/apps/shop-staging/formation", Some(small), None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        w.dynos("shop-staging")["web.1"].spec.limits.memory,
        Some(512 * MIB)
    );

    // Scaling to zero stops the type.
    let (status, _) = w
        .call(
            "PATCH",
            "/apps/shop-staging/formation",
            Some(json!({"updates": [{"type": "worker", "quantity": 0}]})),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        w.dynos("shop-staging")
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["web.1"]
    );
    assert_eq!(
        formation(&w).await?,
        [entry("web", 1, "basic"), entry("worker", 0, "standard-2X")]
    );
    // Production was never touched.
    assert!(w.dynos("shop").is_empty());

    let events = w.audit().await?;
    let scaled: Vec<Value> = events
        .iter()
        .filter(|e| e.action == "formation.scale")
        .filter_map(|e| serde_json::from_str(&e.details).ok())
        .collect();
    assert_eq!(scaled.len(), 3, "{scaled:?}");
    assert_eq!(
        scaled[2],
        json!({"changes": [{"type": "web", "quantity": 2}, {"type": "worker", "quantity": 1}]})
    );
    let resized = events
        .iter()
        .filter(|e| e.action == "formation.resize")
        .count();
    assert_eq!(resized, 3);
    Ok(())
}

#[tokio::test]
async fn bad_formation_input_changes_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    w.deploy(
        "shop-staging",
        "sha256:one",
        types(&[("web", "python app.py"), ("worker", "w")]),
    )
    .await?;
    let before = formation(&w).await?;
    let dynos_before: Vec<String> = w.dynos("shop-staging").keys().cloned().collect();
    let path = "/apps/shop-staging/formation";
    let (status, _, body) = w
        .request("PATCH", path, Some("{\"updates\": ["), &[])
        .await?;
    assert_eq!(
        (status, body["id"].clone()),
        (StatusCode::BAD_REQUEST, json!("bad_request"))
    );
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            path,
            json!({"updates": [{"type": "web", "quantity": -1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "from 0 to 100",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "quantity": "101"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "from 0 to 100",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "quantity": "-2"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "-1 dynos",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "quantity": "two"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a whole number",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "quantity": 1.5}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "whole number",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "size": "huge"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "standard-1X",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "dyno_size": {"id": "nope"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no dyno size",
        ),
        (
            path,
            json!({"updates": [{"type": "clock", "quantity": 1}]}),
            StatusCode::NOT_FOUND,
            "Couldn't find that process type",
        ),
        (
            path,
            json!({"updates": [{"quantity": 1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "names its process type",
        ),
        (
            path,
            json!({"updates": [{"type": "web"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "changes nothing",
        ),
        (
            path,
            json!({"updates": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least one",
        ),
        (
            path,
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong shape",
        ),
        // A good change next to a bad one is not applied either.
        (
            path,
            json!({"updates": [{"type": "web", "quantity": 3}, {"type": "worker", "quantity": 500}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "500",
        ),
        (
            path,
            json!({"updates": [{"type": "web", "quantity": 3}, {"type": "nope", "quantity": 1}]}),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            "/apps/shop-staging/formation/clock",
            json!({"quantity": 1}),
            StatusCode::NOT_FOUND,
            "process type",
        ),
        (
            "/apps/shop-staging/formation/web",
            json!({"size": "Standard-9X"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no dyno size",
        ),
    ];
    for (p, bad, want, why) in cases {
        let (status, body) = w.call("PATCH", p, Some(bad.clone()), None).await?;
        assert_eq!(status, want, "{bad}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{bad}: {message}");
    }
    assert_eq!(formation(&w).await?, before);
    assert_eq!(
        w.dynos("shop-staging").keys().cloned().collect::<Vec<_>>(),
        dynos_before
    );
    assert!(w
        .audit()
        .await?
        .iter()
        .all(|e| !e.action.starts_with("formation.")));
    let (status, _) = w
        .call("GET", "/apps/shop-staging/formation/clock", None, None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn dyno_sizes_by_id_or_name() -> anyhow::Result<()> {
    let w = world().await?;
    let (status, sizes) = w.call("GET", "/dyno-sizes", None, None).await?;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = sizes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "eco",
            "basic",
            "standard-1X",
            "standard-2X",
            "performance-M",
            "performance-L"
        ]
    );
    let std2 = &sizes[3];
    assert_eq!(std2["memory"], 1.0);
    assert_eq!(std2["doppel"]["memory_mb"], 1024);
    for key in [
        "architecture",
        "compute",
        "cost",
        "dedicated",
        "generation",
        "id",
        "precise_dyno_units",
        "private_space_only",
    ] {
        assert!(std2.get(key).is_some(), "{key} missing: {std2}");
    }
    let (status, one) = w.call("GET", "/dyno-sizes/STANDARD-2x", None, None).await?;
    assert_eq!(
        (status, one["name"].clone()),
        (StatusCode::OK, json!("standard-2X"))
    );
    let (_, by_id) = w
        .call(
            "GET",
            &format!("/dyno-sizes/{}", one["id"].as_str().unwrap_or("x")),
            None,
            None,
        )
        .await?;
    assert_eq!(by_id["name"], "standard-2X");
    let (status, body) = w.call("GET", "/dyno-sizes/huge", None, None).await?;
    assert_eq!(
        (status, body["id"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (status, avail) = w
        .call("GET", "/apps/shop/available-dyno-sizes", None, None)
        .await?;
    assert_eq!(
        (status, avail.as_array().map(Vec::len)),
        (StatusCode::OK, Some(6))
    );
    let (status, _) = w
        .call("GET", "/apps/nope/available-dyno-sizes", None, None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.api.call("GET", "/dyno-sizes", None, None).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}
