//! Flux balance constraints (the SBML Level 3 `fbc` package, versions 1
//! and 2): the linear program of a model's steady-state fluxes.
//!
//! For reactions `j` with fluxes `v_j`, flux balance analysis solves
//!
//! ```text
//! maximize (or minimize)  sum_j c_j v_j          (the active objective)
//! subject to              sum_j S_ij v_j = 0      for every species i that is not a boundary condition
//!                         lb_j <= v_j <= ub_j     (the flux bounds)
//! ```
//!
//! where `S` is the stoichiometry matrix. fbc version 1 states bounds as
//! `<fbc:fluxBound>` elements (`lessEqual`, `greaterEqual`, `equal`);
//! version 2 names parameters in a reaction's `fbc:lowerFluxBound` and
//! `fbc:upperFluxBound`. A reaction without a bound is unbounded on that
//! side. Parameter values and stoichiometries are the model's initial
//! values (initial assignments and assignment rules included), computed
//! from the core model that [`parse_sbml_with`](crate::parse_sbml_with)
//! reads. The program is solved by `microlp`'s simplex method.

use super::mathml::elements;
use crate::analysis::InitStep;
use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Loc};
use crate::ir::{InitialQuantity, Model};
use roxmltree::{Document, Node};
use std::collections::HashMap;

/// A flux balance problem: fluxes, their bounds, the steady-state
/// constraints and the objective.
#[derive(Clone, Debug, PartialEq)]
pub struct FluxBalance {
    /// Reaction ids, one flux each.
    pub reactions: Vec<String>,
    /// Lower and upper bound of each flux (infinite when not bounded).
    pub bounds: Vec<(f64, f64)>,
    /// The species held at steady state (not boundary conditions).
    pub species: Vec<String>,
    /// Stoichiometry entries: (species index, reaction index, coefficient).
    pub stoichiometry: Vec<(usize, usize, f64)>,
    /// The active objective's id (ids of objectives are its name in outputs).
    pub objective_id: String,
    /// Whether the objective is maximised (else minimised).
    pub maximize: bool,
    /// Objective coefficients: (reaction index, coefficient).
    pub objective: Vec<(usize, f64)>,
}

/// The outcome of [`FluxBalance::optimize`].
#[derive(Clone, Debug, PartialEq)]
pub enum FluxBalanceStatus {
    Optimal,
    /// No flux satisfies the constraints.
    Infeasible,
    /// The objective has no finite optimum.
    Unbounded,
    /// The solver failed (its message).
    Failed(String),
}

/// An optimum: the objective's value and one optimal flux vector (an
/// optimum need not be unique; only values that every optimum shares are
/// comparable between tools). Values are NaN unless the status is optimal.
#[derive(Clone, Debug, PartialEq)]
pub struct FluxBalanceSolution {
    pub status: FluxBalanceStatus,
    pub objective: f64,
    /// (reaction id, flux), in the problem's order.
    pub fluxes: Vec<(String, f64)>,
}

impl FluxBalanceSolution {
    /// The value of a reaction's flux or of the objective (by its id).
    pub fn value(&self, problem: &FluxBalance, name: &str) -> Option<f64> {
        if name == problem.objective_id {
            return Some(self.objective);
        }
        self.fluxes.iter().find(|(r, _)| r == name).map(|(_, v)| *v)
    }
}

impl FluxBalance {
    /// Solves the linear program.
    ///
    /// ```
    /// use ligand_model::{FluxBalance, FluxBalanceStatus};
    /// // A -> B (v0 <= 2), B -> (v1): maximise v1.
    /// let p = FluxBalance {
    ///     reactions: vec!["v0".into(), "v1".into()],
    ///     bounds: vec![(0.0, 2.0), (0.0, 10.0)],
    ///     species: vec!["B".into()],
    ///     stoichiometry: vec![(0, 0, 1.0), (0, 1, -1.0)],
    ///     objective_id: "obj".into(),
    ///     maximize: true,
    ///     objective: vec![(1, 1.0)],
    /// };
    /// let s = p.optimize();
    /// assert_eq!(s.status, FluxBalanceStatus::Optimal);
    /// assert_eq!(s.objective, 2.0);
    /// assert_eq!(s.value(&p, "v1"), Some(2.0));
    /// ```
    pub fn optimize(&self) -> FluxBalanceSolution {
        use microlp::{ComparisonOp, OptimizationDirection, Problem};
        let direction = if self.maximize {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        let mut lp = Problem::new(direction);
        let mut cost = vec![0.0; self.reactions.len()];
        for &(j, c) in &self.objective {
            cost[j] += c;
        }
        let vars: Vec<_> = self
            .bounds
            .iter()
            .zip(&cost)
            .map(|(&(lo, hi), &c)| lp.add_var(c, (lo, hi)))
            .collect();
        let mut rows: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); self.species.len()];
        for &(i, j, s) in &self.stoichiometry {
            if s != 0.0 {
                rows[i].push((vars[j], s));
            }
        }
        for row in rows.iter().filter(|r| !r.is_empty()) {
            lp.add_constraint(row.as_slice(), ComparisonOp::Eq, 0.0);
        }
        let failed = |status| FluxBalanceSolution {
            status,
            objective: f64::NAN,
            fluxes: self
                .reactions
                .iter()
                .map(|r| (r.clone(), f64::NAN))
                .collect(),
        };
        if self.bounds.iter().any(|&(lo, hi)| lo > hi) {
            return failed(FluxBalanceStatus::Infeasible);
        }
        match lp.solve() {
            Ok(microlp::SolveOutcome::Solution(sol)) => FluxBalanceSolution {
                status: FluxBalanceStatus::Optimal,
                objective: sol.objective(),
                fluxes: self
                    .reactions
                    .iter()
                    .zip(&vars)
                    .map(|(r, v)| (r.clone(), sol.var_value(*v)))
                    .collect(),
            },
            // Only a time limit interrupts a solve, and none is set.
            Ok(_) => failed(FluxBalanceStatus::Failed("interrupted".to_string())),
            Err(microlp::Error::Infeasible) => failed(FluxBalanceStatus::Infeasible),
            Err(microlp::Error::Unbounded) => failed(FluxBalanceStatus::Unbounded),
            Err(e) => failed(FluxBalanceStatus::Failed(e.to_string())),
        }
    }
}

fn fbc_ns(n: &Node) -> bool {
    n.tag_name()
        .namespace()
        .is_some_and(|ns| ns.starts_with("http://www.sbml.org/sbml/level3/version1/fbc/"))
}

fn fbc_attr<'a>(n: Node<'a, '_>, name: &str) -> Option<&'a str> {
    n.attributes()
        .find(|a| {
            a.name() == name
                && a.namespace().is_none_or(|ns| {
                    ns.starts_with("http://www.sbml.org/sbml/level3/version1/fbc/")
                })
        })
        .map(|a| a.value().trim())
}

fn loc_of(doc: &Document, n: Node) -> Option<Loc> {
    let p = doc.text_pos_at(n.range().start);
    Some(Loc::new(p.row as usize, p.col as usize))
}

/// The initial value of every id of `model` that has one.
fn initial_values(model: &Model) -> Result<HashMap<String, f64>, String> {
    let model = model.inlined().map_err(|e| e.to_string())?;
    let mut env: HashMap<String, f64> = HashMap::new();
    for c in &model.compartments {
        if let Some(v) = c.size {
            env.insert(c.id.clone(), v);
        }
    }
    for p in &model.parameters {
        if let Some(v) = p.value {
            env.insert(p.id.clone(), v);
        }
    }
    for s in &model.species {
        match s.initial {
            Some(InitialQuantity::Amount(v)) | Some(InitialQuantity::Concentration(v)) => {
                env.insert(s.id.clone(), v);
            }
            None => {}
        }
    }
    let order = model.initialization_order().map_err(|e| e.to_string())?;
    for step in order {
        let (id, math) = match step {
            InitStep::InitialAssignment(i) => {
                let a = &model.initial_assignments[i];
                (&a.symbol, &a.math)
            }
            InitStep::AssignmentRule(i) => {
                let r = &model.assignment_rules[i];
                (&r.variable, &r.math)
            }
        };
        let v = math
            .eval(&|name| {
                if name == crate::analysis::TIME {
                    return Some(0.0);
                }
                env.get(name).copied()
            })
            .map_err(|e| format!("the initial value of `{id}`: {e}"))?;
        env.insert(id.clone(), v);
    }
    Ok(env)
}

/// Reads the flux balance problem of an SBML document with the fbc
/// package: the core model through [`parse_sbml_with`](crate::parse_sbml_with)
/// (for the values of parameters and stoichiometries), the fbc elements
/// from the document.
///
/// A document without an active objective is an error; so is a flux bound
/// on a reaction the model does not have.
pub fn read_flux_balance(
    text: &str,
    read_external: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(FluxBalance, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (model, warnings) = super::parse_sbml_with(text, read_external)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: super::MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options)
        .map_err(|e| vec![Diagnostic::error(K::Syntax, format!("malformed XML: {e}"))])?;
    if super::comp::uses_comp(&doc) {
        return Err(vec![Diagnostic::error(
            K::Unsupported,
            "flux balance analysis of a hierarchical (comp) document is not supported",
        )]);
    }
    let env = initial_values(&model).map_err(|e| {
        vec![Diagnostic::error(
            K::Unsupported,
            format!("flux balance: {e}"),
        )]
    })?;
    let Some(xml_model) = elements(doc.root_element()).find(|n| n.tag_name().name() == "model")
    else {
        return Err(vec![Diagnostic::error(
            K::Syntax,
            "the document has no <model>",
        )]);
    };
    let err =
        |n: Node, message: String| vec![Diagnostic::error(K::Syntax, message).at(loc_of(&doc, n))];

    let value_of = |n: Node, id: &str| -> Result<f64, Vec<Diagnostic>> {
        env.get(id)
            .copied()
            .ok_or_else(|| err(n, format!("the flux bound `{id}` has no value")))
    };
    let boundary: HashMap<&str, bool> = model
        .species
        .iter()
        .map(|s| (s.id.as_str(), s.boundary_condition))
        .collect();
    let mut species: Vec<String> = Vec::new();
    let mut species_index: HashMap<String, usize> = HashMap::new();
    for s in &model.species {
        if !s.boundary_condition {
            species_index.insert(s.id.clone(), species.len());
            species.push(s.id.clone());
        }
    }

    let mut reactions = Vec::new();
    let mut bounds = Vec::new();
    let mut stoichiometry = Vec::new();
    let mut objectives_list = None;
    let mut flux_bounds = Vec::new();
    for list in elements(xml_model) {
        let name = list.tag_name().name();
        if fbc_ns(&list) {
            match name {
                "listOfObjectives" => objectives_list = Some(list),
                "listOfFluxBounds" => flux_bounds.extend(elements(list)),
                _ => {}
            }
            continue;
        }
        if name != "listOfReactions" {
            continue;
        }
        for r in elements(list).filter(|r| r.tag_name().name() == "reaction") {
            let Some(id) = r.attribute("id") else {
                continue;
            };
            let j = reactions.len();
            reactions.push(id.to_string());
            let lower = match fbc_attr(r, "lowerFluxBound") {
                Some(p) => value_of(r, p)?,
                None => f64::NEG_INFINITY,
            };
            let upper = match fbc_attr(r, "upperFluxBound") {
                Some(p) => value_of(r, p)?,
                None => f64::INFINITY,
            };
            bounds.push((lower, upper));
            for part in elements(r) {
                let sign = match part.tag_name().name() {
                    "listOfReactants" => -1.0,
                    "listOfProducts" => 1.0,
                    _ => continue,
                };
                for sr in elements(part).filter(|c| c.tag_name().name() == "speciesReference") {
                    let Some(s) = sr.attribute("species") else {
                        continue;
                    };
                    if boundary.get(s).copied().unwrap_or(true) {
                        continue;
                    }
                    let st = match sr.attribute("id").and_then(|i| env.get(i.trim())) {
                        Some(&v) => v,
                        None => match sr.attribute("stoichiometry") {
                            Some(v) => v.trim().parse::<f64>().map_err(|_| {
                                err(sr, format!("stoichiometry=\"{v}\" is not a number"))
                            })?,
                            None => 1.0,
                        },
                    };
                    stoichiometry.push((species_index[s], j, sign * st));
                }
            }
        }
    }
    let index: HashMap<&str, usize> = reactions
        .iter()
        .enumerate()
        .map(|(j, r)| (r.as_str(), j))
        .collect();
    let reaction_of = |n: Node| -> Result<usize, Vec<Diagnostic>> {
        let r = fbc_attr(n, "reaction").unwrap_or("");
        index.get(r).copied().ok_or_else(|| {
            err(
                n,
                format!(
                    "<fbc:{}> names the reaction `{r}`, which the model does not have",
                    n.tag_name().name()
                ),
            )
        })
    };
    for b in flux_bounds
        .into_iter()
        .filter(|b| b.tag_name().name() == "fluxBound")
    {
        let j = reaction_of(b)?;
        let v = fbc_attr(b, "value")
            .and_then(|v| match v {
                "INF" | "+INF" => Some(f64::INFINITY),
                "-INF" => Some(f64::NEG_INFINITY),
                v => v.parse().ok(),
            })
            .ok_or_else(|| err(b, "a flux bound without a numeric value".to_string()))?;
        match fbc_attr(b, "operation") {
            Some("lessEqual") => bounds[j].1 = bounds[j].1.min(v),
            Some("greaterEqual") => bounds[j].0 = bounds[j].0.max(v),
            Some("equal") => bounds[j] = (v, v),
            other => {
                return Err(err(
                    b,
                    format!(
                        "the flux bound operation `{}` is not supported",
                        other.unwrap_or("")
                    ),
                ))
            }
        }
    }
    let Some(list) = objectives_list else {
        return Err(vec![Diagnostic::error(
            K::Syntax,
            "the model has no fbc objective (no <fbc:listOfObjectives>)",
        )]);
    };
    let active = fbc_attr(list, "activeObjective").unwrap_or("");
    let Some(obj) = elements(list).find(|o| fbc_attr(*o, "id") == Some(active)) else {
        return Err(err(
            list,
            format!("no objective `{active}` (the active objective)"),
        ));
    };
    let maximize = match fbc_attr(obj, "type") {
        Some("maximize") => true,
        Some("minimize") => false,
        other => {
            return Err(err(
                obj,
                format!(
                    "the objective type `{}` is not maximize or minimize",
                    other.unwrap_or("")
                ),
            ))
        }
    };
    let mut objective = Vec::new();
    for fo in elements(obj)
        .filter(|l| l.tag_name().name() == "listOfFluxObjectives")
        .flat_map(elements)
    {
        let j = reaction_of(fo)?;
        let c = fbc_attr(fo, "coefficient")
            .and_then(|c| c.parse::<f64>().ok())
            .ok_or_else(|| {
                err(
                    fo,
                    "a flux objective without a numeric coefficient".to_string(),
                )
            })?;
        objective.push((j, c));
    }
    Ok((
        FluxBalance {
            reactions,
            bounds,
            species,
            stoichiometry,
            objective_id: active.to_string(),
            maximize,
            objective,
        },
        warnings,
    ))
}

#[cfg(test)]
#[path = "fbc_tests.rs"]
mod tests;
