//! Stiff reference problems: Robertson (1966) and the Kholodenko (2000)
//! MAPK cascade, against scipy Radau solutions at tight tolerances
//! (`tests/data/*_reference.csv`, made by `bench/ode/make_reference.py`).

use crate::assert_close;
use crate::common::*;
use ligand_sim::{Method, Settings};

/// Rows of a reference CSV (comment lines skipped, header dropped).
fn reference(name: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = data(name);
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn robertson_matches_reference_with_implicit_methods() {
    let (_, rows) = reference("robertson_reference.csv");
    let times: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    // TR-BDF2 is of order 2: its global error is larger at a given rtol.
    for (m, rtol, agree) in [(Method::Bdf, 1e-8, 2e-4), (Method::Sdirk, 1e-7, 1e-3)] {
        let t = simulate(&data("robertson.ant"), times.clone(), m, rtol, 1e-14);
        for (i, r) in rows.iter().enumerate() {
            for j in 0..3 {
                // y2 is tiny: compare it relative to its own size.
                assert_close!(
                    t.row(i)[j],
                    r[1 + j],
                    agree,
                    1e-15,
                    "{m:?} y{} at t={}",
                    j + 1,
                    r[0]
                );
            }
        }
        // Mass is conserved to rounding.
        let last = t.row(times.len() - 1);
        assert_close!(last.iter().sum::<f64>(), 1.0, 1e-9, 0.0);
    }
}

#[test]
fn robertson_takes_few_steps() {
    // A stiff solver must not be limited by stability: CVODE needs a few
    // hundred steps to t = 4e10; an explicit method would need billions.
    let t = simulate(&data("robertson.ant"), vec![4e10], Method::Bdf, 1e-6, 1e-12);
    assert!(t.stats.steps < 2000, "{:?}", t.stats);
}

#[test]
fn mapk_matches_tight_reference() {
    let (header, rows) = reference("mapk_reference.csv");
    let times: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let t = simulate(
        &data("kholodenko2000_mapk.ant"),
        times.clone(),
        Method::Bdf,
        1e-11,
        1e-14,
    );
    assert_eq!(t.names, header[1..]);
    let mut worst: f64 = 0.0;
    for j in 0..8 {
        let scale = rows.iter().map(|r| r[1 + j].abs()).fold(0.0, f64::max);
        for (i, r) in rows.iter().enumerate() {
            worst = worst.max((t.row(i)[j] - r[1 + j]).abs() / scale);
        }
    }
    println!("MAPK at rtol 1e-11: max relative deviation {worst:e}");
    assert!(worst < 1e-6, "max relative deviation {worst:e}");
}

#[test]
fn mapk_at_default_tolerance_is_as_accurate_as_cvode() {
    // libRoadRunner (CVODE, rtol 1e-6, atol 1e-12) deviates by 1.8e-5 from
    // the reference on this trajectory (bench_ode.py, --task single).
    let (_, rows) = reference("mapk_reference.csv");
    let times: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let t = simulate(
        &data("kholodenko2000_mapk.ant"),
        times,
        Method::Bdf,
        1e-6,
        1e-12,
    );
    let mut worst: f64 = 0.0;
    for j in 0..8 {
        let scale = rows.iter().map(|r| r[1 + j].abs()).fold(0.0, f64::max);
        for (i, r) in rows.iter().enumerate() {
            worst = worst.max((t.row(i)[j] - r[1 + j]).abs() / scale);
        }
    }
    assert!(worst < 1e-4, "max relative deviation {worst:e}");
}

#[test]
fn output_grid_has_n_plus_one_rows() {
    let times = Settings::grid(10.0, 5.0, 4);
    assert_eq!(times, [10.0, 11.25, 12.5, 13.75, 15.0]);
}

#[test]
fn robertson_solver_statistics() {
    // A snapshot of the work BDF does on Robertson's problem to t = 4e10 at
    // rtol 1e-6, atol 1e-12, so that a change in step-size or Newton control
    // shows up in review. Update it deliberately when the control changes.
    let t = simulate(&data("robertson.ant"), vec![4e10], Method::Bdf, 1e-6, 1e-12);
    let s = t.stats;
    println!("{s:?}");
    assert!((600..1200).contains(&s.steps), "{s:?}");
    assert!(s.rhs_evals < 2 * s.steps, "{s:?}");
    assert!(s.jacobian_evals < 40, "{s:?}");
    assert!(s.rejected_steps < s.steps / 5, "{s:?}");
}
