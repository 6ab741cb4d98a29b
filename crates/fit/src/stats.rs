//! Statistics of a least-squares fit: parameter uncertainty, confidence intervals, model
//! comparison and residual diagnostics.
//!
//! # Mathematics
//!
//! **Covariance.** With `n` observations, `k` free parameters, `dof = n - k`, the residual
//! variance `s^2 = RSS / dof` and the Jacobian `J` of the (weighted) residuals at the optimum,
//! the asymptotic covariance is `C = s^2 (J^T J)^-1`. It is computed without forming `J^T J`:
//! the columns of `J` are scaled to unit norm (`J = J_s N`, `N = diag(||J_j||)`), `J_s` is
//! factorised by pivoted QR (`J_s P = Q R`), and `(J^T J)^-1 = N^-1 P R^-1 R^-T P^T N^-1`. The
//! numerical rank is the number of `|R_jj| > max(n, k) eps |R_00|`; when it is below `k` the
//! covariance does not exist and the parameters that take part in the null space
//! `P [-R_11^-1 R_12; I]` are reported as not identifiable. The standard errors `sqrt(C_jj)` are
//! the "asymptotic standard errors" of GraphPad Prism and the certified standard deviations of
//! the NIST StRD.
//!
//! **Dependency** (Prism) of parameter `j` is `1 - 1 / (C_jj (J^T J)_jj)` with `C` unscaled,
//! i.e. the squared multiple correlation of parameter `j` with the others; Prism calls a fit
//! ambiguous when a dependency exceeds 0.9999.
//!
//! **Wald intervals** are `p_j -+ t_(1-alpha/2, dof) SE_j`.
//!
//! **Profile-likelihood intervals** hold `p_j = v` fixed, re-optimise the others to get the
//! profile `RSS_j(v)`, and report the `v` on each side where it crosses
//! `RSS (1 + F_(level; 1, dof) / dof)`, the threshold of the extra-sum-of-squares F test for one
//! parameter (Prism's definition; equivalent to the likelihood ratio test for small samples).
//! Each side is bracketed by stepping outwards with growing steps and refined by Brent's method.
//!
//! **Extra-sum-of-squares F test** for nested models:
//! `F = ((RSS_s - RSS_c) / (dof_s - dof_c)) / (RSS_c / dof_c)` with `p = P(F_(dof_s - dof_c,
//! dof_c) > F)`.
//!
//! **AICc** in its least-squares form with `K = k + 1` (the variance counts as a parameter):
//! `AICc = n ln(RSS / n) + 2K + 2K(K + 1) / (n - K - 1)`; Akaike weights
//! `w_i = exp(-Delta_i / 2) / sum exp(-Delta_l / 2)`.
//!
//! **Goodness of fit:** `R^2 = 1 - RSS / TSS` (TSS about the weighted mean), `Sy.x = sqrt(RSS /
//! dof)`.
//!
//! **Runs test** (Wald-Wolfowitz) on the signs of the residuals: with `n_+` positive and `n_-`
//! negative residuals (zeros ignored) and `R` runs, the exact null distribution is
//! `P(R = 2u) = 2 C(n_+ - 1, u - 1) C(n_- - 1, u - 1) / C(n, n_+)` and
//! `P(R = 2u + 1) = [C(n_+ - 1, u - 1) C(n_- - 1, u) + C(n_+ - 1, u) C(n_- - 1, u - 1)] / C(n, n_+)`;
//! the normal approximation with mean `2 n_+ n_- / n + 1` and variance
//! `2 n_+ n_- (2 n_+ n_- - n) / (n^2 (n - 1))` is used for large `n`. Too few runs (the one-sided
//! `P(R <= R_obs)`) indicate systematic deviation from the model.
//!
//! **Replicates test** (lack of fit): with `g` groups of replicates, pure error
//! `SS_pe = sum_groups sum (r - mean_group r)^2` on `n - g` degrees of freedom and lack of fit
//! `SS_lof = RSS - SS_pe` on `g - k`, `F = (SS_lof / (g - k)) / (SS_pe / (n - g))`.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, FisherSnedecor, Normal, StudentsT};

use crate::fixed::{FixedParameters, ParameterMask};
use crate::linalg::{enorm, qr_factor_pivoted, EPSMCH};
use crate::lm::{minimize, Bounds, LeastSquaresProblem, LmError, LmOptions, LmWorkspace};

/// Errors of the statistics functions.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Not enough observations for the number of parameters.
    #[error("{n_obs} observations leave no degrees of freedom for {n_params} parameters")]
    InsufficientDegreesOfFreedom {
        /// Number of observations.
        n_obs: usize,
        /// Number of parameters (including the residual variance where it counts).
        n_params: usize,
    },
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
    /// A confidence level outside `(0, 1)`.
    #[error("confidence level {level} is not in (0, 1)")]
    InvalidLevel {
        /// The level given.
        level: f64,
    },
    /// An input value that must be finite (and often non-negative) is not.
    #[error("{what} = {value} is invalid")]
    InvalidValue {
        /// Which input.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// The simpler model of an F test must have more degrees of freedom than the complex one.
    #[error(
        "models are not nested: simple model dof {dof_simple} <= complex model dof {dof_complex}"
    )]
    NotNested {
        /// Degrees of freedom of the simpler model.
        dof_simple: usize,
        /// Degrees of freedom of the more complex model.
        dof_complex: usize,
    },
    /// The replicates test needs at least one group with two or more observations.
    #[error("no replicates: every group has a single observation")]
    NoReplicates,
    /// A profile was requested for a parameter that is fixed.
    #[error("parameter {index} is fixed")]
    ParameterFixed {
        /// Index into the full parameter vector.
        index: usize,
    },
    /// The re-optimisation inside a profile could not start.
    #[error("profile fit failed: {0}")]
    Fit(#[from] LmError),
}

/// A dense matrix, column-major (`data[i + j * n_rows]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of columns.
    pub n_cols: usize,
    /// Entries, column-major.
    pub data: Vec<f64>,
}

impl Matrix {
    /// A zero matrix.
    pub fn zeros(n_rows: usize, n_cols: usize) -> Self {
        Matrix {
            n_rows,
            n_cols,
            data: vec![0.0; n_rows * n_cols],
        }
    }

    /// Entry `(i, j)`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i + j * self.n_rows]
    }

    /// Set entry `(i, j)`.
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self.data[i + j * self.n_rows] = value;
    }
}

/// Above this many degrees of freedom, statrs' inverse t distribution loses accuracy (about
/// 1e-7 relative at 1e5, 1e-4 at 1e6) and [`t_quantile`] uses the Cornish-Fisher expansion
/// instead, whose truncation error is of order `dof^-5`.
const T_EXPANSION_DOF: f64 = 5000.0;

/// Quantile of Student's t distribution with `dof` degrees of freedom.
///
/// ```
/// use ligand_fit::stats::t_quantile;
/// assert!((t_quantile(0.975, 10.0) - 2.228_138_851_986).abs() < 1e-9);
/// ```
///
/// # Panics
///
/// If `p` is outside `[0, 1]` or `dof` is not positive.
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    assert!((0.0..=1.0).contains(&p), "probability {p} outside [0, 1]");
    assert!(dof > 0.0, "degrees of freedom {dof} must be positive");
    if dof > T_EXPANSION_DOF && p > 0.0 && p < 1.0 {
        // Cornish-Fisher expansion of t in the normal quantile z (Abramowitz and Stegun
        // 26.7.5).
        let z = Normal::new(0.0, 1.0)
            .expect("standard normal")
            .inverse_cdf(p);
        let (z2, n) = (z * z, dof);
        let g1 = z * (z2 + 1.0) / 4.0;
        let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
        let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
        let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
        return z + g1 / n + g2 / (n * n) + g3 / (n * n * n) + g4 / (n * n * n * n);
    }
    StudentsT::new(0.0, 1.0, dof)
        .expect("positive degrees of freedom")
        .inverse_cdf(p)
}

/// Quantile of the F distribution with `(df1, df2)` degrees of freedom. For `df1 = 1` it is
/// the square of the t quantile, which stays accurate for large `df2`.
///
/// ```
/// use ligand_fit::stats::f_quantile;
/// // Tables: F(0.95; 1, 10) = 4.9646, F(0.95; 2, 20) = 3.4928.
/// assert!((f_quantile(0.95, 1.0, 10.0) - 4.9646).abs() < 1e-4);
/// assert!((f_quantile(0.95, 2.0, 20.0) - 3.4928).abs() < 1e-4);
/// ```
///
/// # Panics
///
/// If `p` is outside `[0, 1]` or a degree of freedom is not positive.
pub fn f_quantile(p: f64, df1: f64, df2: f64) -> f64 {
    assert!((0.0..=1.0).contains(&p), "probability {p} outside [0, 1]");
    if df1 == 1.0 {
        let t = t_quantile(0.5 + 0.5 * p, df2);
        return t * t;
    }
    FisherSnedecor::new(df1, df2)
        .expect("positive degrees of freedom")
        .inverse_cdf(p)
}

/// Upper tail `P(F > f)` of the F distribution with `(df1, df2)` degrees of freedom.
///
/// ```
/// use ligand_fit::stats::f_survival;
/// assert!((f_survival(4.964_602_743, 1.0, 10.0) - 0.05).abs() < 1e-8);
/// ```
pub fn f_survival(f: f64, df1: f64, df2: f64) -> f64 {
    if f <= 0.0 || f.is_nan() {
        return 1.0;
    }
    if let Some(p) = f_survival_even_df1(f, df1, df2) {
        return p;
    }
    FisherSnedecor::new(df1, df2)
        .expect("positive degrees of freedom")
        .sf(f)
}

/// `P(F > f)` in closed form when `df1` is even (up to 200), as replicates tests and model
/// comparisons often have it: with `x = df2 / (df2 + df1 f)`, `a = df2 / 2` and `b = df1 / 2`
/// a whole number, the regularised incomplete beta function is a finite sum of positive terms
/// (Abramowitz and Stegun 26.5.6 with 6.6.2; the negative binomial distribution function),
///
/// ```text
/// P(F > f) = I_x(a, b) = x^a sum_{k=0}^{b-1} Gamma(a + k) / (Gamma(a) k!) (1 - x)^k,
/// ```
///
/// in a few dozen operations instead of a continued fraction. `None` where the closed form does
/// not apply or `x^a` would underflow; the caller then takes the general algorithm.
fn f_survival_even_df1(f: f64, df1: f64, df2: f64) -> Option<f64> {
    let even = (2.0..=200.0).contains(&df1) && df1 % 2.0 == 0.0;
    if !(even && df2 > 0.0 && f.is_finite()) {
        return None;
    }
    let x = df2 / (df2 + df1 * f);
    let y = df1 * f / (df2 + df1 * f);
    let a = 0.5 * df2;
    let lead = a * x.ln();
    if lead.is_nan() || lead <= -650.0 {
        return None;
    }
    let b = (0.5 * df1) as usize;
    let mut term = lead.exp();
    let mut sum = term;
    for k in 0..b - 1 {
        term *= (a + k as f64) / (k as f64 + 1.0) * y;
        sum += term;
    }
    Some(sum.min(1.0))
}

fn check_level(level: f64) -> Result<(), StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidLevel { level })
    }
}

/// Covariance-based statistics of the best-fit (free) parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParameterStatistics {
    /// Number of observations (residuals).
    pub n_obs: usize,
    /// Number of free parameters.
    pub n_params: usize,
    /// Degrees of freedom, `n_obs - n_params`.
    pub dof: usize,
    /// Sum of squared residuals.
    pub rss: f64,
    /// Residual variance `s^2 = rss / dof`.
    pub residual_variance: f64,
    /// Numerical rank of the Jacobian.
    pub rank: usize,
    /// `s^2 (J^T J)^-1`; `None` when the Jacobian is rank-deficient.
    pub covariance: Option<Matrix>,
    /// Asymptotic standard errors; `None` entries when the covariance does not exist.
    pub standard_errors: Vec<Option<f64>>,
    /// Correlation matrix of the parameters; `None` when the covariance does not exist.
    pub correlation: Option<Matrix>,
    /// Prism's dependency `1 - 1 / (C_jj (J^T J)_jj)`, in `[0, 1]`; 1 for a parameter in the
    /// null space of a rank-deficient Jacobian.
    pub dependency: Vec<f64>,
    /// Whether each parameter is ambiguous: dependency above [`AMBIGUOUS_DEPENDENCY`] or part of
    /// the null space of a rank-deficient Jacobian.
    pub ambiguous: Vec<bool>,
}

/// Prism's threshold for calling a parameter ambiguous.
pub const AMBIGUOUS_DEPENDENCY: f64 = 0.9999;

/// Scratch memory for [`ParameterStatistics::compute_rows`], reused from fit to fit.
#[derive(Debug, Default, Clone)]
pub struct StatsWorkspace {
    scratch: Vec<f64>,
    ipvt: Vec<usize>,
    in_null_space: Vec<bool>,
}

impl ParameterStatistics {
    /// Statistics from the Jacobian `jac` (column-major, `n_obs x n_params`) of the residuals at
    /// the optimum and the residual sum of squares there.
    ///
    /// ```
    /// use ligand_fit::stats::ParameterStatistics;
    /// // Straight line y = a + b x at x = 0, 1, 2, 3: J = [1 x] (sign does not matter).
    /// let jac = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 2.0, 3.0];
    /// let st = ParameterStatistics::from_jacobian(&jac, 4, 2, 2.0).unwrap();
    /// // s^2 = 1; (J^T J)^-1 = [[0.7, -0.3], [-0.3, 0.2]].
    /// assert!((st.standard_errors[0].unwrap() - 0.7f64.sqrt()).abs() < 1e-14);
    /// assert!((st.standard_errors[1].unwrap() - 0.2f64.sqrt()).abs() < 1e-14);
    /// let corr = st.correlation.as_ref().unwrap();
    /// assert!((corr.get(0, 1) + 0.3 / (0.7f64 * 0.2).sqrt()).abs() < 1e-14);
    /// // dependency = 1 - 1 / (C_00 (J^T J)_00) = 1 - 1 / (0.7 * 4)
    /// assert!((st.dependency[0] - (1.0 - 1.0 / 2.8)).abs() < 1e-14);
    /// assert_eq!(st.ambiguous, vec![false, false]);
    /// ```
    pub fn from_jacobian(
        jac: &[f64],
        n_obs: usize,
        n_params: usize,
        rss: f64,
    ) -> Result<Self, StatsError> {
        if n_obs <= n_params {
            return Err(StatsError::InsufficientDegreesOfFreedom { n_obs, n_params });
        }
        Self::from_jacobian_rows(jac, n_obs, n_params, n_obs - n_params, rss)
    }

    /// [`from_jacobian`](Self::from_jacobian) for a Jacobian whose `n_rows` rows are not one per
    /// observation: `dof` residual degrees of freedom go with `rss`. This is the case of a fit
    /// over replicate means, whose rows carry the square roots of the summed weights: its
    /// `J^T J` is that of the full data, so the covariance is too.
    ///
    /// ```
    /// use ligand_fit::stats::ParameterStatistics;
    /// // y = a + b x with two points at each of x = 0, 1, 2 (6 observations): the Jacobian of
    /// // the means has rows sqrt(2) [1 x].
    /// let s = 2f64.sqrt();
    /// let full = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
    /// let means = [s, s, s, 0.0, s, 2.0 * s];
    /// let a = ParameterStatistics::from_jacobian(&full, 6, 2, 3.0).unwrap();
    /// let b = ParameterStatistics::from_jacobian_rows(&means, 3, 2, 4, 3.0).unwrap();
    /// for k in 0..2 {
    ///     let (x, y) = (a.standard_errors[k].unwrap(), b.standard_errors[k].unwrap());
    ///     assert!((x - y).abs() < 1e-14 * x);
    /// }
    /// ```
    pub fn from_jacobian_rows(
        jac: &[f64],
        n_rows: usize,
        n_params: usize,
        dof: usize,
        rss: f64,
    ) -> Result<Self, StatsError> {
        let mut st = ParameterStatistics::default();
        st.compute_rows(
            jac,
            n_rows,
            n_params,
            dof,
            rss,
            &mut StatsWorkspace::default(),
        )?;
        Ok(st)
    }

    /// [`from_jacobian_rows`](Self::from_jacobian_rows) into `self`, reusing its vectors and
    /// matrices and the scratch memory of `ws`: a batch that computes statistics for every curve
    /// allocates nothing once the buffers have grown. On error `self` is left unspecified.
    ///
    /// ```
    /// use ligand_fit::stats::{ParameterStatistics, StatsWorkspace};
    /// let (mut st, mut ws) = (ParameterStatistics::default(), StatsWorkspace::default());
    /// let jac = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 2.0, 3.0];
    /// st.compute_rows(&jac, 4, 2, 2, 2.0, &mut ws).unwrap();
    /// assert_eq!(st, ParameterStatistics::from_jacobian(&jac, 4, 2, 2.0).unwrap());
    /// ```
    pub fn compute_rows(
        &mut self,
        jac: &[f64],
        n_rows: usize,
        n_params: usize,
        dof: usize,
        rss: f64,
        ws: &mut StatsWorkspace,
    ) -> Result<(), StatsError> {
        let (m, n) = (n_rows, n_params);
        if jac.len() != m * n {
            return Err(StatsError::DimensionMismatch {
                what: "jacobian",
                expected: m * n,
                found: jac.len(),
            });
        }
        if m < n || dof == 0 {
            return Err(StatsError::InsufficientDegreesOfFreedom {
                n_obs: m.max(dof + n),
                n_params: n,
            });
        }
        if !(rss >= 0.0 && rss.is_finite()) {
            return Err(StatsError::InvalidValue {
                what: "rss",
                value: rss,
            });
        }
        if !crate::linalg::all_finite(jac) {
            let bad = jac.iter().copied().find(|v| !v.is_finite());
            return Err(StatsError::InvalidValue {
                what: "jacobian entry",
                value: bad.unwrap_or(f64::NAN),
            });
        }
        let s2 = rss / dof as f64;

        // One scratch block for the factor, the column norms, the QR's vectors and R^-1 (and
        // Rinv Rinv^T after it).
        let StatsWorkspace {
            scratch,
            ipvt,
            in_null_space,
        } = ws;
        scratch.clear();
        scratch.resize(m * n + 4 * n + 2 * n * n, 0.0);
        let (a, rest) = scratch.split_at_mut(m * n);
        let (colnorm, rest) = rest.split_at_mut(n);
        let (rdiag, rest) = rest.split_at_mut(n);
        let (acnorm, rest) = rest.split_at_mut(n);
        let (wa, rest) = rest.split_at_mut(n);
        let (rinv_block, cs_block) = rest.split_at_mut(n * n);

        // Scale the columns to unit norm so that rank decisions and the triangular inverse do
        // not depend on the units of the parameters.
        a.copy_from_slice(jac);
        for j in 0..n {
            let col = &mut a[j * m..(j + 1) * m];
            let norm = enorm(col);
            colnorm[j] = norm;
            if norm > 0.0 {
                for v in col.iter_mut() {
                    *v /= norm;
                }
            }
        }
        ipvt.clear();
        ipvt.resize(n, 0);
        qr_factor_pivoted(m, n, a, ipvt, rdiag, acnorm, wa);
        let tol = m.max(n) as f64 * EPSMCH * rdiag.first().map_or(0.0, |r| r.abs());
        let rank = rdiag
            .iter()
            .take_while(|r| r.abs() > tol && r.abs() > 0.0)
            .count();

        // R (n x n upper, with its true diagonal) and the inverse of its leading rank block.
        let r_at = |i: usize, j: usize| if i == j { rdiag[j] } else { a[i + j * m] };
        let rinv = &mut rinv_block[..rank * rank];
        for j in 0..rank {
            rinv[j + j * rank] = 1.0 / r_at(j, j);
            for i in (0..j).rev() {
                let mut sum = 0.0;
                for k in i + 1..=j {
                    sum += r_at(i, k) * rinv[k + j * rank];
                }
                rinv[i + j * rank] = -sum / r_at(i, i);
            }
        }
        let rinv = &*rinv;
        // Scaled unscaled-covariance of the leading block in pivoted order: Rinv Rinv^T.
        let cs = &mut cs_block[..rank * rank];
        for i in 0..rank {
            for j in i..rank {
                let mut sum = 0.0;
                for k in j..rank {
                    sum += rinv[i + k * rank] * rinv[j + k * rank];
                }
                cs[i + j * rank] = sum;
                cs[j + i * rank] = sum;
            }
        }

        let dependency = &mut self.dependency;
        let ambiguous = &mut self.ambiguous;
        dependency.clear();
        dependency.resize(n, 1.0);
        ambiguous.clear();
        ambiguous.resize(n, true);
        in_null_space.clear();
        in_null_space.resize(n, false);
        if rank < n {
            for &col in &ipvt[rank..] {
                in_null_space[col] = true;
            }
            // W = R11^-1 R12: a pivot-block parameter with a non-negligible coefficient in a
            // null vector [-W; I] is not identifiable either.
            let null_tol = EPSMCH.sqrt();
            for i in 0..rank {
                let involved = (rank..n).any(|l| {
                    let w: f64 = (i..rank).map(|k| rinv[i + k * rank] * r_at(k, l)).sum();
                    w.abs() > null_tol
                });
                if involved {
                    in_null_space[ipvt[i]] = true;
                }
            }
        }
        for k in 0..rank {
            let j = ipvt[k];
            if !in_null_space[j] {
                // With unit columns (J^T J)_jj = 1, so the dependency is 1 - 1 / Cs_jj.
                dependency[j] = (1.0 - 1.0 / cs[k + k * rank]).clamp(0.0, 1.0);
                ambiguous[j] = dependency[j] > AMBIGUOUS_DEPENDENCY;
            }
        }

        let standard_errors = &mut self.standard_errors;
        standard_errors.clear();
        if rank == n {
            // Reuse the matrices of an earlier result.
            let reuse = |m: Option<Matrix>| {
                let mut m = m.unwrap_or_default();
                m.n_rows = n;
                m.n_cols = n;
                m.data.clear();
                m.data.resize(n * n, 0.0);
                m
            };
            let mut cov = reuse(self.covariance.take());
            let mut corr = reuse(self.correlation.take());
            // sqrt of the scaled variances, in pivoted order (in `wa`, free by now).
            for k in 0..n {
                wa[k] = cs[k + k * rank].sqrt();
            }
            for ki in 0..n {
                for kj in 0..n {
                    let (i, j) = (ipvt[ki], ipvt[kj]);
                    let c = cs[ki + kj * rank];
                    cov.set(i, j, s2 * c / (colnorm[i] * colnorm[j]));
                    corr.set(i, j, if ki == kj { 1.0 } else { c / (wa[ki] * wa[kj]) });
                }
            }
            standard_errors.extend((0..n).map(|j| Some(cov.get(j, j).sqrt())));
            self.covariance = Some(cov);
            self.correlation = Some(corr);
        } else {
            standard_errors.resize(n, None);
            self.covariance = None;
            self.correlation = None;
        }
        self.n_obs = dof + n;
        self.n_params = n;
        self.dof = dof;
        self.rss = rss;
        self.residual_variance = s2;
        self.rank = rank;
        Ok(())
    }

    /// Whether every parameter is identifiable (full rank, no dependency above the threshold).
    pub fn is_identifiable(&self) -> bool {
        self.rank == self.n_params && self.ambiguous.iter().all(|a| !a)
    }

    /// `Sy.x = sqrt(rss / dof)`, the standard deviation of the residuals.
    pub fn sy_x(&self) -> f64 {
        self.residual_variance.sqrt()
    }

    /// Wald (asymptotic, symmetric) confidence intervals at `level` (e.g. 0.95) for `params`,
    /// the best-fit values in the same order as the Jacobian columns.
    ///
    /// ```
    /// use ligand_fit::stats::{t_quantile, ParameterStatistics};
    /// let jac = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 2.0, 3.0];
    /// let st = ParameterStatistics::from_jacobian(&jac, 4, 2, 2.0).unwrap();
    /// let ci = st.wald_intervals(&[1.0, 2.0], 0.95).unwrap();
    /// let half = t_quantile(0.975, 2.0) * 0.2f64.sqrt();
    /// let b = ci[1].unwrap();
    /// assert!((b.lower - (2.0 - half)).abs() < 1e-12 && (b.upper - (2.0 + half)).abs() < 1e-12);
    /// ```
    pub fn wald_intervals(
        &self,
        params: &[f64],
        level: f64,
    ) -> Result<Vec<Option<ConfidenceInterval>>, StatsError> {
        check_level(level)?;
        if params.len() != self.n_params {
            return Err(StatsError::DimensionMismatch {
                what: "params",
                expected: self.n_params,
                found: params.len(),
            });
        }
        let t = t_quantile(0.5 + 0.5 * level, self.dof as f64);
        Ok(params
            .iter()
            .zip(&self.standard_errors)
            .map(|(&p, se)| {
                se.map(|se| ConfidenceInterval {
                    lower: p - t * se,
                    upper: p + t * se,
                })
            })
            .collect())
    }
}

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// Options of [`profile_interval`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfileOptions {
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Maximum number of bracketing steps on each side.
    pub max_steps: usize,
    /// Factor by which each bracketing step exceeds the previous one.
    pub growth: f64,
    /// Tolerance of the crossing point relative to the initial step.
    pub rel_tol: f64,
    /// Options of the inner re-optimisations.
    pub lm: LmOptions,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            level: 0.95,
            max_steps: 40,
            growth: 2.0,
            rel_tol: 1e-6,
            lm: LmOptions::default().with_tolerance(1e-10),
        }
    }
}

/// One end of a profile-likelihood interval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ProfileLimit {
    /// The profile crosses the threshold at `value`.
    Found {
        /// The confidence limit.
        value: f64,
    },
    /// The profile stays below the threshold up to the parameter's bound at `value`: the
    /// interval extends to the bound.
    BoundReached {
        /// The bound.
        value: f64,
    },
    /// The profile stayed below the threshold for every step tried, up to `last_value`: the
    /// interval is unbounded as far as the search can tell.
    NotFound {
        /// The farthest value evaluated.
        last_value: f64,
    },
    /// A re-optimisation failed (non-finite residuals) at `value`.
    FitFailed {
        /// Where it failed.
        value: f64,
    },
}

impl ProfileLimit {
    /// The limit when one was found.
    pub fn value(&self) -> Option<f64> {
        match self {
            ProfileLimit::Found { value } => Some(*value),
            _ => None,
        }
    }
}

/// A profile-likelihood confidence interval for one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInterval {
    /// Index of the parameter in the full vector.
    pub parameter: usize,
    /// Its best-fit value.
    pub estimate: f64,
    /// Confidence level.
    pub level: f64,
    /// The RSS threshold `rss (1 + F(level; 1, dof) / dof)`.
    pub rss_threshold: f64,
    /// Lower end.
    pub lower: ProfileLimit,
    /// Upper end.
    pub upper: ProfileLimit,
    /// Number of re-optimisations performed.
    pub n_fits: usize,
    /// The smallest RSS met on the profile when it is below the best-fit RSS (relative margin
    /// `1e-9`): the original fit was not at the minimum.
    pub better_rss: Option<f64>,
}

/// The profile RSS as a function of the value of the profiled parameter.
struct Profiler<'a, P: LeastSquaresProblem + ?Sized> {
    reduced: FixedParameters<'a, P>,
    bounds: Option<Bounds>,
    parameter: usize,
    lm: LmOptions,
    ws: &'a mut LmWorkspace,
    resid: Vec<f64>,
    n_fits: usize,
    best_seen: f64,
}

impl<P: LeastSquaresProblem + ?Sized> Profiler<'_, P> {
    /// Profile RSS at `value`, re-optimising from `start` (free parameters of the reduced
    /// problem); writes the optimum into `out`. `None` when the residuals are not finite.
    fn eval(&mut self, value: f64, start: &[f64], out: &mut Vec<f64>) -> Option<f64> {
        self.reduced.set_value(self.parameter, value);
        self.n_fits += 1;
        let rss = if self.reduced.n_params() == 0 {
            out.clear();
            if !self.reduced.residuals(&[], &mut self.resid) {
                return None;
            }
            let n = enorm(&self.resid);
            n * n + self.reduced.constant_ss().max(0.0)
        } else {
            match minimize(
                &mut self.reduced,
                start,
                self.bounds.as_ref(),
                &self.lm,
                self.ws,
            ) {
                Ok(fit) => {
                    out.clear();
                    out.extend_from_slice(&fit.params);
                    fit.rss
                }
                Err(_) => return None,
            }
        };
        if !rss.is_finite() {
            return None;
        }
        self.best_seen = self.best_seen.min(rss);
        Some(rss)
    }
}

/// Profile-likelihood confidence interval of parameter `parameter` (an index into the full
/// vector `best`).
///
/// `problem` is the full problem, `best` the full best-fit vector with residual sum of squares
/// `rss_best`, `mask` marks the parameters that were fixed in that fit, and `bounds` (full
/// length) the bounds it used. `step` is a typical scale of the parameter, ideally its Wald
/// standard error; the first trial on each side is `estimate -+ sqrt(F) * step`, close to the
/// Wald limit. The degrees of freedom are `n_residuals - free parameters`.
///
/// ```
/// use ligand_fit::lm::{LeastSquaresProblem, ParameterMask};
/// use ligand_fit::stats::{profile_interval, ProfileOptions, ParameterStatistics};
/// use ligand_fit::lm::LmWorkspace;
///
/// /// A linear model y = a + b x: the profile interval equals the Wald interval.
/// struct Line { x: Vec<f64>, y: Vec<f64> }
/// impl LeastSquaresProblem for Line {
///     fn n_params(&self) -> usize { 2 }
///     fn n_residuals(&self) -> usize { self.x.len() }
///     fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
///         for i in 0..self.x.len() { r[i] = self.y[i] - p[0] - p[1] * self.x[i]; }
///         true
///     }
///     fn jacobian(&mut self, _p: &[f64], jac: &mut [f64]) -> bool {
///         let m = self.x.len();
///         for i in 0..m { jac[i] = -1.0; jac[i + m] = -self.x[i]; }
///         true
///     }
/// }
/// let mut line = Line { x: vec![0.0, 1.0, 2.0, 3.0], y: vec![0.0, 2.0, 1.0, 3.0] };
/// // Least squares: a = 0.3, b = 0.8, RSS = 1.8.
/// let best = [0.3, 0.8];
/// let jac = [-1.0, -1.0, -1.0, -1.0, 0.0, -1.0, -2.0, -3.0];
/// let st = ParameterStatistics::from_jacobian(&jac, 4, 2, 1.8).unwrap();
/// let wald = st.wald_intervals(&best, 0.95).unwrap()[1].unwrap();
/// let prof = profile_interval(&mut line, &best, 1.8, &ParameterMask::all_free(2), None, 1,
///     st.standard_errors[1].unwrap(), &ProfileOptions::default(), &mut LmWorkspace::new())
///     .unwrap();
/// assert!((prof.lower.value().unwrap() - wald.lower).abs() < 1e-6);
/// assert!((prof.upper.value().unwrap() - wald.upper).abs() < 1e-6);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn profile_interval<P: LeastSquaresProblem + ?Sized>(
    problem: &mut P,
    best: &[f64],
    rss_best: f64,
    mask: &ParameterMask,
    bounds: Option<&Bounds>,
    parameter: usize,
    step: f64,
    opts: &ProfileOptions,
    ws: &mut LmWorkspace,
) -> Result<ProfileInterval, StatsError> {
    check_level(opts.level)?;
    let n = problem.n_params();
    let m = problem.n_residuals();
    for (what, len) in [("best", best.len()), ("mask", mask.n_params())] {
        if len != n {
            return Err(StatsError::DimensionMismatch {
                what,
                expected: n,
                found: len,
            });
        }
    }
    if parameter >= n {
        return Err(StatsError::DimensionMismatch {
            what: "parameter index",
            expected: n,
            found: parameter,
        });
    }
    if mask.is_fixed(parameter) {
        return Err(StatsError::ParameterFixed { index: parameter });
    }
    if let Some(b) = bounds {
        b.validate(n)?;
    }
    let k = mask.n_free();
    if m <= k {
        return Err(StatsError::InsufficientDegreesOfFreedom {
            n_obs: m,
            n_params: k,
        });
    }
    if !(rss_best >= 0.0 && rss_best.is_finite()) {
        return Err(StatsError::InvalidValue {
            what: "rss_best",
            value: rss_best,
        });
    }
    let dof = (m - k) as f64;
    let fq = f_quantile(opts.level, 1.0, dof);
    let threshold = rss_best * (1.0 + fq / dof);
    let estimate = best[parameter];

    let step = if step.is_finite() && step > 0.0 {
        step
    } else if estimate != 0.0 {
        0.1 * estimate.abs()
    } else {
        0.1
    };
    let first = fq.sqrt() * step;
    let abs_tol = opts.rel_tol * step;

    let reduced_mask = mask.with_fixed(parameter);
    let reduced_bounds = bounds.map(|b| {
        let free = reduced_mask.free_indices();
        Bounds::new(
            free.iter().map(|&j| b.lower[j]).collect(),
            free.iter().map(|&j| b.upper[j]).collect(),
        )
    });
    let (lo_bound, hi_bound) = bounds.map_or((f64::NEG_INFINITY, f64::INFINITY), |b| {
        (b.lower[parameter], b.upper[parameter])
    });
    let mut start0 = vec![0.0; reduced_mask.n_free()];
    reduced_mask.gather(best, &mut start0);

    let mut profiler = Profiler {
        reduced: FixedParameters::new(problem, reduced_mask, best),
        bounds: reduced_bounds,
        parameter,
        lm: opts.lm,
        ws,
        resid: vec![0.0; m],
        n_fits: 0,
        best_seen: rss_best,
    };

    let mut limits = [ProfileLimit::NotFound {
        last_value: estimate,
    }; 2];
    for (side, dir) in [(0usize, -1.0f64), (1, 1.0)] {
        let mut inner = estimate;
        let mut inner_params = start0.clone();
        let mut trial_params = Vec::with_capacity(start0.len());
        let mut h = first;
        let mut limit = ProfileLimit::NotFound {
            last_value: estimate,
        };
        for _ in 0..opts.max_steps {
            let v = (inner + dir * h).clamp(lo_bound, hi_bound);
            if v == inner {
                limit = ProfileLimit::BoundReached { value: v };
                break;
            }
            let Some(rss) = profiler.eval(v, &inner_params, &mut trial_params) else {
                limit = ProfileLimit::FitFailed { value: v };
                break;
            };
            if rss >= threshold {
                limit = refine_crossing(
                    &mut profiler,
                    threshold,
                    (inner, &inner_params),
                    (v, rss),
                    abs_tol,
                );
                break;
            }
            inner = v;
            std::mem::swap(&mut inner_params, &mut trial_params);
            limit = if v == lo_bound || v == hi_bound {
                ProfileLimit::BoundReached { value: v }
            } else {
                ProfileLimit::NotFound { last_value: v }
            };
            if matches!(limit, ProfileLimit::BoundReached { .. }) {
                break;
            }
            h *= opts.growth;
        }
        limits[side] = limit;
    }

    let better_rss = (profiler.best_seen < rss_best * (1.0 - 1e-9)).then_some(profiler.best_seen);
    Ok(ProfileInterval {
        parameter,
        estimate,
        level: opts.level,
        rss_threshold: threshold,
        lower: limits[0],
        upper: limits[1],
        n_fits: profiler.n_fits,
        better_rss,
    })
}

/// Brent's method (Brent 1973, `zeroin`) for `RSS(v) = threshold` between the inner point `a`
/// (below the threshold) and the outer point `b` (at or above it). Each evaluation warm-starts
/// from the inner point's optimum.
fn refine_crossing<P: LeastSquaresProblem + ?Sized>(
    profiler: &mut Profiler<'_, P>,
    threshold: f64,
    (a0, start): (f64, &[f64]),
    (b0, rss_b): (f64, f64),
    abs_tol: f64,
) -> ProfileLimit {
    let start = start.to_vec();
    let mut out = Vec::with_capacity(start.len());
    let mut g = |v: f64, profiler: &mut Profiler<'_, P>| -> Option<f64> {
        profiler
            .eval(v, &start, &mut out)
            .map(|rss| rss - threshold)
    };
    let mut a = a0;
    // The inner point is below the threshold by construction; evaluate it again so that the
    // bracket values come from the same warm start.
    let Some(mut fa) = g(a, profiler) else {
        return ProfileLimit::FitFailed { value: a };
    };
    let mut b = b0;
    let mut fb = rss_b - threshold;
    if fb == 0.0 {
        return ProfileLimit::Found { value: b };
    }
    if fa >= 0.0 {
        // Should not happen; the bracket is invalid. Report the outer point.
        return ProfileLimit::Found { value: b };
    }
    let mut c = a;
    let mut fc = fa;
    let mut d = b - a;
    let mut e = d;
    for _ in 0..100 {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * EPSMCH * b.abs() + 0.5 * abs_tol;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return ProfileLimit::Found { value: b };
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            // Inverse quadratic interpolation or secant.
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            let min1 = 3.0 * xm * q - (tol1 * q).abs();
            let min2 = (e * q).abs();
            if 2.0 * p < min1.min(min2) {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol1 { d } else { tol1.copysign(xm) };
        match g(b, profiler) {
            Some(v) => fb = v,
            None => return ProfileLimit::FitFailed { value: b },
        }
    }
    ProfileLimit::Found { value: b }
}

/// Result of the extra-sum-of-squares F test between nested models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FTest {
    /// The F ratio.
    pub f: f64,
    /// Numerator degrees of freedom, `dof_simple - dof_complex`.
    pub df_numerator: usize,
    /// Denominator degrees of freedom, `dof_complex`.
    pub df_denominator: usize,
    /// `P(F > f)`: small values favour the more complex model.
    pub p_value: f64,
}

/// Extra-sum-of-squares F test of a simpler model (`rss_simple` on `dof_simple` degrees of
/// freedom) nested in a more complex one.
///
/// ```
/// use ligand_fit::stats::f_test_nested;
/// // F = ((150 - 100) / 2) / (100 / 20) = 5 on (2, 20): p = (1 + 2 F / 20)^-10 = 1.5^-10.
/// let t = f_test_nested(150.0, 22, 100.0, 20).unwrap();
/// assert!((t.f - 5.0).abs() < 1e-12);
/// assert!((t.p_value - 1.5f64.powi(-10)).abs() < 1e-10);
/// ```
pub fn f_test_nested(
    rss_simple: f64,
    dof_simple: usize,
    rss_complex: f64,
    dof_complex: usize,
) -> Result<FTest, StatsError> {
    if dof_simple <= dof_complex {
        return Err(StatsError::NotNested {
            dof_simple,
            dof_complex,
        });
    }
    if dof_complex == 0 {
        return Err(StatsError::InsufficientDegreesOfFreedom {
            n_obs: dof_simple,
            n_params: dof_simple,
        });
    }
    for (what, value) in [("rss_simple", rss_simple), ("rss_complex", rss_complex)] {
        if !(value >= 0.0 && value.is_finite()) {
            return Err(StatsError::InvalidValue { what, value });
        }
    }
    let df1 = dof_simple - dof_complex;
    let f = ((rss_simple - rss_complex) / df1 as f64) / (rss_complex / dof_complex as f64);
    let p_value = if rss_complex == 0.0 {
        if rss_simple > 0.0 {
            0.0
        } else {
            1.0
        }
    } else {
        f_survival(f, df1 as f64, dof_complex as f64)
    };
    Ok(FTest {
        f,
        df_numerator: df1,
        df_denominator: dof_complex,
        p_value,
    })
}

/// Corrected Akaike information criterion of a least-squares fit with `n_params` fitted
/// parameters (`K = n_params + 1`).
///
/// ```
/// use ligand_fit::stats::aicc;
/// // n = 10, RSS = 10, 2 parameters: K = 3, 10 ln 1 + 6 + 24 / 6 = 10.
/// assert!((aicc(10.0, 10, 2).unwrap() - 10.0).abs() < 1e-12);
/// ```
pub fn aicc(rss: f64, n_obs: usize, n_params: usize) -> Result<f64, StatsError> {
    let k = n_params + 1;
    if n_obs <= k + 1 {
        return Err(StatsError::InsufficientDegreesOfFreedom { n_obs, n_params: k });
    }
    if !(rss > 0.0 && rss.is_finite()) {
        return Err(StatsError::InvalidValue {
            what: "rss",
            value: rss,
        });
    }
    let (n, k) = (n_obs as f64, k as f64);
    Ok(n * (rss / n).ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (n - k - 1.0))
}

/// Akaike weights from information criteria: the probability of each model being the best of
/// the set.
///
/// ```
/// use ligand_fit::stats::akaike_weights;
/// let w = akaike_weights(&[10.0, 10.0 + 2.0 * 3f64.ln()]);
/// assert!((w[0] - 0.75).abs() < 1e-12 && (w[1] - 0.25).abs() < 1e-12);
/// ```
pub fn akaike_weights(criteria: &[f64]) -> Vec<f64> {
    let min = criteria.iter().copied().fold(f64::INFINITY, f64::min);
    let raw: Vec<f64> = criteria.iter().map(|&c| (-(c - min) / 2.0).exp()).collect();
    let total: f64 = raw.iter().sum();
    raw.into_iter().map(|w| w / total).collect()
}

/// AICc comparison of models fitted to the same data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiccComparison {
    /// AICc of each model.
    pub aicc: Vec<f64>,
    /// AICc minus the smallest AICc.
    pub delta: Vec<f64>,
    /// Akaike weights.
    pub weights: Vec<f64>,
    /// Index of the preferred model (smallest AICc).
    pub best: usize,
}

/// Compare models by AICc; each entry is `(rss, n_params)` and all share `n_obs`.
///
/// ```
/// use ligand_fit::stats::compare_aicc;
/// // 20 points; a 3-parameter fit with RSS 12 against a 4-parameter fit with RSS 11.5:
/// // AICc = 20 ln(0.6) + 8 + 40/15 and 20 ln(0.575) + 10 + 60/14.
/// let c = compare_aicc(20, &[(12.0, 3), (11.5, 4)]).unwrap();
/// let a0 = 20.0 * 0.6f64.ln() + 8.0 + 40.0 / 15.0;
/// let a1 = 20.0 * 0.575f64.ln() + 10.0 + 60.0 / 14.0;
/// assert_eq!(c.best, 0);
/// assert!((c.delta[1] - (a1 - a0)).abs() < 1e-12);
/// assert!((c.weights[0] - 1.0 / (1.0 + (-(a1 - a0) / 2.0).exp())).abs() < 1e-12);
/// ```
pub fn compare_aicc(n_obs: usize, models: &[(f64, usize)]) -> Result<AiccComparison, StatsError> {
    let aicc: Vec<f64> = models
        .iter()
        .map(|&(rss, k)| aicc(rss, n_obs, k))
        .collect::<Result<_, _>>()?;
    let min = aicc.iter().copied().fold(f64::INFINITY, f64::min);
    let best = aicc.iter().position(|&a| a == min).unwrap_or(0);
    Ok(AiccComparison {
        delta: aicc.iter().map(|a| a - min).collect(),
        weights: akaike_weights(&aicc),
        aicc,
        best,
    })
}

/// Goodness-of-fit summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoodnessOfFit {
    /// Number of observations.
    pub n_obs: usize,
    /// Degrees of freedom.
    pub dof: usize,
    /// Residual sum of squares.
    pub rss: f64,
    /// Total sum of squares about the (weighted) mean.
    pub tss: f64,
    /// `1 - rss / tss`.
    pub r_squared: f64,
    /// `sqrt(rss / dof)`.
    pub sy_x: f64,
}

/// R² and Sy.x of a fit with `n_params` free parameters to observations `y` with optional
/// weights; `rss` must be the weighted residual sum of squares.
///
/// ```
/// use ligand_fit::stats::goodness_of_fit;
/// let g = goodness_of_fit(&[1.0, 2.0, 3.0, 4.0], None, 1.0, 2).unwrap();
/// assert!((g.tss - 5.0).abs() < 1e-12);
/// assert!((g.r_squared - 0.8).abs() < 1e-12);
/// assert!((g.sy_x - 0.5f64.sqrt()).abs() < 1e-12);
/// ```
pub fn goodness_of_fit(
    y: &[f64],
    weights: Option<&[f64]>,
    rss: f64,
    n_params: usize,
) -> Result<GoodnessOfFit, StatsError> {
    let n = y.len();
    if let Some(w) = weights {
        if w.len() != n {
            return Err(StatsError::DimensionMismatch {
                what: "weights",
                expected: n,
                found: w.len(),
            });
        }
    }
    if n <= n_params {
        return Err(StatsError::InsufficientDegreesOfFreedom { n_obs: n, n_params });
    }
    let w_at = |i: usize| weights.map_or(1.0, |w| w[i]);
    let (mut sw, mut swy) = (0.0, 0.0);
    for (i, &yi) in y.iter().enumerate() {
        sw += w_at(i);
        swy += w_at(i) * yi;
    }
    let mean = swy / sw;
    let tss: f64 = y
        .iter()
        .enumerate()
        .map(|(i, &yi)| w_at(i) * (yi - mean) * (yi - mean))
        .sum();
    let dof = n - n_params;
    Ok(GoodnessOfFit {
        n_obs: n,
        dof,
        rss,
        tss,
        r_squared: 1.0 - rss / tss,
        sy_x: (rss / dof as f64).sqrt(),
    })
}

/// How a runs-test p value was computed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunsMethod {
    /// The exact permutation distribution.
    Exact,
    /// The normal approximation with continuity correction.
    Normal,
}

/// Wald-Wolfowitz runs test on the signs of the residuals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunsTest {
    /// Number of positive residuals.
    pub n_positive: usize,
    /// Number of negative residuals.
    pub n_negative: usize,
    /// Number of runs of equal sign.
    pub runs: usize,
    /// Expected number of runs under randomness, `2 n_+ n_- / n + 1`.
    pub expected_runs: f64,
    /// One-sided `P(R <= runs)`: small means too few runs, i.e. systematic deviation from the
    /// model.
    pub p_too_few: f64,
    /// How the p value was computed.
    pub method: RunsMethod,
}

/// Above this many signed residuals the runs test uses the normal approximation.
pub const RUNS_EXACT_LIMIT: usize = 1000;

/// The runs test on `residuals` (zeros are ignored).
///
/// ```
/// use ligand_fit::stats::runs_test;
/// // + + + - - - : 2 runs; P(R <= 2) = 2 / C(6, 3) = 0.1.
/// let t = runs_test(&[1.0, 2.0, 0.5, -1.0, -0.2, -3.0]);
/// assert_eq!(t.runs, 2);
/// assert!((t.p_too_few - 0.1).abs() < 1e-12);
/// ```
pub fn runs_test(residuals: &[f64]) -> RunsTest {
    let mut n_pos = 0usize;
    let mut n_neg = 0usize;
    let mut runs = 0usize;
    let mut last: Option<bool> = None;
    for &r in residuals {
        if r == 0.0 || r.is_nan() {
            continue;
        }
        let positive = r > 0.0;
        if positive {
            n_pos += 1;
        } else {
            n_neg += 1;
        }
        if last != Some(positive) {
            runs += 1;
        }
        last = Some(positive);
    }
    let n = n_pos + n_neg;
    let expected_runs = if n == 0 {
        0.0
    } else {
        2.0 * n_pos as f64 * n_neg as f64 / n as f64 + 1.0
    };
    if n_pos == 0 || n_neg == 0 {
        return RunsTest {
            n_positive: n_pos,
            n_negative: n_neg,
            runs,
            expected_runs,
            p_too_few: 1.0,
            method: RunsMethod::Exact,
        };
    }
    let (p_too_few, method) = if n <= RUNS_EXACT_LIMIT {
        (runs_cdf_exact(n_pos, n_neg, runs), RunsMethod::Exact)
    } else {
        (runs_cdf_normal(n_pos, n_neg, runs), RunsMethod::Normal)
    };
    RunsTest {
        n_positive: n_pos,
        n_negative: n_neg,
        runs,
        expected_runs,
        p_too_few,
        method,
    }
}

fn ln_choose(n: usize, k: usize) -> f64 {
    statrs::function::factorial::ln_binomial(n as u64, k as u64)
}

/// Exact `P(R <= runs)` for `n1`, `n2 >= 1`.
fn runs_cdf_exact(n1: usize, n2: usize, runs: usize) -> f64 {
    let ln_total = ln_choose(n1 + n2, n1);
    // C(n1 - 1, a) C(n2 - 1, b) / C(n, n1), zero when a or b is out of range.
    let term = |a: usize, b: usize| -> f64 {
        if a >= n1 || b >= n2 {
            0.0
        } else {
            (ln_choose(n1 - 1, a) + ln_choose(n2 - 1, b) - ln_total).exp()
        }
    };
    let mut p = 0.0;
    for r in 2..=runs {
        let u = r / 2;
        if r % 2 == 0 {
            p += 2.0 * term(u - 1, u - 1);
        } else {
            p += term(u - 1, u) + term(u, u - 1);
        }
    }
    p.min(1.0)
}

/// Normal approximation (with continuity correction) to `P(R <= runs)`.
fn runs_cdf_normal(n1: usize, n2: usize, runs: usize) -> f64 {
    let (a, b) = (n1 as f64, n2 as f64);
    let n = a + b;
    let mean = 2.0 * a * b / n + 1.0;
    let var = 2.0 * a * b * (2.0 * a * b - n) / (n * n * (n - 1.0));
    let z = (runs as f64 + 0.5 - mean) / var.sqrt();
    Normal::new(0.0, 1.0).expect("standard normal").cdf(z)
}

/// Replicates test for lack of fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplicatesTest {
    /// Number of replicate groups (distinct design points).
    pub n_groups: usize,
    /// Pure-error sum of squares (scatter of replicates about their group means).
    pub ss_pure_error: f64,
    /// Its degrees of freedom, `n - groups`.
    pub df_pure_error: usize,
    /// Lack-of-fit sum of squares, `RSS - SS_pe`.
    pub ss_lack_of_fit: f64,
    /// Its degrees of freedom, `groups - n_params`.
    pub df_lack_of_fit: usize,
    /// `(SS_lof / df_lof) / (SS_pe / df_pe)`.
    pub f: f64,
    /// `P(F > f)`: small means the model deviates from the data more than replicate scatter
    /// explains.
    pub p_value: f64,
}

/// Replicates test on (weighted) `residuals`, where `groups[i]` labels the design point of
/// observation `i` (equal labels are replicates). Within a group the fitted value is common, so
/// the scatter of the residuals about their group mean is the scatter of the data.
///
/// ```
/// use ligand_fit::stats::replicates_test;
/// // Two points per group; group means of the residuals 1, -1, 1, -1 (lack of fit), scatter +-0.5.
/// let r = [1.5, 0.5, -0.5, -1.5, 1.5, 0.5, -0.5, -1.5];
/// let g = [0, 0, 1, 1, 2, 2, 3, 3];
/// let t = replicates_test(&r, &g, 2).unwrap();
/// assert!((t.ss_pure_error - 2.0).abs() < 1e-12);   // 8 * 0.25
/// assert!((t.ss_lack_of_fit - 8.0).abs() < 1e-12);  // RSS 10 - 2
/// assert_eq!((t.df_lack_of_fit, t.df_pure_error), (2, 4));
/// assert!((t.f - 8.0).abs() < 1e-12);
/// ```
pub fn replicates_test(
    residuals: &[f64],
    groups: &[usize],
    n_params: usize,
) -> Result<ReplicatesTest, StatsError> {
    replicates_test_in(residuals, groups, n_params, &mut Vec::new())
}

/// [`replicates_test`] with the group sums and counts in `sums` (reused across calls).
pub(crate) fn replicates_test_in(
    residuals: &[f64],
    groups: &[usize],
    n_params: usize,
    sums: &mut Vec<(f64, usize)>,
) -> Result<ReplicatesTest, StatsError> {
    let n = residuals.len();
    if groups.len() != n {
        return Err(StatsError::DimensionMismatch {
            what: "groups",
            expected: n,
            found: groups.len(),
        });
    }
    let mut n_groups = 0;
    let mut ss_pe = 0.0;
    let mut rss = 0.0;
    if groups.iter().all(|&g| g < n) {
        // Labels below n (as replicate_groups gives them): group sums without sorting.
        let n_labels = groups.iter().max().map_or(0, |&g| g + 1);
        sums.clear();
        sums.resize(n_labels, (0.0, 0));
        for (&g, &r) in groups.iter().zip(residuals) {
            sums[g].0 += r;
            sums[g].1 += 1;
        }
        for (s, c) in sums.iter_mut() {
            if *c > 0 {
                *s /= *c as f64;
                n_groups += 1;
            }
        }
        for (&g, &r) in groups.iter().zip(residuals) {
            let d = r - sums[g].0;
            ss_pe += d * d;
            rss += r * r;
        }
    }
    let mut order: Vec<usize> = Vec::new();
    if n_groups == 0 {
        order.extend(0..n);
        order.sort_by_key(|&i| groups[i]);
    }
    let mut start = if n_groups == 0 { 0 } else { n };
    while start < n {
        let label = groups[order[start]];
        let mut end = start;
        while end < n && groups[order[end]] == label {
            end += 1;
        }
        let members = &order[start..end];
        let mean = members.iter().map(|&i| residuals[i]).sum::<f64>() / members.len() as f64;
        for &i in members {
            let d = residuals[i] - mean;
            ss_pe += d * d;
            rss += residuals[i] * residuals[i];
        }
        n_groups += 1;
        start = end;
    }
    if n_groups == n {
        return Err(StatsError::NoReplicates);
    }
    if n_groups <= n_params {
        return Err(StatsError::InsufficientDegreesOfFreedom {
            n_obs: n_groups,
            n_params,
        });
    }
    let df_pe = n - n_groups;
    let df_lof = n_groups - n_params;
    let ss_lof = (rss - ss_pe).max(0.0);
    let f = (ss_lof / df_lof as f64) / (ss_pe / df_pe as f64);
    let p_value = if ss_pe == 0.0 {
        if ss_lof > 0.0 {
            0.0
        } else {
            1.0
        }
    } else {
        f_survival(f, df_lof as f64, df_pe as f64)
    };
    Ok(ReplicatesTest {
        n_groups,
        ss_pure_error: ss_pe,
        df_pure_error: df_pe,
        ss_lack_of_fit: ss_lof,
        df_lack_of_fit: df_lof,
        f,
        p_value,
    })
}

/// Group labels for replicates that share exactly the same `x` (in order of first appearance).
///
/// ```
/// use ligand_fit::stats::replicate_groups;
/// assert_eq!(replicate_groups(&[1.0, 2.0, 1.0, 3.0, 2.0]), vec![0, 1, 0, 2, 1]);
/// ```
pub fn replicate_groups(x: &[f64]) -> Vec<usize> {
    let mut seen: Vec<f64> = Vec::new();
    x.iter()
        .map(|&v| match seen.iter().position(|&s| s == v) {
            Some(k) => k,
            None => {
                seen.push(v);
                seen.len() - 1
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    #[allow(clippy::excessive_precision)] // reference values as mpmath printed them
    fn f_survival_closed_form_matches_the_incomplete_beta() {
        for d1 in (2..=40).step_by(2).chain([120, 200]) {
            for d2 in [1.0, 2.0, 3.0, 5.5, 7.0, 20.0, 26.0, 97.0, 1000.0] {
                for f in [1e-6, 0.01, 0.3, 0.9, 1.0, 1.7, 3.2, 8.0, 25.0, 400.0] {
                    let general = FisherSnedecor::new(d1 as f64, d2).unwrap().sf(f);
                    let Some(fast) = f_survival_even_df1(f, d1 as f64, d2) else {
                        // Only where x^a underflows: deep in the tail.
                        assert!(general < 1e-150, "F({d1}, {d2}) at {f}: {general:e}");
                        continue;
                    };
                    // statrs's continued fraction is good to about 1e-11.
                    assert!(
                        (fast - general).abs() <= 1e-10 * general.max(1e-300) + 1e-15,
                        "F({d1}, {d2}) at {f}: {fast:e} vs {general:e}"
                    );
                }
            }
        }
        // Against I_x(df2/2, df1/2) to 40 digits (mpmath 1.3 `betainc(..., regularized=True)`).
        for (d1, d2, f, exact) in [
            (2.0, 97.0, 1.7, 0.188_080_616_935_271_09),
            (6.0, 20.0, 1.3, 0.302_159_504_269_964_18),
            (6.0, 20.0, 4.5, 0.004_846_642_326_374_001_2),
            (4.0, 7.0, 0.2, 0.930_514_817_475_805_7),
            (10.0, 3.0, 25.0, 0.011_323_875_155_531_249),
            (40.0, 1000.0, 1.1, 0.310_758_013_231_192_85),
            (200.0, 26.0, 0.9, 0.668_857_252_531_896_85),
        ] {
            let p = f_survival(f, d1, d2);
            assert!(
                (p - exact).abs() <= 1e-14 * exact,
                "F({d1}, {d2}) at {f}: {p:e}"
            );
        }
        // Odd df1, and tails that would underflow, take the general path.
        assert!(f_survival_even_df1(2.0, 3.0, 10.0).is_none());
        assert!(f_survival_even_df1(1e300, 4.0, 1e4).is_none());
        assert!(f_survival(1e300, 4.0, 1e4) >= 0.0);
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Values from R's qt().
        for (p, df, t) in [
            (0.975, 1.0, 12.706_204_736_174_7),
            (0.975, 5.0, 2.570_581_835_636_31),
            (0.995, 30.0, 2.749_995_653_567),
            (0.95, 20.0, 1.724_718_242_920_79),
            (0.975, 1e4, 1.960_201_239_890_8),
            // Cornish-Fisher branch (the value is z + (z^3 + z) / 4n + ... to 1e-16).
            (0.975, 1e6, 1.959_966_356_814_106),
            (0.025, 2e5, -1.959_975_845_966_768),
            (0.025, 10.0, -2.228_138_851_986_27),
        ] {
            let got = t_quantile(p, df);
            assert!(close(got, t, 1e-9), "t({p}, {df}) = {got}, expected {t}");
        }
    }

    #[test]
    fn f_distribution_identities() {
        // F(0.95; 3, 12) = 3.4903 (tables).
        assert!(close(f_quantile(0.95, 3.0, 12.0), 3.490_294_819, 1e-8));
        // F(1, d) is the square of t(d): P(F > t^2) = 2 P(T > t).
        let t = t_quantile(0.99, 7.0);
        assert!(close(f_survival(t * t, 1.0, 7.0), 0.02, 1e-10));
        // For df1 = 2, P(F > f) = (1 + 2 f / df2)^(-df2 / 2) exactly.
        for (f, d2) in [(0.5f64, 5.0f64), (3.0, 12.0), (10.0, 30.0)] {
            let expected = (1.0 + 2.0 * f / d2).powf(-d2 / 2.0);
            assert!(close(f_survival(f, 2.0, d2), expected, 1e-10));
        }
        assert_eq!(f_survival(-1.0, 2.0, 3.0), 1.0);
    }

    #[test]
    fn f_test_nested_errors_and_values() {
        assert!(matches!(
            f_test_nested(10.0, 10, 8.0, 10),
            Err(StatsError::NotNested { .. })
        ));
        assert!(matches!(
            f_test_nested(-1.0, 11, 8.0, 10),
            Err(StatsError::InvalidValue {
                what: "rss_simple",
                ..
            })
        ));
        // Critical value: F(0.95; 1, 10) = 4.9646 gives p = 0.05.
        let fcrit = f_quantile(0.95, 1.0, 10.0);
        let t = f_test_nested(10.0 * (1.0 + fcrit / 10.0), 11, 10.0, 10).unwrap();
        assert!(close(t.f, fcrit, 1e-12));
        assert!(close(t.p_value, 0.05, 1e-9));
        assert_eq!((t.df_numerator, t.df_denominator), (1, 10));
    }

    #[test]
    fn aicc_errors() {
        assert!(matches!(
            aicc(1.0, 4, 2),
            Err(StatsError::InsufficientDegreesOfFreedom { .. })
        ));
        assert!(matches!(
            aicc(0.0, 10, 2),
            Err(StatsError::InvalidValue { .. })
        ));
    }

    /// (J^T J) C / s^2 must be the identity: the covariance is an inverse.
    #[test]
    fn covariance_inverts_normal_matrix() {
        let m = 9;
        let n = 3;
        let mut jac = vec![0.0; m * n];
        for i in 0..m {
            let x = i as f64 * 0.4;
            jac[i] = 1.0;
            jac[i + m] = 1000.0 * x; // badly scaled column
            jac[i + 2 * m] = (-x).exp() * 1e-3;
        }
        let rss = 4.2;
        let st = ParameterStatistics::from_jacobian(&jac, m, n, rss).unwrap();
        assert_eq!(st.rank, 3);
        let cov = st.covariance.as_ref().unwrap();
        let s2 = rss / (m - n) as f64;
        for a in 0..n {
            for b in 0..n {
                let mut v = 0.0;
                for k in 0..n {
                    let jtj: f64 = (0..m).map(|i| jac[i + a * m] * jac[i + k * m]).sum();
                    v += jtj * cov.get(k, b) / s2;
                }
                // Compare in the units of unit-norm columns, where the problem is well
                // conditioned.
                let scale = |j: usize| (0..m).map(|i| jac[i + j * m].powi(2)).sum::<f64>().sqrt();
                let v = v * scale(b) / scale(a);
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 1e-12, "({a},{b}) = {v}");
            }
        }
        let corr = st.correlation.as_ref().unwrap();
        for a in 0..n {
            assert_eq!(corr.get(a, a), 1.0);
            for b in 0..n {
                let expected = cov.get(a, b) / (cov.get(a, a) * cov.get(b, b)).sqrt();
                assert!((corr.get(a, b) - expected).abs() < 1e-12);
            }
        }
        assert!(st.is_identifiable());
        assert!(close(st.sy_x(), s2.sqrt(), 1e-15));
    }

    #[test]
    fn rank_deficiency_flags_the_null_space() {
        // Columns 0 and 2 are proportional; column 1 is independent of both.
        let m = 6;
        let mut jac = vec![0.0; m * 3];
        for i in 0..m {
            let x = i as f64;
            jac[i] = x;
            jac[i + m] = 1.0 + (x - 2.5).powi(2);
            jac[i + 2 * m] = -3.0 * x;
        }
        let st = ParameterStatistics::from_jacobian(&jac, m, 3, 1.0).unwrap();
        assert_eq!(st.rank, 2);
        assert!(st.covariance.is_none() && st.correlation.is_none());
        assert_eq!(st.standard_errors, vec![None, None, None]);
        assert_eq!(st.ambiguous, vec![true, false, true]);
        assert_eq!(st.dependency[0], 1.0);
        assert_eq!(st.dependency[2], 1.0);
        assert!(st.dependency[1] < 0.9);
        assert!(!st.is_identifiable());
        let ci = st.wald_intervals(&[1.0, 2.0, 3.0], 0.95).unwrap();
        assert!(ci.iter().all(|c| c.is_none()));
    }

    #[test]
    fn near_collinearity_is_ambiguous_but_full_rank() {
        let m = 8;
        let mut jac = vec![0.0; m * 2];
        for i in 0..m {
            let x = i as f64;
            jac[i] = x;
            jac[i + m] = x * (1.0 + 1e-4 * (x - 3.5));
        }
        let st = ParameterStatistics::from_jacobian(&jac, m, 2, 1.0).unwrap();
        assert_eq!(st.rank, 2);
        assert!(st.covariance.is_some());
        assert!(st.dependency.iter().all(|&d| d > AMBIGUOUS_DEPENDENCY));
        assert_eq!(st.ambiguous, vec![true, true]);
    }

    #[test]
    fn statistics_input_errors() {
        assert!(matches!(
            ParameterStatistics::from_jacobian(&[1.0; 4], 2, 2, 1.0),
            Err(StatsError::InsufficientDegreesOfFreedom { .. })
        ));
        assert!(matches!(
            ParameterStatistics::from_jacobian(&[1.0; 5], 3, 2, 1.0),
            Err(StatsError::DimensionMismatch {
                what: "jacobian",
                ..
            })
        ));
        assert!(matches!(
            ParameterStatistics::from_jacobian(&[1.0, 2.0, f64::NAN], 3, 1, 1.0),
            Err(StatsError::InvalidValue { .. })
        ));
        let st = ParameterStatistics::from_jacobian(&[1.0, 2.0, 3.0], 3, 1, 1.0).unwrap();
        assert!(matches!(
            st.wald_intervals(&[1.0], 1.0),
            Err(StatsError::InvalidLevel { .. })
        ));
        assert!(matches!(
            st.wald_intervals(&[1.0, 2.0], 0.9),
            Err(StatsError::DimensionMismatch { .. })
        ));
    }

    /// Exact runs distribution against enumeration of every arrangement.
    #[test]
    fn runs_test_exact_matches_enumeration() {
        for (n1, n2) in [(1, 1), (3, 4), (5, 5), (4, 8), (7, 6)] {
            let n = n1 + n2;
            let mut counts = vec![0u64; n + 2];
            let mut total = 0u64;
            for mask in 0u32..(1 << n) {
                if mask.count_ones() as usize != n1 {
                    continue;
                }
                let mut runs = 1;
                for i in 1..n {
                    if (mask >> i & 1) != (mask >> (i - 1) & 1) {
                        runs += 1;
                    }
                }
                counts[runs] += 1;
                total += 1;
            }
            let mut cdf = 0.0;
            for r in 2..=n {
                cdf += counts[r] as f64 / total as f64;
                let p = runs_cdf_exact(n1, n2, r);
                assert!(
                    (p - cdf).abs() < 1e-12,
                    "n1={n1} n2={n2} r={r}: {p} vs {cdf}"
                );
            }
        }
        // The exact and normal forms agree for large samples.
        let (a, b) = (600, 600);
        for r in [560, 590, 601] {
            let e = runs_cdf_exact(a, b, r);
            let z = runs_cdf_normal(a, b, r);
            assert!((e - z).abs() < 2e-3, "r={r}: exact {e}, normal {z}");
        }
    }

    #[test]
    fn runs_test_on_residuals() {
        // Alternating signs: the maximum number of runs, p(too few) = 1.
        let t = runs_test(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]);
        assert_eq!(t.runs, 6);
        assert!((t.p_too_few - 1.0).abs() < 1e-12);
        assert!((t.expected_runs - 4.0).abs() < 1e-12);
        // Zeros are ignored; one sign only gives p = 1.
        let t = runs_test(&[0.0, 1.0, 2.0, 0.0]);
        assert_eq!((t.n_positive, t.n_negative, t.runs), (2, 0, 1));
        assert_eq!(t.p_too_few, 1.0);
        // Large samples use the normal approximation.
        let r: Vec<f64> = (0..2000)
            .map(|i| if (i / 3) % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let t = runs_test(&r);
        assert_eq!(t.method, RunsMethod::Normal);
        assert!(t.p_too_few < 1e-10);
    }

    #[test]
    fn replicates_test_p_value_and_errors() {
        let r = [1.5, 0.5, -0.5, -1.5, 1.5, 0.5, -0.5, -1.5];
        let g = [0, 0, 1, 1, 2, 2, 3, 3];
        let t = replicates_test(&r, &g, 2).unwrap();
        assert!(close(t.p_value, f_survival(8.0, 2.0, 4.0), 1e-14));
        assert!(close(t.p_value, 1.0 / 25.0, 1e-12)); // df1 = 2: (1 + 2 * 8 / 4)^-2
        assert!(matches!(
            replicates_test(&[1.0, 2.0], &[0, 1], 1),
            Err(StatsError::NoReplicates)
        ));
        assert!(matches!(
            replicates_test(&r, &g, 4),
            Err(StatsError::InsufficientDegreesOfFreedom { .. })
        ));
        assert!(matches!(
            replicates_test(&r, &g[..3], 1),
            Err(StatsError::DimensionMismatch { .. })
        ));
    }

    #[test]
    fn weighted_goodness_of_fit() {
        // Weighted mean of (1, 3) with weights (3, 1) is 1.5; TSS = 3 * 0.25 + 1 * 2.25 = 3.
        let g = goodness_of_fit(&[1.0, 3.0, 1.5], Some(&[3.0, 1.0, 2.0]), 0.3, 1).unwrap();
        assert!(close(g.tss, 3.0, 1e-14));
        assert!(close(g.r_squared, 0.9, 1e-14));
        assert!(matches!(
            goodness_of_fit(&[1.0, 2.0], Some(&[1.0]), 0.1, 1),
            Err(StatsError::DimensionMismatch { .. })
        ));
    }

    /// y = a exp(-k t) with fixed pseudo-noise.
    struct Decay {
        t: Vec<f64>,
        y: Vec<f64>,
    }

    impl Decay {
        fn new() -> Self {
            let t: Vec<f64> = (0..12).map(|i| i as f64 * 0.5).collect();
            let noise = [
                0.03, -0.05, 0.02, 0.04, -0.03, 0.01, -0.02, 0.05, -0.04, 0.0, 0.02, -0.01,
            ];
            let y = t
                .iter()
                .zip(noise)
                .map(|(&t, e)| 2.0 * (-0.7 * t).exp() + e)
                .collect();
            Decay { t, y }
        }
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
                r[i] = self.y[i] - p[0] * (-p[1] * self.t[i]).exp();
            }
            true
        }
        fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
            let m = self.t.len();
            for i in 0..m {
                let e = (-p[1] * self.t[i]).exp();
                jac[i] = -e;
                jac[i + m] = p[0] * self.t[i] * e;
            }
            true
        }
    }

    fn fit_decay() -> (Decay, Vec<f64>, f64, ParameterStatistics) {
        let mut d = Decay::new();
        let opts = LmOptions::default().with_tolerance(1e-14);
        let fit = minimize(&mut d, &[1.0, 1.0], None, &opts, &mut LmWorkspace::new()).unwrap();
        let mut jac = vec![0.0; 24];
        d.jacobian(&fit.params, &mut jac);
        let st = ParameterStatistics::from_jacobian(&jac, 12, 2, fit.rss).unwrap();
        (d, fit.params, fit.rss, st)
    }

    /// The profile RSS at each limit equals the threshold, and the interval brackets the estimate.
    #[test]
    fn profile_limits_sit_on_the_threshold() {
        let (mut d, best, rss, st) = fit_decay();
        let mask = ParameterMask::all_free(2);
        let opts = ProfileOptions::default();
        let mut ws = LmWorkspace::new();
        for j in 0..2 {
            let se = st.standard_errors[j].unwrap();
            let prof =
                profile_interval(&mut d, &best, rss, &mask, None, j, se, &opts, &mut ws).unwrap();
            assert_eq!(prof.better_rss, None);
            let lo = prof.lower.value().unwrap();
            let hi = prof.upper.value().unwrap();
            assert!(lo < best[j] && best[j] < hi);
            // Re-profile at the limits by hand.
            for v in [lo, hi] {
                let other = 1 - j;
                let mut reduced = FixedParameters::new(&mut d, mask.with_fixed(j), &best);
                reduced.set_value(j, v);
                let fit = minimize(
                    &mut reduced,
                    &[best[other]],
                    None,
                    &LmOptions::default().with_tolerance(1e-14),
                    &mut ws,
                )
                .unwrap();
                assert!(
                    (fit.rss - prof.rss_threshold).abs() < 1e-6 * prof.rss_threshold,
                    "param {j} at {v}: rss {} vs threshold {}",
                    fit.rss,
                    prof.rss_threshold
                );
            }
            // Close to, but not the same as, the Wald interval for this mildly nonlinear model.
            let wald = st.wald_intervals(&best, 0.95).unwrap()[j].unwrap();
            assert!((lo - wald.lower).abs() < 0.1 * (wald.upper - wald.lower));
            assert!((hi - wald.upper).abs() < 0.1 * (wald.upper - wald.lower));
            assert!(lo != wald.lower && hi != wald.upper);
        }
    }

    #[test]
    fn profile_respects_bounds_fixed_parameters_and_errors() {
        let (mut d, best, rss, st) = fit_decay();
        let se = st.standard_errors[1].unwrap();
        let opts = ProfileOptions::default();
        let mut ws = LmWorkspace::new();
        // A lower bound just below the estimate: the interval runs into it.
        let bounds = Bounds::new(
            vec![f64::NEG_INFINITY, best[1] - 0.1 * se],
            vec![f64::INFINITY; 2],
        );
        let mask = ParameterMask::all_free(2);
        let prof = profile_interval(
            &mut d,
            &best,
            rss,
            &mask,
            Some(&bounds),
            1,
            se,
            &opts,
            &mut ws,
        )
        .unwrap();
        assert_eq!(
            prof.lower,
            ProfileLimit::BoundReached {
                value: best[1] - 0.1 * se
            }
        );
        assert!(prof.upper.value().is_some());
        // With the other parameter fixed, nothing is re-optimised (the conditional interval).
        let fixed = ParameterMask::new(&[true, false]);
        let prof =
            profile_interval(&mut d, &best, rss, &fixed, None, 1, se, &opts, &mut ws).unwrap();
        let (lo, hi) = (prof.lower.value().unwrap(), prof.upper.value().unwrap());
        let mut r = vec![0.0; 12];
        for v in [lo, hi] {
            d.residuals(&[best[0], v], &mut r);
            let s: f64 = r.iter().map(|x| x * x).sum();
            assert!((s - prof.rss_threshold).abs() < 1e-6 * s);
        }
        // dof is 12 - 1 here, so the threshold differs from the two-parameter one.
        let f = f_quantile(0.95, 1.0, 11.0);
        assert!(close(prof.rss_threshold, rss * (1.0 + f / 11.0), 1e-14));
        assert!(matches!(
            profile_interval(&mut d, &best, rss, &fixed, None, 0, se, &opts, &mut ws),
            Err(StatsError::ParameterFixed { index: 0 })
        ));
        assert!(matches!(
            profile_interval(&mut d, &best, rss, &mask, None, 5, se, &opts, &mut ws),
            Err(StatsError::DimensionMismatch { .. })
        ));
        let bad = ProfileOptions { level: 1.5, ..opts };
        assert!(matches!(
            profile_interval(&mut d, &best, rss, &mask, None, 0, se, &bad, &mut ws),
            Err(StatsError::InvalidLevel { .. })
        ));
    }

    /// A parameter the data cannot bound: the profile never crosses the threshold.
    #[test]
    fn unbounded_profile_is_reported() {
        // y = a (1 - exp(-k t)) observed only where k t is large: k is bounded below, not above.
        struct Plateau;
        impl LeastSquaresProblem for Plateau {
            fn n_params(&self) -> usize {
                2
            }
            fn n_residuals(&self) -> usize {
                4
            }
            fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
                let y = [0.98, 1.01, 1.0, 0.99];
                for i in 0..4 {
                    let t = 10.0 + i as f64;
                    r[i] = y[i] - p[0] * (1.0 - (-p[1] * t).exp());
                }
                true
            }
            fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
                for i in 0..4 {
                    let t = 10.0 + i as f64;
                    let e = (-p[1] * t).exp();
                    jac[i] = -(1.0 - e);
                    jac[i + 4] = -p[0] * t * e;
                }
                true
            }
        }
        let mut p = Plateau;
        let mut ws = LmWorkspace::new();
        let fit = minimize(&mut p, &[1.0, 1.0], None, &LmOptions::default(), &mut ws).unwrap();
        let opts = ProfileOptions {
            max_steps: 12,
            ..ProfileOptions::default()
        };
        let prof = profile_interval(
            &mut p,
            &fit.params,
            fit.rss,
            &ParameterMask::all_free(2),
            None,
            1,
            0.1,
            &opts,
            &mut ws,
        )
        .unwrap();
        assert!(
            matches!(prof.upper, ProfileLimit::NotFound { .. }),
            "{prof:?}"
        );
    }

    #[test]
    fn results_serialise() {
        let (_, best, _, st) = fit_decay();
        let json = serde_json::to_string(&st).unwrap();
        let back: ParameterStatistics = serde_json::from_str(&json).unwrap();
        // serde_json's default float parser may differ from the shortest round trip in the last
        // bit, so compare within that.
        assert_eq!(
            (back.rank, back.dof, &back.ambiguous),
            (st.rank, st.dof, &st.ambiguous)
        );
        for (a, b) in back.standard_errors.iter().zip(&st.standard_errors) {
            assert!(close(a.unwrap(), b.unwrap(), 1e-15));
        }
        let ci = st.wald_intervals(&best, 0.9).unwrap();
        let json = serde_json::to_string(&ci).unwrap();
        assert!(json.starts_with("[{\"lower\""));
        let t = runs_test(&[1.0, -1.0, 1.0]);
        let back: RunsTest = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
