//! The integrators, behind one trait.
//!
//! An integrator advances `y' = f(t, y)` one internal step at a time and can
//! interpolate anywhere on its last step (dense output), so output times never
//! constrain the step size; a stop time (a dose, a delayed event, the end) is
//! never stepped over. Everything ligand knows about a problem reaches the
//! integrator through [`OdeProblem`]: the right-hand side and an exact
//! Jacobian block. The rest of ligand sees only [`Solver`], so a method can be
//! replaced without touching the simulation driver.
//!
//! ## Block structure (forward sensitivities)
//!
//! A problem of length `N = b (1 + p)` may declare a Jacobian *block* of size
//! `b`: the state `x` followed by `p` sensitivity vectors `s_j = dx/dp_j`,
//! with `s_j' = J s_j + df/dp_j`. The implicit methods then solve their Newton
//! systems with the block-diagonal matrix `diag(I - c J, ..., I - c J)`,
//! ignoring the coupling of `s_j'` to `x` through second derivatives. That is
//! the *simultaneous corrector* of CVODES (Maly and Petzold 1996): the Newton
//! iteration stays a contraction, one `b x b` factorisation serves every block,
//! and the sensitivities take part in the error test.
//!
//! The methods:
//!
//! - [`Bdf`]: variable order (1 to 5), quasi-constant step size, numerical
//!   differentiation formulas in the backward-difference form of Shampine and
//!   Reichelt (MATLAB's `ode15s`, scipy's `BDF`), with a modified Newton
//!   iteration that reuses the Jacobian and its LU factors across steps. The
//!   default: the right method for stiff biochemical networks.
//! - [`Sdirk`]: TR-BDF2 (Bank et al. 1985; Hosea and Shampine 1996), an
//!   L-stable singly diagonally implicit Runge-Kutta method of order 2 with an
//!   embedded order-3 error estimate, one-step (cheap restarts at frequent
//!   discontinuities).
//! - [`Erk`]: Dormand-Prince 5(4) with its order-4 dense output (Hairer,
//!   Norsett and Wanner), for non-stiff problems.

mod bdf;
pub(crate) mod linalg;
mod rk;
pub(crate) mod sparse;

pub use bdf::Bdf;
pub use rk::{Erk, Sdirk};

use serde::{Deserialize, Serialize};

/// What an integrator needs to know about a problem.
pub trait OdeProblem {
    /// The length `N` of the state vector.
    fn dim(&self) -> usize;
    /// The size `b` of the Jacobian block (`N` is a multiple of it).
    fn block(&self) -> usize {
        self.dim()
    }
    /// Writes `f(t, y)` into `dy`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]);
    /// Writes the Jacobian block `df/dx` at `(t, y)` into `jac` (row-major,
    /// `b x b`).
    fn jacobian(&mut self, t: f64, y: &[f64], jac: &mut [f64]);
    /// The positions `(row, column)` of the Jacobian block's entries that can
    /// be nonzero, when the problem wants sparse linear algebra (see
    /// [`LinearAlgebra`]); `None`, the default, for dense. The BDF integrator
    /// then factorises `I - c J` with a sparse LU over this structure.
    fn jacobian_pattern(&self) -> Option<&[(u32, u32)]> {
        None
    }
    /// Writes the Jacobian block's entries in the order of
    /// [`OdeProblem::jacobian_pattern`]. The default evaluates the dense
    /// block and picks the entries out; a problem that declares a pattern
    /// should write them directly.
    fn jacobian_values(&mut self, t: f64, y: &[f64], values: &mut [f64]) {
        let Some(pattern) = self.jacobian_pattern().map(<[(u32, u32)]>::to_vec) else {
            return;
        };
        let b = self.block();
        let mut jac = vec![0.0; b * b];
        self.jacobian(t, y, &mut jac);
        for (v, &(r, k)) in values.iter_mut().zip(&pattern) {
            *v = jac[r as usize * b + k as usize];
        }
    }
}

/// Dense or sparse linear algebra in the Newton iterations of [`Bdf`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinearAlgebra {
    /// Sparse for large, sparse Jacobians (more than [`SPARSE_MIN_STATES`]
    /// states and at most [`SPARSE_MAX_FILL`] of the entries nonzero, the
    /// diagonal counted), dense otherwise.
    #[default]
    Auto,
    Dense,
    Sparse,
}

/// Below this many states a dense LU is as fast as a sparse one and simpler
/// (its cost, `n^3 / 3` multiply-adds, is then a fraction of a millisecond).
pub const SPARSE_MIN_STATES: usize = 200;
/// Above this fraction of nonzero entries the sparse LU's fill-in and
/// indirect addressing cost more than the dense kernel saves.
pub const SPARSE_MAX_FILL: f64 = 0.1;

impl LinearAlgebra {
    /// Whether an `n x n` Jacobian with `nonzeros` entries (off the diagonal
    /// or on it) is factorised sparse.
    pub fn use_sparse(self, n: usize, nonzeros: usize) -> bool {
        match self {
            LinearAlgebra::Dense => false,
            LinearAlgebra::Sparse => true,
            LinearAlgebra::Auto => {
                n > SPARSE_MIN_STATES && (nonzeros + n) as f64 <= SPARSE_MAX_FILL * (n * n) as f64
            }
        }
    }
}

/// Integration methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Variable-order BDF (NDF), for stiff problems (the default).
    #[default]
    Bdf,
    /// TR-BDF2, an L-stable SDIRK method.
    Sdirk,
    /// Dormand-Prince 5(4), explicit.
    Erk,
}

impl Method {
    /// The method's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Method::Bdf => "bdf",
            Method::Sdirk => "sdirk",
            Method::Erk => "erk",
        }
    }

    /// A fresh integrator of this method.
    pub fn solver(self) -> Box<dyn Solver> {
        match self {
            Method::Bdf => Box::new(Bdf::default()),
            Method::Sdirk => Box::new(Sdirk::default()),
            Method::Erk => Box::new(Erk::default()),
        }
    }
}

/// Error tolerances: a step is accepted when the root-mean-square of
/// `err_i / (atol_i + rtol |y_i|)` is at most 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerances {
    pub rtol: f64,
    /// One absolute tolerance per component.
    pub atol: Vec<f64>,
    /// The largest step allowed (`inf` for none).
    pub max_step: f64,
}

/// Counters of the work an integrator did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolverStats {
    /// Accepted steps.
    pub steps: u64,
    /// Rejected steps (error test or convergence failures).
    pub rejected_steps: u64,
    /// Right-hand side evaluations.
    pub rhs_evals: u64,
    /// Jacobian evaluations.
    pub jacobian_evals: u64,
    /// LU factorisations.
    pub lu_factorizations: u64,
    /// Newton iterations.
    pub newton_iterations: u64,
    /// Newton convergence failures.
    pub newton_failures: u64,
}

impl SolverStats {
    /// Adds another set of counters (one integration restarted at events).
    pub fn add(&mut self, o: &SolverStats) {
        self.steps += o.steps;
        self.rejected_steps += o.rejected_steps;
        self.rhs_evals += o.rhs_evals;
        self.jacobian_evals += o.jacobian_evals;
        self.lu_factorizations += o.lu_factorizations;
        self.newton_iterations += o.newton_iterations;
        self.newton_failures += o.newton_failures;
    }
}

/// Why an integrator could not take a step.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The step size fell below what the floating-point time can resolve.
    #[error("the step size fell to {h:e} at t = {t}: the solver cannot advance (the problem may be too stiff for the method, or its solution may blow up)")]
    StepSizeTooSmall { t: f64, h: f64 },
    /// The right-hand side is NaN or infinite at the current state.
    #[error("the right-hand side is not finite at t = {t}")]
    NonFinite { t: f64 },
    /// The Newton matrix is singular and stays so as the step shrinks.
    #[error("the Newton matrix is singular at t = {t}")]
    SingularMatrix { t: f64 },
}

/// An integrator: advances one step at a time and interpolates on the last.
///
/// One value holds all the workspace of one integration; [`Solver::init`]
/// restarts it (after a discontinuity, or for another problem of the same
/// size) without allocating when the size is unchanged.
pub trait Solver: Send {
    /// The method.
    fn method(&self) -> Method;
    /// Starts at `(t0, y0)`: evaluates the derivative and chooses the first
    /// step size (`h0`, if given and positive, bounds it).
    fn init(
        &mut self,
        problem: &mut dyn OdeProblem,
        t0: f64,
        y0: &[f64],
        tol: &Tolerances,
    ) -> Result<(), StepError>;
    /// Takes one step, ending at most at `t_stop` (exactly there when it is
    /// reached).
    fn step(&mut self, problem: &mut dyn OdeProblem, t_stop: f64) -> Result<(), StepError>;
    /// The current time.
    fn t(&self) -> f64;
    /// The time at the start of the last step.
    fn t_prev(&self) -> f64;
    /// The current state.
    fn y(&self) -> &[f64];
    /// The state at `t` in `[t_prev, t]`, from the dense output of the last step.
    fn interpolate(&self, t: f64, out: &mut [f64]);
    /// Work counters since construction.
    fn stats(&self) -> SolverStats;
    /// The last trial point `(t, y)` at which the right-hand side was not
    /// finite, for naming the culprits when a step fails.
    fn failed_point(&self) -> Option<(f64, &[f64])> {
        None
    }
}

/// Hairer's initial step size: the step for which an explicit Euler step of
/// order `order` would make an error of about `0.01`. Uses one extra
/// right-hand side evaluation. `scratch` needs `2 N` elements.
pub(crate) fn initial_step(
    problem: &mut dyn OdeProblem,
    t0: f64,
    y0: &[f64],
    f0: &[f64],
    order: usize,
    tol: &Tolerances,
    scratch: &mut [f64],
) -> f64 {
    let n = y0.len();
    if n == 0 {
        return f64::INFINITY;
    }
    let (y1, f1) = scratch.split_at_mut(n);
    let mut d0 = 0.0;
    let mut d1 = 0.0;
    for i in 0..n {
        let sc = tol.atol[i] + tol.rtol * y0[i].abs();
        d0 += (y0[i] / sc).powi(2);
        d1 += (f0[i] / sc).powi(2);
    }
    let (d0, d1) = ((d0 / n as f64).sqrt(), (d1 / n as f64).sqrt());
    let h0 = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    let h0 = h0.min(tol.max_step);
    for i in 0..n {
        y1[i] = y0[i] + h0 * f0[i];
    }
    problem.rhs(t0 + h0, y1, &mut f1[..n]);
    let mut d2 = 0.0;
    for i in 0..n {
        let sc = tol.atol[i] + tol.rtol * y0[i].abs();
        d2 += ((f1[i] - f0[i]) / sc).powi(2);
    }
    let d2 = (d2 / n as f64).sqrt() / h0;
    let h1 = if d1 <= 1e-15 && d2 <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(1.0 / (order as f64 + 1.0))
    };
    // No smaller than the time can resolve: CVODE's lower bound (cvHin's
    // `hlb`, 100 unit roundoffs of the time). Hairer's estimate falls below it
    // when a state starts a hair from zero relative to its tolerance (a rate
    // rule `trig' = 1` restarted at the event `trig > 0`), and such a step
    // could only fail.
    let hlb = 100.0 * f64::EPSILON * t0.abs();
    let h = (100.0 * h0).min(h1).max(hlb).min(tol.max_step);
    if h.is_finite() && h > 0.0 {
        h
    } else {
        1e-6
    }
}

/// The smallest step that still moves `t` by a representable amount.
#[inline]
pub(crate) fn min_step(t: f64) -> f64 {
    10.0 * (next_up(t.abs()) - t.abs())
}

#[inline]
fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}
