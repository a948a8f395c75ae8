//! Code generation: one statement block at the top of the body, docs on the function.

use std::sync::atomic::{AtomicBool, Ordering};

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::{Block, Error, Expr, Stmt};

use crate::endpoints;
use crate::item::{Func, not_a_function, split_inner_attrs};
use crate::validate;
use dingscope_catalog::{AuthType, Kind, wire};
use dingscope_syntax::applied::{self, AppliedFile};
use dingscope_syntax::attr::{self as args, Args};
use dingscope_syntax::errors::Errors;

/// The whole expansion; on any error, the errors plus the item as written.
pub(crate) fn requires_scope(attr: TokenStream, item: TokenStream) -> TokenStream {
    let (func, header) = match Func::parse(item.clone()) {
        Ok(f) => f,
        Err(parse_error) => {
            return match not_a_function(item.clone()) {
                Some(e) => with_item(e, item),
                // A syntax error inside the item: rustc reports it from the item alone.
                None if item.is_empty() => parse_error.to_compile_error(),
                None => item,
            };
        }
    };
    match expand(attr, &func, header) {
        Ok(tokens) => tokens,
        Err(e) => with_item(e, item),
    }
}

fn with_item(e: Error, item: TokenStream) -> TokenStream {
    let mut out = e.to_compile_error();
    out.extend(item);
    out
}

/// The item as written, with the docs after its attributes and the prelude in its body.
fn expand(attr: TokenStream, func: &Func, header: Vec<TokenTree>) -> Result<TokenStream, Error> {
    let mut errors = Errors::default();
    let empty = attr.is_empty();
    let args = args::parse(attr, &mut errors);
    if args.groups.is_empty() && (empty || errors.is_empty()) {
        errors.push(Error::new(
            Span::call_site(),
            format!(
                "`#[requires_scope]` needs at least one permission code, as in `{}`",
                args::EXAMPLE
            ),
        ));
    }
    if let Some(c) = func.constness {
        errors.push(Error::new(
            c,
            "`#[requires_scope]` cannot go on a `const fn`: its check runs when the function is called",
        ));
    }
    if let Some(semi) = func.semi {
        errors.push(Error::new(
            semi,
            "`#[requires_scope]` needs a function body; put it on the implementations of this method",
        ));
    }
    let applied = applied::load();
    validate::codes(&args, applied.as_deref(), &mut errors);
    if args.endpoint_check
        && let Some(body) = &func.body
    {
        endpoints::check(&args, &body.stream(), &mut errors);
    }
    errors.into_result()?;
    let body = func.body.as_ref().expect("checked above");

    let (inner_attrs, stmts) = split_inner_attrs(body.stream());
    let new_body = match func
        .future_output
        .and_then(|out| async_trait_block(&stmts, out))
    {
        Some((mut block, ret_span)) => {
            let prelude = prelude(&args, &func.ident, applied.as_deref(), ret_span)?;
            inject(&mut block, prelude)?;
            let stmts = &block.stmts;
            quote!(#(#stmts)*)
        }
        None => {
            let mut prelude = prelude(&args, &func.ident, applied.as_deref(), func.ret_span)?;
            prelude.extend(stmts);
            prelude
        }
    };
    let mut inner = inner_attrs;
    inner.extend(new_body);
    let mut braced = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, inner);
    braced.set_span(body.span());
    // Each outer attribute is two tokens, `#` and `[...]`.
    let (attrs, rest) = header.split_at(2 * func.attrs);
    let mut out: TokenStream = attrs.iter().cloned().collect();
    out.extend(docs(&args));
    out.extend(rest.iter().cloned());
    out.extend([TokenTree::Group(braced)]);
    Ok(out)
}

/// Whether this compiler process has emitted the tracking items yet.
static TRACKED: AtomicBool = AtomicBool::new(false);

/// Items that make rustc record what the expansion read: the applied-for list (through
/// `include_bytes!`) and the variables that can point elsewhere (through `option_env!`),
/// so that editing either rebuilds the crate. rustc compiles one crate per process and
/// records a dependency for the whole crate, so the first expansion emits them and the
/// others do not: a thousand functions pay for two constants, not two thousand.
fn tracking(applied: Option<&AppliedFile>) -> TokenStream {
    if TRACKED.swap(true, Ordering::Relaxed) {
        return TokenStream::new();
    }
    let file = applied.filter(|d| d.trackable).map(|d| {
        let path = d.path.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    let (env, old_env) = (applied::ENV, applied::OLD_ENV);
    quote! {
        #file
        const _: ::core::option::Option<&str> = ::core::option_env!(#env);
        const _: ::core::option::Option<&str> = ::core::option_env!(#old_env);
    }
}

/// The statements inserted at the top of the body: the check of the function's
/// requirement with the early return of a denial, then the mark that the function is
/// running. Checking first means the denial's path has no guard to drop.
///
/// The requirement is a byte-string literal (`dingscope_catalog::wire`), masks computed
/// here: a literal costs the compiler nothing to evaluate, where a `static` built by a
/// `const fn` is type-checked, interpreted and validated once per function.
fn prelude(
    args: &Args,
    ident: &syn::Ident,
    applied: Option<&AppliedFile>,
    ret_span: Span,
) -> Result<TokenStream, Error> {
    let name_span = ident.span();
    let name = ident.to_string();
    let file = name_span.file();
    let input = wire::Input {
        name: name.strip_prefix("r#").unwrap_or(&name),
        file: &file,
        line: u32::try_from(name_span.start().line).unwrap_or(u32::MAX),
        groups: args
            .groups
            .iter()
            .map(|g| wire::GroupInput {
                codes: g.codes.iter().map(|c| c.value.as_str()).collect(),
                kind: g.kind,
            })
            .collect(),
        auth: args.auth,
    };
    let bytes = wire::encode(&input).map_err(|e| Error::new(Span::call_site(), e))?;
    let spec = proc_macro2::Literal::byte_string(&bytes);
    let tracking = tracking(applied);
    let key = proc_macro2::Literal::u64_suffixed(wire::KEY);
    let guard = syn::Ident::new("__dingscope_in_requirement", Span::mixed_site());
    let deny =
        quote_spanned!(ret_span=> ::dingscope::__private::deny(#spec, ::core::module_path!()));
    Ok(quote! {
        #tracking
        if !::dingscope::__private::covered(#spec) {
            #[allow(unreachable_code)]
            return #deny;
        }
        // Held for the whole body (across awaits in an `async fn`): the client compares
        // DingTalk's denials with the running function's requirement.
        let #guard = ::dingscope::__private::entry!(#key, #spec);
    })
}

/// `#[async_trait]` turns `async fn` into a plain `fn` whose body ends in
/// `Box::pin(async move { ... })`: the check belongs inside that block, so that it runs
/// when the future is first polled. Returns the parsed body and the span of the
/// future's `Output` type, `output`.
fn async_trait_block(stmts: &TokenStream, output: Span) -> Option<(Block, Span)> {
    let block: Block = syn::parse2(quote!({ #stmts })).ok()?;
    let is_box_pin_async = matches!(block.stmts.last(), Some(Stmt::Expr(Expr::Call(call), None))
        if call.args.len() == 1
            && matches!(call.args.first(), Some(Expr::Async(_)))
            && matches!(&*call.func, Expr::Path(p)
                if p.path.segments.len() >= 2
                && p.path.segments.iter().next_back().is_some_and(|s| s.ident == "pin")
                && p.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "Box")));
    is_box_pin_async.then_some((block, output))
}

fn inject(block: &mut Block, prelude: TokenStream) -> Result<(), Error> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
        return Ok(());
    };
    let Some(Expr::Async(async_block)) = call.args.first_mut() else {
        return Ok(());
    };
    let rest = std::mem::take(&mut async_block.block.stmts);
    let inserted: Block = syn::parse2(quote!({ #prelude #(#rest)* }))?;
    async_block.block.stmts = inserted.stmts;
    Ok(())
}

/// The "Required DingTalk permissions" section of the function's documentation.
fn docs(args: &Args) -> TokenStream {
    let describe = |code: &str| match dingscope_catalog::lookup(code) {
        Some(info) => format!("`{code}` ({})", info.name),
        None => format!("`{code}`"),
    };
    let mut lines = vec![
        String::new(),
        "# Required DingTalk permissions".to_owned(),
        String::new(),
    ];
    for g in &args.groups {
        let prefix = match g.kind {
            Kind::Rpc => "",
            Kind::Field => "field ",
        };
        let codes: Vec<String> = g.codes.iter().map(|c| describe(&c.value)).collect();
        if codes.len() == 1 {
            lines.push(format!("- {prefix}{}", codes[0]));
        } else {
            lines.push(format!("- {prefix}any of: {}", codes.join(", ")));
        }
    }
    lines.push(String::new());
    lines.push(match args.auth {
        Some(AuthType::Delegated) => {
            "Granted by the user: delegated authorization (openAuth `type: 0`).".to_owned()
        }
        Some(AuthType::Application) => {
            "Granted by an admin: application authorization (openAuth `type: 1`).".to_owned()
        }
        None => "Checked against the grant entered when the function is called \
                 ([`dingscope::Grant::run`], [`dingscope::WithGrantExt`])."
            .to_owned(),
    });
    // One attribute of several lines: rustdoc reads it as those lines.
    let text = lines.join("\n");
    quote!(#[doc = #text])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(attr: &str, item: &str) -> String {
        requires_scope(attr.parse().unwrap(), item.parse().unwrap()).to_string()
    }

    #[test]
    fn docs_name_each_code_with_its_official_name() {
        let out = expand_str(
            r#"any("qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite"), field("Contact.User.mobile"), auth = delegated"#,
            "/// Lists them.\nasync fn f() -> Result<(), dingscope::Error> { Ok(()) }",
        );
        assert!(out.contains(r#"# [doc = " Lists them."]"#), "{out}");
        assert!(out.contains("# Required DingTalk permissions"), "{out}");
        assert!(out.contains("any of: `qyapi_hrm_read_user` (智能人事个人信息读权限), `Pro.HrmDismission.ReadWrite`"), "{out}");
        assert!(
            out.contains("field `Contact.User.mobile` (个人手机号信息"),
            "{out}"
        );
        assert!(out.contains("openAuth `type: 0`"), "{out}");
        // The user's docs come first, ours after.
        assert!(out.find("Lists them").unwrap() < out.find("Required DingTalk").unwrap());
    }

    /// The macro finds an endpoint by the same lookup as the runtime, extra endpoints
    /// included: the old API's dismission list needs `qyapi_hrm_read_user`.
    #[test]
    fn the_endpoint_check_knows_the_extra_endpoints() {
        let item = r#"async fn old(c: &C) -> Result<(), dingscope::Error> { c.post("/topapi/smartwork/hrm/employee/querydimission").await }"#;
        let out = expand_str(r#""Contact.User.Read""#, item);
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("qyapi_hrm_read_user"), "{out}");
        let out = expand_str(r#""qyapi_hrm_read_user""#, item);
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn errors_keep_the_item() {
        let out = expand_str(
            r#""Contact.User""#,
            "fn keep_me() -> Result<(), E> { Ok(()) }",
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("fn keep_me"), "{out}");
        assert!(!out.contains("__dingscope_in_requirement"), "{out}");
    }

    /// A corpus of malformed attribute arguments through the expansion itself (not only
    /// trybuild): every one yields a compile error, none panics, and the item is kept.
    #[test]
    fn every_malformed_attribute_is_an_error() {
        let corpus = include_str!("../tests/corpus/malformed.txt");
        let item = "fn keep_me() -> Result<(), dingscope::Error> { Ok(()) }";
        let mut n = 0;
        for line in corpus
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let text = if line == "<empty>" { "" } else { line };
            n += 1;
            let out = std::panic::catch_unwind(|| expand_str(text, item))
                .unwrap_or_else(|_| panic!("{text:?} panicked"));
            assert!(
                out.contains("compile_error"),
                "{text:?} was accepted:\n{out}"
            );
            assert!(out.contains("fn keep_me"), "{text:?} lost the item:\n{out}");
        }
        assert!(n >= 60, "only {n} inputs in the corpus");
    }

    #[test]
    fn items_that_are_not_functions_never_panic() {
        for item in [
            "struct S;",
            "",
            "trait T { fn m(&self); }",
            "fn f() {} fn g() {}",
            "impl X {}",
            "const C: u8 = 1;",
        ] {
            let out = std::panic::catch_unwind(|| expand_str(r#""snsapi_base""#, item))
                .unwrap_or_else(|_| panic!("{item:?} panicked"));
            assert!(out.contains("compile_error"), "{item:?}: {out}");
        }
    }
}
