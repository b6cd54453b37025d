//! Precedence (flags > environment > file > defaults), key and type checks, and the file's
//! location, all without touching the process environment.

use super::*;
use std::collections::HashMap;

#[derive(clap::Args, Debug)]
struct Demo {
    #[command(flatten)]
    config: ConfigFlags,
    #[arg(long, env = "DEMO_PORT", default_value_t = 80)]
    port: u16,
    #[arg(long, env = "DEMO_NAME", default_value = "localhost")]
    name: String,
    #[arg(long, env = "DEMO_DIR", default_value = "/var/lib/demo")]
    dir: PathBuf,
    #[arg(long, env = "DEMO_DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, env = "DEMO_VERBOSE")]
    verbose: bool,
    #[arg(long, env = "DEMO_ALLOW", value_delimiter = ',')]
    allow: Vec<String>,
    #[arg(long)]
    no_env: Option<u64>,
    #[arg(long, env = "DEMO_CPUS", default_value_t = 2.0)]
    cpus: f64,
}

/// The part of `Demo` that `narrow` shares, as `doppel stack build` shares the stack flags.
#[derive(clap::Args, Debug)]
struct Narrow {
    #[command(flatten)]
    config: ConfigFlags,
    #[arg(long, env = "DEMO_NAME", default_value = "localhost")]
    name: String,
    #[arg(long)]
    force: bool,
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |name| map.get(name).cloned()
}

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("demo")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect()
}

fn resolve(
    args: &[&str],
    env: &[(&str, &str)],
    file: Option<&str>,
) -> Result<Resolved<Demo>, ConfigError> {
    let inv = Invocation::<Demo>::parse("demo", &argv(args))?;
    let file = file.map(|text| FileText {
        path: Path::new("/etc/demo.toml"),
        text,
    });
    inv.resolve(&env_of(env), file)
}

fn ok(args: &[&str], env: &[(&str, &str)], file: Option<&str>) -> Resolved<Demo> {
    match resolve(args, env, file) {
        Ok(r) => r,
        Err(e) => panic!("expected settings, got: {e}"),
    }
}

fn err(args: &[&str], env: &[(&str, &str)], file: Option<&str>) -> String {
    match resolve(args, env, file) {
        Ok(r) => panic!("expected an error, got {:?}", r.args),
        Err(e) => e.to_string(),
    }
}

fn origin(r: &Resolved<Demo>, key: &str) -> Origin {
    match r.settings.iter().find(|s| s.key == key) {
        Some(s) => s.origin.clone(),
        None => panic!("no setting {key}"),
    }
}

#[test]
fn defaults_without_flags_environment_or_file() {
    let r = ok(&[], &[], None);
    assert_eq!(r.args.port, 80);
    assert_eq!(r.args.name, "localhost");
    assert_eq!(r.args.database_url, None);
    assert!(!r.args.verbose);
    assert!(r.args.allow.is_empty());
    assert_eq!(origin(&r, "port"), Origin::Default);
    assert!(!r.print_config);
}

#[test]
fn file_beats_defaults() {
    let r = ok(&[], &[], Some("port = 8080\nname = \"example.com\"\n"));
    assert_eq!(r.args.port, 8080);
    assert_eq!(r.args.name, "example.com");
    assert_eq!(origin(&r, "port"), Origin::File);
    assert_eq!(origin(&r, "dir"), Origin::Default);
}

#[test]
fn environment_beats_file() {
    let r = ok(&[], &[("DEMO_PORT", "9090")], Some("port = 8080\n"));
    assert_eq!(r.args.port, 9090);
    assert_eq!(origin(&r, "port"), Origin::Env("DEMO_PORT".into()));
}

#[test]
fn flag_beats_environment_and_file() {
    let r = ok(
        &["--port", "7070"],
        &[("DEMO_PORT", "9090")],
        Some("port = 8080\n"),
    );
    assert_eq!(r.args.port, 7070);
    assert_eq!(origin(&r, "port"), Origin::Flag);
}

#[test]
fn each_key_takes_its_own_layer() {
    let r = ok(
        &["--name=flag.example"],
        &[("DEMO_DIR", "/srv/env")],
        Some("name = \"file.example\"\ndir = \"/srv/file\"\nport = 81\n"),
    );
    assert_eq!(r.args.name, "flag.example");
    assert_eq!(r.args.dir, PathBuf::from("/srv/env"));
    assert_eq!(r.args.port, 81);
    assert_eq!(r.args.database_url, None);
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let r = ok(&[], &[("DEMO_PORT", "")], Some("port = 8080\n"));
    assert_eq!(r.args.port, 8080);
}

#[test]
fn switches_from_file_and_environment() {
    assert!(ok(&[], &[], Some("verbose = true\n")).args.verbose);
    assert!(!ok(&[], &[], Some("verbose = false\n")).args.verbose);
    assert!(
        !ok(&[], &[("DEMO_VERBOSE", "false")], Some("verbose = true\n"))
            .args
            .verbose
    );
    assert!(
        ok(&["--verbose"], &[("DEMO_VERBOSE", "no")], None)
            .args
            .verbose
    );
    let e = err(&[], &[("DEMO_VERBOSE", "maybe")], None);
    assert!(
        e.contains("DEMO_VERBOSE=\"maybe\": must be true or false"),
        "{e}"
    );
}

#[test]
fn lists_from_file_arrays_and_delimited_variables() {
    let r = ok(&[], &[], Some("allow = [\"a\", \"b\"]\n"));
    assert_eq!(r.args.allow, ["a", "b"]);
    let r = ok(&[], &[("DEMO_ALLOW", "c,d")], Some("allow = [\"a\"]\n"));
    assert_eq!(r.args.allow, ["c", "d"]);
    let r = ok(&["--allow", "e"], &[("DEMO_ALLOW", "c")], None);
    assert_eq!(r.args.allow, ["e"]);
}

#[test]
fn numbers_take_floats_and_integers() {
    assert_eq!(ok(&[], &[], Some("cpus = 1.5\n")).args.cpus, 1.5);
    assert_eq!(ok(&[], &[], Some("cpus = 3\n")).args.cpus, 3.0);
    let e = err(&[], &[], Some("cpus = \"3\"\n"));
    assert!(e.contains("`cpus` must be a number, not a string"), "{e}");
    let out = ok(&[], &[], None).to_toml("demo");
    assert!(out.lines().any(|l| l.starts_with("cpus = 2 ")), "{out}");
}

#[test]
fn a_key_without_a_variable_still_comes_from_the_file() {
    let r = ok(&[], &[], Some("no-env = 5\n"));
    assert_eq!(r.args.no_env, Some(5));
}

#[test]
fn unknown_keys_are_named_with_file_and_line() {
    let e = err(&[], &[], Some("port = 80\n\ndata_dir = \"/x\"\n"));
    assert!(e.contains("/etc/demo.toml"), "{e}");
    assert!(e.contains("line 3: unknown key `data_dir`"), "{e}");
    assert!(e.contains("known keys: port, name, dir"), "{e}");
    let e = err(&[], &[], Some("nam_e = \"x\"\n"));
    assert!(!e.contains("did you mean"), "{e}");
    let e = err(&[], &[], Some("database_url = \"x\"\n"));
    assert!(e.contains("did you mean `database-url`?"), "{e}");
}

#[test]
fn the_config_flags_are_not_keys() {
    let e = err(&[], &[], Some("config = \"/x\"\n"));
    assert!(e.contains("unknown key `config`"), "{e}");
    let e = err(&[], &[], Some("print-config = true\n"));
    assert!(e.contains("unknown key `print-config`"), "{e}");
}

#[test]
fn wrong_types_and_bad_values_are_refused() {
    let e = err(&[], &[], Some("port = \"80\"\n"));
    assert!(
        e.contains("line 1: `port` must be an integer, not a string"),
        "{e}"
    );
    let e = err(&[], &[], Some("name = 5\n"));
    assert!(
        e.contains("`name` must be a string in quotes, not an integer"),
        "{e}"
    );
    let e = err(&[], &[], Some("port = 70000\n"));
    assert!(
        e.contains("line 1: `port`: 70000 is not in 0..=65535"),
        "{e}"
    );
    let e = err(&[], &[], Some("verbose = \"yes\"\n"));
    assert!(
        e.contains("`verbose` must be true or false, not a string"),
        "{e}"
    );
    let e = err(&[], &[], Some("allow = \"a\"\n"));
    assert!(e.contains("`allow` must be an array of a string"), "{e}");
    let e = err(&[], &[], Some("[dir]\nx = 1\n"));
    assert!(
        e.contains("`dir` must be a string in quotes, not a table"),
        "{e}"
    );
}

#[test]
fn every_problem_of_the_file_is_listed_in_line_order() {
    let e = err(&[], &[], Some("port = -1\nbogus = 1\nname = 2\n"));
    assert!(e.contains("has 3 problem(s)"), "{e}");
    let first = e.find("line 1").unwrap_or(usize::MAX);
    let second = e.find("line 2").unwrap_or(0);
    assert!(first < second, "{e}");
}

#[test]
fn a_file_value_is_refused_even_when_a_flag_overrides_it() {
    let e = err(&["--port", "1"], &[], Some("port = \"x\"\n"));
    assert!(e.contains("`port` must be an integer"), "{e}");
}

#[test]
fn bad_environment_values_name_the_variable() {
    let e = err(&[], &[("DEMO_PORT", "eighty")], None);
    assert!(e.contains("DEMO_PORT=\"eighty\": invalid digit"), "{e}");
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let e = err(&[], &[], Some("port = \n"));
    assert!(e.contains("/etc/demo.toml is not valid TOML"), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn location_is_flag_then_variable_then_default() {
    let inv = Invocation::<Demo>::parse("demo", &argv(&[])).expect("parse");
    let loc = inv.location(&env_of(&[]));
    assert_eq!(loc.path, PathBuf::from(DEFAULT_PATH));
    assert_eq!(loc.named_by, None);
    let loc = inv.location(&env_of(&[("DOPPEL_CONFIG", "/env.toml")]));
    assert_eq!(loc.path, PathBuf::from("/env.toml"));
    assert_eq!(loc.named_by.as_deref(), Some("DOPPEL_CONFIG"));
    let inv = Invocation::<Demo>::parse("demo", &argv(&["--config", "/flag.toml"])).expect("parse");
    let loc = inv.location(&env_of(&[("DOPPEL_CONFIG", "/env.toml")]));
    assert_eq!(loc.path, PathBuf::from("/flag.toml"));
    assert_eq!(loc.named_by.as_deref(), Some("--config"));
}

#[test]
fn load_skips_a_missing_default_but_not_a_missing_named_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.toml");
    let missing = missing.to_string_lossy();
    let inv = Invocation::<Demo>::parse("demo", &argv(&["--config", &missing])).expect("parse");
    let e = load(&inv, &env_of(&[]))
        .map(|r| r.args)
        .expect_err("a missing named file is an error")
        .to_string();
    assert!(
        e.contains("missing.toml (named by --config) does not exist"),
        "{e}"
    );
    let inv = Invocation::<Demo>::parse("demo", &argv(&[])).expect("parse");
    let e = load(&inv, &env_of(&[("DOPPEL_CONFIG", &missing)]))
        .map(|r| r.args)
        .expect_err("a missing named file is an error")
        .to_string();
    assert!(e.contains("(named by DOPPEL_CONFIG) does not exist"), "{e}");

    let present = dir.path().join("doppel.toml");
    std::fs::write(&present, "port = 8443\n").expect("write");
    let present = present.to_string_lossy();
    let inv = Invocation::<Demo>::parse("demo", &argv(&["--config", &present])).expect("parse");
    let r = load(&inv, &env_of(&[])).expect("load");
    assert_eq!(r.args.port, 8443);
    assert_eq!(r.file.as_deref(), Some(Path::new(present.as_ref())));
}

#[test]
fn a_narrower_command_reads_the_wider_file() {
    let inv = Invocation::<Narrow>::parse("narrow", &[OsString::from("narrow")])
        .expect("parse")
        .file_keys_of::<Demo>("demo");
    let file = FileText {
        path: Path::new("/etc/demo.toml"),
        text: "name = \"shared\"\nport = 8080\n",
    };
    let r = inv.resolve(&env_of(&[]), Some(file)).expect("resolve");
    assert_eq!(r.args.name, "shared");
    assert!(!r.args.force);
    // Its own flags that the wider command lacks are not keys, and types are still checked.
    for text in ["force = true\n", "port = \"x\"\n"] {
        let file = FileText {
            path: Path::new("/etc/demo.toml"),
            text,
        };
        assert!(inv.resolve(&env_of(&[]), Some(file)).is_err(), "{text}");
    }
}

#[test]
fn print_config_shows_values_and_origins_but_hides_secrets() {
    let r = ok(
        &["--print-config", "--name", "x.example"],
        &[
            ("DEMO_PORT", "9090"),
            ("DEMO_DATABASE_URL", "postgres://u:pw@h/db"),
        ],
        Some("dir = \"/srv/d\"\nallow = [\"a\", \"b\"]\n"),
    );
    assert!(r.print_config);
    let out = r.to_toml("demo");
    assert!(out.contains("/etc/demo.toml > default"), "{out}");
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(key) || l.starts_with(&format!("# {key} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("port").starts_with("port = 9090"), "{out}");
    assert!(line("port").ends_with("# environment DEMO_PORT"), "{out}");
    assert!(line("name").starts_with("name = \"x.example\""), "{out}");
    assert!(line("name").ends_with("# flag"), "{out}");
    assert!(line("dir").ends_with("# config file"), "{out}");
    assert!(line("allow").starts_with("allow = [\"a\", \"b\"]"), "{out}");
    assert!(line("verbose").starts_with("verbose = false"), "{out}");
    assert!(line("no-env").starts_with("# no-env is not set"), "{out}");
    assert!(!out.contains("pw"), "{out}");
    assert!(line("database-url").contains("is set (not shown"), "{out}");
    // Everything but the comments parses back as TOML.
    assert!(DeTable::parse(&out).is_ok(), "{out}");
}
