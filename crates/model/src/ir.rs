//! The model IR: plain, serde-serialisable values.
//!
//! The semantics follow SBML Level 3 Core: a species has an amount, and its
//! symbol in math means its concentration (amount / compartment size) unless
//! `has_only_substance_units` is set; a reaction's rate law gives extent per
//! time (amount / time); rules, initial assignments and events have SBML's
//! meaning. Building a model never panics and never checks anything: call
//! [`Model::validate`] for that.

use crate::diagnostic::Loc;
use ligand_expr::Expr;
use serde::{Deserialize, Serialize};

/// A whole model: every element of a reaction network with its rules and events.
///
/// The order of every list is meaningful only for output (it is the order of
/// the source); ids are unique across all lists (see [`Model::validate`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The model's name (`model NAME ... end`); `None` for bare statements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub compartments: Vec<Compartment>,
    #[serde(default)]
    pub species: Vec<Species>,
    /// Global parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    #[serde(default)]
    pub assignment_rules: Vec<AssignmentRule>,
    #[serde(default)]
    pub rate_rules: Vec<RateRule>,
    #[serde(default)]
    pub initial_assignments: Vec<InitialAssignment>,
    #[serde(default)]
    pub function_definitions: Vec<FunctionDefinition>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A compartment: a region whose size (volume, area, length) converts
/// species amounts into concentrations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compartment {
    pub id: String,
    /// The initial size; `None` when not set (an initial assignment or rule may set it).
    pub size: Option<f64>,
    /// Whether the size is fixed for the whole simulation.
    pub constant: bool,
    /// 3 for a volume, 2 for an area, 1 for a length, 0 for a point (SBML allows
    /// non-integers; they have no special meaning here).
    pub spatial_dimensions: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl Compartment {
    /// A constant three-dimensional compartment.
    pub fn new(id: impl Into<String>, size: Option<f64>) -> Compartment {
        Compartment {
            id: id.into(),
            size,
            constant: true,
            spatial_dimensions: 3.0,
            loc: None,
        }
    }
}

/// The initial quantity of a species, in whichever form the model states it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum InitialQuantity {
    /// An amount (substance units, e.g. nmol or molecules).
    Amount(f64),
    /// A concentration (amount per compartment size).
    Concentration(f64),
}

impl InitialQuantity {
    /// The number, whichever its form.
    pub fn value(self) -> f64 {
        match self {
            InitialQuantity::Amount(v) | InitialQuantity::Concentration(v) => v,
        }
    }
}

/// A species: a pool of some substance in one compartment.
///
/// The state of a species is always its **amount**. Its symbol, where it
/// appears in math, means its concentration (amount divided by the size of
/// its compartment) unless `has_only_substance_units` is true, in which case
/// it means the amount (SBML's `hasOnlySubstanceUnits`; Antimony's
/// `substanceOnly`). A rule or initial assignment for a species sets the
/// quantity its symbol means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Species {
    pub id: String,
    /// The id of its compartment.
    pub compartment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<InitialQuantity>,
    /// A boundary species is not changed by reactions (it may still be changed
    /// by rules and events); Antimony's `$S` and `const S`.
    pub boundary_condition: bool,
    /// A constant species never changes at all.
    pub constant: bool,
    /// Whether the symbol means the amount rather than the concentration.
    pub has_only_substance_units: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl Species {
    /// A variable species (not boundary, not constant, concentration
    /// semantics) with no initial value.
    pub fn new(id: impl Into<String>, compartment: impl Into<String>) -> Species {
        Species {
            id: id.into(),
            compartment: compartment.into(),
            initial: None,
            boundary_condition: false,
            constant: false,
            has_only_substance_units: false,
            loc: None,
        }
    }
}

/// A parameter: a named number, global or local to a reaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    pub id: String,
    /// The initial value; `None` when not set.
    pub value: Option<f64>,
    /// Whether the value is fixed for the whole simulation.
    pub constant: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl Parameter {
    /// A constant parameter.
    pub fn new(id: impl Into<String>, value: Option<f64>) -> Parameter {
        Parameter {
            id: id.into(),
            value,
            constant: true,
            loc: None,
        }
    }
}

/// A reactant or product of a reaction, with its stoichiometry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeciesRef {
    /// The id of the species.
    pub species: String,
    /// How many of it the reaction consumes or produces per unit of extent.
    pub stoichiometry: f64,
}

impl SpeciesRef {
    pub fn new(species: impl Into<String>, stoichiometry: f64) -> SpeciesRef {
        SpeciesRef {
            species: species.into(),
            stoichiometry,
        }
    }
}

/// A reaction: reactants become products at the rate its rate law gives
/// (in amount per time, SBML's kinetic law).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    pub id: String,
    #[serde(default)]
    pub reactants: Vec<SpeciesRef>,
    #[serde(default)]
    pub products: Vec<SpeciesRef>,
    /// Species that appear in the rate law without being consumed or produced.
    #[serde(default)]
    pub modifiers: Vec<String>,
    /// The rate; `None` when the model gives none (the reaction then does nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_law: Option<Expr>,
    /// Whether the rate law may be negative (Antimony `->`), or the reaction
    /// only runs forward (`=>`). Informative: the rate law is used as given.
    pub reversible: bool,
    /// Parameters visible only in this reaction's rate law (they shadow globals).
    #[serde(default)]
    pub local_parameters: Vec<Parameter>,
    /// The compartment the reaction is said to take place in (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl Reaction {
    /// A reversible reaction.
    pub fn new(
        id: impl Into<String>,
        reactants: Vec<SpeciesRef>,
        products: Vec<SpeciesRef>,
        rate_law: Option<Expr>,
    ) -> Reaction {
        Reaction {
            id: id.into(),
            reactants,
            products,
            modifiers: Vec::new(),
            rate_law,
            reversible: true,
            local_parameters: Vec::new(),
            compartment: None,
            loc: None,
        }
    }
}

/// `variable := math`, true at every moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRule {
    pub variable: String,
    pub math: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl AssignmentRule {
    pub fn new(variable: impl Into<String>, math: Expr) -> AssignmentRule {
        AssignmentRule {
            variable: variable.into(),
            math,
            loc: None,
        }
    }
}

/// `d(variable)/dt = math` (Antimony `variable' = math`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateRule {
    pub variable: String,
    pub math: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl RateRule {
    pub fn new(variable: impl Into<String>, math: Expr) -> RateRule {
        RateRule {
            variable: variable.into(),
            math,
            loc: None,
        }
    }
}

/// `symbol = math` evaluated once, at the start of a simulation; it overrides
/// the element's own value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InitialAssignment {
    pub symbol: String,
    pub math: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl InitialAssignment {
    pub fn new(symbol: impl Into<String>, math: Expr) -> InitialAssignment {
        InitialAssignment {
            symbol: symbol.into(),
            math,
            loc: None,
        }
    }
}

/// A user-defined function: `function id(args) body end`. The body may
/// refer only to its arguments (and `time`); calls are expanded like macros
/// (see [`Model::inlined`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    pub id: String,
    pub args: Vec<String>,
    pub body: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl FunctionDefinition {
    pub fn new(id: impl Into<String>, args: Vec<String>, body: Expr) -> FunctionDefinition {
        FunctionDefinition {
            id: id.into(),
            args,
            body,
            loc: None,
        }
    }
}

/// A discontinuity: when `trigger` turns from false to true, the assignments
/// are executed (after `delay`, if any), with SBML Level 3 semantics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub trigger: Expr,
    /// Time between triggering and executing the assignments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Expr>,
    /// Among events executing at the same moment, higher priorities go first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Expr>,
    /// If false, a delayed event is cancelled when its trigger turns false
    /// before it executes (Antimony `persistent=false`).
    pub persistent: bool,
    /// The trigger's value just before the start: true means an event whose
    /// trigger is already true at the start does not fire then (Antimony `t0`).
    pub initial_value: bool,
    /// Whether the assignments use the values at trigger time rather than at
    /// execution time (Antimony `fromTrigger`).
    pub use_values_from_trigger_time: bool,
    #[serde(default)]
    pub assignments: Vec<EventAssignment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl Event {
    /// An event with SBML's (and Antimony's) defaults: persistent, initial
    /// value true, values from trigger time, no delay, no priority.
    pub fn new(id: impl Into<String>, trigger: Expr) -> Event {
        Event {
            id: id.into(),
            trigger,
            delay: None,
            priority: None,
            persistent: true,
            initial_value: true,
            use_values_from_trigger_time: true,
            assignments: Vec::new(),
            loc: None,
        }
    }
}

/// `variable = math`, executed when an event fires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventAssignment {
    pub variable: String,
    pub math: Expr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
}

impl EventAssignment {
    pub fn new(variable: impl Into<String>, math: Expr) -> EventAssignment {
        EventAssignment {
            variable: variable.into(),
            math,
            loc: None,
        }
    }
}

impl Model {
    /// An empty model with a name.
    pub fn new(name: impl Into<String>) -> Model {
        Model {
            name: Some(name.into()),
            ..Model::default()
        }
    }

    /// The compartment with this id.
    pub fn compartment(&self, id: &str) -> Option<&Compartment> {
        self.compartments.iter().find(|c| c.id == id)
    }

    /// The species with this id.
    pub fn species(&self, id: &str) -> Option<&Species> {
        self.species.iter().find(|s| s.id == id)
    }

    /// The global parameter with this id.
    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.id == id)
    }

    /// The reaction with this id.
    pub fn reaction(&self, id: &str) -> Option<&Reaction> {
        self.reactions.iter().find(|r| r.id == id)
    }

    /// The function definition with this id.
    pub fn function(&self, id: &str) -> Option<&FunctionDefinition> {
        self.function_definitions.iter().find(|f| f.id == id)
    }

    /// The event with this id.
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }

    /// Removes every source location, so that models read from different text
    /// (say a file and its [`to_antimony`](Model::to_antimony) output) compare equal.
    pub fn strip_locations(&mut self) {
        for c in &mut self.compartments {
            c.loc = None;
        }
        for s in &mut self.species {
            s.loc = None;
        }
        for p in &mut self.parameters {
            p.loc = None;
        }
        for r in &mut self.reactions {
            r.loc = None;
            for p in &mut r.local_parameters {
                p.loc = None;
            }
        }
        for r in &mut self.assignment_rules {
            r.loc = None;
        }
        for r in &mut self.rate_rules {
            r.loc = None;
        }
        for a in &mut self.initial_assignments {
            a.loc = None;
        }
        for f in &mut self.function_definitions {
            f.loc = None;
        }
        for e in &mut self.events {
            e.loc = None;
            for a in &mut e.assignments {
                a.loc = None;
            }
        }
    }

    /// A copy without source locations (see [`Model::strip_locations`]).
    pub fn without_locations(&self) -> Model {
        let mut m = self.clone();
        m.strip_locations();
        m
    }
}
