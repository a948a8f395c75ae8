//! The attribute's arguments.
//!
//! ```text
//! args    := item (',' item)* ','?
//! item    := "code"                       a required rpc code
//!          | any("code", "code", ...)     any one of these rpc codes
//!          | field(fitem, ...)            field codes (openAuth fieldScope)
//!          | auth = delegated | application
//!          | endpoint_check = false | true
//! fitem   := "code" | any("code", ...)
//! ```
//!
//! Each comma-separated item is parsed on its own, so that every mistake is reported
//! in one pass.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{Error, Ident, Lit, LitStr};

use dingscope_catalog::{AuthType, Kind};

use crate::errors::Errors;

/// The arguments the attribute takes besides codes, for messages.
pub const ARGUMENTS: &str = "`any(...)`, `field(...)`, `auth = ...`, `endpoint_check = ...`";
const NAMES: &[&str] = &["any", "field", "auth", "endpoint_check"];
/// A declaration to show in messages.
pub const EXAMPLE: &str = "#[requires_scope(\"Contact.User.Read\")]";

/// One code as written.
#[derive(Clone)]
pub struct Code {
    /// The code.
    pub value: String,
    /// Its literal, for spans.
    pub lit: LitStr,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.value, f)
    }
}

/// One requirement: a code, or alternatives.
#[derive(Debug)]
pub struct Group {
    /// rpc or field codes.
    pub kind: Kind,
    /// The alternatives, in order of preference; one code is a plain requirement.
    pub codes: Vec<Code>,
}

/// The attribute's arguments, as far as they parsed.
#[derive(Debug)]
pub struct Args {
    /// Every group must be satisfied.
    pub groups: Vec<Group>,
    /// `auth = ...`, if given.
    pub auth: Option<AuthType>,
    /// `endpoint_check = ...`; `true` unless turned off.
    pub endpoint_check: bool,
}

/// Parses the arguments. Errors go to `errors`; what did parse is returned, so that
/// later checks can still report their own mistakes.
pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args {
        groups: Vec::new(),
        auth: None,
        endpoint_check: true,
    };
    let mut auth_seen = false;
    let mut check_seen = false;
    for item in split_commas(tokens) {
        let Some(first) = item.first() else {
            continue;
        };
        match first {
            TokenTree::Literal(_) if item.len() == 1 => {
                if let Some(code) = code(first, errors) {
                    args.groups.push(Group {
                        kind: Kind::Rpc,
                        codes: vec![code],
                    });
                }
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                match (name.as_str(), &item[1..]) {
                    ("any", [TokenTree::Group(g)]) if g.delimiter() == Delimiter::Parenthesis => {
                        if let Some(group) = any(ident, g.stream(), Kind::Rpc, errors) {
                            args.groups.push(group);
                        }
                    }
                    ("field", [TokenTree::Group(g)]) if g.delimiter() == Delimiter::Parenthesis => {
                        field(ident, g.stream(), &mut args.groups, errors);
                    }
                    ("auth", [TokenTree::Punct(eq), value @ ..]) if eq.as_char() == '=' => {
                        if auth_seen {
                            errors.push(duplicate_option(ident));
                        } else if let Some(auth) = auth_value(ident, value, errors) {
                            args.auth = Some(auth);
                        }
                        auth_seen = true;
                    }
                    ("endpoint_check", [TokenTree::Punct(eq), value @ ..])
                        if eq.as_char() == '=' =>
                    {
                        if check_seen {
                            errors.push(duplicate_option(ident));
                        } else if let Some(on) = bool_value(ident, value, errors) {
                            args.endpoint_check = on;
                        }
                        check_seen = true;
                    }
                    ("any" | "field", _) => errors.push(Error::new(
                        ident.span(),
                        format!(
                            "`{name}` takes its codes in parentheses: `{name}(\"...\", \"...\")`"
                        ),
                    )),
                    ("auth", _) => errors.push(Error::new(
                        ident.span(),
                        "`auth` needs a value: `auth = delegated` or `auth = application`",
                    )),
                    ("endpoint_check", _) => errors.push(Error::new(
                        ident.span(),
                        "`endpoint_check` needs a value: `endpoint_check = false`",
                    )),
                    (_, []) => errors.push(unknown_argument(ident)),
                    (_, [TokenTree::Punct(p), ..]) if p.as_char() == '=' => {
                        errors.push(unknown_argument(ident))
                    }
                    (_, [TokenTree::Group(g)]) if g.delimiter() == Delimiter::Parenthesis => {
                        errors.push(unknown_argument(ident))
                    }
                    _ => errors.push(not_a_literal(&item)),
                }
            }
            _ => errors.push(not_a_literal(&item)),
        }
    }
    args
}

/// Splits a token stream at its top-level commas; empty items are dropped, so a
/// trailing comma is fine.
fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().expect("never empty").push(tt),
        }
    }
    items.retain(|i| !i.is_empty());
    items
}

fn code(tt: &TokenTree, errors: &mut Errors) -> Option<Code> {
    let TokenTree::Literal(lit) = tt else {
        errors.push(not_a_literal(std::slice::from_ref(tt)));
        return None;
    };
    match Lit::new(lit.clone()) {
        Lit::Str(s) if !s.suffix().is_empty() => {
            errors.push(Error::new(
                s.span(),
                "a permission code takes no literal suffix",
            ));
            None
        }
        Lit::Str(s) => Some(Code {
            value: s.value(),
            lit: s,
        }),
        other => {
            errors.push(Error::new(
                other.span(),
                "expected a string literal permission code, such as \"Contact.User.Read\"",
            ));
            None
        }
    }
}

fn not_a_literal(item: &[TokenTree]) -> Error {
    let tokens: TokenStream = item.iter().cloned().collect();
    Error::new_spanned(
        tokens,
        "expected a string literal permission code, such as \"Contact.User.Read\"; \
         codes must be written out so they can be checked when the crate compiles",
    )
}

fn any(keyword: &Ident, inner: TokenStream, kind: Kind, errors: &mut Errors) -> Option<Group> {
    let mut codes = Vec::new();
    let mut ok = true;
    for item in split_commas(inner) {
        match item.as_slice() {
            [tt @ TokenTree::Literal(_)] => match code(tt, errors) {
                Some(c) => codes.push(c),
                None => ok = false,
            },
            [TokenTree::Ident(i), ..] if i == "any" => {
                errors.push(Error::new(
                    i.span(),
                    "`any(...)` cannot be nested; list every alternative in one `any(...)`",
                ));
                ok = false;
            }
            [TokenTree::Ident(i), ..] if i == "field" => {
                errors.push(Error::new(
                    i.span(),
                    "`field(...)` cannot go inside `any(...)`; write `field(any(...))` for alternative field codes",
                ));
                ok = false;
            }
            other => {
                errors.push(not_a_literal(other));
                ok = false;
            }
        }
    }
    if ok && codes.len() < 2 {
        let msg = match codes.first() {
            None => "`any(...)` needs at least two alternative codes".to_owned(),
            Some(c) => format!(
                "`any(...)` needs at least two alternative codes; write {:?} on its own",
                c.value
            ),
        };
        errors.push(Error::new(keyword.span(), msg));
        return None;
    }
    ok.then_some(Group { kind, codes })
}

fn field(keyword: &Ident, inner: TokenStream, groups: &mut Vec<Group>, errors: &mut Errors) {
    let items = split_commas(inner);
    if items.is_empty() {
        errors.push(Error::new(
            keyword.span(),
            "`field(...)` needs at least one field code, such as `field(\"Contact.User.mobile\")`",
        ));
    }
    for item in items {
        match item.as_slice() {
            [tt @ TokenTree::Literal(_)] => {
                if let Some(c) = code(tt, errors) {
                    groups.push(Group {
                        kind: Kind::Field,
                        codes: vec![c],
                    });
                }
            }
            [TokenTree::Ident(i), TokenTree::Group(g)]
                if i == "any" && g.delimiter() == Delimiter::Parenthesis =>
            {
                if let Some(group) = any(i, g.stream(), Kind::Field, errors) {
                    groups.push(group);
                }
            }
            [TokenTree::Ident(i), ..] if i == "field" => {
                errors.push(Error::new(i.span(), "`field(...)` cannot be nested"))
            }
            other => errors.push(not_a_literal(other)),
        }
    }
}

fn auth_value(name: &Ident, value: &[TokenTree], errors: &mut Errors) -> Option<AuthType> {
    choice(
        name,
        value,
        &[
            ("delegated", AuthType::Delegated),
            ("application", AuthType::Application),
        ],
        "`auth` needs a value: `auth = delegated` or `auth = application`",
        "expected `delegated` (openAuth type 0, per user) or `application` (type 1, granted by an admin)",
        errors,
    )
}

fn bool_value(name: &Ident, value: &[TokenTree], errors: &mut Errors) -> Option<bool> {
    choice(
        name,
        value,
        &[("true", true), ("false", false)],
        "`endpoint_check` needs a value: `endpoint_check = false`",
        "expected `true` or `false`",
        errors,
    )
}

/// The value of `name = value`, one of `options`' identifiers.
fn choice<T: Copy>(
    name: &Ident,
    value: &[TokenTree],
    options: &[(&str, T)],
    missing: &str,
    wrong: &str,
    errors: &mut Errors,
) -> Option<T> {
    if let [TokenTree::Ident(v)] = value
        && let Some((_, t)) = options.iter().find(|(o, _)| v == o)
    {
        return Some(*t);
    }
    errors.push(if value.is_empty() {
        Error::new(name.span(), missing)
    } else {
        Error::new_spanned(value.iter().cloned().collect::<TokenStream>(), wrong)
    });
    None
}

fn duplicate_option(ident: &Ident) -> Error {
    Error::new(ident.span(), format!("`{ident}` is given twice"))
}

fn unknown_argument(ident: &Ident) -> Error {
    let name = ident.to_string();
    let hint = NAMES
        .iter()
        .map(|n| {
            (
                dingscope_catalog::edit_distance(&name.to_ascii_lowercase(), n),
                n,
            )
        })
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min()
        .map(|(_, n)| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Error::new(
        ident.span(),
        format!(
            "unknown argument `{name}`{hint}\nexpected a string literal permission code or one of {ARGUMENTS}"
        ),
    )
}
