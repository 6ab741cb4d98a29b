//! Doses without hand-written events: boluses and infusions into one- and
//! two-compartment pharmacokinetic models, against their closed forms.

use crate::assert_close;
use crate::common::*;
use ligand_sim::AbsoluteTolerance;
use ligand_sim::{CompileOptions, Dose, Method, Observable, Settings, Simulator, System};

const PK1: &str = "
model pk1
  compartment V = 10;          // L
  species C in V;              // mg/L
  elim: C -> ; V*ke*C          // mg/h
  C = 0; ke = 0.2              // 1/h
end";

fn one_compartment_amount(t: f64, ke: f64, boluses: &[(f64, f64)], inf: (f64, f64, f64)) -> f64 {
    let mut a = 0.0;
    for &(td, d) in boluses {
        if t >= td {
            a += d * (-ke * (t - td)).exp();
        }
    }
    let (start, end, rate) = inf;
    if t > start {
        let te = t.min(end);
        a += rate / ke * (1.0 - (-ke * (te - start)).exp()) * (-ke * (t - te)).exp();
    }
    a
}

#[test]
fn one_compartment_repeated_boluses_and_infusion() {
    let model = model(PK1);
    let sys = System::new(
        &model,
        &CompileOptions {
            infusions: vec!["C".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let obs = sys
        .observables(&[Observable::value("C"), Observable::amount("C")])
        .unwrap();
    let boluses = [(0.0, 100.0), (12.0, 100.0), (24.0, 50.0)];
    let inf = (30.0, 40.0, 5.0);
    let mut doses: Vec<Dose> = boluses
        .iter()
        .map(|&(time, amount)| Dose::Bolus {
            species: "C".into(),
            time,
            amount,
        })
        .collect();
    doses.push(Dose::Infusion {
        species: "C".into(),
        start: inf.0,
        end: inf.1,
        rate: inf.2,
    });
    for m in METHODS {
        let settings = Settings {
            times: Settings::grid(0.0, 60.0, 120),
            method: m,
            rtol: 1e-9,
            atol: AbsoluteTolerance::Absolute(1e-12),
            doses: doses.clone(),
            ..Settings::default()
        };
        let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
        assert!(t.stopped.is_none());
        for (i, &tt) in t.times.iter().enumerate() {
            let a = one_compartment_amount(tt, 0.2, &boluses, inf);
            // At a dose time the output is the value just after the dose.
            let agree = if m == Method::Sdirk { 2e-6 } else { 1e-7 };
            assert_close!(t.row(i)[1], a, agree, 1e-9, "{m:?} amount at t={tt}");
            assert_close!(
                t.row(i)[0],
                a / 10.0,
                agree,
                1e-10,
                "{m:?} concentration at t={tt}"
            );
        }
    }
}

const PK2: &str = "
model pk2
  compartment V1 = 5, V2 = 20;
  species A1 in V1, A2 in V2;
  substanceOnly species A1, A2;   // amounts in math
  elim: A1 -> ; CL*A1/V1
  dist: A1 -> A2; Q*(A1/V1 - A2/V2)
  A1 = 0; A2 = 0; CL = 2; Q = 4
end";

#[test]
fn two_compartment_repeated_boluses() {
    let (v1, v2, cl, q) = (5.0f64, 20.0f64, 2.0f64, 4.0f64);
    let (k10, k12, k21) = (cl / v1, q / v1, q / v2);
    let a = k10 + k12 + k21;
    let b = k10 * k21;
    let alpha = (a + (a * a - 4.0 * b).sqrt()) / 2.0;
    let beta = (a - (a * a - 4.0 * b).sqrt()) / 2.0;
    let central = |t: f64| {
        ((alpha - k21) * (-alpha * t).exp() + (k21 - beta) * (-beta * t).exp()) / (alpha - beta)
    };
    let boluses = [(0.0, 10.0), (8.0, 10.0), (16.0, 10.0)];
    let sys = system(PK2);
    let obs = sys.observables(&[Observable::value("A1")]).unwrap();
    let settings = Settings {
        times: Settings::grid(0.0, 30.0, 60),
        rtol: 1e-10,
        atol: AbsoluteTolerance::Absolute(1e-14),
        doses: boluses
            .iter()
            .map(|&(time, amount)| Dose::Bolus {
                species: "A1".into(),
                time,
                amount,
            })
            .collect(),
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    for (i, &tt) in t.times.iter().enumerate() {
        let expected: f64 = boluses
            .iter()
            .filter(|b| tt >= b.0)
            .map(|b| b.1 * central(tt - b.0))
            .sum();
        assert_close!(t.row(i)[0], expected, 1e-7, 1e-12, "A1 at t={tt}");
    }
}

#[test]
fn infusion_needs_compiling_and_a_reaction_species() {
    let sys = system(PK1);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![0.0, 1.0],
        doses: vec![Dose::Infusion {
            species: "C".into(),
            start: 0.0,
            end: 1.0,
            rate: 1.0,
        }],
        ..Settings::default()
    };
    let err = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("infusions into it were not compiled"),
        "{err}"
    );
    let err = System::new(
        &model(PK1),
        &CompileOptions {
            infusions: vec!["V".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a species"), "{err}");
}

#[test]
fn bolus_into_unknown_species_suggests() {
    let sys = system(PK1);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let settings = Settings {
        times: vec![0.0, 1.0],
        doses: vec![Dose::Bolus {
            species: "c".into(),
            time: 0.0,
            amount: 1.0,
        }],
        ..Settings::default()
    };
    let err = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap_err();
    assert_eq!(err.to_string(), "unknown variable `c` (did you mean `C`?)");
}
