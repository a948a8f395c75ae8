//! The annotated item, parsed only as far as needed: the body stays tokens.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Error, Signature, Token, Visibility};

pub(crate) struct Func {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub body: Option<Group>,
    pub semi: Option<Token![;]>,
}

impl Parse for Func {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let (body, semi) = if input.peek(Token![;]) {
            (None, Some(input.parse()?))
        } else {
            let g: Group = input.parse()?;
            if g.delimiter() != Delimiter::Brace {
                return Err(Error::new(g.span(), "expected a function body"));
            }
            (Some(g), None)
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function"));
        }
        Ok(Func {
            attrs,
            vis,
            sig,
            body,
            semi,
        })
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
