//! One-step methods: the explicit Dormand-Prince 5(4) ([`Erk`]) and the
//! L-stable TR-BDF2 ([`Sdirk`]).
//!
//! ## Dormand-Prince 5(4)
//!
//! Seven stages with the first-same-as-last property (six new right-hand side
//! evaluations per step), the order-5 solution propagated, the embedded
//! order-4 solution giving the error estimate, and the order-4 continuous
//! extension of Hairer, Norsett and Wanner (*Solving ODEs I*, II.6, the
//! `contd5` of their code DOPRI5). The coefficients are those of Dormand and
//! Prince (1980).
//!
//! ## TR-BDF2
//!
//! A trapezoidal stage to `t + gamma h` followed by a BDF2 stage to `t + h`,
//! `gamma = 2 - sqrt 2`, written as the ESDIRK tableau
//!
//! ```text
//! 0      |
//! gamma  | d      d
//! 1      | w      w      d          d = gamma / 2,  w = sqrt(2) / 4
//! -------+---------------------
//!        | w      w      d          (order 2, stiffly accurate, L-stable)
//!        | (1-w)/3 (3w+1)/3 d/3     (order 3, the error estimate)
//! ```
//!
//! Both implicit stages share the Newton matrix `I - d h J`. The raw error
//! estimate is filtered through `(I - d h J)^{-1}` (Hosea and Shampine 1996),
//! which keeps it bounded on stiff components; dense output is the cubic
//! Hermite interpolant on `(y_n, f_n, y_{n+1}, f_{n+1})`.

use super::linalg::{rms_norm, Lu};
use super::{
    initial_step, min_step, Method, OdeProblem, Solver, SolverStats, StepError, Tolerances,
};

// ---------------------------------------------------------------- Dormand-Prince

const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;
const D1: f64 = -12715105075.0 / 11282082432.0;
const D3: f64 = 87487479700.0 / 32700410799.0;
const D4: f64 = -10690763975.0 / 1880347072.0;
const D5: f64 = 701980252875.0 / 199316789632.0;
const D6: f64 = -1453857185.0 / 822651844.0;
const D7: f64 = 69997945.0 / 29380423.0;

/// Dormand-Prince 5(4) with dense output (see the module documentation).
#[derive(Default)]
pub struct Erk {
    n: usize,
    t: f64,
    t_prev: f64,
    h: f64,
    y: Vec<f64>,
    k: [Vec<f64>; 7],
    ytmp: Vec<f64>,
    ynew: Vec<f64>,
    /// The dense-output coefficients of the last step.
    cont: [Vec<f64>; 5],
    rtol: f64,
    atol: Vec<f64>,
    max_step: f64,
    stats: SolverStats,
    failed_t: f64,
    failed_y: Vec<f64>,
}

impl Solver for Erk {
    fn method(&self) -> Method {
        Method::Erk
    }

    fn init(
        &mut self,
        problem: &mut dyn OdeProblem,
        t0: f64,
        y0: &[f64],
        tol: &Tolerances,
    ) -> Result<(), StepError> {
        let n = problem.dim();
        if self.n != n || self.y.len() != n {
            self.n = n;
            self.y = vec![0.0; n];
            self.ytmp = vec![0.0; n];
            self.ynew = vec![0.0; n];
            for k in &mut self.k {
                *k = vec![0.0; n];
            }
            for c in &mut self.cont {
                *c = vec![0.0; n];
            }
        }
        self.rtol = tol.rtol;
        self.atol.clear();
        self.atol.extend_from_slice(&tol.atol);
        self.max_step = tol.max_step;
        self.t = t0;
        self.t_prev = t0;
        self.failed_y.clear();
        self.y.copy_from_slice(y0);
        problem.rhs(t0, y0, &mut self.k[0]);
        self.stats.rhs_evals += 2;
        if !self.k[0].iter().all(|v| v.is_finite()) {
            return Err(StepError::NonFinite { t: t0 });
        }
        let mut scratch = vec![0.0; 2 * n];
        self.h = initial_step(problem, t0, y0, &self.k[0], 4, tol, &mut scratch);
        // A constant dense output until the first step.
        self.cont[0].copy_from_slice(y0);
        for c in &mut self.cont[1..] {
            c.fill(0.0);
        }
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
            self.t_prev = t;
            self.t = t_stop.max(t);
            self.cont[0].copy_from_slice(&self.y);
            for c in &mut self.cont[1..] {
                c.fill(0.0);
            }
            return Ok(());
        }
        let mut h = self.h.min(self.max_step);
        loop {
            if h < min_h {
                return Err(StepError::StepSizeTooSmall { t, h });
            }
            let mut t_new = t + h;
            if t_new > t_stop || t_stop - t_new < min_h {
                t_new = t_stop;
            }
            h = t_new - t;
            let y = &self.y;
            let [k1, k2, k3, k4, k5, k6, k7] = &mut self.k;
            let yt = &mut self.ytmp;
            for i in 0..n {
                yt[i] = y[i] + h * A21 * k1[i];
            }
            problem.rhs(t + C2 * h, yt, k2);
            for i in 0..n {
                yt[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
            }
            problem.rhs(t + C3 * h, yt, k3);
            for i in 0..n {
                yt[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            }
            problem.rhs(t + C4 * h, yt, k4);
            for i in 0..n {
                yt[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            }
            problem.rhs(t + C5 * h, yt, k5);
            for i in 0..n {
                yt[i] = y[i]
                    + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            }
            problem.rhs(t + h, yt, k6);
            let yn = &mut self.ynew;
            for i in 0..n {
                yn[i] = y[i]
                    + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
            }
            problem.rhs(t_new, yn, k7);
            self.stats.rhs_evals += 6;
            let mut err = 0.0;
            for i in 0..n {
                let e = h
                    * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                let sc = self.atol[i] + self.rtol * y[i].abs().max(yn[i].abs());
                err += (e / sc) * (e / sc);
            }
            let err = (err / n.max(1) as f64).sqrt();
            if !err.is_finite() {
                self.stats.rejected_steps += 1;
                self.failed_t = t_new;
                self.failed_y.clear();
                self.failed_y.extend_from_slice(yn);
                h *= 0.25;
                if h < min_h {
                    return Err(StepError::NonFinite { t });
                }
                continue;
            }
            if err > 1.0 {
                self.stats.rejected_steps += 1;
                h *= (0.9 * err.powf(-0.2)).max(0.2);
                continue;
            }
            // Accepted: dense output coefficients, then advance (FSAL).
            for i in 0..n {
                let ydiff = yn[i] - y[i];
                let bspl = h * k1[i] - ydiff;
                self.cont[0][i] = y[i];
                self.cont[1][i] = ydiff;
                self.cont[2][i] = bspl;
                self.cont[3][i] = ydiff - h * k7[i] - bspl;
                self.cont[4][i] = h
                    * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i]);
            }
            std::mem::swap(k1, k7);
            std::mem::swap(&mut self.y, &mut self.ynew);
            self.stats.steps += 1;
            self.t_prev = t;
            self.t = t_new;
            let factor = if err == 0.0 {
                10.0
            } else {
                (0.9 * err.powf(-0.2)).clamp(0.2, 10.0)
            };
            self.h = h * factor;
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
        &self.y
    }

    fn interpolate(&self, t: f64, out: &mut [f64]) {
        let h = self.t - self.t_prev;
        let s = if h > 0.0 { (t - self.t_prev) / h } else { 1.0 };
        let s1 = 1.0 - s;
        let [c0, c1, c2, c3, c4] = &self.cont;
        for i in 0..self.n {
            out[i] = c0[i] + s * (c1[i] + s1 * (c2[i] + s * (c3[i] + s1 * c4[i])));
        }
    }

    fn stats(&self) -> SolverStats {
        self.stats
    }

    fn failed_point(&self) -> Option<(f64, &[f64])> {
        (!self.failed_y.is_empty()).then_some((self.failed_t, &self.failed_y[..]))
    }
}

// ---------------------------------------------------------------- TR-BDF2

const GAMMA: f64 = 2.0 - std::f64::consts::SQRT_2;
const DD: f64 = GAMMA / 2.0;
const W: f64 = std::f64::consts::SQRT_2 / 4.0;
const BH1: f64 = (1.0 - W) / 3.0;
const BH2: f64 = (3.0 * W + 1.0) / 3.0;
const BH3: f64 = DD / 3.0;
const NEWTON_MAXITER: usize = 5;

/// TR-BDF2 (see the module documentation).
#[derive(Default)]
pub struct Sdirk {
    n: usize,
    nb: usize,
    t: f64,
    t_prev: f64,
    h: f64,
    y: Vec<f64>,
    f0: Vec<f64>,
    y_old: Vec<f64>,
    f_old: Vec<f64>,
    z: Vec<f64>,
    fz: Vec<f64>,
    y1: Vec<f64>,
    f1: Vec<f64>,
    rhs: Vec<f64>,
    dz: Vec<f64>,
    fz_tmp: Vec<f64>,
    scale: Vec<f64>,
    err: Vec<f64>,
    jac: Vec<f64>,
    jac_current: bool,
    lu: Lu,
    lu_valid: bool,
    lu_h: f64,
    rtol: f64,
    atol: Vec<f64>,
    max_step: f64,
    newton_tol: f64,
    stats: SolverStats,
    last_nonfinite: bool,
    failed_t: f64,
    failed_y: Vec<f64>,
}

impl Sdirk {
    fn factor(&mut self, h: f64) -> Result<(), usize> {
        let nb = self.nb;
        let c = DD * h;
        let m = self.lu.matrix_mut();
        for (i, (mrow, jrow)) in m.chunks_mut(nb).zip(self.jac.chunks(nb)).enumerate() {
            for (x, j) in mrow.iter_mut().zip(jrow) {
                *x = -c * j;
            }
            mrow[i] += 1.0;
        }
        self.stats.lu_factorizations += 1;
        self.lu_h = h;
        let r = self.lu.factor();
        self.lu_valid = r.is_ok();
        r
    }

    /// Solves `x - d h f(ts, x) = rhs` by modified Newton from the guess in
    /// `x`; `fx` receives `f(ts, x)` at the solution.
    fn newton(&mut self, problem: &mut dyn OdeProblem, ts: f64, h: f64, stage: usize) -> bool {
        let n = self.n;
        let nb = self.nb;
        let c = DD * h;
        let mut old = f64::NAN;
        self.last_nonfinite = false;
        for k in 0..NEWTON_MAXITER {
            let (x, fx) = if stage == 2 {
                (&mut self.z, &mut self.fz)
            } else {
                (&mut self.y1, &mut self.f1)
            };
            problem.rhs(ts, x, fx);
            self.stats.rhs_evals += 1;
            self.stats.newton_iterations += 1;
            if !fx.iter().all(|v| v.is_finite()) {
                self.last_nonfinite = true;
                self.failed_t = ts;
                self.failed_y.clear();
                self.failed_y.extend_from_slice(x);
                return false;
            }
            for i in 0..n {
                self.dz[i] = self.rhs[i] + c * fx[i] - x[i];
            }
            for b in self.dz.chunks_mut(nb) {
                self.lu.solve(b);
            }
            let norm = rms_norm(&self.dz, &self.scale);
            let rate = norm / old;
            if k > 0 && (rate >= 1.0 || !norm.is_finite()) {
                return false;
            }
            for i in 0..n {
                x[i] += self.dz[i];
            }
            if norm == 0.0
                || (k > 0 && rate / (1.0 - rate) * norm < self.newton_tol)
                || (k == 0 && norm < 1e-3 * self.newton_tol)
            {
                // Refresh f at the final iterate so the stage derivative
                // matches the stage value.
                problem.rhs(ts, x, fx);
                self.stats.rhs_evals += 1;
                return fx.iter().all(|v| v.is_finite());
            }
            old = norm;
        }
        false
    }
}

impl Solver for Sdirk {
    fn method(&self) -> Method {
        Method::Sdirk
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
        if self.n != n || self.nb != nb || self.y.len() != n {
            self.n = n;
            self.nb = nb;
            for v in [
                &mut self.y,
                &mut self.f0,
                &mut self.y_old,
                &mut self.f_old,
                &mut self.z,
                &mut self.fz,
                &mut self.y1,
                &mut self.f1,
                &mut self.rhs,
                &mut self.dz,
                &mut self.fz_tmp,
                &mut self.scale,
                &mut self.err,
            ] {
                *v = vec![0.0; n];
            }
            self.jac = vec![0.0; nb * nb];
            self.lu = Lu::with_explicit_inverse(nb);
        }
        self.rtol = tol.rtol;
        self.atol.clear();
        self.atol.extend_from_slice(&tol.atol);
        self.max_step = tol.max_step;
        self.newton_tol = (10.0 * f64::EPSILON / tol.rtol).max(0.03f64.min(tol.rtol.sqrt()));
        self.t = t0;
        self.t_prev = t0;
        self.failed_y.clear();
        self.y.copy_from_slice(y0);
        self.y_old.copy_from_slice(y0);
        problem.rhs(t0, y0, &mut self.f0);
        self.f_old.copy_from_slice(&self.f0);
        self.stats.rhs_evals += 2;
        if !self.f0.iter().all(|v| v.is_finite()) {
            return Err(StepError::NonFinite { t: t0 });
        }
        let mut scratch = vec![0.0; 2 * n];
        self.h = initial_step(problem, t0, y0, &self.f0, 2, tol, &mut scratch);
        problem.jacobian(t0, y0, &mut self.jac);
        self.stats.jacobian_evals += 1;
        self.jac_current = true;
        self.lu_valid = false;
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
            self.t_prev = t;
            self.t = t_stop.max(t);
            self.y_old.copy_from_slice(&self.y);
            self.f_old.copy_from_slice(&self.f0);
            return Ok(());
        }
        let mut h = self.h.min(self.max_step);
        loop {
            if h < min_h {
                return Err(if self.last_nonfinite {
                    StepError::NonFinite { t }
                } else {
                    StepError::StepSizeTooSmall { t, h }
                });
            }
            let mut t_new = t + h;
            if t_new > t_stop || t_stop - t_new < min_h {
                t_new = t_stop;
            }
            h = t_new - t;
            for i in 0..n {
                self.scale[i] = self.atol[i] + self.rtol * self.y[i].abs();
            }
            if (!self.lu_valid || self.lu_h != h) && self.factor(h).is_err() {
                if !self.jac_current {
                    problem.jacobian(t, &self.y, &mut self.jac);
                    self.stats.jacobian_evals += 1;
                    self.jac_current = true;
                    continue;
                }
                self.stats.rejected_steps += 1;
                h *= 0.5;
                continue;
            }
            // Stage 2 (trapezoidal rule to t + gamma h).
            for i in 0..n {
                self.rhs[i] = self.y[i] + DD * h * self.f0[i];
                self.z[i] = self.y[i] + GAMMA * h * self.f0[i];
            }
            let mut ok = self.newton(problem, t + GAMMA * h, h, 2);
            if ok {
                // Stage 3 (BDF2 to t + h).
                for i in 0..n {
                    self.rhs[i] = self.y[i] + W * h * (self.f0[i] + self.fz[i]);
                    self.y1[i] = self.y[i] + h * (W * self.f0[i] + (W + DD) * self.fz[i]);
                }
                ok = self.newton(problem, t_new, h, 3);
            }
            if !ok {
                self.stats.newton_failures += 1;
                self.stats.rejected_steps += 1;
                if !self.jac_current {
                    problem.jacobian(t, &self.y, &mut self.jac);
                    self.stats.jacobian_evals += 1;
                    self.jac_current = true;
                    self.lu_valid = false;
                } else {
                    h *= 0.5;
                }
                continue;
            }
            for i in 0..n {
                self.err[i] =
                    h * ((BH1 - W) * self.f0[i] + (BH2 - W) * self.fz[i] + (BH3 - DD) * self.f1[i]);
            }
            for b in self.err.chunks_mut(self.nb) {
                self.lu.solve(b);
            }
            for i in 0..n {
                self.scale[i] = self.atol[i] + self.rtol * self.y[i].abs().max(self.y1[i].abs());
            }
            let e = rms_norm(&self.err, &self.scale);
            if !e.is_finite() || e > 1.0 {
                self.stats.rejected_steps += 1;
                h *= if e.is_finite() {
                    (0.9 * e.powf(-1.0 / 3.0)).max(0.2)
                } else {
                    0.25
                };
                continue;
            }
            self.stats.steps += 1;
            self.t_prev = t;
            self.t = t_new;
            std::mem::swap(&mut self.y_old, &mut self.y);
            std::mem::swap(&mut self.f_old, &mut self.f0);
            self.y.copy_from_slice(&self.y1);
            self.f0.copy_from_slice(&self.f1);
            self.jac_current = false;
            let factor = if e == 0.0 {
                5.0
            } else {
                (0.9 * e.powf(-1.0 / 3.0)).clamp(0.2, 5.0)
            };
            // Keep the factorisation when the change would be small.
            self.h = if (0.9..=1.2).contains(&factor) {
                h
            } else {
                h * factor
            };
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
        &self.y
    }

    fn interpolate(&self, t: f64, out: &mut [f64]) {
        let h = self.t - self.t_prev;
        if h <= 0.0 {
            out[..self.n].copy_from_slice(&self.y);
            return;
        }
        let s = (t - self.t_prev) / h;
        let s2 = s * s;
        let s3 = s2 * s;
        let h00 = 2.0 * s3 - 3.0 * s2 + 1.0;
        let h10 = s3 - 2.0 * s2 + s;
        let h01 = -2.0 * s3 + 3.0 * s2;
        let h11 = s3 - s2;
        for i in 0..self.n {
            out[i] = h00 * self.y_old[i]
                + h10 * h * self.f_old[i]
                + h01 * self.y[i]
                + h11 * h * self.f0[i];
        }
    }

    fn stats(&self) -> SolverStats {
        self.stats
    }

    fn failed_point(&self) -> Option<(f64, &[f64])> {
        (!self.failed_y.is_empty()).then_some((self.failed_t, &self.failed_y[..]))
    }
}
