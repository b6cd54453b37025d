//! `apps`, `apps:create`, `apps:info`, `apps:destroy`: an app and its two environments.

use crate::auth::JsonArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::table::{key_values, Table};
use crate::target::{self, TargetArgs};
use doppel_api_types::apps::{App, AppCreate, EnvironmentSummary};
use doppel_types::{AppName, EnvName, Stage};
use std::collections::BTreeMap;

/// Arguments of `doppel apps:create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The app name; doppel creates NAME-staging and NAME
    pub name: String,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel apps:info`.
#[derive(Debug, Clone, clap::Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The environment (instead of -a)
    #[arg(value_name = "ENV", conflicts_with_all = ["app", "pipeline", "remote"])]
    pub env: Option<String>,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel apps:destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DestroyArgs {
    /// The app to destroy, with both its environments
    #[arg(value_name = "APP", required_unless_present = "pipeline")]
    pub name: Option<String>,
    /// The app to destroy (instead of the argument)
    #[arg(
        short = 'p',
        long = "pipeline",
        value_name = "APP",
        conflicts_with = "name"
    )]
    pub pipeline: Option<String>,
    /// The app name again, to confirm
    #[arg(long, value_name = "APP")]
    pub confirm: Option<String>,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// One environment as shown in listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvView {
    pub app: String,
    pub stage: Option<Stage>,
    pub name: String,
    pub web_url: String,
    pub git_url: String,
    pub private: bool,
}

impl EnvView {
    /// An environment as the API shows it (`doppel.app`, `doppel.stage`).
    pub fn from_app(app: &App) -> EnvView {
        EnvView {
            app: app.doppel.app.clone(),
            stage: Stage::parse(&app.doppel.stage),
            name: app.name.clone(),
            web_url: app.web_url.clone(),
            git_url: app.git_url.clone(),
            private: app.doppel.private,
        }
    }

    /// One entry of an app's `doppel.environments`.
    pub fn from_summary(app: &str, env: &EnvironmentSummary) -> EnvView {
        EnvView {
            app: app.to_string(),
            stage: Stage::parse(&env.stage),
            name: env.name.clone(),
            web_url: env.web_url.clone(),
            git_url: env.git_url.clone(),
            private: env.private,
        }
    }

    fn stage_word(&self) -> &'static str {
        self.stage.map(Stage::as_str).unwrap_or("-")
    }

    fn visibility(&self) -> &'static str {
        if self.private {
            "(private)"
        } else {
            "(public)"
        }
    }

    fn cells(&self, with_git: bool) -> Vec<String> {
        let mut cells = vec![
            String::new(),
            self.stage_word().to_string(),
            self.name.clone(),
            self.web_url.clone(),
            self.visibility().to_string(),
        ];
        if with_git {
            cells.push(format!("git: {}", self.git_url));
        }
        cells
    }
}

/// One app with its environments, staging first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGroup {
    pub app: String,
    pub envs: Vec<EnvView>,
}

fn sort_envs(envs: &mut [EnvView]) {
    // Staging before production; unknown stages last, by name.
    envs.sort_by(|a, b| {
        (a.stage.is_none(), a.stage, &a.name).cmp(&(b.stage.is_none(), b.stage, &b.name))
    });
}

/// Groups the per-environment app objects of `GET /apps` by app, sorted by name.
pub fn group_apps(apps: &[App]) -> Vec<AppGroup> {
    let mut groups: BTreeMap<String, Vec<EnvView>> = BTreeMap::new();
    for a in apps {
        let env = EnvView::from_app(a);
        groups.entry(env.app.clone()).or_default().push(env);
    }
    groups
        .into_iter()
        .map(|(app, mut envs)| {
            sort_envs(&mut envs);
            AppGroup { app, envs }
        })
        .collect()
}

/// The `doppel apps` listing: each app, then its environments, columns aligned across apps.
pub fn render_apps(groups: &[AppGroup]) -> String {
    if groups.is_empty() {
        return "You have no apps. Create one with `doppel apps:create NAME`.\n".to_string();
    }
    // Every environment in one table, so the columns line up across apps.
    let mut table = Table::plain();
    for e in groups.iter().flat_map(|g| g.envs.iter()) {
        table.row(e.cells(false));
    }
    let rendered = table.render();
    let mut lines = rendered.lines();
    let mut out = String::from("=== Apps\n");
    for g in groups {
        out.push_str(&g.app);
        out.push('\n');
        for line in lines.by_ref().take(g.envs.len()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What `apps:create` prints after "Creating NAME... done".
pub fn render_created(app: &App) -> String {
    let mut envs: Vec<EnvView> = app
        .doppel
        .environments
        .iter()
        .map(|e| EnvView::from_summary(&app.doppel.app, e))
        .collect();
    if envs.is_empty() {
        envs.push(EnvView::from_app(app));
    }
    sort_envs(&mut envs);
    let mut table = Table::plain();
    for e in &envs {
        table.row(e.cells(true));
    }
    let mut out = table.render();
    let name = &app.doppel.app;
    out.push_str(&format!(
        "Next: `doppel git:remote -p {name}` adds the staging and production git remotes; `git push staging main` deploys.\n"
    ));
    out
}

/// The `apps:info` summary of one environment.
pub fn render_info(app: &App) -> String {
    let env = EnvView::from_app(app);
    let mut rows: Vec<(&str, String)> = vec![(
        "App",
        format!(
            "{} ({}, {})",
            env.app,
            env.stage_word(),
            env.visibility().trim_matches(|c| c == '(' || c == ')')
        ),
    )];
    let twin = app
        .doppel
        .environments
        .iter()
        .find(|e| e.name != app.name)
        .map(|e| e.name.clone());
    let mut push = |label: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            rows.push((label, v));
        }
    };
    push("Web URL", Some(env.web_url.clone()));
    push("Git URL", Some(env.git_url.clone()));
    push("Other env", twin);
    push("Owner", app.owner.as_ref().and_then(|o| o.email.clone()));
    push("Region", Some(app.region.name.clone()));
    push("Stack", Some(app.stack.name.clone()));
    push(
        "Maintenance",
        Some(if app.maintenance { "on" } else { "off" }.to_string()),
    );
    push("Created", Some(app.created_at.clone()));
    push("Released", app.released_at.clone());
    format!("=== {}\n{}", env.name, key_values(&rows))
}

/// Checks an environment name (or id) before it goes into a URL path.
pub(crate) fn env_segment(name: &str) -> Result<&str, CliError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(name)
    } else {
        EnvName::parse(name)?;
        Ok(name)
    }
}

pub(crate) async fn list(ctx: &mut Context, args: JsonArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let apps: Vec<App> = client.get("/apps").await?;
    if args.json {
        return ctx.print_json(&apps);
    }
    ctx.print(&render_apps(&group_apps(&apps)))
}

pub(crate) async fn create(ctx: &mut Context, args: CreateArgs) -> Result<(), CliError> {
    let name = AppName::parse(args.name.trim())?;
    let client = ctx.client()?;
    ctx.note(&format!(
        "Creating {name} ({} and {name})... ",
        name.env_name(Stage::Staging)
    ))?;
    let body = AppCreate {
        name: Some(name.to_string()),
        ..AppCreate::default()
    };
    let app: App = match client.post("/apps", &body).await {
        Ok(app) => {
            ctx.note("done\n")?;
            app
        }
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    if args.json {
        return ctx.print_json(&app);
    }
    ctx.print(&render_created(&app))
}

pub(crate) async fn info(ctx: &mut Context, args: InfoArgs) -> Result<(), CliError> {
    let mut targeting = args.target.clone();
    if let Some(env) = &args.env {
        targeting.app = Some(env.clone());
    }
    let (client, target) = target::client_and_target(ctx, &targeting)?;
    let shown: Vec<(EnvName, App)> = target.get_each(&client, "").await?;
    ctx.print_per_env(&shown, args.json, |_, app| render_info(app))
}

/// The app `apps:destroy` names, checked against `--confirm`.
fn confirmed_app(args: &DestroyArgs) -> Result<AppName, CliError> {
    let given = args
        .name
        .as_deref()
        .or(args.pipeline.as_deref())
        .ok_or(CliError::NoApp)?;
    let name = AppName::parse(given.trim()).map_err(|e| {
        // `apps:destroy myapp-staging` means the app, which has no single environment to destroy.
        match EnvName::parse(given.trim()) {
            Ok(env) if env.split().1 == Stage::Staging => CliError::WholeAppOnly {
                command: "apps:destroy",
                app: env.split().0,
                env: env.to_string(),
            },
            _ => CliError::InvalidName(e),
        }
    })?;
    match &args.confirm {
        None => Err(CliError::ConfirmRequired {
            name: name.to_string(),
        }),
        Some(given) if given.trim() != name.as_str() => Err(CliError::ConfirmMismatch {
            name: name.to_string(),
            given: given.clone(),
        }),
        Some(_) => Ok(name),
    }
}

pub(crate) async fn destroy(ctx: &mut Context, args: DestroyArgs) -> Result<(), CliError> {
    let name = confirmed_app(&args)?;
    let client = ctx.client()?;
    ctx.note(&format!(
        "Destroying {name} ({} and {})... ",
        name.env_name(Stage::Staging),
        name.env_name(Stage::Production)
    ))?;
    match client.delete::<App>(&format!("/apps/{name}")).await {
        Ok(app) => {
            ctx.note("done\n")?;
            if args.json {
                ctx.print_json(&app)?;
            }
            Ok(())
        }
        Err(e) => {
            ctx.note("!\n")?;
            Err(e)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use doppel_api_types::apps::AppExtra;
    use doppel_api_types::common::{NamedRef, UserRef};

    /// An app object as the server shows one environment.
    pub fn app_obj(app: &str, stage: &str) -> App {
        let name = if stage == "staging" {
            format!("{app}-staging")
        } else {
            app.to_string()
        };
        let summary = |n: String, s: &str| EnvironmentSummary {
            id: format!("id-{n}"),
            web_url: format!("https://{n}.localhost:8443/"),
            git_url: format!("https://localhost:8443/{n}.git"),
            stage: s.into(),
            private: s == "staging",
            name: n,
        };
        App {
            id: format!("id-{name}"),
            name: name.clone(),
            created_at: "2026-01-01T12:00:00Z".into(),
            updated_at: "2026-01-01T12:00:00Z".into(),
            released_at: None,
            archived_at: None,
            acm: false,
            maintenance: false,
            internal_routing: false,
            repo_size: None,
            slug_size: None,
            web_url: format!("https://{name}.localhost:8443/"),
            git_url: format!("https://localhost:8443/{name}.git"),
            buildpack_provided_description: None,
            owner: Some(UserRef {
                id: "u1".into(),
                email: Some("admin@example.com".into()),
            }),
            region: NamedRef::new("r", "local"),
            stack: NamedRef::new("s", "debian-testing"),
            build_stack: NamedRef::new("s", "debian-testing"),
            generation: NamedRef::new("g", "cedar"),
            organization: None,
            team: None,
            space: None,
            doppel: AppExtra {
                app: app.into(),
                stage: stage.into(),
                private: stage == "staging",
                environments: vec![
                    summary(app.to_string(), "production"),
                    summary(format!("{app}-staging"), "staging"),
                ],
            },
        }
    }

    #[test]
    fn groups_environments_by_app_staging_first() {
        let apps = vec![
            app_obj("zeta", "production"),
            app_obj("alpha", "production"),
            app_obj("zeta", "staging"),
            app_obj("alpha", "staging"),
        ];
        let groups = group_apps(&apps);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].app, "alpha");
        assert_eq!(groups[0].envs[0].name, "alpha-staging");
        assert!(groups[0].envs[0].private);
        assert_eq!(groups[0].envs[1].name, "alpha");
        assert!(!groups[0].envs[1].private);
        assert_eq!(groups[1].app, "zeta");
    }

    #[test]
    fn renders_app_listing_aligned() {
        let apps = vec![
            app_obj("myapp", "staging"),
            app_obj("myapp", "production"),
            app_obj("blog", "staging"),
            app_obj("blog", "production"),
        ];
        let text = render_apps(&group_apps(&apps));
        let expected = "\
=== Apps
blog
  staging     blog-staging   https://blog-staging.localhost:8443/   (private)
  production  blog           https://blog.localhost:8443/           (public)
myapp
  staging     myapp-staging  https://myapp-staging.localhost:8443/  (private)
  production  myapp          https://myapp.localhost:8443/          (public)
";
        assert_eq!(text, expected);
        assert!(render_apps(&[]).contains("apps:create"));
    }

    #[test]
    fn renders_created_app_with_both_environments_and_next_step() {
        let text = render_created(&app_obj("myapp", "production"));
        let expected = concat!(
            "  staging     myapp-staging  https://myapp-staging.localhost:8443/  (private)  git: https://localhost:8443/myapp-staging.git\n",
            "  production  myapp          https://myapp.localhost:8443/          (public)   git: https://localhost:8443/myapp.git\n",
            "Next: `doppel git:remote -p myapp` adds the staging and production git remotes; `git push staging main` deploys.\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn renders_info() {
        let text = render_info(&app_obj("myapp", "staging"));
        assert!(text.starts_with("=== myapp-staging\n"), "{text}");
        assert!(
            text.contains("App:         myapp (staging, private)\n"),
            "{text}"
        );
        assert!(text.contains("Owner:       admin@example.com\n"), "{text}");
        assert!(text.contains("Other env:   myapp\n"), "{text}");
        assert!(
            text.contains("Git URL:     https://localhost:8443/myapp-staging.git\n"),
            "{text}"
        );
    }

    #[test]
    fn env_segment_rejects_path_tricks() {
        assert!(env_segment("myapp-staging").is_ok());
        assert!(env_segment("01234567-89ab-cdef-0123-456789abcdef").is_ok());
        assert!(env_segment("../account").is_err());
        assert!(env_segment("My App").is_err());
        assert!(env_segment("").is_err());
    }

    #[test]
    fn destroy_needs_the_app_and_a_matching_confirm() {
        let args = |name: &str, confirm: Option<&str>| DestroyArgs {
            name: Some(name.into()),
            pipeline: None,
            confirm: confirm.map(str::to_string),
            json: false,
        };
        assert!(confirmed_app(&args("myapp", Some("myapp"))).is_ok());
        let e = confirmed_app(&args("myapp", None)).err();
        assert!(e.is_some_and(|e| e.to_string().contains("--confirm myapp")));
        let e = confirmed_app(&args("myapp", Some("other"))).err();
        assert!(matches!(e, Some(CliError::ConfirmMismatch { .. })));
        let e = confirmed_app(&args("myapp-staging", Some("myapp-staging"))).err();
        assert!(
            e.as_ref()
                .is_some_and(|e| e.to_string().contains("use -p myapp")),
            "{e:?}"
        );
    }
}
