//! Every bad-input path gives a clear error, and runtime failures keep the
//! trajectory computed so far, with the time and the offending variables.

use crate::common::*;
use ligand_model::{parse_antimony, parse_antimony_partial, DiagnosticKind};
use ligand_sim::{
    CompileOptions, Failure, Method, Observable, Settings, SimError, Simulator, System,
};

#[test]
fn syntax_error_is_reported_with_its_location() {
    let src = "model m\n  J1: A -> ; k*\n  A = 1; k = 1\nend";
    let errors = parse_antimony(src).unwrap_err();
    assert_eq!(errors[0].kind, DiagnosticKind::Syntax);
    assert_eq!(errors[0].loc.unwrap().line, 2);
    assert!(errors[0].render(src).contains("2 |   J1: A -> ; k*"));
}

#[test]
fn undefined_symbol_is_an_invalid_model() {
    let (m, _) = parse_antimony_partial("J1: A -> ; kk*A\nA = 1; k = 1");
    let err = System::new(&m, &CompileOptions::default()).unwrap_err();
    let SimError::InvalidModel { diagnostics } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(diagnostics[0].kind, DiagnosticKind::UndefinedSymbol);
    assert_eq!(diagnostics[0].help.as_deref(), Some("did you mean `k`?"));
    assert!(err.to_string().contains("undefined symbol `kk`"), "{err}");
}

#[test]
fn cyclic_rules_are_named() {
    let (m, _) = parse_antimony_partial("J1: A -> ; a*A\nA = 1\na := b + 1\nb := a*2");
    let err = System::new(&m, &CompileOptions::default()).unwrap_err();
    let SimError::InvalidModel { diagnostics } = &err else {
        panic!("{err:?}")
    };
    assert!(diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::CyclicRules));
    assert!(err.to_string().contains("a -> b -> a"), "{err}");
}

#[test]
fn a_rate_that_becomes_nan_stops_with_the_reaction_named() {
    // A falls linearly through 0 at t = 1.4; past that sqrt(A) is NaN.
    let src = "model m\n  J1: A -> ; k\n  J2: -> B; sqrt(A)\n  A = 1.4; B = 0; k = 1\nend";
    for m in METHODS {
        let sys = system(src);
        let obs = sys.observables(&sys.default_observables()).unwrap();
        let settings = Settings {
            times: Settings::grid(0.0, 3.0, 30),
            method: m,
            ..Settings::default()
        };
        let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
        let stop = t
            .stopped
            .clone()
            .unwrap_or_else(|| panic!("{m:?} did not stop: {:?}", t.values));
        assert!(stop.time > 1.3 && stop.time < 1.5, "{m:?} {stop}");
        // The trajectory up to the failure is kept.
        assert!(
            t.times.len() >= 14 && *t.times.last().unwrap() <= stop.time,
            "{:?}",
            t.times
        );
        match &stop.reason {
            Failure::NonFinite { rates, variables } => {
                assert_eq!(rates, &["J2"], "{m:?} {stop}");
                assert_eq!(variables, &["B"], "{m:?} {stop}");
            }
            Failure::StepSizeTooSmall { variables, .. } => {
                assert!(variables.contains(&"B".to_string()), "{m:?} {stop}")
            }
            other => panic!("{m:?}: {other:?}"),
        }
    }
}

#[test]
fn a_blow_up_is_a_solver_that_cannot_advance() {
    // A' = A^2 with A(0) = 1 blows up at t = 1.
    let src = "model m\n  J1: -> A; A^2\n  A = 1\nend";
    let sys = system(src);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: Settings::grid(0.0, 2.0, 20),
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    let stop = t.stopped.expect("stopped");
    assert!((stop.time - 1.0).abs() < 1e-3, "{stop}");
    assert_eq!(t.times.len(), 10);
    let text = stop.to_string();
    assert!(text.starts_with("stopped at t=0.99"), "{text}");
    assert!(text.contains("`A`"), "{text}");
}

#[test]
fn too_many_steps_keeps_the_partial_trajectory() {
    let sys = system(&data("robertson.ant"));
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![0.0, 1.0, 1e5],
        method: Method::Erk,
        max_steps: 20_000,
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    assert_eq!(t.times, [0.0, 1.0]);
    let stop = t.stopped.unwrap();
    assert_eq!(stop.reason, Failure::TooManySteps { max_steps: 20_000 });
    assert!(stop.to_string().contains("more than 20000 steps"));
}

#[test]
fn bad_settings_are_rejected() {
    let sys = system("J1: A -> ; k*A\nA = 1; k = 1");
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let mut sim = Simulator::new(&sys, &obs);
    for (settings, msg) in [
        (
            Settings {
                times: vec![1.0, 0.5],
                ..Settings::default()
            },
            "output times must not decrease",
        ),
        (
            Settings {
                times: vec![-1.0],
                ..Settings::default()
            },
            "before the start time",
        ),
        (
            Settings {
                times: vec![1.0],
                rtol: -1.0,
                ..Settings::default()
            },
            "relative tolerance",
        ),
    ] {
        let e = sim.run(&settings, &[]).unwrap_err();
        assert!(e.to_string().contains(msg), "{e}");
    }
}

#[test]
fn unknown_names_suggest_the_closest() {
    let sys = system("J1: A -> ; kdeg*A\nA = 1; kdeg = 1");
    let e = sys.observables(&[Observable::value("Kdeg")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown variable `Kdeg` (did you mean `kdeg`?)"
    );
    let e = sys.base_index("kdg").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown variable `kdg` (did you mean `kdeg`?)"
    );
    let e = sys.observables(&[Observable::amount("kdeg")]).unwrap_err();
    assert!(e.to_string().contains("only species have amounts"), "{e}");
}

#[test]
fn a_missing_initial_value_is_named() {
    let (m, _) = parse_antimony_partial("J1: A -> B; k*A\nA = 1; k = 1");
    let sys = System::new(&m, &CompileOptions::default()).unwrap();
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![0.0, 1.0],
        ..Settings::default()
    };
    let e = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap_err();
    assert_eq!(e, SimError::MissingValue { name: "B".into() });
    // --set gives it one.
    let b = sys.base_index("B").unwrap();
    let t = Simulator::new(&sys, &obs)
        .run(&settings, &[(b, 0.0)])
        .unwrap();
    assert!((t.row(1)[1] - (1.0 - (-1.0f64).exp())).abs() < 1e-5);
}
