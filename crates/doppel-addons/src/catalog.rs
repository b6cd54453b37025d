//! The providers doppel knows: the manifests embedded from `addons/` and, when the server is
//! given one, an admin's directory of more (`*.toml`; one there with an embedded name
//! replaces it). Resolves what clients ask for (`postgres`, `heroku-postgresql:essential-0`).

use std::path::Path;
use std::sync::Arc;

use crate::error::AddonError;
use crate::manifest::{Manifest, Plan};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/manifests.rs"));
}

/// Every provider, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    manifests: Vec<Arc<Manifest>>,
}

impl Catalog {
    /// The manifests built into doppel (`addons/*.toml`).
    pub fn embedded() -> Result<Catalog, AddonError> {
        let mut catalog = Catalog::default();
        for (file, text) in embedded::MANIFESTS {
            catalog.add(Manifest::parse(text, &format!("addons/{file}"))?);
        }
        Ok(catalog)
    }

    /// The built-in manifests plus those in `dir` (when it exists).
    pub fn with_admin_dir(dir: &Path) -> Result<Catalog, AddonError> {
        let mut catalog = Catalog::embedded()?;
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(catalog),
            Err(e) => return Err(AddonError::io("reading", dir, e)),
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let text =
                std::fs::read_to_string(&path).map_err(|e| AddonError::io("reading", &path, e))?;
            let manifest = Manifest::parse(&text, &path.display().to_string())?;
            tracing::info!(service = %manifest.name, file = %path.display(), "add-on manifest loaded");
            catalog.add(manifest);
        }
        Ok(catalog)
    }

    /// Adds a manifest; one of the same name is replaced.
    pub fn add(&mut self, manifest: Manifest) {
        self.manifests.retain(|m| m.name != manifest.name);
        self.manifests.push(Arc::new(manifest));
        self.manifests.sort_by(|a, b| a.name.cmp(&b.name));
    }

    pub fn all(&self) -> &[Arc<Manifest>] {
        &self.manifests
    }

    /// The service `word` names (its name or an alias).
    pub fn service(&self, word: &str) -> Result<Arc<Manifest>, AddonError> {
        self.manifests
            .iter()
            .find(|m| m.answers_to(word))
            .cloned()
            .ok_or_else(|| AddonError::UnknownService {
                name: word.to_string(),
                known: self.names(),
            })
    }

    /// What `service[:plan]` names (the default plan when none is given).
    pub fn resolve(&self, spec: &str) -> Result<(Arc<Manifest>, Plan), AddonError> {
        let spec = spec.trim();
        let (service, plan) = match spec.split_once(':') {
            Some((s, p)) => (s, Some(p)),
            None => (spec, None),
        };
        let manifest = self.service(service)?;
        let known = || {
            manifest
                .plans
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let plan = match plan {
            Some(p) => manifest.plan(p).cloned(),
            None => manifest.default_plan().cloned(),
        }
        .ok_or_else(|| AddonError::UnknownPlan {
            service: manifest.name.clone(),
            plan: plan.unwrap_or_default().to_string(),
            known: known(),
        })?;
        Ok((manifest, plan))
    }

    fn names(&self) -> String {
        self.manifests
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_has_postgres_and_redis() -> Result<(), AddonError> {
        let c = Catalog::embedded()?;
        let (pg, plan) = c.resolve("heroku-postgresql:essential-0")?;
        assert_eq!(
            (pg.name.as_str(), plan.name.as_str()),
            ("postgres", "essential-0")
        );
        assert!(pg.supports_backups());
        let (redis, plan) = c.resolve("heroku-redis")?;
        assert_eq!((redis.name.as_str(), plan.name.as_str()), ("redis", "mini"));
        assert_eq!(c.resolve("postgres")?.1.name, "essential-0");
        let err = c.resolve("postgres:huge").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("essential-1")));
        let err = c.resolve("mongodb").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("postgres, redis")));
        Ok(())
    }

    #[test]
    fn an_admin_directory_adds_and_replaces() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let memcached = include_str!("../../../addons/redis.toml")
            .replace("name = \"redis\"", "name = \"memcached\"")
            .replace(
                "aliases = [\"heroku-redis\", \"rediscloud\"]",
                "aliases = []",
            );
        std::fs::write(dir.path().join("memcached.toml"), memcached)?;
        std::fs::write(dir.path().join("notes.txt"), "ignored")?;
        let c = Catalog::with_admin_dir(dir.path())?;
        assert_eq!(c.all().len(), 3);
        assert!(c.service("memcached").is_ok());
        std::fs::write(dir.path().join("broken.toml"), "name = 1")?;
        let err = Catalog::with_admin_dir(dir.path())
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("broken.toml")));
        let missing = Catalog::with_admin_dir(&dir.path().join("nope"))?;
        assert_eq!(missing.all().len(), 2);
        Ok(())
    }
}
