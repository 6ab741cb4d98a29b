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

#[test]
fn jacobian_equals_finite_differences() {
    // The symbolic Jacobian of the MAPK cascade against central differences
    // of the compiled right-hand side, at the start and at a perturbed state.
    let sys = system(&data("kholodenko2000_mapk.ant"));
    let obs = sys.observables(&[]).unwrap();
    let mut sim = ligand_sim::Simulator::new(&sys, &obs);
    let x0 = sim.initial_state(0.0, &[]).unwrap();
    let n = x0.len();
    for x in [
        x0.clone(),
        x0.iter()
            .enumerate()
            .map(|(i, v)| v * (1.0 + 0.1 * i as f64))
            .collect(),
    ] {
        let mut f = vec![0.0; n];
        let mut jac = vec![0.0; n * n];
        sim.derivatives(0.0, &x, &mut f, Some(&mut jac));
        for k in 0..n {
            let h = 1e-6 * x[k].abs().max(1.0);
            let (mut up, mut down) = (x.clone(), x.clone());
            up[k] += h;
            down[k] -= h;
            let (mut fu, mut fd) = (vec![0.0; n], vec![0.0; n]);
            sim.derivatives(0.0, &up, &mut fu, None);
            sim.derivatives(0.0, &down, &mut fd, None);
            for i in 0..n {
                let fdiff = (fu[i] - fd[i]) / (2.0 * h);
                assert_close!(jac[i * n + k], fdiff, 1e-6, 1e-10, "J[{i}][{k}]");
            }
        }
    }
}
