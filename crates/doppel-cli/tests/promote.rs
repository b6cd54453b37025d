//! `doppel promote` against a local mock: the progress streams to standard error line by line
//! as the server sends it (split across chunks), the promotion named by the response header
//! is read back and reported; a refusal is the server's message; a failed promotion fails.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use doppel_cli::promote::{PipelineArgs, PromoteArgs};
use doppel_cli::{run_in, CliError, Command, Context, Env};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Default)]
struct Mock {
    bodies: Mutex<Vec<Value>>,
    outcome: Mutex<String>,
}

async fn promote(
    State(mock): State<Arc<Mock>>,
    Path(pipeline): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    mock.bodies
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(json!({"pipeline": pipeline, "body": body}));
    if pipeline == "drifted" {
        let err = json!({"id": "conflict", "message": "Promotion refused: [config/A] shop lacks config var A"});
        return (axum::http::StatusCode::CONFLICT, Json(err)).into_response();
    }
    // Lines split across chunks, the way a network delivers them.
    let chunks: Vec<Result<&'static str, std::convert::Infallible>> = vec![
        Ok("-----> Promoting shop-staging v3 (image abc) to shop\n-----> Launch"),
        Ok("ing...\n       Released v7\n"),
    ];
    let mut resp = Body::from_stream(futures_util::stream::iter(chunks)).into_response();
    resp.headers_mut().insert(
        "doppel-promotion-id",
        "p1".parse().unwrap_or_else(|_| unreachable!()),
    );
    resp
}

async fn promotion(State(mock): State<Arc<Mock>>) -> Json<Value> {
    let status = mock
        .outcome
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Json(json!({
        "id": "p1", "pipeline": {"id": "a", "name": "shop"},
        "source": {"app": {"id": "s", "name": "shop-staging"}, "release": {"id": "r3", "version": 3}},
        "status": "completed", "created_at": "", "updated_at": "",
        "doppel": {
            "target": {"id": "t1", "app": {"id": "p", "name": "shop"}, "pipeline_promotion": {"id": "p1"},
                       "release": {"id": "r7", "version": 7}, "status": status,
                       "error_message": "Release v7 failed: release command exited 1"},
            "forced": false, "reason": null, "user": null, "web_url": "https://shop.localhost:8443/"
        }
    }))
}

async fn start_mock(outcome: &str) -> Result<(String, Arc<Mock>), Box<dyn std::error::Error>> {
    let mock = Arc::new(Mock::default());
    *mock.outcome.lock().unwrap_or_else(|e| e.into_inner()) = outcome.to_string();
    let app = axum::Router::new()
        .route("/pipelines/{pipeline}/promote", post(promote))
        .route("/pipeline-promotions/{id}", get(promotion))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}"), mock))
}

fn args(pipeline: &str) -> PromoteArgs {
    PromoteArgs {
        target: PipelineArgs {
            pipeline: Some(pipeline.to_string()),
            app: None,
        },
        release: Some("v3".into()),
        force: true,
        reason: Some("hotfix".into()),
    }
}

#[tokio::test]
async fn promote_streams_progress_and_reports_the_release() -> TestResult {
    let (host, mock) = start_mock("succeeded").await?;
    let env = Env::from_pairs([("DOPPEL_HOST", host.as_str()), ("DOPPEL_API_KEY", "tok")]);
    let (mut ctx, out) = Context::captured(env);
    run_in(&mut ctx, Command::Promote(args("shop"))).await?;
    assert_eq!(
        out.stderr(),
        "-----> Promoting shop-staging v3 (image abc) to shop\n-----> Launching...\n       Released v7\n"
    );
    assert_eq!(
        out.stdout(),
        "Promoted shop-staging v3 to shop as release v7: https://shop.localhost:8443/\n"
    );
    let bodies = mock
        .bodies
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert_eq!(
        bodies,
        [json!({"pipeline": "shop", "body": {"release": "v3", "force": true, "reason": "hotfix"}})]
    );
    Ok(())
}

#[tokio::test]
async fn refusals_and_failures_are_errors() -> TestResult {
    let (host, _) = start_mock("failed").await?;
    let env = Env::from_pairs([("DOPPEL_HOST", host.as_str()), ("DOPPEL_API_KEY", "tok")]);
    let (mut ctx, _) = Context::captured(env);
    let err = run_in(&mut ctx, Command::Promote(args("drifted")))
        .await
        .err();
    assert!(
        matches!(&err, Some(CliError::Api { status: 409, message, .. }) if message.contains("[config/A]")),
        "{err:?}"
    );
    let err = run_in(&mut ctx, Command::Promote(args("shop"))).await.err();
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("to shop failed: Release v7 failed"), "{msg}");
    Ok(())
}
