//! doppel-docker: the only crate that names bollard. It offers the `ContainerRuntime` trait in
//! doppel's vocabulary (images, build containers, dynos, networks, add-on services, volumes
//! and exec), the real `DockerRuntime`,
//! and, behind the `test-util` feature, the one shared in-memory `FakeRuntime`.

mod docker;
mod error;
#[cfg(feature = "test-util")]
mod fake;
#[cfg(feature = "test-util")]
mod fake_services;
mod hostlock;
mod lines;
mod network;
mod runtime;
mod service;
mod types;

pub use docker::DockerRuntime;
pub use error::DockerError;
#[cfg(feature = "test-util")]
pub use fake::{FakeCommit, FakeContainer, FakeNetwork, FakeRuntime, FakeScript, FakeState};
#[cfg(feature = "test-util")]
pub use fake_services::{FakeExec, FakeExecHandler, FakeExecReply, FakeVolume};
pub use hostlock::HostLock;
pub use lines::{LineSplitter, MAX_LINE_BYTES};
pub use network::{NetworkInfo, NetworkSpec, SubnetPool};
pub use runtime::{AttachIo, ByteStream, ContainerRuntime, EventStream, LineStream, LogStream};
pub use service::{
    ExecInput, ExecOutput, ExecResult, ExecSpec, InteractiveExec, ServiceSpec, VolumeInfo,
    VolumeMount, MAX_EXEC_STDERR,
};
pub use types::{
    ContainerAction, ContainerConfig, ContainerEvent, ContainerSpec, ContainerState,
    DockerfileBuild, DynoSpec, HealthCheck, ImageInfo, Limits, LogLine, TarSource, LABEL_MANAGED,
};
