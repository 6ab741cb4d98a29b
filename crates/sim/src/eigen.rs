//! Eigenvalues of a small dense real matrix, and the stability of a steady
//! state.
//!
//! ## The eigenvalue routine
//!
//! A real `n x n` matrix is reduced to upper Hessenberg form `H = Q^T A Q`
//! by `n - 2` Householder reflections (an orthogonal similarity: the
//! eigenvalues are unchanged and rounding errors stay of the order of
//! `eps ||A||`). The eigenvalues of `H` are then found by the shifted QR
//! algorithm with Francis' implicit double shift, in the form of EISPACK's
//! `hqr` (Wilkinson and Reinsch, *Handbook for Automatic Computation* II,
//! contribution II/14): each sweep chases a 3x3 bulge down the subdiagonal,
//! so a complex conjugate pair of shifts is applied in real arithmetic; a
//! subdiagonal entry below `eps` times its neighbours deflates the matrix,
//! leaving a 1x1 block (a real eigenvalue) or a 2x2 block (a real pair or a
//! complex conjugate pair, from its characteristic polynomial). Exceptional
//! shifts after 10 and 20 iterations break the rare cycles; an eigenvalue not
//! found within 30 iterations per eigenvalue is an error. No eigenvectors are
//! computed: stability needs only the spectrum. Cost: `O(n^3)`, about
//! `10 n^3` flops.
//!
//! ## Stability of a steady state
//!
//! A steady state `x*` of `dx/dt = f(x)` is (linearly) stable when every
//! eigenvalue of the Jacobian `J = df/dx (x*)` has a negative real part.
//! A reaction network with conservation laws `w^T x = T` has `w^T J = 0`
//! (each `w` is a left null vector of the stoichiometry), so `J` has one
//! exact zero eigenvalue per law, which says only that the totals stay where
//! they are. These are removed exactly, not by a threshold: with `Q` an
//! orthonormal basis of the complement of the laws' weight vectors, the range
//! of `J` lies in `span(Q)`, so `J Q = Q (Q^T J Q)` and the eigenvalues of the
//! reduced Jacobian `Q^T J Q` are those of `J` without the conservation
//! zeros. A largest real part within `sqrt(eps) ||J||` of zero is
//! *marginal*: linearisation does not decide.

use serde::{Deserialize, Serialize};

/// The QR iteration did not converge (`index` eigenvalues were left).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("the QR iteration did not converge ({remaining} eigenvalues left)")]
pub struct NoConvergence {
    pub remaining: usize,
}

/// The eigenvalues `(re, im)` of the row-major `n x n` matrix `a` (which is
/// overwritten), complex pairs adjacent with the positive imaginary part
/// first.
///
/// ```
/// // A rotation-and-scaling block and a real eigenvalue.
/// let mut a = vec![-1.0, 2.0, 0.0,
///                  -2.0, -1.0, 0.0,
///                  0.0, 0.0, 3.0];
/// let mut ev = ligand_sim::eigen::eigenvalues(&mut a, 3).unwrap();
/// ev.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
/// assert!((ev[0].0 + 1.0).abs() < 1e-12 && (ev[0].1 + 2.0).abs() < 1e-12);
/// assert!((ev[1].0 + 1.0).abs() < 1e-12 && (ev[1].1 - 2.0).abs() < 1e-12);
/// assert!((ev[2].0 - 3.0).abs() < 1e-12 && ev[2].1 == 0.0);
/// ```
pub fn eigenvalues(a: &mut [f64], n: usize) -> Result<Vec<(f64, f64)>, NoConvergence> {
    assert_eq!(a.len(), n * n, "eigenvalues: the matrix must be n x n");
    hessenberg(a, n);
    hqr(a, n)
}

/// Reduces `a` to upper Hessenberg form by Householder similarity
/// transformations (the entries below the subdiagonal are set to zero).
pub(crate) fn hessenberg(a: &mut [f64], n: usize) {
    let mut v = vec![0.0; n];
    for k in 0..n.saturating_sub(2) {
        // The reflection that zeroes a[k+2.., k].
        let norm = (k + 1..n).map(|i| a[i * n + k].powi(2)).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if a[(k + 1) * n + k] > 0.0 {
            -norm
        } else {
            norm
        };
        let m = n - k - 1;
        for i in 0..m {
            v[i] = a[(k + 1 + i) * n + k];
        }
        v[0] -= alpha;
        let vv: f64 = v[..m].iter().map(|x| x * x).sum();
        if vv == 0.0 {
            continue;
        }
        let beta = 2.0 / vv;
        // A <- H A (rows k+1..n).
        for j in 0..n {
            let s: f64 = (0..m).map(|i| v[i] * a[(k + 1 + i) * n + j]).sum();
            let s = s * beta;
            for i in 0..m {
                a[(k + 1 + i) * n + j] -= s * v[i];
            }
        }
        // A <- A H (columns k+1..n).
        for i in 0..n {
            let s: f64 = (0..m).map(|j| a[i * n + k + 1 + j] * v[j]).sum();
            let s = s * beta;
            for j in 0..m {
                a[i * n + k + 1 + j] -= s * v[j];
            }
        }
        a[(k + 1) * n + k] = alpha;
        for i in k + 2..n {
            a[i * n + k] = 0.0;
        }
    }
}

/// EISPACK's `hqr` on an upper Hessenberg matrix (overwritten): Francis
/// double-shift QR. The indices below are 1-based, as in the original, so
/// that the algorithm can be checked against it line by line.
fn hqr(h: &mut [f64], n: usize) -> Result<Vec<(f64, f64)>, NoConvergence> {
    let idx = |i: i64, j: i64| (i as usize - 1) * n + (j as usize - 1);
    let mut wr = vec![0.0; n + 1];
    let mut wi = vec![0.0; n + 1];
    let mut anorm = 0.0;
    for i in 1..=n as i64 {
        for j in (i - 1).max(1)..=n as i64 {
            anorm += h[idx(i, j)].abs();
        }
    }
    let eps = f64::EPSILON;
    let mut nn = n as i64;
    let mut t = 0.0;
    while nn >= 1 {
        let mut its = 0;
        loop {
            // Look for a single small subdiagonal element.
            let mut l = nn;
            while l >= 2 {
                let mut s = h[idx(l - 1, l - 1)].abs() + h[idx(l, l)].abs();
                if s == 0.0 {
                    s = anorm;
                }
                if h[idx(l, l - 1)].abs() <= eps * s {
                    h[idx(l, l - 1)] = 0.0;
                    break;
                }
                l -= 1;
            }
            let mut x = h[idx(nn, nn)];
            if l == nn {
                // One root found.
                wr[nn as usize] = x + t;
                wi[nn as usize] = 0.0;
                nn -= 1;
            } else {
                let mut y = h[idx(nn - 1, nn - 1)];
                let mut w = h[idx(nn, nn - 1)] * h[idx(nn - 1, nn)];
                if l == nn - 1 {
                    // Two roots found.
                    let p = 0.5 * (y - x);
                    let q = p * p + w;
                    let z = q.abs().sqrt();
                    x += t;
                    let (a, b) = (nn as usize - 1, nn as usize);
                    if q >= 0.0 {
                        let z = p + z.copysign(p);
                        wr[a] = x + z;
                        wr[b] = if z != 0.0 { x - w / z } else { x + z };
                        wi[a] = 0.0;
                        wi[b] = 0.0;
                    } else {
                        wr[a] = x + p;
                        wr[b] = x + p;
                        wi[a] = z;
                        wi[b] = -z;
                    }
                    nn -= 2;
                } else {
                    if its == 30 {
                        return Err(NoConvergence {
                            remaining: nn as usize,
                        });
                    }
                    if its == 10 || its == 20 {
                        // Exceptional shift.
                        t += x;
                        for i in 1..=nn {
                            h[idx(i, i)] -= x;
                        }
                        let s = h[idx(nn, nn - 1)].abs() + h[idx(nn - 1, nn - 2)].abs();
                        x = 0.75 * s;
                        y = x;
                        w = -0.4375 * s * s;
                    }
                    its += 1;
                    // Form the shift and look for two consecutive small
                    // subdiagonal elements.
                    let (mut p, mut q, mut r) = (0.0, 0.0, 0.0);
                    let mut z;
                    let mut m = nn - 2;
                    while m >= l {
                        z = h[idx(m, m)];
                        let r0 = x - z;
                        let s0 = y - z;
                        p = (r0 * s0 - w) / h[idx(m + 1, m)] + h[idx(m, m + 1)];
                        q = h[idx(m + 1, m + 1)] - z - r0 - s0;
                        r = h[idx(m + 2, m + 1)];
                        let s = p.abs() + q.abs() + r.abs();
                        p /= s;
                        q /= s;
                        r /= s;
                        if m == l {
                            break;
                        }
                        let u = h[idx(m, m - 1)].abs() * (q.abs() + r.abs());
                        let v = p.abs()
                            * (h[idx(m - 1, m - 1)].abs() + z.abs() + h[idx(m + 1, m + 1)].abs());
                        if u <= eps * v {
                            break;
                        }
                        m -= 1;
                    }
                    for i in m + 2..=nn {
                        h[idx(i, i - 2)] = 0.0;
                        if i != m + 2 {
                            h[idx(i, i - 3)] = 0.0;
                        }
                    }
                    // The double QR step on rows l..nn and columns m..nn.
                    let mut k = m;
                    while k < nn {
                        if k != m {
                            p = h[idx(k, k - 1)];
                            q = h[idx(k + 1, k - 1)];
                            r = 0.0;
                            if k != nn - 1 {
                                r = h[idx(k + 2, k - 1)];
                            }
                            x = p.abs() + q.abs() + r.abs();
                            if x != 0.0 {
                                p /= x;
                                q /= x;
                                r /= x;
                            }
                        }
                        let s = (p * p + q * q + r * r).sqrt().copysign(p);
                        if s != 0.0 {
                            if k == m {
                                if l != m {
                                    h[idx(k, k - 1)] = -h[idx(k, k - 1)];
                                }
                            } else {
                                h[idx(k, k - 1)] = -s * x;
                            }
                            p += s;
                            x = p / s;
                            y = q / s;
                            z = r / s;
                            q /= p;
                            r /= p;
                            for j in k..=nn {
                                let mut pp = h[idx(k, j)] + q * h[idx(k + 1, j)];
                                if k != nn - 1 {
                                    pp += r * h[idx(k + 2, j)];
                                    h[idx(k + 2, j)] -= pp * z;
                                }
                                h[idx(k + 1, j)] -= pp * y;
                                h[idx(k, j)] -= pp * x;
                            }
                            let mmin = if nn < k + 3 { nn } else { k + 3 };
                            for i in l..=mmin {
                                let mut pp = x * h[idx(i, k)] + y * h[idx(i, k + 1)];
                                if k != nn - 1 {
                                    pp += z * h[idx(i, k + 2)];
                                    h[idx(i, k + 2)] -= pp * r;
                                }
                                h[idx(i, k + 1)] -= pp * q;
                                h[idx(i, k)] -= pp;
                            }
                        }
                        k += 1;
                    }
                }
            }
            if l >= nn - 1 {
                break;
            }
        }
    }
    Ok((1..=n).map(|i| (wr[i], wi[i])).collect())
}

/// What the eigenvalues of the Jacobian say about a steady state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StabilityKind {
    /// Every eigenvalue has a negative real part: small perturbations decay.
    Stable,
    /// An eigenvalue has a positive real part: the dynamics move away.
    Unstable,
    /// The largest real part is zero to rounding: linearisation does not decide.
    Marginal,
    /// The eigenvalues could not be computed.
    Unknown,
}

/// The stability of a steady state (module documentation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    pub kind: StabilityKind,
    /// The largest real part of the eigenvalues of the reduced Jacobian.
    pub max_real_part: f64,
    /// The eigenvalues `[re, im]` of the Jacobian reduced by the
    /// conservation laws, largest real part first.
    pub eigenvalues: Vec<[f64; 2]>,
    /// The number of conservation laws (exact zero eigenvalues removed).
    pub conservation_laws: usize,
}

/// The stability of a steady state from its Jacobian `jac` (row-major
/// `n x n`) and the weight vectors of the conservation laws (sparse).
pub(crate) fn stability(jac: &[f64], n: usize, laws: &[Vec<(usize, f64)>]) -> Stability {
    let k = laws.len().min(n);
    let reduced = reduce(jac, n, &laws[..k]);
    let m = n - k;
    let norm = reduced.iter().fold(0.0f64, |a, v| a.max(v.abs())) * m.max(1) as f64;
    let mut work = reduced;
    let mut ev = match eigenvalues(&mut work, m) {
        Ok(ev) => ev,
        Err(_) => {
            return Stability {
                kind: StabilityKind::Unknown,
                max_real_part: f64::NAN,
                eigenvalues: Vec::new(),
                conservation_laws: k,
            }
        }
    };
    ev.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let max_re = ev.first().map_or(f64::NEG_INFINITY, |e| e.0);
    let zero = f64::EPSILON.sqrt() * norm;
    let kind = if !max_re.is_finite() && m > 0 {
        StabilityKind::Unknown
    } else if max_re > zero {
        StabilityKind::Unstable
    } else if max_re < -zero || m == 0 {
        StabilityKind::Stable
    } else {
        StabilityKind::Marginal
    };
    Stability {
        kind,
        max_real_part: max_re,
        eigenvalues: ev.into_iter().map(|(re, im)| [re, im]).collect(),
        conservation_laws: k,
    }
}

/// `Q^T J Q` with `Q` an orthonormal basis of the complement of the laws'
/// weight vectors: the columns `k..n` of the product of the Householder
/// reflections of the QR factorisation of the `n x k` matrix of weights.
fn reduce(jac: &[f64], n: usize, laws: &[Vec<(usize, f64)>]) -> Vec<f64> {
    let k = laws.len();
    if k == 0 {
        return jac.to_vec();
    }
    // W, column-major n x k.
    let mut w = vec![0.0; n * k];
    for (c, law) in laws.iter().enumerate() {
        for &(i, v) in law {
            w[c * n + i] = v;
        }
    }
    // Householder QR of W; keep the reflectors.
    let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(k);
    for c in 0..k {
        let norm = (c..n).map(|i| w[c * n + i].powi(2)).sum::<f64>().sqrt();
        let mut v = vec![0.0; n];
        if norm > 0.0 {
            let alpha = if w[c * n + c] > 0.0 { -norm } else { norm };
            for i in c..n {
                v[i] = w[c * n + i];
            }
            v[c] -= alpha;
            let vv: f64 = v.iter().map(|x| x * x).sum();
            if vv > 0.0 {
                let s = (2.0 / vv).sqrt();
                v.iter_mut().for_each(|x| *x *= s);
                for cc in c..k {
                    let d: f64 = (c..n).map(|i| v[i] * w[cc * n + i]).sum();
                    for i in c..n {
                        w[cc * n + i] -= d * v[i];
                    }
                }
            }
        }
        reflectors.push(v);
    }
    // Q = H_1 ... H_k I: apply the reflectors to the identity in reverse.
    let mut q = vec![0.0; n * n]; // row-major
    for i in 0..n {
        q[i * n + i] = 1.0;
    }
    for v in reflectors.iter().rev() {
        for j in 0..n {
            let d: f64 = (0..n).map(|i| v[i] * q[i * n + j]).sum();
            if d != 0.0 {
                for i in 0..n {
                    q[i * n + j] -= d * v[i];
                }
            }
        }
    }
    // R = Q_c^T J Q_c with Q_c the columns k..n.
    let m = n - k;
    let mut jq = vec![0.0; n * m];
    for i in 0..n {
        for c in 0..m {
            let mut s = 0.0;
            for l in 0..n {
                let a = jac[i * n + l];
                if a != 0.0 {
                    s += a * q[l * n + k + c];
                }
            }
            jq[i * m + c] = s;
        }
    }
    let mut r = vec![0.0; m * m];
    for a in 0..m {
        for c in 0..m {
            r[a * m + c] = (0..n).map(|i| q[i * n + k + a] * jq[i * m + c]).sum();
        }
    }
    r
}

#[cfg(test)]
mod tests;
