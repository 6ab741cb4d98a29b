//! The 4PL speed benchmark through the public fitting path: 10,000 curves of 30 points
//! (`dr4pl_n10000.csv.gz` from the shared peer benchmark) fitted by [`fit_curve`] with the
//! catalogue's `4pl` (self-starter, Levenberg-Marquardt, standard errors, Wald intervals, derived
//! EC50, R², AICc, runs and replicates tests: the full report), on one thread.
//!
//! Only the fitting loop is timed, in process CPU time (reading and parsing the gzip file and the
//! comparisons are not). Prints one JSON line: fits per CPU-second (median of the repeats),
//! failures, |logEC50 error| against the generating truth, and each curve's sum of squares
//! against scipy's optimum (`dr4pl_n10000_scipy_fits.csv.gz`).
//!
//! ```text
//! cargo run --release -p ligand-fit --example bench_4pl [-- DATA_DIR]
//! ```
//!
//! Environment: `REPEATS` (default 5), `TOL` (the solver's `ftol = xtol`, default that of
//! `FitSpec::default()`, 1e-10; scipy's `curve_fit` uses 1.49e-8), `SOLVER_ONLY=0` to skip the second
//! timing, which runs the bare solver (`lm::minimize` on the same model over the same replicate
//! means, from the same self-starter values) to show what the fit driver adds. A counting allocator reports the
//! allocations per fit.
//!
//! Conventions: the data's `conc` is in M, so ligand's `logec50` is log10(M); the truth file's
//! model is `bottom + (top - bottom) / (1 + 10^(hill (log10(conc) - log_ic50)))`, so ligand's
//! `hill` is minus the truth's and its `logec50` is `log_ic50`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ligand_fit::catalogue::build;
use ligand_fit::curve::{fit_curve, CurveData, FitReport, FitSpec, FitStatus, FitWorkspace};
use ligand_fit::lm::{minimize, LeastSquaresProblem, LmWorkspace};
use ligand_fit::model::CurveModel;

/// The system allocator, counting allocations (to report allocations per fit).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The bare solver's problem: the same model and data as `fit_curve`'s, solved as `fit_curve`
/// solves them (over the replicate means, with the pure-error sum of squares as the constant),
/// with nothing around it (for the `solver_only` timing that shows what the fit driver adds).
struct Bare<'a> {
    model: &'a dyn CurveModel,
    /// Distinct log10 concentrations, mean responses, square roots of the replicate counts and
    /// the pure-error sum of squares.
    x: &'a [f64],
    y: &'a [f64],
    sqrt_w: &'a [f64],
    pure_error: f64,
    f: Vec<f64>,
    scratch: Vec<f64>,
}

/// A curve's replicate means (`x`, mean `y`, sqrt of the count) and pure-error sum of squares.
fn replicate_means(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let (mut xs, mut sums, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    let mut group = Vec::with_capacity(x.len());
    for &i in &order {
        if xs.last() != Some(&x[i]) {
            xs.push(x[i]);
            sums.push(0.0);
            counts.push(0.0);
        }
        *sums.last_mut().unwrap() += y[i];
        *counts.last_mut().unwrap() += 1.0;
        group.push((i, xs.len() - 1));
    }
    let means: Vec<f64> = sums.iter().zip(&counts).map(|(s, c)| s / c).collect();
    let pure_error = group.iter().map(|&(i, g)| (y[i] - means[g]).powi(2)).sum();
    let sqrt_w = counts.iter().map(|c: &f64| c.sqrt()).collect();
    (xs, means, sqrt_w, pure_error)
}

impl LeastSquaresProblem for Bare<'_> {
    fn n_params(&self) -> usize {
        4
    }
    fn n_residuals(&self) -> usize {
        self.x.len()
    }
    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        self.model
            .eval(self.x, &[], p, &mut self.f, None, &mut self.scratch);
        for (((r, y), f), w) in r.iter_mut().zip(self.y).zip(&self.f).zip(self.sqrt_w) {
            *r = w * (y - f);
        }
        true
    }
    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        self.model
            .eval(self.x, &[], p, &mut self.f, Some(jac), &mut self.scratch);
        let n = self.x.len();
        for col in jac.chunks_mut(n) {
            for (v, w) in col.iter_mut().zip(self.sqrt_w) {
                *v *= -w;
            }
        }
        true
    }
    fn constant_ss(&self) -> f64 {
        self.pure_error
    }
}

/// Process CPU time in seconds (Linux), so that other load on the machine does not count.
#[cfg(target_os = "linux")]
fn cpu_seconds() -> f64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut t = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec (two 64-bit fields on 64-bit Linux) into `t`.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0);
    t.tv_sec as f64 + 1e-9 * t.tv_nsec as f64
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds() -> f64 {
    f64::NAN
}

/// Rows of a gzipped CSV with a header, every field numeric.
fn read_gz_csv(path: &Path) -> Vec<Vec<f64>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .skip(1)
        .map(|l| l.unwrap().split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/data")
        });
    let repeats: usize = std::env::var("REPEATS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);

    let rows = read_gz_csv(&dir.join("dr4pl_n10000.csv.gz"));
    // truth: curve_id, top, bottom, log_ic50, hill, noise_sd
    let truth = read_gz_csv(&dir.join("dr4pl_n10000_truth.csv.gz"));
    // scipy: curve_id, top, bottom, log_ic50, hill, sse
    let scipy = read_gz_csv(&dir.join("dr4pl_n10000_scipy_fits.csv.gz"));
    let n_curves = truth.len();
    let mut curves: Vec<CurveData> = vec![CurveData::default(); n_curves];
    for r in &rows {
        let c = &mut curves[r[0] as usize];
        c.x.push(r[1]);
        c.y.push(r[2]);
    }
    let n_points: usize = curves.iter().map(|c| c.x.len()).sum();

    let model = build("4pl", &[]).unwrap();
    let tol: f64 = std::env::var("TOL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(ligand_fit::curve::FitSpec::default().lm.ftol);
    let spec = FitSpec {
        lm: ligand_fit::lm::LmOptions::default().with_tolerance(tol),
        ..FitSpec::default()
    };
    let resolved = spec.resolve(model.as_ref()).unwrap();
    let mut ws = FitWorkspace::new();
    let mut reports: Vec<FitReport> = Vec::with_capacity(n_curves);
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    let mut allocations = 0;
    for _ in 0..repeats {
        reports.clear();
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        let (t0, c0) = (Instant::now(), cpu_seconds());
        for c in &curves {
            reports.push(fit_curve(model.as_ref(), c, &resolved, &mut ws));
        }
        cpu.push(cpu_seconds() - c0);
        wall.push(t0.elapsed().as_secs_f64());
        allocations = ALLOCATIONS.load(Ordering::Relaxed) - a0;
    }

    // The bare solver from the same start and tolerance: the floor under `fit_curve`.
    let means: Vec<_> = curves
        .iter()
        .map(|c| {
            let logx: Vec<f64> = c.x.iter().map(|v| v.log10()).collect();
            replicate_means(&logx, &c.y)
        })
        .collect();
    let mut lm_ws = LmWorkspace::new();
    let mut solver_cpu = Vec::new();
    let solver_repeats = if std::env::var("SOLVER_ONLY").as_deref() == Ok("0") {
        0
    } else {
        repeats
    };
    for _ in 0..solver_repeats {
        let c0 = cpu_seconds();
        for (x, y, sqrt_w, pure_error) in &means {
            let p0 = model.initial(x, &[], y);
            let mut bare = Bare {
                model: model.as_ref(),
                x,
                y,
                sqrt_w,
                pure_error: *pure_error,
                f: vec![0.0; x.len()],
                scratch: Vec::new(),
            };
            let fit = minimize(&mut bare, &p0, None, &resolved.spec.lm, &mut lm_ws).unwrap();
            std::hint::black_box(fit);
        }
        solver_cpu.push(cpu_seconds() - c0);
    }

    let failed = reports
        .iter()
        .filter(|r| matches!(r.status, FitStatus::Failed | FitStatus::NotConverged))
        .count();
    let ambiguous = reports
        .iter()
        .filter(|r| r.status == FitStatus::Ambiguous)
        .count();
    let mut err: Vec<f64> = Vec::new();
    let mut err_scipy: Vec<f64> = Vec::new();
    let (mut worse, mut better, mut max_ratio) = (0usize, 0usize, 0.0f64);
    let mut gross = 0;
    for (k, r) in reports.iter().enumerate() {
        let log_ic50 = truth[k][3];
        if let Some(l) = r.value("logec50") {
            let e = (l - log_ic50).abs();
            gross += usize::from(e > 1.0);
            err.push(e);
        }
        err_scipy.push((scipy[k][3] - log_ic50).abs());
        let (ours, theirs) = (r.rss.unwrap_or(f64::INFINITY), scipy[k][5]);
        max_ratio = max_ratio.max(ours / theirs);
        if ours.is_nan() || ours > theirs * (1.0 + 1e-6) {
            worse += 1;
        } else if ours < theirs * (1.0 - 1e-6) {
            better += 1;
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let evaluations: Vec<f64> = reports
        .iter()
        .map(|r| r.diagnostics.evaluations as f64)
        .collect();
    let iterations: Vec<f64> = reports
        .iter()
        .map(|r| r.diagnostics.iterations as f64)
        .collect();
    let cpu_med = median(&mut cpu.clone());
    let wall_med = median(&mut wall.clone());
    let json = serde_json::json!({
        "task": "4PL fit",
        "tool": "ligand fit_curve (4pl, one thread)",
        "n_curves": n_curves,
        "n_points": n_points,
        "repeats": repeats,
        "tolerance": tol,
        "cpu_s": cpu,
        "wall_s": wall,
        "median_cpu_s": cpu_med,
        "median_wall_s": wall_med,
        "fits_per_cpu_s": n_curves as f64 / cpu_med,
        "fits_per_wall_s": n_curves as f64 / wall_med,
        "us_per_fit_cpu": 1e6 * cpu_med / n_curves as f64,
        "allocations_per_fit": allocations as f64 / n_curves as f64,
        "solver_only_us_per_fit_cpu": 1e6 * median(&mut solver_cpu) / n_curves as f64,
        "failed": failed,
        "ambiguous": ambiguous,
        "gross_gt1log": gross,
        "logec50_median_abs_err": median(&mut err.clone()),
        "logec50_mean_abs_err": mean(&err),
        "scipy_logic50_median_abs_err": median(&mut err_scipy.clone()),
        "scipy_logic50_mean_abs_err": mean(&err_scipy),
        "sse_worse_than_scipy_1e-6": worse,
        "sse_better_than_scipy_1e-6": better,
        "sse_max_ratio_to_scipy": max_ratio,
        "mean_evaluations": mean(&evaluations),
        "mean_iterations": mean(&iterations),
    });
    println!("{json}");
}
