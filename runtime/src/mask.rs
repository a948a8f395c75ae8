//! Fixed-size bit sets over the catalog: one bit a catalogued code.

use dingscope_catalog::SCOPES;

pub(crate) const WORDS: usize = dingscope_catalog::MASK_WORDS;

/// A set of catalogued codes, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Mask(pub(crate) [u64; WORDS]);

impl Mask {
    pub(crate) const EMPTY: Mask = Mask([0; WORDS]);

    pub(crate) const fn with(mut self, index: usize) -> Mask {
        self.0[index / 64] |= 1 << (index % 64);
        self
    }

    pub(crate) const fn union(mut self, other: &Mask) -> Mask {
        let mut i = 0;
        while i < WORDS {
            self.0[i] |= other.0[i];
            i += 1;
        }
        self
    }

    pub(crate) const fn contains(&self, index: usize) -> bool {
        self.0[index / 64] & (1 << (index % 64)) != 0
    }

    /// Every bit of `required` is in `self`.
    #[inline(always)]
    pub(crate) fn covers(&self, required: &Mask) -> bool {
        let mut missing = 0;
        for i in 0..WORDS {
            missing |= required.0[i] & !self.0[i];
        }
        missing == 0
    }

    /// `self` and `other` share a bit.
    #[inline(always)]
    pub(crate) fn intersects(&self, other: &Mask) -> bool {
        let mut common = 0;
        for i in 0..WORDS {
            common |= other.0[i] & self.0[i];
        }
        common != 0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..WORDS * 64).filter(|&i| i < SCOPES.len() && self.contains(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a = Mask::EMPTY.with(1).with(70).with(200);
        let b = Mask::EMPTY.with(70);
        assert!(a.covers(&b));
        assert!(!b.covers(&a));
        assert!(a.intersects(&b));
        assert!(!Mask::EMPTY.with(2).intersects(&b));
        assert!(a.covers(&Mask::EMPTY));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![1, 70, 200]);
        assert_eq!(b.union(&Mask::EMPTY.with(3)), Mask::EMPTY.with(3).with(70));
    }
}
