//! The random numbers behind seeded weights: one SplitMix64 stream per tensor, the same bits on
//! every platform (normal samples through `libm`'s portable `log`, `cos` and `sin`).

/// SplitMix64: tiny, fast, and identical everywhere.
pub(super) struct SplitMix64(u64);

impl SplitMix64 {
    pub(super) fn for_tensor(seed: u64, name: &str) -> Self {
        // FNV-1a of the name, mixed with the seed.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ hash)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1], never 0 (safe for `log`).
    pub(super) fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn normals(&mut self, n: usize, std: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let r = libm::sqrt(-2.0 * libm::log(self.unit()));
            let theta = 2.0 * std::f64::consts::PI * self.unit();
            out.push((std * r * libm::cos(theta)) as f32);
            out.push((std * r * libm::sin(theta)) as f32);
        }
        out.truncate(n);
        out
    }

    pub(super) fn uniforms(&mut self, n: usize, bound: f64) -> Vec<f32> {
        (0..n)
            .map(|_| (bound * (2.0 * self.unit() - 1.0)) as f32)
            .collect()
    }
}
