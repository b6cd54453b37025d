//! doppel-router (placeholder until its owner fills it in).
