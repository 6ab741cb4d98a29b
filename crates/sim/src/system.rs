//! Compiling a [`Model`] into the programs a simulation evaluates.
//!
//! ## The state and the right-hand side
//!
//! The state vector `x` holds
//!
//! - the **amount** of every species that reactions change (not boundary, not
//!   constant, no rule): `dx_i/dt = sum_j S_ij v_j + u_i`, with `S` the
//!   stoichiometry matrix, `v_j` the rate of reaction `j` (amount per time,
//!   SBML's kinetic law) and `u_i` the rate of an infusion into the species;
//! - the **value** of every variable with a rate rule (a compartment size, a
//!   parameter, or a species in the quantity its symbol means):
//!   `dx_i/dt = g_i` as the rule gives it.
//!
//! Where a species' id appears in math it means `amount / size` of its
//! compartment (its concentration), or the amount for a species with only
//! substance units. Assignment rules are substituted into every expression in
//! topological order, so that the right-hand side `f(t, x; c)` is a closed
//! expression in the time, the state and the *constants* `c` (parameters,
//! compartment sizes, amounts of boundary species, reaction-local
//! parameters: every value without a rule), which are inputs of the compiled
//! programs rather than numbers folded into them. Changing a parameter (a
//! `--set`, a scan, an event) therefore needs no recompilation.
//!
//! ## Derivatives
//!
//! The Jacobian `J = df/dx` and the derivatives `df/dc` for the constants that
//! sensitivities need are differentiated symbolically, reaction by reaction
//! (`J_ik = sum_j S_ij dv_j/dx_k`, so each rate law is differentiated once), and
//! compiled with `f` into one program: the common subexpressions of a rate law
//! and its derivatives are computed once. A second program computes `f` alone,
//! since the integrators evaluate it far more often than the Jacobian.
//!
//! ## Initial values
//!
//! A third program maps the *base values* (the numbers written in the model for
//! every parameter, compartment and species, which `--set` overrides) and the
//! start time to the initial state and constants, through the initial
//! assignments and assignment rules in dependency order. Its derivatives with
//! respect to the sensitivity parameters give the initial sensitivities and the
//! chain rule through constants computed from parameters (`k2 = 2*k1`).

use crate::error::SimError;
use ligand_expr::simplify::{add, div, mul, neg};
use ligand_expr::{closest, Compiler, Expr, Program};
use ligand_model::{InitialQuantity, Model, Symbol, TIME};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the caller wants compiled besides the right-hand side and Jacobian.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompileOptions {
    /// Parameters (any id with a base value: a parameter, a compartment, a
    /// species' initial value) for which forward sensitivities are compiled.
    pub sensitivities: Vec<String>,
    /// Species that may receive infusions (each gets an input rate).
    pub infusions: Vec<String>,
}

/// What a state variable is.
#[derive(Clone, Debug, PartialEq)]
pub enum StateKind {
    /// The amount of a species changed by reactions.
    SpeciesAmount { species: usize },
    /// A variable with a rate rule (its symbol's value).
    RateRule { symbol: Symbol },
}

/// What a constant input is.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstantKind {
    Parameter(usize),
    Compartment(usize),
    /// The amount of a species that no reaction or rule changes.
    SpeciesAmount(usize),
    /// A reaction-local parameter (named `reaction.parameter`).
    LocalParameter {
        reaction: usize,
        parameter: usize,
    },
}

/// One event, compiled.
#[derive(Clone, Debug)]
pub(crate) struct CompiledEvent {
    pub id: String,
    pub persistent: bool,
    pub initial_value: bool,
    pub from_trigger: bool,
    /// Output index of the delay in the event program, if any.
    pub delay: Option<usize>,
    /// Output index of the priority, if any.
    pub priority: Option<usize>,
    /// (main input slot, output index of the new slot value).
    pub assignments: Vec<(usize, usize)>,
}

/// The compiled events of a model.
#[derive(Clone, Debug)]
pub(crate) struct EventSystem {
    /// Outputs: the root functions (one per comparison in a trigger), then
    /// one trigger value per event.
    pub roots: Program,
    pub n_atoms: usize,
    /// Outputs: delays, priorities, assignment values (see [`CompiledEvent`]).
    pub math: Program,
    pub events: Vec<CompiledEvent>,
}

/// A model compiled for simulation: the programs and the layout of their
/// inputs. Build it once with [`System::new`]; simulate with a
/// [`Simulator`](crate::Simulator) (one per thread).
///
/// Every program shares one input layout: slot 0 is the time, then the `n`
/// states, then the constants, then the infusion rates.
#[derive(Clone, Debug)]
pub struct System {
    pub(crate) name: Option<String>,
    pub(crate) states: Vec<(String, StateKind)>,
    pub(crate) constants: Vec<(String, ConstantKind)>,
    /// State index of each infusion input.
    pub(crate) infusions: Vec<usize>,
    pub(crate) input_names: Vec<String>,
    pub(crate) rhs: Program,
    /// Outputs: `f` (n), the Jacobian nonzeros, then `df/dc` nonzeros.
    pub(crate) jac: Program,
    pub(crate) jac_pattern: Vec<(u32, u32)>,
    /// Constants (indices into `constants`) that depend on a sensitivity parameter.
    pub(crate) sens_constants: Vec<usize>,
    /// (row, index into sens_constants) of each `df/dc` output.
    pub(crate) dfdc_pattern: Vec<(u32, u32)>,
    /// Base values: names, defaults (NaN where the model gives none).
    pub(crate) base_names: Vec<String>,
    pub(crate) base_defaults: Vec<f64>,
    /// Inputs: time then the base values. Outputs: the initial values of the
    /// states and constants, then (for each of those, for each sensitivity
    /// parameter) their derivatives.
    pub(crate) init: Program,
    pub(crate) sens_params: Vec<String>,
    /// Base index of each sensitivity parameter.
    pub(crate) sens_base: Vec<usize>,
    pub(crate) events: Option<EventSystem>,
    /// Whether each constant appears in any compiled expression.
    pub(crate) constant_used: Vec<bool>,
    /// The meaning of every model id in math, over the main inputs.
    pub(crate) meanings: HashMap<String, Expr>,
    /// The amount of every species, over the main inputs.
    pub(crate) amounts: HashMap<String, Expr>,
    /// Ids in model order with a value (compartments, species, parameters, reactions).
    pub(crate) value_ids: Vec<String>,
    /// Species ids in model order.
    pub(crate) species_ids: Vec<String>,
    /// Species with only substance units (their symbol is the amount).
    pub(crate) amount_species: HashSet<String>,
    /// Reaction rates with their ids (for diagnosing a failing right-hand side).
    pub(crate) fluxes: Vec<(String, Expr)>,
    /// Ids whose value a rule or an initial assignment computes (not settable).
    pub(crate) computed: HashMap<String, &'static str>,
    /// Conservation laws `sum_i w_i x_i = const` among the species amounts:
    /// (the state whose equation a steady-state solve replaces, the weights).
    pub(crate) conservation: Vec<(usize, Vec<(usize, f64)>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Over the main inputs (time, states, constants).
    Main,
    /// Over the base values, at the start (initial assignments apply).
    Init,
}

/// Resolves ids to expressions over the inputs of one mode, memoised.
struct Resolver<'m> {
    model: &'m Model,
    mode: Mode,
    table: HashMap<String, Symbol>,
    rules: HashMap<&'m str, &'m Expr>,
    initial: HashMap<&'m str, &'m Expr>,
    rate_rules: HashSet<&'m str>,
    memo: HashMap<String, Expr>,
    visiting: Vec<String>,
}

impl<'m> Resolver<'m> {
    fn new(model: &'m Model, mode: Mode) -> Resolver<'m> {
        Resolver {
            model,
            mode,
            table: model.symbol_table(),
            rules: model
                .assignment_rules
                .iter()
                .map(|r| (r.variable.as_str(), &r.math))
                .collect(),
            initial: model
                .initial_assignments
                .iter()
                .map(|a| (a.symbol.as_str(), &a.math))
                .collect(),
            rate_rules: model
                .rate_rules
                .iter()
                .map(|r| r.variable.as_str())
                .collect(),
            memo: HashMap::new(),
            visiting: Vec::new(),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Expr, SimError> {
        self.expr_local(e, None)
    }

    /// Resolves an expression; `local` maps reaction-local parameter names to
    /// their input names.
    fn expr_local(&mut self, e: &Expr, local: Option<usize>) -> Result<Expr, SimError> {
        let mut map: HashMap<String, Expr> = HashMap::new();
        for v in e.free_vars() {
            if let Some(r) = local {
                let rx = &self.model.reactions[r];
                if rx.local_parameters.iter().any(|p| p.id == v) {
                    map.insert(v.clone(), Expr::var(format!("{}.{}", rx.id, v)));
                    continue;
                }
            }
            let x = self.var(&v)?;
            map.insert(v, x);
        }
        Ok(e.substitute_all(&|n| map.get(n).cloned()))
    }

    fn var(&mut self, id: &str) -> Result<Expr, SimError> {
        if let Some(x) = self.memo.get(id) {
            return Ok(x.clone());
        }
        if self.visiting.iter().any(|v| v == id) {
            let mut cycle: Vec<String> = self.visiting.clone();
            cycle.push(id.to_string());
            return Err(SimError::CyclicRules { cycle });
        }
        self.visiting.push(id.to_string());
        let r = self.var_uncached(id);
        self.visiting.pop();
        let x = r?;
        self.memo.insert(id.to_string(), x.clone());
        Ok(x)
    }

    fn var_uncached(&mut self, id: &str) -> Result<Expr, SimError> {
        if self.mode == Mode::Init {
            if let Some(e) = self.initial.get(id).copied() {
                return self.expr(e);
            }
        }
        if let Some(e) = self.rules.get(id).copied() {
            return self.expr(e);
        }
        let model = self.model;
        match self.table.get(id).copied() {
            Some(Symbol::Time) => Ok(Expr::var(TIME)),
            Some(Symbol::Compartment(_)) | Some(Symbol::Parameter(_)) => Ok(Expr::var(id)),
            Some(Symbol::Species(i)) => {
                let s = &model.species[i];
                let hosu = s.has_only_substance_units;
                match self.mode {
                    Mode::Main => {
                        if hosu || self.rate_rules.contains(id) {
                            Ok(Expr::var(id))
                        } else {
                            let v = self.var(&s.compartment)?;
                            Ok(div(Expr::var(id), v))
                        }
                    }
                    Mode::Init => match s.initial {
                        Some(InitialQuantity::Amount(_)) if !hosu => {
                            let v = self.var(&s.compartment)?;
                            Ok(div(Expr::var(id), v))
                        }
                        Some(InitialQuantity::Concentration(_)) if hosu => {
                            let v = self.var(&s.compartment)?;
                            Ok(mul(Expr::var(id), v))
                        }
                        _ => Ok(Expr::var(id)),
                    },
                }
            }
            Some(Symbol::Reaction(j)) => {
                let r = &model.reactions[j];
                match &r.rate_law {
                    Some(e) => self.expr_local(e, Some(j)),
                    None => Ok(Expr::num(0.0)),
                }
            }
            _ => Err(SimError::UnknownVariable {
                name: id.to_string(),
                suggestion: closest(id, model.ids()).map(str::to_string),
            }),
        }
    }

    /// The amount of species `i` (over the inputs of this mode).
    fn amount(&mut self, i: usize) -> Result<Expr, SimError> {
        let s = &self.model.species[i];
        let id = s.id.clone();
        if self.mode == Mode::Main
            && !self.rules.contains_key(id.as_str())
            && !self.rate_rules.contains(id.as_str())
        {
            return Ok(Expr::var(&id));
        }
        let v = self.var(&id)?;
        if s.has_only_substance_units {
            Ok(v)
        } else {
            let c = self.var(&s.compartment.clone())?;
            Ok(mul(v, c))
        }
    }
}

fn compile_err(e: impl std::fmt::Display) -> SimError {
    SimError::Compile {
        message: e.to_string(),
    }
}

/// Sum of `coef * term`, simplified.
fn lin_comb(terms: &[(f64, &Expr)]) -> Expr {
    let mut acc = Expr::num(0.0);
    for &(c, t) in terms {
        let term = if c == 1.0 {
            t.clone()
        } else if c == -1.0 {
            neg(t.clone())
        } else {
            mul(Expr::num(c), t.clone())
        };
        acc = add(acc, term);
    }
    acc
}

impl System {
    /// Compiles a model. The model must be valid ([`Model::validate`] without
    /// errors); user functions are expanded here.
    pub fn new(model: &Model, options: &CompileOptions) -> Result<System, SimError> {
        let errors: Vec<_> = model
            .validate()
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        if !errors.is_empty() {
            return Err(SimError::InvalidModel {
                diagnostics: errors,
            });
        }
        let model = &model.inlined().map_err(compile_err)?;
        model
            .sorted_assignment_rules()
            .map_err(|c| SimError::CyclicRules { cycle: c.cycle })?;
        model
            .initialization_order()
            .map_err(|c| SimError::CyclicRules { cycle: c.cycle })?;

        let rule_vars: HashSet<&str> = model
            .assignment_rules
            .iter()
            .map(|r| r.variable.as_str())
            .collect();
        let rate_rule_vars: HashMap<&str, &Expr> = model
            .rate_rules
            .iter()
            .map(|r| (r.variable.as_str(), &r.math))
            .collect();
        let table = model.symbol_table();

        // ---- layout: states and constants.
        // A species that some reaction names (even with net stoichiometry
        // zero, as a catalyst written on both sides) is a state.
        let mut in_reaction = vec![false; model.species.len()];
        let mut species_by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, s) in model.species.iter().enumerate() {
            species_by_id.entry(s.id.as_str()).or_default().push(i);
        }
        for r in &model.reactions {
            for sr in r.reactants.iter().chain(&r.products) {
                for &i in species_by_id.get(sr.species.as_str()).into_iter().flatten() {
                    in_reaction[i] = true;
                }
            }
        }
        let stoich = model.reaction_stoichiometry();
        let mut states: Vec<(String, StateKind)> = Vec::new();
        let mut constants: Vec<(String, ConstantKind)> = Vec::new();
        for (i, c) in model.compartments.iter().enumerate() {
            if rule_vars.contains(c.id.as_str()) || rate_rule_vars.contains_key(c.id.as_str()) {
                continue;
            }
            constants.push((c.id.clone(), ConstantKind::Compartment(i)));
        }
        let mut reaction_species = vec![false; model.species.len()];
        for (i, s) in model.species.iter().enumerate() {
            if rule_vars.contains(s.id.as_str()) || rate_rule_vars.contains_key(s.id.as_str()) {
                continue;
            }
            if in_reaction[i] && !s.boundary_condition && !s.constant {
                reaction_species[i] = true;
                states.push((s.id.clone(), StateKind::SpeciesAmount { species: i }));
            } else {
                constants.push((s.id.clone(), ConstantKind::SpeciesAmount(i)));
            }
        }
        for (i, p) in model.parameters.iter().enumerate() {
            if rule_vars.contains(p.id.as_str()) || rate_rule_vars.contains_key(p.id.as_str()) {
                continue;
            }
            constants.push((p.id.clone(), ConstantKind::Parameter(i)));
        }
        for (j, r) in model.reactions.iter().enumerate() {
            for (k, p) in r.local_parameters.iter().enumerate() {
                constants.push((
                    format!("{}.{}", r.id, p.id),
                    ConstantKind::LocalParameter {
                        reaction: j,
                        parameter: k,
                    },
                ));
            }
        }
        for rr in &model.rate_rules {
            let sym =
                table
                    .get(&rr.variable)
                    .copied()
                    .ok_or_else(|| SimError::UnknownVariable {
                        name: rr.variable.clone(),
                        suggestion: None,
                    })?;
            states.push((rr.variable.clone(), StateKind::RateRule { symbol: sym }));
        }
        let n = states.len();
        let state_index: HashMap<&str, usize> = states
            .iter()
            .enumerate()
            .map(|(i, (s, _))| (s.as_str(), i))
            .collect();

        let mut infusions = Vec::new();
        for s in &options.infusions {
            match state_index.get(s.as_str()) {
                Some(&i) if matches!(states[i].1, StateKind::SpeciesAmount { .. }) => {
                    if !infusions.contains(&i) {
                        infusions.push(i)
                    }
                }
                _ => {
                    return Err(SimError::NotSettable {
                        name: s.clone(),
                        reason: if model.species(s).is_some() {
                            "an infusion needs a species that reactions change (not a boundary or constant species, and not one set by a rule)".into()
                        } else {
                            "not a species of the model".into()
                        },
                    })
                }
            }
        }

        let mut input_names: Vec<String> = vec![TIME.to_string()];
        input_names.extend(states.iter().map(|(s, _)| s.clone()));
        input_names.extend(constants.iter().map(|(s, _)| s.clone()));
        input_names.extend(
            infusions
                .iter()
                .map(|&i| format!("infusion.{}", states[i].0)),
        );

        // ---- the right-hand side.
        let mut main = Resolver::new(model, Mode::Main);
        // Resolve the rules in dependency order first (keeps recursion shallow).
        if let Ok(order) = model.sorted_assignment_rules() {
            for r in order {
                main.var(&r.variable)?;
            }
        }
        let mut fluxes: Vec<(String, Expr)> = Vec::new();
        for r in &model.reactions {
            if r.rate_law.is_some() {
                let v = main.var(&r.id)?;
                fluxes.push((r.id.clone(), v));
            }
        }
        let flux_index: HashMap<&str, usize> = fluxes
            .iter()
            .enumerate()
            .map(|(j, (id, _))| (id.as_str(), j))
            .collect();
        // Each state's derivative as a combination of "terms": fluxes, rate rules, infusions.
        let mut terms: Vec<Expr> = fluxes.iter().map(|(_, e)| e.clone()).collect();
        let mut rows: Vec<Vec<(f64, usize)>> = vec![Vec::new(); n];
        let mut state_of_species: Vec<Option<usize>> = vec![None; model.species.len()];
        for (i, (_, kind)) in states.iter().enumerate() {
            if let StateKind::SpeciesAmount { species } = kind {
                state_of_species[*species] = Some(i);
            }
        }
        // Reactions in model order, so each row lists its fluxes in that order.
        for (j, r) in model.reactions.iter().enumerate() {
            let Some(&m) = flux_index.get(r.id.as_str()) else {
                continue;
            };
            for &(species, s) in &stoich[j] {
                if s != 0.0 {
                    if let Some(i) = state_of_species[species] {
                        rows[i].push((s, m));
                    }
                }
            }
        }
        for (i, (id, kind)) in states.iter().enumerate() {
            if let StateKind::RateRule { .. } = kind {
                let e = main.expr(rate_rule_vars[id.as_str()])?;
                terms.push(e);
                rows[i].push((1.0, terms.len() - 1));
            }
        }
        for (k, &i) in infusions.iter().enumerate() {
            terms.push(Expr::var(&input_names[1 + n + constants.len() + k]));
            rows[i].push((1.0, terms.len() - 1));
        }
        let f: Vec<Expr> = rows
            .iter()
            .map(|row| {
                let tt: Vec<(f64, &Expr)> = row.iter().map(|&(c, m)| (c, &terms[m])).collect();
                lin_comb(&tt)
            })
            .collect();

        // ---- conservation laws: left null vectors of the stoichiometry
        // restricted to the species amounts (reaction fluxes only).
        let conservation = {
            let amount_states: Vec<usize> = (0..n)
                .filter(|&i| matches!(states[i].1, StateKind::SpeciesAmount { .. }))
                .collect();
            let nf = fluxes.len();
            let mut at: Vec<Vec<(usize, f64)>> = vec![Vec::new(); nf];
            for (c, &i) in amount_states.iter().enumerate() {
                for &(coef, m) in &rows[i] {
                    if m < nf {
                        at[m].push((c, coef));
                    }
                }
            }
            crate::conservation::left_null_space(&at, amount_states.len())
                .into_iter()
                .map(|(dep, w)| {
                    (
                        amount_states[dep],
                        w.into_iter().map(|(c, v)| (amount_states[c], v)).collect(),
                    )
                })
                .collect()
        };

        // ---- the Jacobian, term by term.
        let term_vars: Vec<HashSet<String>> = terms
            .iter()
            .map(|t| t.free_vars().into_iter().collect())
            .collect();
        let mut dterm: HashMap<(usize, String), Expr> = HashMap::new();
        let mut deriv = |m: usize, v: &str| -> Result<Expr, SimError> {
            if let Some(d) = dterm.get(&(m, v.to_string())) {
                return Ok(d.clone());
            }
            let d = terms[m].diff(v).map_err(compile_err)?;
            dterm.insert((m, v.to_string()), d.clone());
            Ok(d)
        };
        let mut jac_entries: BTreeMap<(u32, u32), Expr> = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            // Only the states that a term of this row names can have a
            // nonzero derivative: a scan of all states would be quadratic.
            let mut named: Vec<usize> = row
                .iter()
                .flat_map(|&(_, m)| term_vars[m].iter())
                .filter_map(|v| state_index.get(v.as_str()).copied())
                .collect();
            named.sort_unstable();
            named.dedup();
            for k in named {
                let sk = &states[k].0;
                let mut parts: Vec<(f64, Expr)> = Vec::new();
                for &(c, m) in row {
                    if term_vars[m].contains(sk) {
                        parts.push((c, deriv(m, sk)?));
                    }
                }
                if parts.is_empty() {
                    continue;
                }
                let refs: Vec<(f64, &Expr)> = parts.iter().map(|(c, e)| (*c, e)).collect();
                let e = lin_comb(&refs);
                if !e.is_num(0.0) {
                    jac_entries.insert((i as u32, k as u32), e);
                }
            }
        }

        // ---- initial values.
        let mut base_names: Vec<String> = vec![TIME.to_string()];
        let mut base_defaults: Vec<f64> = vec![0.0];
        for p in &model.parameters {
            base_names.push(p.id.clone());
            base_defaults.push(p.value.unwrap_or(f64::NAN));
        }
        for c in &model.compartments {
            base_names.push(c.id.clone());
            base_defaults.push(c.size.unwrap_or(f64::NAN));
        }
        for s in &model.species {
            base_names.push(s.id.clone());
            base_defaults.push(s.initial.map_or(f64::NAN, |q| q.value()));
        }
        for r in &model.reactions {
            for p in &r.local_parameters {
                base_names.push(format!("{}.{}", r.id, p.id));
                base_defaults.push(p.value.unwrap_or(f64::NAN));
            }
        }
        let mut computed: HashMap<String, &'static str> = HashMap::new();
        for a in &model.initial_assignments {
            computed.insert(a.symbol.clone(), "an initial assignment computes it");
        }
        for r in &model.assignment_rules {
            computed.insert(r.variable.clone(), "an assignment rule computes it");
        }
        let mut sens_base = Vec::new();
        for p in &options.sensitivities {
            if let Some(why) = computed.get(p) {
                return Err(SimError::NotSettable {
                    name: p.clone(),
                    reason: format!("{why}; take the sensitivity to the values it depends on"),
                });
            }
            match base_names.iter().position(|b| b == p) {
                Some(i) if i > 0 => sens_base.push(i),
                _ => {
                    return Err(SimError::UnknownVariable {
                        name: p.clone(),
                        suggestion: closest(p, base_names[1..].iter().map(|s| s.as_str()))
                            .map(str::to_string),
                    })
                }
            }
        }
        if !options.sensitivities.is_empty() && !model.events.is_empty() {
            return Err(SimError::Unsupported {
                what: "sensitivities of a model with events".into(),
            });
        }
        let mut init = Resolver::new(model, Mode::Init);
        if let Ok(order) = model.initialization_order() {
            for step in order {
                let id = match step {
                    ligand_model::InitStep::InitialAssignment(i) => {
                        model.initial_assignments[i].symbol.clone()
                    }
                    ligand_model::InitStep::AssignmentRule(i) => {
                        model.assignment_rules[i].variable.clone()
                    }
                };
                init.var(&id)?;
            }
        }
        let mut init_out: Vec<Expr> = Vec::with_capacity(n + constants.len());
        for (id, kind) in &states {
            init_out.push(match kind {
                StateKind::SpeciesAmount { species } => init.amount(*species)?,
                StateKind::RateRule { .. } => init.var(id)?,
            });
        }
        for (id, kind) in &constants {
            init_out.push(match kind {
                ConstantKind::SpeciesAmount(i) => init.amount(*i)?,
                ConstantKind::LocalParameter { .. } => Expr::var(id),
                _ => init.var(id)?,
            });
        }
        let mut init_c = Compiler::new(&base_names);
        for e in &init_out {
            init_c.add(e).map_err(compile_err)?;
        }
        let mut sens_constants = Vec::new();
        if !sens_base.is_empty() {
            let mut dinit: Vec<Vec<Expr>> = Vec::new();
            for e in &init_out {
                let mut row = Vec::new();
                for &b in &sens_base {
                    row.push(e.diff(&base_names[b]).map_err(compile_err)?);
                }
                dinit.push(row);
            }
            for row in &dinit {
                for e in row {
                    init_c.add(e).map_err(compile_err)?;
                }
            }
            for (c, row) in dinit[n..].iter().enumerate() {
                if row.iter().any(|e| !e.is_num(0.0)) {
                    sens_constants.push(c);
                }
            }
        }
        let init_prog = init_c.finish();

        // ---- programs over the main inputs.
        let mut rhs_c = Compiler::new(&input_names);
        for e in &f {
            rhs_c.add(e).map_err(compile_err)?;
        }
        let rhs = rhs_c.finish();
        let mut jac_c = Compiler::new(&input_names);
        for e in &f {
            jac_c.add(e).map_err(compile_err)?;
        }
        let mut jac_pattern = Vec::new();
        for ((i, k), e) in &jac_entries {
            jac_c.add(e).map_err(compile_err)?;
            jac_pattern.push((*i, *k));
        }
        let mut dfdc_pattern = Vec::new();
        for (ci, &c) in sens_constants.iter().enumerate() {
            let name = &constants[c].0;
            for (i, row) in rows.iter().enumerate() {
                let mut parts: Vec<(f64, Expr)> = Vec::new();
                for &(coef, m) in row {
                    if term_vars[m].contains(name) {
                        parts.push((coef, deriv(m, name)?));
                    }
                }
                let refs: Vec<(f64, &Expr)> = parts.iter().map(|(c, e)| (*c, e)).collect();
                let e = lin_comb(&refs);
                if !e.is_num(0.0) {
                    jac_c.add(&e).map_err(compile_err)?;
                    dfdc_pattern.push((i as u32, ci as u32));
                }
            }
        }
        let jac = jac_c.finish();

        // ---- events.
        let amount_species: HashSet<String> = model
            .species
            .iter()
            .filter(|s| s.has_only_substance_units)
            .map(|s| s.id.clone())
            .collect();
        let mut meanings: HashMap<String, Expr> = HashMap::new();
        let mut amounts: HashMap<String, Expr> = HashMap::new();
        let mut value_ids = Vec::new();
        for id in model
            .compartments
            .iter()
            .map(|c| &c.id)
            .chain(model.species.iter().map(|s| &s.id))
            .chain(model.parameters.iter().map(|p| &p.id))
            .chain(model.reactions.iter().map(|r| &r.id))
        {
            meanings.insert(id.clone(), main.var(id)?);
            value_ids.push(id.clone());
        }
        meanings.insert(TIME.to_string(), Expr::var(TIME));
        for (i, s) in model.species.iter().enumerate() {
            amounts.insert(s.id.clone(), main.amount(i)?);
        }
        let slot_of: HashMap<&str, usize> = input_names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let events = if model.events.is_empty() {
            None
        } else {
            let mut atoms: Vec<Expr> = Vec::new();
            let mut triggers: Vec<Expr> = Vec::new();
            for ev in &model.events {
                let t = main.expr(&ev.trigger)?;
                collect_atoms(&t, &mut atoms);
                triggers.push(t);
            }
            let mut rc = Compiler::new(&input_names);
            for a in &atoms {
                rc.add(a).map_err(compile_err)?;
            }
            for t in &triggers {
                rc.add(t).map_err(compile_err)?;
            }
            let mut mc = Compiler::new(&input_names);
            let mut compiled = Vec::new();
            for ev in &model.events {
                let delay = match &ev.delay {
                    Some(d) => Some(mc.add(&main.expr(d)?).map_err(compile_err)?),
                    None => None,
                };
                let priority = match &ev.priority {
                    Some(p) => Some(mc.add(&main.expr(p)?).map_err(compile_err)?),
                    None => None,
                };
                let mut assignments = Vec::new();
                for a in &ev.assignments {
                    let value = main.expr(&a.math)?;
                    let slot =
                        *slot_of
                            .get(a.variable.as_str())
                            .ok_or_else(|| SimError::NotSettable {
                                name: a.variable.clone(),
                                reason: format!(
                                    "event `{}` assigns it, but an assignment rule determines it",
                                    ev.id
                                ),
                            })?;
                    // The slot holds an amount for species with concentration
                    // semantics that are not rate-rule variables.
                    let slot_value = match table.get(&a.variable) {
                        Some(Symbol::Species(i))
                            if !model.species[*i].has_only_substance_units
                                && !rate_rule_vars.contains_key(a.variable.as_str()) =>
                        {
                            mul(value, main.var(&model.species[*i].compartment)?)
                        }
                        _ => value,
                    };
                    let out = mc.add(&slot_value).map_err(compile_err)?;
                    assignments.push((slot, out));
                }
                compiled.push(CompiledEvent {
                    id: ev.id.clone(),
                    persistent: ev.persistent,
                    initial_value: ev.initial_value,
                    from_trigger: ev.use_values_from_trigger_time,
                    delay,
                    priority,
                    assignments,
                });
            }
            Some(EventSystem {
                roots: rc.finish(),
                n_atoms: atoms.len(),
                math: mc.finish(),
                events: compiled,
            })
        };

        // Which constants are used anywhere (a missing value only matters then).
        let mut used: HashSet<String> = HashSet::new();
        for e in f.iter().chain(meanings.values()) {
            used.extend(e.free_vars());
        }
        for ev in &model.events {
            for e in std::iter::once(&ev.trigger)
                .chain(ev.delay.iter())
                .chain(ev.priority.iter())
                .chain(ev.assignments.iter().map(|a| &a.math))
            {
                used.extend(main.expr(e)?.free_vars());
            }
        }
        let constant_used = constants.iter().map(|(c, _)| used.contains(c)).collect();

        Ok(System {
            name: model.name.clone(),
            states,
            constants,
            infusions,
            input_names,
            rhs,
            jac,
            jac_pattern,
            sens_constants,
            dfdc_pattern,
            base_names,
            base_defaults,
            init: init_prog,
            sens_params: options.sensitivities.clone(),
            sens_base,
            events,
            constant_used,
            meanings,
            amounts,
            value_ids,
            species_ids: model.species.iter().map(|s| s.id.clone()).collect(),
            amount_species,
            fluxes,
            conservation,
            computed,
        })
    }

    /// The model's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The state variables: ids and what they hold.
    pub fn states(&self) -> &[(String, StateKind)] {
        &self.states
    }

    /// The constant inputs: names and what they are.
    pub fn constants(&self) -> &[(String, ConstantKind)] {
        &self.constants
    }

    /// The number of states.
    pub fn n_states(&self) -> usize {
        self.states.len()
    }

    /// Species ids in model order.
    pub fn species_ids(&self) -> &[String] {
        &self.species_ids
    }

    /// Whether a species' symbol means its amount (only substance units).
    pub fn is_amount_species(&self, id: &str) -> bool {
        self.amount_species.contains(id)
    }

    /// Every id with a value, in model order (compartments, species,
    /// parameters, reactions).
    pub fn value_ids(&self) -> &[String] {
        &self.value_ids
    }

    /// The sensitivity parameters compiled in.
    pub fn sensitivity_parameters(&self) -> &[String] {
        &self.sens_params
    }

    /// The names of the base values (`--set` and scan columns address them).
    pub fn base_names(&self) -> &[String] {
        &self.base_names[1..]
    }

    /// The index of a base value by name, for [`Overrides`](crate::Overrides).
    /// A value computed by a rule or an initial assignment cannot be set.
    pub fn base_index(&self, name: &str) -> Result<usize, SimError> {
        if let Some(why) = self.computed.get(name) {
            return Err(SimError::NotSettable {
                name: name.to_string(),
                reason: format!("{why}; set the values it depends on"),
            });
        }
        match self.base_names.iter().skip(1).position(|b| b == name) {
            Some(i) => Ok(i + 1),
            None => Err(SimError::UnknownVariable {
                name: name.to_string(),
                suggestion: closest(name, self.base_names[1..].iter().map(|s| s.as_str()))
                    .map(str::to_string),
            }),
        }
    }

    /// The number of instructions of the right-hand side and of the Jacobian
    /// program (after common-subexpression elimination).
    pub fn program_sizes(&self) -> (usize, usize) {
        (self.rhs.n_instructions(), self.jac.n_instructions())
    }

    pub(crate) fn constant_slot(&self, c: usize) -> usize {
        1 + self.states.len() + c
    }

    pub(crate) fn infusion_slot(&self, k: usize) -> usize {
        1 + self.states.len() + self.constants.len() + k
    }
}

/// Collects the root functions of a trigger: `a - b` for every comparison
/// `a op b`, and `x - 0.5` for any other leaf used as a condition.
fn collect_atoms(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Cmp(_, a, b) => {
            let g = ligand_expr::simplify::sub((**a).clone(), (**b).clone());
            if g.as_num().is_none() && !out.contains(&g) {
                out.push(g);
            }
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            collect_atoms(a, out);
            collect_atoms(b, out);
        }
        Expr::Not(a) => collect_atoms(a, out),
        Expr::Num(_) => {}
        other => {
            let g = ligand_expr::simplify::sub(other.clone(), Expr::num(0.5));
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
}
