//! Sparse LU factorisation of the Newton matrix `M = I - c J` for large
//! systems whose Jacobian `J` has a known, sparse structure.
//!
//! The structure of `J` comes from the compiled right-hand side (which states
//! each derivative names), so it is fixed for a run: the *symbolic* phase
//! ([`SparseLu::new`]) computes once where the factors `L` and `U` can hold
//! nonzeros, and each *numeric* factorisation ([`SparseLu::factor`]) only
//! fills in their values. The elimination is row by row (the "up-looking"
//! form of Doolittle's `M = L U`, `L` unit lower triangular): row `i` of the
//! factors is row `i` of `M` minus the multiples of the rows of `U` above it,
//! in increasing column order, through a dense work vector that only the
//! row's pattern touches. Cost: the number of multiply-adds of the
//! elimination, `O(n)` for a chain or a banded network, where the dense
//! factorisation is `O(n^3)` and its storage `O(n^2)`.
//!
//! **Pivoting.** The diagonal is taken as the pivot, in the natural order;
//! no rows are exchanged, which is what keeps the symbolic structure fixed.
//! That is valid for the matrices the implicit methods form: `M = I - c J`
//! with `c` proportional to the step, so `M` tends to the identity as the
//! step shrinks, and a chemical network's Jacobian has a nonpositive
//! diagonal (a species' own consumption), which only adds to `M`'s diagonal.
//! A pivot that is zero, not finite, or below `1e-12` of the largest entry
//! of its row is reported as a failed factorisation, as the dense LU reports
//! a singular matrix: the integrator then retries with a smaller step, which
//! brings `M` towards `I`.

/// The pattern and values of a sparse LU factorisation, reusable across
/// numeric factorisations and solves.
#[derive(Clone, Debug, Default)]
pub struct SparseLu {
    n: usize,
    /// Row `i` of `M`'s pattern: positions into `a_values` given as the
    /// factor slot each entry lands in (`row_start[i]..row_start[i+1]`).
    a_slot: Vec<usize>,
    /// Factor pattern, row-major: columns of row `i` are
    /// `cols[row_start[i]..row_start[i + 1]]`, sorted; the diagonal is at `diag[i]`.
    row_start: Vec<usize>,
    cols: Vec<usize>,
    diag: Vec<usize>,
    /// Factor values (L below the diagonal, without its unit diagonal; U on and above).
    values: Vec<f64>,
    /// Dense work row.
    work: Vec<f64>,
}

impl SparseLu {
    /// The symbolic factorisation for `n x n` matrices `I - c J` where `J`
    /// has nonzeros at `pattern` (`(row, column)` pairs, any order).
    pub fn new(n: usize, pattern: &[(usize, usize)]) -> SparseLu {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, row) in rows.iter_mut().enumerate() {
            row.push(i);
        }
        for &(i, k) in pattern {
            rows[i].push(k);
        }
        // Symbolic elimination: row i's pattern gains the U part (columns
        // beyond k) of every row k < i that it reaches, in increasing order.
        let mut row_start = vec![0];
        let mut cols: Vec<usize> = Vec::new();
        let mut diag = vec![0; n];
        let mut mark = vec![usize::MAX; n];
        let mut heap = std::collections::BinaryHeap::new();
        for i in 0..n {
            let mut out: Vec<usize> = Vec::new();
            for &k in &rows[i] {
                if mark[k] != i {
                    mark[k] = i;
                    heap.push(std::cmp::Reverse(k));
                }
            }
            while let Some(std::cmp::Reverse(k)) = heap.pop() {
                out.push(k);
                if k < i {
                    for &j in &cols[diag[k] + 1..row_start[k + 1]] {
                        if mark[j] != i {
                            mark[j] = i;
                            heap.push(std::cmp::Reverse(j));
                        }
                    }
                }
            }
            let base = cols.len();
            diag[i] = base + out.iter().position(|&k| k == i).expect("diagonal");
            cols.extend(out);
            row_start.push(cols.len());
        }
        // Where each entry of J lands, in the order of `pattern`.
        let a_slot = pattern
            .iter()
            .map(|&(i, k)| {
                let r = &cols[row_start[i]..row_start[i + 1]];
                row_start[i] + r.binary_search(&k).expect("pattern entry in its row")
            })
            .collect();
        SparseLu {
            n,
            a_slot,
            values: vec![0.0; cols.len()],
            row_start,
            cols,
            diag,
            work: vec![0.0; n],
        }
    }

    /// Factorises `I - c J`, `J`'s values given in the order of the pattern
    /// passed to [`SparseLu::new`]. Returns the row of the first unusable
    /// pivot when the matrix cannot be factorised with diagonal pivots.
    pub fn factor(&mut self, c: f64, jac_values: &[f64]) -> Result<(), usize> {
        self.values.fill(0.0);
        for i in 0..self.n {
            self.values[self.diag[i]] = 1.0;
        }
        for (&slot, &v) in self.a_slot.iter().zip(jac_values) {
            self.values[slot] -= c * v;
        }
        let w = &mut self.work;
        for i in 0..self.n {
            let (s, e) = (self.row_start[i], self.row_start[i + 1]);
            let mut scale = 0.0f64;
            for p in s..e {
                w[self.cols[p]] = self.values[p];
                scale = scale.max(self.values[p].abs());
            }
            for p in s..self.diag[i] {
                let k = self.cols[p];
                let l = w[k] / self.values[self.diag[k]];
                w[k] = l;
                if l != 0.0 {
                    for q in self.diag[k] + 1..self.row_start[k + 1] {
                        w[self.cols[q]] -= l * self.values[q];
                    }
                }
            }
            for p in s..e {
                self.values[p] = w[self.cols[p]];
                w[self.cols[p]] = 0.0;
            }
            let d = self.values[self.diag[i]];
            if !d.is_finite() || d.abs() <= 1e-12 * scale || d == 0.0 {
                return Err(i);
            }
        }
        Ok(())
    }

    /// Solves `M x = b` in place with the last factorisation.
    pub fn solve(&self, b: &mut [f64]) {
        for i in 0..self.n {
            let mut s = b[i];
            for p in self.row_start[i]..self.diag[i] {
                s -= self.values[p] * b[self.cols[p]];
            }
            b[i] = s;
        }
        for i in (0..self.n).rev() {
            let mut s = b[i];
            for p in self.diag[i] + 1..self.row_start[i + 1] {
                s -= self.values[p] * b[self.cols[p]];
            }
            b[i] = s / self.values[self.diag[i]];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SparseLu;
    use crate::solver::linalg::Lu;

    #[test]
    fn matches_the_dense_factorisation() {
        // An arrow-shaped matrix with fill-in, and a chain.
        let n = 30;
        let mut pattern = Vec::new();
        let mut values = Vec::new();
        for i in 0..n {
            pattern.push((i, i));
            values.push(-1.0 - i as f64 * 0.1);
            if i > 0 {
                pattern.push((i, i - 1));
                values.push(0.7);
                pattern.push((0, i));
                values.push(0.3 / n as f64);
                pattern.push((i, 0));
                values.push(0.2);
            }
        }
        let c = 0.8;
        let mut lu = SparseLu::new(n, &pattern);
        lu.factor(c, &values).unwrap();
        let mut dense = Lu::new(n);
        let m = dense.matrix_mut();
        for i in 0..n {
            m[i * n + i] = 1.0;
        }
        for (&(i, k), &v) in pattern.iter().zip(&values) {
            m[i * n + k] -= c * v;
        }
        dense.factor().unwrap();
        let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let mut xs = b.clone();
        lu.solve(&mut xs);
        let mut xd = b.clone();
        dense.solve(&mut xd);
        for i in 0..n {
            assert!((xs[i] - xd[i]).abs() < 1e-12, "{i}: {} {}", xs[i], xd[i]);
        }
    }
}
