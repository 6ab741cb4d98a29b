//! Steady states: Newton's method on the system reduced by the conservation
//! laws, the integration fallback, and the diagnoses when there is none.

use crate::assert_close;
use crate::common::*;
use ligand_sim::eigen::StabilityKind;
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
fn mapk_oscillates_around_an_unstable_steady_state() {
    // Newton's method finds the MAPK cascade's steady state, which is
    // unstable: it is not where the dynamics go, so the steady-state search
    // integrates from the start and finds the sustained oscillation
    // (Kholodenko 2000, Fig. 2: a period of about 20 minutes).
    match steady(&data("kholodenko2000_mapk.ant")) {
        Err(e @ SteadyStateError::Oscillation { .. }) => {
            let SteadyStateError::Oscillation {
                period,
                variables,
                around_unstable,
            } = &e
            else {
                unreachable!()
            };
            assert!(*period > 600.0 && *period < 3000.0, "{period}");
            assert!(variables.contains(&"MAPK_PP".to_string()), "{variables:?}");
            // The unstable steady state Newton's method found is named.
            let re = around_unstable.expect("Newton's solution was unstable");
            assert!(re > 0.0, "{re}");
            assert!(
                e.to_string().contains("around an unstable steady state"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
}

const LOGISTIC: &str = "
model logistic
  species X;
  grow: -> X; k*X
  crowd: X -> ; k*X^2
  X = 0.001; k = 1
end";

#[test]
fn an_unstable_newton_solution_is_not_the_steady_state() {
    // From X = 0.001 Newton's method converges to X = 0, whose eigenvalue is
    // +k: the dynamics leave it for the stable X = 1, eigenvalue -k.
    let ss = steady(LOGISTIC).unwrap();
    assert_eq!(ss.method, SteadyStateMethod::Integration);
    assert_close!(ss.values[0], 1.0, 1e-6, 0.0);
    assert!(ss.stable);
    assert_eq!(ss.stability.kind, StabilityKind::Stable);
    assert_close!(ss.stability.max_real_part, -1.0, 1e-6, 0.0);
}

#[test]
fn an_unstable_steady_state_says_so() {
    // From X = 0 nothing moves: the only steady state reached is the
    // unstable one, and it is reported as such.
    let ss = steady(&LOGISTIC.replace("X = 0.001", "X = 0")).unwrap();
    assert_eq!(ss.values[0], 0.0);
    assert!(!ss.stable);
    assert_eq!(ss.stability.kind, StabilityKind::Unstable);
    assert_close!(ss.stability.max_real_part, 1.0, 1e-12, 0.0);
}

#[test]
fn stability_excludes_the_conservation_zeros() {
    // R + RL is conserved: the Jacobian has an exact zero eigenvalue, which
    // must not make the binding steady state look marginal. The two other
    // eigenvalues equal those of a central-difference Jacobian.
    let ss = steady(BINDING).unwrap();
    assert!(ss.stable, "{:?}", ss.stability);
    assert_eq!(ss.stability.conservation_laws, 1);
    assert_eq!(ss.stability.eigenvalues.len(), 2);
    let sys = system(BINDING);
    let obs = sys.observables(&sys.default_observables()).unwrap();
    let mut sim = Simulator::new(&sys, &obs);
    sim.initial_state(0.0, &[]).unwrap();
    let n = ss.state.len();
    let mut jac = vec![0.0; n * n];
    let (mut fp, mut fm) = (vec![0.0; n], vec![0.0; n]);
    for k in 0..n {
        let h = 1e-6 * ss.state[k].abs().max(1e-3);
        let mut xp = ss.state.clone();
        let mut xm = ss.state.clone();
        xp[k] += h;
        xm[k] -= h;
        sim.derivatives(0.0, &xp, &mut fp, None);
        sim.derivatives(0.0, &xm, &mut fm, None);
        for i in 0..n {
            jac[i * n + k] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    let mut ev = ligand_sim::eigen::eigenvalues(&mut jac, n).unwrap();
    ev.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert!(ev[0].0.abs() < 1e-8, "the conservation zero: {ev:?}");
    for (r, f) in ss.stability.eigenvalues.iter().zip(&ev[1..]) {
        assert_close!(r[0], f.0, 1e-6, 1e-9);
        assert_close!(r[1], f.1, 1e-6, 1e-9);
    }
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
        Err(SteadyStateError::Oscillation {
            period,
            variables,
            around_unstable,
        }) => {
            // Newton's answer had a negative amount: no steady state to name.
            assert_eq!(around_unstable, None);
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
