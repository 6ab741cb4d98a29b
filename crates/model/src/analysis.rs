//! Questions a simulator asks of a model: what is this id, in which order are
//! the assignment rules evaluated, what is the stoichiometry matrix, what does
//! each expression look like with user functions expanded.

use crate::diagnostic::Loc;
use crate::ir::{AssignmentRule, Model};
use ligand_expr::Expr;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// The name of the time symbol in math.
pub const TIME: &str = "time";

/// What an id names: the kind of element and its index in the model's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Symbol {
    Compartment(usize),
    Species(usize),
    Parameter(usize),
    /// In math, a reaction id means the reaction's rate.
    Reaction(usize),
    Function(usize),
    Event(usize),
    /// The simulation time, `time`.
    Time,
}

impl Symbol {
    /// The kind in words, for messages: "compartment", "species", ...
    pub fn kind_name(self) -> &'static str {
        match self {
            Symbol::Compartment(_) => "compartment",
            Symbol::Species(_) => "species",
            Symbol::Parameter(_) => "parameter",
            Symbol::Reaction(_) => "reaction",
            Symbol::Function(_) => "function",
            Symbol::Event(_) => "event",
            Symbol::Time => "time",
        }
    }

    /// Whether the symbol has a value in math (compartment, species,
    /// parameter, reaction rate or time).
    pub fn is_value(self) -> bool {
        !matches!(self, Symbol::Function(_) | Symbol::Event(_))
    }

    /// Whether the symbol is a variable a rule, initial assignment or event
    /// may set (compartment, species or parameter).
    pub fn is_assignable(self) -> bool {
        matches!(
            self,
            Symbol::Compartment(_) | Symbol::Species(_) | Symbol::Parameter(_)
        )
    }
}

/// Where an expression sits in a model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MathSite {
    RateLaw { reaction: String },
    AssignmentRule { variable: String },
    RateRule { variable: String },
    InitialAssignment { symbol: String },
    EventTrigger { event: String },
    EventDelay { event: String },
    EventPriority { event: String },
    EventAssignment { event: String, variable: String },
    FunctionBody { function: String },
}

impl fmt::Display for MathSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MathSite::RateLaw { reaction } => write!(f, "the rate law of reaction `{reaction}`"),
            MathSite::AssignmentRule { variable } => {
                write!(f, "the assignment rule for `{variable}`")
            }
            MathSite::RateRule { variable } => write!(f, "the rate rule for `{variable}`"),
            MathSite::InitialAssignment { symbol } => {
                write!(f, "the initial assignment of `{symbol}`")
            }
            MathSite::EventTrigger { event } => write!(f, "the trigger of event `{event}`"),
            MathSite::EventDelay { event } => write!(f, "the delay of event `{event}`"),
            MathSite::EventPriority { event } => write!(f, "the priority of event `{event}`"),
            MathSite::EventAssignment { event, variable } => {
                write!(f, "the assignment to `{variable}` in event `{event}`")
            }
            MathSite::FunctionBody { function } => {
                write!(f, "the body of function `{function}`")
            }
        }
    }
}

/// One expression of a model, with where it sits.
#[derive(Clone, Debug, PartialEq)]
pub struct MathRef<'a> {
    pub site: MathSite,
    pub expr: &'a Expr,
    /// The location of the element the expression belongs to.
    pub loc: Option<Loc>,
}

/// A circle of dependencies among assignment rules (or initial values).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cyclic dependency: {}", .cycle.join(" -> "))]
pub struct CyclicDependency {
    /// The ids around the circle, the first repeated at the end
    /// (`["a", "b", "a"]`). Reaction ids appear where a rule uses a rate.
    pub cycle: Vec<String>,
}

/// A user-function call that cannot be expanded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot expand the call of `{function}` in {site}: the function is undefined, called with the wrong number of arguments, recursive, or expands too large or too deep")]
pub struct InlineError {
    pub site: MathSite,
    pub function: String,
}

/// One step of computing initial values (see [`Model::initialization_order`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InitStep {
    /// Evaluate `model.initial_assignments[i]`.
    InitialAssignment(usize),
    /// Evaluate `model.assignment_rules[i]`.
    AssignmentRule(usize),
}

/// The stoichiometry matrix: one row per species, one column per reaction,
/// entry = (stoichiometry as product) - (stoichiometry as reactant).
///
/// Every species has a row, boundary and constant species included: whether
/// a reaction may change a species is the simulator's business
/// ([`Species::boundary_condition`](crate::Species::boundary_condition)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoichiometryMatrix {
    /// Row labels: species ids in model order.
    pub species: Vec<String>,
    /// Column labels: reaction ids in model order.
    pub reactions: Vec<String>,
    /// Row-major entries, `species.len() * reactions.len()` of them.
    pub values: Vec<f64>,
}

impl StoichiometryMatrix {
    /// The entry for species `i` and reaction `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.reactions.len() + j]
    }

    /// The row of species `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        let n = self.reactions.len();
        &self.values[i * n..(i + 1) * n]
    }

    /// The entry for a species and a reaction by id.
    pub fn entry(&self, species: &str, reaction: &str) -> Option<f64> {
        let i = self.species.iter().position(|s| s == species)?;
        let j = self.reactions.iter().position(|r| r == reaction)?;
        Some(self.get(i, j))
    }
}

impl Model {
    /// What an id names, searching compartments, species, parameters,
    /// reactions, functions and events in that order; `time` is the time
    /// symbol unless an element claims the name. Reaction-local parameters are
    /// not found here: they are visible only in their rate law.
    ///
    /// ```
    /// use ligand_model::{parse_antimony, Symbol};
    /// let (m, _) = parse_antimony("J1: A -> B; k*A\nA = 1; B = 0; k = 0.1").unwrap();
    /// assert_eq!(m.symbol("k"), Some(Symbol::Parameter(0)));
    /// assert_eq!(m.symbol("B"), Some(Symbol::Species(1)));
    /// assert_eq!(m.symbol("J1"), Some(Symbol::Reaction(0)));
    /// assert_eq!(m.symbol("time"), Some(Symbol::Time));
    /// assert_eq!(m.symbol("nope"), None);
    /// ```
    pub fn symbol(&self, id: &str) -> Option<Symbol> {
        if let Some(i) = self.compartments.iter().position(|c| c.id == id) {
            return Some(Symbol::Compartment(i));
        }
        if let Some(i) = self.species.iter().position(|s| s.id == id) {
            return Some(Symbol::Species(i));
        }
        if let Some(i) = self.parameters.iter().position(|p| p.id == id) {
            return Some(Symbol::Parameter(i));
        }
        if let Some(i) = self.reactions.iter().position(|r| r.id == id) {
            return Some(Symbol::Reaction(i));
        }
        if let Some(i) = self.function_definitions.iter().position(|f| f.id == id) {
            return Some(Symbol::Function(i));
        }
        if let Some(i) = self.events.iter().position(|e| e.id == id) {
            return Some(Symbol::Event(i));
        }
        (id == TIME).then_some(Symbol::Time)
    }

    /// A table from every id to what it names (the first element, where ids
    /// are duplicated), for repeated lookups.
    pub fn symbol_table(&self) -> HashMap<String, Symbol> {
        let mut t = HashMap::new();
        let mut add = |id: &str, s: Symbol| {
            t.entry(id.to_string()).or_insert(s);
        };
        for (i, c) in self.compartments.iter().enumerate() {
            add(&c.id, Symbol::Compartment(i));
        }
        for (i, x) in self.species.iter().enumerate() {
            add(&x.id, Symbol::Species(i));
        }
        for (i, p) in self.parameters.iter().enumerate() {
            add(&p.id, Symbol::Parameter(i));
        }
        for (i, r) in self.reactions.iter().enumerate() {
            add(&r.id, Symbol::Reaction(i));
        }
        for (i, f) in self.function_definitions.iter().enumerate() {
            add(&f.id, Symbol::Function(i));
        }
        for (i, e) in self.events.iter().enumerate() {
            add(&e.id, Symbol::Event(i));
        }
        add(TIME, Symbol::Time);
        t
    }

    /// Every id the model defines, in list order (compartments, species,
    /// parameters, reactions, functions, events).
    pub fn ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        out.extend(self.compartments.iter().map(|c| c.id.as_str()));
        out.extend(self.species.iter().map(|s| s.id.as_str()));
        out.extend(self.parameters.iter().map(|p| p.id.as_str()));
        out.extend(self.reactions.iter().map(|r| r.id.as_str()));
        out.extend(self.function_definitions.iter().map(|f| f.id.as_str()));
        out.extend(self.events.iter().map(|e| e.id.as_str()));
        out
    }

    /// Every expression in the model with its site: rate laws, assignment
    /// rules, rate rules, initial assignments, event triggers, delays,
    /// priorities and assignments, and function bodies.
    pub fn math(&self) -> Vec<MathRef<'_>> {
        let mut out = Vec::new();
        for r in &self.reactions {
            if let Some(e) = &r.rate_law {
                out.push(MathRef {
                    site: MathSite::RateLaw {
                        reaction: r.id.clone(),
                    },
                    expr: e,
                    loc: r.loc,
                });
            }
        }
        for r in &self.assignment_rules {
            out.push(MathRef {
                site: MathSite::AssignmentRule {
                    variable: r.variable.clone(),
                },
                expr: &r.math,
                loc: r.loc,
            });
        }
        for r in &self.rate_rules {
            out.push(MathRef {
                site: MathSite::RateRule {
                    variable: r.variable.clone(),
                },
                expr: &r.math,
                loc: r.loc,
            });
        }
        for a in &self.initial_assignments {
            out.push(MathRef {
                site: MathSite::InitialAssignment {
                    symbol: a.symbol.clone(),
                },
                expr: &a.math,
                loc: a.loc,
            });
        }
        for ev in &self.events {
            let event = ev.id.clone();
            out.push(MathRef {
                site: MathSite::EventTrigger {
                    event: event.clone(),
                },
                expr: &ev.trigger,
                loc: ev.loc,
            });
            if let Some(d) = &ev.delay {
                out.push(MathRef {
                    site: MathSite::EventDelay {
                        event: event.clone(),
                    },
                    expr: d,
                    loc: ev.loc,
                });
            }
            if let Some(p) = &ev.priority {
                out.push(MathRef {
                    site: MathSite::EventPriority {
                        event: event.clone(),
                    },
                    expr: p,
                    loc: ev.loc,
                });
            }
            for a in &ev.assignments {
                out.push(MathRef {
                    site: MathSite::EventAssignment {
                        event: event.clone(),
                        variable: a.variable.clone(),
                    },
                    expr: &a.math,
                    loc: a.loc.or(ev.loc),
                });
            }
        }
        for f in &self.function_definitions {
            out.push(MathRef {
                site: MathSite::FunctionBody {
                    function: f.id.clone(),
                },
                expr: &f.body,
                loc: f.loc,
            });
        }
        out
    }

    /// Applies `f` to every expression of the model (in the order of
    /// [`Model::math`]), replacing each by the result; stops at the first error.
    pub fn try_map_math<E>(
        &mut self,
        f: &mut dyn FnMut(&MathSite, &Expr) -> Result<Expr, E>,
    ) -> Result<(), E> {
        for r in &mut self.reactions {
            if let Some(e) = &mut r.rate_law {
                let site = MathSite::RateLaw {
                    reaction: r.id.clone(),
                };
                *e = f(&site, e)?;
            }
        }
        for r in &mut self.assignment_rules {
            let site = MathSite::AssignmentRule {
                variable: r.variable.clone(),
            };
            r.math = f(&site, &r.math)?;
        }
        for r in &mut self.rate_rules {
            let site = MathSite::RateRule {
                variable: r.variable.clone(),
            };
            r.math = f(&site, &r.math)?;
        }
        for a in &mut self.initial_assignments {
            let site = MathSite::InitialAssignment {
                symbol: a.symbol.clone(),
            };
            a.math = f(&site, &a.math)?;
        }
        for ev in &mut self.events {
            let event = ev.id.clone();
            ev.trigger = f(
                &MathSite::EventTrigger {
                    event: event.clone(),
                },
                &ev.trigger,
            )?;
            if let Some(d) = &mut ev.delay {
                *d = f(
                    &MathSite::EventDelay {
                        event: event.clone(),
                    },
                    d,
                )?;
            }
            if let Some(p) = &mut ev.priority {
                *p = f(
                    &MathSite::EventPriority {
                        event: event.clone(),
                    },
                    p,
                )?;
            }
            for a in &mut ev.assignments {
                let site = MathSite::EventAssignment {
                    event: event.clone(),
                    variable: a.variable.clone(),
                };
                a.math = f(&site, &a.math)?;
            }
        }
        for fd in &mut self.function_definitions {
            let site = MathSite::FunctionBody {
                function: fd.id.clone(),
            };
            fd.body = f(&site, &fd.body)?;
        }
        Ok(())
    }

    /// `e` with every call of a user-defined function expanded
    /// (via [`Expr::inline_functions`]). On failure, gives the name of the
    /// function that is undefined, called with the wrong number of arguments,
    /// or recursive.
    ///
    /// ```
    /// use ligand_model::parse_antimony;
    /// let src = "function mm(s, v, k)\n  v*s/(k + s)\nend\nmodel m\n  J1: S -> P; mm(S, V, K)\n  S = 1; P = 0; V = 2; K = 0.5\nend";
    /// let (m, _) = parse_antimony(src).unwrap();
    /// let rate = m.reactions[0].rate_law.as_ref().unwrap();
    /// assert_eq!(m.inline_expr(rate).unwrap().to_string(), "V * S / (K + S)");
    /// ```
    pub fn inline_expr(&self, e: &Expr) -> Result<Expr, String> {
        let lookup = |name: &str| {
            self.function(name)
                .map(|f| (f.args.clone(), f.body.clone()))
        };
        e.inline_functions(&lookup)
    }

    /// A copy of the model in which every expression has its user-function
    /// calls expanded, so that a simulator never sees
    /// [`Expr::Apply`]. The function definitions themselves are kept (their
    /// bodies expanded too).
    pub fn inlined(&self) -> Result<Model, InlineError> {
        let mut m = self.clone();
        m.try_map_math(&mut |site, e| {
            self.inline_expr(e).map_err(|function| InlineError {
                site: site.clone(),
                function,
            })
        })?;
        Ok(m)
    }

    /// The assignment rules in an order in which each is evaluated after the
    /// rules it depends on (directly, or through a reaction rate it uses);
    /// otherwise in model order. A circle of rules is an error naming it.
    ///
    /// ```
    /// use ligand_model::parse_antimony;
    /// let (m, _) = parse_antimony("a := b + 1\nb := 2*time").unwrap();
    /// let order: Vec<&str> = m.sorted_assignment_rules().unwrap()
    ///     .iter().map(|r| r.variable.as_str()).collect();
    /// assert_eq!(order, ["b", "a"]);
    ///
    /// let cyclic = ligand_model::parse_antimony_partial("a := b + 1\nb := a*2").0;
    /// let err = cyclic.sorted_assignment_rules().unwrap_err();
    /// assert_eq!(err.cycle, ["a", "b", "a"]);
    /// ```
    pub fn sorted_assignment_rules(&self) -> Result<Vec<&AssignmentRule>, CyclicDependency> {
        let graph = DependencyGraph::new(self, false);
        let order = graph.sort(|n| matches!(n, Node::AssignmentRule(_)))?;
        Ok(order
            .into_iter()
            .filter_map(|n| match n {
                Node::AssignmentRule(i) => Some(&self.assignment_rules[i]),
                _ => None,
            })
            .collect())
    }

    /// The order in which to compute initial values: every initial assignment
    /// and assignment rule, each after those it depends on. (A variable with
    /// both is reported by [`Model::validate`]; here its initial assignment is
    /// used.) A circle is an error naming it.
    pub fn initialization_order(&self) -> Result<Vec<InitStep>, CyclicDependency> {
        let graph = DependencyGraph::new(self, true);
        let order = graph.sort(|n| matches!(n, Node::AssignmentRule(_) | Node::Initial(_)))?;
        Ok(order
            .into_iter()
            .filter_map(|n| match n {
                Node::AssignmentRule(i) => Some(InitStep::AssignmentRule(i)),
                Node::Initial(i) => Some(InitStep::InitialAssignment(i)),
                Node::Reaction(_) => None,
            })
            .collect())
    }

    /// The stoichiometry by reaction, sparse: for each reaction (in model
    /// order), every species it names as a reactant or product, as `(species
    /// index, net stoichiometry)` sorted by species index. The net value is
    /// the entry of [`Model::stoichiometry_matrix`] and may be zero (a species
    /// consumed and produced alike). Costs the number of species references,
    /// where the dense matrix costs species times reactions.
    ///
    /// ```
    /// use ligand_model::parse_antimony;
    /// let (m, _) = parse_antimony("R1: A + E -> B + E; k*A*E\nA = 1; B = 0; E = 1; k = 1").unwrap();
    /// assert_eq!(m.reaction_stoichiometry(), vec![vec![(0, -1.0), (1, 0.0), (2, 1.0)]]);
    /// ```
    pub fn reaction_stoichiometry(&self) -> Vec<Vec<(usize, f64)>> {
        let rows = self.species_rows();
        self.reactions
            .iter()
            .map(|r| {
                let mut col: Vec<(usize, f64)> = Vec::new();
                for (refs, sign) in [(&r.reactants, -1.0), (&r.products, 1.0)] {
                    for sr in refs {
                        if let Some(&i) = rows.get(sr.species.as_str()) {
                            col.push((i, sign * sr.stoichiometry));
                        }
                    }
                }
                col.sort_by_key(|e| e.0);
                col.dedup_by(|b, a| {
                    if a.0 == b.0 {
                        a.1 += b.1;
                        true
                    } else {
                        false
                    }
                });
                col
            })
            .collect()
    }

    /// The index of each species id (the first, where ids are duplicated).
    fn species_rows(&self) -> HashMap<&str, usize> {
        self.species
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect()
    }

    /// The stoichiometry matrix (species x reactions). References to ids that
    /// are not species are skipped ([`Model::validate`] reports them).
    ///
    /// ```
    /// use ligand_model::parse_antimony;
    /// let (m, _) = parse_antimony("R2: 2 y2 -> y2 + y3; k2*y2*y2\ny2 = 0; y3 = 0; k2 = 3e7").unwrap();
    /// let s = m.stoichiometry_matrix();
    /// assert_eq!(s.entry("y2", "R2"), Some(-1.0));
    /// assert_eq!(s.entry("y3", "R2"), Some(1.0));
    /// ```
    pub fn stoichiometry_matrix(&self) -> StoichiometryMatrix {
        let rows = self.species_rows();
        let n = self.reactions.len();
        let mut values = vec![0.0; self.species.len() * n];
        for (j, r) in self.reactions.iter().enumerate() {
            for (refs, sign) in [(&r.reactants, -1.0), (&r.products, 1.0)] {
                for sr in refs {
                    if let Some(&i) = rows.get(sr.species.as_str()) {
                        values[i * n + j] += sign * sr.stoichiometry;
                    }
                }
            }
        }
        StoichiometryMatrix {
            species: self.species.iter().map(|s| s.id.clone()).collect(),
            reactions: self.reactions.iter().map(|r| r.id.clone()).collect(),
            values,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node {
    AssignmentRule(usize),
    Initial(usize),
    Reaction(usize),
}

/// Dependencies among assignment rules (and, for initial values, initial
/// assignments), with reactions as intermediate nodes because a rule may use
/// a reaction's rate.
struct DependencyGraph<'a> {
    model: &'a Model,
    /// The node that determines each variable.
    by_name: HashMap<&'a str, Node>,
    nodes: Vec<Node>,
}

impl<'a> DependencyGraph<'a> {
    fn new(model: &'a Model, initial: bool) -> DependencyGraph<'a> {
        let mut by_name: HashMap<&str, Node> = HashMap::new();
        let mut nodes = Vec::new();
        if initial {
            for (i, a) in model.initial_assignments.iter().enumerate() {
                by_name.entry(a.symbol.as_str()).or_insert(Node::Initial(i));
                nodes.push(Node::Initial(i));
            }
        }
        for (i, r) in model.assignment_rules.iter().enumerate() {
            by_name
                .entry(r.variable.as_str())
                .or_insert(Node::AssignmentRule(i));
            nodes.push(Node::AssignmentRule(i));
        }
        for (i, r) in model.reactions.iter().enumerate() {
            by_name.entry(r.id.as_str()).or_insert(Node::Reaction(i));
        }
        DependencyGraph {
            model,
            by_name,
            nodes,
        }
    }

    fn name(&self, n: Node) -> &'a str {
        match n {
            Node::AssignmentRule(i) => &self.model.assignment_rules[i].variable,
            Node::Initial(i) => &self.model.initial_assignments[i].symbol,
            Node::Reaction(i) => &self.model.reactions[i].id,
        }
    }

    fn deps(&self, n: Node) -> Vec<Node> {
        let (expr, locals): (Option<&Expr>, Vec<&str>) = match n {
            Node::AssignmentRule(i) => (Some(&self.model.assignment_rules[i].math), vec![]),
            Node::Initial(i) => (Some(&self.model.initial_assignments[i].math), vec![]),
            Node::Reaction(i) => {
                let r = &self.model.reactions[i];
                (
                    r.rate_law.as_ref(),
                    r.local_parameters.iter().map(|p| p.id.as_str()).collect(),
                )
            }
        };
        let Some(expr) = expr else {
            return Vec::new();
        };
        expr.free_vars()
            .iter()
            .filter(|v| !locals.contains(&v.as_str()))
            .filter_map(|v| self.by_name.get(v.as_str()).copied())
            .collect()
    }

    /// Depth-first post-order from each node in model order, iteratively (a
    /// generated model may have thousands of rules); `keep` selects the nodes
    /// that appear in the output.
    fn sort(&self, keep: impl Fn(Node) -> bool) -> Result<Vec<Node>, CyclicDependency> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut mark: HashMap<Node, Mark> = HashMap::new();
        let mut out = Vec::new();
        for &start in &self.nodes {
            if mark.get(&start).copied().unwrap_or(Mark::New) != Mark::New {
                continue;
            }
            // Stack of (node, its dependencies, index of the next one to visit).
            let mut stack: Vec<(Node, Vec<Node>, usize)> = vec![(start, self.deps(start), 0)];
            mark.insert(start, Mark::Active);
            while let Some((node, deps, next)) = stack.last_mut() {
                if *next < deps.len() {
                    let d = deps[*next];
                    *next += 1;
                    match mark.get(&d).copied().unwrap_or(Mark::New) {
                        Mark::Done => {}
                        Mark::Active => {
                            let from = stack.iter().position(|(n, _, _)| *n == d).unwrap_or(0);
                            let mut cycle: Vec<String> = stack[from..]
                                .iter()
                                .map(|(n, _, _)| self.name(*n).to_string())
                                .collect();
                            cycle.push(self.name(d).to_string());
                            return Err(CyclicDependency { cycle });
                        }
                        Mark::New => {
                            mark.insert(d, Mark::Active);
                            let dd = self.deps(d);
                            stack.push((d, dd, 0));
                        }
                    }
                } else {
                    let n = *node;
                    mark.insert(n, Mark::Done);
                    if keep(n) {
                        out.push(n);
                    }
                    stack.pop();
                }
            }
        }
        Ok(out)
    }
}

/// All circles of dependencies among assignment rules (`initial == false`) or
/// among initial assignments and assignment rules (`initial == true`), each
/// reported once (by its first node in model order).
pub(crate) fn find_cycles(model: &Model, initial: bool) -> Vec<(Vec<String>, Option<Loc>)> {
    let graph = DependencyGraph::new(model, initial);
    let mut found: Vec<(Vec<String>, Option<Loc>)> = Vec::new();
    let mut seen_members: Vec<std::collections::BTreeSet<String>> = Vec::new();
    // Re-run the sort, removing each reported cycle's entry node, until no cycle remains.
    // Models are small enough (and cycles rare enough) that repeating the search is fine.
    let mut blocked: std::collections::HashSet<Node> = std::collections::HashSet::new();
    for _ in 0..64 {
        let g = DependencyGraph {
            model,
            by_name: graph
                .by_name
                .iter()
                .filter(|(_, n)| !blocked.contains(n))
                .map(|(k, v)| (*k, *v))
                .collect(),
            nodes: graph
                .nodes
                .iter()
                .copied()
                .filter(|n| !blocked.contains(n))
                .collect(),
        };
        match g.sort(|_| false) {
            Ok(_) => break,
            Err(c) => {
                let members: std::collections::BTreeSet<String> = c.cycle.iter().cloned().collect();
                let entry = c.cycle[0].clone();
                let node = graph.by_name.get(entry.as_str()).copied();
                let loc = node.and_then(|n| match n {
                    Node::AssignmentRule(i) => model.assignment_rules[i].loc,
                    Node::Initial(i) => model.initial_assignments[i].loc,
                    Node::Reaction(i) => model.reactions[i].loc,
                });
                if !seen_members.contains(&members) {
                    seen_members.push(members);
                    found.push((c.cycle, loc));
                }
                match node {
                    Some(n) => {
                        blocked.insert(n);
                    }
                    None => break,
                }
            }
        }
    }
    found
}
