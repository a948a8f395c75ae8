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
                errors.push(Error::new(s.span(), message(&found)));
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
