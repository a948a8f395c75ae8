//! The grammar of a DingTalk permission code.
//!
//! Two forms, never mixed: dotted `Resource.Operation[.Constraint]` of 3 or 4
//! letter-only segments (`Contact.User.Read`), and lower snake case of at least two
//! words (`qyapi_get_member`). This accepts every catalogued code and is the same as
//! `^(?:[A-Za-z]+(?:\.[A-Za-z]+){2,3}|[a-z]+(?:_[a-z]+)+)$`.

use core::fmt;

/// Which of the two grammars a code follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeForm {
    /// `Contact.User.Read`.
    Dotted,
    /// `qyapi_get_member`.
    Snake,
}

/// Why a string is not a permission code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrammarError {
    /// The string is empty.
    Empty,
    /// `.default` names every applied-for code in openAuth; it is not a code.
    Default,
    /// The string holds white space.
    Whitespace,
    /// The string holds a comma: one code per string.
    Comma,
    /// A character that no code has (digits, hyphens, ...); carries the character.
    BadChar(char),
    /// A dotted code with fewer than 3 or more than 4 segments; carries the count.
    SegmentCount(usize),
    /// A dotted code with an empty segment (`A..B`, a leading or trailing dot).
    EmptySegment,
    /// A snake-case code with an upper-case letter.
    UpperInSnake,
    /// A snake-case code with an empty word (`a__b`, a leading or trailing `_`).
    EmptyWord,
    /// A single word: neither dotted nor snake case.
    SingleWord,
    /// Dots and underscores together.
    Mixed,
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrammarError::Empty => f.write_str("empty permission code"),
            GrammarError::Default => f.write_str(
                "`.default` is not a permission code; name the codes this function needs",
            ),
            GrammarError::Whitespace => f.write_str("permission code contains white space"),
            GrammarError::Comma => {
                f.write_str("permission code contains a comma; write one code per string")
            }
            GrammarError::BadChar(c) => write!(
                f,
                "permission code contains {c:?}; codes have only letters, dots and underscores"
            ),
            GrammarError::SegmentCount(n) => write!(
                f,
                "dotted permission code has {n} segment{}; expected 3 or 4, as in `Contact.User.Read`",
                if *n == 1 { "" } else { "s" }
            ),
            GrammarError::EmptySegment => f.write_str("dotted permission code has an empty segment"),
            GrammarError::UpperInSnake => f.write_str(
                "snake-case permission code has an upper-case letter; expected lower case, as in `qyapi_get_member`",
            ),
            GrammarError::EmptyWord => f.write_str("snake-case permission code has an empty word"),
            GrammarError::SingleWord => f.write_str(
                "not a permission code; expected `Resource.Operation` form (`Contact.User.Read`) or snake case (`qyapi_get_member`)",
            ),
            GrammarError::Mixed => {
                f.write_str("permission code mixes dots and underscores; DingTalk codes use one or the other")
            }
        }
    }
}

/// Checks `code` against DingTalk's grammar for permission codes.
pub fn check_grammar(code: &str) -> Result<CodeForm, GrammarError> {
    if code.is_empty() {
        return Err(GrammarError::Empty);
    }
    if code == ".default" {
        return Err(GrammarError::Default);
    }
    if code.chars().any(char::is_whitespace) {
        return Err(GrammarError::Whitespace);
    }
    if code.contains(',') {
        return Err(GrammarError::Comma);
    }
    if let Some(c) = code
        .chars()
        .find(|c| !(c.is_ascii_alphabetic() || *c == '.' || *c == '_'))
    {
        return Err(GrammarError::BadChar(c));
    }
    let dots = code.contains('.');
    let unders = code.contains('_');
    match (dots, unders) {
        (true, true) => Err(GrammarError::Mixed),
        (true, false) => {
            if code.split('.').any(str::is_empty) {
                return Err(GrammarError::EmptySegment);
            }
            let n = code.split('.').count();
            if (3..=4).contains(&n) {
                Ok(CodeForm::Dotted)
            } else {
                Err(GrammarError::SegmentCount(n))
            }
        }
        (false, true) => {
            if code.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(GrammarError::UpperInSnake);
            }
            if code.split('_').any(str::is_empty) {
                return Err(GrammarError::EmptyWord);
            }
            Ok(CodeForm::Snake)
        }
        (false, false) => Err(GrammarError::SingleWord),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_forms() {
        assert_eq!(check_grammar("Contact.User.Read"), Ok(CodeForm::Dotted));
        assert_eq!(
            check_grammar("Card.Template.ReadWrite.All"),
            Ok(CodeForm::Dotted)
        );
        assert_eq!(
            check_grammar("DataCenter.DataMarket.READ"),
            Ok(CodeForm::Dotted)
        );
        assert_eq!(check_grammar("qyapi_get_member"), Ok(CodeForm::Snake));
    }

    #[test]
    fn rejects_each_mistake() {
        use GrammarError::*;
        let cases = [
            ("", Empty),
            (".default", Default),
            ("Contact.User .Read", Whitespace),
            ("a_b,c_d", Comma),
            ("Contact.User.Read2", BadChar('2')),
            ("Contact-User.Read.X", BadChar('-')),
            ("Contact.User", SegmentCount(2)),
            ("A.B.C.D.E", SegmentCount(5)),
            ("Contact..Read", EmptySegment),
            (".Contact.User.Read", EmptySegment),
            ("qyapi_Get", UpperInSnake),
            ("qyapi__get", EmptyWord),
            ("_qyapi", EmptyWord),
            ("qyapi", SingleWord),
            ("Contact.user_read.X", Mixed),
        ];
        for (input, want) in cases {
            assert_eq!(check_grammar(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn errors_read_as_sentences() {
        let msg = GrammarError::SegmentCount(2).to_string();
        assert!(msg.contains("2 segments"), "{msg}");
    }
}
