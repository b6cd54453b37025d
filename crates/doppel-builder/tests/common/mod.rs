//! Shared helpers of the integration tests: the real runtime and the shared stack images.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Instant;

use doppel_builder::{StackCatalog, StackImages};
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

/// Builds the shared images of the default stack (real names; reused by other tests and the
/// e2e suite) if missing.
pub async fn stack(rt: &DockerRuntime) -> StackImages {
    let name = StackCatalog::default().default_stack().name;
    named_stack(rt, name).await
}

/// Builds the shared images of the stack called `name` if missing.
pub async fn named_stack(rt: &DockerRuntime, name: &str) -> StackImages {
    let _guard = STACK_LOCK.lock().await;
    let (tx, mut rx) = mpsc::channel(64);
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            println!("stack: {line}");
        }
    });
    let started = Instant::now();
    let images = StackCatalog::default()
        .ensure(rt, name, false, tx)
        .await
        .expect("stack images");
    let _ = printer.await;
    println!("ensure_stack took {:?}", started.elapsed());
    images
}
