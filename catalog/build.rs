//! Turns `data/scopes.tsv` and `data/endpoints.tsv` into Rust tables.
//!
//! The tables are generated rather than parsed at run time so that the scope list is a
//! `const`: the runtime gives each code a bit index during constant evaluation.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("data");
    let scopes_path = dir.join("scopes.tsv");
    let endpoints_path = dir.join("endpoints.tsv");
    let extra_path = dir.join("extra-endpoints.tsv");
    println!("cargo:rerun-if-changed={}", scopes_path.display());
    println!("cargo:rerun-if-changed={}", endpoints_path.display());

    let mut out = String::new();
    let scopes = fs::read_to_string(&scopes_path).expect("read data/scopes.tsv");
    let mut rows: Vec<Vec<&str>> = scopes
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    for (n, r) in rows.iter().enumerate() {
        assert!(
            r.len() == 5,
            "data/scopes.tsv row {}: expected 5 columns",
            n + 2
        );
    }
    rows.sort_by(|a, b| a[0].cmp(b[0]));
    for w in rows.windows(2) {
        assert!(
            w[0][0] != w[1][0],
            "data/scopes.tsv: duplicate code {}",
            w[0][0]
        );
    }
    out.push_str("/// Every catalogued permission code, sorted by code (byte order).\n");
    out.push_str("pub const SCOPES: &[ScopeInfo] = &[\n");
    for r in &rows {
        let kind = match r[2] {
            "rpc" => "Kind::Rpc",
            "field" => "Kind::Field",
            k => panic!("data/scopes.tsv: unknown kind {k:?} for {}", r[0]),
        };
        let status = match r[3] {
            "documented" => "Status::Documented",
            "documented-elsewhere" => "Status::DocumentedElsewhere",
            "mentioned-in-error-text" => "Status::MentionedInErrorText",
            "seen-in-public-code" => "Status::SeenInPublicCode",
            "example-only/possibly-retired" => "Status::ExampleOnly",
            s => panic!("data/scopes.tsv: unknown status {s:?} for {}", r[0]),
        };
        let api_count: u32 = r[4].parse().expect("data/scopes.tsv: api_count");
        writeln!(
            out,
            "    ScopeInfo {{ code: {:?}, name: {:?}, kind: {kind}, status: {status}, api_count: {api_count} }},",
            r[0], r[1]
        )
        .unwrap();
    }
    out.push_str("];\n\n");
    // FNV-1a over the sorted codes: the bit index of every code is a function of this list,
    // so two builds with the same fingerprint give every code the same index.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for r in &rows {
        for b in r[0].bytes().chain([b'\n']) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    out.push_str(
        "/// A hash of the sorted codes in [`SCOPES`]: equal fingerprints, equal indices.\n",
    );
    writeln!(out, "pub const FINGERPRINT: u64 = {hash:#018x};\n").unwrap();

    endpoints(
        &mut out,
        &endpoints_path,
        "ENDPOINTS",
        "Every catalogued API endpoint, in the order of `data/endpoints.tsv`.",
        &rows,
    );
    endpoints(
        &mut out,
        &extra_path,
        "EXTRA_ENDPOINTS",
        "API endpoints that `data/endpoints.tsv` lacks, from `data/extra-endpoints.tsv`: searched with [`ENDPOINTS`] by every lookup.",
        &rows,
    );

    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("catalog.rs");
    fs::write(dest, out).expect("write catalog.rs");
}

/// Appends the table of the endpoints in `path` as the constant `konst`.
fn endpoints(out: &mut String, path: &Path, konst: &str, doc: &str, rows: &[Vec<&str>]) {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    println!("cargo:rerun-if-changed={}", path.display());
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {name}: {e}"));
    writeln!(out, "/// {doc}\npub const {konst}: &[Endpoint] = &[").unwrap();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let r: Vec<&str> = line.split('\t').collect();
        assert!(r.len() == 6, "{name} row {}: expected 6 columns", n + 1);
        let method = match r[0] {
            "GET" => "Method::Get",
            "POST" => "Method::Post",
            "PUT" => "Method::Put",
            "DELETE" => "Method::Delete",
            "PATCH" => "Method::Patch",
            m => panic!("{name} row {}: unknown method {m:?}", n + 1),
        };
        let (host, path) = if let Some(p) = r[1].strip_prefix("https://api.dingtalk.com") {
            ("Host::Api", p)
        } else if let Some(p) = r[1].strip_prefix("https://oapi.dingtalk.com") {
            ("Host::Oapi", p)
        } else {
            panic!("{name} row {}: unknown host in {:?}", n + 1, r[1])
        };
        let codes: Vec<&str> = r[2].split(',').map(str::trim).collect();
        for c in &codes {
            assert!(
                rows.iter().any(|s| s[0] == *c),
                "{name} row {}: code {c} is not in data/scopes.tsv",
                n + 1
            );
        }
        let mut apps = Vec::new();
        for a in r[3].split(',') {
            apps.push(match a.trim() {
                "internal" => "AppType::Internal",
                "isv" => "AppType::Isv",
                "isv-personal" => "AppType::IsvPersonal",
                a => panic!("{name} row {}: unknown app type {a:?}", n + 1),
            });
        }
        writeln!(
            out,
            "    Endpoint {{ method: {method}, host: {host}, path: {path:?}, scopes: &{codes:?}, app_types: &[{}], title: {:?}, doc_slug: {:?} }},",
            apps.join(", "),
            r[4],
            r[5]
        )
        .unwrap();
    }
    out.push_str("];\n\n");
}
