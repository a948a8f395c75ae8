//! Scanning a crate of 1,000 annotated functions in 100 files, and resolving its manifest.
//!
//! `cargo bench -p dingscope-build --bench scan`; figures in BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use dingscope_build::Cfg;

const CODES: &[&str] = &[
    "qyapi_hrm_read_user",
    "Contact.User.Read",
    "qyapi_get_member",
    "snsapi_base",
];

/// A crate with `files` modules of `per_file` annotated functions each.
fn generate(dir: &Path, files: usize, per_file: usize) {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"big\"\nversion = \"0.0.0\"\n",
    )
    .unwrap();
    let mut lib = String::new();
    for f in 0..files {
        let _ = writeln!(lib, "mod m{f};");
        let mut m = String::from("use dingscope::requires_scope;\n\n");
        for i in 0..per_file {
            let code = CODES[(f + i) % CODES.len()];
            let _ = writeln!(
                m,
                "/// Function {i}.\n#[requires_scope({code:?}, any(\"qyapi_get_member\", \"Contact.User.Read\"))]\npub async fn f{i}(x: u32) -> Result<u32, dingscope::Error> {{\n    let y = x.wrapping_mul(3);\n    Ok(y + {i})\n}}\n"
            );
        }
        std::fs::write(src.join(format!("m{f}.rs")), m).unwrap();
    }
    std::fs::write(src.join("lib.rs"), lib).unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-1000-fns");
    let _ = std::fs::remove_dir_all(&dir);
    generate(&dir, 100, 10);
    let cfg = Cfg::host(Vec::new());
    let m = dingscope_build::load(&dir, "big", &cfg).unwrap();
    assert_eq!(m.scan.declarations.len(), 1000);
    c.bench_function("scan_and_resolve/1000_fns_100_files", |b| {
        b.iter(|| dingscope_build::load(&dir, "big", &cfg).unwrap())
    });
    c.bench_function("render_all_formats/1000_fns", |b| {
        b.iter(|| (m.to_rust(), m.to_json(), m.to_typescript(), m.to_markdown()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
