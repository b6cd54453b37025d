//! The clients teams already have, against a live doppel: the official Heroku CLI (v10 and
//! v11) and heroku3 log in, create and list apps. Later issues add every command they use.

use anyhow::Result;
use doppel_e2e::{HerokuCli, Server};

#[test]
fn heroku_cli_and_heroku3_create_and_list_apps() -> Result<()> {
    let server = Server::start()?;
    for (cli, app) in [(HerokuCli::V10, "cliten"), (HerokuCli::V11, "clieleven")] {
        let ran = server.heroku(cli, &["apps:create", app])?.ok()?;
        assert!(ran.text().contains(app), "{cli:?}: {}", ran.text());
        let ran = server.heroku(cli, &["apps"])?.ok()?;
        assert!(
            ran.text().contains(&format!("{app}-staging")),
            "{cli:?}: {}",
            ran.text()
        );
        let ran = server.heroku(cli, &["auth:whoami"])?.ok()?;
        assert!(
            ran.stdout.contains("admin@localhost"),
            "{cli:?}: {}",
            ran.text()
        );
    }
    let ran = server
        .heroku3("print(h.account().email)\nprint(sorted(a.name for a in h.apps()))\n")?
        .ok()?;
    assert!(ran.stdout.contains("admin@localhost"), "{}", ran.text());
    assert!(ran.stdout.contains("cliten-staging"), "{}", ran.text());
    Ok(())
}
