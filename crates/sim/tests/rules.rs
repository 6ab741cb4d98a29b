//! Assignment rules, rate rules, compartments that change size, boundary
//! species and species with only substance units.

use crate::assert_close;
use crate::common::*;
use ligand_sim::AbsoluteTolerance;
use ligand_sim::{Method, Observable, Settings, StateKind};

#[test]
fn assignment_rules_are_substituted_and_reported() {
    let src = "
model r
  species A, B;
  J1: A -> B; k*A
  A = 1; B = 0; k = 0.5
  total := A + B
  half := total/2
  rate_J1 := J1
end";
    let sys = system(src);
    let obs = [
        Observable::value("total"),
        Observable::value("half"),
        Observable::value("rate_J1"),
        Observable::value("J1"),
    ];
    let t = run(
        &sys,
        &obs,
        Settings::grid(0.0, 4.0, 4),
        Method::Bdf,
        1e-9,
        1e-12,
    );
    for (i, &tt) in t.times.iter().enumerate() {
        let r = t.row(i);
        assert_close!(r[0], 1.0, 1e-9, 0.0);
        assert_close!(r[1], 0.5, 1e-9, 0.0);
        assert_close!(r[2], 0.5 * (-0.5 * tt).exp(), 1e-7, 1e-12, "t={tt}");
        assert_eq!(r[2], r[3]);
    }
}

#[test]
fn rate_rules_on_parameters_and_compartments() {
    // x' = -k x on a parameter; the compartment grows linearly and dilutes
    // a species that no reaction changes (its amount is constant).
    let src = "
model g
  var compartment V = 1;
  species S in V;
  S = 2
  x = 3; k = 0.2
  x' = -k*x
  V' = 1
end";
    let sys = system(src);
    assert!(sys
        .states()
        .iter()
        .any(|(id, k)| id == "x" && matches!(k, StateKind::RateRule { .. })));
    let obs = [
        Observable::value("x"),
        Observable::value("S"),
        Observable::amount("S"),
        Observable::value("V"),
    ];
    let t = run(
        &sys,
        &obs,
        Settings::grid(0.0, 5.0, 5),
        Method::Bdf,
        1e-10,
        1e-14,
    );
    for (i, &tt) in t.times.iter().enumerate() {
        let r = t.row(i);
        assert_close!(r[0], 3.0 * (-0.2 * tt).exp(), 1e-7, 1e-12, "x at {tt}");
        assert_close!(r[3], 1.0 + tt, 1e-9, 1e-12, "V at {tt}");
        assert_close!(r[2], 2.0, 1e-12, 0.0, "amount of S at {tt}");
        assert_close!(r[1], 2.0 / (1.0 + tt), 1e-8, 1e-12, "[S] at {tt}");
    }
}

#[test]
fn boundary_species_are_not_changed_by_reactions() {
    let src = "
model b
  species $X, Y;
  J1: X -> Y; k*X
  X = 2; Y = 0; k = 0.5
end";
    let t = simulate(src, vec![0.0, 1.0, 2.0], Method::Bdf, 1e-10, 1e-14);
    for (i, tt) in [0.0, 1.0, 2.0].iter().enumerate() {
        assert_eq!(t.row(i)[0], 2.0);
        assert_close!(t.row(i)[1], 1.0 * tt, 1e-8, 1e-12);
    }
}

#[test]
fn substance_only_species_appear_as_amounts() {
    // In a compartment of size 4: the rate law k*A uses A's amount.
    let src = "
model s
  compartment c = 4;
  substanceOnly species A in c;
  species B in c;
  J1: A -> B; k*A
  A = 8; B = 0; k = 1
end";
    let t = simulate(src, vec![0.0, 1.0], Method::Bdf, 1e-10, 1e-14);
    let e = (-1.0f64).exp();
    assert_close!(t.row(1)[0], 8.0 * e, 1e-8, 0.0); // amount
    assert_close!(t.row(1)[1], 8.0 * (1.0 - e) / 4.0, 1e-8, 0.0); // concentration
}

#[test]
fn initial_assignments_and_set_values() {
    let src = "
model ia
  species A; J1: A -> ; k2*A
  A = 2*A0; A0 = 1; k1 = 0.5; k2 = 2*k1
end";
    let sys = system(src);
    let obs = sys
        .observables(&[Observable::value("A"), Observable::value("k2")])
        .unwrap();
    let mut sim = ligand_sim::Simulator::new(&sys, &obs);
    let settings = Settings {
        times: vec![0.0, 1.0],
        rtol: 1e-10,
        atol: AbsoluteTolerance::Absolute(1e-14),
        ..Settings::default()
    };
    let t = sim.run(&settings, &[]).unwrap();
    assert_eq!(t.row(0), [2.0, 1.0]);
    assert_close!(t.row(1)[0], 2.0 * (-1.0f64).exp(), 1e-8, 0.0);
    // Setting k1 and A0 changes what is computed from them.
    let o = [
        (sys.base_index("k1").unwrap(), 1.0),
        (sys.base_index("A0").unwrap(), 3.0),
    ];
    let t = sim.run(&settings, &o).unwrap();
    assert_eq!(t.row(0), [6.0, 2.0]);
    assert_close!(t.row(1)[0], 6.0 * (-2.0f64).exp(), 1e-8, 0.0);
    // A computed value cannot be set (it would be silently recomputed).
    let e = sys.base_index("k2").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`k2` cannot be set: an initial assignment computes it; set the values it depends on"
    );
}
