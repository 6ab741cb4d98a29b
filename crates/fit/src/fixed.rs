//! Fixed parameters: mapping a full parameter vector to its free sub-vector and back.
//!
//! # Mathematics
//!
//! Holding parameters `p_F` fixed turns `min_p S(p)` into `min_{p_V} S(p_V, p_F)` over the free
//! ones `p_V`. The Jacobian of the reduced problem is the full Jacobian with the fixed columns
//! deleted, so a reduced problem needs nothing but a gather of free entries and columns. The
//! solver in [`crate::lm`] therefore knows nothing of fixed parameters: [`FixedParameters`]
//! presents the reduced problem to it, and [`ParameterMask`] does the bookkeeping.

use serde::{Deserialize, Serialize};

use crate::lm::LeastSquaresProblem;

/// Which entries of a parameter vector are fixed, with the index list of the free ones.
///
/// ```
/// use ligand_fit::lm::ParameterMask;
/// let mask = ParameterMask::new(&[false, true, false]);
/// assert_eq!(mask.n_free(), 2);
/// let mut free = [0.0; 2];
/// mask.gather(&[1.0, 2.0, 3.0], &mut free);
/// assert_eq!(free, [1.0, 3.0]);
/// let mut full = [0.0, 2.0, 0.0];
/// mask.scatter(&[10.0, 30.0], &mut full);
/// assert_eq!(full, [10.0, 2.0, 30.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterMask {
    fixed: Vec<bool>,
    free: Vec<usize>,
}

impl ParameterMask {
    /// A mask from a `fixed` flag per parameter.
    pub fn new(fixed: &[bool]) -> Self {
        ParameterMask {
            fixed: fixed.to_vec(),
            free: (0..fixed.len()).filter(|&j| !fixed[j]).collect(),
        }
    }

    /// All `n` parameters free.
    pub fn all_free(n: usize) -> Self {
        Self::new(&vec![false; n])
    }

    /// The same mask with parameter `j` fixed as well.
    pub fn with_fixed(&self, j: usize) -> Self {
        let mut fixed = self.fixed.clone();
        fixed[j] = true;
        Self::new(&fixed)
    }

    /// Length of the full parameter vector.
    pub fn n_params(&self) -> usize {
        self.fixed.len()
    }

    /// Number of free parameters.
    pub fn n_free(&self) -> usize {
        self.free.len()
    }

    /// Whether parameter `j` is fixed.
    pub fn is_fixed(&self, j: usize) -> bool {
        self.fixed[j]
    }

    /// The `fixed` flags.
    pub fn fixed(&self) -> &[bool] {
        &self.fixed
    }

    /// Indices (into the full vector) of the free parameters, ascending.
    pub fn free_indices(&self) -> &[usize] {
        &self.free
    }

    /// Position of full index `j` in the free sub-vector, if it is free.
    pub fn free_position(&self, j: usize) -> Option<usize> {
        self.free.binary_search(&j).ok()
    }

    /// Copy the free entries of `full` into `free`.
    pub fn gather(&self, full: &[f64], free: &mut [f64]) {
        for (dst, &j) in free.iter_mut().zip(&self.free) {
            *dst = full[j];
        }
    }

    /// Write `free` into the free entries of `full`, leaving the fixed entries as they are.
    pub fn scatter(&self, free: &[f64], full: &mut [f64]) {
        for (&src, &j) in free.iter().zip(&self.free) {
            full[j] = src;
        }
    }

    /// Copy the free columns of a column-major `m x n_params` matrix into an `m x n_free` one.
    pub fn gather_columns(&self, m: usize, full: &[f64], free: &mut [f64]) {
        for (k, &j) in self.free.iter().enumerate() {
            free[k * m..(k + 1) * m].copy_from_slice(&full[j * m..(j + 1) * m]);
        }
    }
}

/// A problem with some parameters held at given values, presented to the solver as a problem in
/// the free parameters only.
///
/// ```
/// use ligand_fit::lm::{minimize, FixedParameters, LeastSquaresProblem, LmOptions, LmWorkspace,
///     ParameterMask};
///
/// /// Residuals p - (1, 2, 3): the minimum is (1, 2, 3).
/// struct Shift;
/// impl LeastSquaresProblem for Shift {
///     fn n_params(&self) -> usize { 3 }
///     fn n_residuals(&self) -> usize { 3 }
///     fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
///         for j in 0..3 { r[j] = p[j] - (j + 1) as f64; }
///         true
///     }
///     fn jacobian(&mut self, _p: &[f64], jac: &mut [f64]) -> bool {
///         jac.fill(0.0);
///         for j in 0..3 { jac[j + 3 * j] = 1.0; }
///         true
///     }
/// }
///
/// let mut shift = Shift;
/// let mask = ParameterMask::new(&[false, true, false]);
/// let mut reduced = FixedParameters::new(&mut shift, mask, &[0.0, 5.0, 0.0]);
/// let fit = minimize(&mut reduced, &[0.0, 0.0], None, &LmOptions::default(),
///     &mut LmWorkspace::new()).unwrap();
/// assert_eq!(reduced.expand(&fit.params), vec![1.0, 5.0, 3.0]);
/// assert!((fit.rss - 9.0).abs() < 1e-12);
/// ```
pub struct FixedParameters<'a, P: LeastSquaresProblem + ?Sized> {
    problem: &'a mut P,
    mask: ParameterMask,
    full: Vec<f64>,
    full_jac: Vec<f64>,
}

impl<'a, P: LeastSquaresProblem + ?Sized> FixedParameters<'a, P> {
    /// Wrap `problem`; the fixed parameters take their values from `values` (a full vector; its
    /// free entries are ignored).
    ///
    /// # Panics
    ///
    /// If `mask` or `values` does not have `problem.n_params()` entries.
    pub fn new(problem: &'a mut P, mask: ParameterMask, values: &[f64]) -> Self {
        let n = problem.n_params();
        assert_eq!(
            mask.n_params(),
            n,
            "mask length must equal the number of parameters"
        );
        assert_eq!(
            values.len(),
            n,
            "values length must equal the number of parameters"
        );
        let m = problem.n_residuals();
        FixedParameters {
            problem,
            mask,
            full: values.to_vec(),
            full_jac: vec![0.0; m * n],
        }
    }

    /// The mask.
    pub fn mask(&self) -> &ParameterMask {
        &self.mask
    }

    /// Set the value at which full parameter `j` is held (meaningful for fixed `j`).
    pub fn set_value(&mut self, j: usize, value: f64) {
        self.full[j] = value;
    }

    /// The full parameter vector for the free values `free`.
    pub fn expand(&self, free: &[f64]) -> Vec<f64> {
        let mut full = self.full.clone();
        self.mask.scatter(free, &mut full);
        full
    }

    /// Write the full parameter vector for the free values `free` into `full`.
    pub fn expand_into(&self, free: &[f64], full: &mut [f64]) {
        full.copy_from_slice(&self.full);
        self.mask.scatter(free, full);
    }
}

impl<P: LeastSquaresProblem + ?Sized> LeastSquaresProblem for FixedParameters<'_, P> {
    fn n_params(&self) -> usize {
        self.mask.n_free()
    }

    fn n_residuals(&self) -> usize {
        self.problem.n_residuals()
    }

    fn residuals(&mut self, p: &[f64], r: &mut [f64]) -> bool {
        self.mask.scatter(p, &mut self.full);
        self.problem.residuals(&self.full, r)
    }

    fn jacobian(&mut self, p: &[f64], jac: &mut [f64]) -> bool {
        self.mask.scatter(p, &mut self.full);
        if !self.problem.jacobian(&self.full, &mut self.full_jac) {
            return false;
        }
        let m = self.problem.n_residuals();
        self.mask.gather_columns(m, &self.full_jac, jac);
        true
    }

    fn constant_ss(&self) -> f64 {
        self.problem.constant_ss()
    }
}
