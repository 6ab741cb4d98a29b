//! From statements to a [`Model`], with Antimony's rules for what a name is.
//!
//! Antimony lets a name be used before it is declared and decides its kind
//! from all its uses: a name declared `species`, used in a reaction, marked
//! `$`, or placed `in` a compartment is a species; a name after `in` is a
//! compartment; any other name given a value (by `=`, `:=`, `'` or an event)
//! is a parameter. A name only *used* in math is not defined by that use:
//! [`Model::validate`] reports it as undefined.

use crate::diagnostic::{Diagnostic, DiagnosticKind as K, Loc};
use crate::ir::{
    AssignmentRule, Compartment, Event, FunctionDefinition, InitialAssignment, InitialQuantity,
    Model, Parameter, RateRule, Reaction, Species, SpeciesRef,
};
use crate::DEFAULT_COMPARTMENT;
use ligand_expr::{closest, Expr};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeclKind {
    Compartment,
    Species,
    Parameter,
}

impl DeclKind {
    fn name(self) -> &'static str {
        match self {
            DeclKind::Compartment => "compartment",
            DeclKind::Species => "species",
            DeclKind::Parameter => "parameter",
        }
    }
}

/// A species on one side of a reaction, as written.
pub(crate) struct Participant {
    pub name: String,
    pub stoichiometry: f64,
    /// Written `$name`: a boundary species.
    pub dollar: bool,
    pub loc: Loc,
}

pub(crate) enum Value {
    Number(f64),
    Math(Expr),
}

/// Everything the statements say about one name.
struct Sym {
    name: String,
    /// Where the name first appeared in a defining role.
    loc: Loc,
    decl: Option<(DeclKind, Loc)>,
    /// A reactant, product or interacting species.
    participant: bool,
    dollar: bool,
    substance_only: bool,
    /// `const` (true) or `var` (false); the last one written wins.
    qualifier: Option<bool>,
    /// `NAME in C`.
    compartment: Option<(String, Loc)>,
    /// Used as `in NAME`.
    container: Option<Loc>,
    /// The value, where it was given, and a stamp that orders initial assignments.
    value: Option<(Value, Loc, usize)>,
    rule: bool,
    rate_rule: bool,
    event_target: bool,
}

struct ReactionDraft {
    id: Option<(String, Loc)>,
    loc: Loc,
    compartment: Option<(String, Loc)>,
    reactants: Vec<(String, f64)>,
    products: Vec<(String, f64)>,
    reversible: bool,
    rate: Option<Expr>,
    rate_failed: bool,
}

/// One model block (or the bare statements of a file) being built.
pub(crate) struct Builder {
    pub name: Option<String>,
    pub loc: Option<Loc>,
    /// Marked `model *name` (the main model).
    pub main: bool,
    /// The first statement that defines something (for "statements outside a model").
    pub first_content: Option<Loc>,
    syms: Vec<Sym>,
    index: HashMap<String, usize>,
    reactions: Vec<ReactionDraft>,
    events: Vec<(bool, Event)>,
    assignment_rules: Vec<AssignmentRule>,
    rate_rules: Vec<RateRule>,
    interactions: Vec<(String, Loc, String, Loc)>,
    stamp: usize,
    diags: Vec<Diagnostic>,
    /// Names whose definition failed to parse (already reported).
    failed: Vec<String>,
}

impl Builder {
    pub fn new(name: Option<String>, loc: Option<Loc>) -> Builder {
        Builder {
            name,
            loc,
            main: false,
            first_content: None,
            syms: Vec::new(),
            index: HashMap::new(),
            reactions: Vec::new(),
            events: Vec::new(),
            assignment_rules: Vec::new(),
            rate_rules: Vec::new(),
            interactions: Vec::new(),
            stamp: 0,
            diags: Vec::new(),
            failed: Vec::new(),
        }
    }

    fn content(&mut self, loc: Loc) {
        self.first_content.get_or_insert(loc);
    }

    fn sym(&mut self, name: &str, loc: Loc) -> &mut Sym {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.syms.push(Sym {
                    name: name.to_string(),
                    loc,
                    decl: None,
                    participant: false,
                    dollar: false,
                    substance_only: false,
                    qualifier: None,
                    compartment: None,
                    container: None,
                    value: None,
                    rule: false,
                    rate_rule: false,
                    event_target: false,
                });
                self.index.insert(name.to_string(), self.syms.len() - 1);
                self.syms.len() - 1
            }
        };
        &mut self.syms[i]
    }

    #[allow(clippy::too_many_arguments)]
    pub fn declare(
        &mut self,
        name: &str,
        loc: Loc,
        kind: Option<DeclKind>,
        qualifier: Option<bool>,
        dollar: bool,
        substance_only: bool,
        compartment: Option<(String, Loc)>,
    ) {
        self.content(loc);
        if let Some((c, cl)) = &compartment {
            self.sym(c, *cl).container.get_or_insert(*cl);
        }
        let mut conflict = None;
        let s = self.sym(name, loc);
        if let Some(k) = kind {
            match s.decl {
                Some((k0, l0)) if k0 != k => conflict = Some((k0, l0, k)),
                _ => s.decl = Some((k, loc)),
            }
        }
        if qualifier.is_some() {
            s.qualifier = qualifier;
        }
        s.dollar |= dollar;
        s.substance_only |= substance_only;
        if kind != Some(DeclKind::Compartment) {
            if let Some(c) = compartment {
                s.compartment = Some(c);
            }
        }
        if let Some((k0, l0, k)) = conflict {
            self.diags.push(
                Diagnostic::error(
                    K::KindConflict,
                    format!(
                        "`{name}` was declared a {} at {l0} and is declared a {} here",
                        k0.name(),
                        k.name()
                    ),
                )
                .at(Some(loc))
                .with_width(name.chars().count()),
            );
        }
    }

    pub fn value(&mut self, name: &str, loc: Loc, value: Value) {
        self.content(loc);
        self.stamp += 1;
        let stamp = self.stamp;
        let s = self.sym(name, loc);
        let previous = s.value.as_ref().map(|(_, l, _)| *l);
        s.value = Some((value, loc, stamp));
        if let Some(l0) = previous {
            self.diags.push(
                Diagnostic::warning(
                    K::Redefinition,
                    format!("`{name}` was given a value at {l0}; this later value replaces it"),
                )
                .at(Some(loc))
                .with_width(name.chars().count()),
            );
        }
    }

    pub fn assignment_rule(&mut self, name: &str, loc: Loc, math: Expr) {
        self.content(loc);
        self.sym(name, loc).rule = true;
        if let Some(i) = self
            .assignment_rules
            .iter()
            .position(|r| r.variable == name)
        {
            let old = self.assignment_rules.remove(i);
            self.diags.push(
                Diagnostic::warning(
                    K::Redefinition,
                    format!(
                        "`{name}` had an assignment rule at {}; this later rule replaces it",
                        old.loc.map(|l| l.to_string()).unwrap_or_default()
                    ),
                )
                .at(Some(loc))
                .with_width(name.chars().count()),
            );
        }
        let mut r = AssignmentRule::new(name, math);
        r.loc = Some(loc);
        self.assignment_rules.push(r);
    }

    pub fn rate_rule(&mut self, name: &str, loc: Loc, math: Expr) {
        self.content(loc);
        self.sym(name, loc).rate_rule = true;
        if let Some(i) = self.rate_rules.iter().position(|r| r.variable == name) {
            let old = self.rate_rules.remove(i);
            self.diags.push(
                Diagnostic::warning(
                    K::Redefinition,
                    format!(
                        "`{name}` had a rate rule at {}; this later rule replaces it",
                        old.loc.map(|l| l.to_string()).unwrap_or_default()
                    ),
                )
                .at(Some(loc))
                .with_width(name.chars().count()),
            );
        }
        let mut r = RateRule::new(name, math);
        r.loc = Some(loc);
        self.rate_rules.push(r);
    }

    /// A definition of `name` whose math failed to parse: the name still
    /// exists (so that its uses are not reported as undefined), and its
    /// missing value is not reported again.
    pub fn failed(&mut self, name: &str, loc: Loc) {
        self.content(loc);
        self.sym(name, loc);
        self.failed.push(name.to_string());
    }

    #[allow(clippy::too_many_arguments)]
    pub fn reaction(
        &mut self,
        id: Option<(String, Loc)>,
        loc: Loc,
        compartment: Option<(String, Loc)>,
        (reactants, products): (Vec<Participant>, Vec<Participant>),
        reversible: bool,
        rate: Option<Expr>,
        rate_failed: bool,
    ) {
        self.content(loc);
        if let Some((c, cl)) = &compartment {
            self.sym(c, *cl).container.get_or_insert(*cl);
        }
        let mut side = |list: Vec<Participant>| -> Vec<(String, f64)> {
            let mut out: Vec<(String, f64)> = Vec::new();
            for Participant {
                name,
                stoichiometry: stoich,
                dollar,
                loc: l,
            } in list
            {
                let s = self.sym(&name, l);
                s.participant = true;
                s.dollar |= dollar;
                // `A + A -> B` is `2 A -> B`.
                match out.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, st)) => *st += stoich,
                    None => out.push((name, stoich)),
                }
            }
            out
        };
        let reactants = side(reactants);
        let products = side(products);
        self.reactions.push(ReactionDraft {
            id,
            loc,
            compartment,
            reactants,
            products,
            reversible,
            rate,
            rate_failed,
        });
    }

    pub fn interaction(
        &mut self,
        species: &str,
        loc: Loc,
        dollar: bool,
        reaction: &str,
        rloc: Loc,
    ) {
        self.content(loc);
        let s = self.sym(species, loc);
        s.participant = true;
        s.dollar |= dollar;
        self.interactions
            .push((species.to_string(), loc, reaction.to_string(), rloc));
    }

    pub fn event(&mut self, named: bool, ev: Event) {
        if let Some(l) = ev.loc {
            self.content(l);
        }
        for a in &ev.assignments {
            let l = a.loc.or(ev.loc).unwrap_or(Loc::new(1, 1));
            self.sym(&a.variable, l).event_target = true;
        }
        self.events.push((named, ev));
    }

    /// The model, the diagnostics found while building it, and the names
    /// whose definitions failed to parse.
    pub fn finish(
        mut self,
        functions: Vec<FunctionDefinition>,
    ) -> (Model, Vec<Diagnostic>, Vec<String>) {
        let mut diags = std::mem::take(&mut self.diags);
        let mut model = Model {
            name: self.name.clone(),
            function_definitions: functions,
            ..Model::default()
        };
        let labels: HashMap<String, usize> = self
            .reactions
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.id.as_ref().map(|(n, _)| (n.clone(), i)))
            .collect();
        // The compartment each species gets from a reaction declared `in` one.
        let mut reaction_compartment: HashMap<&str, &str> = HashMap::new();
        for r in &self.reactions {
            if let Some((c, _)) = &r.compartment {
                for (s, _) in r.reactants.iter().chain(&r.products) {
                    reaction_compartment.insert(s.as_str(), c.as_str());
                }
            }
        }
        let mut rate_assignments: Vec<(usize, Expr, Loc)> = Vec::new();
        let mut initial: Vec<(usize, InitialAssignment)> = Vec::new();
        let mut uses_default = false;
        for s in &self.syms {
            // `J0 = rate` sets the rate law of reaction J0.
            if let Some(&ri) = labels.get(&s.name) {
                let only_value = s.decl.is_none()
                    && !s.participant
                    && !s.dollar
                    && !s.substance_only
                    && s.qualifier.is_none()
                    && s.compartment.is_none()
                    && s.container.is_none()
                    && !s.rule
                    && !s.rate_rule
                    && !s.event_target;
                if only_value {
                    if let Some((v, l, _)) = &s.value {
                        let e = match v {
                            Value::Number(x) => Expr::Num(*x),
                            Value::Math(e) => e.clone(),
                        };
                        rate_assignments.push((ri, e, *l));
                        continue;
                    }
                }
            }
            let species_use = s.participant || s.dollar || s.substance_only;
            let placed = s.compartment.is_some();
            let kind = match s.decl {
                Some((k, _)) => {
                    let conflict = match k {
                        DeclKind::Compartment => {
                            if placed && !species_use {
                                diags.push(
                                    Diagnostic::warning(
                                        K::Ignored,
                                        format!("compartment `{}` is placed in another compartment: ligand has no compartment hierarchy, so this is ignored", s.name),
                                    )
                                    .at(s.compartment.as_ref().map(|(_, l)| *l)),
                                );
                            }
                            species_use.then_some("used as a species")
                        }
                        DeclKind::Parameter => {
                            if species_use || placed {
                                Some("used as a species")
                            } else if s.container.is_some() {
                                Some("used as a compartment (after `in`)")
                            } else {
                                None
                            }
                        }
                        DeclKind::Species => s
                            .container
                            .is_some()
                            .then_some("used as a compartment (after `in`)"),
                    };
                    if let Some(how) = conflict {
                        diags.push(
                            Diagnostic::error(
                                K::KindConflict,
                                format!("`{}` is declared a {} but {how}", s.name, k.name()),
                            )
                            .at(Some(s.loc))
                            .with_width(s.name.chars().count()),
                        );
                    }
                    k
                }
                None if species_use || placed => {
                    if s.container.is_some() {
                        diags.push(
                            Diagnostic::error(
                                K::KindConflict,
                                format!("`{}` is used both as a species and as a compartment (after `in`)", s.name),
                            )
                            .at(s.container)
                            .with_width(s.name.chars().count()),
                        );
                    }
                    DeclKind::Species
                }
                None if s.container.is_some() => {
                    // A name after `in` is a compartment, but only a defined one:
                    // one never declared nor given a size is left undefined, so
                    // that validation reports the species in it.
                    if s.value.is_none() && !s.rule && !s.rate_rule && s.qualifier.is_none() {
                        continue;
                    }
                    DeclKind::Compartment
                }
                None => DeclKind::Parameter,
            };
            let varies = s.rule || s.rate_rule || s.event_target;
            let (number, math) = match &s.value {
                Some((Value::Number(v), _, _)) => (Some(*v), None),
                Some((Value::Math(e), l, stamp)) => (None, Some((e, *l, *stamp))),
                None => (None, None),
            };
            if let Some((e, l, stamp)) = math {
                let mut a = InitialAssignment::new(s.name.clone(), e.clone());
                a.loc = Some(l);
                initial.push((stamp, a));
            }
            match kind {
                DeclKind::Compartment => {
                    let mut c = Compartment::new(s.name.clone(), number);
                    c.constant = s.qualifier.unwrap_or(!varies);
                    c.loc = Some(s.loc);
                    model.compartments.push(c);
                }
                DeclKind::Parameter => {
                    let mut p = Parameter::new(s.name.clone(), number);
                    p.constant = s.qualifier.unwrap_or(!varies);
                    p.loc = Some(s.loc);
                    model.parameters.push(p);
                }
                DeclKind::Species => {
                    let compartment = match &s.compartment {
                        Some((c, _)) => c.clone(),
                        None => match reaction_compartment.get(s.name.as_str()) {
                            Some(c) => c.to_string(),
                            None => {
                                uses_default = true;
                                DEFAULT_COMPARTMENT.to_string()
                            }
                        },
                    };
                    let mut sp = Species::new(s.name.clone(), compartment);
                    sp.has_only_substance_units = s.substance_only;
                    sp.initial = number.map(|v| {
                        if s.substance_only {
                            InitialQuantity::Amount(v)
                        } else {
                            InitialQuantity::Concentration(v)
                        }
                    });
                    // Antimony: `$S` and `const S` are boundary species, and so is
                    // a species set by a rule (reactions must leave it alone).
                    sp.boundary_condition =
                        s.dollar || s.qualifier == Some(true) || s.rule || s.rate_rule;
                    sp.loc = Some(s.loc);
                    model.species.push(sp);
                }
            }
        }
        if uses_default
            && !model
                .compartments
                .iter()
                .any(|c| c.id == DEFAULT_COMPARTMENT)
        {
            model
                .compartments
                .push(Compartment::new(DEFAULT_COMPARTMENT, Some(1.0)));
        }
        initial.sort_by_key(|(stamp, _)| *stamp);
        model.initial_assignments = initial.into_iter().map(|(_, a)| a).collect();
        model.assignment_rules = std::mem::take(&mut self.assignment_rules);
        model.rate_rules = std::mem::take(&mut self.rate_rules);

        // Ids for unnamed reactions and events, clear of every other name.
        let mut used: HashSet<String> = self.syms.iter().map(|s| s.name.clone()).collect();
        used.extend(labels.keys().cloned());
        used.extend(
            self.events
                .iter()
                .filter(|(named, _)| *named)
                .map(|(_, e)| e.id.clone()),
        );
        used.extend(model.function_definitions.iter().map(|f| f.id.clone()));
        used.extend(model.compartments.iter().map(|c| c.id.clone()));
        let mut fresh = |prefix: &str, counter: &mut usize| loop {
            let id = format!("{prefix}{counter}");
            *counter += 1;
            if used.insert(id.clone()) {
                return id;
            }
        };
        let species_ids: HashSet<&str> = model.species.iter().map(|s| s.id.as_str()).collect();
        let mut n_reactions = 0;
        let drafts = std::mem::take(&mut self.reactions);
        for d in drafts {
            let id = match d.id {
                Some((n, _)) => n,
                None => fresh("_J", &mut n_reactions),
            };
            let mut r = Reaction::new(
                id,
                d.reactants
                    .into_iter()
                    .map(|(s, st)| SpeciesRef::new(s, st))
                    .collect(),
                d.products
                    .into_iter()
                    .map(|(s, st)| SpeciesRef::new(s, st))
                    .collect(),
                d.rate,
            );
            if d.rate_failed {
                self.failed.push(r.id.clone());
            }
            r.reversible = d.reversible;
            r.compartment = d.compartment.map(|(c, _)| c);
            r.loc = Some(d.loc);
            model.reactions.push(r);
        }
        for (ri, e, l) in rate_assignments {
            let r = &mut model.reactions[ri];
            if r.rate_law.is_some() {
                diags.push(
                    Diagnostic::warning(
                        K::Redefinition,
                        format!(
                            "reaction `{}` already has a rate law; this later one replaces it",
                            r.id
                        ),
                    )
                    .at(Some(l))
                    .with_width(r.id.chars().count()),
                );
            }
            r.rate_law = Some(e);
        }
        // Modifiers: species in the rate law that the reaction does not consume or
        // produce, in order of appearance, then those named by interactions.
        for r in &mut model.reactions {
            let takes_part = |s: &str, r: &Reaction| {
                r.reactants
                    .iter()
                    .chain(&r.products)
                    .any(|x| x.species == s)
            };
            if let Some(rate) = &r.rate_law {
                for v in rate.free_vars() {
                    if species_ids.contains(v.as_str())
                        && !takes_part(&v, r)
                        && !r.modifiers.contains(&v)
                    {
                        r.modifiers.push(v);
                    }
                }
            }
        }
        for (s, _, reaction, rl) in std::mem::take(&mut self.interactions) {
            match model.reactions.iter_mut().find(|r| r.id == reaction) {
                Some(r) => {
                    let takes_part = r
                        .reactants
                        .iter()
                        .chain(&r.products)
                        .any(|x| x.species == s);
                    if !takes_part && !r.modifiers.contains(&s) {
                        r.modifiers.push(s);
                    }
                }
                None => {
                    let help = closest(&reaction, labels.keys().map(|k| k.as_str()))
                        .map(|c| format!("did you mean `{c}`?"));
                    diags.push(
                        Diagnostic::error(
                            K::UndefinedSymbol,
                            format!("the interaction refers to reaction `{reaction}`, which is not defined"),
                        )
                        .at(Some(rl))
                        .with_width(reaction.chars().count())
                        .with_help_opt(help),
                    );
                }
            }
        }
        let mut n_events = 0;
        for (named, mut ev) in std::mem::take(&mut self.events) {
            if !named {
                ev.id = fresh("_E", &mut n_events);
            }
            model.events.push(ev);
        }
        (model, diags, self.failed)
    }
}
