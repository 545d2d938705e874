//! Maps keyed by the numbers the client hands out itself (request,
//! transaction and session ids).
//!
//! Every command inserts and removes a request id in a map or two, and the
//! default SipHash cost more than the rest of the lookup. These keys are
//! small integers the client chose, not input anyone else controls, so a
//! multiply is hash enough (no denial-of-service exposure), and it is less
//! code in the wasm too.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` from an id of ours.
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of integer keys (folded in for tuples of them).
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_pairs_of_them_are_told_apart() {
        let mut map: IdMap<(usize, u64), u64> = IdMap::default();
        for a in 0..50usize {
            for b in 0..50u64 {
                map.insert((a, b), a as u64 * 100 + b);
            }
        }
        assert_eq!(map.len(), 2500);
        assert_eq!(map[&(7, 9)], 709);
        assert_eq!(map.remove(&(49, 49)), Some(4949));
    }
}
