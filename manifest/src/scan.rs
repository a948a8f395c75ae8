//! Following a crate's module tree and collecting its `#[requires_scope]` declarations, as
//! the build sees them: `mod x;` files, `#[path]`, and `#[cfg]` on items and modules.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use syn::{Attribute, ImplItem, Item, Meta, Stmt, TraitItem};

use crate::cfg::Cfg;
use dingscope_catalog::{AuthType, Kind};
use dingscope_syntax::attr;
use dingscope_syntax::errors::Errors;

/// One annotated function, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// `crate::module::function`, `crate::module::Type::method` or `<crate::Type as Trait>::method`.
    pub function: String,
    /// The file, relative to the crate root, with `/` separators.
    pub file: String,
    /// The line of the function's name.
    pub line: usize,
    /// Each requirement: its kind and alternatives (one code for a plain requirement).
    pub groups: Vec<(Kind, Vec<String>)>,
    /// The authorization type, if declared.
    pub auth: Option<AuthType>,
}

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Declarations the build compiles.
    pub declarations: Vec<Declaration>,
    /// Declarations compiled only with `cfg(test)`, which build scripts never see on.
    pub test_only: Vec<Declaration>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub files: Vec<PathBuf>,
    /// Problems that did not stop the scan (an unreadable attribute, a missing module
    /// file): the compiler reports them in full.
    pub warnings: Vec<String>,
}

/// A scan failure: the crate root could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError(pub String);

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScanError {}

struct Ctx<'a> {
    root: &'a Path,
    cfg: &'a Cfg,
    out: Scan,
    /// The files of the module chain being read, to find cycles.
    chain: Vec<PathBuf>,
}

/// The stack of the thread that scans: rustc compiles modules nested a thousand deep, and
/// the scan follows them by recursion.
const SCAN_STACK: usize = 256 << 20;

/// Scans the crate at `root` (`src/lib.rs`, else `src/main.rs`) named `krate`.
pub fn scan_crate(root: &Path, krate: &str, cfg: &Cfg) -> Result<Scan, ScanError> {
    let entry = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ScanError(format!(
                "{} has neither src/lib.rs nor src/main.rs",
                root.display()
            ))
        })?;
    scan_from(root, &entry, krate, cfg)
}

/// Scans from the file `entry` (a crate root) inside the crate at `root`.
pub fn scan_from(root: &Path, entry: &Path, krate: &str, cfg: &Cfg) -> Result<Scan, ScanError> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("dingscope-scan".into())
            .stack_size(SCAN_STACK)
            .spawn_scoped(s, || scan_here(root, entry, krate, cfg))
            .map_err(|e| ScanError(format!("cannot start the scan: {e}")))?
            .join()
            .map_err(|_| ScanError("the scan failed".into()))?
    })
}

fn scan_here(root: &Path, entry: &Path, krate: &str, cfg: &Cfg) -> Result<Scan, ScanError> {
    let mut ctx = Ctx {
        root,
        cfg,
        out: Scan::default(),
        chain: vec![canonical(entry)],
    };
    let text = read(&mut ctx, entry)
        .ok_or_else(|| ScanError(format!("cannot read {}", entry.display())))?;
    let file = syn::parse_file(&text).map_err(|e| {
        ScanError(format!(
            "cannot parse {}:{}: {e}",
            entry.display(),
            e.span().start().line
        ))
    })?;
    let dir = entry.parent().unwrap_or(root).to_path_buf();
    let path = vec![krate.to_owned()];
    ctx.items(&file.items, &path, entry, &dir, Place::FileTop, false);
    Ok(ctx.out)
}

/// `path` made absolute and free of `.` and `..` where the file system allows.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Where an item stands in its file, which decides what a `#[path]` on a `mod` is
/// relative to (the Reference, "The path attribute"): at a file's top level, the file's
/// directory; inside inline modules, the directory of their children, which includes
/// the inline modules' names (and, in a file that is not a `mod.rs` or crate root, the
/// file's own module name).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    FileTop,
    Inline,
}

fn read(ctx: &mut Ctx<'_>, path: &Path) -> Option<String> {
    ctx.out.files.push(path.to_path_buf());
    std::fs::read_to_string(path).ok()
}

/// `Some(true)`: compiled; `Some(false)`: compiled only under `cfg(test)`; `None`: not compiled.
fn included(attrs: &[Attribute], cfg: &Cfg) -> Option<bool> {
    let mut test_only = false;
    for a in attrs {
        if !a.path().is_ident("cfg") {
            continue;
        }
        let Ok(pred) = a.parse_args::<Meta>() else {
            continue;
        };
        if cfg.eval(&pred, false) {
            continue;
        }
        if cfg.eval(&pred, true) {
            test_only = true;
        } else {
            return None;
        }
    }
    Some(!test_only)
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.path().is_ident("path"))
        .and_then(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
}

fn requires_scope(attrs: &[Attribute]) -> Option<TokenStream> {
    attrs
        .iter()
        .find(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "requires_scope")
        })
        .map(|a| match &a.meta {
            Meta::List(l) => l.tokens.clone(),
            _ => TokenStream::new(),
        })
}

impl Ctx<'_> {
    fn items(
        &mut self,
        items: &[Item],
        path: &[String],
        file: &Path,
        dir: &Path,
        place: Place,
        test_only: bool,
    ) {
        for item in items {
            self.item(item, path, file, dir, place, test_only);
        }
    }

    fn item(
        &mut self,
        item: &Item,
        path: &[String],
        file: &Path,
        dir: &Path,
        place: Place,
        test_only: bool,
    ) {
        let attrs: &[Attribute] = match item {
            Item::Fn(f) => &f.attrs,
            Item::Impl(i) => &i.attrs,
            Item::Trait(t) => &t.attrs,
            Item::Mod(m) => &m.attrs,
            _ => return,
        };
        let Some(compiled) = included(attrs, self.cfg) else {
            return;
        };
        let test_only = test_only || !compiled;
        match item {
            Item::Fn(f) => {
                let name = f.sig.ident.to_string();
                self.function(&f.attrs, &f.sig.ident, &join(path, &name), file, test_only);
                let mut inner = path.to_vec();
                inner.push(name);
                self.block(&f.block.stmts, &inner, file, dir, place, test_only);
            }
            Item::Impl(i) => {
                let ty = type_name(&i.self_ty);
                let owner = match &i.trait_ {
                    Some((t, _)) => format!("<{} as {}>", join(path, &ty), path_text(t)),
                    None => join(path, &ty),
                };
                for it in &i.items {
                    if let ImplItem::Fn(f) = it {
                        let Some(c) = included(&f.attrs, self.cfg) else {
                            continue;
                        };
                        let name = f.sig.ident.to_string();
                        self.function(
                            &f.attrs,
                            &f.sig.ident,
                            &format!("{owner}::{name}"),
                            file,
                            test_only || !c,
                        );
                    }
                }
            }
            Item::Trait(t) => {
                for it in &t.items {
                    if let TraitItem::Fn(f) = it
                        && f.default.is_some()
                    {
                        let Some(c) = included(&f.attrs, self.cfg) else {
                            continue;
                        };
                        let name = format!("{}::{}", join(path, &t.ident.to_string()), f.sig.ident);
                        self.function(&f.attrs, &f.sig.ident, &name, file, test_only || !c);
                    }
                }
            }
            Item::Mod(m) => {
                let mut inner = path.to_vec();
                inner.push(m.ident.to_string());
                let explicit = path_attr(&m.attrs);
                if let Some((_, items)) = &m.content {
                    // Inline: children of `mod a { mod b; }` live in dir/a/b.rs, or under
                    // the #[path] directory.
                    let child_dir = match &explicit {
                        Some(p) => dir.join(p),
                        None => dir.join(m.ident.to_string()),
                    };
                    self.items(items, &inner, file, &child_dir, Place::Inline, test_only);
                } else {
                    let explicit = explicit.map(|p| match place {
                        Place::FileTop => file.parent().unwrap_or(dir).join(p),
                        Place::Inline => dir.join(p),
                    });
                    self.module_file(m, &inner, dir, explicit, test_only);
                }
            }
            _ => {}
        }
    }

    fn module_file(
        &mut self,
        m: &syn::ItemMod,
        path: &[String],
        dir: &Path,
        explicit: Option<PathBuf>,
        test_only: bool,
    ) {
        let name = m.ident.to_string();
        let candidates: Vec<PathBuf> = match explicit {
            Some(p) => vec![p],
            None => vec![
                dir.join(format!("{name}.rs")),
                dir.join(&name).join("mod.rs"),
            ],
        };
        let Some(found) = candidates.iter().find(|p| p.is_file()).cloned() else {
            self.out.warnings.push(format!(
                "module `{}` not found (looked for {})",
                path.join("::"),
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return;
        };
        let identity = canonical(&found);
        if let Some(at) = self.chain.iter().position(|f| *f == identity) {
            let cycle: Vec<String> = self.chain[at..]
                .iter()
                .chain([&identity])
                .map(|f| f.display().to_string())
                .collect();
            self.out.warnings.push(format!(
                "circular modules at `{}`: {}; not followed (rustc refuses it too)",
                path.join("::"),
                cycle.join(" -> ")
            ));
            return;
        }
        let Some(text) = read(self, &found) else {
            self.out
                .warnings
                .push(format!("cannot read {}", found.display()));
            return;
        };
        let parsed = match syn::parse_file(&text) {
            Ok(f) => f,
            Err(e) => {
                self.out.warnings.push(format!(
                    "cannot parse {}:{}: {e}",
                    found.display(),
                    e.span().start().line
                ));
                return;
            }
        };
        if let Some(c) = included(&parsed.attrs, self.cfg) {
            let is_mod_rs = found.file_name().is_some_and(|n| n == "mod.rs");
            // Children of a/b.rs live in a/b/; of a/b/mod.rs in a/b/.
            let child_dir = if is_mod_rs {
                found.parent().unwrap_or(dir).to_path_buf()
            } else {
                found.with_extension("")
            };
            self.chain.push(identity);
            self.items(
                &parsed.items,
                path,
                &found,
                &child_dir,
                Place::FileTop,
                test_only || !c,
            );
            self.chain.pop();
        }
    }

    fn block(
        &mut self,
        stmts: &[Stmt],
        path: &[String],
        file: &Path,
        dir: &Path,
        place: Place,
        test_only: bool,
    ) {
        for s in stmts {
            if let Stmt::Item(item) = s {
                self.item(item, path, file, dir, place, test_only);
            }
        }
    }

    fn function(
        &mut self,
        attrs: &[Attribute],
        ident: &syn::Ident,
        name: &str,
        file: &Path,
        test_only: bool,
    ) {
        let Some(tokens) = requires_scope(attrs) else {
            return;
        };
        let rel = file
            .strip_prefix(self.root)
            .unwrap_or(file)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let line = ident.span().start().line;
        let mut errors = Errors::default();
        let args = attr::parse(tokens, &mut errors);
        if !errors.is_empty() || args.groups.is_empty() {
            self.out.warnings.push(format!(
                "{rel}:{line}: `{name}` has a #[requires_scope] the compiler will reject; it is left out"
            ));
            return;
        }
        let decl = Declaration {
            function: name.to_owned(),
            file: rel,
            line,
            groups: args
                .groups
                .into_iter()
                .map(|g| (g.kind, g.codes.into_iter().map(|c| c.value).collect()))
                .collect(),
            auth: args.auth,
        };
        if test_only {
            self.out.test_only.push(decl);
        } else {
            self.out.declarations.push(decl);
        }
    }
}

fn join(path: &[String], name: &str) -> String {
    let mut s = path.join("::");
    s.push_str("::");
    s.push_str(name);
    s
}

fn path_text(p: &syn::Path) -> String {
    p.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// `Client<T>` is `Client`; `&Client` is `Client`, as `type_name` prints an impl's items.
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        other => quote::quote!(#other).to_string(),
    }
}
