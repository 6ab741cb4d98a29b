use super::left_null_space;
use ligand_model::{parse_antimony, parse_sbml, Model};

/// The dense reduction to reduced row echelon form that the sparse
/// elimination replaced, kept as the reference: `at` is `rows x cols`
/// (reactions x species), row-major.
fn dense_left_null_space(
    at: &mut [f64],
    rows: usize,
    cols: usize,
) -> Vec<(usize, Vec<(usize, f64)>)> {
    let max = at.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let eps = 1e-10 * max.max(1.0);
    let mut pivots: Vec<usize> = Vec::new();
    let mut r = 0;
    for c in 0..cols {
        if r == rows {
            break;
        }
        let (p, best) = (r..rows)
            .map(|i| (i, at[i * cols + c].abs()))
            .fold((r, -1.0), |acc, x| if x.1 > acc.1 { x } else { acc });
        if best <= eps {
            continue;
        }
        for j in 0..cols {
            at.swap(p * cols + j, r * cols + j);
        }
        let d = at[r * cols + c];
        for j in 0..cols {
            at[r * cols + j] /= d;
        }
        for i in 0..rows {
            if i != r {
                let f = at[i * cols + c];
                if f != 0.0 {
                    for j in 0..cols {
                        at[i * cols + j] -= f * at[r * cols + j];
                    }
                }
            }
        }
        pivots.push(c);
        r += 1;
    }
    (0..cols)
        .filter(|c| !pivots.contains(c))
        .map(|f| {
            let mut w = vec![(f, 1.0)];
            for (ri, &pc) in pivots.iter().enumerate() {
                let v = -at[ri * cols + f];
                if v.abs() > eps {
                    w.push((pc, v));
                }
            }
            (f, w)
        })
        .collect()
}

fn assert_same_laws(sparse_rows: &[Vec<(usize, f64)>], cols: usize, what: &str) {
    let mut at = vec![0.0; sparse_rows.len() * cols];
    for (r, row) in sparse_rows.iter().enumerate() {
        for &(c, v) in row {
            at[r * cols + c] += v;
        }
    }
    let dense = dense_left_null_space(&mut at, sparse_rows.len(), cols);
    let sparse = left_null_space(sparse_rows, cols);
    assert_eq!(dense.len(), sparse.len(), "{what}: number of laws");
    for ((fd, wd), (fs, ws)) in dense.iter().zip(&sparse) {
        assert_eq!(fd, fs, "{what}: free species");
        let cd: Vec<usize> = wd.iter().map(|e| e.0).collect();
        let cs: Vec<usize> = ws.iter().map(|e| e.0).collect();
        assert_eq!(cd, cs, "{what}: species of the law of {fd}");
        for (a, b) in wd.iter().zip(ws) {
            assert!(
                (a.1 - b.1).abs() <= 1e-9 * a.1.abs().max(1.0),
                "{what}: weight of {} in the law of {fd}: dense {} sparse {}",
                a.0,
                a.1,
                b.1
            );
        }
    }
}

fn stoichiometry_rows(m: &Model) -> (Vec<Vec<(usize, f64)>>, usize) {
    let s = m.stoichiometry_matrix();
    let rows = (0..s.reactions.len())
        .map(|j| {
            (0..s.species.len())
                .filter(|&i| s.get(i, j) != 0.0)
                .map(|i| (i, s.get(i, j)))
                .collect()
        })
        .collect();
    (rows, s.species.len())
}

#[test]
fn a_chain_conserves_its_total() {
    let n = 1000;
    let rows: Vec<Vec<(usize, f64)>> = (0..n - 1).map(|i| vec![(i, -1.0), (i + 1, 1.0)]).collect();
    let laws = left_null_space(&rows, n);
    assert_eq!(laws.len(), 1);
    assert_eq!(laws[0].0, n - 1);
    assert_eq!(laws[0].1.len(), n);
    assert!(laws[0].1.iter().all(|&(_, w)| w == 1.0));
    assert_same_laws(&rows, n, "chain");
}

#[test]
fn binding_and_phosphorylation_laws_match_the_dense_reduction() {
    // E + S <-> ES -> E + P, P -> S; 2 A <-> A2; a species in no reaction.
    let rows = vec![
        vec![(0, -1.0), (1, -1.0), (2, 1.0)],
        vec![(2, -1.0), (0, 1.0), (3, 1.0)],
        vec![(3, -1.0), (1, 1.0)],
        vec![(4, -2.0), (5, 1.0)],
        vec![(5, -1.0), (4, 2.0)],
    ];
    assert_same_laws(&rows, 7, "enzyme");
    assert_eq!(left_null_space(&rows, 7).len(), 4);
}

#[test]
fn random_sparse_networks_match_the_dense_reduction() {
    // A small linear congruential generator: reproducible without a dependency.
    let mut seed: u64 = 12345;
    let mut next = move |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    for case in 0..200 {
        let cols = 2 + next(30) as usize;
        let nrows = 1 + next(40) as usize;
        let rows: Vec<Vec<(usize, f64)>> = (0..nrows)
            .map(|_| {
                (0..1 + next(4))
                    .map(|_| {
                        (
                            next(cols as u64) as usize,
                            [-2.0, -1.0, 1.0, 2.0, 0.5][next(5) as usize],
                        )
                    })
                    .collect()
            })
            .collect();
        assert_same_laws(&rows, cols, &format!("random case {case}"));
    }
}

#[test]
fn the_test_models_laws_are_unchanged() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in [
        data.to_string(),
        format!("{data}/biomodels"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/synapse").to_string(),
    ] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if matches!(p.extension().and_then(|x| x.to_str()), Some("ant" | "xml")) {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut checked = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let parsed = if p.extension().unwrap() == "xml" {
            parse_sbml(&text)
        } else {
            parse_antimony(&text)
        };
        let Ok((m, _)) = parsed else { continue };
        let (rows, cols) = stoichiometry_rows(&m);
        assert_same_laws(&rows, cols, &p.display().to_string());
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} models read");
}
