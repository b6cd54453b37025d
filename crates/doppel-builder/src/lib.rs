//! doppel-builder (placeholder until its owner fills it in).
