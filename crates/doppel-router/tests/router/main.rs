//! Integration tests of doppel-router: real listeners, a fake upstream, reqwest and curl.
#![allow(clippy::unwrap_used)]

mod ca;
mod harness;
mod maintenance;
mod observe;
mod proxy;
mod tls;
mod upgrade;
