//! The compiled form of one function's requirement: a byte string that
//! `#[requires_scope]` writes into the function as a literal and the `dingscope` runtime
//! reads where it runs.
//!
//! A literal costs the compiler nothing to evaluate, unlike a `static` built by a `const
//! fn`, which must be checked, interpreted and validated once per function. The runtime
//! checks a grant against the first bytes directly (the common case: catalogued codes, no
//! alternatives) and parses the rest only to report a denial.
//!
//! The layout (integers little-endian):
//!
//! ```text
//! req    := flags:u8 all:u64{MASK_WORDS} name file line:u32 groups:u8 group{groups}
//! pair   := word:u8 bits:u64        one word of a bit set over SCOPES
//! name   := len:u8 utf8             the function's name, without its module
//! file   := len:u16 utf8            as `file!()` gives it
//! group  := gflags:u8 count:u8 pair{count} codes:u8 (len:u8 utf8){codes}
//! flags  := EXACT | ANY_OF | auth << 2     auth: 0 unsaid, 1 delegated, 2 application
//! gflags := EXACT | FIELD
//! ```
//!
//! `all` is the union of the single-code groups' masks, every word written so that the
//! check is a fixed number of loads; a group's own mask, read only for alternatives,
//! leaves out its zero words. The format is part
//! of [`KEY`]: a macro and a runtime that disagree on it or on the catalog fail to
//! compile instead of misreading each other.

use std::fmt;

use crate::{AuthType, Kind};

/// Every code of the requirement is catalogued, so the masks decide alone.
pub const EXACT: u8 = 1;
/// Some group has alternatives.
pub const ANY_OF: u8 = 2;
/// In a group's flags: a field code (`fieldScope`).
pub const FIELD: u8 = 2;
/// Where the auth type sits in the flags.
pub const AUTH_SHIFT: u8 = 2;
/// The auth type's values.
pub const AUTH_DELEGATED: u8 = 1;
/// See [`AUTH_DELEGATED`].
pub const AUTH_APPLICATION: u8 = 2;

/// The auth type as the flags write it: [`AUTH_DELEGATED`], [`AUTH_APPLICATION`], or 0
/// when the declaration does not say.
#[inline(always)]
pub const fn auth_bits(auth: Option<AuthType>) -> u8 {
    match auth {
        None => 0,
        Some(AuthType::Delegated) => AUTH_DELEGATED,
        Some(AuthType::Application) => AUTH_APPLICATION,
    }
}

/// The version of this layout.
pub const FORMAT: u64 = 1;

/// What the macro and the runtime must agree on: the catalog's bit indices
/// ([`FINGERPRINT`](crate::FINGERPRINT)) and this layout.
pub const KEY: u64 = crate::FINGERPRINT ^ FORMAT.rotate_right(8);

/// One group, for [`encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInput<'a> {
    /// The alternatives; one code is a plain required code.
    pub codes: Vec<&'a str>,
    /// rpc (`rpcScope`) or field (`fieldScope`) codes.
    pub kind: Kind,
}

/// A requirement, for [`encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input<'a> {
    /// The function's name, without its module.
    pub name: &'a str,
    /// Its file, as `file!()` gives it.
    pub file: &'a str,
    /// The line of its name.
    pub line: u32,
    /// Every group must be satisfied.
    pub groups: Vec<GroupInput<'a>>,
    /// The kind of grant required, if the declaration says.
    pub auth: Option<AuthType>,
}

/// Why a requirement cannot be encoded or a byte string is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(&'static str);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for WireError {}

fn push_pairs(out: &mut Vec<u8>, mask: &[u64; crate::MASK_WORDS]) {
    let words: Vec<(usize, u64)> = mask
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, w)| w != 0)
        .collect();
    out.push(words.len() as u8); // at most MASK_WORDS, far below 256
    for (i, w) in words {
        out.push(i as u8);
        out.extend_from_slice(&w.to_le_bytes());
    }
}

fn push_str8(out: &mut Vec<u8>, s: &str, what: &'static str) -> Result<(), WireError> {
    let len = u8::try_from(s.len()).map_err(|_| WireError(what))?;
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn flag(on: bool, bit: u8) -> u8 {
    if on { bit } else { 0 }
}

/// The byte string for `input`: masks and flags computed from the catalog.
pub fn encode(input: &Input<'_>) -> Result<Vec<u8>, WireError> {
    let groups = u8::try_from(input.groups.len())
        .map_err(|_| WireError("more than 255 requirement groups"))?;
    let (mut exact, mut any_of) = (true, false);
    let mut all = [0u64; crate::MASK_WORDS];
    let mut body = Vec::new();
    for g in &input.groups {
        if g.codes.is_empty() {
            return Err(WireError("a requirement group without codes"));
        }
        let indices: Vec<Option<usize>> = g.codes.iter().map(|c| crate::index_of(c)).collect();
        let group_exact = indices.iter().all(Option::is_some);
        exact &= group_exact;
        let mask = crate::mask_of(indices.iter().flatten().copied());
        if g.codes.len() == 1 {
            for (a, m) in all.iter_mut().zip(mask) {
                *a |= m;
            }
        } else {
            any_of = true;
        }
        body.push(flag(group_exact, EXACT) | flag(g.kind == Kind::Field, FIELD));
        push_pairs(&mut body, &mask);
        body.push(u8::try_from(g.codes.len()).map_err(|_| WireError("more than 255 codes"))?);
        for c in &g.codes {
            push_str8(&mut body, c, "a code longer than 255 bytes")?;
        }
    }
    let mut out =
        vec![flag(exact, EXACT) | flag(any_of, ANY_OF) | (auth_bits(input.auth) << AUTH_SHIFT)];
    for w in all {
        out.extend_from_slice(&w.to_le_bytes());
    }
    push_str8(
        &mut out,
        input.name,
        "a function name longer than 255 bytes",
    )?;
    let file = u16::try_from(input.file.len())
        .map_err(|_| WireError("a file path longer than 65535 bytes"))?;
    out.extend_from_slice(&file.to_le_bytes());
    out.extend_from_slice(input.file.as_bytes());
    out.extend_from_slice(&input.line.to_le_bytes());
    out.push(groups);
    out.extend_from_slice(&body);
    Ok(out)
}

/// A bounds-checked reader.
struct Reader<'a>(&'a [u8]);

const TRUNCATED: WireError = WireError("truncated requirement");

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.0.len() {
            return Err(TRUNCATED);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn pairs(&mut self) -> Result<Pairs<'a>, WireError> {
        let n = self.u8()? as usize;
        let bytes = self.take(n * 9)?;
        if bytes.chunks(9).any(|p| p[0] as usize >= crate::MASK_WORDS) {
            return Err(WireError("a mask word beyond the catalog"));
        }
        Ok(Pairs(bytes))
    }

    fn str(&mut self, len: usize) -> Result<&'a str, WireError> {
        std::str::from_utf8(self.take(len)?).map_err(|_| WireError("text that is not UTF-8"))
    }
}

/// A parsed requirement; borrows the byte string.
#[derive(Debug, Clone, Copy)]
pub struct Decoded<'a> {
    flags: u8,
    all: [u64; crate::MASK_WORDS],
    name: &'a str,
    file: &'a str,
    line: u32,
    groups: u8,
    body: &'a [u8],
}

impl<'a> Decoded<'a> {
    /// Parses and checks the whole byte string.
    pub fn parse(bytes: &'a [u8]) -> Result<Decoded<'a>, WireError> {
        let mut r = Reader(bytes);
        let flags = r.u8()?;
        if flags >> AUTH_SHIFT > AUTH_APPLICATION {
            return Err(WireError("unknown flags"));
        }
        let mut all = [0; crate::MASK_WORDS];
        for w in &mut all {
            *w = u64::from_le_bytes(r.take(8)?.try_into().map_err(|_| TRUNCATED)?);
        }
        let len = r.u8()? as usize;
        let name = r.str(len)?;
        let len = u16::from_le_bytes([r.u8()?, r.u8()?]) as usize;
        let file = r.str(len)?;
        let line = u32::from_le_bytes(r.take(4)?.try_into().map_err(|_| TRUNCATED)?);
        let groups = r.u8()?;
        let body = r.0;
        for g in (Groups {
            left: groups,
            r: Reader(body),
        }) {
            g?;
        }
        Ok(Decoded {
            flags,
            all,
            name,
            file,
            line,
            groups,
            body,
        })
    }

    /// Every code is catalogued.
    pub fn exact(&self) -> bool {
        self.flags & EXACT != 0
    }

    /// Some group has alternatives.
    pub fn any_of(&self) -> bool {
        self.flags & ANY_OF != 0
    }

    /// The kind of grant required, if the declaration says.
    pub fn auth(&self) -> Option<AuthType> {
        match self.flags >> AUTH_SHIFT {
            AUTH_DELEGATED => Some(AuthType::Delegated),
            AUTH_APPLICATION => Some(AuthType::Application),
            _ => None,
        }
    }

    /// The union of the single-code groups' masks.
    pub fn all(&self) -> [u64; crate::MASK_WORDS] {
        self.all
    }

    /// The function's name, without its module.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Its file, as `file!()` gives it.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// The line of its name.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The groups, in declaration order.
    pub fn groups(&self) -> impl Iterator<Item = DecodedGroup<'a>> + 'a {
        Groups {
            left: self.groups,
            r: Reader(self.body),
        }
        .map_while(Result::ok)
    }
}

/// One group of a [`Decoded`].
#[derive(Debug, Clone)]
pub struct DecodedGroup<'a> {
    flags: u8,
    mask: Pairs<'a>,
    codes: Codes<'a>,
}

impl<'a> DecodedGroup<'a> {
    /// Every code is catalogued.
    pub fn exact(&self) -> bool {
        self.flags & EXACT != 0
    }

    /// rpc (`rpcScope`) or field (`fieldScope`) codes.
    pub fn kind(&self) -> Kind {
        if self.flags & FIELD != 0 {
            Kind::Field
        } else {
            Kind::Rpc
        }
    }

    /// The catalogued codes' mask.
    pub fn mask(&self) -> Pairs<'a> {
        self.mask
    }

    /// The codes, in order of preference.
    pub fn codes(&self) -> Codes<'a> {
        self.codes.clone()
    }
}

struct Groups<'a> {
    left: u8,
    r: Reader<'a>,
}

impl<'a> Iterator for Groups<'a> {
    type Item = Result<DecodedGroup<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut group = || {
            let flags = self.r.u8()?;
            let mask = self.r.pairs()?;
            let n = self.r.u8()?;
            if n == 0 {
                return Err(WireError("a requirement group without codes"));
            }
            let start = self.r.0;
            for _ in 0..n {
                let len = self.r.u8()? as usize;
                self.r.str(len)?;
            }
            Ok(DecodedGroup {
                flags,
                mask,
                codes: Codes {
                    left: n,
                    bytes: start,
                },
            })
        };
        let g = group();
        if g.is_err() {
            self.left = 0;
        }
        Some(g)
    }
}

/// A mask as `(word index, bits)` pairs, the zero words left out.
#[derive(Debug, Clone, Copy)]
pub struct Pairs<'a>(&'a [u8]);

impl Pairs<'_> {
    /// The full bit set.
    pub fn words(self) -> [u64; crate::MASK_WORDS] {
        let mut words = [0; crate::MASK_WORDS];
        for (i, w) in self {
            words[i] = w;
        }
        words
    }
}

impl Iterator for Pairs<'_> {
    type Item = (usize, u64);

    #[inline]
    fn next(&mut self) -> Option<(usize, u64)> {
        let (pair, rest) = self.0.split_first_chunk::<9>()?;
        self.0 = rest;
        let (word, bits) = pair.split_first()?;
        Some((
            *word as usize,
            u64::from_le_bytes(*bits.first_chunk::<8>()?),
        ))
    }
}

/// The codes of a group.
#[derive(Debug, Clone)]
pub struct Codes<'a> {
    left: u8,
    bytes: &'a [u8],
}

impl<'a> Iterator for Codes<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut r = Reader(self.bytes);
        let len = r.u8().ok()? as usize;
        let code = r.str(len).ok()?;
        self.bytes = r.0;
        Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input<'static> {
        Input {
            name: "list",
            file: "src/api.rs",
            line: 42,
            groups: vec![
                GroupInput {
                    codes: vec!["qyapi_hrm_read_user"],
                    kind: Kind::Rpc,
                },
                GroupInput {
                    codes: vec!["Contact.User.Read", "Not.In.Catalog"],
                    kind: Kind::Rpc,
                },
                GroupInput {
                    codes: vec!["Contact.User.mobile"],
                    kind: Kind::Field,
                },
            ],
            auth: Some(AuthType::Application),
        }
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&input()).unwrap();
        let s = Decoded::parse(&bytes).unwrap();
        assert_eq!((s.name(), s.file(), s.line()), ("list", "src/api.rs", 42));
        assert_eq!(s.auth(), Some(AuthType::Application));
        assert!(!s.exact(), "one code is not catalogued");
        assert!(s.any_of());
        let groups: Vec<_> = s.groups().collect();
        assert_eq!(groups.len(), 3);
        let codes: Vec<Vec<&str>> = groups.iter().map(|g| g.codes().collect()).collect();
        assert_eq!(
            codes,
            [
                vec!["qyapi_hrm_read_user"],
                vec!["Contact.User.Read", "Not.In.Catalog"],
                vec!["Contact.User.mobile"]
            ]
        );
        assert_eq!(
            groups.iter().map(|g| g.kind()).collect::<Vec<_>>(),
            [Kind::Rpc, Kind::Rpc, Kind::Field]
        );
        assert_eq!(
            groups.iter().map(|g| g.exact()).collect::<Vec<_>>(),
            [true, false, true]
        );
        let hrm = crate::index_of("qyapi_hrm_read_user").unwrap();
        let mobile = crate::index_of("Contact.User.mobile").unwrap();
        assert_eq!(s.all(), crate::mask_of([hrm, mobile]));
        assert_eq!(
            groups[1].mask().words(),
            crate::mask_of([crate::index_of("Contact.User.Read").unwrap()])
        );
    }

    #[test]
    fn the_leading_words_are_the_single_code_groups() {
        let bytes = encode(&Input {
            groups: vec![GroupInput {
                codes: vec!["qyapi_hrm_read_user"],
                kind: Kind::Rpc,
            }],
            auth: None,
            ..input()
        })
        .unwrap();
        let hrm = crate::index_of("qyapi_hrm_read_user").unwrap();
        assert_eq!(bytes[0], EXACT);
        let word = |w: usize| u64::from_le_bytes(bytes[1 + 8 * w..9 + 8 * w].try_into().unwrap());
        assert_eq!(word(hrm / 64), 1 << (hrm % 64));
        for w in (0..crate::MASK_WORDS).filter(|&w| w != hrm / 64) {
            assert_eq!(word(w), 0);
        }
    }

    #[test]
    fn what_cannot_be_encoded_is_an_error() {
        let long = "x".repeat(300);
        let mut bad = input();
        bad.groups[0].codes = vec![&long];
        assert!(encode(&bad).is_err());
        let mut bad = input();
        bad.groups[0].codes.clear();
        assert!(encode(&bad).is_err());
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_not_a_panic() {
        let bytes = encode(&input()).unwrap();
        for n in 0..bytes.len() {
            assert!(Decoded::parse(&bytes[..n]).is_err(), "{n} bytes parsed");
        }
        for i in 0..bytes.len() {
            for v in [0u8, 1, 9, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok(s) = Decoded::parse(&b) {
                    // Whatever parses is readable to the end.
                    for g in s.groups() {
                        assert!(g.codes().count() > 0);
                        let _ = g.mask().words();
                    }
                }
            }
        }
    }
}
