//! Builds: one run of buildpacks or a Dockerfile on one pushed commit.

use serde::{Deserialize, Serialize};

use crate::common::{IdRef, NamedRef, UserRef};

/// A build's source: doppel's come from `git push`, so only `version` (the commit) is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SourceBlob {
    pub url: Option<String>,
    pub version: Option<String>,
    pub checksum: Option<String>,
    pub version_description: Option<String>,
}

/// One buildpack a build used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Buildpack {
    pub url: String,
    pub name: String,
}

/// `GET /apps/{app}/builds[/{id}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    pub id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Plain-text stream of the build's output (live while it runs).
    pub output_stream_url: Option<String>,
    pub source_blob: SourceBlob,
    pub slug: Option<IdRef>,
    pub release: Option<IdRef>,
    pub buildpacks: Vec<Buildpack>,
    pub stack: String,
    pub generation: NamedRef,
    pub user: Option<UserRef>,
    pub app: NamedRef,
    pub created_at: String,
    pub updated_at: String,
    pub doppel: BuildExtra,
}

/// What doppel adds to a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BuildExtra {
    /// Why the build failed, in words the pusher saw.
    pub failure: Option<String>,
    pub image_id: Option<String>,
}
