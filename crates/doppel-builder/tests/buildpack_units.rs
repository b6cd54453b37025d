//! Runs the buildpacks' own unit tests (`buildpacks/test/unit.sh`: Python and Node.js version
//! resolution, the Python mirror download) as part of `cargo test`, without Docker.

use std::path::Path;
use std::process::Command;

#[test]
fn buildpack_unit_tests() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../buildpacks/test/unit.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("running buildpacks/test/unit.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "buildpack unit tests failed:\n{text}");
    assert!(!text.contains("FAIL:"), "{text}");
}
