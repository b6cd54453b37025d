//! The stack catalog: every stack doppel can make, by name (and alias), with its Debian suite,
//! its images, its package lists and the language runtimes it carries; which are built; and
//! making one on demand. A build takes the chosen stack's [`StackImages`] in its request.

use std::collections::BTreeMap;
use std::fmt;

use doppel_docker::ContainerRuntime;
use tokio::sync::mpsc;

use super::{packages, recipe_id, StackConfig, StackError, StackImages};

/// The stack new apps get unless the admin chose another (`--default-stack`).
///
/// `debian-testing` is the only stack whose Debian suite packages Python 3.14 (and 3.13,
/// side by side), which current apps ask for in `.python-version`; see docs/decisions.md.
pub const DEFAULT_STACK: &str = "debian-testing";

/// The Debian mirror stacks are made from by default (plain HTTP works from the host and
/// from containers).
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// One stack as doppel knows it: fixed at compile time, like Heroku's stack list.
#[derive(Debug, PartialEq, Eq)]
pub struct StackSpec {
    /// The name clients see and set (`debian-13`).
    pub name: &'static str,
    /// Older names that mean this stack (`heroku-24` for `debian-12`).
    pub aliases: &'static [&'static str],
    /// The Debian suite it is debootstrapped from.
    pub suite: &'static str,
    /// One line for listings.
    pub summary: &'static str,
    /// Images are `doppel/<stem>:latest` and `doppel/<stem>-build:latest`. `debian-12`
    /// keeps the `heroku-24` images it was first made under, so installations that have them
    /// do not rebuild, and Dockerfiles saying `FROM doppel/heroku-24` keep building.
    image_stem: &'static str,
    /// Python minor versions the stack carries (`/usr/bin/python3.X`), oldest first.
    pub pythons: &'static [&'static str],
    /// The stack's `python3`: what an app that asks for no version gets.
    pub default_python: &'static str,
    /// The suite's own Node.js major: only the build image's tool for fetching the
    /// release an app asks for from the npm registry.
    pub debian_node: &'static str,
    pub run_packages: &'static [&'static str],
    pub build_packages: &'static [&'static str],
}

/// Every stack, oldest suite first.
pub static STACKS: [StackSpec; 3] = [
    StackSpec {
        name: "debian-12",
        aliases: &["heroku-24"],
        suite: "bookworm",
        summary: "Debian 12 (bookworm), formerly called heroku-24",
        image_stem: "heroku-24",
        pythons: &["3.11"],
        default_python: "3.11",
        debian_node: "18",
        run_packages: packages::BOOKWORM_RUN,
        build_packages: packages::BOOKWORM_BUILD,
    },
    StackSpec {
        name: "debian-13",
        aliases: &[],
        suite: "trixie",
        summary: "Debian 13 (trixie), the current stable release",
        image_stem: "debian-13",
        pythons: &["3.13"],
        default_python: "3.13",
        debian_node: "20",
        run_packages: packages::TRIXIE_RUN,
        build_packages: packages::TRIXIE_BUILD,
    },
    StackSpec {
        name: "debian-testing",
        aliases: &[],
        suite: "testing",
        summary: "Debian testing: the newest runtimes, frozen when the images are made",
        image_stem: "debian-testing",
        pythons: &["3.13", "3.14", "3.15"],
        default_python: "3.14",
        debian_node: "24",
        run_packages: packages::TESTING_RUN,
        build_packages: packages::TESTING_BUILD,
    },
];

impl StackSpec {
    /// `doppel/<stem>:latest`
    pub fn run_image(&self) -> String {
        format!("doppel/{}:latest", self.image_stem)
    }

    /// `doppel/<stem>-build:latest`
    pub fn build_image(&self) -> String {
        format!("doppel/{}-build:latest", self.image_stem)
    }

    /// The stem the images and the recipe fingerprint are named with.
    pub(crate) fn image_stem(&self) -> &'static str {
        self.image_stem
    }

    /// The images a build on this stack uses.
    pub fn images(&self) -> StackImages {
        StackImages {
            stack: self.name.to_string(),
            run_image: self.run_image(),
            build_image: self.build_image(),
        }
    }

    /// Whether `name` (any case) is this stack's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// A name that is no stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no stack named {name:?}; the stacks are {known}")]
pub struct UnknownStack {
    pub name: String,
    /// The stacks there are, for the message (`debian-12 (alias heroku-24), debian-13, …`).
    pub known: String,
}

/// One stack and whether its images are ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackStatus {
    pub spec: &'static StackSpec,
    /// Both images exist and were made from the current recipe (or provided by an admin).
    pub built: bool,
    /// This is the default stack for new apps.
    pub default: bool,
}

/// The stacks of one installation: every [`StackSpec`], the default one, and the mirror
/// they are made from. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackCatalog {
    default: &'static StackSpec,
    mirror: String,
}

impl Default for StackCatalog {
    fn default() -> Self {
        StackCatalog::new(DEFAULT_MIRROR)
    }
}

fn known_list() -> String {
    STACKS
        .iter()
        .map(|s| match s.aliases {
            [] => s.name.to_string(),
            aliases => format!("{} (alias {})", s.name, aliases.join(", ")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds a stack by name or alias.
pub fn find_stack(name: &str) -> Result<&'static StackSpec, UnknownStack> {
    STACKS
        .iter()
        .find(|s| s.answers_to(name))
        .ok_or_else(|| UnknownStack {
            name: name.to_string(),
            known: known_list(),
        })
}

impl StackCatalog {
    /// Every stack, made from `mirror`, with [`DEFAULT_STACK`] as the default.
    pub fn new(mirror: impl Into<String>) -> StackCatalog {
        let default = STACKS
            .iter()
            .find(|s| s.name == DEFAULT_STACK)
            .unwrap_or(&STACKS[STACKS.len() - 1]);
        StackCatalog {
            default,
            mirror: mirror.into(),
        }
    }

    /// The same catalog with another default stack for new apps.
    pub fn with_default(self, name: &str) -> Result<StackCatalog, UnknownStack> {
        Ok(StackCatalog {
            default: find_stack(name)?,
            ..self
        })
    }

    /// Every stack, oldest suite first.
    pub fn stacks(&self) -> &'static [StackSpec] {
        &STACKS
    }

    /// The stack new apps get.
    pub fn default_stack(&self) -> &'static StackSpec {
        self.default
    }

    /// A stack by name or alias (`heroku-24` is `debian-12`).
    pub fn resolve(&self, name: &str) -> Result<&'static StackSpec, UnknownStack> {
        find_stack(name)
    }

    /// The Debian mirror the stacks are made from.
    pub fn mirror(&self) -> &str {
        &self.mirror
    }

    /// How [`super::ensure_stack`] makes `spec`'s images.
    pub fn config(&self, spec: &'static StackSpec) -> StackConfig {
        StackConfig {
            spec,
            mirror: self.mirror.clone(),
        }
    }

    /// Which stacks carry which Pythons, for a build's error messages
    /// (`debian-12=3.11 debian-13=3.13 debian-testing=3.13,3.14,3.15`): the build sees only
    /// its own stack, yet must name the one that has the version an app asks for.
    pub fn python_index(&self) -> String {
        STACKS
            .iter()
            .map(|s| format!("{}={}", s.name, s.pythons.join(",")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Environment every build container gets from the catalog (see buildpacks/README.md).
    pub fn build_env(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("DOPPEL_STACK_PYTHONS".to_string(), self.python_index()),
            (
                "DOPPEL_DEFAULT_STACK".to_string(),
                self.default.name.to_string(),
            ),
        ])
    }

    /// Every stack and whether its images are ready.
    pub async fn status(&self, rt: &dyn ContainerRuntime) -> Result<Vec<StackStatus>, StackError> {
        let mut out = Vec::new();
        for spec in &STACKS {
            let cfg = self.config(spec);
            let (_, build_needed) = super::needs(rt, &cfg, &recipe_id(&cfg)).await?;
            out.push(StackStatus {
                spec,
                built: !build_needed,
                default: std::ptr::eq(spec, self.default),
            });
        }
        Ok(out)
    }

    /// Makes sure the images of the stack called `name` exist (making them when missing or
    /// made from an older recipe; always with `force`); progress lines go to `progress`.
    pub async fn ensure(
        &self,
        rt: &dyn ContainerRuntime,
        name: &str,
        force: bool,
        progress: mpsc::Sender<String>,
    ) -> Result<StackImages, StackError> {
        let spec = self.resolve(name)?;
        super::ensure_stack(rt, &self.config(spec), force, progress).await
    }
}

impl fmt::Display for StackSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve_in_any_case() {
        let cat = StackCatalog::default();
        assert_eq!(cat.resolve("heroku-24").map(|s| s.name), Ok("debian-12"));
        assert_eq!(cat.resolve("Debian-13").map(|s| s.name), Ok("debian-13"));
        assert_eq!(cat.default_stack().name, DEFAULT_STACK);
        let err = cat.resolve("cedar-14").expect_err("no such stack");
        assert!(
            err.to_string()
                .contains("debian-12 (alias heroku-24), debian-13, debian-testing"),
            "{err}"
        );
    }

    #[test]
    fn debian_12_keeps_the_heroku_24_images() {
        let spec = find_stack("debian-12").expect("debian-12");
        assert_eq!(spec.run_image(), "doppel/heroku-24:latest");
        assert_eq!(spec.build_image(), "doppel/heroku-24-build:latest");
        assert_eq!(
            find_stack("debian-testing").map(|s| s.build_image()),
            Ok("doppel/debian-testing-build:latest".to_string())
        );
    }

    #[test]
    fn every_listed_python_is_a_package_of_its_stack() {
        for spec in &STACKS {
            assert!(spec.pythons.contains(&spec.default_python), "{spec}");
            for minor in spec.pythons {
                if *minor == spec.default_python && spec.suite == "bookworm" {
                    continue; // bookworm's python3 is 3.11; it has no other
                }
                let run = format!("python3.{}", &minor[2..]);
                assert!(spec.run_packages.contains(&run.as_str()), "{spec}: {run}");
                if spec.suite != "bookworm" {
                    for suffix in ["-venv", "-dev"] {
                        let pkg = format!("{run}{suffix}");
                        assert!(spec.build_packages.contains(&pkg.as_str()), "{spec}: {pkg}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_python_index_names_every_stack() {
        assert_eq!(
            StackCatalog::default().python_index(),
            "debian-12=3.11 debian-13=3.13 debian-testing=3.13,3.14,3.15"
        );
    }

    #[test]
    fn another_default_can_be_chosen() {
        let cat = StackCatalog::default()
            .with_default("heroku-24")
            .expect("alias");
        assert_eq!(cat.default_stack().name, "debian-12");
        assert!(StackCatalog::default().with_default("nope").is_err());
    }
}
