//! Nonlinear least squares and fit statistics for ligand.
//!
//! This crate is the numerical core of curve fitting; it does no I/O. The principal types and
//! how they compose:
//!
//! - [`lm::LeastSquaresProblem`] is what a model provides: residuals `r(p)` and their exact
//!   Jacobian (column-major). Weighting is the problem's business (`r_i = sqrt(w_i) (y_i -
//!   f_i)`).
//! - [`lm::minimize`] is a Levenberg-Marquardt solver in the manner of MINPACK `lmder` (pivoted QR,
//!   scaled trust region, Moré's `lmpar`), with optional box [`lm::Bounds`]. It is steered by
//!   [`lm::LmOptions`], keeps every buffer in a reusable [`lm::LmWorkspace`] (one per thread; no
//!   allocation per iteration), and returns an [`lm::LmResult`] whose [`lm::Termination`] says
//!   which test stopped it.
//! - Fixed parameters live outside the solver: [`lm::ParameterMask`] maps a full parameter
//!   vector to its free part and back, and [`lm::FixedParameters`] wraps a problem so that the
//!   solver sees only the free parameters.
//! - [`stats`] turns a converged fit into plain, serialisable results:
//!   [`stats::ParameterStatistics`] (covariance from the pivoted QR of the Jacobian, standard
//!   errors, correlation, Prism's dependency and an identifiability flag, Wald intervals),
//!   [`stats::profile_interval`] (profile-likelihood intervals, re-optimising through
//!   [`lm::FixedParameters`]), model comparison ([`stats::f_test_nested`], [`stats::aicc`],
//!   [`stats::compare_aicc`]) and residual diagnostics ([`stats::goodness_of_fit`],
//!   [`stats::runs_test`], [`stats::replicates_test`]).
//! - [`linalg`] holds the small dense kernels (pivoted Householder QR, the damped solve, a safe
//!   Euclidean norm) in column-major storage.
//!
//! A typical fit: implement the problem, call [`lm::minimize`], evaluate the Jacobian at the
//! optimum and pass it to [`stats::ParameterStatistics::from_jacobian`]:
//!
//! ```
//! use ligand_fit::lm::{minimize, LeastSquaresProblem, LmOptions, LmWorkspace};
//! use ligand_fit::stats::ParameterStatistics;
//!
//! /// Hyperbola y = bmax x / (kd + x) (one-site specific binding).
//! struct Binding { x: Vec<f64>, y: Vec<f64> }
//! impl LeastSquaresProblem for Binding {
//!     fn n_params(&self) -> usize { 2 }
//!     fn n_residuals(&self) -> usize { self.x.len() }
//!     fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
//!         for i in 0..self.x.len() {
//!             r[i] = self.y[i] - p[0] * self.x[i] / (p[1] + self.x[i]);
//!         }
//!         true
//!     }
//!     fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
//!         let m = self.x.len();
//!         for i in 0..m {
//!             let d = p[1] + self.x[i];
//!             jac[i] = -self.x[i] / d;
//!             jac[i + m] = p[0] * self.x[i] / (d * d);
//!         }
//!         true
//!     }
//! }
//!
//! let x = vec![0.5, 1.0, 2.0, 4.0, 8.0, 16.0];
//! let noise = [0.02, -0.03, 0.01, 0.03, -0.02, 0.01];
//! let y = x.iter().zip(noise).map(|(&x, e)| 10.0 * x / (2.0 + x) + e).collect();
//! let mut problem = Binding { x, y };
//! let mut ws = LmWorkspace::new();
//! let fit = minimize(&mut problem, &[1.0, 1.0], None, &LmOptions::default(), &mut ws).unwrap();
//! assert!(fit.termination.is_converged());
//! assert!((fit.params[0] - 10.0).abs() < 0.1 && (fit.params[1] - 2.0).abs() < 0.05);
//!
//! let mut jac = vec![0.0; 6 * 2];
//! problem.jacobian(&fit.params, &mut jac);
//! let st = ParameterStatistics::from_jacobian(&jac, 6, 2, fit.rss).unwrap();
//! assert!(st.is_identifiable());
//! let ci = st.wald_intervals(&fit.params, 0.95).unwrap();
//! assert!(ci[1].unwrap().lower < 2.0 && 2.0 < ci[1].unwrap().upper);
//! ```

#![warn(missing_docs)]
// Index loops mirror the mathematics (and MINPACK, which the solver follows step for step);
// iterator rewrites would obscure which matrix entry is meant.
#![allow(clippy::needless_range_loop)]

pub mod catalogue;
pub mod curve;
mod fixed;
pub mod global;
pub mod linalg;
pub mod lm;
pub mod model;
pub mod native;
pub mod start;
pub mod stats;
