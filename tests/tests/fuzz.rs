//! Property-based fuzzing of every parser that takes outside input: scope codes, endpoint
//! paths, the attribute's arguments, the applied-for list, DingTalk's answers, and the
//! compiled requirements the macro writes and the runtime reads. None
//! may panic, and what they accept must be well-formed. Each property runs
//! `DINGSCOPE_FUZZ_CASES` cases (default 2,000); RELIABILITY.md has the figures.

use std::str::FromStr;

use dingscope::catalog;
use dingscope::client::{Verdict, classify_new, classify_old, codes_in_text};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("DINGSCOPE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings near the grammar: codes, pieces of codes, and noise.
fn code_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z._, \\-0-9]{0,40}",
        "[A-Z][a-z]{1,8}(\\.[A-Za-z]{1,8}){0,5}",
        "[a-z]{1,6}(_[a-z]{0,6}){0,4}",
        any::<String>(),
        proptest::sample::select(
            catalog::SCOPES
                .iter()
                .map(|s| s.code.to_owned())
                .collect::<Vec<_>>()
        ),
    ]
}

fn grammar_holds(code: &str) -> bool {
    let dotted = {
        let parts: Vec<&str> = code.split('.').collect();
        (3..=4).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()))
    };
    let snake = {
        let parts: Vec<&str> = code.split('_').collect();
        parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
    };
    dotted || snake
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scope_grammar(code in code_like()) {
        let ok = catalog::check_grammar(&code).is_ok();
        prop_assert_eq!(ok, grammar_holds(&code), "{:?}", code);
        prop_assert_eq!(dingscope::Scope::parse(&code).is_ok(), ok);
        let _ = catalog::suggest(&code);
        let _ = catalog::index_of(&code);
    }

    #[test]
    fn endpoint_paths(path in prop_oneof![
        "(https://(api|oapi)\\.dingtalk\\.com)?(/[a-zA-Z0-9{}.]{0,12}){0,8}(\\?[a-z=&]{0,10})?",
        any::<String>(),
    ]) {
        for ep in catalog::match_path(&path) {
            prop_assert!(!ep.scopes.is_empty());
        }
    }

    #[test]
    fn attribute_arguments(parts in proptest::collection::vec(prop_oneof![
        code_like().prop_map(|c| format!("{c:?}")),
        Just("any(".to_owned()), Just("field(".to_owned()), Just(")".to_owned()),
        Just(",".to_owned()), Just("auth = delegated".to_owned()), Just("auth =".to_owned()),
        Just("endpoint_check = false".to_owned()), Just("=".to_owned()), "[a-z_]{1,10}",
        Just("42".to_owned()), Just("[".to_owned()), Just("]".to_owned()),
    ], 0..12)) {
        let text = parts.join(" ");
        // Only what lexes reaches a macro: rustc rejects the rest first.
        if let Ok(tokens) = proc_macro2::TokenStream::from_str(&text) {
            let mut errors = dingscope_syntax::errors::Errors::default();
            let args = dingscope_syntax::attr::parse(tokens, &mut errors);
            for g in &args.groups {
                prop_assert!(!g.codes.is_empty());
            }
        }
    }

    #[test]
    fn declarations_file(text in prop_oneof![
        any::<String>(),
        proptest::collection::vec(code_like(), 0..5).prop_map(|codes| format!(
            "[applied]\napplication = {codes:?}\nfield = []\n"
        )),
        "\\[applied\\]\n[a-z]{1,12} = \\[\"[a-zA-Z._]{0,20}\"\\]\n",
    ]) {
        if let Ok(applied) = dingscope_syntax::applied::parse(&text) {
            for c in applied.application.iter().chain(&applied.delegated).chain(&applied.field) {
                prop_assert!(catalog::check_grammar(c).is_ok(), "{:?} accepted", c);
            }
        }
    }

    #[test]
    fn dingtalk_answers(status in prop_oneof![Just(200u16), Just(400), Just(401), Just(403), Just(429), Just(500), Just(504), 100u16..600],
                        body in prop_oneof![
                            any::<Vec<u8>>(),
                            any::<String>().prop_map(String::into_bytes),
                            (code_like(), code_like(), "[A-Za-z]{0,12}").prop_map(|(a, b, k)| format!(
                                r#"{{"{k}":"Forbidden.AccessDenied.{a}","message":"[{b}]","AccessDeniedDetail":{{"RequiredScopes":["{a}", 3, null]}}}}"#
                            ).into_bytes()),
                            (any::<i64>(), code_like()).prop_map(|(c, m)| format!(r#"{{"errcode":{c},"errmsg":"{{requiredScopes=[{m}]}}"}}"#).into_bytes()),
                        ]) {
        for v in [classify_new(status, &body), classify_old(status, &body)] {
            if let Verdict::Denied { required, .. } = v {
                prop_assert!(required.iter().all(|c| !c.is_empty()));
            }
        }
        let _ = codes_in_text(&String::from_utf8_lossy(&body));
    }

    #[test]
    fn compiled_requirements(
        groups in proptest::collection::vec((proptest::collection::vec(code_like(), 0..4), any::<bool>()), 0..5),
        auth in 0u8..3,
        name in "[a-z_]{0,12}",
        line in any::<u32>(),
        noise in any::<Vec<u8>>(),
        flip in any::<(usize, u8)>(),
    ) {
        use dingscope::catalog::wire::{Decoded, GroupInput, Input, encode};
        let auth = [None, Some(dingscope::AuthType::Delegated), Some(dingscope::AuthType::Application)][usize::from(auth)];
        let input = Input {
            name: &name,
            file: "src/lib.rs",
            line,
            groups: groups.iter().map(|(codes, field)| GroupInput {
                codes: codes.iter().map(String::as_str).collect(),
                kind: if *field { dingscope::Kind::Field } else { dingscope::Kind::Rpc },
            }).collect(),
            auth,
        };
        let grant = dingscope::Grant::application(["qyapi_hrm_read_user", "Contact.User.Read"]);
        if let Ok(bytes) = encode(&input) {
            let spec = Decoded::parse(&bytes).unwrap();
            prop_assert_eq!((spec.name(), spec.file(), spec.line(), spec.auth()), (name.as_str(), "src/lib.rs", line, auth));
            let read: Vec<Vec<&str>> = spec.groups().map(|g| g.codes().collect()).collect();
            let written: Vec<Vec<&str>> = input.groups.iter().map(|g| g.codes.clone()).collect();
            prop_assert_eq!(read, written);
            // One byte changed anywhere: read or refused, never a panic, and the check
            // answers.
            let mut bent = bytes.clone();
            let at = flip.0 % bent.len();
            bent[at] = flip.1;
            let bent: &'static [u8] = Box::leak(bent.into_boxed_slice());
            if let Ok(s) = Decoded::parse(bent) {
                for g in s.groups() {
                    let _ = g.codes().count();
                }
            }
            let _ = grant.run(|| dingscope::__private::covered(bent));
        }
        let noise: &'static [u8] = Box::leak(noise.into_boxed_slice());
        let _ = Decoded::parse(noise);
        // The check reads the flags and the whole mask first: shorter bytes never pass.
        prop_assert!(!grant.run(|| dingscope::__private::covered(noise)) || noise.len() > 40);
    }
}

#[test]
fn fuzz_case_count_is_reported() {
    // Printed past the test harness's capture, for RELIABILITY.md.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "fuzz: 6 properties x {} cases", cases());
}
