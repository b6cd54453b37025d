//! Interactive add-on clients (`pg:psql`, `redis:cli` on a terminal): the manifest's `shell`
//! command is run with `docker exec` in the add-on's running server container, as the
//! manifest's user, joined to the client over the one-off dynos' rendezvous
//! (`dynos::attach`): a terminal sized like the client's when it has one, Ctrl-C and every
//! key passed through, the client's exit code the command's.
//!
//! Why an exec in the server rather than a one-off container on the environment's network:
//! the server's image already has the client, the password reaches the client only in the
//! exec's environment (no container keeps it in its configuration, which `docker inspect`
//! shows), and a session works whatever the app's image holds and even before a release.

use std::collections::BTreeMap;

use doppel_docker::InteractiveExec;

use super::addons::{self, AddonView};
use super::{Actor, LogicError};
use crate::dynos::attach::Pending;
use crate::state::AppState;

/// What the client asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRequest {
    /// A terminal (the client's standard input is one).
    pub tty: bool,
    pub rows: Option<u16>,
    pub cols: Option<u16>,
    /// The client's `TERM`.
    pub term: Option<String>,
}

/// Opens a session on an add-on; returns it and the `rendezvous://` URL to attach to.
pub async fn open(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
    req: SessionRequest,
) -> Result<(AddonView, String), LogicError> {
    let target = addons::shell(state, actor, env, reference, service).await?;
    let mut vars: BTreeMap<String, String> = target.env;
    let term = req
        .term
        .filter(|t| !t.is_empty() && t.len() < 64 && t.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "xterm".to_string());
    vars.insert("TERM".to_string(), term);
    let secret = state.attach_sessions().add(Pending {
        container: target.container,
        env_id: target.view.env.id.clone(),
        dyno: target.view.addon.name.clone(),
        tty: req.tty,
        rows: req.rows.filter(|r| *r > 0),
        cols: req.cols.filter(|c| *c > 0),
        exec: Some(InteractiveExec {
            cmd: target.cmd,
            env: vars,
            user: Some(target.user),
            tty: req.tty,
        }),
    });
    let url = format!(
        "rendezvous://{}:{}/{secret}",
        state.config().domain,
        state.config().rendezvous_port
    );
    Ok((target.view, url))
}
