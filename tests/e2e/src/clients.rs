//! The clients users already have, pointed at a test server: the official Heroku CLI (v10 and
//! v11, installed by `deploy/test-tools.sh`) and the Python `heroku3` client.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Command, Output};

use crate::Server;

/// A major version of the official Heroku CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HerokuCli {
    V10,
    V11,
}

impl HerokuCli {
    pub const ALL: [HerokuCli; 2] = [HerokuCli::V10, HerokuCli::V11];

    fn program(self) -> Result<PathBuf> {
        let (var, dir) = match self {
            HerokuCli::V10 => ("DOPPEL_TEST_HEROKU_V10", "heroku-v10"),
            HerokuCli::V11 => ("DOPPEL_TEST_HEROKU_V11", "heroku-v11"),
        };
        let path = std::env::var(var).map(PathBuf::from).unwrap_or_else(|_| {
            PathBuf::from("/var/tmp/doppel-tools")
                .join(dir)
                .join("heroku")
        });
        if !path.exists() {
            bail!("{} not found: run deploy/test.sh (or deploy/test-tools.sh's install_test_tools) first", path.display());
        }
        Ok(path)
    }

    /// The CLI's data directory holding its user plugins (`heroku-builds` for v10), when
    /// `deploy/test-tools.sh` made one: `HEROKU_DATA_DIR` points there.
    fn plugins_dir(self) -> Option<PathBuf> {
        if self != HerokuCli::V10 {
            return None;
        }
        let dir = std::env::var("DOPPEL_TEST_HEROKU_V10_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("/var/tmp/doppel-tools/heroku-v10-data"));
        dir.join("node_modules").exists().then_some(dir)
    }
}

/// What a client printed and how it exited.
#[derive(Debug)]
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    fn from(out: Output) -> Ran {
        Ran {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Both streams, for assertion messages.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Fails unless the client succeeded.
    pub fn ok(self) -> Result<Ran> {
        if !self.success {
            bail!("client failed:\n{}", self.text());
        }
        Ok(self)
    }
}

impl Server {
    /// Runs the official Heroku CLI against this server with `token` (the admin's when
    /// `None`), trusting the platform CA, in a throwaway HOME.
    pub fn heroku_as(&self, cli: HerokuCli, token: Option<&str>, args: &[&str]) -> Result<Ran> {
        let out = self
            .heroku_command(cli, token, args)?
            .output()
            .context("running the Heroku CLI")?;
        Ok(Ran::from(out))
    }

    /// The command [`Server::heroku_as`] runs, to spawn it (e.g. `logs --tail`, stopped by
    /// the test).
    pub fn heroku_command(
        &self,
        cli: HerokuCli,
        token: Option<&str>,
        args: &[&str],
    ) -> Result<Command> {
        let home = self.data_dir.join(format!("heroku-home-{cli:?}"));
        std::fs::create_dir_all(&home)?;
        let host = format!("https://localhost:{}", self.https_port);
        let mut cmd = Command::new(cli.program()?);
        if let Some(plugins) = cli.plugins_dir() {
            cmd.env("HEROKU_DATA_DIR", plugins);
        }
        cmd.args(args)
            .env("HOME", &home)
            .env("HEROKU_HOST", &host)
            .env("HEROKU_PARTICLEBOARD_URL", &host)
            .env("HEROKU_API_KEY", token.unwrap_or(&self.token))
            .env("NODE_EXTRA_CA_CERTS", self.ca())
            .env("GIT_SSL_CAINFO", self.ca())
            .env("DISABLE_TELEMETRY", "true")
            .env("HEROKU_SKIP_NEW_VERSION_CHECK", "true")
            .env("HEROKU_DISABLE_AUTOUPDATE", "1")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env("COLUMNS", "200");
        Ok(cmd)
    }

    /// [`Server::heroku_as`] with the admin's token.
    pub fn heroku(&self, cli: HerokuCli, args: &[&str]) -> Result<Ran> {
        self.heroku_as(cli, None, args)
    }

    /// Runs a Python script with `heroku3` already connected to this server as `h` (with
    /// `token`, the admin's when `None`). The script prints what the test checks.
    pub fn heroku3_as(&self, token: Option<&str>, script: &str) -> Result<Ran> {
        let python = std::env::var("DOPPEL_TEST_PYTHON")
            .unwrap_or_else(|_| "/var/tmp/doppel-tools/heroku3/bin/python".to_string());
        let prelude = format!(
            "import os, heroku3\n\
             heroku3.api.HEROKU_URL = 'https://localhost:{port}'\n\
             h = heroku3.api.Heroku()\n\
             h._session.verify = os.environ['DOPPEL_CA']\n\
             h.authenticate(os.environ['DOPPEL_TOKEN'])\n",
            port = self.https_port
        );
        let out = Command::new(python)
            .arg("-c")
            .arg(format!("{prelude}{script}"))
            .env("DOPPEL_TOKEN", token.unwrap_or(&self.token))
            .env("DOPPEL_CA", self.ca())
            .env("REQUESTS_CA_BUNDLE", self.ca())
            .output()
            .context("running heroku3")?;
        Ok(Ran::from(out))
    }

    /// [`Server::heroku3_as`] with the admin's token.
    pub fn heroku3(&self, script: &str) -> Result<Ran> {
        self.heroku3_as(None, script)
    }
}
