//! A small, portable random number generator.
//!
//! Virtual plates must be the same bytes on every machine and every build, so
//! ligand carries its own generator rather than depending on a crate whose
//! algorithms may change between versions: SplitMix64 (Steele, Lea & Flood
//! 2014) for uniform bits, Box-Muller for normal deviates, and for Poisson
//! counts the inversion method below a mean of 30 and a normal approximation
//! with continuity correction above it.

/// A seeded generator.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    spare: Option<f64>,
}

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            spare: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform deviate in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal deviate.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let (u, v) = (self.uniform(), self.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * v;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }

    /// A Poisson count with mean `lambda`.
    pub fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda.is_nan() || lambda <= 0.0 {
            return 0.0;
        }
        if lambda < 30.0 {
            let l = (-lambda).exp();
            let (mut k, mut p) = (0.0, 1.0);
            loop {
                p *= self.uniform();
                if p <= l {
                    return k;
                }
                k += 1.0;
            }
        }
        (lambda + lambda.sqrt() * self.normal() + 0.5)
            .floor()
            .max(0.0)
    }

    /// A multiplicative log-normal factor with coefficient of variation `cv`.
    pub fn lognormal_factor(&mut self, cv: f64) -> f64 {
        let s2 = (1.0 + cv * cv).ln();
        (self.normal() * s2.sqrt() - 0.5 * s2).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_determinism() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let n = 20000;
        let xs: Vec<f64> = (0..n).map(|_| a.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05);
        let ps: Vec<f64> = (0..n).map(|_| a.poisson(4.0)).collect();
        let pm = ps.iter().sum::<f64>() / n as f64;
        assert!((pm - 4.0).abs() < 0.1);
        let big: f64 = (0..n).map(|_| a.poisson(1000.0)).sum::<f64>() / n as f64;
        assert!((big - 1000.0).abs() < 1.0);
    }
}
