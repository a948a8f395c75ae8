//! The scanner on a fixture crate (`tests/fixtures/sample`), and golden files of every
//! output format. Re-record the golden files with `DINGSCOPE_BLESS=1` and review the diff.

use std::path::{Path, PathBuf};

use dingscope_build::{Cfg, Manifest, render_files};
use dingscope_catalog::AuthType;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample")
}

fn manifest(features: &[&str]) -> Manifest {
    let cfg = Cfg::host(features.iter().map(|f| f.to_string()));
    dingscope_build::load(&fixture(), "sample_app", &cfg).unwrap()
}

fn names(m: &Manifest) -> Vec<String> {
    let mut v: Vec<String> = m
        .scan
        .declarations
        .iter()
        .map(|d| d.function.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn follows_the_module_tree_and_every_item_kind() {
    let m = manifest(&[]);
    assert_eq!(
        names(&m),
        [
            "<sample_app::Client as Directory>::lookup",
            "sample_app::Client::method",
            "sample_app::Directory::lookup",
            "sample_app::deep::inner::deep_down",
            "sample_app::hrm::list_dismissed",
            "sample_app::inline::either",
            "sample_app::moved::relocated",
            "sample_app::no_contact::fallback",
            "sample_app::outer::inner",
        ]
    );
    let find = |n: &str| {
        m.scan
            .declarations
            .iter()
            .find(|d| d.function == n)
            .unwrap()
    };
    let relocated = find("sample_app::moved::relocated");
    assert_eq!(
        (relocated.file.as_str(), relocated.line),
        ("src/other/place.rs", 2)
    );
    assert_eq!(
        find("sample_app::deep::inner::deep_down").file,
        "src/deep/inner.rs"
    );
    assert_eq!(find("sample_app::hrm::list_dismissed").line, 4);
    // cfg(test) items are kept apart; macro-generated functions are invisible to a scan.
    assert_eq!(m.scan.test_only.len(), 1);
    assert_eq!(
        m.scan.test_only[0].function,
        "sample_app::tests::only_in_tests"
    );
    assert!(
        !names(&m)
            .iter()
            .any(|n| n.contains("made_by_a_macro") || n.contains("disabled"))
    );
    assert!(m.scan.warnings.is_empty(), "{:?}", m.scan.warnings);
    assert_eq!(
        m.scan.files.len(),
        5,
        "contact.rs is not read with its feature off"
    );
}

#[test]
fn features_switch_modules() {
    let with = manifest(&["contact"]);
    let n = names(&with);
    assert!(n.contains(&"sample_app::contact::with_feature".to_owned()));
    assert!(!n.contains(&"sample_app::no_contact::fallback".to_owned()));
}

#[test]
fn least_privilege_resolution() {
    let m = manifest(&[]);
    // `either` resolves to a code required elsewhere; `deep_down` to the one others need.
    let either = m
        .resolutions
        .iter()
        .find(|r| r.function.ends_with("either"))
        .unwrap();
    assert_eq!(
        (either.chosen.as_str(), either.reason.as_str()),
        ("qyapi_hrm_read_user", "already required")
    );
    let deep = m
        .resolutions
        .iter()
        .find(|r| r.function.ends_with("deep_down"))
        .unwrap();
    assert_eq!(deep.chosen, "qyapi_get_member");
    assert_eq!(
        m.rpc_codes(),
        "Contact.User.Read,qyapi_get_member,qyapi_hrm_read_user"
    );
    assert_eq!(m.field_codes(), "Contact.User.mobile");
    assert_eq!(
        m.rpc_scope_for(dingscope_catalog::AuthType::Delegated),
        "Contact.User.Read"
    );
    assert_eq!(m.unused_applied(), Vec::<String>::new());
    assert_eq!(m.default_is_exact(), Some(false));
}

#[test]
fn golden_files() {
    let m = manifest(&[]);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    // The helper files are the crate's own sources, written as they are.
    let mut outputs: Vec<(String, String)> = render_files(&m)
        .into_iter()
        .filter(|(n, _)| !n.starts_with("dingscope-grant"))
        .map(|(n, c)| (n.to_owned(), c))
        .collect();
    outputs.push(("dingscope_manifest.rs".to_owned(), m.to_rust()));
    for (name, content) in outputs {
        let path = golden.join(&name);
        if std::env::var_os("DINGSCOPE_BLESS").is_some() {
            std::fs::write(&path, &content).unwrap();
            continue;
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(content, want, "{name} differs from its golden file");
    }
}

#[test]
fn json_is_valid_and_versioned() {
    let v: serde_json::Value = serde_json::from_str(&manifest(&[]).to_json()).unwrap();
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["crate"], "sample_app");
    // Version 2 dropped the lists that mixed both authorization types.
    assert_eq!(v["rpcScope"], serde_json::Value::Null);
    assert_eq!(v["clientId"], serde_json::Value::Null);
    assert_eq!(v["byAuthType"]["delegated"]["type"], 0);
    assert_eq!(
        v["testOnly"][0]["function"],
        "sample_app::tests::only_in_tests"
    );
}

#[test]
fn a_crate_that_cannot_be_read_is_a_clear_error() {
    let e =
        dingscope_build::load(Path::new("/nonexistent/crate"), "x", &Cfg::default()).unwrap_err();
    assert!(
        e.to_string().contains("neither src/lib.rs nor src/main.rs"),
        "{e}"
    );
}

fn fixture_named(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The files rustc reads for the crate at `dir`, from its own `--emit=dep-info`.
fn rustc_files(dir: &Path) -> std::collections::BTreeSet<PathBuf> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "deps-{}.d",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = std::process::Command::new(rustc)
        .current_dir(dir)
        .args([
            "--edition=2024",
            "--crate-type=lib",
            "--emit=dep-info",
            "-o",
        ])
        .arg(&out)
        .arg("src/lib.rs")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let first = text.lines().next().unwrap();
    first
        .split_once(": ")
        .unwrap()
        .1
        .split_whitespace()
        .map(|f| std::fs::canonicalize(dir.join(f)).unwrap())
        .collect()
}

/// `#[path]` inside inline modules resolves as rustc resolves it, in a crate root and in a
/// file that is not a `mod.rs`: the scan reads exactly the files rustc reads.
#[test]
fn path_attributes_resolve_as_rustc_resolves_them() {
    let dir = fixture_named("paths");
    let scan =
        dingscope_build::scan::scan_crate(&dir, "paths", &Cfg::host(Vec::<String>::new())).unwrap();
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    let read: std::collections::BTreeSet<PathBuf> = scan
        .files
        .iter()
        .map(|f| std::fs::canonicalize(f).unwrap())
        .collect();
    assert_eq!(read, rustc_files(&dir));
}

/// A module that includes its own file is reported, not followed for ever.
#[test]
fn circular_modules_are_a_warning() {
    let dir = fixture_named("cycle");
    let scan =
        dingscope_build::scan::scan_crate(&dir, "cycle", &Cfg::host(Vec::<String>::new())).unwrap();
    assert!(
        scan.warnings.iter().any(|w| w.contains("circular modules")),
        "{:?}",
        scan.warnings
    );
}

/// Modules nested as deep as rustc compiles them are read to the bottom.
#[test]
fn deep_nesting_is_read() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deep-nesting");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let depth = 1000;
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str("pub mod m {\n");
    }
    text.push_str("#[dingscope::requires_scope(\"qyapi_hrm_read_user\")]\npub fn bottom() -> Result<(), dingscope::Error> { Ok(()) }\n");
    text.push_str(&"}\n".repeat(depth));
    std::fs::write(dir.join("src/lib.rs"), text).unwrap();
    let scan =
        dingscope_build::scan::scan_crate(&dir, "deep", &Cfg::host(Vec::<String>::new())).unwrap();
    assert_eq!(scan.declarations.len(), 1);
    assert_eq!(scan.declarations[0].function.matches("::m").count(), depth);
}

/// Only users grant field permissions: a field code of a function without `auth = ...` is
/// asked for with type 0, never in the organisation's openAuth (type 1, no fieldScope).
#[test]
fn field_codes_are_delegated() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("field-codes");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "#[dingscope::requires_scope(\"qyapi_hrm_read_user\", field(\"Contact.User.mobile\"))]\npub fn f() -> Result<(), dingscope::Error> { Ok(()) }\n",
    )
    .unwrap();
    let m = dingscope_build::load(&dir, "field_codes", &Cfg::host(Vec::<String>::new())).unwrap();
    assert_eq!(m.field_scope_for(AuthType::Application), "");
    assert_eq!(
        m.field_scope_for(AuthType::Delegated),
        "Contact.User.mobile"
    );
    assert_eq!(
        m.rpc_scope_for(AuthType::Application),
        "qyapi_hrm_read_user"
    );
}
