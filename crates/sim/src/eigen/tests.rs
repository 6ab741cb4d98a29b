use super::*;

/// Sorted by real part, then imaginary part.
fn sorted(mut ev: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    ev.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    ev
}

fn assert_eigenvalues(a: &[f64], n: usize, expected: &[(f64, f64)], tol: f64) {
    let mut m = a.to_vec();
    let found = sorted(eigenvalues(&mut m, n).unwrap());
    let expected = sorted(expected.to_vec());
    assert_eq!(found.len(), expected.len());
    for (f, e) in found.iter().zip(&expected) {
        assert!(
            (f.0 - e.0).abs() <= tol * (1.0 + e.0.abs())
                && (f.1 - e.1).abs() <= tol * (1.0 + e.1.abs()),
            "found {found:?}\nexpected {expected:?}"
        );
    }
}

/// The companion matrix of the monic polynomial with these coefficients
/// (`x^n + c[0] x^(n-1) + ... + c[n-1]`).
fn companion(c: &[f64]) -> Vec<f64> {
    let n = c.len();
    let mut a = vec![0.0; n * n];
    for j in 0..n {
        a[j] = -c[j];
    }
    for i in 1..n {
        a[i * n + i - 1] = 1.0;
    }
    a
}

/// `Q D Q^T` with `Q` the Householder reflection of `v`: an orthogonal
/// similarity, so the eigenvalues are those of `d`.
fn reflect(d: &[f64], n: usize, v: &[f64]) -> Vec<f64> {
    let vv: f64 = v.iter().map(|x| x * x).sum();
    let q: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            f64::from(u8::from(i == j)) - 2.0 * v[i] * v[j] / vv
        })
        .collect();
    let mut qd = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            qd[i * n + j] = (0..n).map(|k| q[i * n + k] * d[k * n + j]).sum();
        }
    }
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n).map(|k| qd[i * n + k] * q[j * n + k]).sum();
        }
    }
    out
}

#[test]
fn triangular_and_diagonal_matrices() {
    assert_eigenvalues(&[3.0], 1, &[(3.0, 0.0)], 1e-15);
    assert_eigenvalues(
        &[1.0, 5.0, -2.0, 0.0, -3.0, 7.0, 0.0, 0.0, 4.0],
        3,
        &[(1.0, 0.0), (-3.0, 0.0), (4.0, 0.0)],
        1e-13,
    );
    // Defective: a Jordan block (a double eigenvalue, to sqrt(eps)).
    assert_eigenvalues(&[2.0, 1.0, 0.0, 2.0], 2, &[(2.0, 0.0), (2.0, 0.0)], 1e-7);
}

#[test]
fn complex_pairs_from_a_companion_matrix() {
    // (x - 1)(x + 2)(x^2 + 2x + 5): roots 1, -2, -1 +- 2i.
    // = (x^2 + x - 2)(x^2 + 2x + 5) = x^4 + 3x^3 + 5x^2 + x - 10.
    assert_eigenvalues(
        &companion(&[3.0, 5.0, 1.0, -10.0]),
        4,
        &[(1.0, 0.0), (-2.0, 0.0), (-1.0, 2.0), (-1.0, -2.0)],
        1e-12,
    );
    // A pure rotation: +-i.
    assert_eigenvalues(&[0.0, -1.0, 1.0, 0.0], 2, &[(0.0, 1.0), (0.0, -1.0)], 1e-15);
}

#[test]
fn an_orthogonal_similarity_keeps_the_spectrum() {
    // Block diagonal: two rotation-scaling blocks and three reals, hidden by
    // a reflection that fills every entry.
    let n = 7;
    let mut d = vec![0.0; n * n];
    let blocks = [(-0.5, 3.0), (0.25, 0.1)];
    for (b, &(re, im)) in blocks.iter().enumerate() {
        let o = 2 * b;
        d[o * n + o] = re;
        d[o * n + o + 1] = im;
        d[(o + 1) * n + o] = -im;
        d[(o + 1) * n + o + 1] = re;
    }
    for (i, v) in [(4, -7.0), (5, 1e-3), (6, 12.0)] {
        d[i * n + i] = v;
    }
    let v = [0.3, -1.0, 0.7, 2.0, -0.1, 0.5, 1.3];
    let a = reflect(&d, n, &v);
    assert!(a.iter().filter(|x| x.abs() > 1e-3).count() > 40);
    assert_eigenvalues(
        &a,
        n,
        &[
            (-0.5, 3.0),
            (-0.5, -3.0),
            (0.25, 0.1),
            (0.25, -0.1),
            (-7.0, 0.0),
            (1e-3, 0.0),
            (12.0, 0.0),
        ],
        1e-12,
    );
}

#[test]
fn trace_and_determinant_of_a_dense_matrix() {
    // A deterministic pseudo-random 12 x 12 matrix: the eigenvalues sum to
    // the trace; their product is the determinant (by LU).
    let n = 12;
    let mut state = 12345u64;
    let a: Vec<f64> = (0..n * n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    let mut m = a.clone();
    let ev = eigenvalues(&mut m, n).unwrap();
    let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
    let sum_re: f64 = ev.iter().map(|e| e.0).sum();
    let sum_im: f64 = ev.iter().map(|e| e.1).sum();
    assert!((sum_re - trace).abs() < 1e-12, "{sum_re} vs {trace}");
    assert!(sum_im.abs() < 1e-12);
    // Product of eigenvalues (complex) against the determinant.
    let (mut pr, mut pi) = (1.0f64, 0.0f64);
    for &(re, im) in &ev {
        let (r, i) = (pr * re - pi * im, pr * im + pi * re);
        pr = r;
        pi = i;
    }
    let det = determinant(a.clone(), n);
    assert!(
        (pr - det).abs() < 1e-10 * det.abs().max(1e-3),
        "{pr} vs {det}"
    );
    assert!(pi.abs() < 1e-10 * det.abs().max(1e-3));
    // At least one complex pair, so the double shift was exercised.
    assert!(ev.iter().any(|e| e.1 != 0.0));
}

#[test]
fn conservation_zeros_are_removed_exactly() {
    // A <-> B (k1 = 2, k2 = 3) and B -> C -> B' with A + B conserved: J has a
    // zero eigenvalue that is the conservation law, and -(k1 + k2) = -5.
    let jac = [-2.0, 3.0, 2.0, -3.0];
    let s = stability(&jac, 2, &[vec![(0, 1.0), (1, 1.0)]]);
    assert_eq!(s.kind, StabilityKind::Stable);
    assert_eq!(s.conservation_laws, 1);
    assert_eq!(s.eigenvalues.len(), 1);
    assert!((s.eigenvalues[0][0] + 5.0).abs() < 1e-13);
    // Without the law, the zero makes linearisation undecided.
    let s = stability(&jac, 2, &[]);
    assert_eq!(s.kind, StabilityKind::Marginal);
    // A weighted law over three species: E + ES conserved, S + ES + P too.
    // J of E + S <-> ES -> E + P at some state (columns E, S, ES, P).
    let (kf, kr, kc, e, s_) = (1.0, 0.5, 2.0, 0.3, 4.0);
    #[rustfmt::skip]
    let j = [
        -kf * s_, -kf * e, kr + kc, 0.0,
        -kf * s_, -kf * e, kr, 0.0,
        kf * s_, kf * e, -kr - kc, 0.0,
        0.0, 0.0, kc, 0.0,
    ];
    let laws = [vec![(0, 1.0), (2, 1.0)], vec![(1, 1.0), (2, 1.0), (3, 1.0)]];
    let st = stability(&j, 4, &laws);
    assert_eq!(st.conservation_laws, 2);
    assert_eq!(st.eigenvalues.len(), 2);
    // The full spectrum is the reduced one plus two zeros.
    let mut full = j.to_vec();
    let mut ev = eigenvalues(&mut full, 4).unwrap();
    ev.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert!(ev[0].0.abs() < 1e-12 && ev[1].0.abs() < 1e-12, "{ev:?}");
    for (r, f) in st.eigenvalues.iter().zip(&ev[2..]) {
        assert!((r[0] - f.0).abs() < 1e-12, "{:?} vs {ev:?}", st.eigenvalues);
    }
    assert_eq!(st.kind, StabilityKind::Stable);
}

#[test]
fn a_saddle_is_unstable() {
    let s = stability(&[1.0, 0.0, 0.0, -1.0], 2, &[]);
    assert_eq!(s.kind, StabilityKind::Unstable);
    assert!((s.max_real_part - 1.0).abs() < 1e-15);
    // A growing spiral.
    let s = stability(&[0.1, -2.0, 2.0, 0.1], 2, &[]);
    assert_eq!(s.kind, StabilityKind::Unstable);
    assert!((s.max_real_part - 0.1).abs() < 1e-14);
}

/// The determinant by Gaussian elimination with partial pivoting.
fn determinant(mut a: Vec<f64>, n: usize) -> f64 {
    let mut det = 1.0;
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap();
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            det = -det;
        }
        let piv = a[k * n + k];
        det *= piv;
        for i in k + 1..n {
            let f = a[i * n + k] / piv;
            for j in k..n {
                a[i * n + j] -= f * a[k * n + j];
            }
        }
    }
    det
}
