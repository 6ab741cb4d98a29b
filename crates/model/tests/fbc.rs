//! Flux balance analysis (SBML fbc): the 34 flux balance cases of the SBML
//! Test Suite in `tests/data/sbml-fbc/`, each read, optimised and compared
//! with its expected values (the fluxes every optimum shares, and the
//! objective) within the case's tolerances.

use ligand_model::read_flux_balance;
use std::path::Path;

#[test]
fn sbml_test_suite_flux_balance_cases_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sbml-fbc");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.strip_suffix("-settings.txt").map(str::to_string)
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 34);
    let mut failures = Vec::new();
    for case in &cases {
        let read =
            |suffix: &str| std::fs::read_to_string(dir.join(format!("{case}{suffix}"))).unwrap();
        let xml = read("-sbml-l3v2.xml");
        let settings = read("-settings.txt");
        let setting = |key: &str| -> f64 {
            settings
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}:")))
                .and_then(|v| v.trim().parse().ok())
                .unwrap()
        };
        let (absolute, relative) = (setting("absolute"), setting("relative"));
        let results = read("-results.csv");
        let mut lines = results.lines();
        let names: Vec<&str> = lines.next().unwrap().split(',').map(str::trim).collect();
        let expected: Vec<f64> = lines
            .next()
            .unwrap()
            .split(',')
            .map(|v| v.trim().parse().unwrap())
            .collect();
        let problem = match read_flux_balance(&xml, &|s| Err(s.to_string())) {
            Ok((p, _)) => p,
            Err(ds) => {
                failures.push(format!("{case}: {}", ds[0].render(&xml)));
                continue;
            }
        };
        let solution = problem.optimize();
        for (name, e) in names.iter().zip(&expected) {
            let a = solution.value(&problem, name).unwrap_or(f64::INFINITY);
            let ok = if e.is_nan() {
                a.is_nan()
            } else {
                (a - e).abs() <= absolute + relative * e.abs()
            };
            if !ok {
                failures.push(format!("{case}: `{name}` is {a}, expected {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
