//! Absolute tolerances that follow the model's scale.
//!
//! The integrators accept a step when every component's local error `e_i`
//! satisfies `|e_i| <= atol_i + rtol |x_i|` (in the RMS sense). The
//! absolute tolerance `atol_i` is the size below which component `i` is
//! noise. One number for every model cannot be right: `1e-12` (CVODE's and
//! libRoadRunner's default) is a millionth of a millionth of a model whose
//! amounts are of order 1, and larger than every amount of a model in mol
//! with femtolitre compartments (BioModels 1, 152, 153, 183 hold 1e-21 mol),
//! where it lets the solver accept anything.
//!
//! So each state gets a **typical scale** `s_i`, from what the model says
//! before anything is integrated:
//!
//! 1. its initial value, and the amounts dosed into it (a bolus, an
//!    infusion's rate times its duration);
//! 2. the totals of the conservation laws it belongs to: in `sum_j w_j x_j =
//!    T`, species `i` can reach `|T| / |w_i|` (the kinase-substrate complex
//!    of a kinase that starts free);
//! 3. for a state still without a scale (it starts at zero and is in no
//!    conserved pool), the largest scale of the states its right-hand side is
//!    built from (the Jacobian's pattern), repeated until nothing changes;
//!
//! and, with `S` the largest scale among the states of its kind (species
//! amounts; rate-rule variables), whose units are comparable,
//!
//! ```text
//! atol_i = rtol * 1e-6 * max(s_i, 1e-3 S)       (S = 1 when every s_i is 0)
//! ```
//!
//! For a model whose amounts are of order 1 at the default `rtol = 1e-6`
//! this is the familiar `1e-12`; for a model in mol it is `1e-12` times its
//! amounts. A value below a millionth of its species' typical scale (or a
//! billionth of the model's largest) is noise; tightening `rtol` tightens
//! both. The rule is COPASI's idea (its absolute tolerance is multiplied by
//! each species' initial amount, `CMathContainer::initializeAtolVector`)
//! with the gaps filled: species that start at zero take their scale from
//! their pool or their precursors instead of the compartment size.
//!
//! [`AbsoluteTolerance::Absolute`] replaces all of this with one number.

use crate::system::{StateKind, System};
use serde::{Deserialize, Serialize};

/// Below this fraction of its typical scale a state is noise: `atol_i =
/// rtol * NOISE * typical_i`. With `rtol = 1e-6` it gives `1e-12` for a
/// state of scale 1, CVODE's default.
pub const NOISE: f64 = 1e-6;
/// The typical scale of a state is at least this fraction of the largest
/// scale of its kind.
pub const FLOOR: f64 = 1e-3;

/// How the absolute tolerance of each state is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AbsoluteTolerance {
    /// From the model's scales (see the module documentation):
    /// `atol_i = rtol * 1e-6 * max(s_i, 1e-3 S)`.
    #[default]
    Scaled,
    /// The same value for every state, in the state's units (amounts for
    /// species).
    Absolute(f64),
}

impl AbsoluteTolerance {
    /// A short description for a note to the user.
    pub fn describe(&self) -> String {
        match self {
            AbsoluteTolerance::Scaled => {
                "scaled to the model: rtol * 1e-6 * each state's typical amount".into()
            }
            AbsoluteTolerance::Absolute(a) => format!("{a:e} for every state"),
        }
    }
}

/// The typical scale `s_i` of every state (module documentation, steps 1-3):
/// `x0` is the initial state, `dosed[i]` the amount dosed into state `i`.
pub(crate) fn typical_scales(sys: &System, x0: &[f64], dosed: &[f64]) -> Vec<f64> {
    let n = sys.n_states();
    let mut s: Vec<f64> = (0..n)
        .map(|i| {
            let v = x0[i].abs().max(dosed[i].abs());
            if v.is_finite() {
                v
            } else {
                0.0
            }
        })
        .collect();
    // Conservation laws: a pool `sum_j w_j x_j = T` with weights of one sign
    // bounds each member by `|T| / |w_i|` (amounts are not negative). A law
    // with weights of both signs bounds nothing. Totals come from the
    // initial and dosed amounts only, so that bounds do not compound.
    let own = s.clone();
    for (_, w) in &sys.conservation {
        let one_sign = w.iter().all(|&(_, c)| c > 0.0) || w.iter().all(|&(_, c)| c < 0.0);
        if !one_sign {
            continue;
        }
        let total: f64 = w.iter().map(|&(j, c)| c.abs() * own[j]).sum();
        for &(j, c) in w {
            if total.is_finite() {
                s[j] = s[j].max(total / c.abs());
            }
        }
    }
    // Precursors: a state at zero takes the largest scale of what its
    // right-hand side is built from, repeated until nothing changes.
    let kind = |i: usize| matches!(sys.states[i].1, StateKind::SpeciesAmount { .. });
    let mut precursors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(r, k) in &sys.jac_pattern {
        let (r, k) = (r as usize, k as usize);
        if r != k && kind(r) == kind(k) {
            precursors[r].push(k);
        }
    }
    for _ in 0..n {
        let mut changed = false;
        for r in 0..n {
            if s[r] == 0.0 {
                let best = precursors[r].iter().map(|&k| s[k]).fold(0.0f64, f64::max);
                if best > 0.0 {
                    s[r] = best;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    s
}

/// The typical amount of every state with the floor: `max(s_i, 1e-3 S)`,
/// `S` the largest scale among the states of its kind (1 if all are 0).
pub(crate) fn floored_scales(sys: &System, scales: &[f64]) -> Vec<f64> {
    let n = sys.n_states();
    let kind = |i: usize| matches!(sys.states[i].1, StateKind::SpeciesAmount { .. });
    let largest = |species: bool| {
        let m = (0..n)
            .filter(|&i| kind(i) == species)
            .map(|i| scales[i])
            .fold(0.0f64, f64::max);
        if m > 0.0 {
            m
        } else {
            1.0
        }
    };
    let (s_species, s_other) = (largest(true), largest(false));
    (0..n)
        .map(|i| {
            let big = if kind(i) { s_species } else { s_other };
            scales[i].max(FLOOR * big)
        })
        .collect()
}

/// The absolute tolerance of every state for `rtol` and `rule`.
pub(crate) fn absolute_tolerances(
    sys: &System,
    rule: AbsoluteTolerance,
    rtol: f64,
    scales: &[f64],
) -> Vec<f64> {
    match rule {
        AbsoluteTolerance::Absolute(a) => vec![a; sys.n_states()],
        AbsoluteTolerance::Scaled => floored_scales(sys, scales)
            .into_iter()
            .map(|s| rtol * NOISE * s)
            .collect(),
    }
}
