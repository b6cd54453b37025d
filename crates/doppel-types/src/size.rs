//! Dyno sizes: what each size Heroku names gives a dyno here (memory, CPU, processes).
//!
//! The limits are enforced by the container runtime (memory without swap, a CPU quota, a pids
//! limit). Names are matched without regard to case (`standard-1x` is `standard-1X`), as the
//! Heroku API does; the canonical spelling is Heroku's.

/// One dyno size and the limits it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DynoSize {
    /// A fixed id (a UUID, as Heroku's sizes have), the same on every installation.
    pub id: &'static str,
    /// Heroku's name, e.g. `standard-1X`.
    pub name: &'static str,
    /// Memory limit in MiB (swap is not allowed beyond it).
    pub memory_mb: u64,
    /// CPUs the dyno may use (a quota; the runtime clamps it to the machine's CPUs).
    pub cpus: f64,
    /// Most processes and threads the dyno may run at once (Heroku's per-size limits).
    pub max_processes: u64,
    /// Heroku's relative compute figure, shown by `ps` and `GET /dyno-sizes`.
    pub compute: u32,
}

impl DynoSize {
    /// Memory limit in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mb * 1024 * 1024
    }

    /// The size called `name` (any case), or `None`.
    pub fn find(name: &str) -> Option<&'static DynoSize> {
        DYNO_SIZES
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The size whose id or name (any case) is `id_or_name`, or `None`.
    pub fn find_by_id_or_name(id_or_name: &str) -> Option<&'static DynoSize> {
        DYNO_SIZES
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id_or_name))
            .or_else(|| DynoSize::find(id_or_name))
    }

    /// The size called `name`, or an error listing the sizes there are.
    pub fn parse(name: &str) -> Result<&'static DynoSize, String> {
        DynoSize::find(name).ok_or_else(|| {
            let names: Vec<&str> = DYNO_SIZES.iter().map(|s| s.name).collect();
            format!(
                "there is no dyno size {name:?}; choose one of {}",
                names.join(", ")
            )
        })
    }
}

/// The size new process types get.
pub const DEFAULT_DYNO_SIZE: &str = "standard-1X";

/// Every size, smallest first. Memory and process limits are Heroku's; CPU quotas are scaled
/// to one machine (a dyno never gets more than the machine has).
pub const DYNO_SIZES: &[DynoSize] = &[
    DynoSize {
        id: "00000000-0000-4000-8000-0000000d50e0",
        name: "eco",
        memory_mb: 512,
        cpus: 0.5,
        max_processes: 256,
        compute: 1,
    },
    DynoSize {
        id: "00000000-0000-4000-8000-0000000d50ba",
        name: "basic",
        memory_mb: 512,
        cpus: 0.5,
        max_processes: 256,
        compute: 1,
    },
    DynoSize {
        id: "00000000-0000-4000-8000-0000000d5001",
        name: "standard-1X",
        memory_mb: 512,
        cpus: 1.0,
        max_processes: 256,
        compute: 1,
    },
    DynoSize {
        id: "00000000-0000-4000-8000-0000000d5002",
        name: "standard-2X",
        memory_mb: 1024,
        cpus: 2.0,
        max_processes: 512,
        compute: 2,
    },
    DynoSize {
        id: "00000000-0000-4000-8000-0000000d500d",
        name: "performance-M",
        memory_mb: 2560,
        cpus: 2.0,
        max_processes: 16384,
        compute: 12,
    },
    DynoSize {
        id: "00000000-0000-4000-8000-0000000d500e",
        name: "performance-L",
        memory_mb: 14336,
        cpus: 8.0,
        max_processes: 32768,
        compute: 50,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sizes_in_any_case() {
        let s = DynoSize::find("standard-2x").map(|s| s.name);
        assert_eq!(s, Some("standard-2X"));
        assert_eq!(
            DynoSize::find(DEFAULT_DYNO_SIZE).map(|s| s.memory_bytes()),
            Some(512 * 1024 * 1024)
        );
        let by_id = DynoSize::find(DEFAULT_DYNO_SIZE)
            .map(|s| s.id)
            .unwrap_or_default();
        assert_eq!(
            DynoSize::find_by_id_or_name(by_id).map(|s| s.name),
            Some(DEFAULT_DYNO_SIZE)
        );
        assert_eq!(
            DynoSize::find_by_id_or_name("PERFORMANCE-m").map(|s| s.name),
            Some("performance-M")
        );
        let mut ids: Vec<&str> = DYNO_SIZES.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), DYNO_SIZES.len(), "ids are distinct");
        let err = DynoSize::parse("huge").err().unwrap_or_default();
        assert!(err.contains("standard-1X"), "{err}");
    }
}
