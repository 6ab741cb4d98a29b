//! # ligand-model: the model IR and its text format
//!
//! Everything mechanistic in ligand (a hand-written model, an imported SBML
//! file, a generated PK model) becomes one [`Model`] value, and the simulator
//! knows only that value. This crate owns the value, the checks on it, and
//! the Antimony-compatible text format.
//!
//! The principal types and how they compose:
//!
//! - [`Model`] is a plain, serde-serialisable value: [`Compartment`]s,
//!   [`Species`], global [`Parameter`]s, [`Reaction`]s (with [`SpeciesRef`]s
//!   and a rate law), [`AssignmentRule`]s, [`RateRule`]s,
//!   [`InitialAssignment`]s, [`FunctionDefinition`]s and [`Event`]s. Every
//!   piece of math is a [`ligand_expr::Expr`], and every element keeps an
//!   optional source [`Loc`] (line and column) for diagnostics. Building a
//!   model checks nothing and never panics.
//! - [`Model::validate`] returns every problem as a [`Diagnostic`] (error or
//!   warning, with a [`DiagnosticKind`], a location and often a "did you
//!   mean"): undefined symbols, undeclared compartments, duplicate ids, cyclic
//!   assignment rules, conflicting rules, assignments to constants, wrong
//!   arities. [`Diagnostic::render`] draws the source line with a caret.
//! - The simulator's questions: [`Model::symbol`] (what is this id),
//!   [`Model::sorted_assignment_rules`] and [`Model::initialization_order`]
//!   (evaluation order, or the cycle that prevents one),
//!   [`Model::stoichiometry_matrix`], [`Model::math`] (every expression with
//!   its [`MathSite`]) and [`Model::inlined`] (user functions expanded).
//! - [`parse_antimony`] reads the supported subset of Antimony (the text
//!   format of Tellurium) into a [`Model`], with warnings; [`Model::to_antimony`]
//!   writes it back. See `docs/model-language.md` for the language.
//! - [`mathlib`] rewrites the functions and constants Antimony and SBML
//!   predefine (`gt`, `and`, `sqr`, `arcsec`, `avogadro`, ...) into plain
//!   expressions; the SBML importer will share it.
//!
//! ## Amounts and concentrations
//!
//! A species' state is its amount. Where its id appears in math it means
//! its concentration (amount / compartment size), unless
//! [`Species::has_only_substance_units`] is set (Antimony's `substanceOnly`),
//! in which case it means the amount. A rate law gives amount per time. This
//! is SBML's convention, and Antimony's.
//!
//! ```
//! use ligand_model::{parse_antimony, InitialQuantity, Symbol};
//!
//! let src = "
//! model binding
//!   compartment well = 2e-4;                 // litres
//!   species L in well, R in well, LR in well;
//!   bind: L + R -> LR; well*(kon*L*R - koff*LR)
//!   L = 1e-9; R = 1e-10; LR = 0
//!   kon = 1e6; koff = 1e-3
//!   Kd := koff/kon
//! end";
//! let (m, warnings) = parse_antimony(src).unwrap();
//! assert!(warnings.is_empty());
//! assert_eq!(m.species.len(), 3);
//! assert_eq!(m.species("L").unwrap().initial, Some(InitialQuantity::Concentration(1e-9)));
//! assert_eq!(m.symbol("Kd"), Some(Symbol::Parameter(2)));
//! assert!(!m.parameter("Kd").unwrap().constant); // set by a rule
//!
//! let s = m.stoichiometry_matrix();
//! assert_eq!(s.entry("LR", "bind"), Some(1.0));
//! assert_eq!(s.entry("R", "bind"), Some(-1.0));
//!
//! // The text round-trips.
//! let (again, _) = parse_antimony(&m.to_antimony()).unwrap();
//! assert_eq!(again.without_locations(), m.without_locations());
//! ```

mod analysis;
mod antimony;
mod diagnostic;
mod ir;
pub mod mathlib;
mod sbml;
mod validate;

pub use analysis::{
    CyclicDependency, InitStep, InlineError, MathRef, MathSite, StoichiometryMatrix, Symbol, TIME,
};
pub use antimony::{parse_antimony, parse_antimony_partial};
pub use diagnostic::{has_errors, Diagnostic, DiagnosticKind, Loc, Severity};
pub use ir::{
    AssignmentRule, Compartment, Event, EventAssignment, FunctionDefinition, InitialAssignment,
    InitialQuantity, Model, Parameter, RateRule, Reaction, Species, SpeciesRef,
};
pub use sbml::{
    parse_sbml, parse_sbml_with, read_flux_balance, FluxBalance, FluxBalanceSolution,
    FluxBalanceStatus, SbmlWriteError,
};
pub use validate::is_identifier;

/// The compartment that holds species declared without one (as in Antimony).
pub const DEFAULT_COMPARTMENT: &str = "default_compartment";
