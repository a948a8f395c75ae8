//! The annotated item, parsed only as far as needed: the signature; the body stays tokens.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use syn::parse::ParseStream;
use syn::{Attribute, Error, Signature, Token, Visibility};

pub(crate) struct Func {
    pub attrs: Vec<Attribute>,
    pub sig: Signature,
    pub body: Option<Group>,
    pub semi: Option<Token![;]>,
}

impl Func {
    /// Splits `item` at its body (the trailing brace group) and parses the rest: the
    /// header's top-level tokens come back too, to be emitted as written.
    pub(crate) fn parse(item: TokenStream) -> syn::Result<(Func, Vec<TokenTree>)> {
        let mut header: Vec<TokenTree> = item.into_iter().collect();
        let body = match header.last() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => Some(g.clone()),
            _ => None,
        };
        if body.is_some() {
            header.pop();
        }
        let parse = |input: ParseStream| {
            let attrs = input.call(Attribute::parse_outer)?;
            input.parse::<Visibility>()?;
            let sig: Signature = input.parse()?;
            let semi: Option<Token![;]> = input.parse()?;
            if !input.is_empty() || semi.is_some() == body.is_some() {
                return Err(input.error("expected a function"));
            }
            Ok(Func {
                attrs,
                sig,
                body: body.clone(),
                semi,
            })
        };
        let func = syn::parse::Parser::parse2(parse, header.iter().cloned().collect())?;
        Ok((func, header))
    }
}

/// For an item that is not a function: an error at its keyword, or `None` if the item
/// does not parse at all (rustc will report that itself).
pub(crate) fn not_a_function(item: TokenStream) -> Option<Error> {
    syn::parse::Parser::parse2(
        |input: ParseStream| {
            input.call(Attribute::parse_outer)?;
            input.parse::<Visibility>()?;
            let mut words = Vec::new();
            let mut first = None;
            while let Some(TokenTree::Ident(i)) = input.cursor().token_tree().map(|(t, _)| t) {
                input.parse::<TokenTree>()?;
                first.get_or_insert(i.span());
                let w = i.to_string();
                let done = !matches!(w.as_str(), "unsafe" | "auto" | "default" | "extern");
                words.push(w);
                if done {
                    break;
                }
            }
            input.parse::<TokenStream>()?;
            Ok(first.map(|span| {
                let what = match words.last().map(String::as_str) {
                    Some("macro_rules") => "a macro".to_owned(),
                    _ => format!("`{}`", words.join(" ")),
                };
                Error::new(
                    span,
                    format!("`#[requires_scope]` goes on a function, not on {what}"),
                )
            }))
        },
        item,
    )
    .ok()
    .flatten()
}

/// Splits a body's tokens into its leading inner attributes (`#![...]`) and the rest.
pub(crate) fn split_inner_attrs(body: TokenStream) -> (TokenStream, TokenStream) {
    let mut tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut i = 0;
    while let [
        TokenTree::Punct(hash),
        TokenTree::Punct(bang),
        TokenTree::Group(g),
        ..,
    ] = &tokens[i..]
    {
        if hash.as_char() == '#' && bang.as_char() == '!' && g.delimiter() == Delimiter::Bracket {
            i += 3;
        } else {
            break;
        }
    }
    let rest = tokens.split_off(i);
    (tokens.into_iter().collect(), rest.into_iter().collect())
}
