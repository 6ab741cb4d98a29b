//! Forward sensitivities against closed forms and central finite differences.

use crate::assert_close;
use crate::common::*;
use ligand_sim::AbsoluteTolerance;
use ligand_sim::{CompileOptions, Observable, Settings, Simulator, System, Trajectory};

fn with_sens(
    src: &str,
    params: &[&str],
    obs: &[Observable],
    times: Vec<f64>,
    rtol: f64,
) -> Trajectory {
    let sys = System::new(
        &model(src),
        &CompileOptions {
            sensitivities: params.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
    )
    .unwrap();
    let obs = sys.observables(obs).unwrap();
    let settings = Settings {
        times,
        rtol,
        atol: AbsoluteTolerance::Absolute(1e-14),
        ..Settings::default()
    };
    let t = Simulator::new(&sys, &obs).run(&settings, &[]).unwrap();
    assert!(t.stopped.is_none());
    t
}

#[test]
fn decay_sensitivities_are_exact() {
    // A(t) = A0 exp(-k t) (a concentration, in a compartment of size c).
    let src = "
model decay
  compartment c = 2;
  species A in c;
  J1: A -> ; c*k*A
  A = 10; k = 0.3
end";
    let times = Settings::grid(0.0, 10.0, 10);
    let t = with_sens(
        src,
        &["k", "A", "c"],
        &[Observable::value("A"), Observable::amount("A")],
        times.clone(),
        1e-10,
    );
    for (i, &tt) in times.iter().enumerate() {
        let e = (-0.3 * tt).exp();
        // d[A]/dk, d[A]/dA0, d[A]/dc
        assert_close!(
            t.sensitivity(i, 0, 0),
            -tt * 10.0 * e,
            1e-7,
            1e-12,
            "dA/dk at {tt}"
        );
        assert_close!(t.sensitivity(i, 0, 1), e, 1e-7, 1e-12, "dA/dA0 at {tt}");
        assert_close!(t.sensitivity(i, 0, 2), 0.0, 0.0, 1e-9, "dA/dc at {tt}");
        // The amount c [A]: d/dc = [A].
        assert_close!(
            t.sensitivity(i, 1, 2),
            10.0 * e,
            1e-7,
            1e-12,
            "d amount/dc at {tt}"
        );
        assert_close!(
            t.sensitivity(i, 1, 0),
            -tt * 20.0 * e,
            1e-7,
            1e-12,
            "d amount/dk at {tt}"
        );
    }
}

#[test]
fn sensitivities_follow_initial_assignments() {
    // k2 = 2 k1 is computed at the start: dB/dk1 goes through it.
    let src = "
model chain
  J1: A -> B; k2*A
  A = 1; B = 0; k1 = 0.5; k2 = 2*k1
end";
    let times = vec![0.0, 0.5, 1.0, 2.0];
    let t = with_sens(
        src,
        &["k1"],
        &[Observable::value("B")],
        times.clone(),
        1e-10,
    );
    for (i, &tt) in times.iter().enumerate() {
        // B = 1 - exp(-2 k1 t): dB/dk1 = 2 t exp(-2 k1 t)
        assert_close!(
            t.sensitivity(i, 0, 0),
            2.0 * tt * (-tt).exp(),
            1e-7,
            1e-12,
            "t={tt}"
        );
    }
}

#[test]
fn mapk_sensitivities_match_finite_differences() {
    let src = data("kholodenko2000_mapk.ant");
    let params = ["V1", "KK10", "Ki"];
    let times = vec![0.0, 50.0, 200.0, 600.0, 1000.0];
    let obs = [Observable::value("MAPK_PP"), Observable::value("MKK_P")];
    let t = with_sens(&src, &params, &obs, times.clone(), 1e-10);
    // Central differences on the parameter, tight tolerance.
    let sys = system(&src);
    let compiled = sys.observables(&obs).unwrap();
    let mut sim = Simulator::new(&sys, &compiled);
    let settings = Settings {
        times: times.clone(),
        rtol: 1e-12,
        atol: AbsoluteTolerance::Absolute(1e-14),
        ..Settings::default()
    };
    for (j, p) in params.iter().enumerate() {
        let idx = sys.base_index(p).unwrap();
        let p0 = match *p {
            "V1" => 2.5,
            "KK10" => 15.0,
            _ => 9.0,
        };
        let h = 1e-5 * p0;
        let up = sim.run(&settings, &[(idx, p0 + h)]).unwrap();
        let down = sim.run(&settings, &[(idx, p0 - h)]).unwrap();
        for k in 0..obs.len() {
            let scale = (0..times.len())
                .map(|i| ((up.row(i)[k] - down.row(i)[k]) / (2.0 * h)).abs())
                .fold(0.0, f64::max);
            for i in 0..times.len() {
                let fd = (up.row(i)[k] - down.row(i)[k]) / (2.0 * h);
                assert_close!(
                    t.sensitivity(i, k, j),
                    fd,
                    0.0,
                    1e-4 * scale,
                    "d{}/d{p} at t={}",
                    obs[k].id,
                    times[i]
                );
            }
        }
    }
}

#[test]
fn sensitivities_of_unknown_parameters_are_errors() {
    let e = System::new(
        &model("J1: A -> ; k*A\nA = 1; k = 1"),
        &CompileOptions {
            sensitivities: vec!["kk".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "unknown variable `kk` (did you mean `k`?)");
}
