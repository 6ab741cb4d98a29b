//! [`Model::validate`]: every check that does not need a simulation.

use crate::analysis::{find_cycles, MathSite, Symbol, TIME};
use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Loc};
use crate::ir::Model;
use crate::mathlib::RESERVED_NAMES;
use ligand_expr::{closest, Expr, Func};
use std::collections::{HashMap, HashSet};

/// Whether `s` is a valid id: a letter or `_`, then letters, digits and `_`
/// (SBML's SId).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// "did you mean ...?" for a misspelt id. A one-letter name is one edit
/// from every other one-letter name, so for those only a difference of case
/// counts as a likely typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let short = name.chars().count() == 1;
    let candidates = candidates
        .into_iter()
        .filter(|c| !short || c.eq_ignore_ascii_case(name));
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

impl Model {
    /// Checks the model and returns every problem found, errors and warnings,
    /// each naming the construct and carrying the element's location:
    ///
    /// - ids: empty, malformed, duplicated, or reserved (`time`; in text also
    ///   `e`, `pi`, ..., which the text format reads as constants; a function
    ///   named like a built-in);
    /// - a species in an undeclared compartment; a reactant, product or
    ///   modifier that is not a species; a non-finite stoichiometry;
    /// - undefined symbols in any math (with "did you mean"), calls of
    ///   undefined functions and calls with the wrong number of arguments,
    ///   function bodies using names other than their arguments, recursion;
    /// - cyclic assignment rules and cyclic initial values (naming the cycle);
    /// - a variable with both an assignment rule and a rate rule (or two of
    ///   one kind, or an assignment rule and an initial assignment); rules or
    ///   events that change a constant; a species changed by both reactions
    ///   and a rule;
    /// - warnings: elements with no value and nothing to give them one,
    ///   reactions without a rate law.
    ///
    /// ```
    /// use ligand_model::{parse_antimony_partial, DiagnosticKind};
    /// let (m, _) = parse_antimony_partial("J1: A -> B; kf*A\nA = 1; B = 0; kr = 0.1");
    /// let errors: Vec<_> = m.validate().into_iter().filter(|d| d.is_error()).collect();
    /// assert_eq!(errors.len(), 1);
    /// assert_eq!(errors[0].kind, DiagnosticKind::UndefinedSymbol);
    /// assert_eq!(errors[0].help.as_deref(), Some("did you mean `kr`?"));
    /// ```
    pub fn validate(&self) -> Vec<Diagnostic> {
        self.validate_with(false)
    }

    /// [`Model::validate`] for a model read from text, where names like `e`
    /// and `pi` are read as constants and so cannot be ids. (In a model built
    /// in code or read from SBML, an `Expr::Var("e")` is unambiguous; only
    /// `time` is reserved there.)
    pub(crate) fn validate_as_text(&self) -> Vec<Diagnostic> {
        self.validate_with(true)
    }

    fn validate_with(&self, text: bool) -> Vec<Diagnostic> {
        let mut v = Validator {
            model: self,
            text,
            valued: self
                .initial_assignments
                .iter()
                .map(|a| a.symbol.as_str())
                .chain(self.assignment_rules.iter().map(|r| r.variable.as_str()))
                .collect(),
            table: self.symbol_table(),
            out: Vec::new(),
        };
        v.ids();
        v.compartments();
        v.species();
        v.parameters();
        v.reactions();
        v.rules();
        v.events();
        v.math();
        v.functions();
        v.cycles();
        v.out
    }
}

struct Validator<'a> {
    model: &'a Model,
    /// Whether the model was read from text (all reserved names are errors).
    text: bool,
    /// Ids that an initial assignment or assignment rule gives a value.
    valued: HashSet<&'a str>,
    table: HashMap<String, Symbol>,
    out: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn all_ids(&self) -> Vec<&'a str> {
        self.model.ids()
    }

    /// Whether `id` gets its initial value from an initial assignment or an
    /// assignment rule (a rate rule gives a rate, not a value).
    fn has_math_value(&self, id: &str) -> bool {
        self.valued.contains(id)
    }

    fn ids(&mut self) {
        let m = self.model;
        let mut entries: Vec<(&str, &str, Option<Loc>)> = Vec::new();
        entries.extend(
            m.compartments
                .iter()
                .map(|c| (c.id.as_str(), "compartment", c.loc)),
        );
        entries.extend(m.species.iter().map(|s| (s.id.as_str(), "species", s.loc)));
        entries.extend(
            m.parameters
                .iter()
                .map(|p| (p.id.as_str(), "parameter", p.loc)),
        );
        entries.extend(
            m.reactions
                .iter()
                .map(|r| (r.id.as_str(), "reaction", r.loc)),
        );
        entries.extend(
            m.function_definitions
                .iter()
                .map(|f| (f.id.as_str(), "function", f.loc)),
        );
        entries.extend(m.events.iter().map(|e| (e.id.as_str(), "event", e.loc)));
        let mut first: HashMap<&str, (&str, Option<Loc>)> = HashMap::new();
        for (id, kind, loc) in entries {
            if !is_identifier(id) {
                self.push(
                    Diagnostic::error(
                        K::Syntax,
                        format!("the {kind} id `{id}` is not a valid identifier"),
                    )
                    .at(loc)
                    .with_help(
                        "ids start with a letter or `_` and continue with letters, digits and `_`",
                    ),
                );
                continue;
            }
            if RESERVED_NAMES.contains(&id) && (self.text || id == TIME) {
                let meaning = match id {
                    TIME => "the simulation time",
                    "and" | "or" | "not" => "a logical operator",
                    "e" | "exponentiale" => "Euler's number 2.718...",
                    "pi" => "the number pi",
                    "true" => "the number 1 (true)",
                    "false" => "the number 0 (false)",
                    "avogadro" => "Avogadro's number",
                    "nan" | "NaN" | "notanumber" => "not-a-number",
                    _ => "infinity",
                };
                self.push(
                    Diagnostic::error(
                        K::ReservedName,
                        format!("`{id}` cannot be the id of a {kind}: in math it means {meaning}"),
                    )
                    .at(loc)
                    .with_symbol(id)
                    .with_help(format!("rename the {kind}, e.g. `{id}_`")),
                );
            }
            match first.get(id) {
                Some((k0, l0)) => {
                    let where0 = l0.map(|l| format!(" at {l}")).unwrap_or_default();
                    self.push(
                        Diagnostic::error(
                            K::DuplicateId,
                            format!("duplicate id `{id}`: this {kind} has the id of the {k0} defined{where0}"),
                        )
                        .at(loc)
                        .with_symbol(id),
                    );
                }
                None => {
                    first.insert(id, (kind, loc));
                }
            }
        }
        for f in &m.function_definitions {
            if Func::from_name(&f.id).is_some()
                || ["piecewise", "if", "pow"].contains(&f.id.as_str())
            {
                self.push(
                    Diagnostic::error(
                        K::ReservedName,
                        format!("function `{}` has the name of a built-in function, which calls would use instead", f.id),
                    )
                    .at(f.loc)
                    .with_symbol(f.id.clone()),
                );
            }
            let mut seen = HashSet::new();
            for a in &f.args {
                if !seen.insert(a.as_str()) {
                    self.push(
                        Diagnostic::error(
                            K::DuplicateId,
                            format!("function `{}` has two arguments named `{a}`", f.id),
                        )
                        .at(f.loc)
                        .with_symbol(a.clone()),
                    );
                }
            }
        }
        for r in &m.reactions {
            let mut seen = HashSet::new();
            for p in &r.local_parameters {
                if !seen.insert(p.id.as_str()) {
                    self.push(
                        Diagnostic::error(
                            K::DuplicateId,
                            format!(
                                "reaction `{}` has two local parameters named `{}`",
                                r.id, p.id
                            ),
                        )
                        .at(p.loc.or(r.loc))
                        .with_symbol(p.id.clone()),
                    );
                }
            }
        }
    }

    fn compartments(&mut self) {
        for c in &self.model.compartments {
            if let Some(size) = c.size {
                if size < 0.0 {
                    self.push(
                        Diagnostic::error(
                            K::InvalidValue,
                            format!("compartment `{}` has a negative size ({size})", c.id),
                        )
                        .at(c.loc)
                        .with_symbol(c.id.clone()),
                    );
                }
            } else if !self.has_math_value(&c.id) {
                self.push(
                    Diagnostic::warning(
                        K::MissingValue,
                        format!("compartment `{}` has no size and no rule or initial assignment to give it one", c.id),
                    )
                    .at(c.loc)
                    .with_symbol(c.id.clone())
                    .with_help(format!("give it a size, e.g. `{} = 1`", c.id)),
                );
            }
            if !(c.spatial_dimensions.is_finite() && (0.0..=3.0).contains(&c.spatial_dimensions)) {
                self.push(
                    Diagnostic::error(
                        K::InvalidValue,
                        format!(
                            "compartment `{}` has {} spatial dimensions; expected 0 to 3",
                            c.id, c.spatial_dimensions
                        ),
                    )
                    .at(c.loc),
                );
            }
        }
    }

    fn species(&mut self) {
        let compartments: Vec<&str> = self
            .model
            .compartments
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        for s in &self.model.species {
            match self.table.get(&s.compartment) {
                Some(Symbol::Compartment(_)) => {}
                Some(other) => self.push(
                    Diagnostic::error(
                        K::InvalidReference,
                        format!(
                            "species `{}` is placed in `{}`, which is a {}, not a compartment",
                            s.id,
                            s.compartment,
                            other.kind_name()
                        ),
                    )
                    .at(s.loc)
                    .with_symbol(s.compartment.clone()),
                ),
                None => {
                    let help = did_you_mean(&s.compartment, compartments.iter().copied())
                        .unwrap_or_else(|| {
                            format!("declare it: `compartment {} = 1`", s.compartment)
                        });
                    self.push(
                        Diagnostic::error(
                            K::UndeclaredCompartment,
                            format!(
                                "species `{}` is in compartment `{}`, which is not declared",
                                s.id, s.compartment
                            ),
                        )
                        .at(s.loc)
                        .with_symbol(s.compartment.clone())
                        .with_help(help),
                    );
                }
            }
            if s.initial.is_none() && !self.has_math_value(&s.id) {
                self.push(
                    Diagnostic::warning(
                        K::MissingValue,
                        format!("species `{}` has no initial value and no rule or initial assignment to give it one", s.id),
                    )
                    .at(s.loc)
                    .with_symbol(s.id.clone())
                    .with_help(format!("give it a value, e.g. `{} = 0`", s.id)),
                );
            }
        }
    }

    fn parameters(&mut self) {
        for p in &self.model.parameters {
            if p.value.is_none() && !self.has_math_value(&p.id) {
                self.push(
                    Diagnostic::warning(
                        K::MissingValue,
                        format!("parameter `{}` has no value and no rule or initial assignment to give it one", p.id),
                    )
                    .at(p.loc)
                    .with_symbol(p.id.clone())
                    .with_help(format!("give it a value, e.g. `{} = 1`", p.id)),
                );
            }
        }
    }

    fn species_ref(&mut self, reaction: &str, role: &str, id: &str, loc: Option<Loc>) -> bool {
        match self.table.get(id) {
            Some(Symbol::Species(_)) => true,
            Some(other) => {
                self.push(
                    Diagnostic::error(
                        K::InvalidReference,
                        format!(
                            "the {role} `{id}` of reaction `{reaction}` is a {}, not a species",
                            other.kind_name()
                        ),
                    )
                    .at(loc)
                    .with_symbol(id),
                );
                false
            }
            None => {
                let species: Vec<&str> = self.model.species.iter().map(|s| s.id.as_str()).collect();
                self.push(
                    Diagnostic::error(
                        K::UndefinedSymbol,
                        format!("the {role} `{id}` of reaction `{reaction}` is not a species of the model"),
                    )
                    .at(loc)
                    .with_symbol(id)
                    .with_help_opt(did_you_mean(id, species)),
                );
                false
            }
        }
    }

    fn reactions(&mut self) {
        let m = self.model;
        let ruled: HashSet<&str> = m
            .assignment_rules
            .iter()
            .map(|r| r.variable.as_str())
            .chain(m.rate_rules.iter().map(|r| r.variable.as_str()))
            .collect();
        // By id, once: a linear search per species reference made validation quadratic.
        let species: HashMap<&str, &crate::ir::Species> =
            m.species.iter().map(|s| (s.id.as_str(), s)).collect();
        for r in &m.reactions {
            for (refs, role) in [(&r.reactants, "reactant"), (&r.products, "product")] {
                for sr in refs {
                    if !sr.stoichiometry.is_finite() {
                        self.push(
                            Diagnostic::error(
                                K::InvalidValue,
                                format!(
                                    "the {role} `{}` of reaction `{}` has the stoichiometry {}",
                                    sr.species, r.id, sr.stoichiometry
                                ),
                            )
                            .at(r.loc),
                        );
                    } else if sr.stoichiometry < 0.0 {
                        self.push(
                            Diagnostic::warning(
                                K::InvalidValue,
                                format!(
                                    "the {role} `{}` of reaction `{}` has a negative stoichiometry ({})",
                                    sr.species, r.id, sr.stoichiometry
                                ),
                            )
                            .at(r.loc),
                        );
                    }
                    if !self.species_ref(&r.id, role, &sr.species, r.loc) {
                        continue;
                    }
                    if let Some(s) = species.get(sr.species.as_str()) {
                        if s.boundary_condition {
                            continue;
                        }
                        if s.constant {
                            self.push(
                                Diagnostic::error(
                                    K::AssignmentToConstant,
                                    format!(
                                        "species `{}` is constant, so it cannot be a {role} of reaction `{}` unless it is also a boundary species",
                                        s.id, r.id
                                    ),
                                )
                                .at(r.loc)
                                .with_symbol(s.id.clone()),
                            );
                        } else if ruled.contains(s.id.as_str()) {
                            self.push(
                                Diagnostic::error(
                                    K::ChangedByReactionAndRule,
                                    format!(
                                        "species `{}` is changed both by reaction `{}` and by a rule",
                                        s.id, r.id
                                    ),
                                )
                                .at(r.loc)
                                .with_symbol(s.id.clone())
                                .with_help("make it a boundary species (`$` in Antimony) so that reactions leave it to the rule"),
                            );
                        }
                    }
                }
            }
            for md in &r.modifiers {
                self.species_ref(&r.id, "modifier", md, r.loc);
            }
            if r.rate_law.is_none() {
                self.push(
                    Diagnostic::warning(
                        K::MissingRateLaw,
                        format!("reaction `{}` has no rate law, so it never happens", r.id),
                    )
                    .at(r.loc)
                    .with_symbol(r.id.clone()),
                );
            }
            if let Some(c) = &r.compartment {
                if !matches!(self.table.get(c), Some(Symbol::Compartment(_))) {
                    self.push(
                        Diagnostic::error(
                            K::UndeclaredCompartment,
                            format!(
                                "reaction `{}` is placed in `{c}`, which is not a compartment",
                                r.id
                            ),
                        )
                        .at(r.loc)
                        .with_symbol(c.clone()),
                    );
                }
            }
            for p in &r.local_parameters {
                if p.value.is_none() {
                    self.push(
                        Diagnostic::warning(
                            K::MissingValue,
                            format!(
                                "local parameter `{}` of reaction `{}` has no value",
                                p.id, r.id
                            ),
                        )
                        .at(p.loc.or(r.loc)),
                    );
                }
            }
        }
    }

    /// Checks that `var` may be set by `what`; returns whether it exists.
    fn target(&mut self, var: &str, what: &str, loc: Option<Loc>, changes: bool) -> bool {
        let m = self.model;
        match self.table.get(var).copied() {
            Some(s) if s.is_assignable() => {
                let constant = match s {
                    Symbol::Compartment(i) => m.compartments[i].constant,
                    Symbol::Species(i) => m.species[i].constant,
                    Symbol::Parameter(i) => m.parameters[i].constant,
                    _ => false,
                };
                if changes && constant {
                    self.push(
                        Diagnostic::error(
                            K::AssignmentToConstant,
                            format!(
                                "{what} changes `{var}`, which is a constant {}",
                                s.kind_name()
                            ),
                        )
                        .at(loc)
                        .with_symbol(var)
                        .with_help(format!("declare it variable: `var {var}`")),
                    );
                }
                true
            }
            Some(s) => {
                self.push(
                    Diagnostic::error(
                        K::InvalidReference,
                        format!("{what} sets `{var}`, which is a {}; only compartments, species and parameters can be set", s.kind_name()),
                    )
                    .at(loc)
                    .with_symbol(var),
                );
                false
            }
            None => {
                let ids = self.all_ids();
                self.push(
                    Diagnostic::error(
                        K::UndefinedSymbol,
                        format!("{what} sets `{var}`, which is not defined"),
                    )
                    .at(loc)
                    .with_symbol(var)
                    .with_help_opt(did_you_mean(var, ids)),
                );
                false
            }
        }
    }

    fn rules(&mut self) {
        let m = self.model;
        let mut assigned: HashMap<&str, Option<Loc>> = HashMap::new();
        for r in &m.assignment_rules {
            self.target(
                &r.variable,
                &format!("the assignment rule for `{}`", r.variable),
                r.loc,
                true,
            );
            if let Some(l0) = assigned.insert(&r.variable, r.loc) {
                self.push(
                    Diagnostic::error(
                        K::ConflictingRules,
                        format!("`{}` has two assignment rules{}", r.variable, at_suffix(l0)),
                    )
                    .at(r.loc)
                    .with_symbol(r.variable.clone()),
                );
            }
        }
        let mut rated: HashMap<&str, Option<Loc>> = HashMap::new();
        for r in &m.rate_rules {
            self.target(
                &r.variable,
                &format!("the rate rule for `{}`", r.variable),
                r.loc,
                true,
            );
            if let Some(l0) = rated.insert(&r.variable, r.loc) {
                self.push(
                    Diagnostic::error(
                        K::ConflictingRules,
                        format!("`{}` has two rate rules{}", r.variable, at_suffix(l0)),
                    )
                    .at(r.loc)
                    .with_symbol(r.variable.clone()),
                );
            }
            if let Some(l0) = assigned.get(r.variable.as_str()) {
                self.push(
                    Diagnostic::error(
                        K::ConflictingRules,
                        format!(
                            "`{}` has both an assignment rule{} and a rate rule",
                            r.variable,
                            at_suffix(*l0)
                        ),
                    )
                    .at(r.loc)
                    .with_symbol(r.variable.clone())
                    .with_help(
                        "keep one: `x := ...` fixes the value, `x' = ...` its rate of change",
                    ),
                );
            }
        }
        let mut initial: HashMap<&str, Option<Loc>> = HashMap::new();
        for a in &m.initial_assignments {
            self.target(
                &a.symbol,
                &format!("the initial assignment of `{}`", a.symbol),
                a.loc,
                false,
            );
            if let Some(l0) = initial.insert(&a.symbol, a.loc) {
                self.push(
                    Diagnostic::error(
                        K::ConflictingRules,
                        format!(
                            "`{}` has two initial assignments{}",
                            a.symbol,
                            at_suffix(l0)
                        ),
                    )
                    .at(a.loc)
                    .with_symbol(a.symbol.clone()),
                );
            }
            if let Some(l0) = assigned.get(a.symbol.as_str()) {
                self.push(
                    Diagnostic::error(
                        K::ConflictingRules,
                        format!(
                            "`{}` has both an assignment rule{} and an initial assignment",
                            a.symbol,
                            at_suffix(*l0)
                        ),
                    )
                    .at(a.loc)
                    .with_symbol(a.symbol.clone()),
                );
            }
        }
    }

    fn events(&mut self) {
        let m = self.model;
        let assigned: HashSet<&str> = m
            .assignment_rules
            .iter()
            .map(|r| r.variable.as_str())
            .collect();
        for ev in &m.events {
            let mut seen: HashSet<&str> = HashSet::new();
            for a in &ev.assignments {
                let loc = a.loc.or(ev.loc);
                let what = format!("event `{}`", ev.id);
                if !self.target(&a.variable, &what, loc, true) {
                    continue;
                }
                if assigned.contains(a.variable.as_str()) {
                    self.push(
                        Diagnostic::error(
                            K::ConflictingRules,
                            format!(
                                "event `{}` sets `{}`, which an assignment rule already determines at every moment",
                                ev.id, a.variable
                            ),
                        )
                        .at(loc)
                        .with_symbol(a.variable.clone()),
                    );
                }
                if !seen.insert(&a.variable) {
                    self.push(
                        Diagnostic::error(
                            K::ConflictingRules,
                            format!("event `{}` sets `{}` twice", ev.id, a.variable),
                        )
                        .at(loc)
                        .with_symbol(a.variable.clone()),
                    );
                }
            }
        }
    }

    fn math(&mut self) {
        let m = self.model;
        let ids = self.all_ids();
        let reactions: HashMap<&str, &crate::ir::Reaction> =
            m.reactions.iter().map(|r| (r.id.as_str(), r)).collect();
        for mr in m.math() {
            // The names a rate law sees besides the model's: its local parameters. The list of
            // every name (for "did you mean") is built only for an undefined symbol.
            let locals: Vec<&str> = match &mr.site {
                MathSite::RateLaw { reaction } => reactions
                    .get(reaction.as_str())
                    .map(|r| r.local_parameters.iter().map(|p| p.id.as_str()).collect())
                    .unwrap_or_default(),
                MathSite::FunctionBody { .. } => {
                    // Bodies see only their arguments (checked in `functions`);
                    // their calls are checked here like any other.
                    self.calls(mr.expr, &mr.site, mr.loc);
                    continue;
                }
                _ => Vec::new(),
            };
            for v in mr.expr.free_vars() {
                if locals.contains(&v.as_str()) {
                    continue;
                }
                match self.table.get(&v) {
                    Some(s) if s.is_value() => {}
                    Some(s) => {
                        let kind = s.kind_name();
                        self.push(
                            Diagnostic::error(
                                K::InvalidReference,
                                format!(
                                    "{} uses `{v}`, which is a {kind} and has no value",
                                    mr.site
                                ),
                            )
                            .at(mr.loc)
                            .with_symbol(v.clone()),
                        );
                    }
                    None => {
                        let mut cands = ids.clone();
                        cands.extend(locals.iter().copied());
                        cands.push(TIME);
                        self.push(
                            Diagnostic::error(
                                K::UndefinedSymbol,
                                format!("undefined symbol `{v}` in {}", mr.site),
                            )
                            .at(mr.loc)
                            .with_symbol(v.clone())
                            .with_help_opt(did_you_mean(&v, cands)),
                        );
                    }
                }
            }
            self.calls(mr.expr, &mr.site, mr.loc);
        }
    }

    /// Checks calls of user-defined functions: defined, and with the right arity.
    fn calls(&mut self, e: &Expr, site: &MathSite, loc: Option<Loc>) {
        let m = self.model;
        let mut found: Vec<(String, usize)> = Vec::new();
        e.visit(&mut |node| {
            if let Expr::Apply(name, args) = node {
                if !found.iter().any(|(n, k)| n == name && *k == args.len()) {
                    found.push((name.clone(), args.len()));
                }
            }
        });
        for (name, n) in found {
            match m.function(&name) {
                Some(f) if f.args.len() == n => {}
                Some(f) => {
                    let k = f.args.len();
                    self.push(
                        Diagnostic::error(
                            K::ArityMismatch,
                            format!(
                                "function `{name}` takes {k} argument{} ({}), but {site} calls it with {n}",
                                if k == 1 { "" } else { "s" },
                                f.args.join(", ")
                            ),
                        )
                        .at(loc)
                        .with_symbol(name.clone()),
                    );
                }
                None => {
                    let fns: Vec<&str> = m
                        .function_definitions
                        .iter()
                        .map(|f| f.id.as_str())
                        .collect();
                    self.push(
                        Diagnostic::error(
                            K::UndefinedFunction,
                            format!("{site} calls `{name}`, which is not defined"),
                        )
                        .at(loc)
                        .with_symbol(name.clone())
                        .with_help_opt(did_you_mean(&name, fns)),
                    );
                }
            }
        }
    }

    fn functions(&mut self) {
        let m = self.model;
        for f in &m.function_definitions {
            for v in f.body.free_vars() {
                if v == TIME || f.args.contains(&v) {
                    continue;
                }
                self.push(
                    Diagnostic::error(
                        K::UndefinedSymbol,
                        format!(
                            "the body of function `{}` uses `{v}`, which is not one of its arguments ({})",
                            f.id,
                            f.args.join(", ")
                        ),
                    )
                    .at(f.loc)
                    .with_symbol(v.clone())
                    .with_help("a function sees only its arguments: pass the value in as one more argument"),
                );
            }
        }
        // Recursion: follow calls from each function; a path back to it is a cycle.
        for f in &m.function_definitions {
            let mut stack: Vec<&str> = f
                .body
                .applied_functions()
                .iter()
                .filter_map(|n| m.function(n).map(|g| g.id.as_str()))
                .collect();
            let mut seen: HashSet<&str> = HashSet::new();
            let mut recursive = false;
            while let Some(g) = stack.pop() {
                if g == f.id {
                    recursive = true;
                    break;
                }
                if !seen.insert(g) {
                    continue;
                }
                if let Some(gd) = m.function(g) {
                    for n in gd.body.applied_functions() {
                        if let Some(h) = m.function(&n) {
                            stack.push(h.id.as_str());
                        }
                    }
                }
            }
            if recursive {
                self.push(
                    Diagnostic::error(
                        K::RecursiveFunction,
                        format!("function `{}` calls itself (directly or through other functions), so it cannot be expanded", f.id),
                    )
                    .at(f.loc)
                    .with_symbol(f.id.clone()),
                );
            }
        }
    }

    fn cycles(&mut self) {
        let m = self.model;
        let rule_cycles = find_cycles(m, false);
        let mut reported: Vec<HashSet<String>> = Vec::new();
        for (cycle, loc) in rule_cycles {
            reported.push(cycle.iter().cloned().collect());
            self.push(
                Diagnostic::error(
                    K::CyclicRules,
                    format!("cyclic assignment rules: {}", cycle.join(" -> ")),
                )
                .at(loc)
                .with_symbol(cycle[0].clone())
                .with_help("an assignment rule cannot depend on itself; make one of these a rate rule or a parameter"),
            );
        }
        for (cycle, loc) in find_cycles(m, true) {
            let members: HashSet<String> = cycle.iter().cloned().collect();
            if reported.contains(&members) {
                continue;
            }
            self.push(
                Diagnostic::error(
                    K::CyclicRules,
                    format!("cyclic initial values: {}", cycle.join(" -> ")),
                )
                .at(loc)
                .with_symbol(cycle[0].clone()),
            );
        }
    }
}

fn at_suffix(loc: Option<Loc>) -> String {
    loc.map(|l| format!(" (the first at {l})"))
        .unwrap_or_default()
}
