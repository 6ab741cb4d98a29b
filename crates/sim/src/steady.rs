//! Steady states: `f(x) = 0`.
//!
//! ## Newton's method on the reduced system
//!
//! A reaction network with conserved moieties (`w^T S = 0` for a weight vector
//! `w`: the total of a kinase over its phosphorylation states, say) has a
//! singular Jacobian: the steady states form a family, one for each value of
//! the totals. The totals are fixed by the initial state, so for each
//! conservation law (computed once per model, see the `System`) one equation
//! `f_d = 0` of a *dependent* species `d` is replaced by `w . x - w . x0 = 0`;
//! the Jacobian row by `w`. The reduced system is square and, at an isolated
//! steady state, non-singular.
//!
//! Newton's method with the exact Jacobian and a backtracking line search
//! (halving the step until the scaled residual decreases by the Armijo
//! fraction `1e-4`) converges when the Newton step is below a thousandth of
//! the tolerances `atol + rtol |x|`. A solution with a negative amount is
//! rejected (it is a steady state, but not one the dynamics can reach).
//!
//! ## Integration
//!
//! When Newton's method fails (no convergence, a singular reduced Jacobian,
//! a negative solution), the model is integrated from the initial state over
//! decades of time, `t0 + 1, t0 + 10, ...`, until the state would change by
//! less than the tolerances if integrated as long again
//! (`max_i |f_i| (t - t0) / (atol + rtol |x_i|) <= 1`), then polished by
//! Newton's method. Each decade is sampled to diagnose why no steady state
//! is reached: a variable that keeps crossing its mean with a steady
//! amplitude is an *oscillation* (with the period estimated from the
//! crossings); a state that grows by a factor of at least 5 per decade over
//! three decades, or overflows, is a *divergence*.
//!
//! ## Stability
//!
//! Every steady state carries the eigenvalues of its Jacobian with the zeros
//! of the conservation laws removed ([`crate::eigen`]). A solution of
//! Newton's method that is unstable is not where the dynamics go from the
//! initial state, so it is not returned: the integration above runs instead.
//! A steady state that integration ends on and that is still not stable is
//! returned with `stable: false`; the caller must say so.
//!
//! The tolerances are those of a time course: by default scaled to the
//! model ([`crate::AbsoluteTolerance`]).

use crate::eigen::{stability, Stability, StabilityKind};
use crate::error::{SimError, Stopped};
use crate::simulate::Simulator;
use crate::solver::linalg::Lu;
use crate::solver::{Method, OdeProblem, SolverStats, StepError, Tolerances};
use crate::tolerance::{absolute_tolerances, AbsoluteTolerance};
use serde::{Deserialize, Serialize};

/// Options of a steady-state search.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyStateOptions {
    pub rtol: f64,
    /// The absolute tolerances (by default scaled to the model, as for a
    /// time course).
    pub atol: AbsoluteTolerance,
    /// Newton iterations before giving up on Newton's method.
    pub max_newton_iterations: usize,
    /// How long the integration fallback may run (from the start time).
    pub max_time: f64,
    /// The most integration steps of the fallback.
    pub max_steps: u64,
}

impl Default for SteadyStateOptions {
    fn default() -> SteadyStateOptions {
        SteadyStateOptions {
            rtol: 1e-6,
            atol: AbsoluteTolerance::Scaled,
            max_newton_iterations: 100,
            max_time: 1e12,
            max_steps: 200_000,
        }
    }
}

/// How the steady state was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SteadyStateMethod {
    /// Newton's method from the initial state.
    Newton,
    /// Integration to a long time (polished by Newton's method where it converged).
    Integration,
}

/// A steady state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SteadyState {
    /// The observables' ids and values.
    pub names: Vec<String>,
    pub values: Vec<f64>,
    /// The state variables' ids and values (amounts for species changed by reactions).
    pub state_names: Vec<String>,
    pub state: Vec<f64>,
    pub method: SteadyStateMethod,
    /// `max_i |f_i| / (atol + rtol |x_i|)` at the solution.
    pub residual: f64,
    /// The time integrated to (the start time for Newton's method).
    pub time: f64,
    pub newton_iterations: usize,
    /// Integrator work (zero for Newton's method).
    pub stats: SolverStats,
    /// Whether small perturbations decay ([`Stability::kind`] is stable).
    pub stable: bool,
    /// The eigenvalues of the Jacobian at the steady state, without the
    /// zeros of the conservation laws (see [`crate::eigen`]).
    pub stability: Stability,
    /// The absolute tolerance of every state (in the order of `state_names`).
    pub atol: Vec<f64>,
}

/// Why no steady state was found.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SteadyStateError {
    #[error(transparent)]
    Setup(#[from] SimError),
    /// The Jacobian (reduced by the conservation laws) is singular at the
    /// point Newton's method reached, and integration did not settle either.
    #[error("the Jacobian is singular (in the equation of `{variable}`), and integrating to t={time} did not settle: {integration}")]
    Singular {
        variable: String,
        time: f64,
        integration: String,
    },
    /// The solution oscillates (around an unstable steady state, when
    /// Newton's method found one: the largest real part of its eigenvalues).
    #[error(
        "the solution oscillates (period about {period:.4}, in {}){}",
        variables.join(", "),
        around_unstable.map(|re| format!(" around an unstable steady state (largest real part of its Jacobian's eigenvalues {re:.3e})")).unwrap_or_default()
    )]
    Oscillation {
        period: f64,
        variables: Vec<String>,
        around_unstable: Option<f64>,
    },
    /// The solution grows without bound.
    #[error("the solution diverges ({} grow without bound)", variables.join(", "))]
    Divergence { variables: Vec<String> },
    /// No steady state within the time or step limit.
    #[error("no steady state reached by t={time} (residual {residual:.3e}, fastest-changing: {})", variables.join(", "))]
    NotReached {
        time: f64,
        residual: f64,
        variables: Vec<String>,
    },
    /// The integration stopped.
    #[error("the integration {0}")]
    Stopped(Stopped),
    /// A reported value is NaN at the steady state.
    #[error("the value of `{variable}` at the steady state is not a number (NaN)")]
    NotANumber { variable: String },
}

enum NewtonFail {
    Singular(usize),
    NoProgress,
    Negative,
    /// Newton's method converged to a steady state that is unstable, so not
    /// one the dynamics reach from the initial state (the largest real part
    /// of its eigenvalues).
    Unstable(f64),
}

impl<'s> Simulator<'s> {
    /// The steady state reached from the initial state given by the model and
    /// `overrides` (doses and infusions in `settings` are ignored; its start
    /// time is the time of the initial assignments and the integration).
    pub fn steady_state(
        &mut self,
        settings: &crate::Settings,
        overrides: &crate::Overrides,
        options: &SteadyStateOptions,
    ) -> Result<SteadyState, SteadyStateError> {
        let check = crate::Settings {
            rtol: options.rtol,
            atol: options.atol,
            times: Vec::new(),
            ..settings.clone()
        };
        Self::check_settings(&check)?;
        if self.np > 0 {
            return Err(SimError::Unsupported {
                what: "sensitivities of a steady state".into(),
            }
            .into());
        }
        let t0 = settings.start;
        self.initialize(t0, overrides)?;
        let sys = self.sys;
        let n = sys.n_states();
        let x0: Vec<f64> = self.y[..n].to_vec();
        let scales = self.scales(&[]);
        let atol = absolute_tolerances(sys, options.atol, options.rtol, &scales);
        let atol = &atol[..];
        let totals: Vec<f64> = sys
            .conservation
            .iter()
            .map(|(_, w)| w.iter().map(|&(i, v)| v * x0[i]).sum())
            .collect();
        let mut x = x0.clone();
        let newton = self.newton(t0, &mut x, &totals, options, atol);
        let fail = match newton {
            Ok(iters) => {
                let r = self.steady_result(
                    t0,
                    &x,
                    SteadyStateMethod::Newton,
                    iters,
                    SolverStats::default(),
                    (options.rtol, atol),
                )?;
                if r.stability.kind != StabilityKind::Unstable {
                    return Ok(r);
                }
                NewtonFail::Unstable(r.stability.max_real_part)
            }
            Err(f) => f,
        };
        // Integrate over decades of time.
        let tol = Tolerances {
            rtol: options.rtol,
            atol: atol.to_vec(),
            max_step: f64::INFINITY,
        };
        let mut solver = Method::Bdf.solver();
        let mut y = x0.clone();
        let stats;
        {
            let (_, mut p) = self.parts();
            if let Err(e) = solver.init(&mut p, t0, &y, &tol) {
                return Err(SteadyStateError::Stopped(Stopped {
                    time: t0,
                    reason: step_failure(e, &tol),
                }));
            }
        }
        let mut growth: Vec<f64> = Vec::new();
        let mut last_norm = x0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut decade = 0i32;
        let mut f = vec![0.0; n];
        let mut samples: Vec<Vec<f64>> = Vec::new();
        loop {
            let t_target = t0 + 10f64.powi(decade);
            let t_begin = solver.t();
            samples.clear();
            let n_samples = 200;
            let mut next_sample = 0;
            while solver.t() < t_target {
                let r = {
                    let (_, mut p) = self.parts();
                    solver.step(&mut p, t_target)
                };
                if let Err(e) = r {
                    let t = solver.t();
                    let y = solver.y();
                    if y.iter().any(|v| !v.is_finite() || v.abs() > 1e100) {
                        return Err(self.divergence(y, &x0));
                    }
                    return Err(SteadyStateError::Stopped(Stopped {
                        time: t,
                        reason: step_failure(e, &tol),
                    }));
                }
                if solver.stats().steps > options.max_steps {
                    return Err(self.not_reached(solver.t(), solver.y(), options, atol));
                }
                while next_sample < n_samples {
                    let ts = t_begin
                        + (t_target - t_begin) * (next_sample as f64 + 1.0) / n_samples as f64;
                    if ts > solver.t() {
                        break;
                    }
                    let mut ys = vec![0.0; n];
                    solver.interpolate(ts, &mut ys);
                    samples.push(ys);
                    next_sample += 1;
                }
            }
            y.copy_from_slice(solver.y());
            let t = solver.t();
            if y.iter().any(|v| !v.is_finite() || v.abs() > 1e100) {
                return Err(self.divergence(&y, &x0));
            }
            // Settled: would the state change by less than the tolerances if
            // integrated as long again?
            self.eval_rhs(t, &y, &mut f);
            let scale = |i: usize| atol[i].max(1e-9 * norm_inf(&y)) + options.rtol * y[i].abs();
            let settle = (0..n)
                .map(|i| f[i].abs() * (t - t0) / scale(i))
                .fold(0.0, f64::max);
            if settle <= 1.0 {
                let mut xp = y.clone();
                stats = solver.stats();
                return match self.newton(t, &mut xp, &totals, options, atol) {
                    Ok(iters) => self.steady_result(
                        t,
                        &xp,
                        SteadyStateMethod::Integration,
                        iters,
                        stats,
                        (options.rtol, atol),
                    ),
                    Err(_) => self.steady_result(
                        t,
                        &y,
                        SteadyStateMethod::Integration,
                        0,
                        stats,
                        (options.rtol, atol),
                    ),
                };
            }
            // Oscillation: a variable crossing its mean repeatedly with a
            // sizeable amplitude in the second half of the decade.
            if samples.len() >= 20 {
                let half = &samples[samples.len() / 2..];
                let mut osc_vars = Vec::new();
                let mut periods = Vec::new();
                for i in 0..n {
                    let (lo, hi) = half
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
                            (a.min(s[i]), b.max(s[i]))
                        });
                    let mean = half.iter().map(|s| s[i]).sum::<f64>() / half.len() as f64;
                    let amp = hi - lo;
                    if amp <= 1e-3 * (mean.abs() + atol[i].max(1e-9 * norm_inf(&y))) {
                        continue;
                    }
                    let crossings = half
                        .windows(2)
                        .filter(|w| (w[0][i] - mean) * (w[1][i] - mean) < 0.0)
                        .count();
                    if crossings >= 6 {
                        osc_vars.push(sys.states[i].0.clone());
                        let span = (t_target - t_begin) / 2.0;
                        periods.push(2.0 * span / crossings as f64);
                    }
                }
                if !osc_vars.is_empty() {
                    let period = periods.iter().sum::<f64>() / periods.len() as f64;
                    return Err(SteadyStateError::Oscillation {
                        period,
                        variables: osc_vars,
                        around_unstable: match fail {
                            NewtonFail::Unstable(re) => Some(re),
                            _ => None,
                        },
                    });
                }
            }
            let norm = norm_inf(&y);
            growth.push(if last_norm > 0.0 {
                norm / last_norm
            } else {
                f64::INFINITY
            });
            last_norm = norm;
            if growth.len() >= 3 && growth[growth.len() - 3..].iter().all(|&g| g >= 5.0) {
                return Err(self.divergence(&y, &x0));
            }
            if t_target - t0 >= options.max_time {
                if let NewtonFail::Singular(k) = fail {
                    let nr = self.not_reached(t, &y, options, atol);
                    return Err(SteadyStateError::Singular {
                        variable: sys.states[k].0.clone(),
                        time: t,
                        integration: nr.to_string(),
                    });
                }
                return Err(self.not_reached(t, &y, options, atol));
            }
            decade += 1;
        }
    }

    fn eval_rhs(&mut self, t: f64, y: &[f64], f: &mut [f64]) {
        let (_, mut p) = self.parts();
        p.rhs(t, y, f);
    }

    fn steady_result(
        &mut self,
        t: f64,
        x: &[f64],
        method: SteadyStateMethod,
        iters: usize,
        stats: SolverStats,
        (rtol, atol): (f64, &[f64]),
    ) -> Result<SteadyState, SteadyStateError> {
        let sys = self.sys;
        let n = sys.n_states();
        let mut f = vec![0.0; n];
        self.eval_rhs(t, x, &mut f);
        let residual = (0..n)
            .map(|i| f[i].abs() / (atol[i] + rtol * x[i].abs()))
            .fold(0.0, f64::max);
        // Evaluate the observables at the steady state.
        let prog = &self.obs.program;
        self.obs_slots[0] = t;
        self.obs_slots[1..=n].copy_from_slice(x);
        prog.run(&mut self.obs_slots);
        let values: Vec<f64> = (0..self.obs.len())
            .map(|k| prog.output(&self.obs_slots, k))
            .collect();
        if let Some(k) = values.iter().position(|v| v.is_nan()) {
            return Err(SteadyStateError::NotANumber {
                variable: self.obs.names()[k].clone(),
            });
        }
        let mut jac = vec![0.0; n * n];
        {
            let (_, mut p) = self.parts();
            p.jacobian(t, x, &mut jac);
        }
        let laws: Vec<Vec<(usize, f64)>> =
            sys.conservation.iter().map(|(_, w)| w.clone()).collect();
        let stability = stability(&jac, n, &laws);
        Ok(SteadyState {
            names: self.obs.names(),
            values,
            state_names: sys.states.iter().map(|(s, _)| s.clone()).collect(),
            state: x.to_vec(),
            method,
            residual,
            time: t,
            newton_iterations: iters,
            stats,
            stable: stability.kind == StabilityKind::Stable,
            stability,
            atol: atol.to_vec(),
        })
    }

    fn divergence(&self, y: &[f64], x0: &[f64]) -> SteadyStateError {
        let sys = self.sys;
        let mut idx: Vec<usize> = (0..y.len()).collect();
        let g = |i: usize| {
            let v = y[i].abs();
            if !v.is_finite() {
                f64::INFINITY
            } else {
                v / (x0[i].abs() + 1e-300)
            }
        };
        idx.sort_by(|&a, &b| g(b).total_cmp(&g(a)));
        SteadyStateError::Divergence {
            variables: idx
                .into_iter()
                .take(3)
                .filter(|&i| g(i) > 1.0)
                .map(|i| sys.states[i].0.clone())
                .collect(),
        }
    }

    fn not_reached(
        &mut self,
        t: f64,
        y: &[f64],
        options: &SteadyStateOptions,
        atol: &[f64],
    ) -> SteadyStateError {
        let sys = self.sys;
        let n = sys.n_states();
        let mut f = vec![0.0; n];
        self.eval_rhs(t, y, &mut f);
        let w: Vec<f64> = (0..n)
            .map(|i| f[i].abs() / (atol[i] + options.rtol * y[i].abs()))
            .collect();
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
        SteadyStateError::NotReached {
            time: t,
            residual: w.iter().copied().fold(0.0, f64::max),
            variables: idx
                .into_iter()
                .take(3)
                .map(|i| sys.states[i].0.clone())
                .collect(),
        }
    }

    /// Damped Newton on the reduced system from `x`; on success `x` is the
    /// steady state and the result the number of iterations.
    fn newton(
        &mut self,
        t: f64,
        x: &mut [f64],
        totals: &[f64],
        options: &SteadyStateOptions,
        atol: &[f64],
    ) -> Result<usize, NewtonFail> {
        let sys = self.sys;
        let n = sys.n_states();
        if n == 0 {
            return Ok(0);
        }
        let mut lu = Lu::new(n);
        let mut jac = vec![0.0; n * n];
        let mut f = vec![0.0; n];
        let mut dx = vec![0.0; n];
        let mut xt = vec![0.0; n];
        let mut ft = vec![0.0; n];
        let reduced = |x: &[f64], f: &mut [f64]| {
            for ((d, w), total) in sys.conservation.iter().zip(totals) {
                f[*d] = w.iter().map(|&(i, v)| v * x[i]).sum::<f64>() - total;
            }
        };
        for iter in 0..options.max_newton_iterations {
            self.eval_rhs(t, x, &mut f);
            reduced(x, &mut f);
            if !f.iter().all(|v| v.is_finite()) {
                return Err(NewtonFail::NoProgress);
            }
            {
                let (_, mut p) = self.parts();
                p.jacobian(t, x, &mut jac);
            }
            for (d, w) in &sys.conservation {
                jac[d * n..(d + 1) * n].fill(0.0);
                for &(i, v) in w {
                    jac[d * n + i] = v;
                }
            }
            lu.matrix_mut().copy_from_slice(&jac);
            if let Err(k) = lu.factor() {
                return Err(NewtonFail::Singular(k.min(n - 1)));
            }
            for i in 0..n {
                dx[i] = -f[i];
            }
            lu.solve(&mut dx);
            let scale: Vec<f64> = x
                .iter()
                .zip(atol)
                .map(|(v, a)| a + options.rtol * v.abs())
                .collect();
            let step = rms(&dx, &scale);
            if !step.is_finite() {
                return Err(NewtonFail::NoProgress);
            }
            let merit0 = rms(&f, &scale);
            let mut lambda = 1.0;
            loop {
                for i in 0..n {
                    xt[i] = x[i] + lambda * dx[i];
                }
                self.eval_rhs(t, &xt, &mut ft);
                reduced(&xt, &mut ft);
                let merit = rms(&ft, &scale);
                if merit.is_finite()
                    && (merit <= (1.0 - 1e-4 * lambda) * merit0 || lambda * step <= 1e-3)
                {
                    break;
                }
                lambda *= 0.5;
                if lambda < 1e-10 {
                    return Err(NewtonFail::NoProgress);
                }
            }
            x.copy_from_slice(&xt);
            if lambda * step <= 1e-3 {
                // Converged; a negative amount is not a reachable steady state.
                let negative = (0..n).any(|i| {
                    matches!(
                        sys.states[i].1,
                        crate::system::StateKind::SpeciesAmount { .. }
                    ) && x[i] < -(atol[i] + options.rtol * norm_inf(x))
                });
                return if negative {
                    Err(NewtonFail::Negative)
                } else {
                    Ok(iter + 1)
                };
            }
        }
        Err(NewtonFail::NoProgress)
    }
}

fn rms(v: &[f64], scale: &[f64]) -> f64 {
    crate::solver::linalg::rms_norm(v, scale)
}

fn norm_inf(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn step_failure(e: StepError, tol: &Tolerances) -> crate::Failure {
    match e {
        StepError::NonFinite { .. } => crate::Failure::NonFinite {
            variables: vec![],
            rates: vec![],
        },
        StepError::SingularMatrix { .. } => crate::Failure::SingularMatrix,
        StepError::StepSizeTooSmall { h, .. } => crate::Failure::StepSizeTooSmall {
            step: h,
            variables: vec![],
            rtol: tol.rtol,
            atol: vec![],
        },
    }
}
