//! Large sparse models: the linear chain `S0 -> S1 -> ... -> Sn` with unit
//! rate constants (as `bench/scale/gen_chain.py` writes it), whose solution
//! from `S0 = 1` is `S_i(t) = t^i e^{-t} / i!`. Above 200 states the BDF
//! integrator factorises its Newton matrices sparse; the dense path must
//! give the same trajectory to the solver tolerance.

use crate::common::system;
use ligand_sim::{
    AbsoluteTolerance, LinearAlgebra, Observable, Settings, Simulator, System, Trajectory,
};

fn chain(n: usize) -> String {
    let mut s = String::from("model chain\n  compartment cell = 1\n  k = 1\n  S0 = 1\n");
    for i in 0..n {
        s.push_str(&format!("  J{i}: S{i} => S{}; k * S{i}\n", i + 1));
        s.push_str(&format!("  S{} = 0\n", i + 1));
    }
    s.push_str("end\n");
    s
}

/// `t^i e^{-t} / i!`, through logarithms (no overflow for large `i`).
fn poisson(i: usize, t: f64) -> f64 {
    let ln_fact: f64 = (1..=i).map(|k| (k as f64).ln()).sum();
    (i as f64 * t.ln() - t - ln_fact).exp()
}

fn run(sys: &System, watched: &[usize], la: LinearAlgebra) -> Trajectory {
    let obs: Vec<Observable> = watched
        .iter()
        .map(|i| Observable::value(format!("S{i}")))
        .collect();
    let obs = sys.observables(&obs).unwrap();
    let mut sim = Simulator::new(sys, &obs);
    let settings = Settings {
        times: Settings::grid(0.0, 10.0, 10),
        rtol: 1e-8,
        atol: AbsoluteTolerance::Absolute(1e-12),
        linear_algebra: la,
        ..Settings::default()
    };
    let t = sim.run(&settings, &[]).unwrap();
    assert!(t.stopped.is_none(), "stopped: {:?}", t.stopped);
    t
}

#[test]
fn a_2000_species_chain_follows_the_poisson_solution_on_the_sparse_path() {
    let n = 1999;
    let sys = system(&chain(n));
    assert_eq!(sys.n_states(), 2000);
    assert!(LinearAlgebra::Auto.use_sparse(2000, 2 * 2000));
    let watched = [0, 1, 3, 5, 10, 20, 1999];
    let t = run(&sys, &watched, LinearAlgebra::Auto);
    for (r, &time) in t.times.iter().enumerate() {
        for (c, &i) in watched.iter().enumerate() {
            let expected = if time == 0.0 {
                f64::from(u8::from(i == 0))
            } else {
                poisson(i, time)
            };
            let found = t.row(r)[c];
            assert!(
                (found - expected).abs() <= 1e-5 * expected.abs() + 1e-9,
                "S{i} at t = {time}: expected {expected}, found {found}"
            );
        }
    }
}

#[test]
fn the_sparse_and_dense_paths_agree() {
    // Dense factorisations of a 2,000-state system take seconds each; 400
    // states are enough to take the sparse path by size.
    let n = 399;
    let sys = system(&chain(n));
    let watched = [0, 2, 7, 15, 399];
    let sparse = run(&sys, &watched, LinearAlgebra::Sparse);
    let dense = run(&sys, &watched, LinearAlgebra::Dense);
    for (a, b) in sparse.values.iter().zip(&dense.values) {
        assert!(
            (a - b).abs() <= 1e-7 * b.abs() + 1e-10,
            "sparse {a}, dense {b}"
        );
    }
    // The same steps: only the linear algebra differs.
    assert_eq!(sparse.stats.steps, dense.stats.steps);
}
