//! Reconnect delays: exponential with jitter, from a seeded generator.
//!
//! The core has no randomness source of its own (it runs the same natively
//! and in wasm, and its tests must be exact), so the host hands it a seed.
//! Jitter keeps many clients that lost one bridge from dialling it again in
//! the same millisecond.

/// The first reconnect delay, in ms; each further attempt doubles it.
pub const FIRST_DELAY_MS: f64 = 50.0;

/// SplitMix64: tiny, fast and good enough to spread delays.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The delay before attempt `attempt` (1 for the first retry), in whole
/// ms: drawn uniformly from `[d/2, d]`, where `d = min(50 · 2^(attempt−1),
/// cap)`.
pub fn delay(attempt: u32, cap_ms: f64, rng: &mut Rng) -> f64 {
    let doubled = FIRST_DELAY_MS * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    let ceiling = doubled.min(cap_ms.max(FIRST_DELAY_MS)).round();
    (ceiling * (0.5 + 0.5 * rng.unit())).round()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_within_their_jitter_bounds() {
        let mut rng = Rng::new(7);
        for round in 0..200 {
            for (attempt, ceiling) in [
                (1, 50.0),
                (2, 100.0),
                (3, 200.0),
                (4, 400.0),
                (5, 500.0),
                (40, 500.0),
            ] {
                let d = delay(attempt, 500.0, &mut rng);
                assert!(
                    d >= ceiling / 2.0 && d <= ceiling && d.fract() == 0.0,
                    "round {round} attempt {attempt}: {d}"
                );
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_delays_and_they_spread() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..100)
                .map(|_| delay(3, 2000.0, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        let spread = draw(3);
        let (lo, hi) = spread
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), &d| (lo.min(d), hi.max(d)));
        assert!(
            lo < 120.0 && hi > 180.0,
            "jitter covers the range: {lo}..{hi}"
        );
    }
}
