//! The `dingscope` command: a crate's scope manifest, the drift check for CI, and
//! DingTalk's permission catalog. `cargo install dingscope-cli` installs it, with
//! `cargo-dingscope` so that `cargo dingscope` works too.
//!
//! ```text
//! dingscope manifest [--crate DIR] [--features A,B] [--format text|json|ts|md|rust] [--out-dir DIR]
//! dingscope check    [--crate DIR] [--features A,B] [--files DIR] [--json]
//! dingscope explain  CODE [--json]
//! ```
//!
//! Exit status: 0 fine, 1 a check failed or a code is unknown, 2 a usage or input error.

use std::path::{Path, PathBuf};

use serde_json::json;

use dingscope_build::{Cfg, Manifest, render_files};
use dingscope_catalog::{AuthType, Kind};

const USAGE: &str = "usage:
  dingscope manifest [--crate DIR] [--features A,B] [--format text|json|ts|md|rust] [--out-dir DIR]
  dingscope check    [--crate DIR] [--features A,B] [--files DIR] [--json]
  dingscope explain  CODE [--json]

manifest  print the crate's manifest, or write dingscope.json, dingscope.ts and dingscope.md
          into --out-dir (each only when it changes)
check     fail when the code requires codes dingscope.toml lacks, when dingscope.toml applies
          for codes nothing uses, or when the files in --files are stale: the drift check for CI
explain   a code from DingTalk's catalog: its name, its kind, and the APIs that need it";

struct Opts {
    krate: PathBuf,
    features: Vec<String>,
    format: String,
    out_dir: Option<PathBuf>,
    files: Option<PathBuf>,
    json: bool,
    positional: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        krate: PathBuf::from("."),
        features: Vec::new(),
        format: "text".into(),
        out_dir: None,
        files: None,
        json: false,
        positional: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--crate" => o.krate = PathBuf::from(value("--crate")?),
            "--features" => o.features.extend(
                value("--features")?
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            "--format" => o.format = value("--format")?,
            "--out-dir" => o.out_dir = Some(PathBuf::from(value("--out-dir")?)),
            "--files" => o.files = Some(PathBuf::from(value("--files")?)),
            "--json" => o.json = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => o.positional.push(s.to_owned()),
        }
    }
    Ok(o)
}

/// Runs the command with the arguments of the process, after the first `skip` ones;
/// returns the exit status. An argument that is not UTF-8 is a usage error (status 2).
pub fn main_os(args: impl IntoIterator<Item = std::ffi::OsString>, skip: usize) -> i32 {
    let mut text = Vec::new();
    for arg in args.into_iter().skip(skip) {
        match arg.into_string() {
            Ok(a) => text.push(a),
            Err(bad) => {
                eprintln!("error: the argument {bad:?} is not UTF-8\n\n{USAGE}");
                return 2;
            }
        }
    }
    main(text)
}

/// Runs the command with `args` (without the program name); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return 2;
    };
    if cmd == "--help" || cmd == "-h" || cmd == "help" {
        println!("{USAGE}");
        return 0;
    }
    let opts = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return 2;
        }
    };
    let result = match cmd.as_str() {
        "manifest" => manifest(&opts),
        "check" => check(&opts),
        "explain" => explain(&opts),
        other => Err(format!("unknown command {other:?}")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn crate_name(dir: &Path) -> Result<String, String> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v.get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(|n| n.replace('-', "_"))
        .ok_or_else(|| format!("{} has no [package] name", path.display()))
}

fn load(o: &Opts) -> Result<Manifest, String> {
    let krate = crate_name(&o.krate)?;
    dingscope_build::load(&o.krate, &krate, &Cfg::host(o.features.clone()))
        .map_err(|e| e.to_string())
}

fn manifest(o: &Opts) -> Result<i32, String> {
    let m = load(o)?;
    for w in &m.scan.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(dir) = &o.out_dir {
        for (name, content) in render_files(&m) {
            let path = dir.join(name);
            let written = dingscope_build::write_if_changed(&path, &content)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            println!(
                "{} {}",
                if written { "wrote" } else { "unchanged" },
                path.display()
            );
        }
        return Ok(0);
    }
    let format = if o.json { "json" } else { o.format.as_str() };
    let text = match format {
        "json" => m.to_json(),
        "ts" => m.to_typescript(),
        "md" => m.to_markdown(),
        "rust" => m.to_rust(),
        "text" => text(&m),
        other => {
            return Err(format!(
                "unknown format {other:?}; expected text, json, ts, md or rust"
            ));
        }
    };
    print!("{text}");
    Ok(0)
}

fn text(m: &Manifest) -> String {
    let mut s = format!(
        "{}: {} function{} with #[requires_scope]\n\n",
        m.krate,
        m.scan.declarations.len(),
        if m.scan.declarations.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if let Some(id) = &m.client_id {
        s.push_str(&format!("clientId  {id}\n"));
    }
    s.push_str("openAuth, one call per authorization type:\n");
    for (label, a) in [
        ("application (type 1)", AuthType::Application),
        ("delegated (type 0)", AuthType::Delegated),
    ] {
        let (r, f) = (m.rpc_scope_for(a), m.field_scope_for(a));
        if !r.is_empty() || !f.is_empty() {
            s.push_str(&format!("  {label}: rpcScope {r:?}, fieldScope {f:?}\n"));
        }
    }
    s.push('\n');
    for c in &m.codes {
        let name = dingscope_catalog::lookup(&c.code).map_or("(not in the catalog)", |i| i.name);
        s.push_str(&format!("{}  {name}\n", c.code));
        for (f, file, line) in &c.functions {
            s.push_str(&format!("    {f}  {file}:{line}\n"));
        }
    }
    for r in &m.resolutions {
        s.push_str(&format!(
            "\nany of {} in {}: asks for {} ({})",
            r.alternatives.join(", "),
            r.function,
            r.chosen,
            r.reason
        ));
    }
    if !m.resolutions.is_empty() {
        s.push('\n');
    }
    s
}

fn check(o: &Opts) -> Result<i32, String> {
    let m = load(o)?;
    let mut problems: Vec<serde_json::Value> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    if m.applied.is_none() {
        lines.push(format!(
            "note: no {} in {}; only the files are checked",
            dingscope_syntax::applied::FILE_NAME,
            o.krate.display()
        ));
    }
    for code in m.not_applied() {
        lines.push(format!(
            "required but not applied for in dingscope.toml: {code}"
        ));
        problems.push(json!({"problem": "notApplied", "code": code}));
    }
    for code in m.unused_applied() {
        lines.push(format!(
            "applied for in dingscope.toml but used by no function: {code}"
        ));
        problems.push(json!({"problem": "unusedApplied", "code": code}));
    }
    if let Some(dir) = &o.files {
        for (name, content) in render_files(&m) {
            let path = o.krate.join(dir).join(name);
            match std::fs::read_to_string(&path) {
                Ok(old) if old == content => {}
                Ok(_) => {
                    lines.push(format!(
                        "stale: {} (regenerate with `dingscope manifest --out-dir`)",
                        path.display()
                    ));
                    problems.push(json!({"problem": "stale", "file": path.display().to_string()}));
                }
                Err(_) => {
                    lines.push(format!("missing: {}", path.display()));
                    problems
                        .push(json!({"problem": "missing", "file": path.display().to_string()}));
                }
            }
        }
    }
    let ok = problems.is_empty();
    if o.json {
        println!(
            "{}",
            json!({"ok": ok, "crate": m.krate, "problems": problems})
        );
    } else {
        for l in &lines {
            println!("{l}");
        }
        println!(
            "{}: {} ({} function{}; type 1 rpcScope {:?}; type 0 rpcScope {:?}, fieldScope {:?})",
            m.krate,
            if ok { "ok" } else { "drift found" },
            m.scan.declarations.len(),
            if m.scan.declarations.len() == 1 {
                ""
            } else {
                "s"
            },
            m.rpc_scope_for(AuthType::Application),
            m.rpc_scope_for(AuthType::Delegated),
            m.field_scope_for(AuthType::Delegated),
        );
    }
    Ok(if ok { 0 } else { 1 })
}

fn explain(o: &Opts) -> Result<i32, String> {
    let [code] = o.positional.as_slice() else {
        return Err("explain takes one code, as in `dingscope explain qyapi_hrm_read_user`".into());
    };
    let Some(info) = dingscope_catalog::lookup(code) else {
        let hint =
            dingscope_catalog::suggest(code).map(|s| format!("; did you mean {}?", s.scope.code));
        let grammar = dingscope_catalog::check_grammar(code)
            .err()
            .map(|e| format!(" ({e})"));
        if o.json {
            println!(
                "{}",
                json!({"code": code, "known": false, "suggestion": dingscope_catalog::suggest(code).map(|s| s.scope.code)})
            );
        } else {
            println!(
                "{code} is not in DingTalk's catalog{}{}",
                grammar.unwrap_or_default(),
                hint.unwrap_or_default()
            );
        }
        return Ok(1);
    };
    let endpoints: Vec<(&str, String, &str)> = dingscope_catalog::endpoints_needing(info.code)
        .map(|e| {
            (
                e.method.as_str(),
                format!("{}{}", e.host.base_url(), e.path),
                e.title,
            )
        })
        .collect();
    let kind = match info.kind {
        Kind::Rpc => "rpc (rpcScope)",
        Kind::Field => "field (fieldScope)",
    };
    if o.json {
        println!(
            "{}",
            json!({
                "code": info.code, "known": true, "name": info.name, "kind": info.kind.as_str(),
                "status": format!("{:?}", info.status),
                "endpoints": endpoints.iter().map(|(m, u, t)| json!({"method": m, "url": u, "title": t})).collect::<Vec<_>>(),
            })
        );
    } else {
        println!(
            "{}\n  name:   {}\n  kind:   {kind}\n  status: {:?}",
            info.code, info.name, info.status
        );
        println!("  APIs that need it ({}):", endpoints.len());
        for (m, u, t) in &endpoints {
            println!("    {m:6} {u}  {t}");
        }
    }
    Ok(0)
}
