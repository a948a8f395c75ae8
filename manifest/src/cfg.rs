//! `#[cfg(...)]` as the build sees it.

use std::collections::{BTreeMap, BTreeSet};

use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Token};

/// The configuration a crate is compiled with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cfg {
    /// Enabled features, as `Cargo.toml` names them (or as `CARGO_FEATURE_*` gives them:
    /// compared case-insensitively with `-` and `_` alike).
    pub features: BTreeSet<String>,
    /// Other options: `unix` (no value), `target_os = "linux"`, ...
    pub options: BTreeMap<String, BTreeSet<String>>,
}

fn norm(feature: &str) -> String {
    feature.to_ascii_lowercase().replace('-', "_")
}

impl Cfg {
    /// What cargo tells a build script: `CARGO_FEATURE_*` and `CARGO_CFG_*`.
    pub fn from_env() -> Cfg {
        Cfg::from_vars(std::env::vars())
    }

    /// The same from any list of variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Cfg {
        let mut cfg = Cfg::default();
        for (k, v) in vars {
            if let Some(f) = k.strip_prefix("CARGO_FEATURE_") {
                cfg.features.insert(norm(f));
            } else if let Some(name) = k.strip_prefix("CARGO_CFG_") {
                let values = cfg.options.entry(name.to_ascii_lowercase()).or_default();
                values.extend(v.split(',').filter(|x| !x.is_empty()).map(str::to_owned));
            }
        }
        cfg
    }

    /// The host's configuration with `features`, for the command line.
    pub fn host(features: impl IntoIterator<Item = String>) -> Cfg {
        let mut cfg = Cfg {
            features: features.into_iter().map(|f| norm(&f)).collect(),
            ..Cfg::default()
        };
        let mut set = |k: &str, v: &str| {
            let e = cfg.options.entry(k.to_owned()).or_default();
            if !v.is_empty() {
                e.insert(v.to_owned());
            }
        };
        set("target_os", std::env::consts::OS);
        set("target_family", std::env::consts::FAMILY);
        set("target_arch", std::env::consts::ARCH);
        set(std::env::consts::FAMILY, "");
        set("debug_assertions", "");
        set("panic", "unwind");
        cfg
    }

    /// Evaluates a cfg predicate; `test` says whether `cfg(test)` holds.
    pub fn eval(&self, pred: &Meta, test: bool) -> bool {
        match pred {
            Meta::Path(p) => {
                let Some(name) = p.get_ident().map(|i| i.to_string()) else {
                    return false;
                };
                match name.as_str() {
                    "test" => test,
                    "true" => true,
                    "false" => false,
                    _ => self.options.contains_key(&name),
                }
            }
            Meta::NameValue(nv) => {
                let Some(name) = nv.path.get_ident().map(|i| i.to_string()) else {
                    return false;
                };
                let Expr::Lit(lit) = &nv.value else {
                    return false;
                };
                let Lit::Str(value) = &lit.lit else {
                    return false;
                };
                let value = value.value();
                if name == "feature" {
                    self.features.contains(&norm(&value))
                } else {
                    self.options
                        .get(&name)
                        .is_some_and(|vs| vs.contains(&value))
                }
            }
            Meta::List(list) => {
                let name = list
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                let Ok(args) =
                    list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                else {
                    return false;
                };
                match name.as_str() {
                    "all" => args.iter().all(|m| self.eval(m, test)),
                    "any" => args.iter().any(|m| self.eval(m, test)),
                    "not" => args.len() == 1 && !self.eval(&args[0], test),
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(cfg: &Cfg, pred: &str, test: bool) -> bool {
        cfg.eval(&syn::parse_str::<Meta>(pred).unwrap(), test)
    }

    #[test]
    fn predicates() {
        let cfg = Cfg::from_vars([
            ("CARGO_FEATURE_HRM_API".to_owned(), "1".to_owned()),
            ("CARGO_CFG_UNIX".to_owned(), String::new()),
            ("CARGO_CFG_TARGET_OS".to_owned(), "linux".to_owned()),
            (
                "CARGO_CFG_TARGET_FEATURE".to_owned(),
                "sse2,fxsr".to_owned(),
            ),
        ]);
        assert!(eval(&cfg, r#"feature = "hrm-api""#, false));
        assert!(eval(&cfg, r#"feature = "hrm_api""#, false));
        assert!(!eval(&cfg, r#"feature = "contact""#, false));
        assert!(eval(&cfg, "unix", false));
        assert!(!eval(&cfg, "windows", false));
        assert!(eval(
            &cfg,
            r#"all(unix, target_os = "linux", not(windows))"#,
            false
        ));
        assert!(eval(
            &cfg,
            r#"any(windows, target_feature = "sse2")"#,
            false
        ));
        assert!(!eval(&cfg, "test", false));
        assert!(eval(&cfg, "test", true));
        assert!(!eval(&cfg, "not(unix, windows)", false));
        assert!(!eval(&cfg, "foo::bar", false));
    }
}
