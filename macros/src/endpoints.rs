//! Endpoint awareness: string literals in the body that name a DingTalk API path must be
//! covered by the declaration.

use dingscope_catalog::{Endpoint, match_path};
use proc_macro2::{TokenStream, TokenTree};
use syn::{Error, Lit};

use dingscope_catalog::Kind;
use dingscope_syntax::attr::Args;
use dingscope_syntax::errors::Errors;

/// Reports every literal in `body` naming an endpoint whose codes the declaration lacks.
pub(crate) fn check(args: &Args, body: &TokenStream, errors: &mut Errors) {
    for tt in body.clone() {
        match tt {
            TokenTree::Group(g) => check(args, &g.stream(), errors),
            TokenTree::Literal(lit) => {
                let Lit::Str(s) = Lit::new(lit) else { continue };
                let value = s.value();
                let found = match_path(&value);
                if found.is_empty() || found.iter().any(|ep| covers(args, ep)) {
                    continue;
                }
                let msg = narrower(args, &found).unwrap_or_else(|| message(&found));
                errors.push(Error::new(s.span(), msg));
            }
            _ => {}
        }
    }
}

/// Whether every grant that satisfies `args` also holds one of the endpoint's codes: a
/// required code is among them, or every alternative of some any-of group is.
fn covers(args: &Args, ep: &Endpoint) -> bool {
    args.groups.iter().filter(|g| g.kind == Kind::Rpc).any(|g| {
        g.codes
            .iter()
            .all(|c| ep.scopes.contains(&c.value.as_str()))
    })
}

/// The message when an `any(...)` group lists some of the API's codes but also others:
/// a grant holding only one of the others passes the function's check, and the client's
/// pre-call check then denies the call before it is sent. `any` promises that every
/// alternative is enough for the whole function, so the others do not cover this API.
fn narrower(args: &Args, found: &[&Endpoint]) -> Option<String> {
    for ep in found {
        for g in args.groups.iter().filter(|g| g.kind == Kind::Rpc) {
            let (accepted, others): (Vec<&str>, Vec<&str>) = g
                .codes
                .iter()
                .map(|c| c.value.as_str())
                .partition(|c| ep.scopes.contains(c));
            if accepted.is_empty() || others.is_empty() {
                continue;
            }
            let list = |codes: &[&str]| {
                codes
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let suggested = if accepted.len() == 1 {
                format!("{:?}", accepted[0])
            } else {
                format!(
                    "any({})",
                    accepted
                        .iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Some(format!(
                "this names DingTalk API `{} {}` ({}), which accepts {} but not {}\n\
                 `any(...)` means each alternative is enough for the whole function: a grant of \
                 only {} passes its check, and the call would be denied before it is sent\n\
                 keep only what this API accepts, as in `#[requires_scope({suggested})]`, \
                 split the function by API, or opt it out with `endpoint_check = false`",
                ep.method.as_str(),
                ep.path,
                ep.title,
                list(&accepted),
                list(&others),
                list(&others),
            ));
        }
    }
    None
}

fn message(found: &[&Endpoint]) -> String {
    let mut msg = String::from("this names DingTalk API ");
    for (i, ep) in found.iter().enumerate() {
        if i > 0 {
            msg.push_str(" or ");
        }
        let codes: Vec<String> = ep.scopes.iter().map(|c| format!("`{c}`")).collect();
        msg.push_str(&format!(
            "`{} {}` ({}), which needs {}{}",
            ep.method.as_str(),
            ep.path,
            ep.title,
            if codes.len() > 1 { "any of " } else { "" },
            codes.join(", ")
        ));
    }
    let first = found[0].scopes[0];
    msg.push_str(&format!(
        "\nadd it to the attribute, as in `#[requires_scope({first:?})]`, \
         or opt this function out with `endpoint_check = false`"
    ));
    msg
}
