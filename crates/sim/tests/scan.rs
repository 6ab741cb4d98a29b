//! Parameter scans: parallel, results in input order, equal to single runs.

use crate::common::*;
use ligand_sim::{scan, ParameterSets, Settings, Simulator};

#[test]
fn scan_matches_single_runs_in_order() {
    let src = data("kholodenko2000_mapk.ant");
    let sys = system(&src);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let names = vec!["V1".to_string(), "Ki".to_string()];
    let rows: Vec<Vec<f64>> = (0..24)
        .map(|i| vec![2.0 + 0.05 * i as f64, 9.0 - 0.1 * i as f64])
        .collect();
    let sets = ParameterSets::new(&sys, &names, rows.clone()).unwrap();
    let settings = Settings {
        times: Settings::grid(0.0, 1000.0, 10),
        ..Settings::default()
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_| {
        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let finals: Vec<(usize, Vec<f64>)> = scan(
        &sys,
        &obs,
        &settings,
        &sets,
        0..rows.len(),
        |i, r| {
            let t = r.unwrap();
            (i, t.row(t.times.len() - 1).to_vec())
        },
        &progress,
    );
    assert_eq!(done.into_inner(), rows.len());
    let mut sim = Simulator::new(&sys, &obs);
    for (i, (row, last)) in finals.iter().enumerate() {
        assert_eq!(*row, i);
        let single = sim.run(&settings, &sets.overrides(i)).unwrap();
        assert_eq!(last, single.row(10), "row {i}");
    }
}

#[test]
fn scan_columns_must_be_known() {
    let sys = system(&data("kholodenko2000_mapk.ant"));
    let e = ParameterSets::new(&sys, &["V11".to_string()], vec![vec![1.0]]).unwrap_err();
    assert_eq!(e.to_string(), "unknown variable `V11` (did you mean `V1`?)");
}
