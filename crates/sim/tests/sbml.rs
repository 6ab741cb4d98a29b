//! SBML: the SBML Test Suite cases copied into `tests/data/sbml-suite/`, the
//! BioModels files checked against libRoadRunner in `tests/data/biomodels/`,
//! and the identity `simulate(import(export(m))) == simulate(m)`.

use crate::common::data;
use ligand_model::{parse_antimony, parse_sbml, Model};
use ligand_sim::AbsoluteTolerance;
use ligand_sim::{CompileOptions, Observable, Settings, Simulator, System, Trajectory};
use std::path::Path;

fn import(path: &Path) -> Model {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match parse_sbml(&text) {
        Ok((m, _)) => m,
        Err(ds) => panic!(
            "{}: {}",
            path.display(),
            ds.iter()
                .map(|d| d.render(&text))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Simulates as `ligand simulate` does: `vars` as their symbols mean them,
/// except the species in `amounts`, reported as amounts.
fn simulate(
    m: &Model,
    vars: &[String],
    amounts: &[String],
    settings: &Settings,
) -> Result<Trajectory, String> {
    let sys = System::new(m, &CompileOptions::default()).map_err(|e| e.to_string())?;
    let names: Vec<String> = if vars.is_empty() {
        sys.species_ids().to_vec()
    } else {
        vars.to_vec()
    };
    let obs: Vec<Observable> = names
        .iter()
        .map(|n| {
            if amounts.contains(n) && sys.species_ids().contains(n) {
                Observable::amount(n)
            } else {
                Observable::value(n)
            }
        })
        .collect();
    let obs = sys.observables(&obs).map_err(|e| e.to_string())?;
    let mut sim = Simulator::new(&sys, &obs);
    let t = sim.run(settings, &[]).map_err(|e| e.to_string())?;
    match &t.stopped {
        Some(s) => Err(s.to_string()),
        None => Ok(t),
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// A CSV table (header, rows), `#` lines skipped.
fn table(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|x| match x.trim() {
                    "INF" | "inf" => f64::INFINITY,
                    "-INF" | "-inf" => f64::NEG_INFINITY,
                    "NaN" | "nan" => f64::NAN,
                    v => v.parse().unwrap(),
                })
                .collect()
        })
        .collect();
    (head, rows)
}

struct Case {
    id: String,
    model: Model,
    vars: Vec<String>,
    amounts: Vec<String>,
    settings: Settings,
    absolute: f64,
    relative: f64,
    expected: (Vec<String>, Vec<Vec<f64>>),
}

fn suite_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sbml-suite");
    let mut ids: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.strip_suffix("-settings.txt").map(str::to_string)
        })
        .collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let xml = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    let n = p.file_name().unwrap().to_string_lossy();
                    n.starts_with(&format!("{id}-sbml-")) && n.ends_with(".xml")
                })
                .unwrap();
            let settings = std::fs::read_to_string(dir.join(format!("{id}-settings.txt"))).unwrap();
            let mut case = Case {
                id: id.clone(),
                model: import(&xml),
                vars: Vec::new(),
                amounts: Vec::new(),
                settings: Settings::default(),
                absolute: 0.0,
                relative: 0.0,
                expected: table(
                    &std::fs::read_to_string(dir.join(format!("{id}-results.csv"))).unwrap(),
                ),
            };
            let (mut start, mut duration, mut steps) = (0.0, 0.0, 1);
            for line in settings.lines() {
                let Some((k, v)) = line.split_once(':') else {
                    continue;
                };
                let v = v.trim();
                match k.trim() {
                    "start" => start = v.parse().unwrap(),
                    "duration" => duration = v.parse().unwrap(),
                    "steps" => steps = v.parse::<f64>().unwrap() as usize,
                    "variables" => case.vars = list(v),
                    "amount" => case.amounts = list(v),
                    "absolute" => case.absolute = v.parse().unwrap(),
                    "relative" => case.relative = v.parse().unwrap(),
                    _ => {}
                }
            }
            case.settings = Settings {
                start,
                times: Settings::grid(start, duration, steps),
                ..Settings::default()
            };
            case
        })
        .collect()
}

/// The worst disagreement of a trajectory with the expected table, if any.
fn disagreement(case: &Case, t: &Trajectory) -> Option<String> {
    let (head, rows) = &case.expected;
    if rows.len() != t.times.len() {
        return Some(format!("{} rows, expected {}", t.times.len(), rows.len()));
    }
    for (j, name) in head.iter().enumerate().skip(1) {
        let k = t.names.iter().position(|n| n == name)?;
        for (i, row) in rows.iter().enumerate() {
            let (a, e) = (t.row(i)[k], row[j]);
            let ok = if e.is_nan() {
                a.is_nan()
            } else if e.is_infinite() {
                a == e
            } else {
                (a - e).abs() <= case.absolute + case.relative * e.abs()
            };
            if !ok {
                return Some(format!("`{name}` at t={}: {a} instead of {e}", row[0]));
            }
        }
    }
    None
}

#[test]
fn sbml_test_suite_cases_pass() {
    let cases = suite_cases();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        match simulate(&case.model, &case.vars, &case.amounts, &case.settings) {
            Ok(t) => {
                if let Some(why) = disagreement(case, &t) {
                    failures.push(format!("{}: {why}", case.id));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", case.id)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn sbml_export_then_import_simulates_the_same_suite_cases() {
    // The identity simulate(import(export(m))) == simulate(m) on every copied
    // case: every SBML construct the importer produces survives export.
    let mut failures = Vec::new();
    for case in suite_cases() {
        let xml = case.model.to_sbml().unwrap();
        let back = match parse_sbml(&xml) {
            Ok((m, _)) => m,
            Err(ds) => {
                failures.push(format!("{}: {}", case.id, ds[0].render(&xml)));
                continue;
            }
        };
        let a = simulate(&case.model, &case.vars, &case.amounts, &case.settings).unwrap();
        let b = simulate(&back, &case.vars, &case.amounts, &case.settings).unwrap();
        for (x, y) in a.values.iter().zip(&b.values) {
            let same = (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= 1e-12 * x.abs().max(y.abs());
            if !same {
                failures.push(format!("{}: {x} != {y}", case.id));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Simulates an Antimony model and its SBML round trip; the trajectories
/// must agree to rounding.
fn assert_round_trip(src: &str, times: Vec<f64>) {
    let (m, _) = parse_antimony(src).unwrap();
    let xml = m.to_sbml().unwrap();
    let (back, warnings) = parse_sbml(&xml).unwrap_or_else(|ds| panic!("{}", ds[0].render(&xml)));
    assert!(warnings.is_empty(), "{warnings:?}");
    let settings = Settings {
        times,
        rtol: 1e-10,
        atol: AbsoluteTolerance::Absolute(1e-14),
        ..Settings::default()
    };
    let vars: Vec<String> = m
        .species
        .iter()
        .map(|s| s.id.clone())
        .chain(m.parameters.iter().map(|p| p.id.clone()))
        .collect();
    let a = simulate(&m, &vars, &[], &settings).unwrap();
    let b = simulate(&back, &vars, &[], &settings).unwrap();
    assert_eq!(a.times, b.times);
    assert_eq!(a.events, b.events);
    for (x, y) in a.values.iter().zip(&b.values) {
        assert!((x - y).abs() <= 1e-12 * x.abs().max(1e-300), "{x} != {y}");
    }
}

#[test]
fn mapk_round_trips_through_sbml() {
    assert_round_trip(
        &data("kholodenko2000_mapk.ant"),
        Settings::grid(0.0, 5000.0, 100),
    );
}

#[test]
fn events_and_rules_round_trip_through_sbml() {
    let src = "
model eventful
  compartment cell = 2;
  var compartment vesicle = 0.5;
  species A in cell, B in cell, C in vesicle;
  substanceOnly species N in cell;
  function mm(s, vm, km)
    vm*s/(km + s)
  end
  J1: A -> B; cell*mm(A, Vmax, Km)
  J2: B => C; k2*B*cell
  J3: C -> ; kd*C*vesicle
  J4: -> N; piecewise(1, time < 3, 0.5)
  A = 10; B = 0; C = 0; N = 0
  Vmax = 2; Km = 0.5; k2 = 0.3; kd = 0.1
  k2b = 2*k2
  total := A + B + C
  vesicle' = 0.01*vesicle
  var kf = 1
  E1: at (A < 5): kf = kf + 1, A = A + 2
  E2: at 1 after (time > 4), priority=2, persistent=false: B = B/2
  E3: at time > 6, t0=false, fromTrigger=false: C = C + min(A, B), N = max(N, 1)
  E4: at (B > 1 && !(C > 2)) || sin(time) > 0.99: Km = Km*1.1
end";
    assert_round_trip(src, Settings::grid(0.0, 10.0, 200));
}

#[test]
fn biomodels_agree_with_libroadrunner() {
    // Fixtures made by bench/sbml/roadrunner_fixtures.py (libRoadRunner 2.10,
    // CVODE rtol 1e-10): amounts of every floating species at 101 times.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/biomodels");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("-roadrunner.csv"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 12);
    let mut failures = Vec::new();
    for f in &fixtures {
        let id = f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("-roadrunner.csv", "");
        let m = import(&dir.join(format!("{id}.xml")));
        let (head, rows) = table(&std::fs::read_to_string(f).unwrap());
        let species: Vec<String> = head[1..].to_vec();
        let settings = Settings {
            times: rows.iter().map(|r| r[0]).collect(),
            rtol: 1e-9,
            ..Settings::default()
        };
        let t = match simulate(&m, &species, &species, &settings) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        // Amounts below a millionth of the model's largest are noise for both.
        let biggest = rows
            .iter()
            .flat_map(|r| r[1..].iter())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        for (j, s) in species.iter().enumerate() {
            let scale = rows
                .iter()
                .fold(0.0f64, |m, r| m.max(r[j + 1].abs()))
                .max(1e-6 * biggest);
            for (i, r) in rows.iter().enumerate() {
                let (a, e) = (t.row(i)[j], r[j + 1]);
                if (a - e).abs() > 1e-6 * scale + 1e-4 * e.abs() {
                    failures.push(format!("{id}: `{s}` at t={}: {a} instead of {e}", r[0]));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
