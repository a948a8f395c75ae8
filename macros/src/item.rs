//! The annotated item, parsed only as far as needed: the signature; the body stays tokens.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, GenericArgument, PathArguments, ReturnType, Signature, Token, Type,
    TypeParamBound, Visibility,
};

/// What the expansion needs of the function.
pub(crate) struct Func {
    /// How many outer attributes (`#` and `[...]`, two tokens each) it starts with.
    pub attrs: usize,
    /// The `const` keyword, if any: an error.
    pub constness: Option<Span>,
    pub ident: Ident,
    /// Where a return type that cannot carry the denial is reported: the return type, or
    /// the parameters' closing parenthesis.
    pub ret_span: Span,
    /// For `#[async_trait]`: the `T` of a `Pin<Box<dyn Future<Output = T> + ...>>` return
    /// type, if the function is not `async`.
    pub future_output: Option<Span>,
    pub body: Option<Group>,
    /// The `;` of a method without a body: an error.
    pub semi: Option<Span>,
}

impl Func {
    /// Splits `item` at its body (the trailing brace group) and parses the rest: the
    /// header's top-level tokens come back too, to be emitted as written.
    ///
    /// A header written out plainly is read by [`scan`], in one pass over its tokens;
    /// anything else (no body, tokens from a `macro_rules!` fragment, a return type that
    /// may be a boxed future) goes through syn.
    pub(crate) fn parse(item: TokenStream) -> syn::Result<(Func, Vec<TokenTree>)> {
        let mut tokens: Vec<TokenTree> = item.into_iter().collect();
        let scanned = match tokens.split_last() {
            Some((TokenTree::Group(body), header)) if body.delimiter() == Delimiter::Brace => {
                scan(header, body)
            }
            _ => None,
        };
        let func = match scanned {
            Some(func) => func,
            None => Func::parse_with_syn(&tokens)?,
        };
        if func.body.is_some() {
            tokens.pop();
        }
        Ok((func, tokens))
    }

    fn parse_with_syn(tokens: &[TokenTree]) -> syn::Result<Func> {
        let parse = |input: ParseStream<'_>| {
            let attrs = input.call(Attribute::parse_outer)?;
            input.parse::<Visibility>()?;
            let sig: Signature = input.parse()?;
            let (body, semi) = if input.peek(Token![;]) {
                (None, Some(input.parse::<Token![;]>()?.span))
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
            let (ret_span, future_output) = match &sig.output {
                ReturnType::Type(_, ty) => (
                    ty.span(),
                    sig.asyncness
                        .is_none()
                        .then(|| future_output(ty).map(|t| t.span()))
                        .flatten(),
                ),
                ReturnType::Default => (sig.paren_token.span.close(), None),
            };
            Ok(Func {
                attrs: attrs.len(),
                constness: sig.constness.map(|c| c.span),
                ident: sig.ident,
                ret_span,
                future_output,
                body,
                semi,
            })
        };
        syn::parse::Parser::parse2(parse, tokens.iter().cloned().collect())
    }
}

/// Reads a plainly written header: attributes, visibility, qualifiers, `fn`, the name,
/// generics, parameters, return type and `where` clause, in one pass. `None` for anything
/// it does not know, for syn to read.
fn scan(header: &[TokenTree], body: &Group) -> Option<Func> {
    let is_punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    let mut i = 0;
    let mut attrs = 0;
    while is_punct(header.get(i), '#')
        && matches!(header.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket)
    {
        attrs += 1;
        i += 2;
    }
    let (mut constness, mut asyncness) = (None, false);
    loop {
        let TokenTree::Ident(word) = header.get(i)? else {
            return None;
        };
        i += 1;
        match word.to_string().as_str() {
            "fn" => break,
            "pub" => {
                if matches!(header.get(i), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                {
                    i += 1;
                }
            }
            "const" => constness = Some(word.span()),
            "async" => asyncness = true,
            "unsafe" => {}
            "extern" => {
                if matches!(header.get(i), Some(TokenTree::Literal(_))) {
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    let TokenTree::Ident(ident) = header.get(i)? else {
        return None;
    };
    i += 1;
    // Generics: `<` to the matching `>`, where `->` (in `Fn() -> T` bounds) is not one.
    let mut depth = 0usize;
    let params = loop {
        match header.get(i)? {
            TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
            TokenTree::Punct(p) if p.as_char() == '-' && is_punct(header.get(i + 1), '>') => i += 1,
            TokenTree::Punct(p) if p.as_char() == '>' => depth = depth.checked_sub(1)?,
            TokenTree::Group(g) if depth == 0 && g.delimiter() == Delimiter::Parenthesis => {
                break g;
            }
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => return None,
            _ => {}
        }
        i += 1;
    };
    i += 1;
    let ret_span = if is_punct(header.get(i), '-') && is_punct(header.get(i + 1), '>') {
        let rest = &header[i + 2..];
        let first = rest.first()?;
        for t in rest {
            match t {
                // Possibly a boxed future (`#[async_trait]`), or a type from a macro
                // fragment: syn reads those.
                TokenTree::Ident(w) if !asyncness && (w == "Future" || w == "Pin") => return None,
                TokenTree::Group(g) if g.delimiter() == Delimiter::None => return None,
                _ => {}
            }
        }
        first.span()
    } else {
        match header.get(i) {
            None => {}
            Some(TokenTree::Ident(w)) if w == "where" => {}
            Some(_) => return None,
        }
        params.span_close()
    };
    Some(Func {
        attrs,
        constness,
        ident: ident.clone(),
        ret_span,
        future_output: None,
        body: Some(body.clone()),
        semi: None,
    })
}

/// Finds `T` in `Pin<Box<dyn Future<Output = T> + ...>>`.
fn future_output(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => future_output(t),
                GenericArgument::AssocType(a) if a.ident == "Output" => Some(&a.ty),
                _ => None,
            })
        }
        Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            TypeParamBound::Trait(t) => {
                let last = t.path.segments.last()?;
                let PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                args.args.iter().find_map(|a| match a {
                    GenericArgument::AssocType(a) if a.ident == "Output" => Some(&a.ty),
                    _ => None,
                })
            }
            _ => None,
        }),
        Type::Paren(p) => future_output(&p.elem),
        _ => None,
    }
}

/// For an item that is not a function: an error at its keyword, or `None` if the item
/// does not parse at all (rustc will report that itself).
pub(crate) fn not_a_function(item: TokenStream) -> Option<Error> {
    syn::parse::Parser::parse2(
        |input: ParseStream<'_>| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn both(src: &str) -> (Option<Func>, Func) {
        let tokens: Vec<TokenTree> = src.parse::<TokenStream>().unwrap().into_iter().collect();
        let Some((TokenTree::Group(body), header)) = tokens.split_last() else {
            panic!("{src}: no body");
        };
        (scan(header, body), Func::parse_with_syn(&tokens).unwrap())
    }

    fn at(span: Span) -> (usize, usize) {
        (span.start().line, span.start().column)
    }

    /// The one-pass reading agrees with syn's on every header it accepts, and accepts the
    /// plain ones.
    #[test]
    fn the_scan_agrees_with_syn() {
        for src in [
            "fn f() {}",
            "pub fn f(x: u32) -> Result<u32, E> { Ok(x) }",
            "#[inline] /// docs\n pub(crate) async unsafe fn f<'a, T: Fn() -> u8, const N: usize>(x: &'a [T; N]) -> Result<Vec<u8>, E> where T: Clone { Ok(x.to_vec()) }",
            "const fn f() -> Result<(), E> { Ok(()) }",
            "pub(in crate::a) extern \"C\" fn f() where u8: Copy {}",
            "async fn f(self: Pin<&mut Self>) -> Result<(), E> { Ok(()) }",
            "fn r#type<F>(f: F) -> Result<(), E> where F: FnOnce(u8) -> Result<(), E> { f(1) }",
            "unsafe fn f(x: Vec<Vec<u8>>) -> Result<Option<Box<dyn Fn(u8) -> u8>>, E> { Ok(None) }",
        ] {
            let (scanned, syn) = both(src);
            let scanned = scanned.unwrap_or_else(|| panic!("{src}: not scanned"));
            assert_eq!(scanned.attrs, syn.attrs, "{src}");
            assert_eq!(scanned.constness.map(at), syn.constness.map(at), "{src}");
            assert_eq!(scanned.ident, syn.ident, "{src}");
            assert_eq!(at(scanned.ret_span), at(syn.ret_span), "{src}");
            assert!(scanned.future_output.is_none() && syn.future_output.is_none());
        }
    }

    /// What the scan does not read is left to syn: a possibly boxed future, unknown words.
    #[test]
    fn the_rest_goes_to_syn() {
        for src in [
            "fn f() -> Pin<Box<dyn Future<Output = Result<(), E>> + Send>> { Box::pin(async move { Ok(()) }) }",
            "fn f() -> impl Future<Output = u8> { async { 1 } }",
            "struct S {}",
            "impl S {}",
            "fn f() -> {}",
            "fn f<T>> () {}",
            "default fn f() {}",
        ] {
            let tokens: Vec<TokenTree> = src.parse::<TokenStream>().unwrap().into_iter().collect();
            let Some((TokenTree::Group(body), header)) = tokens.split_last() else {
                panic!("{src}: no body");
            };
            assert!(scan(header, body).is_none(), "{src}");
        }
        let (_, syn) = both(
            "fn f() -> Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'async_trait>> { Box::pin(async move { Ok(()) }) }",
        );
        assert!(syn.future_output.is_some());
    }
}
