//! doppel-docker: the only crate that names bollard. It offers the `ContainerRuntime` trait in
//! doppel's vocabulary (images, build containers, dynos, networks), the real `DockerRuntime`,
//! and, behind the `test-util` feature, the one shared in-memory `FakeRuntime`.

mod docker;
mod error;
#[cfg(feature = "test-util")]
mod fake;
mod lines;
mod runtime;
mod types;

pub use docker::DockerRuntime;
pub use error::DockerError;
#[cfg(feature = "test-util")]
pub use fake::{FakeCommit, FakeContainer, FakeRuntime, FakeScript, FakeState};
pub use lines::LineSplitter;
pub use runtime::{ContainerRuntime, LineStream};
pub use types::{
    ContainerSpec, ContainerState, DockerfileBuild, DynoSpec, ImageInfo, TarSource, LABEL_MANAGED,
};
