//! Steady states: Newton's method on the system reduced by the conservation
//! laws, the integration fallback, and the diagnoses when there is none.

use crate::assert_close;
use crate::common::*;
use ligand_sim::{Settings, Simulator, SteadyStateError, SteadyStateMethod, SteadyStateOptions};

const BINDING: &str = "
model binding
  species R, L, RL;
  bind: L + R -> RL; kon*L*R - koff*RL
  syn: -> L; ksyn
  deg: L -> ; kdeg*L
  R = 1; L = 0; RL = 0; kon = 1; koff = 0.5; ksyn = 1; kdeg = 0.2
end";

fn steady(src: &str) -> Result<ligand_sim::SteadyState, SteadyStateError> {
    let sys = system(src);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    Simulator::new(&sys, &obs).steady_state(
        &Settings::default(),
        &[],
        &SteadyStateOptions::default(),
    )
}

#[test]
fn newton_finds_the_binding_steady_state() {
    let ss = steady(BINDING).unwrap();
    assert_eq!(ss.method, SteadyStateMethod::Newton);
    // L = ksyn/kdeg; RL = Rtot L / (Kd + L) with Kd = koff/kon.
    let l = 5.0;
    let rl = l / (0.5 + l);
    assert_close!(ss.values[1], l, 1e-9, 1e-12);
    assert_close!(ss.values[2], rl, 1e-9, 1e-12);
    assert_close!(ss.values[0], 1.0 - rl, 1e-9, 1e-12);
    assert!(ss.residual < 1e-3, "{ss:?}");
}

#[test]
fn steady_state_equals_a_long_integration() {
    let long = simulate(BINDING, vec![1e4], ligand_sim::Method::Bdf, 1e-10, 1e-14);
    let ss = steady(BINDING).unwrap();
    for j in 0..3 {
        assert_close!(ss.values[j], long.row(0)[j], 1e-7, 1e-12);
    }
}

#[test]
fn mapk_steady_state_conserves_the_totals() {
    // The MAPK cascade oscillates around an unstable steady state, which
    // Newton's method finds; the totals of each kinase are those of the start.
    let ss = steady(&data("kholodenko2000_mapk.ant")).unwrap();
    let v = &ss.values;
    assert_close!(v[0] + v[1], 100.0, 1e-12, 0.0);
    assert_close!(v[2] + v[3] + v[4], 300.0, 1e-12, 0.0);
    assert_close!(v[5] + v[6] + v[7], 300.0, 1e-12, 0.0);
    assert!(ss.residual < 1e-3, "{ss:?}");
}

#[test]
fn oscillation_is_diagnosed() {
    // A van der Pol oscillator written as reactions; its only fixed point
    // has a negative amount, so Newton's answer is rejected and the
    // integration finds the limit cycle (period about 6.66 for mu = 1).
    let src = "
model vdp
  species X, Y;
  J1: -> X; Y
  J2: -> Y; mu*(1 - (X + 1)^2)*Y - (X + 1)
  X = 1; Y = 0; mu = 1
end";
    match steady(src) {
        Err(SteadyStateError::Oscillation { period, variables }) => {
            assert!((period - 6.66).abs() < 0.7, "{period}");
            assert!(variables.contains(&"X".to_string()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn divergence_is_diagnosed() {
    let src = "model grow\n  J1: -> A; k0\n  A = 1; k0 = 1\nend";
    match steady(src) {
        Err(SteadyStateError::Divergence { variables }) => assert_eq!(variables, ["A"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn robertson_has_a_singular_jacobian_and_settles_too_slowly() {
    let e = steady(&data("robertson.ant")).unwrap_err();
    assert!(matches!(e, SteadyStateError::Singular { .. }), "{e:?}");
    assert!(e.to_string().starts_with("the Jacobian is singular"), "{e}");
}
