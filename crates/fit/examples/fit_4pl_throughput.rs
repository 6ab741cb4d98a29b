//! Throughput of the Levenberg-Marquardt core on the peer benchmark: 10,000 four-parameter
//! logistic curves of 30 points (`../shared/bench/data/dr4pl_n10000.csv.gz`), with a native model
//! and an exact Jacobian, from the same data-driven start as the Python peers
//! (`bench_fit_python.py`). Checks every optimum against scipy's (`dr4pl_n10000_scipy_fits.csv.gz`).
//!
//! ```text
//! cargo run --release -p ligand-fit --example fit_4pl_throughput [-- DATA_DIR [TOL]]
//! ```

#![allow(clippy::needless_range_loop)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Instant;

use ligand_fit::lm::{minimize, LeastSquaresProblem, LmOptions, LmWorkspace};

const LN10: f64 = std::f64::consts::LN_10;

/// `y = bottom + (top - bottom) / (1 + 10^(hill (x - log_ic50)))` with `x = log10(conc)`;
/// parameters `[top, bottom, log_ic50, hill]`.
struct FourPl<'a> {
    x: &'a [f64],
    y: &'a [f64],
    /// `10^(hill (x - log_ic50))` at the parameters of the last residual evaluation; the solver
    /// asks for the Jacobian only at that point, so it can reuse them.
    u: Vec<f64>,
}

impl LeastSquaresProblem for FourPl<'_> {
    fn n_params(&self) -> usize {
        4
    }
    fn n_residuals(&self) -> usize {
        self.x.len()
    }
    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        let (top, bottom, l50, hill) = (p[0], p[1], p[2], p[3]);
        let span = top - bottom;
        let k = hill * LN10;
        for i in 0..self.x.len() {
            let u = (k * (self.x[i] - l50)).exp();
            self.u[i] = u;
            r[i] = self.y[i] - (bottom + span / (1.0 + u));
        }
        // No finiteness check needed: the solver rejects a trial point whose sum of squares is
        // not finite.
        true
    }
    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        let (top, bottom, l50, hill) = (p[0], p[1], p[2], p[3]);
        let span = top - bottom;
        let m = self.x.len();
        let (c0, rest) = jac.split_at_mut(m);
        let (c1, rest) = rest.split_at_mut(m);
        let (c2, c3) = rest.split_at_mut(m);
        for i in 0..m {
            let u = self.u[i];
            let d = 1.0 / (1.0 + u);
            let g = span * u * d * d * LN10;
            let dx = self.x[i] - l50;
            // Residual r = y - f: the Jacobian is -df/dp.
            c0[i] = -d;
            c1[i] = d - 1.0;
            c2[i] = -g * hill;
            c3[i] = g * dx;
        }
        true
    }
}

/// The Python peers' start: plateaus from the extreme dose means, IC50 from the mid crossing,
/// hill 1 (`initial_guess` in bench_fit_python.py). `x` must be sorted.
fn initial_guess(x: &[f64], y: &[f64]) -> [f64; 4] {
    let mut ux: Vec<f64> = Vec::new();
    let mut means: Vec<f64> = Vec::new();
    let mut i = 0;
    while i < x.len() {
        let mut j = i;
        let mut s = 0.0;
        while j < x.len() && x[j] == x[i] {
            s += y[j];
            j += 1;
        }
        ux.push(x[i]);
        means.push(s / (j - i) as f64);
        i = j;
    }
    let top = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bottom = means.iter().copied().fold(f64::INFINITY, f64::min);
    let half = 0.5 * (top + bottom);
    let mut l50 = {
        let mut s = ux.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        if n % 2 == 1 {
            s[n / 2]
        } else {
            0.5 * (s[n / 2 - 1] + s[n / 2])
        }
    };
    for k in 0..ux.len() - 1 {
        if (means[k] - half) * (means[k + 1] - half) <= 0.0 && means[k] != means[k + 1] {
            l50 = ux[k] + (half - means[k]) * (ux[k + 1] - ux[k]) / (means[k + 1] - means[k]);
            break;
        }
    }
    [top, bottom, l50, 1.0]
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

fn read_gz_csv(path: &PathBuf) -> Vec<Vec<f64>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .skip(1)
        .map(|l| l.unwrap().split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/data")
    });
    let tol: Option<f64> = args.next().map(|s| s.parse().unwrap());

    let rows = read_gz_csv(&dir.join("dr4pl_n10000.csv.gz"));
    let scipy = read_gz_csv(&dir.join("dr4pl_n10000_scipy_fits.csv.gz"));
    let n_curves = scipy.len();
    // Curves in id order, each sorted by concentration (stable).
    let mut curves: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); n_curves];
    for r in &rows {
        let c = &mut curves[r[0] as usize];
        c.0.push(r[1].log10());
        c.1.push(r[2]);
    }
    for c in curves.iter_mut() {
        let mut idx: Vec<usize> = (0..c.0.len()).collect();
        idx.sort_by(|&a, &b| c.0[a].total_cmp(&c.0[b]));
        *c = (
            idx.iter().map(|&i| c.0[i]).collect(),
            idx.iter().map(|&i| c.1[i]).collect(),
        );
    }
    let starts: Vec<[f64; 4]> = curves.iter().map(|(x, y)| initial_guess(x, y)).collect();

    let mut opts = LmOptions::default();
    if let Some(t) = tol {
        opts = opts.with_tolerance(t);
    }
    let mut ws = LmWorkspace::with_size(30, 4);
    let mut results = vec![(0.0, 0usize, false); n_curves];
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let (mut nfev, mut njev) = (0, 0);
    let repeats: usize = std::env::var("REPEATS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for _repeat in 0..repeats {
        let t0 = Instant::now();
        let c0 = cpu_seconds();
        nfev = 0;
        njev = 0;
        for (k, (x, y)) in curves.iter().enumerate() {
            let mut problem = FourPl {
                x,
                y,
                u: vec![0.0; x.len()],
            };
            match minimize(&mut problem, &starts[k], None, &opts, &mut ws) {
                Ok(fit) => {
                    nfev += fit.n_fev;
                    njev += fit.n_jev;
                    results[k] = (fit.rss, k, fit.termination.is_converged());
                }
                Err(_) => results[k] = (f64::NAN, k, false),
            }
        }
        best = best.min(t0.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - c0);
    }
    let not_converged = results.iter().filter(|r| !r.2).count();
    let worse = results
        .iter()
        .filter(|r| r.0.is_nan() || r.0 > scipy[r.1][5] * (1.0 + 1e-6) + 1e-12)
        .count();
    let better = results
        .iter()
        .filter(|r| r.0 < scipy[r.1][5] * (1.0 - 1e-6))
        .count();
    println!(
        "{n_curves} curves, one thread, best of {repeats}: wall {:.3} s = {:.0} fits/s, CPU {:.3} s = {:.0} \
         fits per CPU-second; mean nfev {:.1}, njev {:.1}; not converged {not_converged}; \
         SSE above scipy's by >1e-6 rel: {worse}; below: {better}",
        best,
        n_curves as f64 / best,
        best_cpu,
        n_curves as f64 / best_cpu,
        nfev as f64 / n_curves as f64,
        njev as f64 / n_curves as f64
    );
}
