//! Times single MAPK simulations (a development aid; the benchmark against
//! libRoadRunner is `bench/ode/run.sh`).
//!
//! `cargo run --release -p ligand-sim --example mapk_single -- [method] [n]`

use ligand_sim::{CompileOptions, Method, Settings, Simulator, System};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let method = match args.get(1).map(|s| s.as_str()) {
        Some("sdirk") => Method::Sdirk,
        Some("erk") => Method::Erk,
        _ => Method::Bdf,
    };
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/kholodenko2000_mapk.ant"
    );
    let src = std::fs::read_to_string(path).unwrap();
    let (model, _) = ligand_model::parse_antimony(&src).unwrap();
    let t0 = Instant::now();
    let sys = System::new(&model, &CompileOptions::default()).unwrap();
    let obs = sys.observables(&sys.default_observables()).unwrap();
    println!(
        "compile: {:?}, program sizes {:?}",
        t0.elapsed(),
        sys.program_sizes()
    );
    let mut sim = Simulator::new(&sys, &obs);
    let settings = Settings {
        times: Settings::grid(0.0, 5000.0, 999),
        method,
        ..Settings::default()
    };
    let mut traj = sim.run(&settings, &[]).unwrap();
    let t0 = Instant::now();
    for _ in 0..n {
        traj = sim.run(&settings, &[]).unwrap();
    }
    let dt = t0.elapsed().as_secs_f64() / n as f64;
    println!(
        "{:?}: {:.1} us per simulation, stats {:?}",
        method,
        dt * 1e6,
        traj.stats
    );
    // Accuracy against the tight reference (max over points and species of
    // |y - y_ref| / max_t |y_ref|, as bench_ode.py measures it).
    let reference = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mapk_reference.csv"
    ))
    .unwrap();
    let rows: Vec<Vec<f64>> = reference
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("time"))
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    let settings = Settings {
        times: rows.iter().map(|r| r[0]).collect(),
        ..settings
    };
    let traj = sim.run(&settings, &[]).unwrap();
    let m = 8;
    let mut worst: f64 = 0.0;
    let mut worst_final: f64 = 0.0;
    for j in 0..m {
        let scale = rows.iter().map(|r| r[1 + j].abs()).fold(0.0, f64::max);
        for (i, r) in rows.iter().enumerate() {
            let e = (traj.row(i)[j] - r[1 + j]).abs() / scale;
            worst = worst.max(e);
            if i == rows.len() - 1 {
                worst_final = worst_final.max(e);
            }
        }
    }
    println!("max rel error vs reference: {worst:.3e} (final state {worst_final:.3e})");
}
