//! Small dense kernels for least squares, in column-major storage.
//!
//! # Mathematics
//!
//! The central factorisation is the Householder QR decomposition with column pivoting of an
//! `m x n` matrix `A` (`m >= n`):
//!
//! ```text
//! A P = Q R
//! ```
//!
//! where `P` is a permutation chosen so that the diagonal of the upper-triangular `R` has
//! non-increasing magnitude, and `Q` is orthogonal, stored implicitly as `n` Householder vectors
//! `v_j` (with `Q = H_1 ... H_n`, `H_j = I - v_j v_j^T / v_jj`). This is MINPACK's `qrfac`
//! (Moré, Garbow and Hillstrom 1980), including its cheap downdating of the remaining column norms
//! and their recomputation when cancellation makes the downdate inaccurate.
//!
//! [`qr_solve_damped`] is MINPACK's `qrsolv`: given the factor `R`, a diagonal `D` and `Q^T b`, it
//! solves the damped least-squares problem
//!
//! ```text
//! min_x || [A; D] x - [b; 0] ||
//! ```
//!
//! by eliminating `D` from `[R; D P]` with Givens rotations, in `O(n^2)` per call. The
//! Levenberg-Marquardt parameter search calls it a few times per iteration without refactoring
//! `A`.
//!
//! [`enorm`] is a Euclidean norm that is fast for ordinary data and exact (no spurious overflow
//! or underflow) for extreme magnitudes.
//!
//! # Storage
//!
//! A matrix with `m` rows is a slice in which element `(i, j)` sits at `i + j * m` (column-major,
//! leading dimension `m`). Column `j` is the contiguous run `a[j*m .. (j+1)*m]`, which keeps the
//! inner loops of the factorisation on unit stride. No function here allocates.

/// Machine epsilon, MINPACK's `dpmpar(1)`.
pub(crate) const EPSMCH: f64 = f64::EPSILON;

/// The smallest positive normal number, MINPACK's `dpmpar(2)`.
pub(crate) const DWARF: f64 = f64::MIN_POSITIVE;

/// Below and above these sums of squares the fast path of [`enorm`] may have lost accuracy to
/// underflow or overflow; the careful path then rescales.
const ENORM_SMALL: f64 = 1e-280;
const ENORM_LARGE: f64 = 1e280;

/// Euclidean norm of `x`.
///
/// Sums squares directly when that is safe and falls back to a scaled two-pass sum when the
/// result would underflow or overflow, so `enorm(&[1e200, 1e200])` is `1.414e200`, not infinity.
///
/// ```
/// use ligand_fit::linalg::enorm;
/// assert_eq!(enorm(&[3.0, 4.0]), 5.0);
/// assert!((enorm(&[3e200, 4e200]) / 5e200 - 1.0).abs() < 1e-15);
/// assert!((enorm(&[3e-200, 4e-200]) / 5e-200 - 1.0).abs() < 1e-15);
/// ```
#[inline]
pub fn enorm(x: &[f64]) -> f64 {
    let s = sum_of_squares(x);
    if s > ENORM_SMALL && s < ENORM_LARGE {
        return s.sqrt();
    }
    enorm_scaled(x)
}

#[cold]
fn enorm_scaled(x: &[f64]) -> f64 {
    let mut amax = 0.0_f64;
    for &v in x {
        let a = v.abs();
        if a.is_nan() {
            return f64::NAN;
        }
        if a > amax {
            amax = a;
        }
    }
    if amax == 0.0 || amax.is_infinite() {
        return amax;
    }
    let inv = 1.0 / amax;
    let mut s = 0.0;
    for &v in x {
        let t = v * inv;
        s += t * t;
    }
    amax * s.sqrt()
}

/// Sum of squares with four independent accumulators (lets the compiler keep the loop in
/// registers and pipelines the additions). Index loops rather than `chunks_exact`: the vectors
/// here are short (a curve's points, a Jacobian column), where iterator set-up costs as much as
/// the arithmetic.
#[inline]
pub(crate) fn sum_of_squares(x: &[f64]) -> f64 {
    let n = x.len();
    let mut acc = [0.0_f64; 4];
    let mut i = 0;
    while i + 4 <= n {
        let c = &x[i..i + 4];
        acc[0] += c[0] * c[0];
        acc[1] += c[1] * c[1];
        acc[2] += c[2] * c[2];
        acc[3] += c[3] * c[3];
        i += 4;
    }
    let mut tail = 0.0;
    while i < n {
        tail += x[i] * x[i];
        i += 1;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Whether every entry is finite. Written without an early exit so that it vectorises: the
/// common case is that all are.
#[inline]
pub(crate) fn all_finite(x: &[f64]) -> bool {
    let mut ok = true;
    for &v in x {
        ok &= v.is_finite();
    }
    ok
}

/// Dot product of two equally long slices (four accumulators).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0_f64; 4];
    let mut i = 0;
    while i + 4 <= n {
        let (x, y) = (&a[i..i + 4], &b[i..i + 4]);
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
        i += 4;
    }
    let mut tail = 0.0;
    while i < n {
        tail += a[i] * b[i];
        i += 1;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `y += alpha * x`.
#[inline]
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    for i in 0..n {
        y[i] += alpha * x[i];
    }
}

/// Householder QR factorisation with column pivoting, in place (MINPACK `qrfac` with
/// `pivot = true`).
///
/// On entry `a` holds the `m x n` matrix (`m >= n`, column-major). On exit its upper triangle
/// holds `R` except the diagonal, which is returned in `rdiag`; the lower trapezoid (diagonal
/// included) holds the Householder vectors. `ipvt[j]` is the original index of the column now in
/// position `j` (so `A P` has column `j` equal to column `ipvt[j]` of `A`), `acnorm` receives the
/// Euclidean norms of the original columns, and `wa` is scratch of length `n`.
///
/// ```
/// use ligand_fit::linalg::qr_factor_pivoted;
/// // A = [[1, 2], [3, 4], [5, 6]] column-major.
/// let mut a = [1.0, 3.0, 5.0, 2.0, 4.0, 6.0];
/// let (mut ipvt, mut rdiag, mut acnorm, mut wa) = ([0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
/// qr_factor_pivoted(3, 2, &mut a, &mut ipvt, &mut rdiag, &mut acnorm, &mut wa);
/// // The larger column (the second) is taken first; |R_00| is its norm.
/// assert_eq!(ipvt, [1, 0]);
/// assert!((rdiag[0].abs() - 56f64.sqrt()).abs() < 1e-12);
/// // |det R| = sqrt(det(A^T A)) = sqrt(35 * 56 - 44^2) = sqrt(24).
/// assert!(((rdiag[0] * rdiag[1]).abs() - 24f64.sqrt()).abs() < 1e-12);
/// ```
pub fn qr_factor_pivoted(
    m: usize,
    n: usize,
    a: &mut [f64],
    ipvt: &mut [usize],
    rdiag: &mut [f64],
    acnorm: &mut [f64],
    wa: &mut [f64],
) {
    debug_assert!(m >= n);
    debug_assert!(a.len() >= m * n);
    for j in 0..n {
        let norm = enorm(&a[j * m..(j + 1) * m]);
        acnorm[j] = norm;
        rdiag[j] = norm;
        wa[j] = norm;
        ipvt[j] = j;
    }
    let minmn = m.min(n);
    for j in 0..minmn {
        // Bring the column of largest remaining norm into the pivot position.
        let mut kmax = j;
        for k in j..n {
            if rdiag[k] > rdiag[kmax] {
                kmax = k;
            }
        }
        if kmax != j {
            let (lo, hi) = a.split_at_mut(kmax * m);
            lo[j * m..(j + 1) * m].swap_with_slice(&mut hi[..m]);
            rdiag[kmax] = rdiag[j];
            wa[kmax] = wa[j];
            ipvt.swap(j, kmax);
        }

        // The Householder transformation that reduces column j below the diagonal.
        let (left, right) = a.split_at_mut((j + 1) * m);
        let colj = &mut left[j * m + j..(j + 1) * m];
        let mut ajnorm = enorm(colj);
        if ajnorm != 0.0 {
            if colj[0] < 0.0 {
                ajnorm = -ajnorm;
            }
            for v in colj.iter_mut() {
                *v /= ajnorm;
            }
            colj[0] += 1.0;
            let ajj = colj[0];
            let colj = &*colj;
            // Apply it to the remaining columns, then downdate their norms. (Two passes so that
            // the divide-and-square-root chains of the downdates overlap each other instead of
            // waiting behind each column's update; every value is computed as in MINPACK.)
            for kk in 0..n - j - 1 {
                let colk = &mut right[kk * m + j..(kk + 1) * m];
                let temp = dot(colj, colk) / ajj;
                axpy(-temp, colj, colk);
            }
            // The downdated norms only choose later pivots: after the step that leaves a single
            // column there is no choice left (and its norm is never read), so skip them there.
            let downdated = if j + 2 < n { n - j - 1 } else { 0 };
            for kk in 0..downdated {
                let k = j + 1 + kk;
                if rdiag[k] != 0.0 {
                    let t = right[kk * m + j] / rdiag[k];
                    rdiag[k] *= (1.0 - t * t).max(0.0).sqrt();
                    // MINPACK's test 0.05 (rdiag / wa)^2 <= epsmch, without the division.
                    if 0.05 * (rdiag[k] * rdiag[k]) <= EPSMCH * (wa[k] * wa[k]) {
                        rdiag[k] = enorm(&right[kk * m + j + 1..(kk + 1) * m]);
                        wa[k] = rdiag[k];
                    }
                }
            }
        }
        rdiag[j] = -ajnorm;
    }
}

/// Apply `Q^T` from [`qr_factor_pivoted`] to `b` in place (all `m` entries are transformed;
/// the first `n` are `Q^T b` restricted to the range of `A`).
///
/// `a` must still hold the Householder vectors in its lower trapezoid.
pub fn apply_qt(m: usize, n: usize, a: &[f64], b: &mut [f64]) {
    for j in 0..n.min(m) {
        let v = &a[j * m + j..(j + 1) * m];
        let vjj = v[0];
        if vjj != 0.0 {
            let bj = &mut b[j..m];
            let temp = -dot(v, bj) / vjj;
            axpy(temp, v, bj);
        }
    }
}

/// Solve the damped least-squares problem `min || [A; D] x - [b; 0] ||` given the pivoted QR
/// factor of `A` (MINPACK `qrsolv`).
///
/// `r` is column-major with leading dimension `ldr`; its full upper triangle must hold `R`
/// (diagonal included). On exit the strict lower triangle holds the transpose of the strict
/// upper triangle of the factor `S` of `P^T (A^T A + D^2) P = S^T S` and `sdiag` its diagonal;
/// the upper triangle and diagonal of `r` are unchanged. `diag` is `D` in the original
/// (unpermuted) order, `qtb` the first `n` entries of `Q^T b`, `x` receives the solution, and
/// `wa` is scratch of length `n`. A singular `S` gives the minimum-norm-in-the-trailing-components
/// least-squares solution, as in MINPACK.
#[allow(clippy::too_many_arguments)]
pub fn qr_solve_damped(
    n: usize,
    r: &mut [f64],
    ldr: usize,
    ipvt: &[usize],
    diag: &[f64],
    qtb: &[f64],
    x: &mut [f64],
    sdiag: &mut [f64],
    wa: &mut [f64],
) {
    // Copy R and Q^T b to preserve input and initialise S; save the diagonal of R in x.
    for j in 0..n {
        for i in j..n {
            r[i + j * ldr] = r[j + i * ldr];
        }
        x[j] = r[j + j * ldr];
        wa[j] = qtb[j];
    }

    // Eliminate the diagonal matrix D using Givens rotations.
    for j in 0..n {
        let l = ipvt[j];
        if diag[l] != 0.0 {
            for s in sdiag[j..n].iter_mut() {
                *s = 0.0;
            }
            sdiag[j] = diag[l];
            // The transformations to eliminate row j of D modify only a single element of
            // Q^T b beyond the first n, which is initially zero.
            let mut qtbpj = 0.0;
            for k in j..n {
                if sdiag[k] == 0.0 {
                    continue;
                }
                let rkk = r[k + k * ldr];
                let (sin, cos);
                if rkk.abs() < sdiag[k].abs() {
                    let cotan = rkk / sdiag[k];
                    sin = 0.5 / (0.25 + 0.25 * cotan * cotan).sqrt();
                    cos = sin * cotan;
                } else {
                    let tan = sdiag[k] / rkk;
                    cos = 0.5 / (0.25 + 0.25 * tan * tan).sqrt();
                    sin = cos * tan;
                }
                r[k + k * ldr] = cos * rkk + sin * sdiag[k];
                let temp = cos * wa[k] + sin * qtbpj;
                qtbpj = -sin * wa[k] + cos * qtbpj;
                wa[k] = temp;
                for i in k + 1..n {
                    let rik = r[i + k * ldr];
                    let temp = cos * rik + sin * sdiag[i];
                    sdiag[i] = -sin * rik + cos * sdiag[i];
                    r[i + k * ldr] = temp;
                }
            }
        }
        // Store the diagonal element of S and restore the corresponding element of R.
        sdiag[j] = r[j + j * ldr];
        r[j + j * ldr] = x[j];
    }

    // Solve the triangular system for z; if singular, obtain a least-squares solution.
    let mut nsing = n;
    for j in 0..n {
        if sdiag[j] == 0.0 && nsing == n {
            nsing = j;
        }
        if nsing < n {
            wa[j] = 0.0;
        }
    }
    for j in (0..nsing).rev() {
        let mut sum = 0.0;
        for i in j + 1..nsing {
            sum += r[i + j * ldr] * wa[i];
        }
        wa[j] = (wa[j] - sum) / sdiag[j];
    }
    for j in 0..n {
        x[ipvt[j]] = wa[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuild `A P` from the factorisation and compare with the original: the identity test.
    #[test]
    fn qr_reconstructs_matrix() {
        let m = 7;
        let n = 4;
        let mut a0 = vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                a0[i + j * m] = ((i * 7 + j * 3) % 11) as f64 - 4.5 + 0.1 * (i * j) as f64;
            }
        }
        let mut a = a0.clone();
        let (mut ipvt, mut rdiag, mut acnorm, mut wa) =
            (vec![0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        qr_factor_pivoted(m, n, &mut a, &mut ipvt, &mut rdiag, &mut acnorm, &mut wa);
        for j in 0..n {
            assert!((acnorm[j] - enorm(&a0[j * m..(j + 1) * m])).abs() < 1e-12);
        }
        // Diagonal magnitudes are non-increasing.
        for j in 1..n {
            assert!(rdiag[j].abs() <= rdiag[j - 1].abs() * (1.0 + 1e-12));
        }
        // Q^T (A P)_j must equal R_j: apply Q^T to each permuted original column.
        for j in 0..n {
            let mut col = a0[ipvt[j] * m..(ipvt[j] + 1) * m].to_vec();
            apply_qt(m, n, &a, &mut col);
            for i in 0..m {
                let expected = if i < j {
                    a[i + j * m]
                } else if i == j {
                    rdiag[j]
                } else {
                    0.0
                };
                assert!(
                    (col[i] - expected).abs() < 1e-12,
                    "(Q^T A P)[{i},{j}] = {} expected {expected}",
                    col[i]
                );
            }
        }
    }

    /// Checks `Q^T (A P) = R` for a factorisation of `a0` and returns the pivots and `R`'s
    /// diagonal.
    fn factor_and_check(m: usize, n: usize, a0: &[f64]) -> (Vec<usize>, Vec<f64>) {
        let mut a = a0.to_vec();
        let (mut ipvt, mut rdiag, mut acnorm, mut wa) =
            (vec![0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        qr_factor_pivoted(m, n, &mut a, &mut ipvt, &mut rdiag, &mut acnorm, &mut wa);
        let scale = acnorm.iter().cloned().fold(0.0, f64::max);
        for j in 0..n {
            let exact = enorm(&a0[j * m..(j + 1) * m]);
            assert!((acnorm[j] - exact).abs() <= 1e-14 * exact);
            let mut col = a0[ipvt[j] * m..(ipvt[j] + 1) * m].to_vec();
            apply_qt(m, n, &a, &mut col);
            for i in 0..m {
                let expected = match i.cmp(&j) {
                    std::cmp::Ordering::Less => a[i + j * m],
                    std::cmp::Ordering::Equal => rdiag[j],
                    std::cmp::Ordering::Greater => 0.0,
                };
                assert!(
                    (col[i] - expected).abs() <= 1e-13 * scale,
                    "(Q^T A P)[{i},{j}] = {:e}, expected {expected:e}",
                    col[i]
                );
            }
        }
        (ipvt, rdiag)
    }

    #[test]
    fn extreme_and_zero_columns_factorise() {
        // Squares of 1e200 overflow and of 1e-200 underflow: the factorisation must still hold.
        let (m, n) = (5, 3);
        let mut a0 = vec![0.0; m * n];
        for i in 0..m {
            a0[i] = 1e200 * (1.0 + i as f64);
            a0[i + m] = 1e-200 * ((i * i) as f64 - 3.0);
            a0[i + 2 * m] = (i as f64).cos();
        }
        let (ipvt, rdiag) = factor_and_check(m, n, &a0);
        assert_eq!(ipvt[0], 0);
        assert!((rdiag[0].abs() / (1e200 * 55f64.sqrt()) - 1.0).abs() < 1e-14);
        // A zero column is factorised as a zero diagonal, last.
        let mut z = vec![0.0; 4 * 2];
        z[4..].copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        let (ipvt, rdiag) = factor_and_check(4, 2, &z);
        assert_eq!(ipvt, vec![1, 0]);
        assert_eq!(rdiag[1], 0.0);
    }

    #[test]
    fn damped_solve_matches_normal_equations() {
        let m = 6;
        let n = 3;
        let mut a = vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                a[i + j * m] =
                    1.0 / (1.0 + i as f64 + 2.0 * j as f64) + if i == j { 1.0 } else { 0.0 };
            }
        }
        let b: Vec<f64> = (0..m).map(|i| (i as f64).sin() + 0.3).collect();
        let d = [0.7, 1.3, 0.2];
        // Reference: (A^T A + D^2) x = A^T b by Gaussian elimination.
        let mut mat = [[0.0; 4]; 3];
        for p in 0..n {
            for q in 0..n {
                mat[p][q] = (0..m).map(|i| a[i + p * m] * a[i + q * m]).sum::<f64>();
            }
            mat[p][p] += d[p] * d[p];
            mat[p][3] = (0..m).map(|i| a[i + p * m] * b[i]).sum::<f64>();
        }
        for p in 0..n {
            for q in p + 1..n {
                let f = mat[q][p] / mat[p][p];
                for c in 0..4 {
                    mat[q][c] -= f * mat[p][c];
                }
            }
        }
        let mut xref = [0.0; 3];
        for p in (0..n).rev() {
            let mut s = mat[p][3];
            for q in p + 1..n {
                s -= mat[p][q] * xref[q];
            }
            xref[p] = s / mat[p][p];
        }

        let mut f = a.clone();
        let (mut ipvt, mut rdiag, mut acnorm, mut wa) =
            (vec![0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        qr_factor_pivoted(m, n, &mut f, &mut ipvt, &mut rdiag, &mut acnorm, &mut wa);
        let mut qtb = b.clone();
        apply_qt(m, n, &f, &mut qtb);
        for j in 0..n {
            f[j + j * m] = rdiag[j];
        }
        let (mut x, mut sdiag, mut wa2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        qr_solve_damped(
            n,
            &mut f,
            m,
            &ipvt,
            &d,
            &qtb[..n],
            &mut x,
            &mut sdiag,
            &mut wa2,
        );
        for j in 0..n {
            assert!((x[j] - xref[j]).abs() < 1e-12, "{x:?} vs {xref:?}");
        }
    }

    #[test]
    fn enorm_handles_extremes() {
        assert_eq!(enorm(&[]), 0.0);
        assert_eq!(enorm(&[0.0, 0.0]), 0.0);
        assert!((enorm(&[1e-170, 1e-170]) / (2f64.sqrt() * 1e-170) - 1.0).abs() < 1e-15);
        assert!((enorm(&[1e170, 1e170, 0.0]) / (2f64.sqrt() * 1e170) - 1.0).abs() < 1e-15);
        assert!(enorm(&[1.0, f64::NAN]).is_nan());
        assert_eq!(enorm(&[1.0, f64::INFINITY]), f64::INFINITY);
        let v: Vec<f64> = (1..=9).map(|i| i as f64).collect();
        assert!((enorm(&v) - 285f64.sqrt()).abs() < 1e-13);
    }
}
