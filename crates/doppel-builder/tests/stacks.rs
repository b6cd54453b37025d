//! Engine tests of the stacks: each made stack carries exactly the Pythons the catalog says,
//! and an app moved between stacks (the stack chosen per build, as the environment's
//! `build_stack` will choose it) gets each stack's Python, or a message naming the stack that
//! has the Python it asks for.

mod common;

use common::{request, run_build};
use doppel_builder::{build, BuildError, StackCatalog};
use doppel_docker::{ContainerRuntime, ContainerSpec, DockerRuntime};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Runs `script` with bash in a throwaway container of `image` (as uid 1000, through
/// doppel-launch when the image has it); returns its output.
async fn run_in(rt: &DockerRuntime, image: &str, script: &str) -> String {
    let spec = ContainerSpec {
        name: None,
        image: image.to_string(),
        cmd: Some(vec!["bash".into(), "-c".into(), script.into()]),
        user: Some("1000:1000".into()),
        labels: [("doppel.test".to_string(), "doppel-builder".to_string())].into(),
        ..Default::default()
    };
    let id = rt.create_container(spec).await.expect("create");
    rt.start(&id).await.expect("start");
    let mut lines = rt.logs(&id).await.expect("logs");
    let mut out = String::new();
    while let Some(Ok(line)) = lines.next().await {
        out.push_str(&line);
        out.push('\n');
    }
    let _ = rt.wait(&id).await;
    let _ = rt.remove(&id, true).await;
    out
}

#[tokio::test]
async fn made_stacks_carry_the_pythons_the_catalog_lists() {
    let rt = common::runtime().await;
    let catalog = StackCatalog::default();
    // The default stack is always made for the tests; others only count when made.
    common::stack(&rt).await;
    let mut checked = 0;
    for status in catalog.status(&*rt).await.expect("status") {
        if !status.built {
            println!("{}: not made, not checked", status.spec.name);
            continue;
        }
        let out = run_in(
            &rt,
            &status.spec.build_image(),
            "for p in /usr/bin/python3.[0-9]*; do [[ $p =~ python3\\.[0-9]+$ ]] && echo ${p#/usr/bin/python}; done; echo default=$(python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])')",
        )
        .await;
        let mut expected: Vec<String> = status.spec.pythons.iter().map(|p| p.to_string()).collect();
        expected.push(format!("default={}", status.spec.default_python));
        let got: Vec<String> = out.lines().map(str::to_string).collect();
        assert_eq!(got, expected, "{}: {out}", status.spec.name);
        // The run image has every interpreter the virtualenvs point at.
        let out = run_in(
            &rt,
            &status.spec.run_image(),
            &status
                .spec
                .pythons
                .iter()
                .map(|p| format!("/usr/bin/python{p} -c 'print(1)'"))
                .collect::<Vec<_>>()
                .join(" && "),
        )
        .await;
        assert_eq!(
            out.trim().lines().count(),
            status.spec.pythons.len(),
            "{out}"
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

#[tokio::test]
async fn an_app_moved_between_stacks_gets_each_stacks_python() {
    let rt = common::runtime().await;
    let old = common::named_stack(&rt, "debian-12").await;
    let new = common::stack(&rt).await;
    let app = [
        (
            "app.py",
            "import platform, os, http.server\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(platform.python_version().encode())\nhttp.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n",
        ),
        ("requirements.txt", "six\n"),
        ("Procfile", "web: python app.py\n"),
    ];
    // One build cache for every build, as an environment has; each build its own source.
    let cache = tempfile::tempdir().expect("tmp");
    let on = |stack: doppel_builder::StackImages, files: &[(&str, &str)]| {
        let src = tempfile::tempdir().expect("tmp");
        let mut req = request(src.path(), stack, files);
        req.cache_dir = cache.path().join("cache");
        (req, src)
    };

    // The same commit on debian-12, then on the default stack: the cache is shared, as an
    // environment's is, and must not carry the old stack's virtualenv over.
    let mut versions = Vec::new();
    for stack in [old.clone(), new.clone()] {
        let (req, _src) = on(stack.clone(), &app);
        let out = run_build(&rt, req).await;
        assert_eq!(out.stack, stack.stack);
        let said = run_in(
            &rt,
            &out.image_tag,
            "doppel-launch python -c 'import platform, six; print(platform.python_version())'",
        )
        .await;
        versions.push(said.trim().to_string());
        rt.remove_image(&out.image_tag).await.expect("remove image");
    }
    assert!(versions[0].starts_with("3.11."), "{versions:?}");
    let default = StackCatalog::default().default_stack().default_python;
    assert!(
        versions[1].starts_with(&format!("{default}.")),
        "{versions:?}"
    );

    // Asking for 3.14 on debian-12 fails and names the stack that has it.
    let mut files = app.to_vec();
    files.push((".python-version", "3.14\n"));
    let (req, _src) = on(old, &files);
    let (tx, mut rx) = mpsc::channel(1024);
    let result = build(&*rt, req, tx).await;
    let mut transcript = String::new();
    while let Ok(line) = rx.try_recv() {
        transcript.push_str(&line);
        transcript.push('\n');
    }
    assert!(
        matches!(result, Err(BuildError::CompileFailed { .. })),
        "{result:?}"
    );
    assert!(
        transcript.contains(
            ".python-version asks for Python 3.14, but the debian-12 stack has only Python 3.11."
        ) && transcript.contains("The debian-testing stack has Python 3.14"),
        "{transcript}"
    );
}
