//! Shared helpers of the integration tests: the real runtime and the shared stack images.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Instant;

use doppel_builder::{ensure_stack, StackConfig, StackImages};
use doppel_docker::DockerRuntime;
use tokio::sync::{mpsc, Mutex};

static STACK_LOCK: Mutex<()> = Mutex::const_new(());

/// Connects to the engine.
pub async fn runtime() -> Arc<DockerRuntime> {
    Arc::new(
        DockerRuntime::connect()
            .await
            .expect("docker engine reachable"),
    )
}

/// Builds the shared stack images (real names; reused by other tests and the e2e suite) if missing.
pub async fn stack(rt: &DockerRuntime) -> StackImages {
    let _guard = STACK_LOCK.lock().await;
    let (tx, mut rx) = mpsc::channel(64);
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            println!("stack: {line}");
        }
    });
    let started = Instant::now();
    let images = ensure_stack(rt, &StackConfig::default(), false, tx)
        .await
        .expect("stack images");
    let _ = printer.await;
    println!("ensure_stack took {:?}", started.elapsed());
    images
}
