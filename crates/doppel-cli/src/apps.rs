//! `apps`, `apps:create`, `apps:info`, `apps:destroy`: an app and its two environments.

use crate::auth::JsonArgs;
use crate::context::Context;
use crate::error::CliError;
use doppel_types::{AppName, EnvName, Stage};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Arguments of `doppel apps:create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The app name; doppel creates NAME-staging and NAME
    pub name: String,
    /// Print the server's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel apps:info`.
#[derive(Debug, Clone, clap::Args)]
pub struct InfoArgs {
    /// The environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// The environment (instead of -a)
    #[arg(value_name = "ENV", conflicts_with = "app")]
    pub env: Option<String>,
    /// Print the server's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel apps:destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DestroyArgs {
    /// The app to destroy, with both its environments
    pub name: String,
    /// The app name again, to confirm
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
    /// Print the server's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// One environment as shown in listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvView {
    pub app: String,
    pub stage: Option<Stage>,
    pub name: String,
    pub web_url: Option<String>,
    pub git_url: Option<String>,
    pub private: bool,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl EnvView {
    /// Reads a Heroku app object, using doppel's `"doppel": {"app","stage"}` when present
    /// and the name (`<app>-staging` / `<app>`) otherwise.
    pub fn from_app_object(v: &Value) -> EnvView {
        let name = str_field(v, "name").unwrap_or_default();
        let doppel = v.get("doppel");
        let (guess_app, guess_stage) = match EnvName::parse(&name) {
            Ok(env) => {
                let (app, stage) = env.split();
                (app, Some(stage))
            }
            Err(_) => (name.clone(), None),
        };
        let app = doppel
            .and_then(|d| str_field(d, "app"))
            .unwrap_or(guess_app);
        let stage = doppel
            .and_then(|d| d.get("stage"))
            .and_then(Value::as_str)
            .and_then(Stage::parse)
            .or(guess_stage);
        Self::build(app, stage, name, v, doppel)
    }

    /// Reads one entry of `doppel.environments` (`{name, stage, web_url, git_url}`).
    pub fn from_environment(app: &str, v: &Value) -> EnvView {
        let name = str_field(v, "name").unwrap_or_default();
        let stage = v
            .get("stage")
            .and_then(Value::as_str)
            .and_then(Stage::parse);
        Self::build(app.to_string(), stage, name, v, Some(v))
    }

    fn build(
        app: String,
        stage: Option<Stage>,
        name: String,
        v: &Value,
        doppel: Option<&Value>,
    ) -> EnvView {
        let private = doppel
            .and_then(|d| d.get("private"))
            .and_then(Value::as_bool)
            .unwrap_or_else(|| stage.is_some_and(Stage::private_by_default));
        EnvView {
            app,
            stage,
            name,
            web_url: str_field(v, "web_url"),
            git_url: str_field(v, "git_url"),
            private,
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
}

/// One app with its environments, staging first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppGroup {
    pub app: String,
    pub envs: Vec<EnvView>,
}

/// Groups the per-environment app objects of `GET /apps` by app, sorted by name.
pub fn group_apps(apps: &[Value]) -> Vec<AppGroup> {
    let mut groups: BTreeMap<String, Vec<EnvView>> = BTreeMap::new();
    for v in apps {
        let env = EnvView::from_app_object(v);
        groups.entry(env.app.clone()).or_default().push(env);
    }
    groups
        .into_iter()
        .map(|(app, mut envs)| {
            // Staging before production; unknown stages last, by name.
            envs.sort_by(|a, b| {
                (a.stage.is_none(), a.stage, &a.name).cmp(&(b.stage.is_none(), b.stage, &b.name))
            });
            AppGroup { app, envs }
        })
        .collect()
}

/// Aligned lines, one per environment:
/// `  staging     myapp-staging  https://…/  (private)  git: https://…/myapp-staging.git`.
pub fn render_env_lines<'a>(envs: impl IntoIterator<Item = &'a EnvView>, with_git: bool) -> String {
    let envs: Vec<&EnvView> = envs.into_iter().collect();
    let stage_w = envs.iter().map(|e| e.stage_word().len()).max().unwrap_or(0);
    let name_w = envs.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let url_w = envs
        .iter()
        .map(|e| e.web_url.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for e in envs {
        let mut line = format!(
            "  {:<stage_w$}  {:<name_w$}  {:<url_w$}  {:<9}",
            e.stage_word(),
            e.name,
            e.web_url.as_deref().unwrap_or("-"),
            e.visibility(),
        );
        if with_git {
            if let Some(git) = &e.git_url {
                line.push_str(&format!("  git: {git}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The `doppel apps` listing.
pub fn render_apps(groups: &[AppGroup]) -> String {
    if groups.is_empty() {
        return "You have no apps. Create one with `doppel apps:create NAME`.\n".to_string();
    }
    let all: Vec<&EnvView> = groups.iter().flat_map(|g| g.envs.iter()).collect();
    // Render every environment together so the columns line up across apps.
    let rendered = render_env_lines(all.iter().copied(), false);
    let mut lines = rendered.lines();
    let mut out = String::from("=== Apps\n");
    for g in groups {
        out.push_str(&g.app);
        out.push('\n');
        for _ in &g.envs {
            if let Some(line) = lines.next() {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// What `apps:create` prints after "Creating NAME... done".
pub fn render_created(app: &Value) -> String {
    let top = EnvView::from_app_object(app);
    let envs: Vec<EnvView> = match app
        .get("doppel")
        .and_then(|d| d.get("environments"))
        .and_then(Value::as_array)
    {
        Some(list) if !list.is_empty() => {
            let mut envs: Vec<EnvView> = list
                .iter()
                .map(|e| EnvView::from_environment(&top.app, e))
                .collect();
            envs.sort_by_key(|e| (e.stage.is_none(), e.stage));
            envs
        }
        _ => vec![top],
    };
    let mut out = render_env_lines(&envs, true);
    let push_target = envs
        .iter()
        .find(|e| e.stage == Some(Stage::Staging))
        .or(envs.first())
        .and_then(|e| e.git_url.clone());
    if let Some(git) = push_target {
        out.push_str(&format!("Deploy with: git push {git} main\n"));
    }
    out
}

/// The `apps:info` summary.
pub fn render_info(app: &Value) -> String {
    let env = EnvView::from_app_object(app);
    let nested = |key: &str, field: &str| {
        app.get(key)
            .and_then(|v| v.get(field))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut rows: Vec<(&str, String)> = vec![(
        "App",
        format!(
            "{} ({}, {})",
            env.app,
            env.stage_word(),
            env.visibility().trim_matches(|c| c == '(' || c == ')')
        ),
    )];
    let mut push = |label: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            rows.push((label, v));
        }
    };
    push("Web URL", env.web_url.clone());
    push("Git URL", env.git_url.clone());
    push("Owner", nested("owner", "email"));
    push("Region", nested("region", "name"));
    push("Stack", nested("stack", "name"));
    push(
        "Maintenance",
        app.get("maintenance")
            .and_then(Value::as_bool)
            .map(|m| if m { "on" } else { "off" }.to_string()),
    );
    push("Created", str_field(app, "created_at"));
    push("Released", str_field(app, "released_at"));
    let width = rows.iter().map(|(l, _)| l.len() + 1).max().unwrap_or(0);
    let mut out = format!("=== {}\n", env.name);
    for (label, value) in rows {
        out.push_str(&format!("{:<width$} {value}\n", format!("{label}:")));
    }
    out
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
    let apps: Value = client.get("/apps").await?;
    if args.json {
        return ctx.print_json(&apps);
    }
    let list = apps.as_array().map(Vec::as_slice).unwrap_or(&[]);
    ctx.print(&render_apps(&group_apps(list)))
}

pub(crate) async fn create(ctx: &mut Context, args: CreateArgs) -> Result<(), CliError> {
    let name = AppName::parse(&args.name)?;
    let client = ctx.client()?;
    ctx.note(&format!("Creating {name}... "))?;
    let result: Result<Value, CliError> = client
        .post("/apps", &json!({ "name": name.as_str() }))
        .await;
    let app = match result {
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
    let env = args.app.or(args.env).ok_or(CliError::NoApp)?;
    let env = env_segment(&env)?;
    let client = ctx.client()?;
    let app: Value = client.get(&format!("/apps/{env}")).await?;
    if args.json {
        return ctx.print_json(&app);
    }
    ctx.print(&render_info(&app))
}

pub(crate) async fn destroy(ctx: &mut Context, args: DestroyArgs) -> Result<(), CliError> {
    let name = AppName::parse(&args.name)?;
    match args.confirm {
        None => {
            return Err(CliError::ConfirmRequired {
                name: name.to_string(),
            })
        }
        Some(given) if given != name.as_str() => {
            return Err(CliError::ConfirmMismatch {
                name: name.to_string(),
                given,
            })
        }
        Some(_) => {}
    }
    let client = ctx.client()?;
    ctx.note(&format!(
        "Destroying {name} ({} and {})... ",
        name.env_name(Stage::Staging),
        name.env_name(Stage::Production)
    ))?;
    let result: Result<Value, CliError> = client.delete(&format!("/apps/{name}")).await;
    match result {
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
mod tests {
    use super::*;

    fn env_obj(app: &str, stage: &str) -> Value {
        let name = if stage == "staging" {
            format!("{app}-staging")
        } else {
            app.to_string()
        };
        json!({
            "id": format!("id-{name}"),
            "name": name,
            "web_url": format!("https://{name}.localhost:8443/"),
            "git_url": format!("https://localhost:8443/{name}.git"),
            "doppel": {"app": app, "stage": stage},
        })
    }

    #[test]
    fn groups_environments_by_app_staging_first() {
        let apps = vec![
            env_obj("zeta", "production"),
            env_obj("alpha", "production"),
            env_obj("zeta", "staging"),
            env_obj("alpha", "staging"),
        ];
        let groups = group_apps(&apps);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].app, "alpha");
        assert_eq!(groups[0].envs[0].name, "alpha-staging");
        assert_eq!(groups[0].envs[0].stage, Some(Stage::Staging));
        assert!(groups[0].envs[0].private);
        assert_eq!(groups[0].envs[1].name, "alpha");
        assert!(!groups[0].envs[1].private);
        assert_eq!(groups[1].app, "zeta");
    }

    #[test]
    fn groups_by_name_when_doppel_key_is_missing() {
        let apps = vec![
            json!({"name": "shop", "web_url": "https://shop.localhost/"}),
            json!({"name": "shop-staging", "web_url": "https://shop-staging.localhost/"}),
        ];
        let groups = group_apps(&apps);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].app, "shop");
        assert_eq!(groups[0].envs[0].stage, Some(Stage::Staging));
        assert_eq!(groups[0].envs[1].stage, Some(Stage::Production));
    }

    #[test]
    fn renders_app_listing_aligned() {
        let apps = vec![
            env_obj("myapp", "staging"),
            env_obj("myapp", "production"),
            env_obj("blog", "staging"),
            env_obj("blog", "production"),
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
    fn renders_created_app_with_both_environments_and_push_hint() {
        let mut app = env_obj("myapp", "production");
        app["doppel"]["environments"] = json!([
            {"name": "myapp", "stage": "production", "web_url": "https://myapp.localhost:8443/", "git_url": "https://localhost:8443/myapp.git"},
            {"name": "myapp-staging", "stage": "staging", "web_url": "https://myapp-staging.localhost:8443/", "git_url": "https://localhost:8443/myapp-staging.git"},
        ]);
        let text = render_created(&app);
        let expected = concat!(
            "  staging     myapp-staging  https://myapp-staging.localhost:8443/  (private)  git: https://localhost:8443/myapp-staging.git\n",
            "  production  myapp          https://myapp.localhost:8443/          (public)   git: https://localhost:8443/myapp.git\n",
            "Deploy with: git push https://localhost:8443/myapp-staging.git main\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn renders_info() {
        let mut app = env_obj("myapp", "staging");
        app["owner"] = json!({"id": "u1", "email": "admin@example.com"});
        app["stack"] = json!({"id": "s", "name": "heroku-24"});
        app["created_at"] = json!("2026-01-01T12:00:00Z");
        let text = render_info(&app);
        assert!(text.starts_with("=== myapp-staging\n"), "{text}");
        assert!(
            text.contains("App:     myapp (staging, private)\n"),
            "{text}"
        );
        assert!(text.contains("Owner:   admin@example.com\n"), "{text}");
        assert!(
            text.contains("Git URL: https://localhost:8443/myapp-staging.git\n"),
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
}
