//! A scripted Postgres for tests on the shared fake runtime (feature `test-util`): it answers
//! the postgres manifest's commands the way a healthy server does, so the control plane's
//! and the API's tests exercise provisioning, backups and restores without Docker.

use doppel_docker::{FakeExecHandler, FakeExecReply};

/// What the fake server answers:
/// - health checks and rotations succeed;
/// - the version command prints `PostgreSQL 17.6`;
/// - a backup prints `DUMP of <database>` and counts `public.items` = 3;
/// - a verify or restore accepts only such a dump (anything else fails like `pg_restore`);
/// - `run` echoes its input.
pub fn fake_postgres() -> FakeExecHandler {
    FakeExecHandler::new(|exec| {
        let script = exec.cmd.last().cloned().unwrap_or_default();
        let database = exec
            .env
            .get("DOPPEL_ADDON_DATABASE")
            .cloned()
            .unwrap_or_default();
        let ok = |stdout: Vec<u8>, stderr: &str| FakeExecReply {
            exit_code: 0,
            stdout,
            stderr: stderr.as_bytes().to_vec(),
        };
        let refused = FakeExecReply {
            exit_code: 1,
            stdout: Vec::new(),
            stderr: b"pg_restore: error: input file does not appear to be a valid archive".to_vec(),
        };
        let is_dump = exec.stdin.starts_with(b"DUMP of ");
        if script.contains("pg_dump") {
            ok(
                format!("DUMP of {database}").into_bytes(),
                "doppel-count\tpublic.items\t3\n",
            )
        } else if script.contains("doppel_verify") {
            if is_dump {
                ok(b"doppel-count\tpublic.items\t3\n".to_vec(), "")
            } else {
                refused
            }
        } else if script.contains("doppel_restore") {
            if is_dump {
                ok(Vec::new(), "")
            } else {
                refused
            }
        } else if script.contains("--version") {
            ok(b"PostgreSQL 17.6\n".to_vec(), "")
        } else if script.contains("psql -X -h 127.0.0.1") {
            ok(exec.stdin.clone(), "")
        } else {
            ok(Vec::new(), "")
        }
    })
}
