//! Absolute tolerances that follow the model's scale, the signs of an
//! unconverged solution, and outputs that are not numbers.

use crate::common::*;
use ligand_sim::{AbsoluteTolerance, Failure, Settings, Simulator, System, Trajectory};

/// Ligand binding in a femtolitre at nanomolar concentrations, in mol and
/// litres as SBML models from BioModels write it: every amount is about
/// 1e-24, far below the absolute tolerance of 1e-12 that suits amounts of
/// order 1.
const FEMTOLITRE: &str = "
model femtolitre
  compartment cell = 1e-15;
  species L in cell, R in cell, LR in cell, P in cell;
  bind: L + R -> LR; cell*(kon*L*R - koff*LR)
  signal: LR -> LR + P; cell*kcat*LR
  clear: P -> ; cell*kdeg*P
  L = 5e-9; R = 2e-9; LR = 0; P = 0
  kon = 1e6; koff = 1e-3; kcat = 0.05; kdeg = 0.01
end";

fn run_with(src: &str, rtol: f64, atol: AbsoluteTolerance, times: Vec<f64>) -> Trajectory {
    let sys = system(src);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times,
        rtol,
        atol,
        ..Settings::default()
    };
    Simulator::new(&sys, &obs).run(&settings, &[]).unwrap()
}

/// The largest difference over every value, relative to each column's
/// largest magnitude.
fn worst_relative(a: &Trajectory, b: &Trajectory) -> f64 {
    let m = a.names.len();
    let mut worst = 0.0f64;
    for j in 0..m {
        let col: Vec<f64> = (0..b.times.len()).map(|i| b.row(i)[j]).collect();
        let scale = col.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        for i in 0..b.times.len() {
            worst = worst.max((a.row(i)[j] - b.row(i)[j]).abs() / scale);
        }
    }
    worst
}

#[test]
fn a_femtolitre_model_is_right_at_the_default_tolerances() {
    let times = Settings::grid(0.0, 600.0, 60);
    let tight = run_with(
        FEMTOLITRE,
        1e-10,
        AbsoluteTolerance::Absolute(1e-40),
        times.clone(),
    );
    let default = run_with(FEMTOLITRE, 1e-6, AbsoluteTolerance::Scaled, times.clone());
    let worst = worst_relative(&default, &tight);
    assert!(worst < 1e-4, "scaled tolerances: {worst:e} off a tight run");
    // The former default, one absolute tolerance of 1e-12 for every model,
    // accepts any step here (every amount is below it): materially wrong.
    let old = run_with(FEMTOLITRE, 1e-6, AbsoluteTolerance::Absolute(1e-12), times);
    let worst_old = worst_relative(&old, &tight);
    assert!(worst_old > 1e-2, "the old default was {worst_old:e} off");
}

#[test]
fn the_absolute_tolerances_follow_the_rule() {
    // atol_i = rtol * 1e-6 * max(s_i, 1e-3 S): L and R from their initial
    // amounts; LR from the pool R + LR (and L + LR); P, at zero and in no
    // pool, from its precursor LR.
    let t = run_with(FEMTOLITRE, 1e-6, AbsoluteTolerance::Scaled, vec![1.0]);
    let sys = system(FEMTOLITRE);
    let names: Vec<&str> = sys.states().iter().map(|(s, _)| s.as_str()).collect();
    let atol = |s: &str| t.atol[names.iter().position(|n| *n == s).unwrap()];
    let (l0, r0) = (5e-9 * 1e-15, 2e-9 * 1e-15);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b;
    assert!(close(atol("L"), 1e-12 * l0), "{:?}", t.atol);
    assert!(close(atol("R"), 1e-12 * r0), "{:?}", t.atol);
    // LR is in the pools L + LR (total l0) and R + LR (total r0): the larger.
    assert!(close(atol("LR"), 1e-12 * l0), "{:?}", t.atol);
    assert!(close(atol("P"), 1e-12 * l0), "{:?}", t.atol);
    assert_eq!(t.rtol, 1e-6);
    // --atol: one value for every state.
    let t = run_with(
        FEMTOLITRE,
        1e-6,
        AbsoluteTolerance::Absolute(1e-30),
        vec![1.0],
    );
    assert!(t.atol.iter().all(|&a| a == 1e-30));
    // A model of order 1 keeps CVODE's familiar 1e-12.
    let t = run_with(
        "species A; A -> ; k*A; A = 1; k = 1",
        1e-6,
        AbsoluteTolerance::Scaled,
        vec![1.0],
    );
    assert!((t.atol[0] - 1e-12).abs() < 1e-24, "{:?}", t.atol);
}

#[test]
fn doses_count_in_the_scale() {
    // Nothing in the model but the dose: its amount sets the scale.
    let sys = system("compartment V = 1; species C in V; C -> ; k*C; C = 0; k = 0.1");
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![0.0, 1.0],
        doses: vec![ligand_sim::Dose::Bolus {
            species: "C".into(),
            time: 0.0,
            amount: 1e-18,
        }],
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    assert!((t.atol[0] - 1e-30).abs() < 1e-42, "{:?}", t.atol);
    assert!((t.row(1)[0] - 1e-18 * (-0.1f64).exp()).abs() < 1e-24);
}

const FAST: &str = "
model fast
  species A, B, C;
  r1: A -> B; k1*A
  r2: B + B -> C; k2*B*B
  r3: C -> A; k3*C
  A = 1; B = 0; C = 0; k1 = 1000; k2 = 100; k3 = 10
end";

#[test]
fn a_loose_tolerance_shows_in_a_warning() {
    let times = Settings::grid(0.0, 10.0, 10);
    let loose = run_with(FAST, 0.2, AbsoluteTolerance::Scaled, times.clone());
    assert!(!loose.warnings.is_empty());
    assert!(
        loose.warnings[0].contains("is negative") && loose.warnings[0].contains("rtol"),
        "{:?}",
        loose.warnings
    );
    // The values it warns about are really negative, by more than a
    // thousandth of the scale (1).
    let worst = (0..loose.times.len())
        .flat_map(|i| loose.row(i).to_vec())
        .fold(f64::INFINITY, f64::min);
    assert!(worst < -1e-3, "{worst}");
    let fine = run_with(FAST, 1e-6, AbsoluteTolerance::Scaled, times);
    assert!(fine.warnings.is_empty(), "{:?}", fine.warnings);
}

#[test]
fn a_step_that_cannot_advance_names_the_tolerances() {
    // dX/dt = X^2 from 1 blows up at t = 1.
    let sys = system("species X; -> X; X^2; X = 1");
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![0.5, 2.0],
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    let stopped = t.stopped.expect("stops before t = 2");
    assert!(
        stopped.time > 0.99 && stopped.time <= 1.0,
        "{}",
        stopped.time
    );
    match &stopped.reason {
        Failure::StepSizeTooSmall {
            variables,
            rtol,
            atol,
            ..
        } => {
            assert_eq!(variables, &["X".to_string()]);
            assert_eq!(*rtol, 1e-6);
            assert_eq!(atol, &[t.atol[0]]);
            let msg = stopped.reason.to_string();
            assert!(
                msg.contains("smaller rtol (now 1e-6)") && msg.contains("`X` 1e-12"),
                "{msg}"
            );
        }
        Failure::NonFinite { variables, .. } => assert_eq!(variables, &["X".to_string()]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_rule_that_is_not_a_number_stops_the_simulation() {
    // r is NaN once A falls below 0.5 (sqrt of a negative number), at
    // t = ln 2.
    let sys = system("species A; A -> ; A; A = 1; r := sqrt(A - 0.5)");
    let obs = sys
        .observables(&[
            ligand_sim::Observable::value("A"),
            ligand_sim::Observable::value("r"),
        ])
        .unwrap();
    let settings = Settings {
        times: Settings::grid(0.0, 1.0, 10),
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    // Rows up to t = 0.6 (A = 0.549), none with a NaN.
    assert_eq!(t.times.len(), 7);
    assert!(t.values.iter().all(|v| !v.is_nan()));
    let stopped = t.stopped.expect("stops at the first NaN");
    assert!((stopped.time - 0.7).abs() < 1e-12);
    assert_eq!(
        stopped.reason,
        Failure::NotANumber {
            variable: "r".into()
        }
    );
}

#[test]
fn an_event_at_an_output_time_reports_the_values_after_it() {
    // `time >= 14` fires at 14: the row of t = 14 holds the dose.
    let src = "
model ev
  species L;
  L -> ; k*L
  L = 0; k = 1
  E1: at time >= 14: L = L + 0.1
end";
    let sys: System = system(src);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![13.0, 14.0, 15.0],
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    assert_eq!(t.row(0)[0], 0.0);
    assert!((t.row(1)[0] - 0.1).abs() < 1e-9, "{:?}", t.values);
    let expected = 0.1 * (-1.0f64).exp();
    assert!(
        (t.row(2)[0] - expected).abs() < 1e-5 * expected,
        "{} vs {expected}",
        t.row(2)[0]
    );
}

#[test]
fn the_model_language_guide_binding_example_is_right() {
    // docs/model-language.md's first example: 1 nM ligand on 0.1 nM
    // receptor in mol/L, washed out at 600 s. With one absolute tolerance of
    // 1e-12 for every model, the occupancy at 600 s came out 0.309 instead
    // of 0.343 (10 % low).
    let src = "
model binding
  compartment well = 2e-4;
  species L in well, R in well, LR in well;
  bind: L + R -> LR; well*(kon*L*R - koff*LR)
  L = 1e-9; R = 1e-10; LR = 0
  kon = 1e6; koff = 1e-3
  occupancy := LR/(R + LR)
  washout: at (time > 600): L = 0
end";
    let sys = system(src);
    let obs = sys
        .observables(&[ligand_sim::Observable::value("occupancy")])
        .unwrap();
    let run = |rtol: f64, atol: AbsoluteTolerance| {
        let settings = Settings {
            times: vec![60.0, 300.0, 600.0, 1200.0],
            rtol,
            atol,
            ..Settings::default()
        };
        Simulator::new(&sys, &obs).run(&settings, &[]).unwrap()
    };
    let tight = run(1e-10, AbsoluteTolerance::Absolute(1e-30));
    let default = run(1e-6, AbsoluteTolerance::Scaled);
    for i in 0..4 {
        let (a, b) = (default.row(i)[0], tight.row(i)[0]);
        assert!((a - b).abs() < 1e-5 * b, "t={}: {a} vs {b}", tight.times[i]);
    }
    assert!((tight.row(2)[0] - 0.343347).abs() < 1e-5);
    let old = run(1e-6, AbsoluteTolerance::Absolute(1e-12));
    assert!((old.row(2)[0] - tight.row(2)[0]).abs() > 0.05 * tight.row(2)[0]);
}

#[test]
fn a_restart_a_hair_from_zero_takes_a_step_the_time_can_resolve() {
    // SBML Test Suite case 01531: `trig' = 1` from -5.3 and an event at
    // trig > 0. After the event trig is about 1e-15, a ten-thousandth of its
    // absolute tolerance, and Hairer's initial step estimate fell below what
    // t = 5.3 can resolve: the run stopped there.
    let src = "
model restart
  trig = -5.3; P = 0
  trig' = 1
  E: at trig > 0: P = 2
end";
    let sys = system(src);
    let obs = sys
        .observables(&[
            ligand_sim::Observable::value("trig"),
            ligand_sim::Observable::value("P"),
        ])
        .unwrap();
    let settings = Settings {
        times: Settings::grid(0.0, 22.0, 22),
        atol: AbsoluteTolerance::Absolute(5.3e-12),
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    assert!(t.stopped.is_none(), "{:?}", t.stopped);
    assert!((t.row(22)[0] - 16.7).abs() < 1e-9);
    assert_eq!(t.row(22)[1], 2.0);
    assert_eq!(t.row(5)[1], 0.0);
    assert_eq!(t.row(6)[1], 2.0);
}
