//! Integration tests of doppel-router: real listeners, a fake upstream, reqwest and curl.
#![allow(clippy::unwrap_used)]

mod affinity;
mod ca;
mod harness;
mod heroku;
mod maintenance;
mod proxy;
mod tls;
mod upgrade;
