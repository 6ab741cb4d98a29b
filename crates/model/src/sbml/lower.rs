//! Lowering: the SBML constructs that the IR has no field for, rewritten into
//! ones it has, with the same meaning.
//!
//! - **Variable stoichiometries** (Level 3 species references whose id is set
//!   by a rule, an initial assignment or an event; Level 2
//!   `stoichiometryMath`) and **conversion factors**: the rate of change of a
//!   species' amount is `cf * sum_j s_j v_j`, which a constant stoichiometry
//!   cannot express. Such a species leaves its reactions (it stays a
//!   modifier) and gets one *pseudo-reaction* `-> S` whose rate law is that
//!   sum, written with the reaction ids (which in math mean the rates).
//!   Its state is still its amount, so events, varying compartments and
//!   amounts work unchanged. Species-reference ids become global parameters
//!   holding the stoichiometry, so math can read them and rules can set them.
//! - **`rateOf(x)`**: replaced by the expression of `dx/dt`: a rate rule's
//!   math; for a species changed by reactions, the net rate of its amount
//!   (divided by its compartment for concentration semantics, with the
//!   product-rule term when the compartment changes); for an assignment-rule
//!   variable, the chain rule over its math; zero for anything else.
//! - **Algebraic rules** `0 = f`: where `f` is linear in a variable that
//!   nothing else determines, the rule becomes an assignment rule for that
//!   variable; otherwise it is an error naming the rule.
//! - **Fast reactions**: in rapid equilibrium, as assignment rules for their
//!   species and extents (`super::fast`), where their rates allow it.
//! - **The `delay` csymbol**: not supported, an error naming where it is.

use super::mathml::{DELAY, RATE_OF};
use super::read::{Raw, RawRef};
use crate::analysis::{MathSite, Symbol, TIME};
use crate::diagnostic::{Diagnostic, DiagnosticKind as K};
use crate::ir::{AssignmentRule, Model, Parameter, Reaction, SpeciesRef};
use ligand_expr::simplify::{add, div, mul, neg, simplify, sub};
use ligand_expr::Expr;
use std::collections::{HashMap, HashSet};

/// Whether an expression contains a call of `name`.
fn calls(e: &Expr, name: &str) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if let Expr::Apply(f, _) = n {
            found |= f == name;
        }
    });
    found
}

fn site_text(site: &MathSite) -> String {
    site.to_string()
}

fn unique_id(taken: &HashSet<String>, base: &str) -> String {
    let mut id = base.to_string();
    let mut k = 1;
    while taken.contains(&id) {
        id = format!("{base}{k}");
        k += 1;
    }
    id
}

/// Turns the raw pieces into a model, with diagnostics for what could not be.
pub(crate) fn lower(raw: Raw, level: u32, diags: &mut Vec<Diagnostic>) -> Model {
    let Raw {
        mut model,
        mut reactions,
        algebraic_rules,
        conversion_factor,
        mut species_conversion_factors,
        fast,
        renamed: _,
    } = raw;

    // ---- species in 0-dimensional compartments have no concentration: their
    // symbols mean amounts (SBML Level 3 Core, section 4.6.5).
    let points: HashSet<String> = model
        .compartments
        .iter()
        .filter(|c| c.spatial_dimensions == 0.0)
        .map(|c| c.id.clone())
        .collect();
    for s in model.species.iter_mut() {
        if points.contains(&s.compartment) {
            s.has_only_substance_units = true;
        }
    }
    // A point has no size; one that nothing sets gets 1, so that nothing
    // computed from it (its own value reported) is undefined.
    let sized: HashSet<&str> = model
        .initial_assignments
        .iter()
        .map(|a| a.symbol.as_str())
        .chain(model.assignment_rules.iter().map(|r| r.variable.as_str()))
        .chain(model.rate_rules.iter().map(|r| r.variable.as_str()))
        .collect();
    let unsized_points: Vec<usize> = model
        .compartments
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.spatial_dimensions == 0.0 && c.size.is_none() && !sized.contains(c.id.as_str())
        })
        .map(|(i, _)| i)
        .collect();
    for i in unsized_points {
        model.compartments[i].size = Some(1.0);
    }

    // ---- fast reactions: in rapid equilibrium where they can be rewritten.
    if !fast.is_empty() {
        let ids: Vec<String> = fast.iter().map(|(id, _)| id.clone()).collect();
        match super::fast::rapid_equilibrium(
            &mut model,
            &mut reactions,
            &ids,
            conversion_factor.as_ref(),
            &mut species_conversion_factors,
        ) {
            Ok(done) => diags.push(Diagnostic::warning(
                K::Ignored,
                format!(
                    "fast reactions {} are in rapid equilibrium: their species are set by assignment rules",
                    done.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
                ),
            )),
            Err(why) => {
                for (id, loc) in &fast {
                    diags.push(
                        Diagnostic::warning(
                            K::Unsupported,
                            format!("reaction `{id}` is marked fast; ligand simulates it at the rate its kinetic law gives (as libRoadRunner does), not in rapid equilibrium ({why})"),
                        )
                        .at(*loc)
                        .with_symbol(id.clone()),
                    );
                }
            }
        }
    }

    // ---- species references.
    let mut targets: HashSet<String> = HashSet::new();
    targets.extend(model.assignment_rules.iter().map(|r| r.variable.clone()));
    targets.extend(model.rate_rules.iter().map(|r| r.variable.clone()));
    targets.extend(model.initial_assignments.iter().map(|a| a.symbol.clone()));
    for ev in &model.events {
        targets.extend(ev.assignments.iter().map(|a| a.variable.clone()));
    }
    let changing: HashSet<String> = model
        .assignment_rules
        .iter()
        .map(|r| r.variable.clone())
        .chain(model.rate_rules.iter().map(|r| r.variable.clone()))
        .chain(
            model
                .events
                .iter()
                .flat_map(|e| e.assignments.iter().map(|a| a.variable.clone())),
        )
        .collect();
    let mut taken: HashSet<String> = model.ids().iter().map(|s| s.to_string()).collect();
    for r in &reactions {
        taken.insert(r.reaction.id.clone());
    }
    let element_ids = taken.clone();
    let species_fixed: HashMap<String, bool> = model
        .species
        .iter()
        .map(|s| (s.id.clone(), s.boundary_condition || s.constant))
        .collect();
    // Per species: (reaction index, coefficient: + for products, - for reactants).
    let mut contributions: HashMap<String, Vec<(usize, Expr)>> = HashMap::new();
    let mut variable_species: HashSet<String> = HashSet::new();
    let mut out_reactions: Vec<Reaction> = Vec::new();
    let mut sr_parameters: Vec<Parameter> = Vec::new();
    for (j, rr) in reactions.iter().enumerate() {
        let mut rx = rr.reaction.clone();
        for (side, refs) in [(-1.0, &rr.reactants), (1.0, &rr.products)] {
            for r in refs {
                let RawRef {
                    species,
                    stoichiometry,
                    id,
                    math,
                    loc,
                } = r;
                let id = if level >= 3 { id.clone() } else { None };
                let value = stoichiometry.unwrap_or_else(|| {
                    let assigned = id.as_ref().is_some_and(|i| targets.contains(i));
                    if !assigned && math.is_none() {
                        diags.push(
                            Diagnostic::warning(
                                K::MissingValue,
                                format!("the stoichiometry of `{species}` in reaction `{}` is not given; 1 is used", rx.id),
                            )
                            .at(*loc),
                        );
                    }
                    1.0
                });
                if let Some(i) = &id {
                    if !element_ids.contains(i) && !sr_parameters.iter().any(|p| &p.id == i) {
                        sr_parameters.push(Parameter {
                            id: i.clone(),
                            value: Some(value),
                            constant: !changing.contains(i),
                            loc: *loc,
                        });
                        taken.insert(i.clone());
                    }
                }
                let coefficient = match (math, &id) {
                    (Some(m), _) => Some(m.clone()),
                    (None, Some(i)) if targets.contains(i) => Some(Expr::var(i)),
                    _ => None,
                };
                let fixed = species_fixed.get(species).copied().unwrap_or(false);
                let c = coefficient.clone().unwrap_or(Expr::Num(value));
                contributions
                    .entry(species.clone())
                    .or_default()
                    .push((j, mul(Expr::Num(side), c)));
                if coefficient.is_some() && !fixed {
                    variable_species.insert(species.clone());
                }
                let sref = SpeciesRef::new(species.clone(), value);
                if side < 0.0 {
                    rx.reactants.push(sref);
                } else {
                    rx.products.push(sref);
                }
            }
        }
        out_reactions.push(rx);
    }
    model.parameters.extend(sr_parameters);

    // ---- conversion factors and variable stoichiometries: pseudo-reactions.
    let mut pseudo: Vec<Reaction> = Vec::new();
    for s in &model.species {
        if s.boundary_condition || s.constant {
            continue;
        }
        let Some(contribs) = contributions.get(&s.id) else {
            continue;
        };
        let cf = species_conversion_factors
            .get(&s.id)
            .or(conversion_factor.as_ref());
        if cf.is_none() && !variable_species.contains(&s.id) {
            continue;
        }
        let mut rate = Expr::Num(0.0);
        for (j, c) in contribs {
            let rx = &out_reactions[*j];
            if rx.rate_law.is_none() {
                continue;
            }
            rate = add(rate, mul(c.clone(), Expr::var(&rx.id)));
        }
        if let Some(cf) = cf {
            rate = mul(Expr::var(cf), rate);
        }
        for rx in out_reactions.iter_mut() {
            let before = rx.reactants.len() + rx.products.len();
            rx.reactants.retain(|r| r.species != s.id);
            rx.products.retain(|r| r.species != s.id);
            if rx.reactants.len() + rx.products.len() != before && !rx.modifiers.contains(&s.id) {
                rx.modifiers.push(s.id.clone());
            }
        }
        let id = unique_id(&taken, &format!("{}_rate", s.id));
        taken.insert(id.clone());
        let mut r = Reaction::new(
            id,
            Vec::new(),
            vec![SpeciesRef::new(s.id.clone(), 1.0)],
            Some(rate),
        );
        r.loc = s.loc;
        pseudo.push(r);
    }
    if !pseudo.is_empty() {
        diags.push(Diagnostic::warning(
            K::Ignored,
            format!(
                "conversion factors or variable stoichiometries are expressed as the pseudo-reactions {}",
                pseudo.iter().map(|r| format!("`{}`", r.id)).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    out_reactions.extend(pseudo);
    model.reactions = out_reactions;

    // ---- delay: not supported.
    for m in model.math() {
        if calls(m.expr, DELAY) {
            diags.push(
                Diagnostic::error(
                    K::Unsupported,
                    format!(
                        "the delay csymbol (a delay differential equation) in {} is not supported",
                        site_text(&m.site)
                    ),
                )
                .at(m.loc),
            );
        }
    }

    let (delayed, algebraic_rules): (Vec<_>, Vec<_>) = algebraic_rules
        .into_iter()
        .partition(|r| calls(&r.math, DELAY));
    for r in delayed {
        diags.push(
            Diagnostic::error(
                K::Unsupported,
                "the delay csymbol (a delay differential equation) in an algebraic rule is not supported",
            )
            .at(r.loc),
        );
    }

    // ---- rateOf.
    let mut algebraic_rules = algebraic_rules;
    if model.math().iter().any(|m| calls(m.expr, RATE_OF))
        || algebraic_rules.iter().any(|r| calls(&r.math, RATE_OF))
    {
        let functions_use_it = model
            .function_definitions
            .iter()
            .any(|f| calls(&f.body, RATE_OF));
        if functions_use_it {
            if let Ok(m) = model.inlined() {
                model = m;
            }
        }
        let reference = model.clone();
        let rates = Rates::new(&reference);
        let mut errors: Vec<Diagnostic> = Vec::new();
        let _ = model.try_map_math(&mut |site, e| -> Result<Expr, ()> {
            if !calls(e, RATE_OF) {
                return Ok(e.clone());
            }
            // A local parameter never changes: its rateOf is zero, whatever
            // global id it shadows (case 01460).
            let e = match site {
                MathSite::RateLaw { reaction } => {
                    let locals: HashSet<&str> = reference
                        .reactions
                        .iter()
                        .filter(|r| &r.id == reaction)
                        .flat_map(|r| r.local_parameters.iter().map(|p| p.id.as_str()))
                        .collect();
                    e.map(&mut |n| match n {
                        Expr::Apply(ref f, ref args)
                            if f == RATE_OF
                                && matches!(args.as_slice(), [Expr::Var(x)] if locals.contains(x.as_str())) =>
                        {
                            Expr::Num(0.0)
                        }
                        other => other,
                    })
                }
                _ => e.clone(),
            };
            let e = &e;
            match rates.lower(e, 0) {
                Ok(x) => Ok(x),
                Err(msg) => {
                    errors.push(Diagnostic::error(
                        K::Unsupported,
                        format!("rateOf in {}: {msg}", site_text(site)),
                    ));
                    Ok(e.clone())
                }
            }
        });
        for r in algebraic_rules
            .iter_mut()
            .filter(|r| calls(&r.math, RATE_OF))
        {
            match rates.lower(&r.math, 0) {
                Ok(x) => r.math = x,
                Err(msg) => errors.push(
                    Diagnostic::error(
                        K::Unsupported,
                        format!("rateOf in an algebraic rule: {msg}"),
                    )
                    .at(r.loc),
                ),
            }
        }
        diags.extend(errors);
    }

    // ---- algebraic rules.
    if !algebraic_rules.is_empty() {
        solve_algebraic(&mut model, &algebraic_rules, diags);
    }
    model
}

/// Rewrites `rateOf(x)` into expressions of the model.
struct Rates<'m> {
    model: &'m Model,
    rate_rules: HashMap<&'m str, &'m Expr>,
    rules: HashMap<&'m str, &'m Expr>,
}

impl<'m> Rates<'m> {
    fn new(model: &'m Model) -> Rates<'m> {
        Rates {
            model,
            rate_rules: model
                .rate_rules
                .iter()
                .map(|r| (r.variable.as_str(), &r.math))
                .collect(),
            rules: model
                .assignment_rules
                .iter()
                .map(|r| (r.variable.as_str(), &r.math))
                .collect(),
        }
    }

    fn lower(&self, e: &Expr, depth: usize) -> Result<Expr, String> {
        let mut err = None;
        let out = e.map(&mut |n| match n {
            Expr::Apply(ref f, ref args) if f == RATE_OF => {
                let r = match args.as_slice() {
                    [Expr::Var(x)] => self.rate(x, depth + 1),
                    _ => Err("rateOf applies only to a symbol".to_string()),
                };
                match r {
                    Ok(x) => x,
                    Err(m) => {
                        err = Some(m);
                        n
                    }
                }
            }
            other => other,
        });
        match err {
            Some(m) => Err(m),
            None => Ok(out),
        }
    }

    /// `d(x)/dt` as an expression.
    fn rate(&self, x: &str, depth: usize) -> Result<Expr, String> {
        if depth > 32 {
            return Err(format!("the rate of `{x}` depends on itself"));
        }
        if x == TIME {
            return Ok(Expr::Num(1.0));
        }
        if let Some(e) = self.rate_rules.get(x) {
            return self.lower(e, depth);
        }
        if let Some(e) = self.rules.get(x) {
            let e = self.lower(e, depth)?;
            return self.chain(&e, &HashSet::new(), depth);
        }
        let m = self.model;
        match m.symbol(x) {
            Some(Symbol::Species(i)) => {
                let s = &m.species[i];
                if s.boundary_condition || s.constant {
                    return Ok(Expr::Num(0.0));
                }
                let stoich = m.stoichiometry_matrix();
                let mut amount_rate = Expr::Num(0.0);
                for (j, r) in m.reactions.iter().enumerate() {
                    let c = stoich.get(i, j);
                    if c != 0.0 && r.rate_law.is_some() {
                        amount_rate = add(amount_rate, mul(Expr::Num(c), Expr::var(&r.id)));
                    }
                }
                if s.has_only_substance_units {
                    return Ok(amount_rate);
                }
                let v = Expr::var(&s.compartment);
                let dv = self.rate(&s.compartment, depth + 1)?;
                let conc_rate = div(amount_rate, v.clone());
                if dv.is_num(0.0) {
                    Ok(conc_rate)
                } else {
                    Ok(sub(conc_rate, div(mul(Expr::var(x), dv), v)))
                }
            }
            Some(Symbol::Reaction(j)) => {
                let r = &m.reactions[j];
                match &r.rate_law {
                    None => Ok(Expr::Num(0.0)),
                    Some(e) => {
                        let locals: HashSet<String> =
                            r.local_parameters.iter().map(|p| p.id.clone()).collect();
                        let e = self.lower(e, depth)?;
                        self.chain(&e, &locals, depth)
                    }
                }
            }
            _ => Ok(Expr::Num(0.0)),
        }
    }

    /// The time derivative of `e` by the chain rule (`locals` are constants).
    fn chain(&self, e: &Expr, locals: &HashSet<String>, depth: usize) -> Result<Expr, String> {
        let e = self
            .model
            .inline_expr(e)
            .map_err(|f| format!("cannot expand the function `{f}`"))?;
        let mut total = Expr::Num(0.0);
        for v in e.free_vars() {
            if locals.contains(&v) {
                continue;
            }
            let rv = self.rate(&v, depth + 1)?;
            if rv.is_num(0.0) {
                continue;
            }
            let d = e.diff(&v).map_err(|d| d.to_string())?;
            total = add(total, mul(d, rv));
        }
        Ok(simplify(&total))
    }
}

/// Turns algebraic rules into assignment rules where one variable can be
/// solved for; reports the others.
fn solve_algebraic(
    model: &mut Model,
    rules: &[super::read::AlgebraicRule],
    diags: &mut Vec<Diagnostic>,
) {
    let determined: HashSet<String> = model
        .assignment_rules
        .iter()
        .map(|r| r.variable.clone())
        .chain(model.rate_rules.iter().map(|r| r.variable.clone()))
        .collect();
    let stoich = model.stoichiometry_matrix();
    let in_reactions = |i: usize| stoich.row(i).iter().any(|&v| v != 0.0);
    // Candidates per rule: variables that nothing else determines.
    let candidate = |v: &str| -> bool {
        if determined.contains(v) {
            return false;
        }
        match model.symbol(v) {
            Some(Symbol::Compartment(i)) => !model.compartments[i].constant,
            Some(Symbol::Parameter(i)) => !model.parameters[i].constant,
            Some(Symbol::Species(i)) => {
                let s = &model.species[i];
                !s.constant && (s.boundary_condition || !in_reactions(i))
            }
            _ => false,
        }
    };
    let inlined: Vec<Option<Expr>> = rules
        .iter()
        .map(|r| model.inline_expr(&r.math).ok())
        .collect();
    let mut cands: Vec<Vec<String>> = inlined
        .iter()
        .map(|e| match e {
            Some(e) => e.free_vars().into_iter().filter(|v| candidate(v)).collect(),
            None => Vec::new(),
        })
        .collect();
    // Count how many rules each candidate appears in; prefer rare ones.
    let mut count: HashMap<String, usize> = HashMap::new();
    for c in &cands {
        for v in c {
            *count.entry(v.clone()).or_default() += 1;
        }
    }
    // Among equals, a boundary species (which its declaration fixes, though
    // not constant) is the last choice (case 01787).
    let boundary = |v: &str| match model.symbol(v) {
        Some(Symbol::Species(i)) => model.species[i].boundary_condition,
        _ => false,
    };
    for c in cands.iter_mut() {
        c.sort_by_key(|v| (count[v], boundary(v)));
    }
    let mut chosen: HashSet<String> = HashSet::new();
    let mut new_rules = Vec::new();
    // Rules with fewer candidates first.
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&k| cands[k].len());
    for k in order {
        let Some(f) = &inlined[k] else {
            diags.push(
                Diagnostic::error(
                    K::Unsupported,
                    "an algebraic rule calls an undefined function",
                )
                .at(rules[k].loc),
            );
            continue;
        };
        let mut solved = None;
        for v in &cands[k] {
            if chosen.contains(v) {
                continue;
            }
            let Ok(a) = f.diff(v) else { continue };
            let a = simplify(&a);
            if a.contains_var(v) || a.is_num(0.0) {
                continue;
            }
            let b = simplify(&f.substitute(v, &Expr::Num(0.0)));
            solved = Some((v.clone(), simplify(&div(neg(b), a))));
            break;
        }
        match solved {
            Some((v, e)) => {
                chosen.insert(v.clone());
                new_rules.push(AssignmentRule {
                    variable: v,
                    math: e,
                    loc: rules[k].loc,
                });
            }
            None => diags.push(
                Diagnostic::error(
                    K::Unsupported,
                    format!(
                        "the algebraic rule 0 = {} is not supported: no variable that nothing else determines appears in it linearly, and ligand does not solve differential-algebraic systems",
                        rules[k].math
                    ),
                )
                .at(rules[k].loc),
            ),
        }
    }
    if !new_rules.is_empty() {
        diags.push(Diagnostic::warning(
            K::Ignored,
            format!(
                "algebraic rules solved as assignment rules for {}",
                new_rules
                    .iter()
                    .map(|r| format!("`{}`", r.variable))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    // A variable now set by an assignment rule takes no initial assignment.
    let solved: HashSet<String> = new_rules.iter().map(|r| r.variable.clone()).collect();
    model
        .initial_assignments
        .retain(|a| !solved.contains(&a.symbol));
    model.assignment_rules.extend(new_rules);
}
