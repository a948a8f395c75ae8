//! Checks of the declared codes: grammar, kind, duplicates, the catalog, the
//! applied-for list.

use std::collections::HashSet;

use dingscope_catalog::{check_grammar, lookup, suggest};
use proc_macro2::Span;
use syn::Error;

use dingscope_catalog::Kind;
use dingscope_syntax::applied::AppliedFile;
use dingscope_syntax::attr::Args;
use dingscope_syntax::errors::Errors;

/// Checks every code; each mistake is reported at its literal.
pub(crate) fn codes(args: &Args, file: Option<&AppliedFile>, errors: &mut Errors) {
    let applied = file.and_then(|d| d.applied.as_ref().ok());
    if let Some(AppliedFile {
        shown,
        applied: Err(e),
        ..
    }) = file
    {
        errors.push(Error::new(
            Span::call_site(),
            format!("invalid applied-for list {shown}: {e}"),
        ));
    }
    // openAuth grants field permissions to users only: an organisation's authorization
    // (type 1) has no fieldScope.
    if args.auth == Some(dingscope_catalog::AuthType::Application) {
        for code in args
            .groups
            .iter()
            .filter(|g| g.kind == Kind::Field)
            .flat_map(|g| &g.codes)
        {
            errors.push(Error::new(
                code.lit.span(),
                format!(
                    "`{}` is a field permission, which only a user grants (openAuth type 0); \
                     an organisation's authorization (`auth = application`, type 1) has no fieldScope\n\
                     make the function `auth = delegated`, or move the field to a delegated function",
                    code.value
                ),
            ));
        }
    }
    let mut seen = HashSet::new();
    for group in &args.groups {
        for code in &group.codes {
            let value = code.value.as_str();
            let span = code.lit.span();
            if let Err(e) = check_grammar(value) {
                errors.push(Error::new(
                    span,
                    format!("invalid permission code {value:?}: {e}"),
                ));
                continue;
            }
            if !seen.insert(value) {
                errors.push(Error::new(
                    span,
                    format!("duplicate permission code `{value}`"),
                ));
                continue;
            }
            let in_file = applied.is_some_and(|a| a.contains(value));
            match lookup(value) {
                Some(info) => match (group.kind, info.kind) {
                    (Kind::Rpc, Kind::Field) => errors.push(Error::new(
                        span,
                        format!(
                            "`{value}` is a field permission ({}); write it as `field({value:?})`",
                            info.name
                        ),
                    )),
                    (Kind::Field, Kind::Rpc) => errors.push(Error::new(
                        span,
                        format!(
                            "`{value}` is an rpc permission ({}), not a field permission; move it out of `field(...)`",
                            info.name
                        ),
                    )),
                    _ => {}
                },
                None if !in_file => {
                    if let Some(s) = suggest(value) {
                        let how = if s.distance == 0 { "codes are case-sensitive; " } else { "" };
                        errors.push(Error::new(
                            span,
                            format!(
                                "unknown permission code `{value}`; {how}did you mean `{}` ({})?\n\
                                 if `{value}` is right, list it under [applied] in dingscope.toml",
                                s.scope.code, s.scope.name
                            ),
                        ));
                    }
                }
                None => {}
            }
        }
    }
    if let (Some(applied), Some(file)) = (applied, file) {
        for group in &args.groups {
            let listed = |c: &str| match group.kind {
                Kind::Rpc => applied.rpc_contains(c),
                Kind::Field => applied.field_contains(c),
            };
            if group.codes.iter().any(|c| listed(&c.value)) {
                continue;
            }
            let list = match group.kind {
                Kind::Rpc => "`application` or `delegated`",
                Kind::Field => "`field`",
            };
            for code in &group.codes {
                if check_grammar(&code.value).is_err() {
                    continue;
                }
                let alts = if group.codes.len() > 1 {
                    " (nor is any of its alternatives)"
                } else {
                    ""
                };
                errors.push(Error::new(
                    code.lit.span(),
                    format!(
                        "`{}` is not applied for in {}{alts}\n\
                         apply for it in the developer console, then add it to {list} under [applied]",
                        code.value, file.shown
                    ),
                ));
            }
        }
    }
}
