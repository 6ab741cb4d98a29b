//! Variable-order BDF in backward-difference form (the NDF family).
//!
//! ## The method
//!
//! With step `h` and order `k`, the numerical differentiation formula of
//! Klopfenstein and Shampine is
//!
//! ```text
//! sum_{j=1..k} (1/j) nabla^j y_{n+1} = h f(t_{n+1}, y_{n+1}) + kappa_k gamma_k (y_{n+1} - y^(0)_{n+1})
//! ```
//!
//! where `nabla^j` are backward differences, `gamma_k = sum_{j=1..k} 1/j`, and
//! `y^(0) = sum_{j=0..k} nabla^j y_n` is the predictor (the interpolating
//! polynomial extrapolated). The `kappa` of Shampine and Reichelt (1997; the
//! values of MATLAB's `ode15s`) improve the error constant at little cost in
//! stability; `kappa = 0` gives plain BDF. Writing `d = y_{n+1} - y^(0)`,
//! the corrector equation becomes
//!
//! ```text
//! d - c f(t_{n+1}, y^(0) + d) + psi = 0,    c = h / alpha_k,
//! psi = (1/alpha_k) sum_{j=1..k} gamma_j nabla^j y_n,   alpha_k = (1 - kappa_k) gamma_k
//! ```
//!
//! solved by a modified Newton iteration with the matrix `I - c J`; `J` is
//! re-evaluated only when the iteration fails to converge with a stale one, and
//! the LU factors only when `c` changes. The local error is
//! `(kappa_k gamma_k + 1/(k+1)) d`.
//!
//! The state is kept as the differences `D_j = nabla^j y_n` (in units of the
//! current step), so that the step size is changed by the matrix `R U` of
//! Shampine and Reichelt, the order by adding or dropping a difference, and
//! the dense output is the interpolating polynomial
//! `y(t) = D_0 + sum_j D_j prod_{i<j} (t - t_n + i h) / ((i+1) h)`.
//! After `k + 1` steps of equal size the order and step size are chosen from
//! the error estimates at orders `k - 1`, `k` and `k + 1` (one of the
//! heuristics of `ode15s`, as scipy's `BDF` implements it).

use super::linalg::{rms_norm, Lu};
use super::sparse::SparseLu;
use super::{
    initial_step, min_step, Method, OdeProblem, Solver, SolverStats, StepError, Tolerances,
};

const MAX_ORDER: usize = 5;
const NEWTON_MAXITER: usize = 4;
/// CVODE's `msbj`: the most steps between Jacobian evaluations.
const MAX_STEPS_PER_JACOBIAN: usize = 50;
/// CVODE's `msbp`: the most steps between factorisations.
const MAX_STEPS_PER_FACTOR: usize = 20;
/// CVODE's `dgmax`: the relative change of `c` that forces a factorisation.
const MAX_GAMMA_CHANGE: f64 = 0.3;
/// CVODE's `nlscoef`: the Newton error allowed, as a fraction of the error test's bound.
const NEWTON_COEF: f64 = 0.1;
const MIN_FACTOR: f64 = 0.2;
const MAX_FACTOR: f64 = 10.0;
/// Shampine and Reichelt (1997), Table 1 (the NDF coefficients of `ode15s`).
const KAPPA: [f64; MAX_ORDER + 1] = [0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0];

struct Coefficients {
    gamma: [f64; MAX_ORDER + 1],
    alpha: [f64; MAX_ORDER + 1],
    error_const: [f64; MAX_ORDER + 2],
}

const fn coefficients() -> Coefficients {
    let mut gamma = [0.0; MAX_ORDER + 1];
    let mut alpha = [0.0; MAX_ORDER + 1];
    let mut error_const = [0.0; MAX_ORDER + 2];
    let mut k = 1;
    while k <= MAX_ORDER {
        gamma[k] = gamma[k - 1] + 1.0 / k as f64;
        k += 1;
    }
    let mut k = 0;
    while k <= MAX_ORDER {
        alpha[k] = (1.0 - KAPPA[k]) * gamma[k];
        error_const[k] = KAPPA[k] * gamma[k] + 1.0 / (k as f64 + 1.0);
        k += 1;
    }
    error_const[MAX_ORDER + 1] = 1.0 / (MAX_ORDER as f64 + 2.0);
    Coefficients {
        gamma,
        alpha,
        error_const,
    }
}

const COEF: Coefficients = coefficients();

/// The variable-order BDF integrator (see the module documentation).
#[derive(Default)]
pub struct Bdf {
    n: usize,
    nb: usize,
    /// Differences `D_0 .. D_{MAX_ORDER + 2}`, each of length `n`.
    d: Vec<f64>,
    order: usize,
    h: f64,
    n_equal_steps: usize,
    t: f64,
    t_prev: f64,
    newton: NewtonMatrix,
    jac_current: bool,
    lu_valid: bool,
    lu_c: f64,
    steps_since_jacobian: usize,
    steps_since_factor: usize,
    rtol: f64,
    atol: Vec<f64>,
    max_step: f64,
    /// The estimated contraction rate of the Newton iteration.
    rate: f64,
    y_predict: Vec<f64>,
    psi: Vec<f64>,
    y_new: Vec<f64>,
    corr: Vec<f64>,
    dy: Vec<f64>,
    f: Vec<f64>,
    scale: Vec<f64>,
    scratch: Vec<f64>,
    stats: SolverStats,
    last_nonfinite: bool,
    failed_t: f64,
    failed_y: Vec<f64>,
}

/// The Jacobian block and the factorisation of `I - c J`: dense for small
/// problems, sparse (over the structure the problem declares, see
/// [`OdeProblem::jacobian_pattern`]) for large ones.
#[derive(Debug)]
enum NewtonMatrix {
    /// `jac` row-major, `b x b`.
    Dense { jac: Vec<f64>, lu: Lu },
    /// `values` in the order of the problem's pattern.
    Sparse { values: Vec<f64>, lu: SparseLu },
}

impl Default for NewtonMatrix {
    fn default() -> NewtonMatrix {
        NewtonMatrix::Dense {
            jac: Vec::new(),
            lu: Lu::default(),
        }
    }
}

impl Bdf {
    #[inline]
    fn di(&self, j: usize) -> &[f64] {
        &self.d[j * self.n..(j + 1) * self.n]
    }

    /// Rescales the differences for a step size `factor` times the current
    /// one: `D[..=order] = (R U)^T D[..=order]`.
    fn change_d(&mut self, factor: f64) {
        let order = self.order;
        let n = self.n;
        let m = order + 1;
        let r = compute_r(order, factor);
        let u = &U[order];
        let mut ru = [[0.0; MAX_ORDER + 1]; MAX_ORDER + 1];
        for i in 0..m {
            for j in 0..m {
                let mut s = 0.0;
                for k in 0..m {
                    s += r[i][k] * u[k][j];
                }
                ru[i][j] = s;
            }
        }
        let tmp = &mut self.scratch[..m * n];
        tmp.fill(0.0);
        for i in 0..m {
            let out = &mut tmp[i * n..(i + 1) * n];
            for (j, row) in ru.iter().enumerate().take(m) {
                let w = row[i];
                if w != 0.0 {
                    let dj = &self.d[j * n..(j + 1) * n];
                    for (o, x) in out.iter_mut().zip(dj) {
                        *o += w * x;
                    }
                }
            }
        }
        self.d[..m * n].copy_from_slice(&self.scratch[..m * n]);
    }

    fn refresh_jacobian(&mut self, problem: &mut dyn OdeProblem, t: f64, y: &[f64]) {
        match &mut self.newton {
            NewtonMatrix::Dense { jac, .. } => problem.jacobian(t, y, jac),
            NewtonMatrix::Sparse { values, .. } => problem.jacobian_values(t, y, values),
        }
        self.stats.jacobian_evals += 1;
        self.jac_current = true;
        self.lu_valid = false;
        self.rate = 1.0;
        self.steps_since_jacobian = 0;
    }

    fn factor(&mut self, c: f64) -> Result<(), usize> {
        let nb = self.nb;
        self.stats.lu_factorizations += 1;
        self.lu_c = c;
        self.steps_since_factor = 0;
        // A new matrix: the contraction rate must be measured afresh.
        self.rate = 1.0;
        let r = match &mut self.newton {
            NewtonMatrix::Dense { jac, lu } => {
                let m = lu.matrix_mut();
                for (i, (mrow, jrow)) in m.chunks_mut(nb).zip(jac.chunks(nb)).enumerate() {
                    for (x, j) in mrow.iter_mut().zip(jrow) {
                        *x = -c * j;
                    }
                    mrow[i] += 1.0;
                }
                lu.factor()
            }
            NewtonMatrix::Sparse { values, lu } => lu.factor(c, values),
        };
        self.lu_valid = r.is_ok();
        r
    }

    /// Newton iteration on the corrector equation. Returns whether it
    /// converged and the number of iterations; `y_new` and `corr` hold the
    /// result.
    ///
    /// The convergence test is CVODE's: with `rho` an estimate of the
    /// contraction rate (kept from step to step, reset to 1 with a new
    /// Jacobian), the iteration has converged when
    /// `|delta| min(1, rho) <= 0.1 / C_k`, a tenth of the largest correction
    /// the error test accepts (`C_k` the error constant). Unlike a test that
    /// needs two iterates to estimate the rate, this accepts a single
    /// iteration when the previous steps contracted fast, which halves the
    /// right-hand side evaluations on most problems.
    fn solve_corrector(
        &mut self,
        problem: &mut dyn OdeProblem,
        t_new: f64,
        c: f64,
    ) -> (bool, usize) {
        let n = self.n;
        let nb = self.nb;
        self.y_new.copy_from_slice(&self.y_predict);
        self.corr.fill(0.0);
        let conv_tol = NEWTON_COEF / COEF.error_const[self.order];
        let mut rho = self.rate;
        let mut dy_norm_old = f64::NAN;
        self.last_nonfinite = false;
        for k in 0..NEWTON_MAXITER {
            problem.rhs(t_new, &self.y_new, &mut self.f);
            self.stats.rhs_evals += 1;
            self.stats.newton_iterations += 1;
            if !self.f.iter().all(|v| v.is_finite()) {
                self.last_nonfinite = true;
                self.failed_t = t_new;
                self.failed_y.clear();
                self.failed_y.extend_from_slice(&self.y_new);
                self.rate = rho;
                return (false, k + 1);
            }
            for i in 0..n {
                self.dy[i] = c * self.f[i] - self.psi[i] - self.corr[i];
            }
            for block in self.dy.chunks_mut(nb) {
                match &mut self.newton {
                    NewtonMatrix::Dense { lu, .. } => lu.solve(block),
                    NewtonMatrix::Sparse { lu, .. } => lu.solve(block),
                }
            }
            if c != self.lu_c {
                // The factorisation is of I - c' J: rescale the update
                // (CVODE's correction for gamma / gamma').
                let w = 2.0 / (1.0 + c / self.lu_c);
                for v in self.dy.iter_mut() {
                    *v *= w;
                }
            }
            let dy_norm = rms_norm(&self.dy, &self.scale);
            if !dy_norm.is_finite() {
                self.rate = rho;
                return (false, k + 1);
            }
            if k > 0 {
                let r = dy_norm / dy_norm_old;
                if r > 2.0 {
                    self.rate = rho;
                    return (false, k + 1);
                }
                rho = (0.3 * rho).max(r);
            }
            for i in 0..n {
                self.y_new[i] += self.dy[i];
                self.corr[i] += self.dy[i];
            }
            if dy_norm * rho.min(1.0) <= conv_tol {
                self.rate = rho;
                return (true, k + 1);
            }
            dy_norm_old = dy_norm;
        }
        self.rate = rho;
        (false, NEWTON_MAXITER)
    }
}

/// The matrix `R` of Shampine and Reichelt for a step-size ratio `factor`.
const fn compute_r(order: usize, factor: f64) -> [[f64; MAX_ORDER + 1]; MAX_ORDER + 1] {
    let mut m = [[0.0; MAX_ORDER + 1]; MAX_ORDER + 1];
    let mut j = 0;
    while j <= order {
        m[0][j] = 1.0;
        j += 1;
    }
    let mut i = 1;
    while i <= order {
        let mut j = 1;
        while j <= order {
            m[i][j] = (i as f64 - 1.0 - factor * j as f64) / i as f64;
            j += 1;
        }
        i += 1;
    }
    // Cumulative product down each column.
    let mut i = 1;
    while i <= order {
        let mut j = 0;
        while j <= order {
            m[i][j] *= m[i - 1][j];
            j += 1;
        }
        i += 1;
    }
    m
}

/// `U = R(order, 1)` for each order, computed at compile time.
const U: [[[f64; MAX_ORDER + 1]; MAX_ORDER + 1]; MAX_ORDER + 1] = {
    let mut u = [[[0.0; MAX_ORDER + 1]; MAX_ORDER + 1]; MAX_ORDER + 1];
    let mut k = 0;
    while k <= MAX_ORDER {
        u[k] = compute_r(k, 1.0);
        k += 1;
    }
    u
};

impl Solver for Bdf {
    fn method(&self) -> Method {
        Method::Bdf
    }

    fn init(
        &mut self,
        problem: &mut dyn OdeProblem,
        t0: f64,
        y0: &[f64],
        tol: &Tolerances,
    ) -> Result<(), StepError> {
        let n = problem.dim();
        let nb = problem.block();
        let pattern = problem.jacobian_pattern();
        let fits = match (&self.newton, pattern) {
            (NewtonMatrix::Dense { .. }, None) => true,
            (NewtonMatrix::Sparse { values, .. }, Some(p)) => values.len() == p.len(),
            _ => false,
        };
        if self.n != n || self.nb != nb || !fits {
            self.newton = match pattern {
                None => NewtonMatrix::Dense {
                    jac: vec![0.0; nb * nb],
                    lu: Lu::with_explicit_inverse(nb),
                },
                Some(p) => {
                    let p: Vec<(usize, usize)> =
                        p.iter().map(|&(r, k)| (r as usize, k as usize)).collect();
                    NewtonMatrix::Sparse {
                        values: vec![0.0; p.len()],
                        lu: SparseLu::new(nb, &p),
                    }
                }
            };
        }
        if self.n != n || self.nb != nb {
            self.n = n;
            self.nb = nb;
            self.d = vec![0.0; (MAX_ORDER + 3) * n];
            for v in [
                &mut self.y_predict,
                &mut self.psi,
                &mut self.y_new,
                &mut self.corr,
                &mut self.dy,
                &mut self.f,
                &mut self.scale,
            ] {
                *v = vec![0.0; n];
            }
            self.scratch = vec![0.0; (MAX_ORDER + 1) * n.max(2)];
        }
        self.rtol = tol.rtol;
        self.atol.clear();
        self.atol.extend_from_slice(&tol.atol);
        self.max_step = tol.max_step;
        self.rate = 1.0;
        self.t = t0;
        self.t_prev = t0;
        self.failed_y.clear();
        self.order = 1;
        self.n_equal_steps = 0;
        self.d.fill(0.0);
        self.d[..n].copy_from_slice(y0);
        problem.rhs(t0, y0, &mut self.f);
        self.stats.rhs_evals += 2;
        if !self.f.iter().all(|v| v.is_finite()) {
            return Err(StepError::NonFinite { t: t0 });
        }
        let f0 = std::mem::take(&mut self.f);
        self.h = initial_step(problem, t0, y0, &f0, 1, tol, &mut self.scratch);
        self.f = f0;
        for i in 0..n {
            self.d[n + i] = self.f[i] * self.h;
        }
        self.refresh_jacobian(problem, t0, y0);
        Ok(())
    }

    fn step(&mut self, problem: &mut dyn OdeProblem, t_stop: f64) -> Result<(), StepError> {
        if self.n == 0 {
            // Nothing to integrate (a model without state variables): time
            // simply advances.
            self.t_prev = self.t;
            self.t = t_stop.max(self.t);
            return Ok(());
        }
        let n = self.n;
        let t = self.t;
        let min_h = min_step(t);
        if t_stop - t <= min_h {
            // Nothing left to integrate: a degenerate step that keeps the state.
            self.t_prev = t;
            self.t = t_stop.max(t);
            return Ok(());
        }
        if self.h > self.max_step {
            let f = self.max_step / self.h;
            self.change_d(f);
            self.h = self.max_step;
            self.n_equal_steps = 0;
        }
        let mut h_abs = self.h;
        loop {
            if h_abs < min_h {
                return Err(if self.last_nonfinite {
                    StepError::NonFinite { t }
                } else {
                    StepError::StepSizeTooSmall { t, h: h_abs }
                });
            }
            let mut t_new = t + h_abs;
            if t_new > t_stop || t_stop - t_new < min_h {
                t_new = t_stop;
                let f = (t_new - t) / h_abs;
                self.change_d(f);
                self.n_equal_steps = 0;
            }
            h_abs = t_new - t;
            self.h = h_abs;
            let order = self.order;

            // Predictor and the history term psi.
            {
                let (yp, d) = (&mut self.y_predict, &self.d);
                yp.copy_from_slice(&d[..n]);
                for j in 1..=order {
                    let dj = &d[j * n..(j + 1) * n];
                    for (y, x) in yp.iter_mut().zip(dj) {
                        *y += x;
                    }
                }
                let a = COEF.alpha[order];
                self.psi.fill(0.0);
                for j in 1..=order {
                    let g = COEF.gamma[j] / a;
                    let dj = &d[j * n..(j + 1) * n];
                    for (p, x) in self.psi.iter_mut().zip(dj) {
                        *p += g * x;
                    }
                }
                for i in 0..n {
                    self.scale[i] = self.atol[i] + self.rtol * self.y_predict[i].abs();
                }
            }

            let c = h_abs / COEF.alpha[order];
            let mut converged = false;
            let mut n_iter = 0;
            loop {
                // CVODE's rules: a Jacobian at most 50 steps old; a new
                // factorisation when c moved by more than 30% or 20 steps
                // passed (in between, the Newton update is rescaled).
                if self.steps_since_jacobian >= MAX_STEPS_PER_JACOBIAN && !self.jac_current {
                    let yp = std::mem::take(&mut self.y_predict);
                    self.refresh_jacobian(problem, t_new, &yp);
                    self.y_predict = yp;
                }
                if (!self.lu_valid
                    || (c / self.lu_c - 1.0).abs() > MAX_GAMMA_CHANGE
                    || self.steps_since_factor >= MAX_STEPS_PER_FACTOR)
                    && self.factor(c).is_err()
                {
                    {
                        if self.jac_current {
                            break;
                        }
                        let yp = std::mem::take(&mut self.y_predict);
                        self.refresh_jacobian(problem, t_new, &yp);
                        self.y_predict = yp;
                        continue;
                    }
                }
                let (ok, it) = self.solve_corrector(problem, t_new, c);
                n_iter = it;
                if ok {
                    converged = true;
                    break;
                }
                self.stats.newton_failures += 1;
                if self.jac_current {
                    break;
                }
                let yp = std::mem::take(&mut self.y_predict);
                self.refresh_jacobian(problem, t_new, &yp);
                self.y_predict = yp;
            }

            if !converged {
                self.stats.rejected_steps += 1;
                let factor = 0.5;
                h_abs *= factor;
                self.change_d(factor);
                self.h = h_abs;
                self.n_equal_steps = 0;
                self.lu_valid = false;
                continue;
            }

            let safety =
                0.9 * (2 * NEWTON_MAXITER + 1) as f64 / (2 * NEWTON_MAXITER + n_iter) as f64;
            for i in 0..n {
                self.scale[i] = self.atol[i] + self.rtol * self.y_new[i].abs();
            }
            let error_norm = COEF.error_const[order] * rms_norm(&self.corr, &self.scale);
            if error_norm > 1.0 {
                self.stats.rejected_steps += 1;
                let factor =
                    (safety * error_norm.powf(-1.0 / (order as f64 + 1.0))).max(MIN_FACTOR);
                h_abs *= factor;
                self.change_d(factor);
                self.h = h_abs;
                self.n_equal_steps = 0;
                // The Newton iteration converged: the Jacobian is fine, only
                // the factorisation must follow the new step size.
                continue;
            }

            // Accepted.
            self.stats.steps += 1;
            self.steps_since_jacobian += 1;
            self.steps_since_factor += 1;
            self.n_equal_steps += 1;
            self.t_prev = t;
            self.t = t_new;
            self.jac_current = false;
            // D^{k+2} = d - D^{k+1}; D^{k+1} = d; D^j += D^{j+1} for j = k..0.
            {
                let d = &mut self.d;
                for i in 0..n {
                    d[(order + 2) * n + i] = self.corr[i] - d[(order + 1) * n + i];
                    d[(order + 1) * n + i] = self.corr[i];
                }
                for j in (0..=order).rev() {
                    let (lo, hi) = d.split_at_mut((j + 1) * n);
                    let dj = &mut lo[j * n..];
                    for (x, y) in dj.iter_mut().zip(&hi[..n]) {
                        *x += y;
                    }
                }
            }
            if self.n_equal_steps < order + 1 {
                return Ok(());
            }
            let error_m_norm = if order > 1 {
                COEF.error_const[order - 1] * rms_norm(self.di(order), &self.scale)
            } else {
                f64::INFINITY
            };
            let error_p_norm = if order < MAX_ORDER {
                COEF.error_const[order + 1] * rms_norm(self.di(order + 2), &self.scale)
            } else {
                f64::INFINITY
            };
            let norms = [error_m_norm, error_norm, error_p_norm];
            let mut best = 1;
            let mut best_factor = f64::NEG_INFINITY;
            for (i, e) in norms.iter().enumerate() {
                let f = e.powf(-1.0 / (order + i) as f64);
                if f > best_factor {
                    best_factor = f;
                    best = i;
                }
            }
            self.order = order + best - 1;
            let factor = (safety * best_factor).min(MAX_FACTOR);
            self.h *= factor;
            self.change_d(factor);
            self.n_equal_steps = 0;
            return Ok(());
        }
    }

    fn t(&self) -> f64 {
        self.t
    }

    fn t_prev(&self) -> f64 {
        self.t_prev
    }

    fn y(&self) -> &[f64] {
        &self.d[..self.n]
    }

    fn interpolate(&self, t: f64, out: &mut [f64]) {
        let n = self.n;
        out[..n].copy_from_slice(&self.d[..n]);
        let mut p = 1.0;
        for j in 1..=self.order {
            p *= (t - (self.t - self.h * (j - 1) as f64)) / (self.h * j as f64);
            let dj = &self.d[j * n..(j + 1) * n];
            for (o, x) in out.iter_mut().zip(dj) {
                *o += p * x;
            }
        }
    }

    fn stats(&self) -> SolverStats {
        self.stats
    }

    fn failed_point(&self) -> Option<(f64, &[f64])> {
        (!self.failed_y.is_empty()).then_some((self.failed_t, &self.failed_y[..]))
    }
}
