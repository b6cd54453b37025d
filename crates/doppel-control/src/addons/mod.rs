//! Add-on servers on this machine: what runs them ([`servers`]: one container and volume per
//! add-on, and the lock every operation on one add-on holds), what keeps them running
//! ([`supervisor`]) and the daily backups ([`schedule`]). The providers themselves (Postgres,
//! Redis: images, readiness, credentials, backups) live in `doppel-addons`; the add-on
//! workflows (provision, destroy, backup, credentials) in [`crate::workflows`].

pub mod schedule;
pub mod servers;
pub mod supervisor;
