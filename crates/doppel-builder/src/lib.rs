//! doppel-builder: the stack images (debootstrap → import, then the build image FROM it),
//! buildpack builds (detect/compile/release in a build container, `/app` committed onto the
//! run image) and Dockerfile builds, with their log lines streamed as produced.

pub mod build;
pub mod stack;
mod tarball;

pub use build::{build, BuildError, BuildLimits, BuildOutput, BuildRequest};
pub use stack::{
    ensure_stack, find_stack, StackCatalog, StackConfig, StackError, StackImages, StackSpec,
    StackStatus, UnknownStack,
};
