//! doppel-store (placeholder until its owner fills it in).
