//! Byte search and comparison a word at a time (SWAR: SIMD within a register).
//!
//! Plain integer arithmetic, so the same code is fast natively and in wasm, and needs no
//! target feature. Names, tag values and keys are short (5–20 bytes), where one or two word
//! steps beat a byte loop; on x86-64, [`ByteSet::find`] takes 16-byte SSE2 steps first.

/// `0x0101…01`: times a byte, that byte in every lane.
const ONES: u64 = u64::from_le_bytes([1; 8]);
/// The high bit of every lane.
const HIGHS: u64 = ONES << 7;

/// The 8 bytes at `pos` as a little-endian word (first byte lowest), if the body has them.
#[inline(always)]
pub(crate) fn word(b: &[u8], pos: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(pos..pos.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// The high bit set in each lane of `w` that is zero. Lanes above the first zero lane may
/// be set falsely (borrows), so only the lowest set bit is meaningful.
#[inline(always)]
fn zero_lanes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The high bit set in each lane of `w` below `n` (at most 0x80); as for [`zero_lanes`],
/// only the lowest set bit is meaningful.
#[inline(always)]
fn lanes_below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * n as u64) & !w & HIGHS
}

/// Bytes up to this one (controls and space) are tested together, as "below `LOW + 1`".
const LOW: u8 = b' ';

/// A set of bytes that end a token: a table for single bytes, and for SWAR one test for
/// all members up to `' '` plus one per member above it.
pub(crate) struct ByteSet {
    table: [bool; 256],
    /// Whether any member is `' '` or below.
    low: bool,
    /// The members above `' '`, the first repeated to fill three (a repeat costs nothing to
    /// test twice).
    high: [u8; 3],
}

impl ByteSet {
    /// The set of `bytes`, of which at most three are above `' '`.
    pub(crate) const fn new(bytes: &[u8]) -> ByteSet {
        let mut table = [false; 256];
        let mut low = false;
        let mut high = [0u8; 3];
        let mut highs = 0;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            table[c as usize] = true;
            if c <= LOW {
                low = true;
            } else {
                assert!(highs < 3, "at most three members above ' '");
                high[highs] = c;
                highs += 1;
            }
            i += 1;
        }
        assert!(highs > 0, "at least one member above ' '");
        while highs < 3 {
            high[highs] = high[0];
            highs += 1;
        }
        ByteSet { table, low, high }
    }

    /// Whether `c` is in the set.
    #[inline(always)]
    pub(crate) fn contains(&self, c: u8) -> bool {
        self.table[c as usize]
    }

    /// Index of the first member at or after `pos`, or `b.len()`.
    #[inline(always)]
    pub(crate) fn find(&self, b: &[u8], mut pos: usize) -> usize {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        while let Some(block) = vector::Block::at(b, pos) {
            let mut hits = block.equal_to(self.high);
            if self.low {
                hits |= block.at_most(LOW);
            }
            // The low test also flags control bytes outside the set (a `\r` in a name).
            while hits != 0 {
                let at = pos + hits.trailing_zeros() as usize;
                if b.get(at).is_some_and(|&c| self.contains(c)) {
                    return at;
                }
                hits &= hits - 1;
            }
            pos += vector::WIDTH;
        }
        while let Some(w) = word(b, pos) {
            let mut hits = 0;
            if self.low {
                hits |= lanes_below(w, LOW + 1);
            }
            for &c in &self.high {
                hits |= zero_lanes(w ^ (ONES * c as u64));
            }
            if hits == 0 {
                pos += 8;
                continue;
            }
            let at = pos + (hits.trailing_zeros() / 8) as usize;
            // The low test also flags control bytes outside the set (a `\r` in a name).
            if b.get(at).is_some_and(|&c| self.contains(c)) {
                return at;
            }
            pos = at + 1;
        }
        let tail = b.get(pos..).unwrap_or_default();
        tail.iter()
            .position(|&c| self.contains(c))
            .map_or(b.len(), |i| pos + i)
    }
}

/// 16 bytes compared at once on x86-64 (SSE2 is part of it): one step covers most tags and
/// keys, where the word step takes two and tests each member separately; 5% fewer
/// instructions for the parser. Not in wasm: V8's code for the same simd128 steps ran
/// slightly more instructions than the word steps and was no faster.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod vector {
    use core::arch::x86_64::*;

    /// Bytes per step.
    pub(super) const WIDTH: usize = 16;

    /// 16 bytes of the body in one vector register.
    #[derive(Clone, Copy)]
    pub(super) struct Block(__m128i);

    impl Block {
        /// The 16 bytes at `pos`, if the body has them.
        #[inline(always)]
        pub(super) fn at(b: &[u8], pos: usize) -> Option<Block> {
            let bytes: &[u8; WIDTH] = b.get(pos..pos.checked_add(WIDTH)?)?.try_into().ok()?;
            // SAFETY: `bytes` is 16 readable bytes, and the load needs no alignment.
            Some(Block(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }))
        }

        /// Bit `i` set where byte `i` is one of `members`.
        #[inline(always)]
        pub(super) fn equal_to(self, members: [u8; 3]) -> u32 {
            // SAFETY: SSE2 is enabled (the module's cfg): the intrinsics only compute.
            unsafe {
                let [x, y, z] = members.map(|c| _mm_set1_epi8(c as i8));
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(self.0, x), _mm_cmpeq_epi8(self.0, y)),
                    _mm_cmpeq_epi8(self.0, z),
                );
                _mm_movemask_epi8(hits) as u32
            }
        }

        /// Bit `i` set where byte `i` is `limit` or below.
        #[inline(always)]
        pub(super) fn at_most(self, limit: u8) -> u32 {
            // SAFETY: SSE2 is enabled (the module's cfg): the intrinsics only compute.
            unsafe {
                // Unsigned `≤`: the smaller of the two is the byte itself.
                let limit = _mm_set1_epi8(limit as i8);
                _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(self.0, limit), self.0)) as u32
            }
        }
    }
}

/// The 16 bytes at `pos` as a little-endian integer, if the body has them.
#[inline(always)]
fn wide_word(b: &[u8], pos: usize) -> Option<u128> {
    let bytes: [u8; 16] = b.get(pos..pos.checked_add(16)?)?.try_into().ok()?;
    Some(u128::from_le_bytes(bytes))
}

/// Whether `b[x..x + len]` and `b[y..y + len]` hold the same bytes; `false` if either is
/// out of bounds. Names are short: up to 32 bytes take one or two 16-byte comparisons
/// (masked, or overlapping), when the body has 16 bytes at each place.
#[inline(always)]
fn same_bytes_at(b: &[u8], x: usize, y: usize, len: usize) -> bool {
    if (1..=32).contains(&len) {
        if let (Some(p), Some(q)) = (wide_word(b, x), wide_word(b, y)) {
            if len <= 16 {
                let mask = u128::MAX >> (128 - 8 * len);
                return (p ^ q) & mask == 0;
            }
            let (end_x, end_y) = (x + len - 16, y + len - 16);
            if let (Some(p2), Some(q2)) = (wide_word(b, end_x), wide_word(b, end_y)) {
                return p == q && p2 == q2;
            }
        }
    }
    let (Some(xs), Some(ys)) = (
        b.get(x..x.saturating_add(len)),
        b.get(y..y.saturating_add(len)),
    ) else {
        return false;
    };
    xs == ys
}

/// A text from earlier in the body, made ready to be looked for again at other places: its
/// first 16 bytes are kept as one integer with a mask, so a comparison is one load, one
/// `xor` and one `and` (and a second comparison only for the bytes past 16).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pattern {
    /// Where the text is in the body.
    offset: usize,
    /// Its length in bytes.
    len: usize,
    /// Its first 16 bytes (little-endian), zero past its end.
    head: u128,
    /// The bytes of `head` that belong to the text.
    mask: u128,
}

impl Pattern {
    /// The `len` bytes at `offset` in `b`, if they are there.
    pub(crate) fn new(b: &[u8], offset: usize, len: usize) -> Option<Pattern> {
        let text = b.get(offset..offset.checked_add(len)?)?;
        let kept = len.min(16);
        let mut head = [0u8; 16];
        head[..kept].copy_from_slice(&text[..kept]);
        let mask = match kept {
            0 => 0,
            n => u128::MAX >> (128 - 8 * n),
        };
        Some(Pattern {
            offset,
            len,
            head: u128::from_le_bytes(head),
            mask,
        })
    }

    /// The text's length in bytes.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `b[pos..]` starts with the text.
    #[inline(always)]
    pub(crate) fn is_at(&self, b: &[u8], pos: usize) -> bool {
        match wide_word(b, pos) {
            Some(w) => {
                (w ^ self.head) & self.mask == 0
                    && (self.len <= 16
                        || same_bytes_at(b, pos + 16, self.offset + 16, self.len - 16))
            }
            None => same_bytes_at(b, pos, self.offset, self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_matches_a_byte_loop_at_every_position_and_length() {
        let set = ByteSet::new(b" ,=\\\t\n");
        let text = b"abc,defghij=klmnopq rstuvwxyz\\0123456789\tABC\rDEF\x01GHIJKLMNOP\nxyz";
        for len in 0..=text.len() {
            let b = &text[..len];
            for pos in 0..=len {
                let expected = b[pos..]
                    .iter()
                    .position(|c| b" ,=\\\t\n".contains(c))
                    .map_or(len, |i| pos + i);
                assert_eq!(set.find(b, pos), expected, "len {len} pos {pos}");
            }
        }
        assert_eq!(set.find(b"abc", 7), 3);
    }

    #[test]
    fn find_sees_every_member_in_every_lane() {
        let set = ByteSet::new(b" \t\n,\\\0");
        for &member in b" \t\n,\\\0" {
            for lane in 0..16 {
                let mut b = vec![b'x'; 20];
                b[lane] = member;
                assert_eq!(set.find(&b, 0), lane);
                // Bytes one above and below a member are not members (borrow edge cases).
                b[lane] = member.wrapping_add(1);
                if !set.contains(b[lane]) {
                    assert_eq!(set.find(&b, 0), 20, "{:?} at {lane}", b[lane]);
                }
            }
        }
        // High bytes (UTF-8) never match.
        assert_eq!(set.find("ééééééééé,".as_bytes(), 0), 18);
    }

    #[test]
    fn pattern_matches_like_a_slice_comparison() {
        let b = b"usage_guest_nice=0,usage_guest_nice=1,usage_guest_nicE=2,a=1,a=2,u";
        for offset in 0..b.len() {
            for len in 0..=b.len() - offset {
                let pattern = Pattern::new(b, offset, len).unwrap();
                let text = &b[offset..offset + len];
                for pos in 0..=b.len() + 1 {
                    let expected = b.get(pos..).is_some_and(|rest| rest.starts_with(text));
                    assert_eq!(pattern.is_at(b, pos), expected, "{offset} {len} {pos}");
                }
            }
        }
        assert!(Pattern::new(b, b.len() - 1, 2).is_none());
        assert!(Pattern::new(b, usize::MAX, 2).is_none());
    }

    #[test]
    fn same_bytes_at_every_length_and_offset() {
        let b = b"usage_guest_nice=0,usage_guest_nice=1,usage_guest_nicE=2";
        for len in 0..=17 {
            assert!(same_bytes_at(b, 19, 0, len), "len {len}");
            assert_eq!(same_bytes_at(b, 38, 0, len), len < 16, "len {len}");
        }
        // Near the end of the body, where no whole word follows.
        let b = b"ab,ab";
        assert!(same_bytes_at(b, 3, 0, 2));
        assert!(!same_bytes_at(b, 3, 0, 3));
        assert!(!same_bytes_at(b, 4, 0, 2));
    }
}
