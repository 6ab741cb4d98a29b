//! Benchmark harness (not a test): nanoseconds per evaluation of
//!
//! (a) the residuals and Jacobian of a four-parameter logistic over 30 points,
//! (b) the right-hand side and Jacobian of the Kholodenko 2000 MAPK cascade
//!     (BioModels BIOMD0000000010; rate laws and values from Kholodenko,
//!     Eur J Biochem 267:1583-1588 (2000), Table 1).
//!
//! Run with `cargo bench -p ligand-expr` (add `-- --quick` for a short run).
//! Prints one line per case: expressions, instructions after CSE, and ns per
//! evaluation (median of repeated timing rounds).

use ligand_expr::{parse, Compiler, Expr};
use std::hint::black_box;
use std::time::Instant;

fn median_ns_per_iter(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        samples.push(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[rounds / 2]
}

fn bench_4pl(rounds: usize) {
    let f = parse("bottom + (top - bottom) / (1 + 10^((logec50 - x) * hill))").unwrap();
    let params = ["bottom", "top", "logec50", "hill"];
    let mut c = Compiler::new(["x", "bottom", "top", "logec50", "hill"]);
    c.add(&f).unwrap();
    for p in params {
        c.add(&f.diff(p).unwrap()).unwrap();
    }
    let prog = c.finish();
    // 10 concentrations, half-log spaced from 1e-9 M, in triplicate, as in
    // the dr4pl screening benchmark.
    let xs: Vec<f64> = (0..30).map(|i| -9.0 + 0.5 * (i / 3) as f64).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|x| 5.0 + 90.0 / (1.0 + 10f64.powf((-6.8 - x) * 1.1)))
        .collect();
    let theta = [4.0, 95.0, -6.7, 1.0];
    let mut slots = prog.new_slots();
    slots[1..5].copy_from_slice(&theta);
    let mut out = [0.0; 5];
    let mut resid = vec![0.0; 30];
    let mut jac = vec![0.0; 30 * 4];
    let ns = median_ns_per_iter(rounds, 20_000, || {
        for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
            slots[0] = x;
            prog.eval(&mut slots, &mut out);
            resid[i] = y - out[0];
            for j in 0..4 {
                jac[j * 30 + i] = -out[1 + j];
            }
        }
        black_box(&resid);
        black_box(&jac);
    });
    println!(
        "4pl_residuals_jacobian_30pts: outputs={} instructions={} ns_per_eval={ns:.0}",
        prog.n_outputs(),
        prog.n_instructions()
    );
}

/// The MAPK cascade: (reactant, product, rate law).
const MAPK_REACTIONS: [(&str, &str, &str); 10] = [
    (
        "MKKK",
        "MKKK_P",
        "V1*MKKK/((1 + (MAPK_PP/Ki)^n)*(K1 + MKKK))",
    ),
    ("MKKK_P", "MKKK", "V2*MKKK_P/(KK2 + MKKK_P)"),
    ("MKK", "MKK_P", "k3*MKKK_P*MKK/(KK3 + MKK)"),
    ("MKK_P", "MKK_PP", "k4*MKKK_P*MKK_P/(KK4 + MKK_P)"),
    ("MKK_PP", "MKK_P", "V5*MKK_PP/(KK5 + MKK_PP)"),
    ("MKK_P", "MKK", "V6*MKK_P/(KK6 + MKK_P)"),
    ("MAPK", "MAPK_P", "k7*MKK_PP*MAPK/(KK7 + MAPK)"),
    ("MAPK_P", "MAPK_PP", "k8*MKK_PP*MAPK_P/(KK8 + MAPK_P)"),
    ("MAPK_PP", "MAPK_P", "V9*MAPK_PP/(KK9 + MAPK_PP)"),
    ("MAPK_P", "MAPK", "V10*MAPK_P/(KK10 + MAPK_P)"),
];

const MAPK_SPECIES: [(&str, f64); 8] = [
    ("MKKK", 90.0),
    ("MKKK_P", 10.0),
    ("MKK", 280.0),
    ("MKK_P", 10.0),
    ("MKK_PP", 10.0),
    ("MAPK", 280.0),
    ("MAPK_P", 10.0),
    ("MAPK_PP", 10.0),
];

const MAPK_PARAMS: [(&str, f64); 22] = [
    ("V1", 2.5),
    ("Ki", 9.0),
    ("n", 1.0),
    ("K1", 10.0),
    ("V2", 0.25),
    ("KK2", 8.0),
    ("k3", 0.025),
    ("KK3", 15.0),
    ("k4", 0.025),
    ("KK4", 15.0),
    ("V5", 0.75),
    ("KK5", 15.0),
    ("V6", 0.75),
    ("KK6", 15.0),
    ("k7", 0.025),
    ("KK7", 15.0),
    ("k8", 0.025),
    ("KK8", 15.0),
    ("V9", 0.5),
    ("KK9", 15.0),
    ("V10", 0.5),
    ("KK10", 15.0),
];

fn bench_mapk(rounds: usize) {
    let rates: Vec<Expr> = MAPK_REACTIONS
        .iter()
        .map(|(_, _, r)| parse(r).unwrap())
        .collect();
    let rhs: Vec<Expr> = MAPK_SPECIES
        .iter()
        .map(|(s, _)| {
            let mut acc = Expr::num(0.0);
            for ((from, to, _), rate) in MAPK_REACTIONS.iter().zip(&rates) {
                if from == s {
                    acc = ligand_expr::simplify::sub(acc, rate.clone());
                }
                if to == s {
                    acc = ligand_expr::simplify::add(acc, rate.clone());
                }
            }
            acc
        })
        .collect();
    let mut inputs: Vec<&str> = MAPK_SPECIES.iter().map(|(s, _)| *s).collect();
    inputs.extend(MAPK_PARAMS.iter().map(|(p, _)| *p));
    let mut c = Compiler::new(&inputs);
    c.add_all(&rhs).unwrap();
    for f in &rhs {
        for (s, _) in MAPK_SPECIES {
            c.add(&f.diff(s).unwrap()).unwrap();
        }
    }
    let prog = c.finish();
    let mut slots = prog.new_slots();
    for (i, (_, v)) in MAPK_SPECIES.iter().enumerate() {
        slots[i] = *v;
    }
    for (i, (_, v)) in MAPK_PARAMS.iter().enumerate() {
        slots[8 + i] = *v;
    }
    let mut out = vec![0.0; prog.n_outputs()];
    let ns = median_ns_per_iter(rounds, 200_000, || {
        prog.eval(&mut slots, &mut out);
        black_box(&out);
    });
    println!(
        "mapk_rhs_jacobian: outputs={} instructions={} ns_per_eval={ns:.0}",
        prog.n_outputs(),
        prog.n_instructions()
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 11 };
    bench_4pl(rounds);
    bench_mapk(rounds);
}
