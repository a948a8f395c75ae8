//! Editing `dingscope.toml` rebuilds the crate that reads it: a real cargo build of a
//! small crate, before and after the edit.

use std::path::{Path, PathBuf};
use std::process::Command;

const LIB: &str = r#"
#[dingscope::requires_scope("qyapi_hrm_read_user")]
pub fn list_dismissed() -> Result<(), dingscope::Error> {
    Ok(())
}
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn check(dir: &Path, target: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline", "--color", "never"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("DINGSCOPE_APPLIED")
        .env_remove("DINGSCOPE_DECLARATIONS")
        .output()
        .expect("run cargo");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn editing_the_declarations_file_rebuilds() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rebuild-crate");
    let target = workspace.join("target/tests/rebuild");
    let _ = std::fs::remove_dir_all(&dir);
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"rebuild-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ndingscope = {{ path = {:?} }}\n\n[workspace]\n",
            workspace.join("runtime")
        ),
    );
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    write(&dir.join("src/lib.rs"), LIB);
    let applied = dir.join("dingscope.toml");

    write(
        &applied,
        "[applied]\napplication = [\"qyapi_hrm_read_user\"]\n",
    );
    let (ok, stderr) = check(&dir, &target);
    assert!(ok, "first build failed:\n{stderr}");

    // Only the applied-for list changes: the build must see it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(
        &applied,
        "[applied]\napplication = [\"Contact.User.Read\"]\n",
    );
    let (ok, stderr) = check(&dir, &target);
    assert!(!ok, "the edit was not noticed");
    assert!(
        stderr.contains("`qyapi_hrm_read_user` is not applied for in dingscope.toml"),
        "{stderr}"
    );

    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(
        &applied,
        "[applied]\napplication = [\"qyapi_hrm_read_user\"]\n",
    );
    let (ok, stderr) = check(&dir, &target);
    assert!(ok, "restoring the file did not fix the build:\n{stderr}");
}
