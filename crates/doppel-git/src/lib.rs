//! doppel-git (placeholder until its owner fills it in).
