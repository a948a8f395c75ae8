//! The applied-for list, `dingscope.toml`: the codes the app has applied for in the
//! developer console.
//!
//! ```toml
//! # dingscope.toml, beside Cargo.toml
//! [applied]
//! application = ["qyapi_hrm_read_user"]   # organisational codes (openAuth type 1)
//! delegated = ["Contact.User.Read"]       # personal codes (type 0)
//! field = ["Contact.User.mobile"]         # field codes (fieldScope)
//!
//! [app]
//! client_id = "suiteabcdefgh1234"         # the AppKey or SuiteKey openAuth's clientId names
//! ```
//!
//! Read once per compiler process and re-read when the file changes (rust-analyzer keeps
//! one process alive across edits). The expansion names the file with `include_bytes!`,
//! so cargo rebuilds the crate when it changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use serde::Deserialize;

/// The environment variable that names another applied-for list, relative to the crate.
pub const ENV: &str = "DINGSCOPE_APPLIED";
/// The former name of [`ENV`], still read when `ENV` is not set.
pub const OLD_ENV: &str = "DINGSCOPE_DECLARATIONS";
/// The applied-for list's name, beside `Cargo.toml`.
pub const FILE_NAME: &str = "dingscope.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    applied: Applied,
    #[serde(default)]
    app: AppTable,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppTable {
    client_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
/// The `[applied]` table: the codes applied for, by list.
pub struct Applied {
    /// Organisational codes (openAuth type 1).
    #[serde(default)]
    pub application: Vec<String>,
    /// Personal codes (type 0).
    #[serde(default)]
    pub delegated: Vec<String>,
    /// Field codes (`fieldScope`).
    #[serde(default)]
    pub field: Vec<String>,
    /// The app's client id (AppKey, or SuiteKey for an ISV app), from the `[app]` table:
    /// openAuth's `clientId`. Not a secret: every page that calls openAuth holds it.
    #[serde(skip)]
    pub client_id: Option<String>,
}

impl Applied {
    /// Whether `code` is applied for as an rpc code, of either type.
    pub fn rpc_contains(&self, code: &str) -> bool {
        self.application
            .iter()
            .chain(&self.delegated)
            .any(|c| c == code)
    }

    /// Whether `code` is applied for as a field code.
    pub fn field_contains(&self, code: &str) -> bool {
        self.field.iter().any(|c| c == code)
    }

    /// Whether `code` is applied for at all.
    pub fn contains(&self, code: &str) -> bool {
        self.rpc_contains(code) || self.field_contains(code)
    }
}

/// An applied-for list that was found and read.
#[derive(Debug)]
pub struct AppliedFile {
    /// Absolute, for `include_bytes!`.
    pub path: PathBuf,
    /// Relative to the crate root where possible, for messages.
    pub shown: String,
    /// Its contents, or what is wrong with it.
    pub applied: Result<Applied, String>,
    /// A regular file of at most [`MAX_LEN`] bytes, which the compiler may be pointed at
    /// (`include_bytes!`) so that editing it rebuilds the crate.
    pub trackable: bool,
}

type Cache = Mutex<HashMap<PathBuf, (Option<SystemTime>, u64, Arc<AppliedFile>)>>;

/// The applied-for list of the crate at `dir`: the file [`ENV`] (or [`OLD_ENV`]) names,
/// relative to `dir`, else `dir/dingscope.toml`.
pub fn path_in(dir: &Path) -> PathBuf {
    let named = [ENV, OLD_ENV]
        .into_iter()
        .find_map(|v| std::env::var_os(v).filter(|p| !p.is_empty()));
    match named {
        Some(p) => dir.join(p),
        None => dir.join(FILE_NAME),
    }
}

/// Where the applied-for list of the crate being compiled is expected.
pub fn location() -> Option<PathBuf> {
    std::env::var_os("CARGO_MANIFEST_DIR").map(|d| path_in(Path::new(&d)))
}

/// The applied-for list of the crate being compiled, if it has one.
pub fn load() -> Option<Arc<AppliedFile>> {
    load_from(location()?)
}

/// The applied-for list at `path`, if there is one; read again only when it changes.
pub fn load_from(path: PathBuf) -> Option<Arc<AppliedFile>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let meta = std::fs::metadata(&path).ok()?;
    let stamp = (meta.modified().ok(), meta.len());
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((m, l, d)) = cache.get(&path)
        && (*m, *l) == stamp
    {
        return Some(d.clone());
    }
    let trackable = meta.is_file() && meta.len() <= MAX_LEN;
    let applied = if !meta.is_file() {
        Err("it is not a regular file".to_owned())
    } else if meta.len() > MAX_LEN {
        Err(format!(
            "it is {} bytes long, more than the {MAX_LEN} an applied-for list may be",
            meta.len()
        ))
    } else {
        read_capped(&path).and_then(|text| parse(&text))
    };
    let shown = std::env::var_os("CARGO_MANIFEST_DIR")
        .and_then(|d| path.strip_prefix(d).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string());
    let file = Arc::new(AppliedFile {
        path: path.clone(),
        shown,
        applied,
        trackable,
    });
    cache.insert(path, (stamp.0, stamp.1, file.clone()));
    Some(file)
}

/// The longest applied-for list read, in bytes.
pub const MAX_LEN: u64 = 1 << 20;

/// The file's text, read up to [`MAX_LEN`] bytes (it may grow after its metadata was read).
fn read_capped(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_LEN + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if text.len() as u64 > MAX_LEN {
        return Err(format!(
            "it is longer than the {MAX_LEN} bytes an applied-for list may be"
        ));
    }
    Ok(text)
}

/// Parses and checks an applied-for list's text.
pub fn parse(text: &str) -> Result<Applied, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
    let mut a = file.applied;
    let mut problems = Vec::new();
    if let Some(id) = file.app.client_id {
        match check_client_id(&id) {
            Ok(()) => a.client_id = Some(id),
            Err(e) => problems.push(format!("`app.client_id` {e}")),
        }
    }
    for (list, codes) in [
        ("application", &a.application),
        ("delegated", &a.delegated),
        ("field", &a.field),
    ] {
        for code in codes {
            if let Err(e) = dingscope_catalog::check_grammar(code) {
                problems.push(format!("`applied.{list}` has {code:?}: {e}"));
                continue;
            }
            let kind = dingscope_catalog::lookup(code).map(|i| i.kind);
            match (list, kind) {
                ("field", Some(dingscope_catalog::Kind::Rpc)) => problems.push(format!(
                    "`applied.field` has `{code}`, an rpc code; move it to `application` or `delegated`"
                )),
                ("application" | "delegated", Some(dingscope_catalog::Kind::Field)) => problems.push(format!(
                    "`applied.{list}` has `{code}`, a field code; move it to `field`"
                )),
                _ => {}
            }
        }
    }
    if problems.is_empty() {
        Ok(a)
    } else {
        Err(problems.join("; "))
    }
}

/// Checks a client id (AppKey or SuiteKey): 1 to 64 ASCII letters, digits, `-` or `_`,
/// so that it goes into generated code and openAuth's query string as it is.
pub fn check_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err(format!("must be 1 to 64 characters long, not {}", id.len()));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "may hold only ASCII letters, digits, `-` and `_`, not {c:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let a = parse(
            "[applied]\napplication = [\"qyapi_hrm_read_user\"]\ndelegated = [\"Contact.User.Read\"]\nfield = [\"Contact.User.mobile\"]\n",
        )
        .unwrap();
        assert!(a.rpc_contains("qyapi_hrm_read_user"));
        assert!(a.rpc_contains("Contact.User.Read"));
        assert!(a.field_contains("Contact.User.mobile"));
        assert!(!a.contains("snsapi_base"));
        assert!(parse("").unwrap().application.is_empty());
        assert_eq!(a.client_id, None);
        let a = parse("[app]\nclient_id = \"suite-key_1\"\n").unwrap();
        assert_eq!(a.client_id.as_deref(), Some("suite-key_1"));
    }

    #[test]
    fn a_bad_client_id_is_refused() {
        for bad in ["", "a b", "x\\\"y", "键", &"k".repeat(65)] {
            let text = format!("[app]\nclient_id = {bad:?}\n");
            let e = parse(&text).unwrap_err();
            assert!(e.contains("app.client_id"), "{bad:?}: {e}");
        }
        assert!(
            parse("[app]\nclientId = \"x\"\n")
                .unwrap_err()
                .contains("clientId")
        );
    }

    /// A device, a directory or a huge file is refused without reading it: the macro, the
    /// build script and the command all read through here.
    #[test]
    fn only_small_regular_files_are_read() {
        for path in ["/dev/zero", "/"] {
            let f = load_from(PathBuf::from(path)).unwrap();
            let e = f.applied.as_ref().unwrap_err();
            assert!(e.contains("not a regular file"), "{path}: {e}");
        }
        let big = std::env::temp_dir().join(format!("dingscope-big-{}.toml", std::process::id()));
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_LEN + 1).unwrap();
        let f = load_from(big.clone()).unwrap();
        let e = f.applied.as_ref().unwrap_err().clone();
        std::fs::remove_file(&big).unwrap();
        assert!(e.contains("bytes"), "{e}");
    }

    #[test]
    fn reports_bad_files() {
        assert!(
            parse("[applied]\napplicaton = []")
                .unwrap_err()
                .contains("applicaton")
        );
        assert!(parse("[applied\n").is_err());
        assert!(parse("[applied]\napplication = \"x_y\"").is_err());
        let e = parse("[applied]\napplication = [\"Contact.User\", \"Contact.User.mobile\"]")
            .unwrap_err();
        assert!(e.contains("segments") && e.contains("field code"), "{e}");
    }
}
