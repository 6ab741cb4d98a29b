//! Parameter scans and ensembles: many simulations of one system, in
//! parallel.
//!
//! Each rayon worker thread makes one [`Simulator`] (its integrator and slot
//! arrays) and reuses it for every parameter set it takes, so a scan
//! allocates per thread, not per simulation. The caller's `map` runs on the
//! worker too (say, formatting the rows of a CSV block, or keeping only the
//! final state), and its results come back in input order whatever order the
//! workers finish in.

use crate::error::SimError;
use crate::observe::Observables;
use crate::simulate::{Settings, Simulator, Trajectory};
use crate::system::System;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A table of parameter sets: the base values its columns set
/// ([`System::base_index`]) and one row of values per simulation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParameterSets {
    pub columns: Vec<usize>,
    pub rows: Vec<Vec<f64>>,
    /// Overrides applied to every row before its own values (a `--set`).
    pub base: Vec<(usize, f64)>,
}

impl ParameterSets {
    /// Resolves column names against a system.
    pub fn new(
        system: &System,
        names: &[String],
        rows: Vec<Vec<f64>>,
    ) -> Result<ParameterSets, SimError> {
        let columns = names
            .iter()
            .map(|n| system.base_index(n))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some((i, r)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != columns.len())
        {
            return Err(SimError::InvalidSettings {
                message: format!(
                    "parameter set {i} has {} values for {} columns",
                    r.len(),
                    columns.len()
                ),
            });
        }
        Ok(ParameterSets {
            columns,
            rows,
            base: Vec::new(),
        })
    }

    /// The overrides of row `i`: the common ones, then the row's values.
    pub fn overrides(&self, i: usize) -> Vec<(usize, f64)> {
        let mut o = self.base.clone();
        o.extend(
            self.columns
                .iter()
                .copied()
                .zip(self.rows[i].iter().copied()),
        );
        o
    }
}

/// Runs one simulation per row of `sets` (rows `range` of it), in parallel,
/// and returns `map(row index, result)` for each, in row order. `progress`
/// is called after each simulation with the number finished so far.
pub fn scan<T, F>(
    system: &System,
    observables: &Observables,
    settings: &Settings,
    sets: &ParameterSets,
    range: std::ops::Range<usize>,
    map: F,
    progress: &(dyn Fn(usize) + Sync),
) -> Vec<T>
where
    T: Send,
    F: Fn(usize, Result<Trajectory, SimError>) -> T + Sync,
{
    let done = AtomicUsize::new(0);
    range
        .into_par_iter()
        .map_init(
            || Simulator::new(system, observables),
            |sim, i| {
                let o = sets.overrides(i);
                let r = sim.run(settings, &o);
                let out = map(i, r);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                out
            },
        )
        .collect()
}
