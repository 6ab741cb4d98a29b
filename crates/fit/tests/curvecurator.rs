//! CurveCurator's published fits of the CTRP viability curves (40 uM subset) reproduced with
//! ligand's `4pl`.
//!
//! Data: `tests/data/curvecurator/` (every fourth of the 1211 curves; see its README). The
//! fitting problem is rebuilt exactly as CurveCurator 0.6 sets it up (`quantification.fit_model`
//! with the run's `parameters_40.0.toml`):
//!
//! - model `y = (front - back) / (1 + 10^(slope (x + pEC50))) + back`, `x = log10(dose in M)`;
//!   this is ligand's `4pl` with `bottom = back`, `top = front`, `logec50 = -pEC50` and
//!   `hill = -slope`;
//! - the control counts as one point at `x = -inf` with `y = 1` (here `x = -1e6`, where
//!   `10^(slope (x + pEC50))` is exactly 0 for every slope CurveCurator allows);
//! - `interpolation = true`: the measured points plus linearly interpolated points on a grid
//!   that halves every dose gap wider than `log10(10/3)/2` (the grid includes the measured doses,
//!   so they count twice), restricted to the measured range when a curve has missing values;
//! - ordinary least squares within CurveCurator's bounds: `pEC50` within 2 of the (negated)
//!   log doses, `slope` in [0.01, 10], `front` and `back` in [1e-4, 1e6].
//!
//! CurveCurator minimises with L-BFGS-B (scipy defaults) from the best of its guesses with three
//! starting slopes; ligand fits from its own self-starter. A bound is **active** for a curve
//! when CurveCurator's estimate lies within a relative 1e-6 of it (`pEC50` within 1e-6 of its
//! bound); the comparison is over the curves with no active bound.

use std::path::PathBuf;

use ligand_fit::catalogue::build;
use ligand_fit::curve::{fit_curve, CurveData, FitSpec, FitStatus, FitWorkspace};
use ligand_fit::lm::LmOptions;
use ligand_fit::model::CurveModel;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/curvecurator")
}

/// Where the control (dose 0, `x = -inf`) is placed.
const X_CONTROL: f64 = -1e6;

/// CurveCurator's bounds (`models.py`: `PEC50_DELTA = 2`, `SLOPE_LIMITS = (0.01, 10)`,
/// `Y_LIMITS = (1e-4, 1e6)`).
const PEC50_DELTA: f64 = 2.0;
const SLOPE_LIMITS: (f64, f64) = (0.01, 10.0);
const Y_LIMITS: (f64, f64) = (1e-4, 1e6);

/// The run's settings read from `parameters_40.0.toml`: log10 doses (M) of the non-control
/// experiments, and whether interpolation is on.
fn settings() -> (Vec<f64>, bool) {
    let text = std::fs::read_to_string(data_dir().join("parameters_40.0.toml")).unwrap();
    let value = |key: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(key) && l.contains('='))
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .split('#')
            .next()
            .unwrap()
            .trim()
            .to_string()
    };
    let list = |s: String| -> Vec<f64> {
        s.trim_matches(['[', ']'])
            .split(',')
            .map(|v| v.trim().parse().unwrap())
            .collect()
    };
    let doses = list(value("doses"));
    let scale: f64 = value("dose_scale").trim_matches('\'').parse().unwrap();
    let controls = list(value("control_experiment"));
    assert_eq!(controls, [0.0]);
    assert_eq!(doses[0], 0.0);
    let x: Vec<f64> = doses[1..].iter().map(|d| (d * scale).log10()).collect();
    (x, value("interpolation") == "true")
}

/// CurveCurator's `build_interpolation_points`: halve every gap of at least `log10(10/3)/2`
/// until none is left; the result includes the doses themselves.
fn interpolation_points(x: &[f64]) -> Vec<f64> {
    let size = (10.0f64 / 3.0).log10() / 2.0;
    let mut x = x.to_vec();
    for _ in 0..11 {
        x.sort_by(f64::total_cmp);
        let gaps: Vec<usize> = (0..x.len() - 1)
            .filter(|&i| x[i + 1] - x[i] >= size)
            .collect();
        if gaps.is_empty() {
            return x;
        }
        let halves: Vec<f64> = gaps.iter().map(|&i| 0.5 * (x[i] + x[i + 1])).collect();
        x.extend(halves);
    }
    panic!("interpolation grid did not settle");
}

/// Linear interpolation through sorted points (scipy's `interp1d`, no extrapolation needed).
fn interp(xs: &[f64], ys: &[f64], at: f64) -> f64 {
    let k = xs.partition_point(|&v| v < at);
    if k < xs.len() && xs[k] == at {
        return ys[k];
    }
    let (x0, x1, y0, y1) = (xs[k - 1], xs[k], ys[k - 1], ys[k]);
    y0 + (at - x0) * (y1 - y0) / (x1 - x0)
}

struct Curve {
    name: String,
    /// Measured points (finite responses only), control excluded.
    x: Vec<f64>,
    y: Vec<f64>,
    /// CurveCurator's pEC50, slope, front, back.
    cc: [f64; 4],
    pec50_error: f64,
    rmse: f64,
    regulation: String,
}

fn load() -> Vec<Curve> {
    let (x_doses, _) = settings();
    let text = std::fs::read_to_string(data_dir().join("curves_40.0_subset.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for (j, &xd) in x_doses.iter().enumerate() {
                let v = num(f[col(&format!("Ratio {}", j + 1))]);
                if v.is_finite() {
                    x.push(xd);
                    y.push(v);
                }
            }
            Curve {
                name: f[col("Name")].to_string(),
                x,
                y,
                cc: [
                    num(f[col("pEC50")]),
                    num(f[col("Curve Slope")]),
                    num(f[col("Curve Front")]),
                    num(f[col("Curve Back")]),
                ],
                pec50_error: num(f[col("pEC50 Error")]),
                rmse: num(f[col("Curve RMSE")]),
                regulation: f[col("Curve Regulation")].to_string(),
            }
        })
        .collect()
}

/// The points CurveCurator fits: control, measured, interpolated.
fn fit_points(c: &Curve, grid: &[f64], interpolation: bool) -> CurveData {
    let mut x = vec![X_CONTROL];
    let mut y = vec![1.0];
    x.extend(&c.x);
    y.extend(&c.y);
    if interpolation {
        let (lo, hi) = (c.x[0], c.x[c.x.len() - 1]);
        for &g in grid.iter().filter(|&&g| g >= lo && g <= hi) {
            x.push(g);
            y.push(interp(&c.x, &c.y, g));
        }
    }
    CurveData {
        x,
        y,
        ..Default::default()
    }
}

/// Starting points: ligand's self-starter (on the measured points, the slope made falling as
/// CurveCurator's bounds require), then CurveCurator's "exhaustive" strategy: each of its
/// piecewise guesses (`LogisticModel.alternative_guesses`: a flat line, a step before the first
/// dose, a step between each pair of doses, a step after the last) with slopes 0.01, 1 and 10.
fn starting_points(model: &dyn CurveModel, c: &Curve) -> Vec<[f64; 4]> {
    let s = model.initial(&c.x, &[], &c.y);
    let mut starts = vec![[s[0], s[1], s[2], -s[3].abs()]];
    let (x, y) = (&c.x, &c.y);
    let n = x.len();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let y_mean = mean(y);
    // (logec50, front, back), CurveCurator's order.
    let mut guesses = vec![
        (0.5 * (x[(n - 1) / 2] + x[n / 2]), y_mean, y_mean),
        (x[0] - 0.5 * (x[1] - x[0]), 1.0, y_mean),
    ];
    for k in 1..n {
        guesses.push((0.5 * (x[k - 1] + x[k]), mean(&y[..k]), mean(&y[k..])));
    }
    guesses.push((x[n - 1] + 0.5 * (x[n - 1] - x[n - 2]), y_mean, 1.0));
    let clamp_y = |v: f64| v.clamp(Y_LIMITS.0, Y_LIMITS.1);
    let as_ligand =
        |(l, front, back): (f64, f64, f64), slope: f64| [clamp_y(back), clamp_y(front), l, -slope];
    for g in &guesses {
        for slope in [SLOPE_LIMITS.0, 1.0, SLOPE_LIMITS.1] {
            starts.push(as_ligand(*g, slope));
        }
    }
    starts
}

/// ligand's 4pl parameters (bottom, top, logec50, hill) from CurveCurator's.
fn to_ligand(cc: [f64; 4]) -> [f64; 4] {
    let [pec50, slope, front, back] = cc;
    [back, front, -pec50, -slope]
}

fn sse(model: &dyn CurveModel, d: &CurveData, p: &[f64]) -> f64 {
    let mut f = vec![0.0; d.x.len()];
    model.eval(&d.x, &[], p, &mut f, None, &mut Vec::new());
    d.y.iter().zip(&f).map(|(y, f)| (y - f).powi(2)).sum()
}

/// Whether CurveCurator's estimate sits on one of its bounds.
fn bound_active(cc: [f64; 4], pec50_bounds: (f64, f64)) -> bool {
    let [pec50, slope, front, back] = cc;
    let near = |v: f64, b: f64| (v - b).abs() <= 1e-6 * b.abs().max(1.0);
    near(pec50, pec50_bounds.0)
        || near(pec50, pec50_bounds.1)
        || near(slope, SLOPE_LIMITS.0)
        || near(slope, SLOPE_LIMITS.1)
        || (front - Y_LIMITS.0).abs() <= 1e-6 * Y_LIMITS.0
        || (back - Y_LIMITS.0).abs() <= 1e-6 * Y_LIMITS.0
        || near(front, Y_LIMITS.1)
        || near(back, Y_LIMITS.1)
}

#[derive(Default)]
struct Tally {
    interior: usize,
    within: [usize; 4],
    ligand_lower_sse: usize,
    ligand_higher_sse: Vec<String>,
    disagree: Vec<String>,
    not_converged: Vec<String>,
    self_start_best: usize,
    same_optimum: usize,
    worst_same: f64,
    short: Vec<String>,
    significant: usize,
    significant_within_1e4: usize,
}

/// CurveCurator's data reconstruction checks out on every curve (its reported RMSE, over the
/// control and the measured points, is reproduced from its own estimates to 1e-12), and on every
/// curve with no active bound ligand's pEC50 agrees with CurveCurator's: within 1e-3 wherever
/// CurveCurator reached the optimum (its sum of squares within 1e-7 of ligand's, relative); where
/// it did not, ligand's sum of squares is the lower one. ligand is never worse.
#[test]
fn curvecurator_ctrp_pec50() {
    let (x_doses, interpolation) = settings();
    assert!(interpolation);
    let grid = interpolation_points(&x_doses);
    assert_eq!(grid.len(), 31);
    let neg: Vec<f64> = x_doses.iter().map(|v| -v).collect();
    let pec50_bounds = (
        neg.iter().cloned().fold(f64::INFINITY, f64::min) - PEC50_DELTA,
        neg.iter().cloned().fold(f64::NEG_INFINITY, f64::max) + PEC50_DELTA,
    );
    let model = build("4pl", &[]).unwrap();
    let curves = load();
    assert_eq!(curves.len(), 303);
    let mut ws = FitWorkspace::new();
    let mut t = Tally::default();
    let mut worst_rmse = 0.0f64;
    let mut rows = String::new();
    for c in &curves {
        // CurveCurator's RMSE: control and measured points, at its estimates.
        let measured = fit_points(c, &grid, false);
        let rmse =
            (sse(model.as_ref(), &measured, &to_ligand(c.cc)) / measured.x.len() as f64).sqrt();
        worst_rmse = worst_rmse.max((rmse - c.rmse).abs());
        if bound_active(c.cc, pec50_bounds) {
            continue;
        }
        t.interior += 1;
        let data = fit_points(c, &grid, interpolation);
        let starts = starting_points(model.as_ref(), c);
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut self_start_sse = f64::NAN;
        for (k, start) in starts.iter().enumerate() {
            let spec = FitSpec {
                start: ["bottom", "top", "logec50", "hill"]
                    .iter()
                    .zip(start)
                    .map(|(n, v)| (n.to_string(), *v))
                    .collect(),
                bounds: vec![
                    ("bottom".into(), Y_LIMITS.0, Y_LIMITS.1),
                    ("top".into(), Y_LIMITS.0, Y_LIMITS.1),
                    ("logec50".into(), -pec50_bounds.1, -pec50_bounds.0),
                    ("hill".into(), -SLOPE_LIMITS.1, -SLOPE_LIMITS.0),
                ],
                x_is_log10: true,
                lm: LmOptions::default().with_tolerance(1e-12),
                ..FitSpec::default()
            };
            let resolved = spec.resolve(model.as_ref()).unwrap();
            let r = fit_curve(model.as_ref(), &data, &resolved, &mut ws);
            let p: Vec<f64> = r.parameters.iter().map(|p| p.estimate).collect();
            let converged = matches!(r.status, FitStatus::Converged | FitStatus::Ambiguous);
            let value = if converged {
                sse(model.as_ref(), &data, &p)
            } else {
                f64::INFINITY
            };
            if k == 0 {
                self_start_sse = value;
            }
            if best.as_ref().is_none_or(|b| value < b.0) {
                best = Some((value, p));
            }
        }
        let (best_sse, ours) = best.unwrap();
        if !best_sse.is_finite() {
            t.not_converged.push(c.name.clone());
            continue;
        }
        if self_start_sse <= best_sse * (1.0 + 1e-9) {
            t.self_start_best += 1;
        }
        let pec50 = -ours[2];
        let (sse_ours, sse_cc) = (
            sse(model.as_ref(), &data, &ours),
            sse(model.as_ref(), &data, &to_ligand(c.cc)),
        );
        let rel = (sse_cc - sse_ours) / sse_ours;
        let d = (pec50 - c.cc[0]).abs();
        for (k, tol) in [1e-6, 1e-4, 1e-3, 1e-2].iter().enumerate() {
            if d <= *tol {
                t.within[k] += 1;
            }
        }
        if rel < -1e-9 {
            t.ligand_higher_sse.push(format!(
                "{}: ligand pEC50 {pec50} SSE {sse_ours}, CurveCurator {} SSE {sse_cc}",
                c.name, c.cc[0]
            ));
        } else if rel > 1e-7 {
            t.ligand_lower_sse += 1;
            t.short.push(format!(
                "{}: pEC50 ligand {pec50:.5} CurveCurator {:.5}, CurveCurator's SSE {rel:.1e} above",
                c.name, c.cc[0]
            ));
        } else if d > 1e-3 {
            t.disagree.push(format!(
                "{}: ligand pEC50 {pec50}, CurveCurator {} (SSE {sse_ours} vs {sse_cc})",
                c.name, c.cc[0]
            ));
        }
        if rel <= 1e-7 {
            t.same_optimum += 1;
            t.worst_same = t.worst_same.max(d);
        }
        if c.regulation == "down" || c.regulation == "up" {
            t.significant += 1;
            if d <= 1e-4 {
                t.significant_within_1e4 += 1;
            }
        }
        rows += &format!(
            "{:<24} {:>5} pEC50 {:>9.5} vs {:>9.5} (|d| {:.1e}, CC error {:.2e})  SSE(CC)/SSE(ligand) - 1 = {:.1e}\n",
            c.name, c.regulation, pec50, c.cc[0], d, c.pec50_error, rel
        );
    }
    println!("{rows}");
    println!(
        "{} curves, {} with no active bound; |pEC50 difference| <= 1e-6: {}, <= 1e-4: {}, <= 1e-3: {}, <= 1e-2: {}; \
         CurveCurator short of the optimum (SSE above ligand's by > 1e-7): {}; significant curves (up/down) {} of which {} within 1e-4; \
         ligand's self-start alone reached the best fit on {}; worst RMSE reconstruction error {worst_rmse:.1e}",
        curves.len(),
        t.interior,
        t.within[0],
        t.within[1],
        t.within[2],
        t.within[3],
        t.ligand_lower_sse,
        t.significant,
        t.significant_within_1e4,
        t.self_start_best
    );
    println!(
        "same optimum (SSEs within 1e-7): {} curves, largest |pEC50 difference| {:.1e}\nCurveCurator short of the optimum:\n{}",
        t.same_optimum,
        t.worst_same,
        t.short.join("\n")
    );
    assert!(worst_rmse <= 1e-12, "RMSE reconstruction {worst_rmse:e}");
    assert!(t.not_converged.is_empty(), "{:#?}", t.not_converged);
    assert!(t.ligand_higher_sse.is_empty(), "{:#?}", t.ligand_higher_sse);
    assert!(t.disagree.is_empty(), "{:#?}", t.disagree);
}
