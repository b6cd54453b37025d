//! Config vars and releases through the API, in-process (real store, fake engine): every
//! config change with a release behind it becomes a new release that is rolled out; a
//! rollback is a new release with an earlier one's image and config; bad input and failed
//! rollouts change nothing; Range on releases.

mod common;
mod release_world;

use axum::http::StatusCode;
use release_world::{types, world};
use serde_json::{json, Value};

const STAGING: &str = "/apps/shop-staging";

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn config_changes_are_releases_that_roll_out() -> anyhow::Result<()> {
    let w = world().await?;
    // Nothing built yet: the change makes v1, a release holding config only (Heroku's
    // clients print the version a config change made); nothing runs.
    let (status, body) = w.patch_config("shop-staging", json!({"A": "1"})).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"A": "1"}));
    let first = w.releases("shop-staging").await?;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].version, 1);
    assert!(!first[0].has_image());
    assert!(w.dynos("shop-staging").is_empty());
    let v1 = w
        .deploy(
            "shop-staging",
            "sha256:one",
            types(&[("web", "python app.py")]),
        )
        .await?;
    assert_eq!(
        v1.version, 2,
        "the first build's release follows the config-only one"
    );
    let first_dyno = w.dynos("shop-staging");
    assert_eq!(
        first_dyno["web.1"].spec.env.get("A").map(String::as_str),
        Some("1")
    );

    // Two keys: one release, v3, Heroku's description; the response is the whole config.
    let (status, body) = w
        .patch_config("shop-staging", json!({"FOO": "bar", "BAZ": "secret-baz"}))
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"A": "1", "BAZ": "secret-baz", "FOO": "bar"}));
    // What `heroku config:set` reads to print "done, v3": the newest release first.
    let (status, headers, newest) = w
        .request(
            "GET",
            "/apps/shop-staging/releases",
            None,
            &[("Range", "version ..; order=desc,max=1")],
        )
        .await?;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{newest}");
    assert_eq!(newest.as_array().map(Vec::len), Some(1));
    assert_eq!(newest[0]["version"], 3);
    assert_eq!(newest[0]["description"], "Set BAZ, FOO config vars");
    assert_eq!(newest[0]["status"], "succeeded");
    assert_eq!(newest[0]["current"], true);
    assert_eq!(
        headers.get("next-range").and_then(|v| v.to_str().ok()),
        Some("version ]3..; max=1; order=desc")
    );
    // The release runs the same image with the new config; v2's dyno is gone.
    let dynos = w.dynos("shop-staging");
    assert_eq!(dynos.len(), 1, "{:?}", dynos.keys());
    let web = &dynos["web.1"];
    assert_eq!(web.spec.image, "sha256:one");
    assert_eq!(web.spec.env.get("FOO").map(String::as_str), Some("bar"));
    assert_eq!(
        web.spec.labels.get("doppel.release"),
        Some(&newest[0]["id"].as_str().unwrap_or_default().to_string())
    );

    // Each release keeps its own snapshot.
    let (_, v3) = w
        .call(
            "GET",
            &format!("{STAGING}/releases/v3/config-vars"),
            None,
            None,
        )
        .await?;
    assert_eq!(keys(&v3), ["A", "BAZ", "FOO"]);
    let (_, v1c) = w
        .call(
            "GET",
            &format!("{STAGING}/releases/{}/config-vars", v1.id),
            None,
            None,
        )
        .await?;
    assert_eq!(v1c, json!({"A": "1"}));
    let (status, _) = w
        .call(
            "GET",
            &format!("{STAGING}/releases/9/config-vars"),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Removing: v4; removing what is absent or setting the same value makes no release.
    let (_, body) = w.patch_config("shop-staging", json!({"FOO": null})).await?;
    assert_eq!(keys(&body), ["A", "BAZ"]);
    let (status, body) = w
        .patch_config("shop-staging", json!({"FOO": null, "A": "1"}))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&body), ["A", "BAZ"]);
    let all = w.releases("shop-staging").await?;
    let descriptions: Vec<&str> = all.iter().map(|r| r.description.as_str()).collect();
    assert_eq!(
        descriptions,
        [
            "Set A config vars",
            "Deploy sha256:one",
            "Set BAZ, FOO config vars",
            "Remove FOO config vars"
        ]
    );
    let (_, shown) = w
        .call("GET", "/apps/shop-staging/config-vars", None, None)
        .await?;
    assert_eq!(shown, json!({"A": "1", "BAZ": "secret-baz"}));
    // Production is another environment with its own config.
    let (_, prod) = w.call("GET", "/apps/shop/config-vars", None, None).await?;
    assert_eq!(prod, json!({}));

    // Audited with keys and versions, never values.
    let events = w.audit().await?;
    let set = events
        .iter()
        .find(|e| e.action == "config.set" && e.details.contains("FOO"));
    let set = set.ok_or_else(|| anyhow::anyhow!("no config.set event: {events:?}"))?;
    assert_eq!(set.env_name.as_deref(), Some("shop-staging"));
    let details: Value = serde_json::from_str(&set.details)?;
    assert_eq!(details, json!({"keys": ["BAZ", "FOO"], "version": 3}));
    assert!(events
        .iter()
        .any(|e| e.action == "config.unset" && e.details.contains("FOO")));
    assert!(events.iter().all(|e| !e.details.contains("secret-baz")));
    Ok(())
}

#[tokio::test]
async fn bad_config_input_changes_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    w.deploy(
        "shop-staging",
        "sha256:one",
        types(&[("web", "python app.py")]),
    )
    .await?;
    w.patch_config("shop-staging", json!({"KEEP": "me"}))
        .await?;
    let path = "/apps/shop-staging/config-vars";
    let (status, body) = w
        .request("PATCH", path, Some("{not json"), &[])
        .await
        .map(|(s, _, b)| (s, b))?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["id"], "bad_request");
    let huge = "x".repeat(32 * 1024 + 1);
    let cases: Vec<(Value, &str)> = vec![
        (json!(["A", "B"]), "wrong shape"),
        (json!({"1A": "x"}), "not a valid config var name"),
        (json!({"A-B": "x"}), "not a valid config var name"),
        (json!({"": "x"}), "not a valid config var name"),
        (
            json!({"OK": "x", "BAD NAME": "x"}),
            "not a valid config var name",
        ),
        (json!({"PORT": "80"}), "PORT"),
        (json!({"DYNO": "web.9"}), "DYNO"),
        (json!({"A": "nul\u{0}byte"}), "NUL"),
        (json!({"A": huge}), "32 KiB"),
        (json!({"A": {"nested": true}}), "must be a string"),
    ];
    for (bad, why) in cases {
        let (status, body) = w.call("PATCH", path, Some(bad.clone()), None).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["id"], "invalid_params", "{bad}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{bad}: {message}");
    }
    assert_eq!(w.config("shop-staging").await?.len(), 1);
    assert_eq!(w.releases("shop-staging").await?.len(), 2);
    let (status, body) = w.patch_config("nope", json!({"A": "1"})).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // A member without access to the app is told it does not exist, and changes nothing.
    let (_, user) = w
        .call(
            "POST",
            "/users",
            Some(json!({"email": "dev@example.com"})),
            None,
        )
        .await?;
    let member_token = user["token"].as_str().unwrap_or_default().to_string();
    assert!(!member_token.is_empty(), "{user}");
    let (status, _) = w
        .call("PATCH", path, Some(json!({"A": "1"})), Some(&member_token))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.call("GET", path, None, Some(&member_token)).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(w.config("shop-staging").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_config_change_that_fails_to_roll_out_changes_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    let v1 = w
        .deploy(
            "shop-staging",
            "sha256:one",
            types(&[("web", "python app.py")]),
        )
        .await?;
    let serving = w.dynos("shop-staging");
    // The image is gone from the engine: the new dynos cannot start.
    w.remove_image("sha256:one");
    let (status, body) = w.patch_config("shop-staging", json!({"NEW": "x"})).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("v2 failed") && message.contains("config is unchanged"),
        "{message}"
    );
    assert!(w.config("shop-staging").await?.is_empty());
    let all = w.releases("shop-staging").await?;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].status.as_str(), "failed");
    let (_, current) = w
        .call("GET", &format!("{STAGING}/releases/{}", v1.id), None, None)
        .await?;
    assert_eq!(current["current"], true);
    let (_, failed) = w
        .call("GET", &format!("{STAGING}/releases/2"), None, None)
        .await?;
    assert_eq!(
        (failed["status"].clone(), failed["current"].clone()),
        (json!("failed"), json!(false))
    );
    // v1's dyno kept serving.
    let still: Vec<_> = w.dynos("shop-staging").keys().cloned().collect();
    assert_eq!(still, serving.keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        w.dynos("shop-staging")["web.1"]
            .spec
            .labels
            .get("doppel.release"),
        Some(&v1.id)
    );
    Ok(())
}

#[tokio::test]
async fn rollback_restores_an_earlier_image_and_its_config() -> anyhow::Result<()> {
    let w = world().await?;
    let web = types(&[("web", "python app.py")]);
    // Config stored before the first build (the store directly: through the API it would
    // make a config-only release, which the other test covers).
    let staging = w
        .api
        .state
        .store()
        .environment("shop-staging")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no staging"))?;
    let greeting =
        std::collections::BTreeMap::from([("GREETING".to_string(), Some("one".to_string()))]);
    w.api
        .state
        .store()
        .set_config_vars(&staging.id, &greeting)
        .await?;
    let v1 = w.deploy("shop-staging", "sha256:one", web.clone()).await?;
    w.patch_config("shop-staging", json!({"GREETING": "two", "EXTRA": "x"}))
        .await?;
    let v3 = w
        .deploy("shop-staging", "sha256:three", web.clone())
        .await?;
    assert_eq!(v3.version, 3);

    // By id: v4 runs v1's image with v1's config.
    let (status, body) = w
        .call(
            "POST",
            "/apps/shop-staging/releases",
            Some(json!({"release": v1.id})),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["version"], 4);
    assert_eq!(body["description"], "Rollback to v1");
    assert_eq!(body["current"], true);
    assert_eq!(body["status"], "succeeded");
    assert_eq!(body["user"]["email"], "admin@localhost");
    assert_eq!(
        w.config("shop-staging")
            .await?
            .into_iter()
            .collect::<Vec<_>>(),
        [("GREETING".to_string(), "one".to_string())]
    );
    let dyno = &w.dynos("shop-staging")["web.1"];
    assert_eq!(dyno.spec.image, "sha256:one");
    assert_eq!(
        dyno.spec.env.get("GREETING").map(String::as_str),
        Some("one")
    );
    assert!(!dyno.spec.env.contains_key("EXTRA"));

    // By version number (heroku3 may send one): v5 is v2's image and config.
    let (status, body) = w
        .call(
            "POST",
            "/apps/shop-staging/releases",
            Some(json!({"release": 2})),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["description"], "Rollback to v2");
    let config = w.config("shop-staging").await?;
    assert_eq!(config.get("GREETING").map(String::as_str), Some("two"));
    assert_eq!(w.dynos("shop-staging")["web.1"].spec.image, "sha256:one");

    // Refused, changing nothing: unknown, current, failed, slugs, nothing named.
    w.remove_image("sha256:three");
    let (status, _) = w
        .call(
            "POST",
            "/apps/shop-staging/releases",
            Some(json!({"release": "v3"})),
            None,
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "v3's image is gone: the rollout fails"
    );
    let (_, failed) = w
        .call("GET", &format!("{STAGING}/releases/6"), None, None)
        .await?;
    assert_eq!(failed["status"], "failed");
    let before = w.releases("shop-staging").await?.len();
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"release": "v99"}),
            StatusCode::NOT_FOUND,
            "Couldn't find that release",
        ),
        (
            json!({"release": "0b0e6b4c-0000-4000-8000-000000000000"}),
            StatusCode::NOT_FOUND,
            "release",
        ),
        (
            json!({"release": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "current release",
        ),
        (
            json!({"release": "v6"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "failed",
        ),
        (
            json!({"release": ["v1"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "id or version",
        ),
        (
            json!({"slug": "abc"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no slugs",
        ),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "roll back to"),
    ];
    for (bad, want, why) in cases {
        let (status, body) = w
            .call(
                "POST",
                "/apps/shop-staging/releases",
                Some(bad.clone()),
                None,
            )
            .await?;
        assert_eq!(status, want, "{bad}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{bad}: {message}");
    }
    assert_eq!(w.releases("shop-staging").await?.len(), before);
    assert_eq!(
        w.config("shop-staging")
            .await?
            .get("GREETING")
            .map(String::as_str),
        Some("two")
    );

    // heroku3 reads the list oldest first ("version ..; ;") and takes the last.
    let (_, _, list) = w
        .request(
            "GET",
            "/apps/shop-staging/releases",
            None,
            &[("Range", "version ..; ;")],
        )
        .await?;
    let versions: Vec<i64> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["version"].as_i64())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let rollbacks: Vec<Value> = w
        .audit()
        .await?
        .iter()
        .filter(|e| e.action == "release.rollback")
        .filter_map(|e| serde_json::from_str(&e.details).ok())
        .collect();
    assert_eq!(
        rollbacks,
        [
            json!({"to": 2, "version": 5}),
            json!({"to": 1, "version": 4})
        ]
    );
    Ok(())
}
