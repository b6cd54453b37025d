//! `releases`, `releases:info`, `rollback`: an environment's release history, one release,
//! and going back to an earlier one (a new release with that one's image and config).

use crate::client::ROLLOUT_TIMEOUT;
use crate::context::Context;
use crate::error::CliError;
use crate::progress::follow_release;
use crate::table::{key_values, Table};
use crate::target::{self, TargetArgs};
use doppel_api_types::config_vars::ConfigVars;
use doppel_api_types::releases::{Release, ReleaseCreate};
use doppel_types::EnvName;

/// Arguments of `doppel releases`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReleasesArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How many releases to show, newest first
    #[arg(short = 'n', long = "num", default_value_t = 15)]
    pub num: usize,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel releases:info`.
#[derive(Debug, Clone, clap::Args)]
pub struct InfoArgs {
    /// The release: v3, 3 or its id (default: the newest)
    #[arg(value_name = "RELEASE")]
    pub release: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel rollback`.
#[derive(Debug, Clone, clap::Args)]
pub struct RollbackArgs {
    /// The release to go back to: v3, 3 or its id (default: the one before the current)
    #[arg(value_name = "RELEASE")]
    pub release: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the new release as the API's JSON
    #[arg(long)]
    pub json: bool,
}

fn user_email(r: &Release) -> &str {
    r.user
        .as_ref()
        .and_then(|u| u.email.as_deref())
        .unwrap_or("")
}

/// The description, with the status when the release did not succeed.
fn description(r: &Release) -> String {
    if r.status == "succeeded" {
        r.description.clone()
    } else {
        format!("{} ({})", r.description, r.status)
    }
}

/// The releases table, newest first, at most `num` rows.
pub fn render_releases(env: &EnvName, releases: &[Release], num: usize) -> String {
    let mut rows: Vec<&Release> = releases.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.version));
    rows.truncate(num);
    if rows.is_empty() {
        return format!(
            "=== {env} Releases\n{env} has no releases yet. `git push` to it (or promote to it) to make one.\n"
        );
    }
    let mut out = match rows.iter().find(|r| r.current) {
        Some(r) => format!("=== {env} Releases - Current: v{}\n", r.version),
        None => format!("=== {env} Releases\n"),
    };
    let mut table = Table::plain();
    for r in rows {
        table.row([
            format!("v{}", r.version),
            description(r),
            user_email(r).to_string(),
            r.created_at.clone(),
        ]);
    }
    out.push_str(&table.render());
    out
}

/// The `releases:info` summary, with the release's config vars when known.
pub fn render_release(env: &EnvName, r: &Release, config: Option<&ConfigVars>) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("Environment", env.to_string()),
        ("Change", r.description.clone()),
        ("Status", r.status.clone()),
        ("Current", if r.current { "yes" } else { "no" }.to_string()),
        ("By", user_email(r).to_string()),
        ("When", r.created_at.clone()),
        ("Image", r.doppel.image_id.clone()),
    ];
    if let Some(build) = &r.doppel.build_id {
        rows.push(("Build", build.clone()));
    }
    if !r.doppel.process_types.is_empty() {
        let types: Vec<&str> = r.doppel.process_types.keys().map(String::as_str).collect();
        rows.push(("Processes", types.join(", ")));
    }
    if !r.addon_plan_names.is_empty() {
        rows.push(("Add-ons", r.addon_plan_names.join(", ")));
    }
    let mut out = format!("=== Release v{}\n{}", r.version, key_values(&rows));
    if let Some(vars) = config {
        out.push_str(&format!("\n=== v{} Config vars\n", r.version));
        let pairs: Vec<(&String, &String)> = vars.iter().collect();
        out.push_str(&key_values(&pairs));
    }
    out
}

/// `v3` / `3` / an id, as the path segment the API takes.
fn release_segment(given: &str) -> Result<String, CliError> {
    let t = given.trim();
    let bare = t
        .strip_prefix('v')
        .filter(|n| n.parse::<u64>().is_ok())
        .unwrap_or(t);
    let ok = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(bare.to_string())
    } else {
        Err(CliError::Usage(format!(
            "{given:?} is not a release: give its version (v3 or 3) or its id."
        )))
    }
}

/// Fetches one release, naming it in the error when it does not exist.
async fn fetch_release(
    client: &crate::client::Client,
    env: &EnvName,
    given: &str,
) -> Result<Release, CliError> {
    let seg = release_segment(given)?;
    client
        .get(&format!("/apps/{env}/releases/{seg}"))
        .await
        .map_err(|e| match e {
            e if e.is_not_found() => CliError::NoSuchRelease {
                env: env.to_string(),
                what: given.to_string(),
            },
            e => e,
        })
}

pub(crate) async fn list(ctx: &mut Context, args: ReleasesArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let max = args.num.clamp(1, 1000);
    let mut shown: Vec<(EnvName, Vec<Release>)> = Vec::new();
    for env in target.envs() {
        let releases: Vec<Release> = client
            .get_range(
                &format!("/apps/{env}/releases"),
                &format!("version ..; max={max}, order=desc"),
            )
            .await?;
        shown.push((env, releases));
    }
    if args.json {
        return ctx.print_json_per_env(&shown);
    }
    let blocks: Vec<String> = shown
        .iter()
        .map(|(env, list)| render_releases(env, list, args.num))
        .collect();
    ctx.print(&blocks.join("\n"))
}

pub(crate) async fn info(ctx: &mut Context, args: InfoArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("releases:info")?;
    let release = match &args.release {
        Some(given) => fetch_release(&client, &env, given).await?,
        None => crate::progress::latest_release(&client, &env)
            .await?
            .ok_or_else(|| CliError::NoSuchRelease {
                env: env.to_string(),
                what: "(newest)".into(),
            })?,
    };
    if args.json {
        return ctx.print_json(&release);
    }
    // A server without per-release config answers 404: the summary goes without it.
    let config: Option<ConfigVars> = match client
        .get(&format!("/apps/{env}/releases/{}/config-vars", release.id))
        .await
    {
        Ok(vars) => Some(vars),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    ctx.print(&render_release(&env, &release, config.as_ref()))
}

/// The release a rollback without argument goes back to: the newest succeeded release
/// older than the current one.
pub fn previous_release(releases: &[Release]) -> Option<&Release> {
    let current = releases.iter().find(|r| r.current)?;
    releases
        .iter()
        .filter(|r| r.version < current.version && r.status == "succeeded")
        .max_by_key(|r| r.version)
}

pub(crate) async fn rollback(ctx: &mut Context, args: RollbackArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("rollback")?;
    let to = match &args.release {
        Some(given) => fetch_release(&client, &env, given).await?,
        None => {
            let recent: Vec<Release> = client
                .get_range(
                    &format!("/apps/{env}/releases"),
                    "version ..; max=100, order=desc",
                )
                .await?;
            previous_release(&recent)
                .cloned()
                .ok_or_else(|| CliError::Usage(format!(
                    "{env} has no earlier succeeded release to roll back to. `doppel releases -a {env}` lists them; name one with `doppel rollback vN -a {env}`."
                )))?
        }
    };
    let body = ReleaseCreate {
        release: Some(serde_json::Value::String(to.id.clone())),
        ..ReleaseCreate::default()
    };
    let label = format!("Rolling back {env} to v{}", to.version);
    let path = format!("/apps/{env}/releases");
    let slow = client.with_timeout(ROLLOUT_TIMEOUT);
    let call = slow.post::<Release, _>(&path, &body);
    let (created, followed) = follow_release(ctx, &client, &env, &label, call).await?;
    if args.json {
        return ctx.print_json(&followed.unwrap_or(created));
    }
    ctx.note("Rollback brings back the image and config vars of that release; it does not add or remove add-ons.\n")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use doppel_api_types::common::{NamedRef, UserRef};
    use doppel_api_types::releases::ReleaseExtra;

    pub fn release(version: i64, description: &str, status: &str, current: bool) -> Release {
        Release {
            id: format!("r{version}"),
            version,
            status: status.into(),
            current,
            description: description.into(),
            slug: None,
            artifacts: Vec::new(),
            addon_plan_names: Vec::new(),
            user: Some(UserRef {
                id: "u1".into(),
                email: Some("a@example.com".into()),
            }),
            app: NamedRef::new("e", "myapp-staging"),
            output_stream_url: None,
            eligible_for_rollback: true,
            created_at: format!("2026-01-0{version}T00:00:00Z"),
            updated_at: String::new(),
            doppel: ReleaseExtra {
                image_id: format!("sha256:{version}"),
                ..ReleaseExtra::default()
            },
        }
    }

    #[test]
    fn renders_newest_first_with_current_and_failures() -> Result<(), CliError> {
        let env = EnvName::parse("myapp-staging")?;
        let releases = vec![
            release(1, "Initial release", "succeeded", false),
            release(3, "Deploy 1a2b3c4", "failed", false),
            release(2, "Set FOO config vars", "succeeded", true),
        ];
        let text = render_releases(&env, &releases, 15);
        let expected = "\
=== myapp-staging Releases - Current: v2
v3  Deploy 1a2b3c4 (failed)  a@example.com  2026-01-03T00:00:00Z
v2  Set FOO config vars      a@example.com  2026-01-02T00:00:00Z
v1  Initial release          a@example.com  2026-01-01T00:00:00Z
";
        assert_eq!(text, expected);
        let two = render_releases(&env, &releases, 2);
        assert!(!two.contains("v1 "), "{two}");
        assert!(render_releases(&env, &[], 15).contains("no releases yet"));
        Ok(())
    }

    #[test]
    fn rollback_default_is_the_previous_succeeded_release() {
        let releases = vec![
            release(4, "Set X", "succeeded", true),
            release(3, "Deploy b", "failed", false),
            release(2, "Deploy a", "succeeded", false),
            release(1, "Initial", "succeeded", false),
        ];
        assert_eq!(previous_release(&releases).map(|r| r.version), Some(2));
        assert!(previous_release(&releases[3..]).is_none());
    }

    #[test]
    fn release_segments() {
        assert_eq!(release_segment("v12").ok().as_deref(), Some("12"));
        assert_eq!(release_segment("12").ok().as_deref(), Some("12"));
        assert_eq!(release_segment("0c9f-aa").ok().as_deref(), Some("0c9f-aa"));
        assert!(release_segment("../x").is_err());
    }

    #[test]
    fn renders_info_with_config() -> Result<(), CliError> {
        let env = EnvName::parse("myapp")?;
        let vars: ConfigVars = [("FOO".to_string(), "bar".to_string())].into();
        let text = render_release(
            &env,
            &release(2, "Set FOO config vars", "succeeded", true),
            Some(&vars),
        );
        assert!(
            text.starts_with(
                "=== Release v2\nEnvironment: myapp\nChange:      Set FOO config vars\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("\n=== v2 Config vars\nFOO: bar\n"), "{text}");
        Ok(())
    }
}
