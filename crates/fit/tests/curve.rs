//! The fit driver and the model catalogue: every built-in model recovers its
//! own parameters, the native 4PL equals its formula, and bad data fail cleanly.

use ligand_fit::catalogue::{build, build_formula_model, MODELS};
use ligand_fit::curve::{
    fit_curve, rout_outliers, CiMethod, CurveData, FitSpec, FitStatus, FitWorkspace, Weighting,
};
use ligand_fit::model::{CurveModel, XKind};

/// Evaluates a model at the data's x (transformed as the fit would).
fn simulate(model: &dyn CurveModel, x: &[f64], cov: &[Vec<f64>], p: &[f64]) -> Vec<f64> {
    let xt: Vec<f64> = match model.x_kind() {
        XKind::Log10 => x.iter().map(|v| v.log10()).collect(),
        XKind::Linear => x.to_vec(),
    };
    let mut f = vec![0.0; x.len()];
    model.eval(&xt, cov, p, &mut f, None, &mut Vec::new());
    f
}

fn logspace(from: f64, to: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 10f64.powf(from + (to - from) * i as f64 / (n - 1) as f64))
        .collect()
}

fn linspace(from: f64, to: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| from + (to - from) * i as f64 / (n - 1) as f64)
        .collect()
}

/// Deterministic small perturbations (a fixed pseudo-random sequence).
fn jitter(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((s >> 11) as f64) / ((1u64 << 53) as f64);
            scale * (2.0 * u - 1.0)
        })
        .collect()
}

struct Case {
    id: &'static str,
    constants: Vec<(String, f64)>,
    x: Vec<f64>,
    cov: Vec<Vec<f64>>,
    truth: Vec<f64>,
}

fn repeat2(v: Vec<f64>) -> Vec<f64> {
    v.iter().chain(v.iter()).copied().collect()
}

fn flags(n: usize) -> Vec<f64> {
    (0..2 * n).map(|i| if i < n { 0.0 } else { 1.0 }).collect()
}

fn cases() -> Vec<Case> {
    let c = |pairs: &[(&str, f64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let dose = logspace(-10.0, -4.0, 13);
    let d_lin = logspace(-2.0, 2.0, 13);
    let t = linspace(0.0, 60.0, 13);
    vec![
        Case {
            id: "4pl",
            constants: vec![],
            x: dose.clone(),
            cov: vec![],
            truth: vec![5.0, 95.0, -7.0, 1.2],
        },
        Case {
            id: "4pl",
            constants: vec![],
            x: dose.clone(),
            cov: vec![],
            truth: vec![3.0, 110.0, -6.5, -0.8],
        },
        Case {
            id: "3pl",
            constants: vec![],
            x: dose.clone(),
            cov: vec![],
            truth: vec![0.0, 100.0, -7.5],
        },
        Case {
            id: "5pl",
            constants: vec![],
            x: logspace(-10.0, -4.0, 19),
            cov: vec![],
            truth: vec![5.0, 95.0, -7.0, 1.0, 2.0],
        },
        Case {
            id: "ecanything",
            constants: c(&[("F", 80.0)]),
            x: dose.clone(),
            cov: vec![],
            truth: vec![0.0, 100.0, -6.4, 1.0],
        },
        Case {
            id: "biphasic",
            constants: vec![],
            x: logspace(-12.0, -3.0, 28),
            cov: vec![],
            truth: vec![0.0, 100.0, 0.4, -9.0, 1.0, -5.0, 1.0],
        },
        Case {
            id: "bell",
            constants: vec![],
            x: logspace(-12.0, -2.0, 31),
            cov: vec![],
            truth: vec![0.0, 100.0, 10.0, -9.0, 1.0, -5.0, 1.0],
        },
        Case {
            id: "LL.2",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![1.5, 2.0],
        },
        Case {
            id: "LL.3",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![1.5, 8.0, 2.0],
        },
        Case {
            id: "LL.4",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0],
        },
        Case {
            id: "LL.5",
            constants: vec![],
            x: logspace(-2.0, 2.0, 19),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0, 1.5],
        },
        Case {
            id: "W1.4",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0],
        },
        Case {
            id: "W2.4",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![-2.0, 0.5, 8.0, 3.0],
        },
        Case {
            id: "LN.4",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![1.2, 0.5, 8.0, 3.0],
        },
        Case {
            id: "L.4",
            constants: vec![],
            x: linspace(0.0, 10.0, 13),
            cov: vec![],
            truth: vec![1.5, 0.5, 8.0, 5.0],
        },
        Case {
            id: "EXD.3",
            constants: vec![],
            x: linspace(0.0, 20.0, 13),
            cov: vec![],
            truth: vec![1.0, 10.0, 4.0],
        },
        Case {
            id: "BC.4",
            constants: vec![],
            x: logspace(-2.0, 2.0, 19),
            cov: vec![],
            truth: vec![2.0, 8.0, 3.0, 1.0],
        },
        Case {
            id: "LL.3u",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![2.0, 0.2, 3.0],
        },
        Case {
            id: "W1.2",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![2.0, 3.0],
        },
        Case {
            id: "W1.3",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![2.0, 8.0, 3.0],
        },
        Case {
            id: "W2.2",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![-2.0, 3.0],
        },
        Case {
            id: "W2.3",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![-2.0, 8.0, 3.0],
        },
        Case {
            id: "LN.2",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![1.2, 3.0],
        },
        Case {
            id: "LN.3",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![1.2, 8.0, 3.0],
        },
        Case {
            id: "LN.3u",
            constants: vec![],
            x: d_lin.clone(),
            cov: vec![],
            truth: vec![1.2, 0.2, 3.0],
        },
        Case {
            id: "L.3",
            constants: vec![],
            x: linspace(0.0, 10.0, 13),
            cov: vec![],
            truth: vec![1.5, 8.0, 5.0],
        },
        Case {
            id: "L.5",
            constants: vec![],
            x: linspace(0.0, 10.0, 21),
            cov: vec![],
            truth: vec![1.5, 0.5, 8.0, 5.0, 1.5],
        },
        Case {
            id: "EXD.2",
            constants: vec![],
            x: linspace(0.0, 20.0, 13),
            cov: vec![],
            truth: vec![8.0, 5.0],
        },
        Case {
            id: "AR.2",
            constants: vec![],
            x: linspace(0.0, 30.0, 13),
            cov: vec![],
            truth: vec![8.0, 5.0],
        },
        Case {
            id: "AR.3",
            constants: vec![],
            x: linspace(0.0, 30.0, 13),
            cov: vec![],
            truth: vec![1.0, 8.0, 5.0],
        },
        Case {
            id: "MM.2",
            constants: vec![],
            x: linspace(0.0, 50.0, 13),
            cov: vec![],
            truth: vec![10.0, 5.0],
        },
        Case {
            id: "BC.5",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0, 1.0],
        },
        Case {
            id: "CRS.4a",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 8.0, 3.0, 2.0],
        },
        Case {
            id: "CRS.4b",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 8.0, 3.0, 2.0],
        },
        Case {
            id: "CRS.4c",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 8.0, 3.0, 2.0],
        },
        Case {
            id: "CRS.5a",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0, 2.0],
        },
        Case {
            id: "CRS.5b",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0, 2.0],
        },
        Case {
            id: "CRS.5c",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 0.5, 8.0, 3.0, 2.0],
        },
        Case {
            id: "baro5",
            constants: vec![],
            x: logspace(-2.0, 2.0, 21),
            cov: vec![],
            truth: vec![2.0, 4.0, 0.5, 8.0, 3.0],
        },
        Case {
            id: "MM.3",
            constants: vec![],
            x: linspace(0.0, 50.0, 13),
            cov: vec![],
            truth: vec![1.0, 10.0, 5.0],
        },
        Case {
            id: "saturation-one-site",
            constants: vec![],
            x: linspace(0.1, 20.0, 13),
            cov: vec![],
            truth: vec![1500.0, 2.5],
        },
        Case {
            id: "saturation-one-site-total",
            constants: vec![],
            x: repeat2(linspace(0.1, 20.0, 10)),
            cov: vec![flags(10)],
            truth: vec![1500.0, 2.5, 30.0, 10.0],
        },
        Case {
            id: "saturation-two-sites",
            constants: vec![],
            x: logspace(-2.0, 3.0, 25),
            cov: vec![],
            truth: vec![500.0, 0.1, 1000.0, 20.0],
        },
        Case {
            id: "competition-one-site",
            constants: vec![],
            x: dose.clone(),
            cov: vec![],
            truth: vec![200.0, 3000.0, -7.2],
        },
        Case {
            id: "competition-one-site-ki",
            constants: c(&[("radioligand", 1e-9), ("kd", 1e-9)]),
            x: dose.clone(),
            cov: vec![],
            truth: vec![200.0, 3000.0, -8.0],
        },
        Case {
            id: "competition-two-sites",
            constants: vec![],
            x: logspace(-12.0, -3.0, 28),
            cov: vec![],
            truth: vec![100.0, 3000.0, 0.3, -9.5, -6.0],
        },
        Case {
            id: "homologous",
            constants: c(&[("hot", 1.0)]),
            x: logspace(-2.0, 3.0, 16),
            cov: vec![],
            truth: vec![3000.0, 0.5, 100.0],
        },
        Case {
            id: "association",
            constants: vec![],
            x: t.clone(),
            cov: vec![],
            truth: vec![1000.0, 0.15],
        },
        Case {
            id: "association-kon",
            constants: c(&[("radioligand", 2.0), ("koff", 0.05)]),
            x: t.clone(),
            cov: vec![],
            truth: vec![1000.0, 0.04],
        },
        Case {
            id: "dissociation",
            constants: vec![],
            x: t.clone(),
            cov: vec![],
            truth: vec![1000.0, 50.0, 0.1],
        },
        Case {
            id: "motulsky-mahan",
            constants: c(&[("hot", 1.0), ("cold", 2.0), ("k1", 0.1), ("k2", 0.05)]),
            x: linspace(0.0, 120.0, 25),
            cov: vec![],
            truth: vec![0.02, 0.01, 1000.0],
        },
        Case {
            id: "gaddum-schild",
            constants: vec![],
            x: {
                let d = logspace(-10.0, -3.0, 15);
                let mut v = Vec::new();
                for _ in 0..4 {
                    v.extend(d.iter());
                }
                v
            },
            cov: vec![{
                let mut v = Vec::new();
                for b in [0.0, 1e-8, 1e-7, 1e-6] {
                    v.extend(std::iter::repeat_n(b, 15));
                }
                v
            }],
            truth: vec![0.0, 100.0, -8.0, 1.0, 8.5, 1.0],
        },
        Case {
            id: "operational-partial",
            constants: vec![],
            x: repeat2(logspace(-11.0, -3.0, 17)),
            cov: vec![flags(17)],
            truth: vec![0.0, 100.0, -8.0, 1.0, -6.5, 0.0],
        },
        Case {
            id: "operational-depletion",
            constants: vec![],
            x: repeat2(logspace(-11.0, -3.0, 17)),
            cov: vec![flags(17)],
            truth: vec![0.0, 100.0, -6.0, 1.5, 0.2, 1.0],
        },
    ]
}

#[test]
fn every_catalogue_model_recovers_its_parameters() {
    let mut ws = FitWorkspace::new();
    let mut tested: Vec<&str> = Vec::new();
    for case in cases() {
        let model = build(case.id, &case.constants).unwrap();
        let clean = simulate(model.as_ref(), &case.x, &case.cov, &case.truth);
        let scale = clean.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let noise = jitter(clean.len(), 1e-4 * scale, case.truth.len() as u64);
        let y: Vec<f64> = clean.iter().zip(&noise).map(|(a, b)| a + b).collect();
        let data = CurveData {
            x: case.x.clone(),
            y,
            cov: case.cov.clone(),
            ..Default::default()
        };
        let spec = FitSpec::default().resolve(model.as_ref()).unwrap();
        let r = fit_curve(model.as_ref(), &data, &spec, &mut ws);
        assert!(
            matches!(r.status, FitStatus::Converged),
            "{}: status {:?} {:?}",
            case.id,
            r.status,
            r.messages
        );
        for (p, want) in r.parameters.iter().zip(&case.truth) {
            let tol = 1e-2 * (1.0 + want.abs());
            assert!(
                (p.estimate - want).abs() < tol,
                "{}: {} = {} (truth {want}); all {:?}",
                case.id,
                p.name,
                p.estimate,
                r.parameters.iter().map(|p| p.estimate).collect::<Vec<_>>()
            );
        }
        tested.push(case.id);
    }
    for m in MODELS {
        assert!(
            tested.contains(&m.id),
            "catalogue model {} has no recovery test",
            m.id
        );
    }
}

#[test]
fn native_4pl_equals_its_formula() {
    let native = build("4pl", &[]).unwrap();
    let formula = build_formula_model("4pl").unwrap();
    let x: Vec<f64> = (0..40).map(|i| -11.0 + 0.2 * i as f64).collect();
    for p in [
        [0.0, 100.0, -7.0, 1.0],
        [12.0, -3.0, -5.5, -2.3],
        [1e3, 1e4, -9.1, 0.4],
    ] {
        let (mut f1, mut f2) = (vec![0.0; 40], vec![0.0; 40]);
        let (mut j1, mut j2) = (vec![0.0; 160], vec![0.0; 160]);
        native.eval(&x, &[], &p, &mut f1, Some(&mut j1), &mut Vec::new());
        formula.eval(&x, &[], &p, &mut f2, Some(&mut j2), &mut Vec::new());
        for (a, b) in f1.iter().zip(&f2).chain(j1.iter().zip(&j2)) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}

#[test]
fn intervals_are_reported_and_profile_is_asymmetric_for_ec50() {
    let model = build("4pl", &[]).unwrap();
    let x = logspace(-10.0, -5.0, 11);
    let clean = simulate(model.as_ref(), &x, &[], &[0.0, 100.0, -7.5, 1.0]);
    let y: Vec<f64> = clean
        .iter()
        .zip(jitter(11, 4.0, 7))
        .map(|(a, b)| a + b)
        .collect();
    let data = CurveData {
        x,
        y,
        ..Default::default()
    };
    let wald = FitSpec::default().resolve(model.as_ref()).unwrap();
    let rw = fit_curve(model.as_ref(), &data, &wald, &mut FitWorkspace::new());
    let prof = FitSpec {
        ci: CiMethod::Profile,
        ..FitSpec::default()
    }
    .resolve(model.as_ref())
    .unwrap();
    let rp = fit_curve(model.as_ref(), &data, &prof, &mut FitWorkspace::new());
    let lw = rw.param("logec50").unwrap();
    let lp = rp.param("logec50").unwrap();
    assert_eq!(lw.estimate, lp.estimate);
    let half = lw.ci_high.unwrap() - lw.estimate;
    assert!(
        (lw.estimate - lw.ci_low.unwrap() - half).abs() < 1e-12,
        "Wald is symmetric"
    );
    assert!(lp.ci_low.unwrap() < lp.estimate && lp.ci_high.unwrap() > lp.estimate);
    assert!(
        (lp.ci_high.unwrap() - lp.estimate - (lp.estimate - lp.ci_low.unwrap())).abs() > 1e-6,
        "profile limits differ from the Wald ones"
    );
    // EC50 interval is the transformed logEC50 interval.
    let ec = rw.param("ec50").unwrap();
    assert!((ec.ci_low.unwrap() - 10f64.powf(lw.ci_low.unwrap())).abs() < 1e-18);
    assert!(rw.sy_x.unwrap() > 0.0 && rw.r_squared.unwrap() > 0.98);
    assert!(rw.aicc.is_some() && rw.diagnostics.runs_test_p.is_some());
}

#[test]
fn rout_finds_an_injected_outlier_and_refits_without_it() {
    let model = build("4pl", &[]).unwrap();
    let x: Vec<f64> = logspace(-10.0, -5.0, 11)
        .into_iter()
        .flat_map(|v| [v, v])
        .collect();
    let clean = simulate(model.as_ref(), &x, &[], &[0.0, 100.0, -7.5, 1.0]);
    let mut y: Vec<f64> = clean
        .iter()
        .zip(jitter(22, 2.0, 3))
        .map(|(a, b)| a + b)
        .collect();
    y[9] += 60.0;
    let lines: Vec<usize> = (2..24).collect();
    let data = CurveData {
        x,
        y,
        lines,
        ..Default::default()
    };
    let spec = FitSpec {
        outliers: Some(1.0),
        ..FitSpec::default()
    }
    .resolve(model.as_ref())
    .unwrap();
    let r = fit_curve(model.as_ref(), &data, &spec, &mut FitWorkspace::new());
    assert_eq!(r.diagnostics.outlier_lines, vec![11]);
    assert_eq!(r.n, 21);
    assert!((r.value("logec50").unwrap() + 7.5).abs() < 0.05);
    // Without ROUT the outlier drags the fit.
    let plain = fit_curve(
        model.as_ref(),
        &data,
        &FitSpec::default().resolve(model.as_ref()).unwrap(),
        &mut FitWorkspace::new(),
    );
    assert!(plain.rss.unwrap() > 10.0 * r.rss.unwrap());
    // Gaussian residuals alone are rarely flagged.
    let residuals = jitter(30, 1.0, 11);
    assert!(rout_outliers(&residuals, 4, 0.01).is_empty());
}

#[test]
fn relative_weighting_and_robust_fits_run() {
    let model = build("saturation-one-site", &[]).unwrap();
    let x = linspace(0.2, 20.0, 12);
    let clean = simulate(model.as_ref(), &x, &[], &[1000.0, 2.0]);
    // Multiplicative noise: relative weighting is appropriate.
    let y: Vec<f64> = clean
        .iter()
        .zip(jitter(12, 0.03, 5))
        .map(|(a, e)| a * (1.0 + e))
        .collect();
    let data = CurveData {
        x,
        y,
        ..Default::default()
    };
    for (w, robust) in [
        (Weighting::InverseY2, false),
        (Weighting::InverseY, false),
        (Weighting::Poisson, false),
        (Weighting::None, true),
    ] {
        let spec = FitSpec {
            weighting: w,
            robust,
            ..FitSpec::default()
        }
        .resolve(model.as_ref())
        .unwrap();
        let r = fit_curve(model.as_ref(), &data, &spec, &mut FitWorkspace::new());
        assert_eq!(
            r.status,
            FitStatus::Converged,
            "{w:?} {robust}: {:?}",
            r.messages
        );
        assert!(
            (r.value("kd").unwrap() - 2.0).abs() < 0.2,
            "{w:?}: {}",
            r.value("kd").unwrap()
        );
    }
}

#[test]
fn fixed_bounded_and_started_parameters() {
    let model = build("4pl", &[]).unwrap();
    let x = logspace(-10.0, -5.0, 11);
    let clean = simulate(model.as_ref(), &x, &[], &[0.0, 100.0, -7.5, 1.0]);
    let y: Vec<f64> = clean
        .iter()
        .zip(jitter(11, 3.0, 9))
        .map(|(a, b)| a + b)
        .collect();
    let data = CurveData {
        x,
        y,
        ..Default::default()
    };
    let spec = FitSpec {
        fixed: vec![("bottom".into(), 0.0), ("top".into(), 100.0)],
        bounds: vec![("hill".into(), 0.1, 0.9)],
        start: vec![("logec50".into(), -6.0)],
        ..FitSpec::default()
    }
    .resolve(model.as_ref())
    .unwrap();
    let r = fit_curve(model.as_ref(), &data, &spec, &mut FitWorkspace::new());
    assert_eq!(r.df, 9);
    assert!(
        r.parameters[0].fixed
            && r.parameters[0].estimate == 0.0
            && r.parameters[0].std_error.is_none()
    );
    assert_eq!(r.value("hill"), Some(0.9));
    assert_eq!(
        r.diagnostics.at_bound,
        vec![std::sync::Arc::<str>::from("hill")]
    );
}

mod bad_input {
    use super::*;
    use ligand_fit::curve::SpecError;

    fn four_pl() -> std::sync::Arc<dyn CurveModel> {
        build("4pl", &[]).unwrap()
    }

    #[test]
    fn unknown_parameter_names_suggest() {
        let m = four_pl();
        let err = FitSpec {
            fixed: vec![("botom".into(), 0.0)],
            ..FitSpec::default()
        }
        .resolve(m.as_ref())
        .unwrap_err();
        assert!(matches!(err, SpecError::UnknownParameter { .. }));
        let text = err.to_string();
        assert!(
            text.contains("--fix") && text.contains("did you mean `bottom`"),
            "{text}"
        );
    }

    #[test]
    fn invalid_settings() {
        let m = four_pl();
        assert!(FitSpec {
            level: 1.5,
            ..FitSpec::default()
        }
        .resolve(m.as_ref())
        .is_err());
        assert!(FitSpec {
            outliers: Some(0.0),
            ..FitSpec::default()
        }
        .resolve(m.as_ref())
        .is_err());
        let err = FitSpec {
            bounds: vec![("hill".into(), 2.0, 1.0)],
            ..FitSpec::default()
        }
        .resolve(m.as_ref())
        .unwrap_err();
        assert!(err.to_string().contains("lower bound must be below"));
        let all = ["bottom", "top", "logec50", "hill"]
            .iter()
            .map(|n| (n.to_string(), 1.0))
            .collect();
        assert_eq!(
            FitSpec {
                fixed: all,
                ..FitSpec::default()
            }
            .resolve(m.as_ref())
            .unwrap_err(),
            SpecError::AllFixed
        );
    }

    #[test]
    fn failures_are_statuses_with_reasons() {
        let m = four_pl();
        let spec = FitSpec::default().resolve(m.as_ref()).unwrap();
        let mut ws = FitWorkspace::new();
        let few = CurveData {
            x: vec![1e-9, 1e-8, 1e-7],
            y: vec![1.0, 2.0, 3.0],
            ..Default::default()
        };
        let r = fit_curve(m.as_ref(), &few, &spec, &mut ws);
        assert_eq!(r.status, FitStatus::Failed);
        assert!(
            r.messages[0].contains("3 points are fewer than the 4 parameters"),
            "{:?}",
            r.messages
        );
        let flat = CurveData {
            x: logspace(-9.0, -5.0, 6),
            y: vec![7.0; 6],
            ..Default::default()
        };
        let r = fit_curve(m.as_ref(), &flat, &spec, &mut ws);
        assert_eq!(r.status, FitStatus::Failed);
        assert!(
            r.messages[0].contains("constant response"),
            "{:?}",
            r.messages
        );
        let zero = CurveData {
            x: vec![0.0, 1e-9, 1e-8, 1e-7, 1e-6],
            y: vec![1.0, 2.0, 30.0, 80.0, 99.0],
            lines: vec![2, 3, 4, 5, 6],
            ..Default::default()
        };
        let r = fit_curve(m.as_ref(), &zero, &spec, &mut ws);
        assert_eq!(r.status, FitStatus::Failed);
        assert!(
            r.messages[0].starts_with("line 2: concentration 0 cannot be log-transformed"),
            "{:?}",
            r.messages
        );
        // The same data fit on a log scale given as log concentrations.
        let logx = FitSpec {
            x_is_log10: true,
            ..FitSpec::default()
        }
        .resolve(m.as_ref())
        .unwrap();
        let ok = CurveData {
            x: vec![-10.0, -9.0, -8.0, -7.0, -6.0],
            y: vec![1.0, 2.0, 30.0, 80.0, 99.0],
            ..Default::default()
        };
        assert_ne!(
            fit_curve(m.as_ref(), &ok, &logx, &mut ws).status,
            FitStatus::Failed
        );
    }

    #[test]
    fn unidentifiable_parameters_are_flagged_ambiguous() {
        // Only the bottom plateau is sampled: top and logEC50 are not determined.
        let m = four_pl();
        let x = logspace(-12.0, -10.0, 8);
        let y: Vec<f64> = jitter(8, 1.0, 2).iter().map(|e| 5.0 + e).collect();
        let spec = FitSpec {
            fixed: vec![("hill".into(), 1.0)],
            ..FitSpec::default()
        }
        .resolve(m.as_ref())
        .unwrap();
        let r = fit_curve(
            m.as_ref(),
            &CurveData {
                x,
                y,
                ..Default::default()
            },
            &spec,
            &mut FitWorkspace::new(),
        );
        assert_ne!(r.status, FitStatus::Converged, "{:?}", r);
    }
}

/// Every point of `data` as a least-squares problem (no replicate means): the reference for
/// the fit driver, which solves over replicate means.
struct EveryPoint<'a> {
    model: &'a dyn CurveModel,
    x: Vec<f64>,
    y: Vec<f64>,
    sqrt_w: Vec<f64>,
}

impl ligand_fit::lm::LeastSquaresProblem for EveryPoint<'_> {
    fn n_params(&self) -> usize {
        self.model.params().len()
    }
    fn n_residuals(&self) -> usize {
        self.x.len()
    }
    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        let mut f = vec![0.0; self.x.len()];
        self.model
            .eval(&self.x, &[], p, &mut f, None, &mut Vec::new());
        for i in 0..r.len() {
            r[i] = self.sqrt_w[i] * (self.y[i] - f[i]);
        }
        true
    }
    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        let (m, n) = (self.x.len(), self.n_params());
        let mut f = vec![0.0; m];
        let mut j = vec![0.0; m * n];
        self.model
            .eval(&self.x, &[], p, &mut f, Some(&mut j), &mut Vec::new());
        for k in 0..n {
            for i in 0..m {
                jac[i + k * m] = -self.sqrt_w[i] * j[i + k * m];
            }
        }
        true
    }
}

#[test]
fn replicates_solved_through_their_means_give_the_fit_of_every_point() {
    use ligand_fit::lm::{minimize, LeastSquaresProblem, LmOptions, LmWorkspace};
    use ligand_fit::stats::ParameterStatistics;
    let model = build("4pl", &[]).unwrap();
    // Triplicates at 10 concentrations, in a scrambled order (as a plate reader lists wells).
    let conc = logspace(-10.0, -5.5, 10);
    let order = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4];
    let x: Vec<f64> = (0..3)
        .flat_map(|rep| order.iter().map(move |&k| (rep, k)))
        .map(|(_, k)| conc[k])
        .collect();
    let clean = simulate(model.as_ref(), &x, &[], &[5.0, 95.0, -7.8, 0.9]);
    let y: Vec<f64> = clean
        .iter()
        .zip(jitter(30, 6.0, 21))
        .map(|(a, b)| a + b)
        .collect();
    let sd: Vec<f64> = (0..30).map(|i| 2.0 + (i % 4) as f64).collect();
    for weighted in [false, true] {
        let data = CurveData {
            x: x.clone(),
            y: y.clone(),
            sd: weighted.then(|| sd.clone()),
            ..Default::default()
        };
        let spec = FitSpec {
            weighting: if weighted {
                Weighting::Sd
            } else {
                Weighting::None
            },
            ..FitSpec::default()
        }
        .resolve(model.as_ref())
        .unwrap();
        let r = fit_curve(model.as_ref(), &data, &spec, &mut FitWorkspace::new());
        assert_eq!(r.status, FitStatus::Converged, "{:?}", r.messages);
        assert_eq!((r.n, r.df), (30, 26), "counts are of points, not of means");
        assert!(r.diagnostics.replicates_test_p.is_some());

        // The reference: every point, from the truth, to a tight tolerance.
        let mut every = EveryPoint {
            model: model.as_ref(),
            x: x.iter().map(|c| c.log10()).collect(),
            y: y.clone(),
            sqrt_w: if weighted {
                sd.iter().map(|s| 1.0 / s).collect()
            } else {
                vec![1.0; 30]
            },
        };
        let mut ws = LmWorkspace::new();
        let opts = LmOptions::default().with_tolerance(1e-13);
        let best = minimize(&mut every, &[5.0, 95.0, -7.8, 0.9], None, &opts, &mut ws).unwrap();
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
        assert!(rel(r.rss.unwrap(), best.rss) < 1e-9, "weighted {weighted}");
        let mut jac = vec![0.0; 30 * 4];
        every.jacobian(&best.params, &mut jac);
        let st = ParameterStatistics::from_jacobian(&jac, 30, 4, best.rss).unwrap();
        for (k, name) in ["bottom", "top", "logec50", "hill"].iter().enumerate() {
            let p = r.param(name).unwrap();
            let se = st.standard_errors[k].unwrap();
            assert!(
                (p.estimate - best.params[k]).abs() < 1e-4 * se,
                "{name}: {} vs {} (weighted {weighted})",
                p.estimate,
                best.params[k]
            );
            assert!(rel(p.std_error.unwrap(), se) < 1e-4, "{name} SE");
        }
    }
}

/// One workspace, two models whose compiled programs have the same number of slots and differ
/// only in a constant: each fit must use its own model. (The constants were written into the
/// scratch memory only when its size changed, so the second model was evaluated with the
/// first's exponent and reported a wrong optimum as converged.)
#[test]
fn a_shared_workspace_never_mixes_two_models_constants() {
    let half = build("CRS.4b", &[]).unwrap();
    let quarter = build("CRS.4c", &[]).unwrap();
    let x = logspace(-2.0, 2.0, 21);
    let truth = [2.0, 8.0, 3.0, 2.0];
    let mut shared = FitWorkspace::new();
    for model in [&half, &quarter, &half, &quarter] {
        let y = simulate(model.as_ref(), &x, &[], &truth);
        let data = CurveData {
            x: x.clone(),
            y,
            ..Default::default()
        };
        let spec = FitSpec::default().resolve(model.as_ref()).unwrap();
        let alone = fit_curve(model.as_ref(), &data, &spec, &mut FitWorkspace::new());
        let reused = fit_curve(model.as_ref(), &data, &spec, &mut shared);
        for ((a, b), t) in alone.parameters.iter().zip(&reused.parameters).zip(truth) {
            assert!(
                (a.estimate - t).abs() < 1e-6,
                "{}: {} alone",
                model.id(),
                a.estimate
            );
            assert_eq!(
                a.estimate,
                b.estimate,
                "{} {}: shared workspace",
                model.id(),
                a.name
            );
        }
    }
}
