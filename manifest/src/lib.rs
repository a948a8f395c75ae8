//! Build-time support for [dingscope](https://docs.rs/dingscope): the scope manifest.
//!
//! The manifest collects every `#[requires_scope]` of a crate, following its module tree
//! (inline modules, `mod x;` files, `#[path]`) and honouring `#[cfg]` as the build sees it.
//! In `build.rs`:
//!
//! ```no_run
//! fn main() {
//!     // Also write dingscope.json, dingscope.ts and dingscope.md for the front end and
//!     // the developer console; each is written only when its content changes.
//!     dingscope_build::Build::new().files("frontend/src/generated").run();
//! }
//! ```
//!
//! and in the crate, `dingscope::include_manifest!();` defines openAuth's parameters per
//! authorization type (`RPC_SCOPE_APPLICATION`, `FIELD_SCOPE_DELEGATED`, ...),
//! `CLIENT_ID`, `DECLARATIONS` and `CODES`.
//!
//! The `dingscope` command (crate `dingscope-cli`) prints manifests, explains codes, and
//! checks for drift in CI on top of this crate.

pub mod cfg;
pub mod manifest;
pub mod scan;

use std::path::{Path, PathBuf};

use dingscope_syntax::applied;

pub use cfg::Cfg;
pub use manifest::Manifest;
pub use scan::{Declaration, Scan, ScanError};

/// The files [`Build::files`] and `dingscope manifest --out-dir` write: the manifest as
/// JSON, TypeScript and Markdown, and the page's helper for the openAuth round trip
/// ([`GRANT_JS`]) with its types.
pub const FILES: [&str; 5] = [
    "dingscope.json",
    "dingscope.ts",
    "dingscope.md",
    "dingscope-grant.js",
    "dingscope-grant.d.ts",
];

/// `dingscope-grant.js`, an ES module for the page: `requestGrant(denial, options)` calls
/// openAuth with exactly a denial's parameters, reports the answer to the server, and says
/// whether to retry; `fetchWithGrant` wraps a `fetch` in the whole round trip.
pub const GRANT_JS: &str = include_str!("../js/dingscope-grant.js");

/// `dingscope-grant.d.ts`, the types of [`GRANT_JS`].
pub const GRANT_DTS: &str = include_str!("../js/dingscope-grant.d.ts");

/// The file `include_manifest!` includes, in `OUT_DIR`.
pub const RUST_FILE: &str = "dingscope_manifest.rs";

/// Scans the crate at `dir` and reads its applied-for list.
pub fn load(dir: &Path, krate: &str, cfg: &Cfg) -> Result<Manifest, ScanError> {
    let scan = scan::scan_crate(dir, krate, cfg)?;
    let applied = match applied::load_from(applied_path(dir)) {
        None => None,
        Some(d) => match &d.applied {
            Ok(a) => Some(a.clone()),
            Err(e) => {
                return Err(ScanError(format!(
                    "invalid applied-for list {}: {e}",
                    d.path.display()
                )));
            }
        },
    };
    Ok(Manifest::new(krate, scan, applied))
}

/// The applied-for list of the crate at `dir`: the file `DINGSCOPE_APPLIED` names
/// (relative to `dir`) if set, else `dir/dingscope.toml`.
pub fn applied_path(dir: &Path) -> PathBuf {
    applied::path_in(dir)
}

/// The contents of each of [`FILES`].
pub fn render_files(m: &Manifest) -> [(&'static str, String); 5] {
    [
        (FILES[0], m.to_json()),
        (FILES[1], m.to_typescript()),
        (FILES[2], m.to_markdown()),
        (FILES[3], GRANT_JS.to_owned()),
        (FILES[4], GRANT_DTS.to_owned()),
    ]
}

/// Writes `content` to `path` unless it already holds exactly that; `true` if written.
pub fn write_if_changed(path: &Path, content: &str) -> std::io::Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)?;
    Ok(true)
}

/// The manifest step of a build script.
#[derive(Debug, Default)]
pub struct Build {
    files: Option<PathBuf>,
    client_id: Option<String>,
}

impl Build {
    /// Writes only the Rust file for `include_manifest!`.
    pub fn new() -> Build {
        Build::default()
    }

    /// Also writes [`FILES`] into `dir` (relative to the crate root), each only when its
    /// content changes.
    pub fn files(mut self, dir: impl Into<PathBuf>) -> Build {
        self.files = Some(dir.into());
        self
    }

    /// Sets openAuth's `clientId` (the AppKey or SuiteKey) in the generated files, over
    /// `[app] client_id` in `dingscope.toml`. It is not a secret: every page that calls
    /// openAuth holds it.
    pub fn client_id(mut self, id: impl Into<String>) -> Build {
        self.client_id = Some(id.into());
        self
    }

    /// Runs; on failure, prints the error and exits, failing the build.
    pub fn run(self) -> Manifest {
        match self.try_run() {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: dingscope manifest: {e}");
                std::process::exit(1);
            }
        }
    }

    /// Runs, and says what went wrong if it fails.
    pub fn try_run(self) -> Result<Manifest, ScanError> {
        let var = |k: &str| {
            std::env::var(k)
                .map_err(|_| ScanError(format!("{k} is not set: run this from build.rs")))
        };
        let dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
        let out = PathBuf::from(var("OUT_DIR")?);
        let krate = var("CARGO_CRATE_NAME")
            .or_else(|_| var("CARGO_PKG_NAME").map(|n| n.replace('-', "_")))?;
        let mut m = load(&dir, &krate, &Cfg::from_env())?;
        if let Some(id) = self.client_id {
            dingscope_syntax::applied::check_client_id(&id)
                .map_err(|e| ScanError(format!("the client id {e}")))?;
            m.client_id = Some(id);
        }
        for f in &m.scan.files {
            println!("cargo:rerun-if-changed={}", f.display());
        }
        println!("cargo:rerun-if-changed={}", applied_path(&dir).display());
        println!("cargo:rerun-if-env-changed={}", applied::ENV);
        println!("cargo:rerun-if-env-changed={}", applied::OLD_ENV);
        for w in &m.scan.warnings {
            println!("cargo:warning=dingscope manifest: {w}");
        }
        let io = |e: std::io::Error| ScanError(format!("cannot write the manifest: {e}"));
        write_if_changed(&out.join(RUST_FILE), &m.to_rust()).map_err(io)?;
        if let Some(files) = &self.files {
            for (name, content) in render_files(&m) {
                write_if_changed(&dir.join(files).join(name), &content).map_err(io)?;
            }
        }
        Ok(m)
    }
}
