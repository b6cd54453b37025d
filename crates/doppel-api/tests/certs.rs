//! Uploaded certificates (SNI endpoints) and ACM in-process: Heroku's shapes, checks that
//! refuse bad uploads without storing anything, access (others get 404), the audit log
//! without keys, and the route table's certificates (only for the uploading environment's own
//! domains).

mod common;

use axum::http::StatusCode;
use common::api;
use serde_json::{json, Value};

/// A self-signed certificate and key for `names`, valid now (or long expired).
fn cert(names: &[&str], expired: bool) -> anyhow::Result<(String, String)> {
    let key = rcgen::KeyPair::generate()?;
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn upload(chain: &str, key: &str) -> Option<Value> {
    Some(json!({ "certificate_chain": chain, "private_key": key }))
}

#[tokio::test]
async fn sni_endpoints_are_checked_served_for_own_domains_and_audited() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("shop", &t).await?;
    api.create_app_as("blog", &t).await?;
    for (env, host) in [("shop", "www.shop.test"), ("blog", "www.blog.test")] {
        let (status, body) = api
            .call(
                "POST",
                &format!("/apps/{env}/domains"),
                Some(json!({ "hostname": host, "sni_endpoint": null })),
                Some(&t),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (chain, key) = cert(&["www.shop.test"], false)?;

    // Refused uploads store nothing.
    let (_, other_key) = cert(&["www.shop.test"], false)?;
    let (old_chain, old_key) = cert(&["www.shop.test"], true)?;
    for (body, needle) in [
        (upload(&chain, &other_key), "does not match"),
        (upload(&old_chain, &old_key), "expired"),
        (upload("not a certificate", &key), "Invalid certificate"),
        (upload(&chain, ""), "required"),
    ] {
        let (status, answer) = api
            .call("POST", "/apps/shop/sni-endpoints", body, Some(&t))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            answer["message"].as_str().unwrap_or("").contains(needle),
            "{answer}"
        );
    }
    let (_, list) = api
        .call("GET", "/apps/shop/sni-endpoints", None, Some(&t))
        .await?;
    assert_eq!(list, json!([]));

    // An upload: Heroku's shape, never the key; its domain is the environment's.
    let (status, added) = api
        .call(
            "POST",
            "/apps/shop/sni-endpoints",
            upload(&chain, &key),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert!(added.get("private_key").is_none());
    assert!(!added.to_string().contains("PRIVATE KEY"));
    assert_eq!(added["ssl_cert"]["cert_domains"], json!(["www.shop.test"]));
    assert_eq!(added["ssl_cert"]["self_signed?"], json!(true));
    assert_eq!(added["app"]["name"], "shop");
    let (_, domain) = api
        .call("GET", "/apps/shop/domains/www.shop.test", None, Some(&t))
        .await?;
    assert_eq!(added["domains"], json!([domain["id"]]));
    assert_eq!(domain["sni_endpoint"]["name"], added["name"]);
    let name = added["name"].as_str().unwrap_or_default().to_string();
    let (status, shown) = api
        .call(
            "GET",
            &format!("/apps/shop/sni-endpoints/{name}"),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["id"], added["id"]);

    // The Heroku CLI's association of a domain with an endpoint: checked, answered.
    let (status, assoc) = api
        .call(
            "PATCH",
            "/apps/shop/domains/www.shop.test",
            Some(json!({ "sni_endpoint": name })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{assoc}");
    assert_eq!(assoc["sni_endpoint"]["name"], json!(name));
    let (status, _) = api
        .call(
            "PATCH",
            "/apps/shop/domains/www.shop.test",
            Some(json!({ "sni_endpoint": "sni-none" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The route table serves it for shop's domain only.
    let table = api.state.routes().load();
    assert_eq!(table.certs.len(), 1);
    assert_eq!(table.certs[0].names, ["www.shop.test"]);
    assert_eq!(table.certs[0].key_pem, key);

    // blog uploading a certificate naming shop's domain gets nothing served for it.
    let (both_chain, both_key) = cert(&["www.shop.test", "www.blog.test"], false)?;
    let (status, _) = api
        .call(
            "POST",
            "/apps/blog/sni-endpoints",
            upload(&both_chain, &both_key),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let table = api.state.routes().load();
    let shop_cert: Vec<_> = table
        .certs
        .iter()
        .filter(|c| c.names.contains(&"www.shop.test".to_string()))
        .collect();
    assert_eq!(shop_cert.len(), 1);
    assert_eq!(shop_cert[0].key_pem, key);
    assert!(table.certs.iter().any(|c| c.names == ["www.blog.test"]));

    // Others see nothing.
    let member = api.create_user("dev@example.com").await?;
    for (method, body) in [("GET", None), ("POST", upload(&chain, &key))] {
        let (status, _) = api
            .call(method, "/apps/shop/sni-endpoints", body, Some(&member))
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/apps/shop/sni-endpoints/{name}"),
            None,
            Some(&member),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Update, then remove: the table follows.
    let (chain2, key2) = cert(&["*.shop.test"], false)?;
    let (status, updated) = api
        .call(
            "PATCH",
            &format!("/apps/shop/sni-endpoints/{name}"),
            upload(&chain2, &key2),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["ssl_cert"]["cert_domains"], json!(["*.shop.test"]));
    assert!(api
        .state
        .routes()
        .load()
        .certs
        .iter()
        .any(|c| c.key_pem == key2));
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/apps/shop/sni-endpoints/{name}"),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(!api
        .state
        .routes()
        .load()
        .certs
        .iter()
        .any(|c| c.names.contains(&"www.shop.test".to_string())));

    // Audited, without keys.
    let actions = api.audit_actions("shop").await?;
    for action in [
        "sni_endpoint.add",
        "sni_endpoint.update",
        "sni_endpoint.remove",
    ] {
        assert!(actions.iter().any(|a| a == action), "{actions:?}");
    }
    let app = api
        .state
        .store()
        .app("shop")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no app"))?;
    for event in api
        .state
        .store()
        .audit_events(&app.id, &Default::default())
        .await?
    {
        assert!(!event.details.to_string().contains("PRIVATE KEY"));
    }
    Ok(())
}

#[tokio::test]
async fn acm_turns_on_and_off_and_shows_on_domains() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("shop", &t).await?;
    let (status, _) = api
        .call(
            "POST",
            "/apps/shop/domains",
            Some(json!({ "hostname": "www.shop.test", "sni_endpoint": null })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let (_, app) = api.call("GET", "/apps/shop", None, Some(&t)).await?;
    assert_eq!(app["acm"], json!(false));
    let (status, _) = api.call("PATCH", "/apps/shop/acm", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, app) = api.call("POST", "/apps/shop/acm", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK, "{app}");
    assert_eq!(app["acm"], json!(true));
    // The staging twin is another environment: still off.
    let (_, staging) = api
        .call("GET", "/apps/shop-staging", None, Some(&t))
        .await?;
    assert_eq!(staging["acm"], json!(false));
    let (_, domain) = api
        .call("GET", "/apps/shop/domains/www.shop.test", None, Some(&t))
        .await?;
    assert_eq!(domain["acm_status"], "pending");
    let (status, _) = api.call("PATCH", "/apps/shop/acm", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);

    // An uploaded certificate takes the domain out of ACM's hands.
    let (chain, key) = cert(&["www.shop.test"], false)?;
    let (status, _) = api
        .call(
            "POST",
            "/apps/shop/sni-endpoints",
            upload(&chain, &key),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let (_, domain) = api
        .call("GET", "/apps/shop/domains/www.shop.test", None, Some(&t))
        .await?;
    assert_eq!(domain["acm_status"], Value::Null);
    assert!(domain["sni_endpoint"]["name"].is_string());

    let member = api.create_user("dev@example.com").await?;
    let (status, _) = api
        .call("DELETE", "/apps/shop/acm", None, Some(&member))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, app) = api.call("DELETE", "/apps/shop/acm", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app["acm"], json!(false));
    let actions = api.audit_actions("shop").await?;
    assert!(actions.iter().any(|a| a == "acm.enable"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "acm.disable"), "{actions:?}");
    Ok(())
}
