//! The manifest: what a crate requires, resolved to the least set of codes, in every
//! format its users need.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::scan::{Declaration, Scan};
use dingscope_catalog::{AuthType, Kind};
use dingscope_syntax::applied::Applied;

/// The version of the JSON schema (`docs/manifest-schema.md`).
pub const SCHEMA_VERSION: u32 = 2;

/// How one any-of requirement was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The function that declared it.
    pub function: String,
    /// Its alternatives, in order of preference.
    pub alternatives: Vec<String>,
    /// The code the manifest asks for.
    pub chosen: String,
    /// Why: `already required`, or `covers N requirements`.
    pub reason: String,
}

/// One code the crate asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeUse {
    /// The code.
    pub code: String,
    /// rpc or field.
    pub kind: Kind,
    /// Application (type 1) or delegated (type 0).
    pub auth: AuthType,
    /// Functions that need it (or list it among alternatives): name, file, line.
    pub functions: Vec<(String, String, usize)>,
}

/// A crate's manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The crate's name.
    pub krate: String,
    /// What the scan found.
    pub scan: Scan,
    /// The codes to ask for, sorted by code.
    pub codes: Vec<CodeUse>,
    /// How each any-of requirement was resolved.
    pub resolutions: Vec<Resolution>,
    /// The applied-for list, if the crate has one.
    pub applied: Option<Applied>,
    /// openAuth's `clientId` (the AppKey or SuiteKey): `[app] client_id` in
    /// `dingscope.toml`, or [`Build::client_id`](crate::Build::client_id).
    pub client_id: Option<String>,
}

/// A code's authorization type: the function's `auth = ...`; without one, delegated for a
/// field code (only users grant fields: an organisation's openAuth has no fieldScope) or a
/// code `dingscope.toml` lists as delegated, else application.
fn auth_of(decl: Option<AuthType>, code: &str, kind: Kind, applied: Option<&Applied>) -> AuthType {
    match decl {
        Some(a) => a,
        None if kind == Kind::Field => AuthType::Delegated,
        None if applied.is_some_and(|a| a.delegated.iter().any(|c| c == code)) => {
            AuthType::Delegated
        }
        None => AuthType::Application,
    }
}

impl Manifest {
    /// Resolves a scan. Any-of requirements take a code that is already required if they
    /// can; the rest take the smallest set of codes covering them all (exhaustively for up
    /// to 16 candidate codes, greedily beyond), preferring earlier alternatives. With a
    /// applied-for list, only applied-for alternatives are candidates.
    pub fn new(krate: &str, scan: Scan, applied: Option<Applied>) -> Manifest {
        let mut uses: BTreeMap<(String, AuthType), CodeUse> = BTreeMap::new();
        fn add(
            uses: &mut BTreeMap<(String, AuthType), CodeUse>,
            code: &str,
            kind: Kind,
            auth: AuthType,
            d: &Declaration,
        ) {
            let u = uses
                .entry((code.to_owned(), auth))
                .or_insert_with(|| CodeUse {
                    code: code.to_owned(),
                    kind,
                    auth,
                    functions: Vec::new(),
                });
            let f = (d.function.clone(), d.file.clone(), d.line);
            if !u.functions.contains(&f) {
                u.functions.push(f);
            }
        }
        // Plain requirements first: they are what any-of groups prefer.
        let mut open: Vec<(&Declaration, Kind, Vec<String>)> = Vec::new();
        for d in &scan.declarations {
            for (kind, codes) in &d.groups {
                if codes.len() == 1 {
                    add(
                        &mut uses,
                        &codes[0],
                        *kind,
                        auth_of(d.auth, &codes[0], *kind, applied.as_ref()),
                        d,
                    );
                } else {
                    let usable: Vec<String> = codes
                        .iter()
                        .filter(|c| applied.as_ref().is_none_or(|a| a.contains(c)))
                        .cloned()
                        .collect();
                    let usable = if usable.is_empty() {
                        codes.clone()
                    } else {
                        usable
                    };
                    open.push((d, *kind, usable));
                }
            }
        }
        let required: BTreeSet<String> = uses.keys().map(|(c, _)| c.clone()).collect();
        let mut resolutions = Vec::new();
        let mut rest: Vec<&(&Declaration, Kind, Vec<String>)> = Vec::new();
        for g in &open {
            match g.2.iter().find(|c| required.contains(*c)) {
                Some(c) => resolutions.push(Resolution {
                    function: g.0.function.clone(),
                    alternatives: g.2.clone(),
                    chosen: c.clone(),
                    reason: "already required".into(),
                }),
                None => rest.push(g),
            }
        }
        let chosen = cover(&rest.iter().map(|g| g.2.clone()).collect::<Vec<_>>());
        for g in &rest {
            let c =
                g.2.iter()
                    .find(|c| chosen.contains(*c))
                    .cloned()
                    .unwrap_or_else(|| g.2[0].clone());
            let n = rest.iter().filter(|o| o.2.contains(&c)).count();
            resolutions.push(Resolution {
                function: g.0.function.clone(),
                alternatives: g.2.clone(),
                chosen: c.clone(),
                reason: format!("covers {n} requirement{}", if n == 1 { "" } else { "s" }),
            });
        }
        for g in &open {
            let r = resolutions
                .iter()
                .find(|r| r.function == g.0.function && r.alternatives == g.2)
                .map(|r| r.chosen.clone())
                .unwrap_or_else(|| g.2[0].clone());
            add(
                &mut uses,
                &r,
                g.1,
                auth_of(g.0.auth, &r, g.1, applied.as_ref()),
                g.0,
            );
        }
        Manifest {
            krate: krate.to_owned(),
            scan,
            codes: uses.into_values().collect(),
            resolutions,
            client_id: applied.as_ref().and_then(|a| a.client_id.clone()),
            applied,
        }
    }

    fn scope(&self, kind: Kind, auth: Option<AuthType>) -> String {
        let set: BTreeSet<&str> = self
            .codes
            .iter()
            .filter(|c| c.kind == kind && auth.is_none_or(|a| a == c.auth))
            .map(|c| c.code.as_str())
            .collect();
        set.into_iter().collect::<Vec<_>>().join(",")
    }

    /// Every rpc code asked for, of both authorization types, sorted and comma-joined: a
    /// summary, not an `rpcScope` (openAuth refuses codes of the other type).
    pub fn rpc_codes(&self) -> String {
        self.scope(Kind::Rpc, None)
    }

    /// Every field code asked for, of both authorization types.
    pub fn field_codes(&self) -> String {
        self.scope(Kind::Field, None)
    }

    /// openAuth's `rpcScope` for one authorization type: its rpc codes, sorted,
    /// comma-joined, no spaces.
    pub fn rpc_scope_for(&self, auth: AuthType) -> String {
        self.scope(Kind::Rpc, Some(auth))
    }

    /// openAuth's `fieldScope` for one authorization type.
    pub fn field_scope_for(&self, auth: AuthType) -> String {
        self.scope(Kind::Field, Some(auth))
    }

    /// Codes the crate asks for that the applied-for list lacks.
    pub fn not_applied(&self) -> Vec<String> {
        let Some(a) = &self.applied else {
            return Vec::new();
        };
        self.codes
            .iter()
            .filter(|c| !a.contains(&c.code))
            .map(|c| c.code.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Codes the applied-for list applies for that no function uses, not even as an
    /// alternative: `.default` would ask for them too.
    pub fn unused_applied(&self) -> Vec<String> {
        let Some(a) = &self.applied else {
            return Vec::new();
        };
        let mentioned: BTreeSet<&str> = self
            .scan
            .declarations
            .iter()
            .flat_map(|d| {
                d.groups
                    .iter()
                    .flat_map(|(_, cs)| cs.iter().map(String::as_str))
            })
            .collect();
        a.application
            .iter()
            .chain(&a.delegated)
            .chain(&a.field)
            .filter(|c| !mentioned.contains(c.as_str()))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Whether `rpcScope: ".default"` (every applied-for application code) asks for
    /// exactly the application codes this manifest asks for.
    pub fn default_is_exact(&self) -> Option<bool> {
        let a = self.applied.as_ref()?;
        let applied: BTreeSet<&str> = a.application.iter().map(String::as_str).collect();
        let wanted: BTreeSet<&str> = self
            .codes
            .iter()
            .filter(|c| c.kind == Kind::Rpc && c.auth == AuthType::Application)
            .map(|c| c.code.as_str())
            .collect();
        Some(applied == wanted)
    }

    /// The manifest as JSON (`docs/manifest-schema.md`).
    pub fn to_json(&self) -> String {
        let codes: Vec<Value> = self
            .codes
            .iter()
            .map(|c| {
                json!({
                    "code": c.code,
                    "kind": c.kind.as_str(),
                    "authType": c.auth.as_str(),
                    "name": dingscope_catalog::lookup(&c.code).map(|i| i.name),
                    "functions": c.functions.iter().map(|(f, file, line)| json!({"function": f, "file": file, "line": line})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let decl = |d: &Declaration| {
            json!({
                "function": d.function,
                "file": d.file,
                "line": d.line,
                "authType": d.auth.map(AuthType::as_str),
                "requires": d.groups.iter().map(|(k, cs)| json!({
                    "kind": k.as_str(),
                    "anyOf": cs,
                })).collect::<Vec<_>>(),
            })
        };
        let v = json!({
            "schemaVersion": SCHEMA_VERSION,
            "crate": self.krate,
            "clientId": self.client_id,
            "byAuthType": {
                "application": {"type": 1, "rpcScope": self.rpc_scope_for(AuthType::Application), "fieldScope": self.field_scope_for(AuthType::Application)},
                "delegated": {"type": 0, "rpcScope": self.rpc_scope_for(AuthType::Delegated), "fieldScope": self.field_scope_for(AuthType::Delegated)},
            },
            "codes": codes,
            "resolutions": self.resolutions.iter().map(|r| json!({
                "function": r.function, "anyOf": r.alternatives, "chosen": r.chosen, "reason": r.reason,
            })).collect::<Vec<_>>(),
            "declarations": self.scan.declarations.iter().map(decl).collect::<Vec<_>>(),
            "testOnly": self.scan.test_only.iter().map(decl).collect::<Vec<_>>(),
            "default": self.applied.as_ref().map(|a| json!({
                "applied": a.application,
                "exact": self.default_is_exact(),
                "unusedApplied": self.unused_applied(),
                "notApplied": self.not_applied(),
            })),
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// A TypeScript module exporting openAuth's parameters, one object per authorization
    /// type, with literal `type` values and the app's `clientId` when it is known.
    pub fn to_typescript(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "// Generated by dingscope from the #[requires_scope] declarations of `{}`. Do not edit.",
            self.krate
        );
        let _ = writeln!(
            s,
            "// openAuth's parameters, one object per authorization type: an rpcScope never mixes\n\
             // the two, which openAuth refuses. Add the corp, and pass one to openAuth:\n\
             //   openAuth({{ ...application, corpId }})  // an admin grants the corp (type 1)\n\
             //   openAuth({{ ...delegated, corpId }})    // the signed-in user grants (type 0)"
        );
        let client = match &self.client_id {
            Some(id) => {
                let _ = writeln!(s, "export const clientId = {id:?};");
                "clientId, "
            }
            None => {
                let _ = writeln!(
                    s,
                    "// No clientId: set `[app] client_id` in dingscope.toml to have it here."
                );
                ""
            }
        };
        for (name, a) in [
            ("application", AuthType::Application),
            ("delegated", AuthType::Delegated),
        ] {
            let _ = writeln!(
                s,
                "export const {name} = {{ {client}rpcScope: {:?}, fieldScope: {:?}, type: {} }} as const;",
                self.rpc_scope_for(a),
                self.field_scope_for(a),
                a.open_auth_type()
            );
        }
        s
    }

    /// A Markdown table: code, official name, kind, authorization type, functions.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "# DingTalk permissions of `{}`\n\nGenerated by dingscope from the `#[requires_scope]` declarations. Do not edit.\n\n",
            self.krate
        );
        if let Some(id) = &self.client_id {
            let _ = writeln!(s, "- clientId: `{id}`");
        }
        for a in [AuthType::Application, AuthType::Delegated] {
            let _ = writeln!(
                s,
                "- {a} (type {}): rpcScope `{}`, fieldScope `{}`",
                a.open_auth_type(),
                self.rpc_scope_for(a),
                self.field_scope_for(a)
            );
        }
        s.push('\n');
        s.push_str("| code | name | kind | authorization | functions |\n|---|---|---|---|---|\n");
        for c in &self.codes {
            let name =
                dingscope_catalog::lookup(&c.code).map_or("(not in the catalog)", |i| i.name);
            let funcs: Vec<String> = c
                .functions
                .iter()
                .map(|(f, file, line)| format!("`{f}` ({file}:{line})"))
                .collect();
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} |",
                c.code,
                name.replace('|', "\\|"),
                c.kind.as_str(),
                format_args!("{} (type {})", c.auth, c.auth.open_auth_type()),
                funcs.join("<br>")
            );
        }
        if !self.resolutions.is_empty() {
            s.push_str(
                "\n## Alternatives\n\n| function | any of | asked for | why |\n|---|---|---|---|\n",
            );
            for r in &self.resolutions {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | `{}` | {} |",
                    r.function,
                    r.alternatives
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    r.chosen,
                    r.reason
                );
            }
        }
        s
    }

    /// The Rust that `dingscope::include_manifest!()` includes.
    pub fn to_rust(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "// Generated by dingscope-build from the #[requires_scope] declarations of `{}`.",
            self.krate
        );
        let consts = [
            (
                "RPC_SCOPE_APPLICATION",
                "`rpcScope` for application authorization (`type: 1`).",
                self.rpc_scope_for(AuthType::Application),
            ),
            (
                "FIELD_SCOPE_APPLICATION",
                "`fieldScope` for application authorization (`type: 1`).",
                self.field_scope_for(AuthType::Application),
            ),
            (
                "RPC_SCOPE_DELEGATED",
                "`rpcScope` for delegated authorization (`type: 0`).",
                self.rpc_scope_for(AuthType::Delegated),
            ),
            (
                "FIELD_SCOPE_DELEGATED",
                "`fieldScope` for delegated authorization (`type: 0`).",
                self.field_scope_for(AuthType::Delegated),
            ),
        ];
        for (name, doc, value) in consts {
            let _ = writeln!(
                s,
                "#[doc = {doc:?}]\n#[allow(dead_code)]\npub const {name}: &str = {value:?};"
            );
        }
        // The mixed lists openAuth refuses, kept for code that named them.
        for (name, value, instead) in [
            (
                "RPC_SCOPE",
                self.rpc_codes(),
                "RPC_SCOPE_APPLICATION or RPC_SCOPE_DELEGATED",
            ),
            (
                "FIELD_SCOPE",
                self.field_codes(),
                "FIELD_SCOPE_APPLICATION or FIELD_SCOPE_DELEGATED",
            ),
        ] {
            let _ = writeln!(
                s,
                "/// Every {} code of both authorization types: not an openAuth parameter.\n#[allow(dead_code)]\n#[deprecated(note = \"mixes application and delegated codes, which openAuth refuses: use {instead}\")]\npub const {name}: &str = {value:?};",
                if name == "RPC_SCOPE" { "rpc" } else { "field" }
            );
        }
        let _ = writeln!(
            s,
            "/// openAuth's `clientId`: `[app] client_id` in dingscope.toml (`None` without it).\n#[allow(dead_code)]\npub const CLIENT_ID: ::core::option::Option<&str> = {};",
            match &self.client_id {
                Some(id) => format!("::core::option::Option::Some({id:?})"),
                None => "::core::option::Option::None".into(),
            }
        );
        let _ = writeln!(
            s,
            "/// Whether `rpcScope: \".default\"` asks for exactly the application codes above (`None`: no applied-for list).\n#[allow(dead_code)]\npub const DEFAULT_IS_EXACT: ::core::option::Option<bool> = ::core::option::Option::{};",
            match self.default_is_exact() {
                Some(b) => format!("Some({b})"),
                None => "None".into(),
            }
        );
        let applied: Vec<String> = self
            .applied
            .as_ref()
            .map(|a| a.application.iter().map(|c| format!("{c:?}")).collect())
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "/// The application codes `dingscope.toml` applies for: what `rpcScope: \".default\"` grants.\n#[allow(dead_code)]\npub const APPLIED_APPLICATION: &[&str] = &[{}];",
            applied.join(", ")
        );
        let decl = |d: &Declaration, test_only: bool| {
            let codes: Vec<String> = d
                .groups
                .iter()
                .map(|(k, cs)| {
                    format!(
                        "(::dingscope::Kind::{}, &[{}])",
                        match k {
                            Kind::Rpc => "Rpc",
                            Kind::Field => "Field",
                        },
                        cs.iter()
                            .map(|c| format!("{c:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            format!(
                "    ::dingscope::manifest::Declared {{ function: {:?}, file: {:?}, line: {}, requires: &[{}], test_only: {test_only} }},\n",
                d.function,
                d.file,
                d.line,
                codes.join(", ")
            )
        };
        s.push_str("/// Every `#[requires_scope]` function the build scanned, `cfg(test)`-only ones marked.\n#[allow(dead_code)]\npub const DECLARATIONS: &[::dingscope::manifest::Declared] = &[\n");
        for d in &self.scan.declarations {
            s.push_str(&decl(d, false));
        }
        for d in &self.scan.test_only {
            s.push_str(&decl(d, true));
        }
        s.push_str("];\n");
        s.push_str("/// Each code asked for, with the functions that need it.\n#[allow(dead_code)]\npub const CODES: &[::dingscope::manifest::CodeUse] = &[\n");
        for c in &self.codes {
            let funcs: Vec<String> = c
                .functions
                .iter()
                .map(|(f, _, _)| format!("{f:?}"))
                .collect();
            let _ = writeln!(
                s,
                "    ::dingscope::manifest::CodeUse {{ code: {:?}, kind: ::dingscope::Kind::{:?}, auth: ::dingscope::AuthType::{:?}, functions: &[{}] }},",
                c.code,
                c.kind,
                c.auth,
                funcs.join(", ")
            );
        }
        s.push_str("];\n");
        s
    }
}

/// The smallest set of codes that meets every group (one code of each), preferring
/// earlier alternatives.
fn cover(groups: &[Vec<String>]) -> BTreeSet<String> {
    let mut candidates: Vec<&String> = Vec::new();
    for g in groups {
        for c in g {
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    let covers = |set: &[&String]| groups.iter().all(|g| g.iter().any(|c| set.contains(&c)));
    // A code's cost: how far down its groups' preference lists it sits.
    let cost = |c: &String| -> usize {
        groups
            .iter()
            .filter_map(|g| g.iter().position(|x| x == c))
            .sum()
    };
    if candidates.len() <= 16 {
        for size in 1..=candidates.len() {
            let mut best: Option<(usize, Vec<&String>)> = None;
            for mask in 0u32..(1 << candidates.len()) {
                if mask.count_ones() as usize != size {
                    continue;
                }
                let set: Vec<&String> = (0..candidates.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| candidates[i])
                    .collect();
                if covers(&set) {
                    let c: usize = set.iter().map(|s| cost(s)).sum();
                    if best.as_ref().is_none_or(|(b, _)| c < *b) {
                        best = Some((c, set));
                    }
                }
            }
            if let Some((_, set)) = best {
                return set.into_iter().cloned().collect();
            }
        }
        return BTreeSet::new();
    }
    let mut chosen = BTreeSet::new();
    let mut left: Vec<&Vec<String>> = groups.iter().collect();
    while !left.is_empty() {
        let best = candidates
            .iter()
            .max_by_key(|c| {
                (
                    left.iter().filter(|g| g.contains(c)).count(),
                    std::cmp::Reverse(cost(c)),
                )
            })
            .map(|c| (*c).clone());
        let Some(best) = best else { break };
        left.retain(|g| !g.contains(&best));
        chosen.insert(best);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cover_finds_the_smallest_set() {
        let groups = vec![g(&["a_a", "b_b"]), g(&["c_c", "b_b"]), g(&["c_c", "d_d"])];
        // Two codes suffice; of the two-code covers, {a, c} takes every group's first choice.
        let c = cover(&groups);
        assert_eq!(c, ["a_a".to_owned(), "c_c".to_owned()].into());
        // One code can cover several groups.
        let c = cover(&[g(&["a_a", "b_b"]), g(&["c_c", "b_b"])]);
        assert_eq!(c, ["b_b".to_owned()].into());
        // Preference decides between equal sizes.
        assert_eq!(cover(&[g(&["x_x", "y_y"])]), ["x_x".to_owned()].into());
        assert!(cover(&[]).is_empty());
    }
}
