//! Fast reactions in rapid equilibrium, rewritten as assignment rules.
//!
//! A reaction marked `fast="true"` is at equilibrium at every moment: its
//! rate `v(S)` is zero, and it moves its species instantly to wherever that
//! holds, while the slow reactions change them. With `xi` the amount the
//! fast reaction has turned over and `n_i` its stoichiometries, each of its
//! species is `S_i = Y_i + c_i n_i xi / V_i` (without `/ V_i` when the symbol
//! means an amount), where `Y_i` is a new species that the slow reactions
//! change in place of `S_i`, `c_i` the species' conversion factor and `V_i`
//! its compartment. The equilibrium `v(S(xi)) = 0` determines `xi`; when it
//! is linear in `xi` (a first-order reversible reaction, an irreversible one
//! going to completion, a piecewise choice of such), `xi = -b / a` is an
//! assignment rule, and so is each `S_i`, so the model needs no algebraic
//! solver. Initial values are equilibrated too.
//!
//! When a fast reaction cannot be rewritten (a rate law not linear in `xi`,
//! fast reactions that share species, a species that a rule or event sets,
//! the reaction's id used in math), no fast reaction is rewritten: all are
//! simulated at the rate their kinetic law gives, with a warning naming the
//! reason.

use super::read::{RawReaction, RawRef};
use crate::ir::{AssignmentRule, Model, Parameter, Species};
use ligand_expr::simplify::{add, call, cmp, div, mul, neg, piecewise, simplify, sub};
use ligand_expr::{CmpOp, Expr, Func};
use std::collections::{HashMap, HashSet};

/// The stoichiometry of a species reference as an expression.
fn stoichiometry(r: &RawRef, targets: &HashSet<String>) -> Expr {
    if let Some(m) = &r.math {
        return m.clone();
    }
    match &r.id {
        Some(id) if targets.contains(id) => Expr::Var(id.clone()),
        _ => Expr::Num(r.stoichiometry.unwrap_or(1.0)),
    }
}

/// The extent `xi` at which `f(xi) = 0`, reached from `xi = 0` in the
/// direction the rate `f(0)` drives it: for `f` linear in `xi`, `-f(0) /
/// f'`; for `f` quadratic (a bimolecular rate), the nearest root on the side
/// of `f(0)`'s sign. Where `f` does not move (`f(0) = 0`, or a rate that
/// does not depend on `xi`), `xi` is 0. `None` when `f` is of higher degree.
fn equilibrium_extent(f: &Expr, xi: &str) -> Option<Expr> {
    let d1 = simplify(&f.diff(xi).ok()?);
    let at0 = |e: &Expr| simplify(&e.substitute(xi, &Expr::Num(0.0)));
    let a0 = at0(f);
    let a1 = at0(&d1);
    let zero = || Expr::Num(0.0);
    let linear = piecewise(
        vec![(
            div(neg(a0.clone()), a1.clone()),
            cmp(CmpOp::Ne, a1.clone(), zero()),
        )],
        Some(zero()),
    );
    if !d1.contains_var(xi) {
        return Some(simplify(&piecewise(
            vec![(zero(), cmp(CmpOp::Eq, a0, zero()))],
            Some(linear),
        )));
    }
    let d2 = simplify(&d1.diff(xi).ok()?);
    if d2.contains_var(xi) {
        return None;
    }
    // a2 xi^2 + a1 xi + a0 = 0.
    let a2 = div(d2, Expr::Num(2.0));
    let root = call(
        Func::Sqrt,
        vec![sub(
            mul(a1.clone(), a1.clone()),
            mul(Expr::Num(4.0), mul(a2.clone(), a0.clone())),
        )],
    );
    let r1 = div(
        sub(neg(a1.clone()), root.clone()),
        mul(Expr::Num(2.0), a2.clone()),
    );
    let r2 = div(add(neg(a1), root), mul(Expr::Num(2.0), a2.clone()));
    let low = call(Func::Min, vec![r1.clone(), r2.clone()]);
    let high = call(Func::Max, vec![r1, r2]);
    // Forward (f(0) > 0): the smallest positive root; backward: the largest negative one.
    let forward = piecewise(
        vec![(low.clone(), cmp(CmpOp::Gt, low.clone(), zero()))],
        Some(high.clone()),
    );
    let backward = piecewise(
        vec![(high.clone(), cmp(CmpOp::Lt, high, zero()))],
        Some(low),
    );
    Some(simplify(&piecewise(
        vec![
            (zero(), cmp(CmpOp::Eq, a0.clone(), zero())),
            (linear, cmp(CmpOp::Eq, a2, zero())),
            (forward, cmp(CmpOp::Gt, a0, zero())),
        ],
        Some(backward),
    )))
}

/// Rewrites the fast reactions among `reactions` into assignment rules;
/// returns why it could not, changing nothing then.
pub(crate) fn rapid_equilibrium(
    model: &mut Model,
    reactions: &mut Vec<RawReaction>,
    fast: &[String],
    conversion_factor: Option<&String>,
    species_conversion_factors: &mut HashMap<String, String>,
) -> Result<Vec<String>, String> {
    let fast_set: HashSet<&str> = fast.iter().map(String::as_str).collect();
    let mut targets: HashSet<String> = HashSet::new();
    targets.extend(model.assignment_rules.iter().map(|r| r.variable.clone()));
    targets.extend(model.rate_rules.iter().map(|r| r.variable.clone()));
    targets.extend(model.initial_assignments.iter().map(|a| a.symbol.clone()));
    let mut set_over_time: HashSet<String> = HashSet::new();
    set_over_time.extend(model.assignment_rules.iter().map(|r| r.variable.clone()));
    set_over_time.extend(model.rate_rules.iter().map(|r| r.variable.clone()));
    for ev in &model.events {
        targets.extend(ev.assignments.iter().map(|a| a.variable.clone()));
        set_over_time.extend(ev.assignments.iter().map(|a| a.variable.clone()));
    }
    // Math that names a fast reaction (its rate) cannot be rewritten.
    let mut named: HashSet<String> = HashSet::new();
    for m in model.math() {
        named.extend(m.expr.free_vars());
    }
    for r in reactions.iter() {
        if let Some(law) = &r.reaction.rate_law {
            named.extend(law.free_vars());
        }
    }
    let species: HashMap<String, Species> = model
        .species
        .iter()
        .map(|s| (s.id.clone(), s.clone()))
        .collect();
    let moving = |id: &str| {
        species
            .get(id)
            .is_some_and(|s| !s.boundary_condition && !s.constant)
    };

    let mut taken: HashSet<String> = model.ids().iter().map(|s| s.to_string()).collect();
    taken.extend(reactions.iter().map(|r| r.reaction.id.clone()));
    let fresh = |taken: &mut HashSet<String>, base: &str| {
        let mut id = base.to_string();
        let mut k = 1;
        while taken.contains(&id) {
            id = format!("{base}{k}");
            k += 1;
        }
        taken.insert(id.clone());
        id
    };

    // Plan every fast reaction before changing anything.
    struct Plan {
        index: usize,
        extent: String,
        /// (species, stoichiometry expression)
        terms: Vec<(String, Expr)>,
        rule: Expr,
    }
    let mut plans: Vec<Plan> = Vec::new();
    let mut slow_of: HashMap<String, String> = HashMap::new();
    let mut used: HashSet<String> = HashSet::new();
    for (index, r) in reactions.iter().enumerate() {
        let id = &r.reaction.id;
        if !fast_set.contains(id.as_str()) {
            continue;
        }
        if named.contains(id) {
            return Err(format!("math uses the rate of fast reaction `{id}`"));
        }
        let Some(law) = &r.reaction.rate_law else {
            return Err(format!("fast reaction `{id}` has no kinetic law"));
        };
        // Local parameters become their values.
        let mut law = law.clone();
        for p in &r.reaction.local_parameters {
            let Some(v) = p.value else {
                return Err(format!("local parameter `{}` of `{id}` has no value", p.id));
            };
            law = law.substitute(&p.id, &Expr::Num(v));
        }
        let law = model.inline_expr(&law).map_err(|e| e.to_string())?;
        let mut terms: Vec<(String, Expr)> = Vec::new();
        for (refs, sign) in [(&r.reactants, -1.0), (&r.products, 1.0)] {
            for sr in refs.iter() {
                if !moving(&sr.species) {
                    continue;
                }
                let n = mul(Expr::Num(sign), stoichiometry(sr, &targets));
                match terms.iter_mut().find(|(s, _)| *s == sr.species) {
                    Some((_, t)) => *t = add(t.clone(), n),
                    None => terms.push((sr.species.clone(), n)),
                }
            }
        }
        for (s, _) in &terms {
            if set_over_time.contains(s) {
                return Err(format!(
                    "species `{s}` of fast reaction `{id}` is set by a rule or an event"
                ));
            }
            if !used.insert(s.clone()) {
                return Err(format!("fast reactions share species `{s}`"));
            }
        }
        let extent = fresh(&mut taken, &format!("{id}_extent"));
        // S_i in terms of the slow species and the extent.
        let mut with_extent: HashMap<String, Expr> = HashMap::new();
        for (s, n) in &terms {
            let slow = fresh(&mut taken, &format!("{s}_slow"));
            slow_of.insert(s.clone(), slow.clone());
            let sp = &species[s];
            let factor = species_conversion_factors
                .get(s)
                .or(conversion_factor)
                .map(|f| Expr::Var(f.clone()));
            let mut shift = mul(n.clone(), Expr::Var(extent.clone()));
            if let Some(f) = factor {
                shift = mul(f, shift);
            }
            if !sp.has_only_substance_units {
                shift = div(shift, Expr::Var(sp.compartment.clone()));
            }
            with_extent.insert(s.clone(), add(Expr::Var(slow), shift));
        }
        let f = law.substitute_all(&|v| with_extent.get(v).cloned());
        let solution = equilibrium_extent(&f, &extent).ok_or_else(|| {
            format!("the rate of fast reaction `{id}` is not linear or quadratic in its extent")
        })?;
        plans.push(Plan {
            index,
            extent,
            terms: terms
                .into_iter()
                .map(|(s, _)| match with_extent.remove(&s) {
                    Some(e) => Ok((s, e)),
                    None => Err(format!("fast reaction `{id}` names species `{s}` twice")),
                })
                .collect::<Result<_, _>>()?,
            rule: solution,
        });
    }

    // Apply: slow species, their reactions, the rules.
    let mut rewritten = Vec::new();
    for (s, slow) in &slow_of {
        let mut y = species[s].clone();
        y.id = slow.clone();
        y.loc = None;
        model.species.push(y);
        if let Some(cf) = species_conversion_factors.get(s).cloned() {
            species_conversion_factors.insert(slow.clone(), cf);
        }
        for a in model.initial_assignments.iter_mut() {
            if &a.symbol == s {
                a.symbol = slow.clone();
            }
        }
    }
    let removed: HashSet<usize> = plans.iter().map(|p| p.index).collect();
    for p in &plans {
        let r = &reactions[p.index];
        // Species-reference ids stay readable as parameters.
        for sr in r.reactants.iter().chain(&r.products) {
            if let Some(id) = &sr.id {
                model.parameters.push(Parameter {
                    id: id.clone(),
                    value: Some(sr.stoichiometry.unwrap_or(1.0)),
                    constant: !targets.contains(id),
                    loc: sr.loc,
                });
            }
        }
        rewritten.push(r.reaction.id.clone());
        model.parameters.push(Parameter {
            id: p.extent.clone(),
            value: None,
            constant: false,
            loc: r.reaction.loc,
        });
        model.assignment_rules.push(AssignmentRule {
            variable: p.extent.clone(),
            math: p.rule.clone(),
            loc: r.reaction.loc,
        });
        for (s, e) in &p.terms {
            model.assignment_rules.push(AssignmentRule {
                variable: s.clone(),
                math: e.clone(),
                loc: r.reaction.loc,
            });
        }
    }
    let mut k = 0;
    reactions.retain(|_| {
        k += 1;
        !removed.contains(&(k - 1))
    });
    for r in reactions.iter_mut() {
        for sr in r.reactants.iter_mut().chain(r.products.iter_mut()) {
            if let Some(slow) = slow_of.get(&sr.species) {
                sr.species = slow.clone();
            }
        }
    }
    Ok(rewritten)
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
