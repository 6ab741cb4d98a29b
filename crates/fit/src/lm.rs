//! Levenberg-Marquardt nonlinear least squares in the manner of MINPACK `lmder`, with box bounds.
//!
//! # Mathematics
//!
//! Given residuals `r(p)` in `R^m` of parameters `p` in `R^n` (`m >= n`), the solver minimises
//! `S(p) = ||r(p)||^2`. At the current point it linearises `r(p + d) ~ r + J d` with the exact
//! Jacobian `J` and takes the step that minimises the linear model inside a scaled trust region:
//!
//! ```text
//! min_d || r + J d ||    subject to   || D d || <= delta
//! ```
//!
//! The solution is `d(lambda) = -(J^T J + lambda D^2)^-1 J^T r` for the Levenberg parameter
//! `lambda >= 0` that makes `||D d|| ~ delta` (to 10 %), or `lambda = 0` when the Gauss-Newton
//! step already lies inside the region. `lambda` is found by the safeguarded Newton iteration of
//! Moré (1978), MINPACK's `lmpar`: `J` is factorised once per iteration as `J P = Q R` by
//! Householder QR with column pivoting ([`crate::linalg::qr_factor_pivoted`]), and each trial
//! `lambda` costs one `O(n^2)` Givens elimination ([`crate::linalg::qr_solve_damped`]).
//!
//! The scaling `D` starts as the column norms of `J` (1 for a zero column) and each entry is
//! raised to the current column norm when that is larger, which makes the algorithm invariant to
//! the scale of the parameters. The step is accepted when the ratio
//! `rho = actual reduction / predicted reduction` of `S` exceeds `1e-4`; `delta` shrinks (with a
//! quadratic-interpolation factor in `[0.1, 0.5]`) when `rho <= 1/4` and doubles relative to the
//! step length when `rho >= 3/4` or the step was Gauss-Newton. The Jacobian is evaluated only
//! after an accepted step.
//!
//! Termination follows MINPACK exactly: `ftol` bounds the relative reduction of `||r||^2` both
//! actual and predicted, `xtol` the relative size of the trust region `delta <= xtol ||D p||`,
//! `gtol` the largest cosine between `r` and a column of `J`; the three "too small" outcomes
//! report that no further progress is possible in double precision.
//!
//! # Bounds
//!
//! Box constraints `l <= p <= u` (either side may be infinite) are handled by a projected
//! active-set variant that reduces to `lmder` step for step when no bound is touched:
//!
//! 1. The start is projected onto the box.
//! 2. At each Jacobian evaluation, a parameter that sits on a bound while the gradient
//!    `g = J^T r` pushes it outward (`g_j >= 0` at the lower bound, `g_j <= 0` at the upper) is
//!    *frozen*: its column of `J` is zeroed for the factorisation, so its step component is zero
//!    and the gradient test sees the projected gradient (the Karush-Kuhn-Tucker conditions).
//! 3. A trial point is projected onto the box. If that changed the step, the predicted reduction
//!    is recomputed exactly for the projected step `d_P` from the QR factor
//!    (`||r + J d_P||^2 = ||r||^2 - ||Q^T r||^2 + ||Q^T r + R P^T d_P||^2`), so the trust-region
//!    ratio remains an honest measure of model agreement; a projected step that the model does not
//!    predict to reduce `S` is rejected and the region shrinks, which turns the next step towards
//!    the (interior-pointing) projected steepest descent.
//!
//! # Fixed parameters
//!
//! The solver always optimises every parameter it is given. [`ParameterMask`] maps a full
//! parameter vector with a `fixed` mask to the free sub-vector and back, and [`FixedParameters`]
//! wraps a problem so that the solver sees only the free parameters.
//!
//! # Example
//!
//! ```
//! use ligand_fit::lm::{minimize, LeastSquaresProblem, LmOptions, LmWorkspace};
//!
//! /// y = a * exp(-k t), data generated with a = 2, k = 0.5 (no noise).
//! struct Decay { t: Vec<f64>, y: Vec<f64> }
//! impl LeastSquaresProblem for Decay {
//!     fn n_params(&self) -> usize { 2 }
//!     fn n_residuals(&self) -> usize { self.t.len() }
//!     fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
//!         for ((ri, &t), &y) in r.iter_mut().zip(&self.t).zip(&self.y) {
//!             *ri = y - p[0] * (-p[1] * t).exp();
//!         }
//!         true
//!     }
//!     fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
//!         let m = self.t.len();
//!         for (i, &t) in self.t.iter().enumerate() {
//!             let e = (-p[1] * t).exp();
//!             jac[i] = -e;                   // d r_i / d a   (column 0)
//!             jac[i + m] = p[0] * t * e;     // d r_i / d k   (column 1)
//!         }
//!         true
//!     }
//! }
//!
//! let t: Vec<f64> = (0..10).map(|i| i as f64).collect();
//! let y = t.iter().map(|&t| 2.0 * (-0.5 * t).exp()).collect();
//! let mut problem = Decay { t, y };
//! let mut ws = LmWorkspace::new();
//! let fit = minimize(&mut problem, &[1.0, 1.0], None, &LmOptions::default(), &mut ws).unwrap();
//! assert!(fit.termination.is_converged());
//! assert!((fit.params[0] - 2.0).abs() < 1e-8 && (fit.params[1] - 0.5).abs() < 1e-8);
//! assert!(fit.rss < 1e-20);
//! ```

use serde::{Deserialize, Serialize};

pub use crate::fixed::{FixedParameters, ParameterMask};
use crate::linalg::{
    all_finite, apply_qt, dot, enorm, qr_factor_pivoted, qr_solve_damped, sum_of_squares, DWARF,
    EPSMCH,
};

/// A nonlinear least-squares problem: residuals and their exact Jacobian.
///
/// The solver minimises `sum r_i(p)^2`. A weighted curve fit typically returns
/// `r_i = sqrt(w_i) (y_i - f(x_i; p))`; any sign convention works as long as
/// [`jacobian`](Self::jacobian) differentiates exactly what [`residuals`](Self::residuals)
/// returns.
pub trait LeastSquaresProblem {
    /// Number of parameters `n`.
    fn n_params(&self) -> usize;
    /// Number of residuals `m` (at least `n`).
    fn n_residuals(&self) -> usize;
    /// Write the `m` residuals at `p` into `r`. Return `false` when they cannot be evaluated;
    /// the solver then treats `p` as a failed trial point. Non-finite values need no check
    /// here: a trial point whose sum of squares is not finite is treated the same way.
    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool;
    /// Write the Jacobian `d r_i / d p_j` at `p` into `jac`, column-major: element `(i, j)` at
    /// `i + j * m`. Return `false` when it cannot be evaluated.
    ///
    /// [`minimize`] calls this only at the point of its most recent
    /// [`residuals`](Self::residuals) call, so an implementation may reuse intermediate values
    /// (exponentials, denominators) cached there. Other callers that rely on such a cache must
    /// call `residuals` at the same point first.
    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool;

    /// A constant part of the sum of squares that no residual carries: the objective is
    /// `||r(p)||^2 + constant_ss()`. A curve fit that solves over replicate means (points sharing
    /// `x` replaced by their weighted mean with the summed weight) returns here the pure-error sum
    /// of squares of the replicates about their means; with it, the solver's relative tests
    /// (`ftol`, `gtol`) and the reported [`LmResult::rss`] are those of the full data. Zero by
    /// default; a negative or non-finite value is taken as zero.
    fn constant_ss(&self) -> f64 {
        0.0
    }
}

impl<P: LeastSquaresProblem + ?Sized> LeastSquaresProblem for &mut P {
    fn n_params(&self) -> usize {
        (**self).n_params()
    }
    fn n_residuals(&self) -> usize {
        (**self).n_residuals()
    }
    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        (**self).residuals(p, r)
    }
    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        (**self).jacobian(p, jac)
    }
    fn constant_ss(&self) -> f64 {
        (**self).constant_ss()
    }
}

/// Tolerances and limits of [`minimize`]. The defaults are those of MINPACK `lmder1` and scipy's
/// `leastsq` (`ftol = xtol = 1.49012e-8`, `gtol = 0`, initial step factor 100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LmOptions {
    /// Stop when both the actual and the predicted relative reduction of the sum of squares in
    /// one step are at most `ftol`.
    pub ftol: f64,
    /// Stop when the relative size of the trust region, `delta / ||D p||`, is at most `xtol`.
    pub xtol: f64,
    /// Stop when the largest cosine between the residual vector and a Jacobian column is at
    /// most `gtol`.
    pub gtol: f64,
    /// Initial trust-region radius as a multiple of `||D p0||` (or `factor` itself when that
    /// norm is zero). MINPACK recommends values in `[0.1, 100]`.
    pub factor: f64,
    /// Maximum number of residual evaluations; `None` means `200 (n + 1)`.
    pub max_fev: Option<usize>,
    /// Maximum number of Jacobian evaluations (iterations); `None` means no limit beyond
    /// `max_fev`.
    pub max_iter: Option<usize>,
}

impl Default for LmOptions {
    fn default() -> Self {
        LmOptions {
            ftol: 1.490_116_119_384_765_6e-8,
            xtol: 1.490_116_119_384_765_6e-8,
            gtol: 0.0,
            factor: 100.0,
            max_fev: None,
            max_iter: None,
        }
    }
}

impl LmOptions {
    /// Set `ftol` and `xtol` to the same value.
    ///
    /// ```
    /// let opts = ligand_fit::lm::LmOptions::default().with_tolerance(1e-12);
    /// assert_eq!((opts.ftol, opts.xtol), (1e-12, 1e-12));
    /// ```
    pub fn with_tolerance(mut self, tol: f64) -> Self {
        self.ftol = tol;
        self.xtol = tol;
        self
    }

    /// Check that every option is in range.
    ///
    /// ```
    /// use ligand_fit::lm::{LmError, LmOptions};
    /// let bad = LmOptions { ftol: -1.0, ..LmOptions::default() };
    /// assert!(matches!(bad.validate(), Err(LmError::InvalidOption { name: "ftol", .. })));
    /// ```
    pub fn validate(&self) -> Result<(), LmError> {
        let check = |name: &'static str, value: f64, ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(LmError::InvalidOption { name, value })
            }
        };
        check("ftol", self.ftol, self.ftol >= 0.0)?;
        check("xtol", self.xtol, self.xtol >= 0.0)?;
        check("gtol", self.gtol, self.gtol >= 0.0)?;
        check(
            "factor",
            self.factor,
            self.factor > 0.0 && self.factor.is_finite(),
        )?;
        if let Some(v) = self.max_fev {
            check("max_fev", v as f64, v >= 1)?;
        }
        if let Some(v) = self.max_iter {
            check("max_iter", v as f64, v >= 1)?;
        }
        Ok(())
    }

    fn max_fev_for(&self, n: usize) -> usize {
        self.max_fev.unwrap_or(200 * (n + 1))
    }
}

/// Box bounds `lower[j] <= p[j] <= upper[j]`; use `f64::NEG_INFINITY` / `f64::INFINITY` for a
/// free side.
///
/// ```
/// use ligand_fit::lm::Bounds;
/// let mut b = Bounds::unbounded(2);
/// b.lower[0] = 0.0;
/// assert!(b.validate(2).is_ok());
/// assert_eq!(b.project(0, -3.0), 0.0);
/// assert_eq!(b.project(1, -3.0), -3.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lower bounds, one per parameter.
    pub lower: Vec<f64>,
    /// Upper bounds, one per parameter.
    pub upper: Vec<f64>,
}

impl Bounds {
    /// Bounds from two vectors of equal length.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Self {
        Bounds { lower, upper }
    }

    /// No bound on any of `n` parameters.
    pub fn unbounded(n: usize) -> Self {
        Bounds {
            lower: vec![f64::NEG_INFINITY; n],
            upper: vec![f64::INFINITY; n],
        }
    }

    /// Whether every bound is infinite.
    pub fn is_unbounded(&self) -> bool {
        self.lower.iter().all(|&l| l == f64::NEG_INFINITY)
            && self.upper.iter().all(|&u| u == f64::INFINITY)
    }

    /// Clamp `value` into the interval of parameter `j`.
    #[inline]
    pub fn project(&self, j: usize, value: f64) -> f64 {
        value.max(self.lower[j]).min(self.upper[j])
    }

    /// Check lengths, NaNs and `lower <= upper`.
    pub fn validate(&self, n: usize) -> Result<(), LmError> {
        if self.lower.len() != n || self.upper.len() != n {
            return Err(LmError::DimensionMismatch {
                what: "bounds",
                expected: n,
                found: if self.lower.len() != n {
                    self.lower.len()
                } else {
                    self.upper.len()
                },
            });
        }
        for (index, (&lower, &upper)) in self.lower.iter().zip(&self.upper).enumerate() {
            if lower.is_nan()
                || upper.is_nan()
                || lower > upper
                || lower == f64::INFINITY
                || upper == f64::NEG_INFINITY
            {
                return Err(LmError::InvalidBounds {
                    index,
                    lower,
                    upper,
                });
            }
        }
        Ok(())
    }
}

/// Why [`minimize`] stopped. The first four are convergence; the MINPACK `info` code is given
/// for each.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Termination {
    /// `info = 1`: actual and predicted relative reductions of the sum of squares are at most
    /// `ftol`.
    SumOfSquaresConverged,
    /// `info = 2`: the relative size of the trust region is at most `xtol`.
    ParametersConverged,
    /// `info = 3`: both of the above.
    SumOfSquaresAndParametersConverged,
    /// `info = 4`: the residual vector is orthogonal to the (projected) Jacobian columns to
    /// within `gtol`; also reported for an exact zero residual.
    GradientConverged,
    /// `info = 5`: the number of residual evaluations reached `max_fev`.
    MaxFunctionEvaluations,
    /// The number of Jacobian evaluations reached `max_iter`.
    MaxIterations,
    /// `info = 6`: `ftol` is too small; no further reduction of the sum of squares is possible.
    FtolTooSmall,
    /// `info = 7`: `xtol` is too small; no further improvement of the parameters is possible.
    XtolTooSmall,
    /// `info = 8`: `gtol` is too small; the residuals are orthogonal to the Jacobian columns to
    /// machine precision.
    GtolTooSmall,
    /// The Jacobian could not be evaluated (or was not finite) at an accepted point.
    NonFiniteJacobian,
}

impl Termination {
    /// The variant's name, as `Debug` prints it (and as reports carry it).
    ///
    /// ```
    /// use ligand_fit::lm::Termination;
    /// let t = Termination::SumOfSquaresConverged;
    /// assert_eq!(t.name(), format!("{t:?}"));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Termination::SumOfSquaresConverged => "SumOfSquaresConverged",
            Termination::ParametersConverged => "ParametersConverged",
            Termination::SumOfSquaresAndParametersConverged => "SumOfSquaresAndParametersConverged",
            Termination::GradientConverged => "GradientConverged",
            Termination::MaxFunctionEvaluations => "MaxFunctionEvaluations",
            Termination::MaxIterations => "MaxIterations",
            Termination::FtolTooSmall => "FtolTooSmall",
            Termination::XtolTooSmall => "XtolTooSmall",
            Termination::GtolTooSmall => "GtolTooSmall",
            Termination::NonFiniteJacobian => "NonFiniteJacobian",
        }
    }

    /// Whether a convergence test was met (MINPACK `info` 1 to 4).
    pub fn is_converged(self) -> bool {
        matches!(
            self,
            Termination::SumOfSquaresConverged
                | Termination::ParametersConverged
                | Termination::SumOfSquaresAndParametersConverged
                | Termination::GradientConverged
        )
    }

    /// Whether the solver stopped because it could make no further progress in double
    /// precision (MINPACK `info` 6 to 8). The point is usually as accurate as the data allow.
    pub fn is_at_machine_precision(self) -> bool {
        matches!(
            self,
            Termination::FtolTooSmall | Termination::XtolTooSmall | Termination::GtolTooSmall
        )
    }

    /// Whether a resource limit stopped the solver.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            Termination::MaxFunctionEvaluations | Termination::MaxIterations
        )
    }

    /// The MINPACK `info` code (0 for outcomes MINPACK does not have).
    pub fn minpack_info(self) -> u8 {
        match self {
            Termination::SumOfSquaresConverged => 1,
            Termination::ParametersConverged => 2,
            Termination::SumOfSquaresAndParametersConverged => 3,
            Termination::GradientConverged => 4,
            Termination::MaxFunctionEvaluations => 5,
            Termination::FtolTooSmall => 6,
            Termination::XtolTooSmall => 7,
            Termination::GtolTooSmall => 8,
            Termination::MaxIterations | Termination::NonFiniteJacobian => 0,
        }
    }
}

/// Errors that prevent [`minimize`] from starting.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LmError {
    /// A vector has the wrong length.
    #[error("{what} has length {found}, expected {expected}")]
    DimensionMismatch {
        /// Which input.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// Fewer residuals than free parameters, or no parameters.
    #[error("{n_residuals} residuals cannot determine {n_params} parameters")]
    Underdetermined {
        /// Number of residuals.
        n_residuals: usize,
        /// Number of parameters.
        n_params: usize,
    },
    /// An option is out of range.
    #[error("option {name} = {value} is out of range")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A bound is NaN, or lower exceeds upper.
    #[error("invalid bounds for parameter {index}: [{lower}, {upper}]")]
    InvalidBounds {
        /// Parameter index.
        index: usize,
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// A start value is not finite.
    #[error("start value of parameter {index} is {value}")]
    NonFiniteStart {
        /// Parameter index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The residuals could not be evaluated (or were not finite) at the start.
    #[error("residuals are not finite at the start point")]
    NonFiniteInitialResiduals,
}

/// The outcome of [`minimize`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmResult {
    /// The best parameters found.
    pub params: Vec<f64>,
    /// Sum of squared residuals at `params`, [`LeastSquaresProblem::constant_ss`] included.
    pub rss: f64,
    /// Number of accepted steps.
    pub n_iter: usize,
    /// Number of residual evaluations (the start included).
    pub n_fev: usize,
    /// Number of Jacobian evaluations.
    pub n_jev: usize,
    /// Largest cosine between the residuals and a (projected) Jacobian column at the last
    /// Jacobian evaluation.
    pub gradient_cosine: f64,
    /// Why the solver stopped.
    pub termination: Termination,
}

/// Reusable buffers for [`minimize`]; one per thread in batch work. The buffers grow to the
/// largest problem seen and are never shrunk, so a workspace reused across fits of the same size
/// allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct LmWorkspace {
    x: Vec<f64>,
    fvec: Vec<f64>,
    fjac: Vec<f64>,
    diag: Vec<f64>,
    qtf: Vec<f64>,
    ipvt: Vec<usize>,
    rdiag: Vec<f64>,
    acnorm: Vec<f64>,
    step: Vec<f64>,
    trial: Vec<f64>,
    trial_f: Vec<f64>,
    rstep: Vec<f64>,
    sdiag: Vec<f64>,
    lwa1: Vec<f64>,
    lwa2: Vec<f64>,
    frozen: Vec<bool>,
}

impl LmWorkspace {
    /// An empty workspace; it sizes itself on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// A workspace already sized for `n_residuals x n_params` problems.
    pub fn with_size(n_residuals: usize, n_params: usize) -> Self {
        let mut ws = Self::default();
        ws.prepare(n_residuals, n_params);
        ws
    }

    fn prepare(&mut self, m: usize, n: usize) {
        for v in [
            &mut self.x,
            &mut self.diag,
            &mut self.qtf,
            &mut self.rdiag,
            &mut self.acnorm,
            &mut self.step,
            &mut self.trial,
            &mut self.rstep,
            &mut self.sdiag,
            &mut self.lwa1,
            &mut self.lwa2,
        ] {
            v.resize(n, 0.0);
        }
        self.fvec.resize(m, 0.0);
        self.trial_f.resize(m, 0.0);
        self.fjac.resize(m * n, 0.0);
        self.ipvt.resize(n, 0);
        self.frozen.resize(n, false);
    }

    /// The residuals at the parameters of the last [`minimize`] result.
    pub fn residuals(&self) -> &[f64] {
        &self.fvec
    }
}

/// How far `p` is from a least-squares optimum, per parameter: the Gauss-Newton step at `p` (the
/// minimiser of the problem linearised there, `-J^+ r`) in units of each parameter's standard
/// error `sqrt(s^2 (J^T J)^-1_jj)`, with `s^2 = (||r||^2 + constant_ss) / df`.
///
/// At a converged optimum these ratios are tiny (the step is far inside the statistical
/// uncertainty); a ratio near or above 1e-6 means a solver stopped by a relative tolerance left
/// digits on the table (ill-conditioned problems such as NIST's MGH09, Thurber and ENSO at
/// 1e-10). Fills `ratio` (length `n`) and `step` (the step itself) and returns `false` when the
/// residuals or Jacobian are not finite at `p`, the Jacobian is rank-deficient (no standard
/// errors), or `df` is zero. It evaluates the problem at `p` (problems that cache their last
/// evaluation make this free after [`minimize`]) and uses the workspace as scratch.
///
/// ```
/// use ligand_fit::lm::{gauss_newton_ratios, minimize, LeastSquaresProblem, LmOptions, LmWorkspace};
/// // y = a x, data (1, 1.1), (2, 1.9), (3, 3.2): a linear problem, so one Gauss-Newton step from
/// // anywhere lands on the optimum.
/// struct Line;
/// impl LeastSquaresProblem for Line {
///     fn n_params(&self) -> usize { 1 }
///     fn n_residuals(&self) -> usize { 3 }
///     fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
///         for (i, y) in [1.1, 1.9, 3.2].iter().enumerate() { r[i] = y - p[0] * (i + 1) as f64; }
///         true
///     }
///     fn jacobian(&mut self, _: &[f64], j: &mut [f64]) -> bool {
///         for i in 0..3 { j[i] = -((i + 1) as f64); }
///         true
///     }
/// }
/// let (mut ws, mut ratio, mut step) = (LmWorkspace::new(), [0.0], [0.0]);
/// assert!(gauss_newton_ratios(&mut Line, &[1.0], 2, &mut ws, &mut ratio, &mut step));
/// // The optimum is a = (1.1 + 3.8 + 9.6) / 14.
/// assert!((1.0 + step[0] - 14.5 / 14.0).abs() < 1e-15);
/// let fit = minimize(&mut Line, &[1.0], None, &LmOptions::default(), &mut ws).unwrap();
/// assert!(gauss_newton_ratios(&mut Line, &fit.params, 2, &mut ws, &mut ratio, &mut step));
/// assert!(ratio[0] < 1e-10);
/// ```
pub fn gauss_newton_ratios<P: LeastSquaresProblem + ?Sized>(
    problem: &mut P,
    p: &[f64],
    df: usize,
    ws: &mut LmWorkspace,
    ratio: &mut [f64],
    step: &mut [f64],
) -> bool {
    let n = problem.n_params();
    let m = problem.n_residuals();
    if df == 0 || n == 0 || m < n || p.len() != n || ratio.len() != n || step.len() != n {
        return false;
    }
    ws.prepare(m, n);
    if !problem.residuals(p, &mut ws.fvec) || !problem.jacobian(p, &mut ws.fjac) {
        return false;
    }
    if !all_finite(&ws.fvec) || !all_finite(&ws.fjac[..m * n]) {
        return false;
    }
    let rss = sum_of_squares(&ws.fvec) + problem.constant_ss();
    let s2 = rss / df as f64;
    normal_equation_ratios(m, n, s2, ws, ratio, step) || qr_ratios(m, n, s2, ws, ratio, step)
}

/// [`gauss_newton_ratios`] through a pivoted QR of the Jacobian in `ws.fjac` (residuals in
/// `ws.fvec`): for every problem the normal equations decline.
fn qr_ratios(
    m: usize,
    n: usize,
    s2: f64,
    ws: &mut LmWorkspace,
    ratio: &mut [f64],
    step: &mut [f64],
) -> bool {
    qr_factor_pivoted(
        m,
        n,
        &mut ws.fjac,
        &mut ws.ipvt,
        &mut ws.rdiag,
        &mut ws.acnorm,
        &mut ws.lwa1,
    );
    // A numerically singular R: no standard errors, no meaningful ratios.
    let rmax = ws.rdiag.iter().fold(0.0f64, |a, r| a.max(r.abs()));
    if rmax == 0.0 || ws.rdiag.iter().any(|r| r.abs() <= 1e3 * EPSMCH * rmax) {
        return false;
    }
    ws.trial_f.copy_from_slice(&ws.fvec);
    apply_qt(m, n, &ws.fjac, &mut ws.trial_f);
    // R z = -(Q^T r)[..n] by back substitution; R's strict upper triangle is in fjac.
    let r_at = |i: usize, j: usize, ws: &LmWorkspace| {
        if i == j {
            ws.rdiag[j]
        } else {
            ws.fjac[j * m + i]
        }
    };
    for i in (0..n).rev() {
        let mut sum = -ws.trial_f[i];
        for j in i + 1..n {
            sum -= r_at(i, j, ws) * ws.lwa2[j];
        }
        ws.lwa2[i] = sum / ws.rdiag[i];
    }
    // (J^T J)^-1 = P R^-1 R^-T P^T: the squared norm of row i of R^-1 is its diagonal entry.
    // Column k of R^-1 solves R c = e_k (zero below row k).
    for v in ws.sdiag.iter_mut() {
        *v = 0.0;
    }
    for k in 0..n {
        for i in (0..=k).rev() {
            let mut sum = if i == k { 1.0 } else { 0.0 };
            for j in i + 1..=k {
                sum -= r_at(i, j, ws) * ws.lwa1[j];
            }
            ws.lwa1[i] = sum / ws.rdiag[i];
            ws.sdiag[i] += ws.lwa1[i] * ws.lwa1[i];
        }
    }
    for j in 0..n {
        let k = ws.ipvt[j];
        step[k] = ws.lwa2[j];
        let se = (s2 * ws.sdiag[j]).sqrt();
        ratio[k] = if se > 0.0 {
            ws.lwa2[j].abs() / se
        } else if ws.lwa2[j] == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    true
}

/// [`gauss_newton_ratios`] through the column-scaled normal equations `D J^T J D` and a Cholesky
/// factor: a few hundred operations for a small problem instead of a pivoted QR. Declines
/// (returns `false`, leaving the QR path to answer) when the scaled matrix is not comfortably
/// positive definite, where squaring the condition number would cost accuracy.
fn normal_equation_ratios(
    m: usize,
    n: usize,
    s2: f64,
    ws: &mut LmWorkspace,
    ratio: &mut [f64],
    step: &mut [f64],
) -> bool {
    const MAX_N: usize = 8;
    if n > MAX_N {
        return false;
    }
    let jac = &ws.fjac[..m * n];
    // Column scales d_j = 1 / ||J_j|| (in lwa1) and the scaled gradient D J^T r (in lwa2).
    for j in 0..n {
        let col = &jac[j * m..(j + 1) * m];
        // A plain sum of squares: a column whose squares overflow or underflow declines here,
        // and the QR path (MINPACK's scaled norms) takes it.
        let norm = dot(col, col).sqrt();
        if !(norm > 1e-150 && norm < 1e150) {
            return false;
        }
        ws.lwa1[j] = 1.0 / norm;
        ws.lwa2[j] = dot(col, &ws.fvec) * ws.lwa1[j];
    }
    // A = D J^T J D (unit diagonal), lower triangle, in a stack array.
    let mut a = [0.0f64; MAX_N * MAX_N];
    for j in 0..n {
        let cj = &jac[j * m..(j + 1) * m];
        for k in 0..=j {
            let ck = &jac[k * m..(k + 1) * m];
            a[j * n + k] = dot(cj, ck) * ws.lwa1[j] * ws.lwa1[k];
        }
    }
    // Cholesky A = L L^T in place; a pivot below 1e-8 means cond(A) above about 1e8.
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d.is_nan() || d <= 1e-8 {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / d;
        }
    }
    // z = -A^-1 (D J^T r): forward then backward substitution (z in sdiag).
    for i in 0..n {
        let mut v = -ws.lwa2[i];
        for k in 0..i {
            v -= a[i * n + k] * ws.sdiag[k];
        }
        ws.sdiag[i] = v / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut v = ws.sdiag[i];
        for k in i + 1..n {
            v -= a[k * n + i] * ws.sdiag[k];
        }
        ws.sdiag[i] = v / a[i * n + i];
    }
    // diag(A^-1)_j = sum over rows i of (L^-1)_ij^2; column j of L^-1 solves L c = e_j.
    for j in 0..n {
        let mut sum = 0.0;
        // c_i for i >= j, kept in rdiag.
        for i in j..n {
            let mut v = if i == j { 1.0 } else { 0.0 };
            for k in j..i {
                v -= a[i * n + k] * ws.rdiag[k];
            }
            ws.rdiag[i] = v / a[i * n + i];
            sum += ws.rdiag[i] * ws.rdiag[i];
        }
        // delta_j = d_j z_j; (J^T J)^-1_jj = d_j^2 (A^-1)_jj.
        let delta = ws.lwa1[j] * ws.sdiag[j];
        let se = (s2 * sum).sqrt() * ws.lwa1[j];
        step[j] = delta;
        ratio[j] = if se > 0.0 {
            delta.abs() / se
        } else if delta == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    true
}

/// Minimise `||r(p)||^2` from `p0`, optionally within `bounds`.
///
/// Returns an error only when the inputs are invalid or the residuals are not finite at the
/// (projected) start; every other outcome is a [`LmResult`] whose
/// [`termination`](LmResult::termination) says why the iteration stopped. After the call,
/// [`LmWorkspace::residuals`] holds the residuals at the returned parameters.
pub fn minimize<P: LeastSquaresProblem + ?Sized>(
    problem: &mut P,
    p0: &[f64],
    bounds: Option<&Bounds>,
    opts: &LmOptions,
    ws: &mut LmWorkspace,
) -> Result<LmResult, LmError> {
    let n = problem.n_params();
    let m = problem.n_residuals();
    if p0.len() != n {
        return Err(LmError::DimensionMismatch {
            what: "start vector",
            expected: n,
            found: p0.len(),
        });
    }
    if n == 0 || m < n {
        return Err(LmError::Underdetermined {
            n_residuals: m,
            n_params: n,
        });
    }
    opts.validate()?;
    if let Some((index, &value)) = p0.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LmError::NonFiniteStart { index, value });
    }
    let bounds = match bounds {
        Some(b) => {
            b.validate(n)?;
            if b.is_unbounded() {
                None
            } else {
                Some(b)
            }
        }
        None => None,
    };
    ws.prepare(m, n);
    let max_fev = opts.max_fev_for(n);
    let max_iter = opts.max_iter.unwrap_or(usize::MAX);
    let (ftol, xtol, gtol, factor) = (opts.ftol, opts.xtol, opts.gtol, opts.factor);

    let LmWorkspace {
        x,
        fvec,
        fjac,
        diag,
        qtf,
        ipvt,
        rdiag,
        acnorm,
        step,
        trial,
        trial_f,
        rstep,
        sdiag,
        lwa1,
        lwa2,
        frozen,
    } = ws;

    x.copy_from_slice(p0);
    if let Some(b) = bounds {
        for (j, xj) in x.iter_mut().enumerate() {
            *xj = b.project(j, *xj);
        }
    }

    // The norm of the full residual vector: the residuals and the constant part.
    let constant = problem.constant_ss();
    let constant = if constant.is_finite() && constant > 0.0 {
        constant
    } else {
        0.0
    };
    let full_norm = |r: &[f64]| {
        if constant == 0.0 {
            enorm(r)
        } else {
            (sum_of_squares(r) + constant).sqrt()
        }
    };

    let mut n_fev = 1;
    if !problem.residuals(x, fvec) || !all_finite(fvec) {
        return Err(LmError::NonFiniteInitialResiduals);
    }
    let mut fnorm = full_norm(fvec);

    let mut par = 0.0_f64;
    let mut iter = 1_usize;
    let mut n_jev = 0_usize;
    let mut xnorm = 0.0_f64;
    let mut delta = 0.0_f64;
    let mut gnorm = f64::NAN;

    let termination = 'outer: loop {
        if n_jev >= max_iter {
            break Termination::MaxIterations;
        }
        // Jacobian at the current (accepted) point.
        n_jev += 1;
        if !problem.jacobian(x, fjac) || !all_finite(fjac) {
            break Termination::NonFiniteJacobian;
        }

        // Active bounds: freeze parameters held on a bound by the gradient.
        let mut any_frozen = false;
        if let Some(b) = bounds {
            for j in 0..n {
                let at_lower = x[j] <= b.lower[j];
                let at_upper = x[j] >= b.upper[j];
                let mut freeze = false;
                if at_lower || at_upper {
                    let col = &fjac[j * m..(j + 1) * m];
                    let g = dot(col, fvec);
                    freeze = match (at_lower, at_upper) {
                        (true, true) => true,
                        (true, false) => g >= 0.0,
                        (false, true) => g <= 0.0,
                        (false, false) => false,
                    };
                    if freeze {
                        // Remember the true column norm for the scaling, then remove the column.
                        lwa1[j] = enorm(col);
                        fjac[j * m..(j + 1) * m].fill(0.0);
                    }
                }
                frozen[j] = freeze;
                any_frozen |= freeze;
            }
        }

        qr_factor_pivoted(m, n, fjac, ipvt, rdiag, acnorm, lwa2);
        if any_frozen {
            for j in 0..n {
                if frozen[j] {
                    acnorm[j] = lwa1[j];
                }
            }
        }

        if iter == 1 {
            for j in 0..n {
                diag[j] = if acnorm[j] == 0.0 { 1.0 } else { acnorm[j] };
            }
            xnorm = scaled_norm(diag, x);
            delta = factor * xnorm;
            if delta == 0.0 {
                delta = factor;
            }
        }

        // Form Q^T r in trial_f and store its first n components in qtf; put the diagonal of R
        // back into the factor.
        trial_f.copy_from_slice(fvec);
        for j in 0..n {
            let v = &fjac[j * m + j..(j + 1) * m];
            let vjj = v[0];
            if vjj != 0.0 {
                let tail = &mut trial_f[j..m];
                let temp = -dot(v, tail) / vjj;
                for (t, vi) in tail.iter_mut().zip(v) {
                    *t += temp * vi;
                }
            }
            fjac[j + j * m] = rdiag[j];
            qtf[j] = trial_f[j];
        }

        // The scaled gradient test: the largest cosine between r and a column of J.
        gnorm = 0.0;
        if fnorm != 0.0 {
            for j in 0..n {
                let l = ipvt[j];
                if acnorm[l] != 0.0 && !frozen_at(frozen, l, any_frozen) {
                    let mut sum = 0.0;
                    for i in 0..=j {
                        sum += fjac[i + j * m] * (qtf[i] / fnorm);
                    }
                    gnorm = f64::max(gnorm, (sum / acnorm[l]).abs());
                }
            }
        }
        if gnorm <= gtol {
            break Termination::GradientConverged;
        }

        for j in 0..n {
            diag[j] = diag[j].max(acnorm[j]);
        }

        // The inner loop: find a step that the trust-region test accepts.
        loop {
            par = lmpar(
                n, fjac, m, ipvt, diag, qtf, delta, par, step, sdiag, lwa1, lwa2,
            );

            for s in step.iter_mut() {
                *s = -*s;
            }
            if any_frozen {
                for j in 0..n {
                    if frozen[j] {
                        step[j] = 0.0;
                    }
                }
            }
            let mut projected = false;
            for j in 0..n {
                trial[j] = x[j] + step[j];
            }
            if let Some(b) = bounds {
                for j in 0..n {
                    let t = b.project(j, trial[j]);
                    if t != trial[j] {
                        trial[j] = t;
                        step[j] = t - x[j];
                        projected = true;
                    }
                }
            }
            let pnorm = scaled_norm(diag, step);

            // On the first iteration, adjust the initial step bound.
            if iter == 1 {
                delta = delta.min(pnorm);
            }

            n_fev += 1;
            let ok = problem.residuals(trial, trial_f);
            let fnorm1 = if ok {
                full_norm(trial_f)
            } else {
                f64::INFINITY
            };
            let fnorm1 = if fnorm1.is_finite() {
                fnorm1
            } else {
                f64::INFINITY
            };

            let mut actred = -1.0;
            if 0.1 * fnorm1 < fnorm {
                let q = fnorm1 / fnorm;
                actred = 1.0 - q * q;
            }

            // R P^T step, for the predicted reduction.
            for j in 0..n {
                rstep[j] = 0.0;
                let temp = step[ipvt[j]];
                for i in 0..=j {
                    rstep[i] += fjac[i + j * m] * temp;
                }
            }
            let temp1 = enorm(&rstep[..n]) / fnorm;
            let (prered, dirder, ratio);
            if !projected {
                let temp2 = par.sqrt() * pnorm / fnorm;
                prered = temp1 * temp1 + temp2 * temp2 / 0.5;
                dirder = -(temp1 * temp1 + temp2 * temp2);
                ratio = if prered != 0.0 { actred / prered } else { 0.0 };
            } else {
                // Exact linear-model reduction for the projected step.
                let qd = dot(&qtf[..n], &rstep[..n]) / (fnorm * fnorm);
                prered = -(2.0 * qd + temp1 * temp1);
                dirder = qd;
                ratio = if prered > 0.0 { actred / prered } else { 0.0 };
            }

            // Update the trust region and the Levenberg parameter.
            if ratio <= 0.25 {
                let mut temp = if actred >= 0.0 {
                    0.5
                } else {
                    0.5 * dirder / (dirder + 0.5 * actred)
                };
                if 0.1 * fnorm1 >= fnorm || temp < 0.1 {
                    temp = 0.1;
                }
                if projected && (temp.is_nan() || temp > 0.5 || dirder >= 0.0) {
                    temp = if temp.is_nan() || dirder >= 0.0 {
                        0.1
                    } else {
                        0.5
                    };
                }
                delta = temp * delta.min(pnorm / 0.1);
                par /= temp;
            } else if par == 0.0 || ratio >= 0.75 {
                delta = pnorm / 0.5;
                par *= 0.5;
            }

            // Accept a successful step.
            if ratio >= 1e-4 {
                std::mem::swap(x, trial);
                std::mem::swap(fvec, trial_f);
                xnorm = scaled_norm(diag, x);
                fnorm = fnorm1;
                iter += 1;
            }

            // Convergence tests. A projected step the model does not predict to reduce the sum
            // of squares says nothing about convergence of the sum of squares.
            let reduction_meaningful = !projected || prered > 0.0;
            let ftol_met = reduction_meaningful
                && actred.abs() <= ftol
                && prered <= ftol
                && 0.5 * ratio <= 1.0;
            let xtol_met = delta <= xtol * xnorm;
            match (ftol_met, xtol_met) {
                (true, true) => break 'outer Termination::SumOfSquaresAndParametersConverged,
                (true, false) => break 'outer Termination::SumOfSquaresConverged,
                (false, true) => break 'outer Termination::ParametersConverged,
                (false, false) => {}
            }
            if n_fev >= max_fev {
                break 'outer Termination::MaxFunctionEvaluations;
            }
            if reduction_meaningful
                && actred.abs() <= EPSMCH
                && prered <= EPSMCH
                && 0.5 * ratio <= 1.0
            {
                break 'outer Termination::FtolTooSmall;
            }
            if delta <= EPSMCH * xnorm {
                break 'outer Termination::XtolTooSmall;
            }
            if gnorm <= EPSMCH {
                break 'outer Termination::GtolTooSmall;
            }
            if ratio >= 1e-4 {
                break;
            }
        }
    };

    Ok(LmResult {
        params: x.clone(),
        rss: fnorm * fnorm,
        n_iter: iter - 1,
        n_fev,
        n_jev,
        gradient_cosine: gnorm,
        termination,
    })
}

#[inline]
fn frozen_at(frozen: &[bool], j: usize, any_frozen: bool) -> bool {
    any_frozen && frozen[j]
}

/// `||D x||` for diagonal `D`.
#[inline]
fn scaled_norm(diag: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (d, v) in diag.iter().zip(x) {
        let t = d * v;
        s += t * t;
    }
    if s > 1e-280 && s < 1e280 {
        s.sqrt()
    } else {
        let mut amax = 0.0_f64;
        for (d, v) in diag.iter().zip(x) {
            amax = amax.max((d * v).abs());
        }
        if amax == 0.0 || !amax.is_finite() {
            return amax;
        }
        let mut s = 0.0;
        for (d, v) in diag.iter().zip(x) {
            let t = d * v / amax;
            s += t * t;
        }
        amax * s.sqrt()
    }
}

/// The Levenberg-Marquardt parameter (MINPACK `lmpar`).
///
/// Given the pivoted QR factor `R` of `J` (upper triangle of `r`, leading dimension `ldr`),
/// `diag = D`, `qtb = Q^T r` (first `n`), the radius `delta` and an initial estimate `par`,
/// returns `lambda` and writes into `x` the solution of
/// `(J^T J + lambda D^2) x = J^T r` (the negated step), such that either `lambda = 0` and
/// `||D x|| <= 1.1 delta`, or `| ||D x|| - delta | <= 0.1 delta`, to within ten iterations.
#[allow(clippy::too_many_arguments)]
fn lmpar(
    n: usize,
    r: &mut [f64],
    ldr: usize,
    ipvt: &[usize],
    diag: &[f64],
    qtb: &[f64],
    delta: f64,
    par_in: f64,
    x: &mut [f64],
    sdiag: &mut [f64],
    wa1: &mut [f64],
    wa2: &mut [f64],
) -> f64 {
    // The Gauss-Newton direction; a least-squares solution if J is rank-deficient.
    let mut nsing = n;
    for j in 0..n {
        wa1[j] = qtb[j];
        if r[j + j * ldr] == 0.0 && nsing == n {
            nsing = j;
        }
        if nsing < n {
            wa1[j] = 0.0;
        }
    }
    for j in (0..nsing).rev() {
        wa1[j] /= r[j + j * ldr];
        let temp = wa1[j];
        for i in 0..j {
            wa1[i] -= r[i + j * ldr] * temp;
        }
    }
    for j in 0..n {
        x[ipvt[j]] = wa1[j];
    }

    // Accept the Gauss-Newton direction if it lies inside the region.
    let mut iter = 0;
    for j in 0..n {
        wa2[j] = diag[j] * x[j];
    }
    let mut dxnorm = enorm(&wa2[..n]);
    let mut fp = dxnorm - delta;
    if fp <= 0.1 * delta {
        return 0.0;
    }

    // A lower bound parl for the zero of the secular function; with a full-rank Jacobian the
    // Newton step gives one, otherwise zero.
    let mut parl = 0.0;
    if nsing >= n {
        for j in 0..n {
            let l = ipvt[j];
            wa1[j] = diag[l] * (wa2[l] / dxnorm);
        }
        for j in 0..n {
            let mut sum = 0.0;
            for i in 0..j {
                sum += r[i + j * ldr] * wa1[i];
            }
            wa1[j] = (wa1[j] - sum) / r[j + j * ldr];
        }
        let temp = enorm(&wa1[..n]);
        parl = ((fp / delta) / temp) / temp;
    }

    // An upper bound paru.
    for j in 0..n {
        let mut sum = 0.0;
        for i in 0..=j {
            sum += r[i + j * ldr] * qtb[i];
        }
        wa1[j] = sum / diag[ipvt[j]];
    }
    let gnorm = enorm(&wa1[..n]);
    let mut paru = gnorm / delta;
    if paru == 0.0 {
        paru = DWARF / delta.min(0.1);
    }

    // Move the estimate into (parl, paru) if it is outside.
    let mut par = par_in.max(parl).min(paru);
    if par == 0.0 {
        par = gnorm / dxnorm;
    }

    loop {
        iter += 1;
        if par == 0.0 {
            par = DWARF.max(0.001 * paru);
        }
        let temp = par.sqrt();
        for j in 0..n {
            wa1[j] = temp * diag[j];
        }
        qr_solve_damped(n, r, ldr, ipvt, &wa1[..n], qtb, x, sdiag, wa2);
        for j in 0..n {
            wa2[j] = diag[j] * x[j];
        }
        dxnorm = enorm(&wa2[..n]);
        let temp = fp;
        fp = dxnorm - delta;

        // Accept par when ||D x|| is within 10 % of delta, or when parl = 0 and the secular
        // function increases through a negative value, or after ten iterations.
        if fp.abs() <= 0.1 * delta || (parl == 0.0 && fp <= temp && temp < 0.0) || iter == 10 {
            break;
        }

        // The Newton correction.
        for j in 0..n {
            let l = ipvt[j];
            wa1[j] = diag[l] * (wa2[l] / dxnorm);
        }
        for j in 0..n {
            wa1[j] /= sdiag[j];
            let temp = wa1[j];
            for i in j + 1..n {
                wa1[i] -= r[i + j * ldr] * temp;
            }
        }
        let temp = enorm(&wa1[..n]);
        let parc = ((fp / delta) / temp) / temp;

        if fp > 0.0 {
            parl = parl.max(par);
        }
        if fp < 0.0 {
            paru = paru.min(par);
        }
        par = parl.max(par + parc);
    }
    par
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normal-equation and QR paths of `gauss_newton_ratios` agree on a well-conditioned
    /// problem, and the normal equations decline an ill-conditioned one.
    #[test]
    fn gauss_newton_ratios_by_normal_equations_equal_those_by_qr() {
        let (m, n) = (12, 4);
        let mut ws = LmWorkspace::with_size(m, n);
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64) / ((1u64 << 53) as f64) - 0.5
        };
        for v in ws.fjac.iter_mut() {
            *v = next();
        }
        for v in ws.fvec.iter_mut() {
            *v = 0.1 * next();
        }
        let jac = ws.fjac.clone();
        let (mut r1, mut s1, mut r2, mut s2) = ([0.0; 4], [0.0; 4], [0.0; 4], [0.0; 4]);
        assert!(normal_equation_ratios(
            m, n, 0.01, &mut ws, &mut r1, &mut s1
        ));
        assert!(qr_ratios(m, n, 0.01, &mut ws, &mut r2, &mut s2));
        for j in 0..n {
            assert!(
                (r1[j] - r2[j]).abs() <= 1e-10 * r2[j].abs(),
                "{r1:?} {r2:?}"
            );
            assert!(
                (s1[j] - s2[j]).abs() <= 1e-10 * s2[j].abs(),
                "{s1:?} {s2:?}"
            );
        }
        // Two nearly equal columns: cond(J^T J) far above 1e8.
        ws.fjac.copy_from_slice(&jac);
        for i in 0..m {
            ws.fjac[m + i] = ws.fjac[i] * (1.0 + 1e-7 * (i as f64));
        }
        assert!(!normal_equation_ratios(
            m, n, 0.01, &mut ws, &mut r1, &mut s1
        ));
        assert!(qr_ratios(m, n, 0.01, &mut ws, &mut r2, &mut s2));
    }

    /// Residuals and Jacobian from closures, for small test problems.
    struct Closure<F, J> {
        n: usize,
        m: usize,
        f: F,
        j: J,
    }

    impl<F, J> LeastSquaresProblem for Closure<F, J>
    where
        F: FnMut(&[f64], &mut [f64]) -> bool,
        J: FnMut(&[f64], &mut [f64]) -> bool,
    {
        fn n_params(&self) -> usize {
            self.n
        }
        fn n_residuals(&self) -> usize {
            self.m
        }
        fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
            (self.f)(p, r)
        }
        fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
            (self.j)(p, jac)
        }
    }

    fn rosenbrock() -> impl LeastSquaresProblem {
        Closure {
            n: 2,
            m: 2,
            f: |p: &[f64], r: &mut [f64]| {
                r[0] = 10.0 * (p[1] - p[0] * p[0]);
                r[1] = 1.0 - p[0];
                true
            },
            j: |p: &[f64], jac: &mut [f64]| {
                jac.copy_from_slice(&[-20.0 * p[0], -1.0, 10.0, 0.0]);
                true
            },
        }
    }

    fn tight() -> LmOptions {
        LmOptions::default().with_tolerance(1e-14)
    }

    /// Quadratic y = c0 + c1 x + c2 x^2 fitted to fixed data, versus the normal equations solved
    /// in closed form (Cramer's rule on the 3 x 3 system).
    #[test]
    fn linear_problem_matches_closed_form() {
        let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.5).collect();
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &x)| 1.0 - 2.0 * x + 0.3 * x * x + 0.1 * ((i * 7 % 5) as f64 - 2.0))
            .collect();
        let m = x.len();
        let (xs, ys) = (x.clone(), y.clone());
        let mut problem = Closure {
            n: 3,
            m,
            f: move |p: &[f64], r: &mut [f64]| {
                for i in 0..xs.len() {
                    r[i] = ys[i] - (p[0] + p[1] * xs[i] + p[2] * xs[i] * xs[i]);
                }
                true
            },
            j: {
                let xs = x.clone();
                move |_p: &[f64], jac: &mut [f64]| {
                    let m = xs.len();
                    for i in 0..m {
                        jac[i] = -1.0;
                        jac[i + m] = -xs[i];
                        jac[i + 2 * m] = -xs[i] * xs[i];
                    }
                    true
                }
            },
        };
        // Normal equations A c = b with A_kl = sum x^(k+l), b_k = sum y x^k.
        let s = |k: i32| x.iter().map(|&v| v.powi(k)).sum::<f64>();
        let t = |k: i32| x.iter().zip(&y).map(|(&v, &w)| w * v.powi(k)).sum::<f64>();
        let a = [[s(0), s(1), s(2)], [s(1), s(2), s(3)], [s(2), s(3), s(4)]];
        let b = [t(0), t(1), t(2)];
        let det3 = |a: [[f64; 3]; 3]| {
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        };
        let d = det3(a);
        let mut expected = [0.0; 3];
        for (k, e) in expected.iter_mut().enumerate() {
            let mut ak = a;
            for row in 0..3 {
                ak[row][k] = b[row];
            }
            *e = det3(ak) / d;
        }

        let mut ws = LmWorkspace::new();
        let fit = minimize(&mut problem, &[0.0, 0.0, 0.0], None, &tight(), &mut ws).unwrap();
        assert!(fit.termination.is_converged() || fit.termination.is_at_machine_precision());
        for k in 0..3 {
            assert!(
                (fit.params[k] - expected[k]).abs() < 1e-10 * (1.0 + expected[k].abs()),
                "{:?} vs {expected:?}",
                fit.params
            );
        }
        // A linear problem is solved by the first Gauss-Newton step once the trust region allows
        // it.
        assert!(fit.n_jev <= 4, "{fit:?}");
        let rss: f64 = ws.residuals().iter().map(|r| r * r).sum();
        assert!((rss - fit.rss).abs() <= 1e-12 * rss);
    }

    #[test]
    fn rosenbrock_reaches_minimum() {
        let mut ws = LmWorkspace::new();
        let fit = minimize(&mut rosenbrock(), &[-1.2, 1.0], None, &tight(), &mut ws).unwrap();
        assert!(fit.termination.is_converged(), "{fit:?}");
        assert!((fit.params[0] - 1.0).abs() < 1e-12 && (fit.params[1] - 1.0).abs() < 1e-12);
        assert!(fit.rss < 1e-28);
        // MINPACK lmder on this problem from the standard start (Moré, Garbow and Hillstrom 1981,
        // problem 1) needs about 20 evaluations; a regression here means a changed algorithm.
        assert!(fit.n_fev < 40, "{fit:?}");
        eprintln!("rosenbrock {fit:?}");
    }

    #[test]
    fn bounded_rosenbrock_stops_on_the_bound() {
        // With p0 <= 0.5 the constrained minimum is (0.5, 0.25): the bound is active.
        let bounds = Bounds::new(
            vec![f64::NEG_INFINITY, f64::NEG_INFINITY],
            vec![0.5, f64::INFINITY],
        );
        let mut ws = LmWorkspace::new();
        let fit = minimize(
            &mut rosenbrock(),
            &[-1.2, 1.0],
            Some(&bounds),
            &tight(),
            &mut ws,
        )
        .unwrap();
        assert!(
            fit.termination.is_converged() || fit.termination.is_at_machine_precision(),
            "{fit:?}"
        );
        assert_eq!(fit.params[0], 0.5);
        assert!((fit.params[1] - 0.25).abs() < 1e-12, "{fit:?}");
        assert!((fit.rss - 0.25).abs() < 1e-12);
        eprintln!("bounded rosenbrock {fit:?}");
    }

    /// y = a exp(-k t) with the data's k = 0.5 but k constrained to [0.8, 2]: the optimum has
    /// k = 0.8 exactly and a the least-squares amplitude for that k.
    #[test]
    fn bounded_decay_rate_is_clamped() {
        let t: Vec<f64> = (0..10).map(|i| i as f64 * 0.5).collect();
        let y: Vec<f64> = t.iter().map(|&t| 3.0 * (-0.5 * t).exp()).collect();
        let (t1, y1, t2) = (t.clone(), y.clone(), t.clone());
        let mut problem = Closure {
            n: 2,
            m: t.len(),
            f: move |p: &[f64], r: &mut [f64]| {
                for i in 0..t1.len() {
                    r[i] = y1[i] - p[0] * (-p[1] * t1[i]).exp();
                }
                true
            },
            j: move |p: &[f64], jac: &mut [f64]| {
                let m = t2.len();
                for i in 0..m {
                    let e = (-p[1] * t2[i]).exp();
                    jac[i] = -e;
                    jac[i + m] = p[0] * t2[i] * e;
                }
                true
            },
        };
        let bounds = Bounds::new(vec![0.0, 0.8], vec![f64::INFINITY, 2.0]);
        let mut ws = LmWorkspace::new();
        let fit = minimize(&mut problem, &[1.0, 1.5], Some(&bounds), &tight(), &mut ws).unwrap();
        assert!(
            fit.termination.is_converged() || fit.termination.is_at_machine_precision(),
            "{fit:?}"
        );
        assert_eq!(fit.params[1], 0.8);
        // For fixed k the optimal amplitude is sum(y e) / sum(e^2).
        let (mut sye, mut see) = (0.0, 0.0);
        for (&t, &y) in t.iter().zip(&y) {
            let e = (-0.8 * t).exp();
            sye += y * e;
            see += e * e;
        }
        assert!((fit.params[0] - sye / see).abs() < 1e-10, "{fit:?}");
    }

    #[test]
    fn inactive_bounds_change_nothing() {
        let mut ws = LmWorkspace::new();
        let free = minimize(&mut rosenbrock(), &[-1.2, 1.0], None, &tight(), &mut ws).unwrap();
        let wide = Bounds::new(vec![-10.0, -10.0], vec![10.0, 10.0]);
        let boxed = minimize(
            &mut rosenbrock(),
            &[-1.2, 1.0],
            Some(&wide),
            &tight(),
            &mut ws,
        )
        .unwrap();
        let infinite = Bounds::unbounded(2);
        let inf = minimize(
            &mut rosenbrock(),
            &[-1.2, 1.0],
            Some(&infinite),
            &tight(),
            &mut ws,
        )
        .unwrap();
        // Step for step the same iteration: identical bits and counts.
        assert_eq!(free, boxed);
        assert_eq!(free, inf);
    }

    #[test]
    fn infeasible_start_is_projected_and_equal_bounds_fix() {
        let bounds = Bounds::new(vec![2.0, 0.7], vec![3.0, 0.7]);
        let mut ws = LmWorkspace::new();
        let fit = minimize(
            &mut rosenbrock(),
            &[-1.2, 1.0],
            Some(&bounds),
            &tight(),
            &mut ws,
        )
        .unwrap();
        assert_eq!(fit.params, vec![2.0, 0.7]);
        assert_eq!(fit.termination, Termination::GradientConverged);
    }

    #[test]
    fn failed_trial_points_shrink_the_region() {
        // Residuals undefined for p < 0 (as for a log-scale parameter); the minimum is at
        // p = 0.01 and the first step from p = 1 overshoots into the undefined region.
        let mut problem = Closure {
            n: 1,
            m: 2,
            f: |p: &[f64], r: &mut [f64]| {
                if p[0] <= 0.0 {
                    return false;
                }
                r[0] = p[0].sqrt() - 0.1;
                r[1] = 0.0;
                true
            },
            j: |p: &[f64], jac: &mut [f64]| {
                jac[0] = 0.5 / p[0].sqrt();
                jac[1] = 0.0;
                true
            },
        };
        let mut ws = LmWorkspace::new();
        let opts = LmOptions {
            factor: 100.0,
            ..tight()
        };
        let fit = minimize(&mut problem, &[1.0], None, &opts, &mut ws).unwrap();
        assert!((fit.params[0] - 0.01).abs() < 1e-12, "{fit:?}");
    }

    #[test]
    fn zero_residual_start_stops_immediately() {
        let mut ws = LmWorkspace::new();
        let fit = minimize(&mut rosenbrock(), &[1.0, 1.0], None, &tight(), &mut ws).unwrap();
        assert_eq!(fit.termination, Termination::GradientConverged);
        assert_eq!((fit.n_fev, fit.n_jev, fit.n_iter), (1, 1, 0));
    }

    #[test]
    fn limits_are_reported() {
        let mut ws = LmWorkspace::new();
        let opts = LmOptions {
            max_fev: Some(3),
            ..tight()
        };
        let fit = minimize(&mut rosenbrock(), &[-1.2, 1.0], None, &opts, &mut ws).unwrap();
        assert_eq!(fit.termination, Termination::MaxFunctionEvaluations);
        assert_eq!(fit.n_fev, 3);
        assert!(fit.termination.is_limit());
        let opts = LmOptions {
            max_iter: Some(2),
            ..tight()
        };
        let fit = minimize(&mut rosenbrock(), &[-1.2, 1.0], None, &opts, &mut ws).unwrap();
        assert_eq!(fit.termination, Termination::MaxIterations);
        assert_eq!(fit.n_jev, 2);
    }

    #[test]
    fn non_finite_jacobian_stops() {
        let mut problem = Closure {
            n: 1,
            m: 1,
            f: |p: &[f64], r: &mut [f64]| {
                r[0] = p[0];
                true
            },
            j: |_p: &[f64], jac: &mut [f64]| {
                jac[0] = f64::NAN;
                true
            },
        };
        let fit = minimize(
            &mut problem,
            &[1.0],
            None,
            &tight(),
            &mut LmWorkspace::new(),
        )
        .unwrap();
        assert_eq!(fit.termination, Termination::NonFiniteJacobian);
        assert_eq!(fit.params, vec![1.0]);
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut ws = LmWorkspace::new();
        let mut p = rosenbrock();
        let o = LmOptions::default();
        assert!(matches!(
            minimize(&mut p, &[1.0], None, &o, &mut ws),
            Err(LmError::DimensionMismatch {
                expected: 2,
                found: 1,
                ..
            })
        ));
        assert!(matches!(
            minimize(&mut p, &[f64::NAN, 1.0], None, &o, &mut ws),
            Err(LmError::NonFiniteStart { index: 0, .. })
        ));
        for (name, opts) in [
            ("ftol", LmOptions { ftol: -1.0, ..o }),
            (
                "xtol",
                LmOptions {
                    xtol: f64::NAN,
                    ..o
                },
            ),
            ("gtol", LmOptions { gtol: -0.5, ..o }),
            ("factor", LmOptions { factor: 0.0, ..o }),
            (
                "factor",
                LmOptions {
                    factor: f64::INFINITY,
                    ..o
                },
            ),
            (
                "max_fev",
                LmOptions {
                    max_fev: Some(0),
                    ..o
                },
            ),
            (
                "max_iter",
                LmOptions {
                    max_iter: Some(0),
                    ..o
                },
            ),
        ] {
            match minimize(&mut p, &[1.0, 1.0], None, &opts, &mut ws) {
                Err(LmError::InvalidOption { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        for (bounds, index) in [
            (Bounds::new(vec![0.0, 2.0], vec![1.0, 1.0]), Some(1)),
            (Bounds::new(vec![f64::NAN, 0.0], vec![1.0, 1.0]), Some(0)),
            (
                Bounds::new(vec![f64::INFINITY, 0.0], vec![f64::INFINITY, 1.0]),
                Some(0),
            ),
            (Bounds::new(vec![0.0], vec![1.0]), None),
        ] {
            let err = minimize(&mut p, &[1.0, 1.0], Some(&bounds), &o, &mut ws).unwrap_err();
            match (err, index) {
                (LmError::InvalidBounds { index: got, .. }, Some(want)) => assert_eq!(got, want),
                (LmError::DimensionMismatch { what: "bounds", .. }, None) => {}
                (e, _) => panic!("{e:?}"),
            }
        }
        let mut under = Closure {
            n: 3,
            m: 2,
            f: |_: &[f64], _: &mut [f64]| true,
            j: |_: &[f64], _: &mut [f64]| true,
        };
        assert!(matches!(
            minimize(&mut under, &[0.0; 3], None, &o, &mut ws),
            Err(LmError::Underdetermined {
                n_residuals: 2,
                n_params: 3
            })
        ));
        let mut nan = Closure {
            n: 1,
            m: 1,
            f: |_: &[f64], r: &mut [f64]| {
                r[0] = f64::INFINITY;
                true
            },
            j: |_: &[f64], _: &mut [f64]| true,
        };
        assert_eq!(
            minimize(&mut nan, &[0.0], None, &o, &mut ws),
            Err(LmError::NonFiniteInitialResiduals)
        );
    }

    #[test]
    fn workspace_is_reusable_across_sizes() {
        let mut ws = LmWorkspace::with_size(50, 5);
        let a = minimize(&mut rosenbrock(), &[-1.2, 1.0], None, &tight(), &mut ws).unwrap();
        let b = minimize(
            &mut rosenbrock(),
            &[-1.2, 1.0],
            None,
            &tight(),
            &mut LmWorkspace::new(),
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(ws.residuals().len(), 2);
    }

    #[test]
    fn fixed_parameters_map_back() {
        let mask = ParameterMask::new(&[true, false]);
        let mut rb = rosenbrock();
        let mut reduced = FixedParameters::new(&mut rb, mask, &[0.5, 0.0]);
        let fit = minimize(
            &mut reduced,
            &[3.0],
            None,
            &tight(),
            &mut LmWorkspace::new(),
        )
        .unwrap();
        assert_eq!(reduced.expand(&fit.params)[0], 0.5);
        assert!((fit.params[0] - 0.25).abs() < 1e-12);
    }

    #[test]
    fn termination_names_are_their_debug_names() {
        for t in [
            Termination::SumOfSquaresConverged,
            Termination::ParametersConverged,
            Termination::SumOfSquaresAndParametersConverged,
            Termination::GradientConverged,
            Termination::MaxFunctionEvaluations,
            Termination::MaxIterations,
            Termination::FtolTooSmall,
            Termination::XtolTooSmall,
            Termination::GtolTooSmall,
            Termination::NonFiniteJacobian,
        ] {
            assert_eq!(t.name(), format!("{t:?}"));
        }
    }

    #[test]
    fn termination_codes() {
        assert_eq!(Termination::SumOfSquaresConverged.minpack_info(), 1);
        assert_eq!(Termination::GtolTooSmall.minpack_info(), 8);
        assert!(Termination::XtolTooSmall.is_at_machine_precision());
        assert!(!Termination::MaxFunctionEvaluations.is_converged());
        let json = serde_json::to_string(&Termination::ParametersConverged).unwrap();
        assert_eq!(json, "\"ParametersConverged\"");
    }
    /// Exponential decay sampled twice at each time, solved over every point and over the
    /// replicate means with the pure-error sum of squares as `constant_ss`: the same steps.
    struct Decay {
        t: Vec<f64>,
        y: Vec<f64>,
        sqrt_w: Vec<f64>,
        constant: f64,
    }

    impl LeastSquaresProblem for Decay {
        fn n_params(&self) -> usize {
            2
        }
        fn n_residuals(&self) -> usize {
            self.t.len()
        }
        fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
            for i in 0..self.t.len() {
                r[i] = self.sqrt_w[i] * (self.y[i] - p[0] * (-p[1] * self.t[i]).exp());
            }
            true
        }
        fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
            let m = self.t.len();
            for i in 0..m {
                let e = (-p[1] * self.t[i]).exp();
                jac[i] = -self.sqrt_w[i] * e;
                jac[i + m] = self.sqrt_w[i] * p[0] * self.t[i] * e;
            }
            true
        }
        fn constant_ss(&self) -> f64 {
            self.constant
        }
    }

    #[test]
    fn a_constant_sum_of_squares_makes_means_solve_as_the_points() {
        let times: Vec<f64> = (0..8).map(|i| 0.5 * i as f64).collect();
        let noise = [0.03, -0.02, 0.01, 0.04, -0.05, 0.02, -0.01, 0.03];
        let mut full = Decay {
            t: Vec::new(),
            y: Vec::new(),
            sqrt_w: Vec::new(),
            constant: 0.0,
        };
        let mut means = Decay {
            t: times.clone(),
            y: Vec::new(),
            sqrt_w: vec![2f64.sqrt(); times.len()],
            constant: 0.0,
        };
        for (i, &t) in times.iter().enumerate() {
            let clean = 3.0 * (-0.7 * t).exp();
            let (a, b) = (clean + noise[i], clean - 0.5 * noise[i] + 0.01);
            full.t.extend([t, t]);
            full.y.extend([a, b]);
            full.sqrt_w.extend([1.0, 1.0]);
            let mean = 0.5 * (a + b);
            means.y.push(mean);
            means.constant += (a - mean).powi(2) + (b - mean).powi(2);
        }
        let opts = LmOptions::default().with_tolerance(1e-12);
        let a = minimize(&mut full, &[1.0, 0.1], None, &opts, &mut LmWorkspace::new()).unwrap();
        let b = minimize(
            &mut means,
            &[1.0, 0.1],
            None,
            &opts,
            &mut LmWorkspace::new(),
        )
        .unwrap();
        assert_eq!((a.n_fev, a.n_jev), (b.n_fev, b.n_jev));
        for k in 0..2 {
            assert!((a.params[k] - b.params[k]).abs() < 1e-12 * a.params[k].abs());
        }
        assert!(
            (a.rss - b.rss).abs() < 1e-12 * a.rss,
            "{} vs {}",
            a.rss,
            b.rss
        );
        assert!(means.constant > 0.0 && b.rss > means.constant);
        // A constant that is not a sum of squares is ignored rather than trusted.
        means.constant = f64::NAN;
        let c = minimize(
            &mut means,
            &[1.0, 0.1],
            None,
            &opts,
            &mut LmWorkspace::new(),
        )
        .unwrap();
        assert!(c.rss.is_finite() && (c.params[1] - b.params[1]).abs() < 1e-9);
    }
}
