//! Models with closed-form solutions.

use crate::assert_close;
use crate::common::*;
use ligand_sim::{Method, Settings};

const DECAY: &str = "
model decay
  compartment c = 2;
  species A in c;
  J1: A -> ; c*k*A
  A = 10; k = 0.3
end";

#[test]
fn decay_matches_exp_with_every_method() {
    for m in METHODS {
        let times = Settings::grid(0.0, 10.0, 50);
        let t = simulate(DECAY, times.clone(), m, 1e-8, 1e-12);
        assert_eq!(t.times.len(), 51);
        for (i, &tt) in times.iter().enumerate() {
            let a = t.row(i)[0];
            // TR-BDF2 is of order 2: its global error grows faster.
            let rtol = if m == Method::Sdirk { 2e-5 } else { 2e-6 };
            assert_close!(a, 10.0 * (-0.3 * tt).exp(), rtol, 1e-10, "{m:?} at t={tt}");
        }
    }
}

const CHAIN: &str = "
model chain
  species A, B, C;
  J1: A -> B; k1*A
  J2: B -> C; k2*B
  A = 1; B = 0; C = 0; k1 = 1; k2 = 0.5
end";

#[test]
fn a_to_b_to_c() {
    let (k1, k2) = (1.0f64, 0.5f64);
    for m in METHODS {
        let times = Settings::grid(0.0, 20.0, 40);
        let t = simulate(CHAIN, times.clone(), m, 1e-8, 1e-12);
        for (i, &tt) in times.iter().enumerate() {
            let a = (-k1 * tt).exp();
            let b = k1 / (k2 - k1) * ((-k1 * tt).exp() - (-k2 * tt).exp());
            let r = t.row(i);
            assert_close!(r[0], a, 1e-5, 1e-9, "{m:?} A at {tt}");
            assert_close!(r[1], b, 1e-5, 1e-9, "{m:?} B at {tt}");
            assert_close!(r[2], 1.0 - a - b, 1e-5, 1e-9, "{m:?} C at {tt}");
        }
    }
}
